//! The journal's rules: opaque cursors, query parameters and retention.
//!
//! A cursor names a position in one registration's journal: `gh1.<position>.<tag>`, where the tag
//! is a digest of the registration ID and the position. A cursor made up, altered, or taken from
//! another registration's journal is refused (`invalid_cursor`) instead of silently reading from
//! somewhere else. Positions are the global event positions, in commit order on both backends.

use sha2::{Digest, Sha256};

use crate::{DomainError, Timestamp};

/// How long events stay in journals by default (7 days).
pub const DEFAULT_RETENTION: i64 = 7 * 86_400;
/// Events per page when `limit` is not given, and the most a page may hold.
pub const DEFAULT_LIMIT: u32 = 100;
pub const MAX_LIMIT: u32 = 1000;
/// Largest page body in bytes; a page stops early rather than exceed it.
pub const MAX_PAGE_BYTES: usize = 1_500_000;
/// What `retry-after` tells a reader at the end of the journal, in seconds.
pub const RETRY_AFTER_AT_END: u32 = 10;

fn tag(registration_id: &str, position: i64) -> String {
    let mut h = Sha256::new();
    h.update(b"gatehouse-journal-cursor\0");
    h.update(registration_id.as_bytes());
    h.update(b"\0");
    h.update(position.to_string().as_bytes());
    hex::encode(&h.finalize()[..8])
}

/// The cursor for `position` in `registration_id`'s journal.
pub fn cursor(registration_id: &str, position: i64) -> String {
    format!("gh1.{position}.{}", tag(registration_id, position))
}

/// Reads a cursor issued for `registration_id`; returns its position.
pub fn parse_cursor(registration_id: &str, s: &str) -> Result<i64, DomainError> {
    let bad = || {
        DomainError::new(
            "invalid_cursor",
            format!("{s:?} is not a position this journal issued; use a position or link from a response"),
        )
    };
    let mut parts = s.split('.');
    let (Some("gh1"), Some(pos), Some(t), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    let position: i64 = pos.parse().map_err(|_| bad())?;
    if position < 0 || t != tag(registration_id, position) {
        return Err(bad());
    }
    Ok(position)
}

/// Where a journal read starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// The oldest retained event.
    Oldest,
    /// Events strictly after this position.
    After(i64),
    /// The end: only a cursor for the next read.
    Latest,
    /// Events published at or after this instant.
    Since(Timestamp),
}

/// A journal request, validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JournalQuery {
    pub start: Start,
    pub limit: u32,
}

/// Reads the query parameters: `since` (a cursor; wins over `latest`, as Adobe's client sends
/// both when it follows a `next` link with `latest=true`), `latest`, `seek` (an ISO-8601 duration
/// relative to `now`, not combinable with `since`) and `limit` (1–1000).
pub fn parse_query(
    registration_id: &str,
    since: Option<&str>,
    latest: Option<&str>,
    seek: Option<&str>,
    limit: Option<&str>,
    now: Timestamp,
) -> Result<JournalQuery, DomainError> {
    let limit = match limit {
        None | Some("") => DEFAULT_LIMIT,
        Some(l) => match l.parse::<u32>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                return Err(DomainError::new(
                    "invalid_limit",
                    format!("limit must be a number from 1 to {MAX_LIMIT}"),
                ));
            }
        },
    };
    let latest = match latest {
        None | Some("") | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(DomainError::new("invalid_latest", "latest must be true or false")),
    };
    let since = since.filter(|s| !s.is_empty());
    let seek = seek.filter(|s| !s.is_empty());
    let start = match (since, seek) {
        (Some(_), Some(_)) => {
            return Err(DomainError::new("invalid_query", "since and seek cannot be combined"));
        }
        (Some(c), None) => Start::After(parse_cursor(registration_id, c)?),
        (None, Some(d)) => Start::Since(now + parse_duration(d)?.min(0)),
        (None, None) if latest => Start::Latest,
        (None, None) => Start::Oldest,
    };
    Ok(JournalQuery { start, limit })
}

/// Parses an ISO-8601 duration with an optional sign (`-PT2H`, `-P1D`, `P1DT30M`, `-P2W`) into
/// seconds. Years and months have no fixed length and are refused.
pub fn parse_duration(s: &str) -> Result<i64, DomainError> {
    let bad = || {
        DomainError::new(
            "invalid_seek",
            format!("{s:?} is not an ISO-8601 duration such as -PT2H or -P1D (weeks, days, hours, minutes, seconds)"),
        )
    };
    let (sign, rest) = match s.strip_prefix('-') {
        Some(r) => (-1, r),
        None => (1, s.strip_prefix('+').unwrap_or(s)),
    };
    let rest = rest.strip_prefix('P').ok_or_else(bad)?;
    if rest.is_empty() {
        return Err(bad());
    }
    let (date, time) = match rest.split_once('T') {
        Some((d, t)) if !t.is_empty() => (d, Some(t)),
        Some(_) => return Err(bad()),
        None => (rest, None),
    };
    let mut total: i64 = 0;
    let mut add = |part: &str, units: &[(char, i64)]| -> Result<(), DomainError> {
        let mut num = String::new();
        let mut last_unit = 0usize;
        for c in part.chars() {
            if c.is_ascii_digit() {
                num.push(c);
                continue;
            }
            let idx = units.iter().position(|(u, _)| *u == c).ok_or_else(bad)?;
            if num.is_empty() || idx < last_unit {
                return Err(bad());
            }
            let n: i64 = num.parse().map_err(|_| bad())?;
            total = total
                .checked_add(n.checked_mul(units[idx].1).ok_or_else(bad)?)
                .ok_or_else(bad)?;
            num.clear();
            last_unit = idx + 1;
        }
        if num.is_empty() { Ok(()) } else { Err(bad()) }
    };
    add(date, &[('W', 7 * 86_400), ('D', 86_400)])?;
    if let Some(t) = time {
        add(t, &[('H', 3600), ('M', 60), ('S', 1)])?;
    }
    Ok(sign * total)
}

