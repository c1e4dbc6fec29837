//! The redirect rules against hostile patterns and URIs.

use super::*;
use crate::integration::Platform::{Native, Spa, Web};

fn pattern_err(p: &str, platform: Platform) -> String {
    match RedirectPattern::parse(p, platform) {
        Ok(ok) => panic!("pattern {p:?} was accepted as {ok}"),
        Err(e) => {
            assert_eq!(e.code, "invalid_redirect_pattern", "{p}: {e}");
            e.message
        }
    }
}

#[test]
fn hostile_patterns_are_refused_with_a_precise_reason() {
    let table: &[(&str, &str)] = &[
        // Any host at all.
        ("https://.*", "wildcard"),
        (".*", "literal scheme"),
        ("https?://example\\.com/", "literal scheme"),
        // The host continues into another domain.
        ("https://example\\.com.evil\\.com/.*", "unescaped '.'"),
        ("https://example\\.com.*", "wildcard"),
        // Unescaped dots match any character.
        ("https://example.com/.*", "unescaped '.'"),
        ("https://app.example\\.com/cb", "unescaped '.'"),
        // Host wildcards.
        ("https://.*\\.example\\.com/", "wildcard"),
        ("https://[a-z]+\\.example\\.com/", "wildcard"),
        ("https://(www|api)\\.example\\.com/", "wildcard"),
        ("https://example\\.(com|evil)/", "wildcard"),
        ("https://\\w+/", "wildcard"),
        // Sneaking in user information or a port.
        ("https://example\\.com(:\\d+)?@evil\\.com/", "wildcard"),
        ("https://example\\.com:443(/|@evil\\.com/)", "literal '/'"),
        ("https://example\\.com@evil\\.com/", "user information"),
        ("https://user@example\\.com/", "user information"),
        ("https://example\\.com:\\d+/", "port"),
        ("https://example\\.com:.*/", "port"),
        ("https://example\\.com:0/", "outside"),
        ("https://example\\.com:99999/", "outside"),
        // A top-level alternative escapes the host check.
        ("https://example\\.com/cb|.*", "top-level '|'"),
        ("https://example\\.com/cb|https://evil\\.com/.*", "top-level '|'"),
        // The slash after the host must be there.
        ("https://example\\.com/?", "'/' after the host"),
        ("https://example\\.com/*x", "'/' after the host"),
        ("https://example\\.com\\/?", "'/' after the host"),
        // Backtracking bombs have no literal scheme and host.
        ("(a+)+", "literal scheme"),
        ("(a|aa)*b", "literal scheme"),
        // Anchors, flags, plain http, other schemes.
        ("^https://example\\.com/", "'^'"),
        ("(?i)https://example\\.com/", "literal scheme"),
        ("http://example\\.com/", "https"),
        ("javascript:alert\\(1\\)", "cannot receive"),
        ("com\\.example\\.app:/cb", "only for native"),
        ("https://", "no host"),
        ("https://example\\.\\.com/", "malformed host"),
        ("https://exa mple\\.com/", "character"),
        ("", "empty"),
    ];
    for (p, why) in table {
        let msg = if p.is_empty() {
            RedirectPattern::parse(p, Web).unwrap_err().message
        } else {
            pattern_err(p, Web)
        };
        assert!(
            msg.contains(why),
            "{p:?}: expected the reason to mention {why:?}, got: {msg}"
        );
    }
}

#[test]
fn oversized_and_overcomplex_patterns_are_refused() {
    let long = format!("https://example\\.com/{}", "a".repeat(MAX_PATTERN_LEN));
    assert!(pattern_err(&long, Web).contains("longer than"));
    let huge = "https://example\\.com/((((a{100}){100}){100}){100})";
    assert!(
        pattern_err(huge, Web).contains("too complex"),
        "{}",
        pattern_err(huge, Web)
    );
    let deep = format!("https://example\\.com/{}a{}", "(".repeat(40), ")".repeat(40));
    assert!(pattern_err(&deep, Web).contains("not a valid regular expression"));
    let broken = "https://example\\.com/(";
    assert!(pattern_err(broken, Web).contains("not a valid regular expression"));
}

