//! Redirect URI patterns: regular expressions matched against the whole URI, with a literal
//! scheme and host.
//!
//! A pattern is compiled as `^(?:pattern)$` with the `regex` crate, whose matching time is linear
//! in the input whatever the pattern (no backtracking, so `(a+)+` is harmless), under size limits.
//! Before that, the pattern's beginning must spell out `scheme://host[:port]` literally — dots
//! escaped, no wildcard, class, group or alternative in the scheme, host or port — followed by a
//! literal `/` or the end of the pattern. The parsed expression is then checked to begin with that
//! literal text in every alternative, so a top-level `|` cannot smuggle in a second host.
//! Wildcards are therefore possible only in the path, query and beyond: no pattern can match a URI
//! on another domain, another port, or with user information.

use regex_syntax::hir::{Hir, HirKind};

use crate::{DomainError, integration::Platform};

use super::{FORBIDDEN_SCHEMES, is_loopback};

/// Longest pattern accepted, in bytes.
pub const MAX_PATTERN_LEN: usize = 512;
/// Compiled size limit of one pattern, in bytes (a generous path pattern needs a few KB).
const COMPILED_SIZE_LIMIT: usize = 256 * 1024;
/// Deepest nesting of groups and repetitions.
const NEST_LIMIT: u32 = 16;

/// A validated redirect URI pattern, stored with its scheme and host in lower case.
#[derive(Debug, Clone)]
pub struct RedirectPattern {
    source: String,
    regex: regex::Regex,
}

impl PartialEq for RedirectPattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for RedirectPattern {}

fn bad(pattern: &str, why: impl std::fmt::Display) -> DomainError {
    let shown: String = pattern.chars().take(100).collect();
    DomainError::new(
        "invalid_redirect_pattern",
        format!("redirect URI pattern {shown:?} {why}"),
    )
}

impl RedirectPattern {
    /// Parses and compiles a pattern for an OAuth integration of `platform`.
    pub fn parse(s: &str, platform: Platform) -> Result<Self, DomainError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(DomainError::new(
                "invalid_redirect_pattern",
                "a redirect URI pattern must not be empty",
            ));
        }
        if s.len() > MAX_PATTERN_LEN {
            return Err(bad(s, format_args!("is longer than {MAX_PATTERN_LEN} characters")));
        }
        if let Some(c) = s.chars().find(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad(
                s,
                format_args!("contains the character {c:?}; write \\s or %20 if you mean it"),
            ));
        }
        if s.starts_with('^') {
            return Err(bad(
                s,
                "starts with '^': patterns are matched against the whole URI already, so remove it",
            ));
        }
        let prefix = Prefix::parse(s, platform)?;
        let source = format!("{}{}", prefix.regex_text, &s[prefix.consumed..]);
        let hir = regex_syntax::ParserBuilder::new()
            .nest_limit(NEST_LIMIT)
            .build()
            .parse(&source)
            .map_err(|e| {
                bad(
                    s,
                    format_args!("is not a valid regular expression: {}", syntax_reason(&e)),
                )
            })?;
        check_literal_start(s, &hir, &prefix)?;
        let regex = regex::RegexBuilder::new(&format!("^(?:{source})$"))
            .size_limit(COMPILED_SIZE_LIMIT)
            .dfa_size_limit(COMPILED_SIZE_LIMIT)
            .nest_limit(NEST_LIMIT)
            .build()
            .map_err(|e| match e {
                regex::Error::CompiledTooBig(_) => bad(
                    s,
                    "is too complex: its compiled form exceeds the size limit; use fewer or smaller repetitions",
                ),
                other => bad(s, format_args!("is not a valid regular expression: {other}")),
            })?;
        Ok(Self { source, regex })
    }

    /// The pattern as stored (scheme and host in lower case).
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Does the pattern match the whole of `uri`? `uri` should be a parsed
    /// [`super::RedirectUri`]'s text (scheme and host in lower case).
    pub fn is_match(&self, uri: &str) -> bool {
        self.regex.is_match(uri)
    }
}

impl std::fmt::Display for RedirectPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.source)
    }
}

/// The short reason of a syntax error, without the multi-line caret diagram.
fn syntax_reason(e: &regex_syntax::Error) -> String {
    match e {
        regex_syntax::Error::Parse(e) => e.kind().to_string(),
        regex_syntax::Error::Translate(e) => e.kind().to_string(),
        other => other.to_string().lines().last().unwrap_or_default().to_owned(),
    }
}

/// The literal beginning of a pattern: `scheme://host[:port]` or, for a custom scheme, `scheme:`.
#[derive(Debug)]
struct Prefix {
    /// The literal text the pattern must begin with (unescaped, lower case).
    literal: String,
    /// That text as a regular expression (escaped), replacing the pattern's own spelling of it.
    regex_text: String,
    /// How many bytes of the pattern the prefix took.
    consumed: usize,
    /// Whether a `/` must follow the literal (hierarchical http/https patterns).
    needs_slash: bool,
}

