//! CloudEvents 1.0 in the JSON format, single and batch: `CloudEvent::parse` in both
//! strictnesses (`Strict` for `/api/v1/events/publish`, `DefaultSpecVersion` for Adobe's
//! `/events/ingress`), on a body read as the publish endpoint reads it (a JSON array is a batch
//! of 1–100 events, anything else one event).
//!
//! Invariants: an accepted event has its required attributes, stays within the size limit, and
//! parses again to the same event from its own JSON (parse → serialize → parse is stable).
#![no_main]

use gatehouse_domain::events::cloudevent::{CloudEvent, MAX_EVENT_BYTES, Strictness};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// The batch limit of `POST /api/v1/events/publish` (`gatehouse_web::events::api::publish::MAX_BATCH`).
const MAX_BATCH: usize = 100;
const NOW: i64 = 1_900_000_000;

fn check(value: Value, strictness: Strictness) {
    let Ok(event) = CloudEvent::parse(value, strictness, NOW) else {
        return;
    };
    assert!(!event.id().is_empty() && event.id().len() <= 255);
    assert!(!event.source().is_empty());
    let attrs = event.attributes();
    assert_eq!(attrs.get("specversion").and_then(Value::as_str), Some("1.0"));
    assert!(attrs.get("time").is_some_and(Value::is_string), "time is filled in");
    assert!(!attrs.contains_key("data_base64"));
    assert!(attrs.values().all(|v| !v.is_null()));
    let bytes = serde_json::to_vec(attrs).expect("attributes serialize");
    assert!(bytes.len() <= MAX_EVENT_BYTES);
    // What receivers get is itself a valid event, and the same one, in either strictness.
    let again = CloudEvent::parse(event.to_value(), Strictness::Strict, NOW + 3600).expect("re-parse");
    assert_eq!(again, event);
    let reread: Value = serde_json::from_slice(&bytes).expect("serialized event is JSON");
    let Ok(reparsed) = CloudEvent::parse(reread, Strictness::Strict, NOW) else {
        panic!("an accepted event does not parse back from its own JSON");
    };
    assert_eq!(reparsed.id(), event.id());
    assert_eq!(reparsed.event_type(), event.event_type());
}

fuzz_target!(|data: &[u8]| {
    let Some((&strict, body)) = data.split_first() else {
        return;
    };
    let strictness = if strict & 1 == 0 {
        Strictness::Strict
    } else {
        Strictness::DefaultSpecVersion
    };
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return;
    };
    match value {
        Value::Array(items) if !items.is_empty() && items.len() <= MAX_BATCH => {
            for item in items {
                check(item, strictness);
            }
        }
        Value::Array(_) => {}
        single => check(single, strictness),
    }
});
