//! Checks on OAuth redirect settings given in a provisioning file: the same validator the console
//! uses ([`gatehouse_domain::redirect`]), so `apply` and the console refuse exactly the same values.

use gatehouse_domain::{
    integration::Platform,
    redirect::{RedirectPattern, RedirectUri},
};

/// Checks an OAuth integration's default redirect URI; returns it as stored (scheme and host in
/// lower case).
pub fn check_redirect_uri(platform: Platform, uri: &str) -> Result<String, String> {
    RedirectUri::parse(uri, platform)
        .map(|u| u.as_str().to_owned())
        .map_err(|e| e.message)
}

/// Checks one redirect pattern: a regular expression matched against the whole URI, with a
/// literal scheme and host. Returns it as stored.
pub fn check_redirect_pattern(platform: Platform, pattern: &str) -> Result<String, String> {
    RedirectPattern::parse(pattern, platform)
        .map(|p| p.as_str().to_owned())
        .map_err(|e| e.message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_urls_only() {
        assert!(check_redirect_uri(Platform::Web, "https://app.example.com/callback").is_ok());
        assert!(check_redirect_uri(Platform::Native, "com.example.app:/callback").is_ok());
        assert!(check_redirect_uri(Platform::Web, "com.example.app:/callback").is_err());
        assert!(check_redirect_uri(Platform::Web, "http://app.example.com/callback").is_err());
        assert!(check_redirect_uri(Platform::Web, "/callback").is_err());
        assert!(check_redirect_uri(Platform::Web, "https://*.example.com/").is_err());
        assert!(check_redirect_uri(Platform::Web, "https://example.com/#x").is_err());
    }

    #[test]
    fn patterns_must_compile_with_a_literal_host() {
        assert!(check_redirect_pattern(Platform::Web, r"https://app\.example\.com/.*").is_ok());
        assert!(check_redirect_pattern(Platform::Web, "https://(").is_err());
        assert!(check_redirect_pattern(Platform::Web, "https://.*").is_err());
        assert!(check_redirect_pattern(Platform::Web, "https://app.example.com/.*").is_err());
        assert!(check_redirect_pattern(Platform::Web, "").is_err());
    }
}
