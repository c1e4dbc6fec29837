//! API keys restricted to web origins. An integration may name the domains its API key is used
//! from (`example.com`, `*.example.com`, `localhost:3000`); a call whose `Origin` — or, without
//! one, `Referer` — names another host is refused, and so is a call that names none. The
//! restriction stops another web site from spending the integration's quota with a key copied out
//! of its pages; it is no secret, since any non-browser client can set those headers.

use crate::DomainError;

/// Most domains one API key may name.
pub const MAX_ALLOWED_DOMAINS: usize = 50;

/// Checks and normalizes (lower case) one allowed domain: a host name of letters, digits and
/// hyphens in dot-separated labels, optionally starting with `*.` (any subdomain, at any depth,
/// not the domain itself) and ending with `:port`. IP literals and schemes are refused.
pub fn parse_allowed_domain(raw: &str) -> Result<String, DomainError> {
    let d = raw.trim().to_ascii_lowercase();
    let bad = |why: &str| DomainError::new("invalid_allowed_domain", format!("allowed domain {raw:?} {why}"));
    if d.contains("://") || d.contains('/') {
        return Err(bad("must be a domain name such as example.com, without scheme or path"));
    }
    let (host, port) = match d.rsplit_once(':') {
        Some((h, p)) => {
            if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) || p.parse::<u16>().is_err() {
                return Err(bad("has an invalid port"));
            }
            (h, Some(p))
        }
        None => (d.as_str(), None),
    };
    let name = host.strip_prefix("*.").unwrap_or(host);
    if name.is_empty() || name.len() > 253 {
        return Err(bad("must name a host"));
    }
    for label in name.split('.') {
        let ok = !label.is_empty()
            && label.len() <= 63
            && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !ok {
            return Err(bad(
                "must be dot-separated labels of letters, digits and hyphens ('*.' only at the start)",
            ));
        }
    }
    if name.split('.').all(|l| l.bytes().all(|b| b.is_ascii_digit())) {
        return Err(bad("must be a domain name, not an IP address"));
    }
    Ok(match port {
        Some(p) => format!("{host}:{p}"),
        None => host.to_owned(),
    })
}

/// Checks and normalizes a list of allowed domains (duplicates removed, order kept).
pub fn parse_allowed_domains(raw: &[String]) -> Result<Vec<String>, DomainError> {
    if raw.len() > MAX_ALLOWED_DOMAINS {
        return Err(DomainError::new(
            "invalid_allowed_domain",
            format!("at most {MAX_ALLOWED_DOMAINS} allowed domains"),
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(raw.len());
    for r in raw {
        let d = parse_allowed_domain(r)?;
        if !out.contains(&d) {
            out.push(d);
        }
    }
    Ok(out)
}

/// Why a call was refused by its API key's allowed domains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DomainRefusal {
    /// Neither `Origin` nor `Referer` names a web origin.
    NoOrigin,
    /// The origin's host is none of the allowed domains.
    NotAllowed,
}

/// Whether a call with these `Origin` and `Referer` headers may use an API key restricted to
/// `allowed` (an empty list allows every call). `Origin` wins when present and not `null`.
pub fn check_origin(allowed: &[String], origin: Option<&str>, referer: Option<&str>) -> Result<(), DomainRefusal> {
    if allowed.is_empty() {
        return Ok(());
    }
    let source = origin
        .filter(|o| !o.trim().is_empty() && o.trim() != "null")
        .or(referer.filter(|r| !r.trim().is_empty()))
        .ok_or(DomainRefusal::NoOrigin)?;
    let url = url::Url::parse(source.trim()).map_err(|_| DomainRefusal::NoOrigin)?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(DomainRefusal::NoOrigin);
    }
    let Some(url::Host::Domain(host)) = url.host() else {
        // IP literals never match: allowed domains are names.
        return Err(DomainRefusal::NotAllowed);
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let port = url.port_or_known_default();
    let matches = allowed.iter().any(|pattern| {
        let (name, want_port) = match pattern.rsplit_once(':') {
            Some((n, p)) => (n, p.parse::<u16>().ok()),
            None => (pattern.as_str(), None),
        };
        if want_port.is_some() && want_port != port {
            return false;
        }
        match name.strip_prefix("*.") {
            Some(parent) => host.len() > parent.len() + 1 && host.ends_with(&format!(".{parent}")),
            None => host == name,
        }
    });
    if matches {
        Ok(())
    } else {
        Err(DomainRefusal::NotAllowed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn allowed_domains_are_host_names_with_an_optional_wildcard_and_port() {
        assert_eq!(parse_allowed_domain(" Example.COM ").unwrap(), "example.com");
        assert_eq!(parse_allowed_domain("*.example.com").unwrap(), "*.example.com");
        assert_eq!(parse_allowed_domain("localhost:3000").unwrap(), "localhost:3000");
        for bad in [
            "",
            "https://example.com",
            "example.com/x",
            "*",
            "*.",
            "a.*.com",
            "ex ample.com",
            "-x.com",
            "x..com",
            "127.0.0.1",
            "x.com:",
            "x.com:99999",
            "x.com:ab",
            "[::1]",
        ] {
            assert_eq!(
                parse_allowed_domain(bad).unwrap_err().code,
                "invalid_allowed_domain",
                "{bad}"
            );
        }
        assert_eq!(
            parse_allowed_domains(&list(&["a.com", "A.com", "b.com"])).unwrap(),
            list(&["a.com", "b.com"])
        );
        assert!(parse_allowed_domains(&vec!["a.com".to_owned(); MAX_ALLOWED_DOMAINS + 1]).is_err());
    }

    #[test]
    fn a_restricted_key_is_used_only_from_its_domains() {
        let allowed = list(&["app.example.com", "*.example.org", "localhost:3000"]);
        let ok = |o: Option<&str>, r: Option<&str>| check_origin(&allowed, o, r);
        assert_eq!(ok(Some("https://app.example.com"), None), Ok(()));
        assert_eq!(ok(Some("https://APP.example.com."), None), Ok(()));
        assert_eq!(ok(Some("http://a.b.example.org"), None), Ok(()));
        assert_eq!(ok(Some("http://localhost:3000"), None), Ok(()));
        assert_eq!(ok(None, Some("https://app.example.com/page?x=1")), Ok(()));
        // The Origin wins over the Referer.
        assert_eq!(
            ok(Some("https://evil.example"), Some("https://app.example.com/")),
            Err(DomainRefusal::NotAllowed)
        );
        for (origin, why) in [
            ("https://example.org", DomainRefusal::NotAllowed),
            ("https://app.example.com.evil.example", DomainRefusal::NotAllowed),
            ("https://evilapp.example.com", DomainRefusal::NotAllowed),
            ("https://xexample.org", DomainRefusal::NotAllowed),
            ("http://localhost:3001", DomainRefusal::NotAllowed),
            ("http://localhost", DomainRefusal::NotAllowed),
            ("https://app.example.com@evil.example", DomainRefusal::NotAllowed),
            ("http://127.0.0.1:3000", DomainRefusal::NotAllowed),
            ("file:///etc/passwd", DomainRefusal::NoOrigin),
            ("not a url", DomainRefusal::NoOrigin),
        ] {
            assert_eq!(ok(Some(origin), None), Err(why), "{origin}");
        }
        assert_eq!(ok(None, None), Err(DomainRefusal::NoOrigin));
        assert_eq!(ok(Some("null"), None), Err(DomainRefusal::NoOrigin));
        assert_eq!(
            check_origin(&[], None, None),
            Ok(()),
            "an unrestricted key is used from anywhere"
        );
    }
}
