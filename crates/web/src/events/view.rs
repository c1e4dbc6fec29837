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

/// One delivery attempt as the API shows it: what was sent (headers with credentials masked,
/// signatures apart, the body as kept) and what came back, so a failed webhook can be debugged
/// from the API as from the console's attempt page.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct AttemptView {
    pub id: i64,
    /// The event's journal position (a cursor of the registration's journal).
    pub position: String,
    /// The event's type (its code) and CloudEvent `id`.
    pub event_type: String,
    pub event_id: String,
    /// RFC 3339.
    pub attempted_at: String,
    /// HTTP status of the answer; absent when no answer came (see `error`).
    pub status_code: Option<u16>,
    pub latency_ms: i64,
    /// What made the attempt.
    #[schema(inline)]
    pub trigger: AttemptTrigger,
    /// Why no acceptable answer came (connection refused, timeout, status …).
    pub error: Option<String>,
    /// The request as sent.
    pub request: SentRequest,
    /// The answer as received (headers with credentials masked; the body's first 4 KB).
    pub response: ReceivedResponse,
    /// The first 4 KB of the answer's body (the same as `response.body`).
    pub response_body: String,
}

/// What made a delivery attempt.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AttemptTrigger {
    /// The dispatcher's first attempt or a retry on its schedule.
    Scheduled,
    /// "Resend" of one event.
    Resend,
    /// "Recover failed since …".
    Recover,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct SentRequest {
    /// Headers as sent, credentials masked; signature headers are in `signatures`.
    pub headers: Vec<Header>,
    pub signatures: Vec<Header>,
    /// The body as sent (bounded).
    pub body: String,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ReceivedResponse {
    pub headers: Vec<Header>,
    pub body: String,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Header {
    pub name: String,
    pub value: String,
}

fn headers(list: impl IntoIterator<Item = (String, String)>) -> Vec<Header> {
    list.into_iter().map(|(name, value)| Header { name, value }).collect()
}

pub fn attempt(a: &Attempt, registration_id: &str) -> AttemptView {
    let (signatures, sent): (Vec<_>, Vec<_>) = a
        .request_headers
        .iter()
        .cloned()
        .partition(|(name, _)| gatehouse_domain::events::debug::is_signature(name));
    AttemptView {
        id: a.id,
        position: gatehouse_domain::events::journal::cursor(registration_id, a.event_position),
        event_type: a.event_code.clone(),
        event_id: a.event_id.clone(),
        attempted_at: format_time(a.attempted_at),
        status_code: a.status_code,
        latency_ms: a.latency_ms,
        trigger: match a.trigger.as_str() {
            "resend" => AttemptTrigger::Resend,
            "recover" => AttemptTrigger::Recover,
            _ => AttemptTrigger::Scheduled,
        },
        error: a.error.clone(),
        request: SentRequest {
            headers: headers(sent),
            signatures: headers(signatures),
            body: a.request_body.clone(),
        },
        response: ReceivedResponse {
            headers: headers(a.response_headers.clone()),
            body: a.response_body.clone(),
        },
        response_body: a.response_body.clone(),
    }
}
