//! Where to send a browser after sign-in. Only Gatehouse's own paths are accepted — a path that
//! starts with a single `/` — so a crafted link cannot turn the sign-in page into an open
//! redirect to another site (`//evil.example`, `/\evil.example`, `https://…` are all refused).

/// Where to go when no (acceptable) `return_to` was given.
pub const DEFAULT: &str = "/console";

/// The path if it is one of Gatehouse's own, else `None`.
pub fn safe(return_to: &str) -> Option<&str> {
    let ok = return_to.starts_with('/')
        && !return_to.starts_with("//")
        && !return_to.starts_with("/\\")
        && return_to.len() <= 2048
        && !return_to
            .chars()
            .any(|c| c.is_control() || c == '\\' || c.is_whitespace());
    ok.then_some(return_to)
}

/// The path to go to: `return_to` if safe, else [`DEFAULT`].
pub fn or_default(return_to: Option<&str>) -> String {
    return_to.and_then(safe).unwrap_or(DEFAULT).to_owned()
}

/// `/signin?return_to=<path>` (percent-encoded).
pub fn signin_url(return_to: &str) -> String {
    match safe(return_to) {
        Some(p) if p != DEFAULT => format!("/signin?return_to={}", encode(p)),
        _ => "/signin".to_owned(),
    }
}

/// Percent-encodes a query value.
pub fn encode(v: &str) -> String {
    serde_urlencoded::to_string([("v", v)])
        .map(|s| s.trim_start_matches("v=").to_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_own_paths_are_accepted() {
        for good in [
            "/console",
            "/oauth/authorize?client_id=x&state=y",
            "/console/orgs/1%402",
        ] {
            assert_eq!(safe(good), Some(good));
        }
        for bad in [
            "",
            "console",
            "//evil.example/",
            "/\\evil.example",
            "https://evil.example/",
            "/ok\r\nSet-Cookie: x",
            "/a\\b",
            "javascript:alert(1)",
        ] {
            assert_eq!(safe(bad), None, "{bad:?}");
        }
        assert_eq!(or_default(Some("//evil")), "/console");
        assert_eq!(or_default(None), "/console");
    }

    #[test]
    fn every_open_redirect_variant_is_refused_or_stays_on_this_host() {
        // Each of these would leave Gatehouse's host if taken as a Location.
        for bad in [
            // `@`: a scheme-relative or absolute URL with user information.
            "//gatehouse.example@evil.example/",
            "https://gatehouse.example@evil.example/",
            "@evil.example",
            // Backslashes, which browsers read as `/`.
            "\\\\evil.example",
            "/\\/evil.example",
            "\\/evil.example",
            // Tab, newline and other whitespace, which browsers drop from URLs (`/\t/evil`).
            "/\t/evil.example",
            "/\n/evil.example",
            " //evil.example",
            // Ports and full-width or ideographic dots on a scheme-relative host.
            "//evil.example:443/",
            "//evil\u{ff0e}example",
            "//evil\u{3002}example/",
            // Other schemes.
            "javascript://%0aalert(1)",
            "data:text/html,x",
        ] {
            assert_eq!(safe(bad), None, "{bad:?}");
            assert_eq!(or_default(Some(bad)), DEFAULT, "{bad:?}");
        }
        // These are paths of Gatehouse itself: an encoded dot or slash, a full-width dot, an `@`, a
        // port-like colon or a fragment never changes the host a browser goes to.
        for own in [
            "/%2e%2e/%2e%2e/console",
            "/%2f%2fevil.example",
            "/%5cevil.example",
            "/\u{ff0e}\u{ff0e}/console",
            "/@evil.example",
            "/console:443",
            "/console#//evil.example",
        ] {
            assert_eq!(safe(own), Some(own), "{own:?}");
        }
    }

    #[test]
    fn the_signin_url_carries_the_path_encoded() {
        assert_eq!(
            signin_url("/oauth/authorize?a=1&b=2"),
            "/signin?return_to=%2Foauth%2Fauthorize%3Fa%3D1%26b%3D2"
        );
        assert_eq!(signin_url("/console"), "/signin");
        assert_eq!(signin_url("//evil"), "/signin");
    }
}
