//! CloudEvents 1.0 in the JSON format (the CloudEvents spec, §3 of the JSON event format): what a
//! publisher sends and what receivers get. Parsing checks the required context attributes
//! (`specversion` = "1.0", `id`, `source`, `type`), the optional ones (`time` as RFC 3339,
//! `datacontenttype`, `dataschema`, `subject`), extension attribute names (lowercase ASCII letters
//! and digits, at most 20 characters) and values (string, number or boolean). Gatehouse carries
//! JSON data only: `data_base64` and non-JSON content types are refused, as Adobe's ingress does.

use serde_json::{Map, Value};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use super::code::EventCode;
use crate::{DomainError, Timestamp};

/// Largest accepted event, serialized (bytes).
pub const MAX_EVENT_BYTES: usize = 256 * 1024;
/// Longest extension attribute name the spec recommends; Gatehouse enforces it.
pub const MAX_ATTRIBUTE_NAME: usize = 20;

const CORE: &[&str] = &[
    "specversion",
    "id",
    "source",
    "type",
    "time",
    "datacontenttype",
    "dataschema",
    "subject",
    "data",
    "data_base64",
];

fn invalid(message: impl Into<String>) -> DomainError {
    DomainError::new("invalid_cloudevent", message)
}

/// A valid CloudEvent. The attributes are kept as published (plus `time` when it was missing).
#[derive(Debug, Clone, PartialEq)]
pub struct CloudEvent {
    attrs: Map<String, Value>,
    event_type: EventCode,
}

/// How strictly to read `specversion`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strictness {
    /// `specversion` must be present and "1.0" (Gatehouse's own API).
    Strict,
    /// A missing `specversion` means "1.0" (Adobe's ingress accepts events without it, and
    /// Adobe's client publishes such events in its own tests).
    DefaultSpecVersion,
}

impl CloudEvent {
    /// Parses a CloudEvent. `now` fills in `time` when the publisher left it out.
    pub fn parse(value: Value, strictness: Strictness, now: Timestamp) -> Result<Self, DomainError> {
        let Value::Object(mut attrs) = value else {
            return Err(invalid("a CloudEvent must be a JSON object"));
        };
        // JSON format §3.1: null means absent.
        attrs.retain(|_, v| !v.is_null());
        match attrs.get("specversion") {
            Some(Value::String(v)) if v == "1.0" => {}
            Some(other) => return Err(invalid(format!("specversion must be \"1.0\", not {other}"))),
            None if strictness == Strictness::DefaultSpecVersion => {
                attrs.insert("specversion".to_owned(), Value::from("1.0"));
            }
            None => return Err(invalid("the required attribute specversion is missing")),
        }
        let id = required_string(&attrs, "id")?;
        if id.len() > 255 {
            return Err(invalid("id must be at most 255 characters"));
        }
        let source = required_string(&attrs, "source")?;
        if source.len() > 1024 || source.chars().any(char::is_whitespace) {
            return Err(invalid(
                "source must be a URI-reference of at most 1024 characters without spaces",
            ));
        }
        let event_type = EventCode::parse(&required_string(&attrs, "type")?).map_err(|e| {
            DomainError::new(
                "invalid_cloudevent",
                format!("type must be a registered event code: {}", e.message),
            )
        })?;
        match attrs.get("time") {
            None => {
                attrs.insert("time".to_owned(), Value::from(format_time(now)));
            }
            Some(Value::String(t)) if OffsetDateTime::parse(t, &Rfc3339).is_ok() => {}
            Some(other) => return Err(invalid(format!("time must be an RFC 3339 timestamp, not {other}"))),
        }
        match attrs.get("datacontenttype") {
            None => {}
            Some(Value::String(ct)) if is_json_media_type(ct) => {}
            Some(other) => {
                return Err(DomainError::new(
                    "unsupported_data",
                    format!("datacontenttype must be application/json (or another JSON type), not {other}"),
                ));
            }
        }
        if attrs.contains_key("data_base64") {
            return Err(DomainError::new(
                "unsupported_data",
                "data_base64 is not supported; send JSON data in the data attribute",
            ));
        }
        for name in ["dataschema", "subject"] {
            match attrs.get(name) {
                None => {}
                Some(Value::String(s)) if !s.is_empty() => {}
                Some(_) => return Err(invalid(format!("{name} must be a non-empty string"))),
            }
        }
        for (name, value) in &attrs {
            if CORE.contains(&name.as_str()) {
                continue;
            }
            check_extension(name, value)?;
        }
        let size = serde_json::to_vec(&attrs).map(|v| v.len()).unwrap_or(usize::MAX);
        if size > MAX_EVENT_BYTES {
            return Err(DomainError::new(
                "event_too_large",
                format!("the event is {size} bytes; at most {MAX_EVENT_BYTES} are accepted"),
            ));
        }
        Ok(Self { attrs, event_type })
    }

