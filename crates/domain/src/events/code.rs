//! Event codes: the CloudEvents `type` of an event and the key of its event type, written in
//! reverse-DNS style (`com.example.invoice.paid`, `gatehouse.integration.created`).

use crate::DomainError;

/// Longest event code accepted (the compatible API's limit).
pub const MAX_EVENT_CODE_LEN: usize = 255;

/// A reverse-DNS event code: at least two dot-separated segments, each of ASCII letters, digits,
/// `_` or `-`, 3–255 characters in all. No empty segment, no leading or trailing dot.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EventCode(String);

impl EventCode {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let bad = |why: &str| {
            DomainError::new(
                "invalid_event_code",
                format!("event code {s:?} {why}; use reverse-DNS style such as com.example.invoice.paid"),
            )
        };
        if s.len() < 3 || s.len() > MAX_EVENT_CODE_LEN {
            return Err(bad("must be 3–255 characters"));
        }
        let segments: Vec<&str> = s.split('.').collect();
        if segments.len() < 2 {
            return Err(bad("must have at least two dot-separated parts"));
        }
        if segments.iter().any(|seg| seg.is_empty()) {
            return Err(bad("must not have empty parts (leading, trailing or doubled dots)"));
        }
        let chars_ok = segments
            .iter()
            .all(|seg| seg.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'));
        if !chars_ok {
            return Err(bad("may contain only letters, digits, '_', '-' and '.'"));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for EventCode {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, DomainError> {
        Self::parse(&s)
    }
}

impl From<EventCode> for String {
    fn from(v: EventCode) -> String {
        v.0
    }
}

impl std::fmt::Display for EventCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reverse_dns_codes_parse() {
        for ok in [
            "com.example.invoice.paid",
            "gatehouse.integration.created",
            "com.adobe.events.sdk.event.12345",
            "a.b",
            "io_x.some-thing",
        ] {
            assert_eq!(EventCode::parse(ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn malformed_codes_are_refused() {
        let long = format!("a.{}", "b".repeat(254));
        for bad in [
            "",
            "ab",
            "nodots",
            ".leading.dot",
            "trailing.dot.",
            "double..dot",
            "spa ce.x",
            "slash/x.y",
            "ünï.code",
            "quote\".x",
            long.as_str(),
        ] {
            let e = EventCode::parse(bad).unwrap_err();
            assert_eq!(e.code, "invalid_event_code", "{bad:?}");
        }
    }

    #[test]
    fn serde_goes_through_the_parser() {
        assert!(serde_json::from_str::<EventCode>("\"a.b\"").is_ok());
        assert!(serde_json::from_str::<EventCode>("\"ab\"").is_err());
    }
}
