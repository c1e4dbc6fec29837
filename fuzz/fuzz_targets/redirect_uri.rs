//! Redirect URIs and redirect URI patterns: `RedirectPattern::parse` and `is_match`,
//! `RedirectUri::parse`, `RedirectRules::parse` / `allows` / `explain`, and the authorization
//! endpoint's `authorize::check_client`.
//!
//! Input: the first byte picks the platform (web, spa, native); the rest is `pattern\ncandidate`.
//! The candidate is judged against the fuzzed pattern and against fixed rules. Invariants:
//! - a pattern's stored form parses back to itself, and so does a redirect URI's;
//! - whatever a pattern or the rules let through is, as a browser's URL parser reads it, on the
//!   pattern's (or the rules') scheme, host and port, without user information or fragment;
//! - a redirect URI is always allowed by rules whose default it is.
#![no_main]

use std::sync::LazyLock;

use gatehouse_domain::{
    ids::ClientId,
    integration::{Integration, IntegrationStatus, IntegrationType, Owner, Platform},
    redirect::{RedirectPattern, RedirectRules, RedirectUri},
    token::authorize,
};
use libfuzzer_sys::fuzz_target;

const PLATFORMS: [Platform; 3] = [Platform::Web, Platform::Spa, Platform::Native];

/// Fixed rules per platform, and the hosts (with ports) they may lead to.
static RULES: LazyLock<Vec<(RedirectRules, &'static [(&'static str, Option<u16>)])>> = LazyLock::new(|| {
    let web = RedirectRules::parse(
        Platform::Web,
        "https://app.example.com/callback",
        &[
            r"https://app\.example\.com/cb/[a-z0-9-]+".into(),
            r"https://app\.example\.com:8443/.*".into(),
            r"https://preview-1\.example\.com/(a|b)/\d+(\?.*)?".into(),
        ],
    )
    .expect("web rules");
    let spa = RedirectRules::parse(
        Platform::Spa,
        "http://localhost:3000/",
        &[r"https://spa\.example\.com/.*".into(), r"http://\[::1\]:3000/.*".into()],
    )
    .expect("spa rules");
    let native = RedirectRules::parse(
        Platform::Native,
        "com.example.app:/oauth2redirect",
        &[
            r"http://127\.0\.0\.1/callback".into(),
            r"http://\[::1\]/callback".into(),
            r"http://localhost/cb.*".into(),
            r"com\.example\.app:/.*".into(),
        ],
    )
    .expect("native rules");
    vec![
        (
            web,
            &[
                ("app.example.com", Some(443)),
                ("app.example.com", Some(8443)),
                ("preview-1.example.com", Some(443)),
            ],
        ),
        (
            spa,
            &[
                ("localhost", Some(3000)),
                ("spa.example.com", Some(443)),
                ("[::1]", Some(3000)),
            ],
        ),
        // Native loopback redirects may use any port (RFC 8252 §7.3).
        (native, &[("127.0.0.1", None), ("[::1]", None), ("localhost", None)]),
    ]
});

fn integration(platform: Platform, rules: &RedirectRules) -> Integration {
    Integration {
        id: "int-1".into(),
        client_id: ClientId::parse("0123456789abcdef0123456789abcdef").expect("client ID"),
        name: "App".into(),
        description: String::new(),
        integration_type: IntegrationType::Oauth,
        platform: Some(platform),
        owner: Owner::Organization("0123456789abcdef01234567@GatehouseOrg".into()),
        created_by: None,
        redirect_uri: Some(rules.default.as_str().to_owned()),
        redirect_patterns: rules.patterns.iter().map(|p| p.as_str().to_owned()).collect(),
        technical_account_id: None,
        technical_account_email: None,
        id_token_signed_response_alg: None,
        may_introspect: false,
        allowed_domains: Vec::new(),
        workspace_id: "w".into(),
        status: IntegrationStatus::Active,
        created_at: 0,
        updated_at: 0,
    }
}

