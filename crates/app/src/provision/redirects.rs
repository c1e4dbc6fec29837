//! Checks on OAuth redirect settings given in a provisioning file.
//!
//! This is the minimal check `apply` needs today: the default redirect URI is an absolute URL
//! without wildcards, and each pattern compiles as a whole-URI regular expression with the
//! linear-time `regex` crate. The console's full validator (https only, loopback and custom-scheme
//! exceptions, literal scheme and host in patterns) plugs in here: replace the bodies of
//! [`check_redirect_uri`] and [`check_redirect_pattern`] with calls to it, so `apply` and the
//! console refuse exactly the same values.

use gatehouse_domain::integration::Platform;

/// Longest default redirect URI accepted.
pub const MAX_REDIRECT_URI: usize = 2048;
/// Longest single redirect pattern accepted.
pub const MAX_PATTERN: usize = 512;

/// Checks an OAuth integration's default redirect URI.
pub fn check_redirect_uri(_platform: Platform, uri: &str) -> Result<String, String> {
    if uri.len() > MAX_REDIRECT_URI {
        return Err(format!("redirect URI is longer than {MAX_REDIRECT_URI} characters"));
    }
    if uri.contains('*') {
        return Err(format!(
            "redirect URI {uri:?} contains a wildcard; put wildcards in redirect_patterns"
        ));
    }
    match url::Url::parse(uri) {
        Ok(u) if u.cannot_be_a_base() => Err(format!("redirect URI {uri:?} is not a hierarchical URL")),
        Ok(u) if u.fragment().is_some() => Err(format!("redirect URI {uri:?} must not have a #fragment")),
        Ok(_) => Ok(uri.to_owned()),
        Err(e) => Err(format!("redirect URI {uri:?} is not an absolute URL ({e})")),
    }
}

/// Checks one redirect URI pattern: a regular expression matched against the whole URI.
pub fn check_redirect_pattern(pattern: &str) -> Result<String, String> {
    if pattern.is_empty() || pattern.len() > MAX_PATTERN {
        return Err(format!("a redirect pattern must be 1–{MAX_PATTERN} characters"));
    }
    regex::RegexBuilder::new(&format!("^(?:{pattern})$"))
        .size_limit(1 << 20)
        .build()
        .map(|_| pattern.to_owned())
        .map_err(|e| format!("redirect pattern {pattern:?} is not a valid regular expression: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_urls_only() {
        assert!(check_redirect_uri(Platform::Web, "https://app.example.com/callback").is_ok());
        assert!(check_redirect_uri(Platform::Native, "com.example.app:/callback").is_ok());
        assert!(check_redirect_uri(Platform::Web, "/callback").is_err());
        assert!(check_redirect_uri(Platform::Web, "https://*.example.com/").is_err());
        assert!(check_redirect_uri(Platform::Web, "https://example.com/#x").is_err());
    }

    #[test]
    fn patterns_must_compile() {
        assert!(check_redirect_pattern(r"https://app\.example\.com/.*").is_ok());
        assert!(check_redirect_pattern("https://(").is_err());
        assert!(check_redirect_pattern("").is_err());
    }
}
