//! The outbound address policy: which IP addresses a webhook delivery (or challenge) may reach.
//!
//! Deliveries go to addresses chosen by whoever registers a webhook, so without a filter anyone
//! could make Gatehouse call its own loopback services, the cloud metadata endpoint or the private
//! network it runs in (server-side request forgery). Every special-purpose range of IPv4 and IPv6
//! is refused unless an operator allow-lists a network that contains the address
//! (`[events] allowed_networks`). IPv4 addresses embedded in IPv6 (v4-mapped, v4-compatible,
//! NAT64) are judged as the IPv4 address they carry. The HTTP client applies this policy to every
//! address DNS returns and connects only to the addresses that passed.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use crate::DomainError;

/// A special-purpose range and why it is refused.
struct Special {
    net: &'static str,
    what: &'static str,
}

/// IPv4 special-purpose ranges (IANA registry, RFC 6890 and successors).
const V4_SPECIAL: &[Special] = &[
    Special {
        net: "0.0.0.0/8",
        what: "\"this network\" (unspecified)",
    },
    Special {
        net: "10.0.0.0/8",
        what: "private",
    },
    Special {
        net: "100.64.0.0/10",
        what: "shared address space (CGNAT)",
    },
    Special {
        net: "127.0.0.0/8",
        what: "loopback",
    },
    Special {
        net: "169.254.0.0/16",
        what: "link-local (includes cloud metadata endpoints)",
    },
    Special {
        net: "172.16.0.0/12",
        what: "private",
    },
    Special {
        net: "192.0.0.0/24",
        what: "IETF protocol assignments",
    },
    Special {
        net: "192.0.2.0/24",
        what: "documentation (TEST-NET-1)",
    },
    Special {
        net: "192.31.196.0/24",
        what: "AS112 service",
    },
    Special {
        net: "192.52.193.0/24",
        what: "AMT relay",
    },
    Special {
        net: "192.88.99.0/24",
        what: "6to4 relay anycast (deprecated)",
    },
    Special {
        net: "192.168.0.0/16",
        what: "private",
    },
    Special {
        net: "192.175.48.0/24",
        what: "AS112 service",
    },
    Special {
        net: "198.18.0.0/15",
        what: "benchmarking",
    },
    Special {
        net: "198.51.100.0/24",
        what: "documentation (TEST-NET-2)",
    },
    Special {
        net: "203.0.113.0/24",
        what: "documentation (TEST-NET-3)",
    },
    Special {
        net: "224.0.0.0/4",
        what: "multicast",
    },
    Special {
        net: "240.0.0.0/4",
        what: "reserved (includes broadcast)",
    },
];

/// IPv6 special-purpose ranges. Ranges that embed an IPv4 address are handled before these.
const V6_SPECIAL: &[Special] = &[
    Special {
        net: "::/128",
        what: "unspecified",
    },
    Special {
        net: "::1/128",
        what: "loopback",
    },
    Special {
        net: "::/96",
        what: "IPv4-compatible (deprecated)",
    },
    Special {
        net: "::ffff:0:0/96",
        what: "IPv4-mapped",
    },
    Special {
        net: "64:ff9b:1::/48",
        what: "local-use IPv4/IPv6 translation",
    },
    Special {
        net: "100::/64",
        what: "discard-only",
    },
    Special {
        net: "2001::/23",
        what: "IETF protocol assignments (includes Teredo)",
    },
    Special {
        net: "2001:db8::/32",
        what: "documentation",
    },
    Special {
        net: "2002::/16",
        what: "6to4",
    },
    Special {
        net: "3fff::/20",
        what: "documentation",
    },
    Special {
        net: "5f00::/16",
        what: "SRv6 SIDs",
    },
    Special {
        net: "fc00::/7",
        what: "unique local (private)",
    },
    Special {
        net: "fe80::/10",
        what: "link-local",
    },
    Special {
        net: "fec0::/10",
        what: "site-local (deprecated)",
    },
    Special {
        net: "ff00::/8",
        what: "multicast",
    },
];

/// Why an address may not be reached.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{addr} is a {what} address, which webhooks may not reach unless its network is in [events] allowed_networks")]
pub struct Refused {
    pub addr: IpAddr,
    pub what: &'static str,
}

impl From<Refused> for DomainError {
    fn from(r: Refused) -> Self {
        DomainError::new("address_not_allowed", r.to_string())
    }
}

/// Which addresses outbound webhook requests may reach.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressPolicy {
    allowed: Vec<IpNet>,
}

impl AddressPolicy {
    /// A policy that refuses every special-purpose address except those in `allowed`.
    pub fn new(allowed: Vec<IpNet>) -> Self {
        Self { allowed }
    }

    pub fn allowed_networks(&self) -> &[IpNet] {
        &self.allowed
    }

    /// Is `addr` in an allow-listed network? (Checked as given and, when it embeds one, as IPv4.)
    pub fn is_allow_listed(&self, addr: IpAddr) -> bool {
        let embedded = embedded_v4(addr).map(IpAddr::V4);
        self.allowed
            .iter()
            .any(|n| n.contains(&addr) || embedded.is_some_and(|v4| n.contains(&v4)))
    }

    /// May a request go to `addr`?
    pub fn check(&self, addr: IpAddr) -> Result<(), Refused> {
        if self.is_allow_listed(addr) {
            return Ok(());
        }
        match special_range(addr) {
            Some(what) => Err(Refused { addr, what }),
            None => Ok(()),
        }
    }
}