/// Is an event published at `created_at` still in the journal at `now`?
pub fn is_retained(created_at: Timestamp, now: Timestamp, retention: i64) -> bool {
    now - created_at < retention
}

#[cfg(test)]
mod tests {
    use super::*;

    const REG: &str = "0d6f8f1e-4b11-4c55-8f0e-aa11bb22cc33";
    const NOW: Timestamp = 1_800_000_000;

    #[test]
    fn cursors_round_trip_for_their_own_journal_only() {
        let c = cursor(REG, 42);
        assert!(c.starts_with("gh1.42."), "{c}");
        assert_eq!(parse_cursor(REG, &c).unwrap(), 42);
        let other = "11111111-2222-4333-8444-555555555555";
        assert_eq!(parse_cursor(other, &c).unwrap_err().code, "invalid_cursor");
        let forged = c.replace("gh1.42.", "gh1.43.");
        assert_eq!(parse_cursor(REG, &forged).unwrap_err().code, "invalid_cursor");
        for junk in [
            "",
            "42",
            "gh1.42",
            "gh1.x.abc",
            "gh2.42.abcd",
            "gh1.-1.00",
            &format!("{c}.x"),
        ] {
            assert!(parse_cursor(REG, junk).is_err(), "{junk:?}");
        }
    }

    #[test]
    fn queries_parse_with_precedence() {
        let c = cursor(REG, 7);
        let q = parse_query(REG, Some(&c), None, None, Some("5"), NOW).unwrap();
        assert_eq!(
            q,
            JournalQuery {
                start: Start::After(7),
                limit: 5
            }
        );
        // since wins over latest (Adobe's client appends latest=true to next links).
        let q = parse_query(REG, Some(&c), Some("true"), None, None, NOW).unwrap();
        assert_eq!(q.start, Start::After(7));
        assert_eq!(q.limit, DEFAULT_LIMIT);
        assert_eq!(
            parse_query(REG, None, Some("true"), None, None, NOW).unwrap().start,
            Start::Latest
        );
        assert_eq!(
            parse_query(REG, None, None, None, None, NOW).unwrap().start,
            Start::Oldest
        );
        assert_eq!(
            parse_query(REG, None, None, Some("-PT2H"), None, NOW).unwrap().start,
            Start::Since(NOW - 7200)
        );
        assert_eq!(
            parse_query(REG, None, None, Some("PT2H"), None, NOW).unwrap().start,
            Start::Since(NOW),
            "the future is now"
        );
    }

    #[test]
    fn bad_queries_are_refused_precisely() {
        let c = cursor(REG, 7);
        let code = |r: Result<JournalQuery, DomainError>| r.unwrap_err().code;
        assert_eq!(
            code(parse_query(REG, Some(&c), None, Some("-P1D"), None, NOW)),
            "invalid_query"
        );
        assert_eq!(
            code(parse_query(REG, None, None, None, Some("0"), NOW)),
            "invalid_limit"
        );
        assert_eq!(
            code(parse_query(REG, None, None, None, Some("1001"), NOW)),
            "invalid_limit"
        );
        assert_eq!(
            code(parse_query(REG, None, None, None, Some("ten"), NOW)),
            "invalid_limit"
        );
        assert_eq!(
            code(parse_query(REG, None, Some("yes"), None, None, NOW)),
            "invalid_latest"
        );
        assert_eq!(
            code(parse_query(REG, Some("bogus"), None, None, None, NOW)),
            "invalid_cursor"
        );
        assert_eq!(
            code(parse_query(REG, None, None, Some("2 hours"), None, NOW)),
            "invalid_seek"
        );
    }

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("-PT2H").unwrap(), -7200);
        assert_eq!(parse_duration("-P1D").unwrap(), -86_400);
        assert_eq!(parse_duration("P1DT30M").unwrap(), 86_400 + 1800);
        assert_eq!(parse_duration("-P2W").unwrap(), -14 * 86_400);
        assert_eq!(parse_duration("PT1H2M3S").unwrap(), 3723);
        assert_eq!(parse_duration("+PT5S").unwrap(), 5);
        for bad in [
            "", "P", "PT", "-", "P1Y", "P1M", "PT1D", "P1H", "PT2M1H", "P-1D", "P1.5D", "2H", "-PTH",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn retention_is_a_sliding_window() {
        assert!(is_retained(NOW - DEFAULT_RETENTION + 1, NOW, DEFAULT_RETENTION));
        assert!(!is_retained(NOW - DEFAULT_RETENTION, NOW, DEFAULT_RETENTION));
    }
}