/// Characters with a special meaning in a regular expression.
fn is_meta(c: char) -> bool {
    matches!(
        c,
        '.' | '*' | '+' | '?' | '(' | ')' | '[' | ']' | '{' | '}' | '|' | '^' | '$' | '\\'
    )
}

/// A cursor over the pattern's text.
struct Cursor<'a> {
    s: &'a str,
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<char> {
        self.s[self.pos..].chars().next()
    }

    fn peek2(&self) -> Option<char> {
        self.s[self.pos..].chars().nth(1)
    }

    fn bump(&mut self) {
        if let Some(c) = self.peek() {
            self.pos += c.len_utf8();
        }
    }

    /// Consumes a literal `/`, written `/` or `\/`.
    fn slash(&mut self) -> bool {
        match (self.peek(), self.peek2()) {
            (Some('/'), _) => {
                self.bump();
                true
            }
            (Some('\\'), Some('/')) => {
                self.pos += 2;
                true
            }
            _ => false,
        }
    }
}

impl Prefix {
    fn parse(s: &str, platform: Platform) -> Result<Self, DomainError> {
        let mut cur = Cursor { s, pos: 0 };
        let scheme = parse_scheme(s, &mut cur)?;
        if scheme != "http" && scheme != "https" {
            if FORBIDDEN_SCHEMES.contains(&scheme.as_str()) {
                return Err(bad(
                    s,
                    format_args!("uses the scheme {scheme:?}, which cannot receive a redirect"),
                ));
            }
            if platform != Platform::Native {
                return Err(bad(
                    s,
                    format_args!(
                        "uses the custom scheme {scheme:?}; custom schemes are only for native apps, a {} integration's \
                         patterns must start with https://",
                        platform.as_str()
                    ),
                ));
            }
            let literal = format!("{scheme}:");
            return Ok(Self {
                regex_text: regex_syntax::escape(&literal),
                literal,
                consumed: cur.pos,
                needs_slash: false,
            });
        }
        if !(cur.slash() && cur.slash()) {
            return Err(bad(s, format_args!("must start with {scheme}:// followed by the host")));
        }
        let host = parse_host(s, &mut cur)?;
        let port = parse_port(s, &mut cur)?;
        let at_end = cur.pos == s.len();
        let port_text = port.map(|p| format!(":{p}")).unwrap_or_default();
        if !at_end && !matches!((cur.peek(), cur.peek2()), (Some('/'), _) | (Some('\\'), Some('/'))) {
            let next = cur.peek().unwrap_or_default();
            let why = if next == '@' {
                "must not contain user information (user@host)".to_owned()
            } else {
                format!(
                    "must continue with a literal '/' right after {scheme}://{host}{port_text} (found {next:?}); \
                     wildcards are allowed only in the path"
                )
            };
            return Err(bad(s, why));
        }
        if scheme == "http" && !is_loopback(&host) {
            return Err(bad(
                s,
                "must use https; plain http is allowed only for localhost, 127.0.0.1 and [::1]",
            ));
        }
        let literal = format!("{scheme}://{host}{port_text}");
        Ok(Self {
            regex_text: regex_syntax::escape(&literal),
            literal,
            consumed: cur.pos,
            needs_slash: true,
        })
    }
}

fn parse_scheme(s: &str, cur: &mut Cursor<'_>) -> Result<String, DomainError> {
    let mut scheme = String::new();
    loop {
        match cur.peek() {
            Some(c) if c.is_ascii_alphanumeric() || c == '+' || c == '-' => {
                scheme.push(c.to_ascii_lowercase());
                cur.bump();
            }
            Some('\\') if matches!(cur.peek2(), Some('.' | '-' | '+')) => {
                cur.bump();
                if let Some(c) = cur.peek() {
                    scheme.push(c);
                }
                cur.bump();
            }
            Some('.') if !scheme.is_empty() && !matches!(cur.peek2(), Some('*' | '+' | '?' | '{')) => {
                return Err(bad(
                    s,
                    "has an unescaped '.' in its scheme: write \\. (an unescaped dot matches any character)",
                ));
            }
            Some(':') => {
                cur.bump();
                break;
            }
            _ => {
                return Err(bad(
                    s,
                    "must start with a literal scheme, e.g. https://app\\.example\\.com/callback",
                ));
            }
        }
    }
    if !scheme.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Err(bad(
            s,
            "must start with a literal scheme, e.g. https://app\\.example\\.com/callback",
        ));
    }
    Ok(scheme)
}