/// The IPv4 address carried by a v4-mapped (`::ffff:a.b.c.d`), v4-compatible (`::a.b.c.d`) or
/// NAT64 (`64:ff9b::a.b.c.d`) IPv6 address; an IPv4 address is its own.
pub fn embedded_v4(addr: IpAddr) -> Option<Ipv4Addr> {
    match addr {
        IpAddr::V4(v4) => Some(v4),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let low = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
            let mapped = s[..5] == [0, 0, 0, 0, 0] && s[5] == 0xffff;
            let compatible = s[..6] == [0, 0, 0, 0, 0, 0] && !matches!(v6, Ipv6Addr::UNSPECIFIED | Ipv6Addr::LOCALHOST);
            let nat64 = s[..6] == [0x64, 0xff9b, 0, 0, 0, 0];
            (mapped || compatible || nat64).then_some(low)
        }
    }
}

/// The special-purpose range `addr` falls in, if any.
pub fn special_range(addr: IpAddr) -> Option<&'static str> {
    if let (IpAddr::V6(_), Some(v4)) = (addr, embedded_v4(addr)) {
        // An embedded IPv4 address is where the connection really goes: judge it as IPv4.
        return special_v4(v4);
    }
    match addr {
        IpAddr::V4(v4) => special_v4(v4),
        IpAddr::V6(v6) => V6_SPECIAL.iter().find_map(|s| {
            let net: Ipv6Net = s.net.parse().ok()?;
            net.contains(&v6).then_some(s.what)
        }),
    }
}

fn special_v4(v4: Ipv4Addr) -> Option<&'static str> {
    V4_SPECIAL.iter().find_map(|s| {
        let net: Ipv4Net = s.net.parse().ok()?;
        net.contains(&v4).then_some(s.what)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn every_special_range_parses() {
        for s in V4_SPECIAL {
            s.net.parse::<Ipv4Net>().unwrap();
        }
        for s in V6_SPECIAL {
            s.net.parse::<Ipv6Net>().unwrap();
        }
    }

    #[test]
    fn special_addresses_are_refused_by_default() {
        let p = AddressPolicy::default();
        for addr in [
            "127.0.0.1",
            "127.255.255.254",
            "10.0.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "0.0.0.0",
            "0.1.2.3",
            "224.0.0.1",
            "239.255.255.250",
            "255.255.255.255",
            "240.0.0.1",
            "192.0.2.10",
            "198.51.100.7",
            "203.0.113.9",
            "198.18.0.1",
            "198.19.255.255",
            "192.0.0.8",
            "192.88.99.1",
            "::",
            "::1",
            "fe80::1",
            "fc00::1",
            "fd12:3456::1",
            "fec0::1",
            "ff02::1",
            "2001:db8::1",
            "3fff::1",
            "100::1",
            "2002:c000:0204::1",
            "2001:0:4136:e378::1",
            "5f00::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::10.0.0.1",
            "64:ff9b:1::1",
        ] {
            assert!(p.check(ip(addr)).is_err(), "{addr} should be refused");
        }
    }

    #[test]
    fn public_addresses_pass() {
        let p = AddressPolicy::default();
        for addr in [
            "8.8.8.8",
            "1.1.1.1",
            "93.184.216.34",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.167.255.255",
            "169.253.255.255",
            "198.17.255.255",
            "198.20.0.0",
            "223.255.255.255",
            "2606:4700:4700::1111",
            "2a00:1450:4001:80b::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::8.8.8.8",
        ] {
            assert_eq!(p.check(ip(addr)), Ok(()), "{addr} should pass");
        }
    }

    #[test]
    fn refusals_name_the_range() {
        let e = AddressPolicy::default().check(ip("169.254.169.254")).unwrap_err();
        assert!(e.what.contains("link-local"), "{e}");
        assert!(e.to_string().contains("allowed_networks"), "{e}");
        let e = AddressPolicy::default().check(ip("::ffff:10.1.2.3")).unwrap_err();
        assert_eq!(e.what, "private");
        let d: DomainError = e.into();
        assert_eq!(d.code, "address_not_allowed");
    }

    #[test]
    fn allow_listed_networks_pass_and_nothing_else() {
        let p = AddressPolicy::new(vec!["127.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()]);
        assert_eq!(p.check(ip("127.0.0.1")), Ok(()));
        assert_eq!(p.check(ip("127.1.2.3")), Ok(()));
        assert_eq!(p.check(ip("::1")), Ok(()));
        // The mapped form of an allowed IPv4 address is the same address.
        assert_eq!(p.check(ip("::ffff:127.0.0.1")), Ok(()));
        assert!(p.check(ip("10.0.0.1")).is_err());
        assert!(p.check(ip("169.254.169.254")).is_err());
        assert!(p.check(ip("fe80::1")).is_err());
        assert!(p.is_allow_listed(ip("127.0.0.1")));
        assert!(!p.is_allow_listed(ip("8.8.8.8")));
    }

    #[test]
    fn a_narrow_allow_list_does_not_open_its_neighbours() {
        let p = AddressPolicy::new(vec!["10.20.0.0/16".parse().unwrap()]);
        assert_eq!(p.check(ip("10.20.5.5")), Ok(()));
        assert!(p.check(ip("10.21.0.1")).is_err());
        assert!(p.check(ip("::ffff:10.21.0.1")).is_err());
    }

    #[test]
    fn embedded_v4_is_extracted() {
        assert_eq!(embedded_v4(ip("::ffff:1.2.3.4")), Some(Ipv4Addr::new(1, 2, 3, 4)));
        assert_eq!(embedded_v4(ip("64:ff9b::1.2.3.4")), Some(Ipv4Addr::new(1, 2, 3, 4)));
        assert_eq!(embedded_v4(ip("::1")), None);
        assert_eq!(embedded_v4(ip("::")), None);
        assert_eq!(embedded_v4(ip("2606:4700::1")), None);
    }
}