/// The literal `scheme://host[:port]` a stored http(s) pattern begins with, unescaped.
fn pattern_origin(stored: &str) -> Option<(String, String, Option<u16>)> {
    let (scheme, rest) = stored.split_once(':')?;
    let scheme = scheme.replace('\\', "");
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let rest = rest.strip_prefix("//")?;
    let mut host = String::new();
    let mut chars = rest.chars().peekable();
    let bracketed = rest.starts_with("\\[");
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.peek() {
                Some('/') => break,
                Some(&n) => {
                    host.push(n);
                    chars.next();
                    if bracketed && n == ']' {
                        break;
                    }
                }
                None => break,
            },
            '/' => break,
            ':' if !bracketed => {
                let port: String = chars.by_ref().take_while(char::is_ascii_digit).collect();
                return Some((scheme, host, port.parse().ok()));
            }
            c => host.push(c),
        }
    }
    let port = if chars.peek() == Some(&':') {
        chars.next();
        let digits: String = chars.take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    } else {
        None
    };
    Some((scheme, host, port))
}

/// How a browser reads an allowed redirect URI: it must lead where the rules said.
fn assert_lands(uri: &str, scheme: &str, host: &str, port: Option<u16>) {
    let url = url::Url::parse(uri).expect("an allowed redirect URI is a URL");
    assert_eq!(url.scheme(), scheme, "{uri}");
    assert_eq!(url.host_str(), Some(host), "{uri} leads to another host");
    if let Some(p) = port {
        assert_eq!(url.port_or_known_default(), Some(p), "{uri} leads to another port");
    }
    assert!(
        url.username().is_empty() && url.password().is_none(),
        "{uri} has user information"
    );
    assert!(url.fragment().is_none(), "{uri} has a fragment");
}

fuzz_target!(|data: &[u8]| {
    let Some((&p, rest)) = data.split_first() else { return };
    let platform = PLATFORMS[usize::from(p) % PLATFORMS.len()];
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let (pattern_text, candidate) = text.split_once('\n').unwrap_or((text, ""));

    let pattern = RedirectPattern::parse(pattern_text, platform).ok();
    if let Some(pat) = &pattern {
        let again = RedirectPattern::parse(pat.as_str(), platform).expect("a stored pattern parses again");
        assert_eq!(again.as_str(), pat.as_str());
    }

    let uri = RedirectUri::parse(candidate, platform).ok();
    if let Some(u) = &uri {
        let s = u.as_str();
        assert!(
            s.is_ascii() && !s.contains('#') && !s.contains(char::is_whitespace),
            "{s:?}"
        );
        let again = RedirectUri::parse(s, platform).expect("a stored redirect URI parses again");
        assert_eq!(again.as_str(), s);
        if candidate.trim() == candidate {
            // A redirect URI is allowed by the rules whose default it is.
            let rules = RedirectRules::parse(platform, candidate, &[]).expect("rules from a valid default");
            assert!(rules.allows(candidate), "{candidate:?} is not allowed by itself");
        }
        if let Some(pat) = &pattern
            && pat.is_match(s)
            && let Some((scheme, host, port)) = pattern_origin(pat.as_str())
        {
            let default_port = if scheme == "https" { 443 } else { 80 };
            assert_lands(s, &scheme, &host, Some(port.unwrap_or(default_port)));
        }
    }

    // The fixed rules of this platform, and the fuzzed pattern added to them.
    let (rules, hosts) = &RULES[usize::from(p) % PLATFORMS.len()];
    let allowed = rules.allows(candidate);
    if allowed
        && let Ok(url) = url::Url::parse(candidate)
        && matches!(url.scheme(), "http" | "https")
    {
        let host = url.host_str().unwrap_or_default().to_owned();
        let port = url.port_or_known_default();
        let expected = hosts
            .iter()
            .any(|(h, p)| *h == host && p.is_none_or(|p| Some(p) == port));
        assert!(expected, "{candidate:?} allowed but leads to {host:?} port {port:?}");
        assert_lands(candidate, url.scheme(), &host, None);
    }
    let explained = rules.explain(candidate);
    if explained.as_ref().is_ok_and(|m| !m.is_empty()) && candidate.trim() == candidate {
        assert!(allowed, "{candidate:?}: a pattern matches but the rules refuse it");
    }
    let integ = integration(platform, rules);
    let decided = authorize::check_client(&integ, Some(rules), Some(candidate));
    assert_eq!(decided.is_ok(), allowed);
    if let Ok(to) = decided {
        assert_eq!(to, candidate);
    }

    if let Some(pat) = pattern {
        let mut patterns: Vec<String> = rules.patterns.iter().map(|p| p.as_str().to_owned()).collect();
        patterns.push(pat.as_str().to_owned());
        if let Ok(with) = RedirectRules::parse(platform, rules.default.as_str(), &patterns) {
            // Adding a pattern never takes anything away.
            if allowed {
                assert!(with.allows(candidate));
            }
        }
    }
});