#[test]
fn good_patterns_are_accepted_and_normalised() {
    for (p, stored) in [
        (
            "https://app\\.example\\.com/callback",
            "https://app\\.example\\.com/callback",
        ),
        ("https://App\\.Example\\.COM/cb/.*", "https://app\\.example\\.com/cb/.*"),
        ("HTTPS://example\\.com", "https://example\\.com"),
        (
            "https://example\\.com:8443/(a|b)/[0-9]+",
            "https://example\\.com:8443/(a|b)/[0-9]+",
        ),
        ("https:\\/\\/example\\.com\\/x", "https://example\\.com\\/x"),
        ("http://localhost:3000/.*", "http://localhost:3000/.*"),
        ("http://127\\.0\\.0\\.1/cb", "http://127\\.0\\.0\\.1/cb"),
        ("http://\\[::1\\]:8080/cb", "http://\\[::1\\]:8080/cb"),
        (
            "https://my-app\\.example\\.com/.*",
            "https://my\\-app\\.example\\.com/.*",
        ),
    ] {
        let parsed = RedirectPattern::parse(p, Web).unwrap_or_else(|e| panic!("{p}: {e}"));
        assert_eq!(parsed.as_str(), stored, "{p}");
        // What is stored parses back to itself.
        assert_eq!(RedirectPattern::parse(parsed.as_str(), Web).unwrap().as_str(), stored);
    }
    let native = RedirectPattern::parse("com\\.example\\.app:/oauth/.*", Native).unwrap();
    assert!(native.is_match("com.example.app:/oauth/done"));
    assert!(!native.is_match("com.example.appx:/oauth/done"));
}

fn web_rules(patterns: &[&str]) -> RedirectRules {
    let patterns: Vec<String> = patterns.iter().map(|p| (*p).to_owned()).collect();
    RedirectRules::parse(Web, "https://app.example.com/callback", &patterns).unwrap()
}

#[test]
fn hostile_uris_do_not_match() {
    let rules = web_rules(&[
        "https://app\\.example\\.com/cb/.*",
        "https://app\\.example\\.com:8443/x",
    ]);
    for (uri, allowed) in [
        ("https://app.example.com/callback", true),
        ("https://app.example.com/cb/anything?state=1", true),
        ("https://APP.Example.com/cb/x", true),
        ("HTTPS://app.example.com/cb/x", true),
        ("https://app.example.com:8443/x", true),
        // Different host, or the right host as a prefix/suffix of another.
        ("https://evil.com/cb/x", false),
        ("https://app.example.com.evil.com/cb/x", false),
        ("https://evilapp.example.com/cb/x", false),
        ("https://appXexample.com/cb/x", false),
        // User information, which would send the browser to evil.com.
        ("https://app.example.com@evil.com/cb/x", false),
        ("https://app.example.com:8443@evil.com/x", false),
        ("https://user:pw@app.example.com/cb/x", false),
        // Path, case, port and trailing characters matter.
        ("https://app.example.com/callback/extra", false),
        ("https://app.example.com/callbacK", false),
        ("https://app.example.com/CB/x", false),
        ("https://app.example.com:443/callback", false),
        ("https://app.example.com:8444/x", false),
        ("https://app.example.com:8443/x/", false),
        ("http://app.example.com/callback", false),
        // Fragments, whitespace, backslashes, encoded hosts.
        ("https://app.example.com/callback#frag", false),
        ("https://app.example.com/cb/x\n", false),
        ("https://app.example.com\\@evil.com/cb/x", false),
        ("https://app.example.com%2F@evil.com/cb/", false),
        ("https://app%2Eexample.com/cb/x", false),
        ("//app.example.com/callback", false),
        ("/callback", false),
        ("", false),
    ] {
        assert_eq!(rules.allows(uri), allowed, "{uri:?}");
    }
}

#[test]
fn open_redirect_variants_do_not_match_even_under_a_wide_pattern() {
    // `cb/.*` matches anything under /cb/: only what stays under /cb/ on this host may pass.
    let rules = web_rules(&["https://app\\.example\\.com/cb/.*"]);
    for uri in [
        // `@`: the registered host as user information of another.
        "https://app.example.com@evil.example/cb/x",
        "https://app.example.com%40evil.example/cb/x",
        // Backslashes, which browsers read as `/`: out of the authority, or up the path.
        "https://app.example.com\\evil.example/cb/x",
        "https://app.example.com/cb/..\\..\\elsewhere",
        "https://app.example.com/cb\\x",
        // Dot segments, plain and `%2e`-encoded, which a browser resolves to another path.
        "https://app.example.com/cb/../elsewhere",
        "https://app.example.com/cb/./../elsewhere",
        "https://app.example.com/cb/%2e%2e/elsewhere",
        "https://app.example.com/cb/%2E%2e/elsewhere",
        "https://app.example.com/cb/.%2e/elsewhere",
        "https://app.example.com/cb/%2e",
        // Full-width and ideographic dots, which IDNA maps to `.`.
        "https://app\u{ff0e}example\u{ff0e}com/cb/x",
        "https://app.example.com\u{3002}evil.example/cb/x",
        "https://app.example.com/cb/\u{ff0e}\u{ff0e}/x",
        // Ports: another one, an empty one, a non-numeric one.
        "https://app.example.com:8443/cb/x",
        "https://app.example.com:/cb/x",
        "https://app.example.com:443evil/cb/x",
        // Fragments.
        "https://app.example.com/cb/x#@evil.example",
        "https://app.example.com/cb/x#",
    ] {
        assert!(!rules.allows(uri), "{uri:?}");
    }
    // What stays under /cb/ passes, dots inside a segment and in the query included.
    for uri in [
        "https://app.example.com/cb/x",
        "https://app.example.com/cb/v1.2/x..y",
        "https://app.example.com/cb/x?next=../a\\b",
    ] {
        assert!(rules.allows(uri), "{uri:?}");
    }
}

