//! Webhook URL validation and the outbound address policy (server-side request forgery rules):
//! `WebhookUrl::parse`, `literal_ip`, `domain`, `admit` (every resolved address through
//! `AddressPolicy::check`, plain http only to allow-listed networks), `with_challenge`, and
//! `address::special_range` / `embedded_v4`.
//!
//! Input: the first byte picks the policy (none allow-listed, or 127.0.0.0/8 and 10.0.0.0/8
//! allow-listed) and, for host names, what the name "resolves" to; the rest is the URL.
//!
//! Invariants, judged independently with the standard library's address predicates: a URL whose
//! host is a loopback, private, link-local, unspecified, multicast or documentation address in
//! any spelling (decimal, octal, hex, short IPv4 forms, IPv4 inside IPv6) is refused unless
//! allow-listed; plain http is admitted only to allow-listed addresses; an accepted URL has no
//! credentials or fragment and parses again to itself.
#![no_main]

use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr},
    sync::LazyLock,
};

use gatehouse_domain::events::{
    AddressPolicy, WebhookUrl,
    address::{embedded_v4, special_range},
};
use libfuzzer_sys::fuzz_target;

static POLICIES: LazyLock<[AddressPolicy; 2]> = LazyLock::new(|| {
    [
        AddressPolicy::default(),
        AddressPolicy::new(vec![
            "127.0.0.0/8".parse().expect("net"),
            "10.0.0.0/8".parse().expect("net"),
        ]),
    ]
});

/// What a host name resolves to in this run (the real resolver is not called).
const RESOLVED: [&[IpAddr]; 4] = [
    &[IpAddr::V4(Ipv4Addr::new(93, 184, 215, 14))],
    &[IpAddr::V4(Ipv4Addr::LOCALHOST)],
    &[
        IpAddr::V4(Ipv4Addr::new(93, 184, 215, 14)),
        IpAddr::V4(Ipv4Addr::new(169, 254, 169, 254)),
    ],
    &[IpAddr::V6(Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, 0x0a00, 0x0001))],
];

/// An independent opinion: addresses no webhook may reach without an allow-list entry.
fn obviously_internal(addr: IpAddr) -> bool {
    let v4_internal = |v4: Ipv4Addr| {
        v4.is_loopback()
            || v4.is_private()
            || v4.is_link_local()
            || v4.is_unspecified()
            || v4.is_broadcast()
            || v4.is_multicast()
            || v4.is_documentation()
            || v4.octets()[0] == 0
            || (v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64)
    };
    match addr {
        IpAddr::V4(v4) => v4_internal(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return v4_internal(v4);
            }
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (v6.segments()[0] & 0xfe00) == 0xfc00
                || (v6.segments()[0] & 0xffc0) == 0xfe80
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let policy = &POLICIES[usize::from(flags & 1)];

    // The policy on the raw bytes as an address, too.
    if let Ok(bytes) = <[u8; 16]>::try_from(rest.get(..16).unwrap_or_default()) {
        let v6 = IpAddr::V6(Ipv6Addr::from(bytes));
        if obviously_internal(v6) {
            assert!(special_range(v6).is_some(), "{v6} is not judged special");
        }
        if let Some(v4) = embedded_v4(v6) {
            assert_eq!(
                special_range(v6),
                special_range(IpAddr::V4(v4)),
                "{v6} and {v4} judged apart"
            );
        }
    }

    let Ok(url) = WebhookUrl::parse(text) else { return };
    let u = url.url();
    assert!(matches!(u.scheme(), "http" | "https"));
    assert!(
        u.username().is_empty() && u.password().is_none(),
        "credentials accepted in {u}"
    );
    assert!(u.fragment().is_none(), "fragment accepted in {u}");
    let again = WebhookUrl::parse(url.as_str()).expect("an accepted webhook URL parses again");
    assert_eq!(again, url);
    let challenge = url.with_challenge("abc");
    assert_eq!(challenge.host_str(), u.host_str(), "the challenge goes to another host");
    assert_eq!(challenge.port_or_known_default(), u.port_or_known_default());

    match (url.literal_ip(), url.domain()) {
        (Some(ip), None) => {
            let admitted = url.admit(policy, &[ip]).is_ok();
            let listed = policy.is_allow_listed(ip);
            if obviously_internal(ip) && !listed {
                assert!(!admitted, "{text:?} reaches the internal address {ip}");
            }
            if !url.is_https() && !listed {
                assert!(!admitted, "{text:?}: plain http admitted to {ip}");
            }
        }
        (None, Some(domain)) => {
            // A name that is an address in disguise would have been read as a literal.
            assert!(
                domain.parse::<IpAddr>().is_err(),
                "{domain:?} is an address read as a name"
            );
            let resolved = RESOLVED[usize::from(flags >> 1) % RESOLVED.len()];
            let admitted = url.admit(policy, resolved).is_ok();
            if resolved
                .iter()
                .any(|a| obviously_internal(*a) && !policy.is_allow_listed(*a))
            {
                assert!(
                    !admitted,
                    "{text:?} admitted although it resolves to an internal address"
                );
            }
            assert!(url.admit(policy, &[]).is_err(), "an unresolvable host was admitted");
        }
        other => panic!("{text:?} has neither or both of an address and a name: {other:?}"),
    }
});
