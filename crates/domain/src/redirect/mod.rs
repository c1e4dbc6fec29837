//! OAuth redirect rules: an integration's default redirect URI ([`RedirectUri`]), its redirect URI
//! patterns ([`RedirectPattern`]) and the check of a presented `redirect_uri` against both
//! ([`RedirectRules::allows`]).
//!
//! The default redirect URI is an absolute URI without wildcards: `https`, or `http` only for the
//! loopback hosts (`localhost`, `127.0.0.1`, `[::1]`), or — for `native` apps only — a private
//! custom scheme (RFC 8252 §7.1). Patterns are regular expressions matched against the whole URI
//! whose scheme and host are literal, so no pattern can match another domain (see [`pattern`]).
//!
//! Scheme and host are case-insensitive (RFC 3986 §6.2.2.1), so they are compared in lower case;
//! everything after the host is compared exactly as given.

mod pattern;
#[cfg(test)]
mod tests;

pub use pattern::{MAX_PATTERN_LEN, RedirectPattern};

use crate::{DomainError, integration::Platform};

/// Longest redirect URI accepted.
pub const MAX_REDIRECT_URI_LEN: usize = 2048;
/// Most redirect patterns on one integration.
pub const MAX_PATTERNS: usize = 20;

/// Hosts for which plain `http` is allowed (development on the developer's own machine).
pub const LOOPBACK_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];

/// Schemes a browser would run or read locally rather than hand to an app.
const FORBIDDEN_SCHEMES: [&str; 9] = [
    "javascript",
    "data",
    "vbscript",
    "file",
    "about",
    "blob",
    "filesystem",
    "view-source",
    "ftp",
];

fn uri_error(uri: &str, why: impl std::fmt::Display) -> DomainError {
    let shown: String = uri.chars().take(100).collect();
    DomainError::new("invalid_redirect_uri", format!("redirect URI {shown:?} {why}"))
}

/// Is `host` (lower case, IPv6 in brackets) one of the loopback hosts?
pub fn is_loopback(host: &str) -> bool {
    LOOPBACK_HOSTS.contains(&host)
}

/// A valid redirect URI, stored with its scheme and host in lower case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RedirectUri {
    value: String,
    /// Byte range of the `:port` in `value`, if any (loopback URIs of native apps ignore it).
    port: Option<std::ops::Range<usize>>,
    loopback_http: bool,
}

impl RedirectUri {
    /// Parses a redirect URI for an OAuth integration of `platform`.
    pub fn parse(s: &str, platform: Platform) -> Result<Self, DomainError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(DomainError::new(
                "invalid_redirect_uri",
                "redirect URI must not be empty",
            ));
        }
        if s.len() > MAX_REDIRECT_URI_LEN {
            return Err(uri_error(
                s,
                format_args!("is longer than {MAX_REDIRECT_URI_LEN} characters"),
            ));
        }
        if let Some(c) = s.chars().find(|c| c.is_whitespace() || c.is_control()) {
            return Err(uri_error(
                s,
                format_args!("contains the character {c:?}; percent-encode it"),
            ));
        }
        if s.contains('*') {
            return Err(uri_error(
                s,
                "contains a wildcard '*'; the default redirect URI is exact (use a redirect URI pattern for variants)",
            ));
        }
        if s.contains('#') {
            return Err(uri_error(s, "must not have a #fragment (RFC 6749 §3.1.2)"));
        }
        if !s.is_ascii() {
            return Err(uri_error(
                s,
                "contains non-ASCII characters; percent-encode them and write international domain names in their xn-- form",
            ));
        }
        let before_query = s.split('?').next().unwrap_or_default();
        if before_query.contains('\\') {
            return Err(uri_error(
                s,
                "contains a backslash, which browsers read as '/'; write the path with '/'",
            ));
        }
        if has_dot_segment(before_query) {
            return Err(uri_error(
                s,
                "has a '.' or '..' path segment (or its %2e form), which would lead elsewhere on the host",
            ));
        }
        let url = url::Url::parse(s).map_err(|e| uri_error(s, format_args!("is not an absolute URI ({e})")))?;
        let scheme = url.scheme().to_owned();
        let Some((raw_scheme, after_scheme)) = s.split_once(':') else {
            return Err(uri_error(s, "is not an absolute URI"));
        };
        let mut value = format!("{scheme}:{after_scheme}");
        let mut port = None;
        let mut loopback_http = false;
        match scheme.as_str() {
            "https" | "http" => {
                if !after_scheme.starts_with("//") {
                    return Err(uri_error(s, format_args!("must be written {scheme}://host/path")));
                }
                let authority_start = raw_scheme.len() + 3;
                let rest = s.get(authority_start..).unwrap_or_default();
                let authority_len = rest.find(['/', '?']).unwrap_or(rest.len());
                let authority = &rest[..authority_len];
                if authority.contains('@') {
                    return Err(uri_error(s, "must not contain user information (user@host)"));
                }
                let (raw_host, raw_port) = split_port(authority);
                let host = raw_host.to_ascii_lowercase();
                let parsed_host = url.host_str().unwrap_or_default();
                if host.is_empty() || host != parsed_host {
                    return Err(uri_error(
                        s,
                        format_args!("must name its host in canonical form (it reads as {parsed_host:?})"),
                    ));
                }
                if let Some(p) = raw_port
                    && (p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
                {
                    return Err(uri_error(s, "has a malformed port"));
                }
                if scheme == "http" {
                    if !is_loopback(&host) {
                        return Err(uri_error(
                            s,
                            "must use https; plain http is allowed only for localhost, 127.0.0.1 and [::1]",
                        ));
                    }
                    loopback_http = true;
                }
                let host_end = authority_start + raw_host.len();
                if let Some(p) = raw_port {
                    port = Some(host_end..host_end + 1 + p.len());
                }
                value.replace_range(authority_start..host_end, &host);
            }
            custom => {
                if FORBIDDEN_SCHEMES.contains(&custom) {
                    return Err(uri_error(
                        s,
                        format_args!("uses the scheme {custom:?}, which cannot receive a redirect"),
                    ));
                }
                if platform != Platform::Native {
                    return Err(uri_error(
                        s,
                        format_args!(
                            "uses the custom scheme {custom:?}; custom schemes are only for native apps, a {} integration needs https",
                            platform.as_str()
                        ),
                    ));
                }
                if url.cannot_be_a_base() {
                    return Err(uri_error(
                        s,
                        format_args!("must have a path, e.g. {custom}:/callback (RFC 8252 §7.1)"),
                    ));
                }
                if !url.username().is_empty() || url.password().is_some() {
                    return Err(uri_error(s, "must not contain user information (user@host)"));
                }
            }
        }
        Ok(Self {
            value,
            port,
            loopback_http,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.value
    }

    /// The URI without its port, for a loopback `http` URI that has one (RFC 8252 §7.3: a native
    /// app's loopback redirect may use any port).
    fn without_port(&self) -> Option<String> {
        let range = self.port.clone().filter(|_| self.loopback_http)?;
        let mut s = self.value.clone();
        s.replace_range(range, "");
        Some(s)
    }
}

impl std::fmt::Display for RedirectUri {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.value)
    }
}