#[test]
// The one clock read in the domain crate: this test bounds the matcher's running time on a hostile
// pattern, which only the wall clock can measure; no domain rule reads it.
#[allow(clippy::disallowed_methods)]
fn matching_is_linear_even_for_hostile_inputs() {
    let rules = web_rules(&["https://app\\.example\\.com/((a+)+)+b"]);
    let input = format!("https://app.example.com/{}", "a".repeat(1500));
    let started = std::time::Instant::now();
    assert!(!rules.allows(&input));
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
    assert!(rules.allows(&format!("https://app.example.com/{}b", "a".repeat(100))));
}

#[test]
fn default_redirect_uris() {
    for ok in [
        "https://app.example.com/callback",
        "https://localhost:8000/cb",
        "http://localhost:8000/cb",
        "http://127.0.0.1/cb",
        "http://[::1]:9000/cb",
        "https://app.example.com/cb?x=1",
    ] {
        assert!(RedirectUri::parse(ok, Web).is_ok(), "{ok}");
        assert!(RedirectUri::parse(ok, Spa).is_ok(), "{ok}");
    }
    assert_eq!(
        RedirectUri::parse("HTTPS://App.Example.com/Cb", Web).unwrap().as_str(),
        "https://app.example.com/Cb"
    );
    let table: &[(&str, Platform, &str)] = &[
        ("http://app.example.com/cb", Web, "https"),
        ("https://*.example.com/cb", Web, "wildcard"),
        ("https://app.example.com/cb#x", Web, "fragment"),
        ("https://user@app.example.com/cb", Web, "user information"),
        ("https://@app.example.com/cb", Web, "user information"),
        ("/callback", Web, "absolute"),
        ("com.example.app:/cb", Web, "only for native"),
        ("com.example.app:/cb", Spa, "only for native"),
        ("javascript://%0aalert(1)", Native, "cannot receive"),
        ("data:text/html,hi", Native, "cannot receive"),
        ("myapp:callback", Native, "must have a path"),
        ("https://app.example.com/a b", Web, "character"),
        ("https://exämple.com/", Web, "non-ASCII"),
        ("https://0x7f.1/cb", Web, "canonical"),
        ("https:app.example.com/cb", Web, "https://host"),
        ("", Web, "empty"),
    ];
    for (uri, platform, why) in table {
        let e = RedirectUri::parse(uri, *platform).unwrap_err();
        assert_eq!(e.code, "invalid_redirect_uri");
        assert!(e.message.contains(why), "{uri}: expected {why:?} in {}", e.message);
    }
    let long = format!("https://app.example.com/{}", "a".repeat(MAX_REDIRECT_URI_LEN));
    assert!(RedirectUri::parse(&long, Web).unwrap_err().message.contains("longer"));
    assert!(RedirectUri::parse("com.example.app:/cb", Native).is_ok());
}

#[test]
fn native_loopback_redirects_may_use_any_port() {
    let rules = RedirectRules::parse(Native, "http://127.0.0.1/cb", &[]).unwrap();
    assert!(rules.allows("http://127.0.0.1:51234/cb"));
    assert!(rules.allows("http://127.0.0.1/cb"));
    assert!(!rules.allows("http://127.0.0.1:51234/other"));
    assert!(!rules.allows("http://localhost:51234/cb"));
    // Web apps get no such leniency.
    let web = RedirectRules::parse(Web, "http://127.0.0.1/cb", &[]).unwrap();
    assert!(!web.allows("http://127.0.0.1:51234/cb"));
}

#[test]
fn pattern_lists_are_bounded_and_deduplicated() {
    let many: Vec<String> = (0..=MAX_PATTERNS)
        .map(|i| format!("https://example\\.com/{i}"))
        .collect();
    assert_eq!(
        parse_patterns(&many, Web).unwrap_err().code,
        "too_many_redirect_patterns"
    );
    let dup = vec![
        "https://example\\.com/a".to_owned(),
        "https://EXAMPLE\\.com/a".to_owned(),
    ];
    assert_eq!(parse_patterns(&dup, Web).unwrap().len(), 1);
}

#[test]
fn explain_names_the_matching_patterns() {
    let rules = web_rules(&["https://app\\.example\\.com/a/.*", "https://app\\.example\\.com/.*"]);
    assert_eq!(rules.explain("https://app.example.com/a/1").unwrap(), vec![0, 1]);
    assert_eq!(rules.explain("https://app.example.com/b").unwrap(), vec![1]);
    assert!(rules.explain("https://evil.com/").unwrap().is_empty());
    assert_eq!(rules.explain("not a uri").unwrap_err().code, "invalid_redirect_uri");
}
