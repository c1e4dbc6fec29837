//! Webhook URLs: where a registration's deliveries go. Parsing checks the shape (absolute `https`
//! or `http` URL, a host, no credentials or fragment, at most 4,000 characters); [`WebhookUrl::admit`]
//! checks where it leads, given the addresses its host resolves to (an IP literal resolves to
//! itself): every address must pass the [`AddressPolicy`], and plain `http` is accepted only when
//! every address is in an allow-listed network (local development and tests), never on the internet.

use std::net::IpAddr;

use url::{Host, Url};

use super::address::AddressPolicy;
use crate::DomainError;

/// Longest webhook URL accepted (the compatible API's limit).
pub const MAX_WEBHOOK_URL_LEN: usize = 4000;

/// A syntactically valid webhook URL. Where it may lead is decided by [`WebhookUrl::admit`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl {
    url: Url,
}

fn invalid(message: impl Into<String>) -> DomainError {
    DomainError::new("invalid_webhook_url", message)
}

impl WebhookUrl {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(invalid("the webhook URL is empty"));
        }
        if s.len() > MAX_WEBHOOK_URL_LEN {
            return Err(invalid(format!(
                "the webhook URL is longer than {MAX_WEBHOOK_URL_LEN} characters"
            )));
        }
        let url = Url::parse(s).map_err(|e| invalid(format!("{s:?} is not an absolute URL ({e})")))?;
        // The limit holds for the URL as stored and sent, which percent-encoding can make three
        // times longer than what was typed: a stored URL must always parse again.
        if url.as_str().len() > MAX_WEBHOOK_URL_LEN {
            return Err(invalid(format!(
                "the webhook URL is longer than {MAX_WEBHOOK_URL_LEN} characters once percent-encoded"
            )));
        }
        if !matches!(url.scheme(), "https" | "http") {
            return Err(invalid(format!("{s:?} must use https")));
        }
        match url.host() {
            None => return Err(invalid(format!("{s:?} has no host"))),
            Some(Host::Domain("")) => return Err(invalid(format!("{s:?} has no host"))),
            Some(_) => {}
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid("a webhook URL must not contain a user name or password"));
        }
        if url.fragment().is_some() {
            return Err(invalid("a webhook URL must not have a fragment (#…)"));
        }
        Ok(Self { url })
    }

    pub fn as_str(&self) -> &str {
        self.url.as_str()
    }

    pub fn url(&self) -> &Url {
        &self.url
    }

    pub fn is_https(&self) -> bool {
        self.url.scheme() == "https"
    }

    /// The host when it is an IP literal (`https://10.0.0.1/`, `http://[::1]:8080/`).
    pub fn literal_ip(&self) -> Option<IpAddr> {
        match self.url.host()? {
            Host::Ipv4(v4) => Some(IpAddr::V4(v4)),
            Host::Ipv6(v6) => Some(IpAddr::V6(v6)),
            Host::Domain(_) => None,
        }
    }

    /// The host name to resolve, when the host is not an IP literal.
    pub fn domain(&self) -> Option<&str> {
        match self.url.host()? {
            Host::Domain(d) => Some(d),
            _ => None,
        }
    }

    /// The port, explicit or the scheme's default.
    pub fn port(&self) -> u16 {
        self.url.port_or_known_default().unwrap_or(443)
    }

    /// May deliveries go here, given the addresses the host resolves to?
    pub fn admit(&self, policy: &AddressPolicy, resolved: &[IpAddr]) -> Result<(), DomainError> {
        if resolved.is_empty() {
            return Err(DomainError::new(
                "webhook_unresolvable",
                format!("the host of {} does not resolve to any address", self.url),
            ));
        }
        for addr in resolved {
            policy.check(*addr)?;
        }
        if !self.is_https() && !resolved.iter().all(|a| policy.is_allow_listed(*a)) {
            return Err(invalid(format!(
                "{} must use https; plain http is accepted only for addresses in [events] allowed_networks",
                self.url
            )));
        }
        Ok(())
    }

    /// The URL of the challenge request: this URL with `challenge=<value>` added to its query.
    pub fn with_challenge(&self, challenge: &str) -> Url {
        let mut u = self.url.clone();
        u.query_pairs_mut().append_pair("challenge", challenge);
        u
    }
}