    pub fn id(&self) -> &str {
        self.str_attr("id")
    }

    pub fn source(&self) -> &str {
        self.str_attr("source")
    }

    pub fn event_type(&self) -> &EventCode {
        &self.event_type
    }

    fn str_attr(&self, name: &str) -> &str {
        self.attrs.get(name).and_then(Value::as_str).unwrap_or_default()
    }

    pub fn attributes(&self) -> &Map<String, Value> {
        &self.attrs
    }

    /// Sets an extension attribute (Gatehouse adds `phidata` when asked to, for example).
    pub fn set_extension(&mut self, name: &str, value: Value) {
        self.attrs.insert(name.to_owned(), value);
    }

    pub fn into_value(self) -> Value {
        Value::Object(self.attrs)
    }

    pub fn to_value(&self) -> Value {
        Value::Object(self.attrs.clone())
    }
}

fn required_string(attrs: &Map<String, Value>, name: &str) -> Result<String, DomainError> {
    match attrs.get(name) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        Some(Value::String(_)) => Err(invalid(format!("{name} must not be empty"))),
        Some(other) => Err(invalid(format!("{name} must be a string, not {other}"))),
        None => Err(invalid(format!("the required attribute {name} is missing"))),
    }
}

fn check_extension(name: &str, value: &Value) -> Result<(), DomainError> {
    let name_ok = !name.is_empty()
        && name.len() <= MAX_ATTRIBUTE_NAME
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if !name_ok {
        return Err(invalid(format!(
            "attribute name {name:?} must be 1–{MAX_ATTRIBUTE_NAME} lowercase letters or digits"
        )));
    }
    if !matches!(value, Value::String(_) | Value::Number(_) | Value::Bool(_)) {
        return Err(invalid(format!(
            "extension attribute {name} must be a string, number or boolean"
        )));
    }
    Ok(())
}

/// `application/json`, `text/json` or any `…+json` type, with or without parameters.
pub fn is_json_media_type(ct: &str) -> bool {
    let essence = ct.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json" || essence == "text/json" || essence.ends_with("+json")
}

