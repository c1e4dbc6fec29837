//! JSON shapes of the events resources on Gatehouse's own API (the compatible surface has its
//! own, in [`super::adobe`]).

use gatehouse_domain::events::{
    cloudevent::format_time,
    model::{Attempt, EventType, Provider, Registration},
};
use serde_json::{Value, json};

pub fn provider(p: &Provider) -> Value {
    json!({
        "id": p.id,
        "label": p.label,
        "description": p.description,
        "docs_url": p.docs_url,
        "source": p.source(),
        "service_code": p.service_code.as_ref().map(|s| s.as_str()),
        "owner_integration_id": p.owner_integration_id,
        "instance_id": p.instance_id,
        "created_at": format_time(p.created_at),
        "updated_at": format_time(p.updated_at),
    })
}

pub fn event_type(t: &EventType) -> Value {
    json!({
        "provider_id": t.provider_id,
        "event_code": t.event_code.as_str(),
        "label": t.label,
        "description": t.description,
        "sample": t.sample,
        "created_at": format_time(t.created_at),
    })
}

/// Gatehouse's journal path of a registration.
pub fn journal_path(registration_id: &str) -> String {
    format!("/api/v1/events/registrations/{registration_id}/journal")
}

pub fn registration(r: &Registration) -> Value {
    json!({
        "id": r.id,
        "integration_id": r.integration_id,
        "name": r.name,
        "description": r.description,
        "delivery_method": r.delivery_method.as_str(),
        "webhook_url": r.webhook_url,
        "status": r.status.as_str(),
        "status_reason": r.status_reason,
        "unstable_since": r.unstable_since.map(format_time),
        "events_of_interest": r.events_of_interest.iter().map(|e| json!({
            "provider_id": e.provider_id,
            "event_code": e.event_code.as_str(),
        })).collect::<Vec<_>>(),
        "journal_url": journal_path(&r.id),
        "created_at": format_time(r.created_at),
        "updated_at": format_time(r.updated_at),
    })
}

pub fn attempt(a: &Attempt, registration_id: &str) -> Value {
    json!({
        "id": a.id,
        "position": gatehouse_domain::events::journal::cursor(registration_id, a.event_position),
        "attempted_at": format_time(a.attempted_at),
        "status_code": a.status_code,
        "latency_ms": a.latency_ms,
        "response_body": a.response_body,
        "error": a.error,
        "trigger": a.trigger,
    })
}