impl std::fmt::Display for WebhookUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.url.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn loopback_allowed() -> AddressPolicy {
        AddressPolicy::new(vec!["127.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()])
    }

    #[test]
    fn shapes_that_are_not_webhook_urls_are_refused() {
        let long = format!("https://example.com/{}", "a".repeat(4000));
        // 1,520 characters typed, 4,520 once the backticks are percent-encoded (found by fuzzing).
        let long_once_encoded = format!("https://example.com/{}", "`".repeat(1500));
        assert!(WebhookUrl::parse(&long_once_encoded).is_err());
        for bad in [
            "",
            "   ",
            "not a url",
            "/relative/path",
            "example.com/hook",
            "ftp://example.com/hook",
            "javascript:alert(1)",
            "file:///etc/passwd",
            "https://user:pw@example.com/hook",
            "https://user@example.com/hook",
            "https://example.com/hook#frag",
            long.as_str(),
        ] {
            let e = WebhookUrl::parse(bad).unwrap_err();
            assert_eq!(e.code, "invalid_webhook_url", "{bad:?}: {e}");
        }
    }

    #[test]
    fn https_to_public_addresses_is_admitted() {
        let u = WebhookUrl::parse("https://hooks.example.com/in?x=1").unwrap();
        assert_eq!(u.domain(), Some("hooks.example.com"));
        assert_eq!(u.port(), 443);
        u.admit(&AddressPolicy::default(), &[ip("93.184.216.34")]).unwrap();
    }

    #[test]
    fn literal_private_addresses_are_refused_without_allow_listing() {
        let p = AddressPolicy::default();
        for (url, addr) in [
            ("https://127.0.0.1/hook", "127.0.0.1"),
            ("https://10.0.0.1/hook", "10.0.0.1"),
            ("https://169.254.169.254/latest/meta-data", "169.254.169.254"),
            ("https://[::1]/hook", "::1"),
            ("https://[::ffff:127.0.0.1]/hook", "::ffff:127.0.0.1"),
        ] {
            let u = WebhookUrl::parse(url).unwrap();
            assert_eq!(u.literal_ip(), Some(ip(addr)), "{url}");
            let e = u.admit(&p, &[ip(addr)]).unwrap_err();
            assert_eq!(e.code, "address_not_allowed", "{url}");
        }
    }

    #[test]
    fn every_spelling_of_loopback_and_private_addresses_is_refused() {
        // The URL parser reads each spelling as the address it is, and the address is refused.
        let p = AddressPolicy::default();
        for (url, addr) in [
            ("https://2130706433/hook", "127.0.0.1"),
            ("https://0x7f000001/hook", "127.0.0.1"),
            ("https://017700000001/hook", "127.0.0.1"),
            ("https://0177.0.0.1/hook", "127.0.0.1"),
            ("https://0x7f.0.0.1/hook", "127.0.0.1"),
            ("https://0x7F.0x0.0.01/hook", "127.0.0.1"),
            ("https://127.1/hook", "127.0.0.1"),
            ("https://127.0.0.1./hook", "127.0.0.1"),
            ("https://%31%32%37.0.0.1/hook", "127.0.0.1"),
            (
                "https://\u{ff11}\u{ff12}\u{ff17}\u{ff0e}0\u{ff0e}0\u{ff0e}1/hook",
                "127.0.0.1",
            ),
            ("https://0.0.0.0/hook", "0.0.0.0"),
            ("https://0/hook", "0.0.0.0"),
            ("https://[::]/hook", "::"),
            ("https://[::1]/hook", "::1"),
            ("https://[0:0:0:0:0:0:0:1]/hook", "::1"),
            ("https://[::ffff:127.0.0.1]/hook", "::ffff:127.0.0.1"),
            ("https://[::ffff:7f00:1]/hook", "::ffff:127.0.0.1"),
            ("https://[::127.0.0.1]/hook", "::127.0.0.1"),
            ("https://[64:ff9b::7f00:1]/hook", "64:ff9b::7f00:1"),
            ("https://[2002:7f00:1::]/hook", "2002:7f00:1::"),
            ("https://[::ffff:a9fe:a9fe]/latest/meta-data", "::ffff:169.254.169.254"),
            ("https://2852039166/latest/meta-data", "169.254.169.254"),
            ("https://0xa9fea9fe/latest/meta-data", "169.254.169.254"),
            ("https://10.1/hook", "10.0.0.1"),
            ("https://012.0.0.1/hook", "10.0.0.1"),
            ("https://3232235777/hook", "192.168.1.1"),
            ("https://0xc0.0xa8.1.1/hook", "192.168.1.1"),
            ("https://172.16.0.1/hook", "172.16.0.1"),
            ("https://100.64.0.1/hook", "100.64.0.1"),
            ("https://[fd00::1]/hook", "fd00::1"),
            ("https://[fe80::1]/hook", "fe80::1"),
        ] {
            let u = WebhookUrl::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert_eq!(u.literal_ip(), Some(ip(addr)), "{url}");
            let e = u.admit(&p, &[ip(addr)]).unwrap_err();
            assert_eq!(e.code, "address_not_allowed", "{url}");
        }
        // A name is resolved and every address checked; `localhost` is a name like any other.
        let u = WebhookUrl::parse("https://localhost/hook").unwrap();
        assert_eq!(u.literal_ip(), None);
        assert_eq!(
            u.admit(&p, &[ip("127.0.0.1"), ip("::1")]).unwrap_err().code,
            "address_not_allowed"
        );
        // The same spellings of a public address are admitted: it is the address that counts.
        for url in [
            "https://1572395042/hook",
            "https://0x5d.0xb8.0xd8.0x22/hook",
            "https://93.184.216.34/hook",
        ] {
            let u = WebhookUrl::parse(url).unwrap();
            assert_eq!(u.literal_ip(), Some(ip("93.184.216.34")), "{url}");
            u.admit(&p, &[ip("93.184.216.34")]).unwrap();
        }
    }

    #[test]
    fn a_name_resolving_to_a_private_address_is_refused() {
        let u = WebhookUrl::parse("https://internal.example.com/hook").unwrap();
        let e = u.admit(&AddressPolicy::default(), &[ip("10.1.2.3")]).unwrap_err();
        assert_eq!(e.code, "address_not_allowed");
        // One bad address among good ones is enough to refuse.
        let e = u
            .admit(&AddressPolicy::default(), &[ip("93.184.216.34"), ip("192.168.0.5")])
            .unwrap_err();
        assert_eq!(e.code, "address_not_allowed");
        let e = u.admit(&AddressPolicy::default(), &[]).unwrap_err();
        assert_eq!(e.code, "webhook_unresolvable");
    }

    #[test]
    fn plain_http_only_for_allow_listed_addresses() {
        let u = WebhookUrl::parse("http://hooks.example.com/in").unwrap();
        let e = u.admit(&AddressPolicy::default(), &[ip("93.184.216.34")]).unwrap_err();
        assert_eq!(e.code, "invalid_webhook_url");
        assert!(e.message.contains("https"), "{e}");
        let local = WebhookUrl::parse("http://127.0.0.1:9000/in").unwrap();
        local.admit(&loopback_allowed(), &[ip("127.0.0.1")]).unwrap();
        let v6 = WebhookUrl::parse("http://[::1]:9000/in").unwrap();
        v6.admit(&loopback_allowed(), &[ip("::1")]).unwrap();
        // Allow-listing loopback does not open other private ranges, over http or https.
        let other = WebhookUrl::parse("http://10.0.0.1/in").unwrap();
        assert!(other.admit(&loopback_allowed(), &[ip("10.0.0.1")]).is_err());
    }

    #[test]
    fn the_challenge_is_added_to_the_query() {
        let u = WebhookUrl::parse("https://example.com/hook?a=1").unwrap();
        assert_eq!(
            u.with_challenge("abc").as_str(),
            "https://example.com/hook?a=1&challenge=abc"
        );
    }
}