/// An instant as RFC 3339 in UTC (`2026-01-02T03:04:05Z`).
pub fn format_time(at: Timestamp) -> String {
    OffsetDateTime::from_unix_timestamp(at)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: Timestamp = 1_800_000_000;

    fn good() -> Value {
        json!({
            "specversion": "1.0",
            "type": "com.example.invoice.paid",
            "source": "urn:uuid:6f1c2f0e-8a8e-4b4b-9d0e-2c8f7b0a1d11",
            "id": "evt-1",
            "time": "2026-05-01T12:00:00Z",
            "datacontenttype": "application/json",
            "data": {"amount": 12}
        })
    }

    fn parse(v: Value) -> Result<CloudEvent, DomainError> {
        CloudEvent::parse(v, Strictness::Strict, NOW)
    }

    fn with(key: &str, value: Value) -> Value {
        let mut v = good();
        v[key] = value;
        v
    }

    fn without(key: &str) -> Value {
        let mut v = good();
        v.as_object_mut().unwrap().remove(key);
        v
    }

    #[test]
    fn a_complete_event_parses() {
        let e = parse(good()).unwrap();
        assert_eq!(e.id(), "evt-1");
        assert_eq!(e.event_type().as_str(), "com.example.invoice.paid");
        assert_eq!(e.source(), "urn:uuid:6f1c2f0e-8a8e-4b4b-9d0e-2c8f7b0a1d11");
        assert_eq!(e.to_value(), good());
    }

    #[test]
    fn missing_required_attributes_are_refused() {
        for key in ["specversion", "id", "source", "type"] {
            let e = parse(without(key)).unwrap_err();
            assert_eq!(e.code, "invalid_cloudevent", "{key}");
            assert!(e.message.contains(key), "{key}: {e}");
        }
    }

    #[test]
    fn wrong_values_are_refused() {
        for (key, value) in [
            ("specversion", json!("0.3")),
            ("specversion", json!(1.0)),
            ("id", json!("")),
            ("id", json!(7)),
            ("source", json!("")),
            ("source", json!("has space")),
            ("type", json!("nodots")),
            ("type", json!(["a.b"])),
            ("time", json!("yesterday")),
            ("time", json!(12)),
            ("subject", json!("")),
        ] {
            let e = parse(with(key, value.clone())).unwrap_err();
            assert_eq!(e.code, "invalid_cloudevent", "{key}={value}");
        }
        assert!(parse(json!([good()])).is_err());
        assert!(parse(json!("text")).is_err());
    }

    #[test]
    fn only_json_data_is_carried() {
        let e = parse(with("datacontenttype", json!("text/plain"))).unwrap_err();
        assert_eq!(e.code, "unsupported_data");
        let e = parse(with("data_base64", json!("aGk="))).unwrap_err();
        assert_eq!(e.code, "unsupported_data");
        parse(with(
            "datacontenttype",
            json!("application/vnd.example+json; charset=utf-8"),
        ))
        .unwrap();
        parse(without("datacontenttype")).unwrap();
    }

    #[test]
    fn extension_attributes_follow_the_naming_rules() {
        parse(with("traceparent", json!("00-abc"))).unwrap();
        parse(with("phidata", json!(true))).unwrap();
        parse(with("count2", json!(3))).unwrap();
        for bad in ["Upper", "with_underscore", "dash-ed", "averyveryverylongname1"] {
            let e = parse(with(bad, json!("x"))).unwrap_err();
            assert_eq!(e.code, "invalid_cloudevent", "{bad}");
        }
        let e = parse(with("nested", json!({"a": 1}))).unwrap_err();
        assert!(e.message.contains("nested"), "{e}");
    }

    #[test]
    fn null_means_absent_and_time_defaults_to_now() {
        let e = parse(with("subject", Value::Null)).unwrap();
        assert!(!e.attributes().contains_key("subject"));
        let e = parse(without("time")).unwrap();
        assert_eq!(e.attributes()["time"], json!(format_time(NOW)));
    }

    #[test]
    fn a_missing_specversion_is_tolerated_only_when_asked() {
        let e = CloudEvent::parse(without("specversion"), Strictness::DefaultSpecVersion, NOW).unwrap();
        assert_eq!(e.attributes()["specversion"], json!("1.0"));
        assert!(CloudEvent::parse(with("specversion", json!("2.0")), Strictness::DefaultSpecVersion, NOW).is_err());
    }

    #[test]
    fn oversized_events_are_refused() {
        let e = parse(with("data", json!("x".repeat(MAX_EVENT_BYTES)))).unwrap_err();
        assert_eq!(e.code, "event_too_large");
    }

    #[test]
    fn times_format_as_rfc3339_utc() {
        assert_eq!(format_time(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_time(1_700_000_000), "2023-11-14T22:13:20Z");
    }
}