fn wildcard_in_host(s: &str) -> DomainError {
    bad(
        s,
        "has a wildcard or other regular-expression syntax in its host; the host must be literal (for example \
         app\\.example\\.com) so the pattern cannot match another domain — wildcards are allowed only in the path",
    )
}

fn parse_host(s: &str, cur: &mut Cursor<'_>) -> Result<String, DomainError> {
    let mut host = String::new();
    if cur.peek() == Some('\\') && cur.peek2() == Some('[') {
        cur.pos += 2;
        host.push('[');
        loop {
            match (cur.peek(), cur.peek2()) {
                (Some('\\'), Some(']')) => {
                    cur.pos += 2;
                    host.push(']');
                    break;
                }
                (Some(c), _) if c.is_ascii_hexdigit() || c == ':' => {
                    host.push(c.to_ascii_lowercase());
                    cur.bump();
                }
                (Some('\\'), Some('.')) => {
                    cur.pos += 2;
                    host.push('.');
                }
                _ => {
                    return Err(bad(
                        s,
                        "has a malformed IPv6 host: write it literally with escaped brackets, e.g. http://\\[::1\\]:8080/",
                    ));
                }
            }
        }
        return Ok(host);
    }
    loop {
        match (cur.peek(), cur.peek2()) {
            (Some(c), _) if c.is_ascii_alphanumeric() || c == '-' => {
                host.push(c.to_ascii_lowercase());
                cur.bump();
            }
            (Some('\\'), Some(c @ ('.' | '-'))) => {
                host.push(c);
                cur.pos += 2;
            }
            (Some('\\'), Some('/')) | (Some('/' | ':'), _) | (None, _) => break,
            (Some('.'), Some('*' | '+' | '?' | '{')) => return Err(wildcard_in_host(s)),
            (Some('.'), _) => {
                return Err(bad(
                    s,
                    "has an unescaped '.' in its host: escape every dot, e.g. app\\.example\\.com (an unescaped dot \
                     matches any character, so app.example.com would also match appXexample.com)",
                ));
            }
            (Some('@'), _) => {
                return Err(bad(s, "must not contain user information (user@host)"));
            }
            (Some(c), _) if is_meta(c) => return Err(wildcard_in_host(s)),
            (Some(c), _) => {
                return Err(bad(
                    s,
                    format_args!(
                        "has the character {c:?} in its host; write the host literally in ASCII (xn-- form for international names)"
                    ),
                ));
            }
        }
    }
    if host.is_empty() {
        return Err(bad(s, "has no host after the scheme"));
    }
    if host.split('.').any(|l| l.is_empty() || l.len() > 63) {
        return Err(bad(
            s,
            format_args!("has a malformed host {host:?} (empty or overlong label)"),
        ));
    }
    Ok(host)
}

fn parse_port(s: &str, cur: &mut Cursor<'_>) -> Result<Option<u16>, DomainError> {
    if cur.peek() != Some(':') {
        return Ok(None);
    }
    cur.bump();
    let start = cur.pos;
    while cur.peek().is_some_and(|c| c.is_ascii_digit()) {
        cur.bump();
    }
    let digits = &s[start..cur.pos];
    if digits.is_empty() {
        return Err(bad(
            s,
            "has a port that is not literal digits; the port must be written out (no wildcards), e.g. :8443",
        ));
    }
    match digits.parse::<u16>() {
        Ok(p) if p > 0 => Ok(Some(p)),
        _ => Err(bad(s, format_args!("has a port {digits} outside 1–65535"))),
    }
}

/// Every match must begin with the literal prefix: the parsed expression is a literal, or a
/// concatenation that starts with one, and that literal begins with the prefix (and its `/`).
fn check_literal_start(s: &str, hir: &Hir, prefix: &Prefix) -> Result<(), DomainError> {
    let (lit, whole): (&[u8], bool) = match hir.kind() {
        HirKind::Literal(l) => (&l.0, true),
        HirKind::Concat(subs) => match subs.first().map(Hir::kind) {
            Some(HirKind::Literal(l)) => (&l.0, false),
            _ => (&[], false),
        },
        _ => (&[], false),
    };
    let p = prefix.literal.as_bytes();
    let ok = if prefix.needs_slash {
        (whole && lit == p) || (lit.starts_with(p) && lit.get(p.len()) == Some(&b'/'))
    } else {
        lit.starts_with(p)
    };
    if ok {
        return Ok(());
    }
    if matches!(hir.kind(), HirKind::Alternation(_)) {
        return Err(bad(
            s,
            "has a top-level '|', so its other alternatives could match any host; write one pattern per host, or \
             put the alternatives in a group after the '/', e.g. https://app\\.example\\.com/(a|b)",
        ));
    }
    Err(bad(
        s,
        format_args!(
            "must begin with exactly {}/ — the '/' after the host may not be optional or repeated",
            prefix.literal
        ),
    ))
}