/// Does the part of a URI before its query have a `.` or `..` segment, written plainly or as
/// `%2e` (RFC 3986 §5.2.4: a browser removes them, so `/cb/../elsewhere` under a `/cb/.*` pattern
/// would lead to another path of the host, RFC 9700 §4.1.3)?
fn has_dot_segment(before_query: &str) -> bool {
    let path = before_query.split_once("//").map_or(before_query, |(_, rest)| rest);
    path.split('/').skip(1).any(|segment| {
        let decoded = segment.to_ascii_lowercase().replace("%2e", ".");
        decoded == "." || decoded == ".."
    })
}

/// Splits `host[:port]` (IPv6 hosts in brackets).
fn split_port(authority: &str) -> (&str, Option<&str>) {
    let host_end = if authority.starts_with('[') {
        authority.find(']').map_or(authority.len(), |i| i + 1)
    } else {
        authority.find(':').unwrap_or(authority.len())
    };
    let (host, rest) = authority.split_at(host_end);
    (host, rest.strip_prefix(':'))
}

/// An OAuth integration's redirect settings, ready to judge a presented `redirect_uri`.
#[derive(Debug, Clone)]
pub struct RedirectRules {
    pub platform: Platform,
    pub default: RedirectUri,
    pub patterns: Vec<RedirectPattern>,
}

impl RedirectRules {
    /// Parses stored or submitted settings; every value gets the same checks as on save.
    pub fn parse(platform: Platform, default: &str, patterns: &[String]) -> Result<Self, DomainError> {
        Ok(Self {
            platform,
            default: RedirectUri::parse(default, platform)?,
            patterns: parse_patterns(patterns, platform)?,
        })
    }

    /// May the authorization server redirect to `candidate`? It must itself be a valid redirect
    /// URI for the platform and either equal the default redirect URI or match a pattern in
    /// full. For native apps, a loopback `http` URI matches whatever its port (RFC 8252 §7.3).
    pub fn allows(&self, candidate: &str) -> bool {
        if candidate.trim() != candidate {
            return false;
        }
        let Ok(uri) = RedirectUri::parse(candidate, self.platform) else {
            return false;
        };
        if self.matches(uri.as_str()) {
            return true;
        }
        self.platform == Platform::Native && uri.without_port().is_some_and(|s| self.matches(&s))
    }

    fn matches(&self, s: &str) -> bool {
        let default_matches = s == self.default.as_str()
            || (self.platform == Platform::Native && self.default.without_port().is_some_and(|d| d == s));
        default_matches || self.patterns.iter().any(|p| p.is_match(s))
    }

    /// Which of the patterns match `candidate` (for the console's "test a URL" box): `Err` when
    /// the candidate is not a valid redirect URI at all.
    pub fn explain(&self, candidate: &str) -> Result<Vec<usize>, DomainError> {
        let uri = RedirectUri::parse(candidate, self.platform)?;
        Ok(self
            .patterns
            .iter()
            .enumerate()
            .filter(|(_, p)| p.is_match(uri.as_str()))
            .map(|(i, _)| i)
            .collect())
    }
}

/// Parses a list of patterns: at most [`MAX_PATTERNS`], no duplicates, each valid.
pub fn parse_patterns(patterns: &[String], platform: Platform) -> Result<Vec<RedirectPattern>, DomainError> {
    if patterns.len() > MAX_PATTERNS {
        return Err(DomainError::new(
            "too_many_redirect_patterns",
            format!(
                "at most {MAX_PATTERNS} redirect URI patterns are allowed, {} were given",
                patterns.len()
            ),
        ));
    }
    let mut out: Vec<RedirectPattern> = Vec::with_capacity(patterns.len());
    for p in patterns {
        let parsed = RedirectPattern::parse(p, platform)?;
        if !out.iter().any(|o| o.as_str() == parsed.as_str()) {
            out.push(parsed);
        }
    }
    Ok(out)
}
