//! `POST /api/v1/events/publish`: publish CloudEvents 1.0 (structured JSON, or a JSON array in
//! batch mode, `application/cloudevents-batch+json`) as an integration that owns their provider.
//! The answer is `202 Accepted` once the events and their deliveries are stored: from then on
//! delivery is the dispatcher's job. A `source` + `id` published in the last 24 hours is accepted
//! again and reported as a duplicate, not delivered twice.

use gatehouse_core::events::service::{self, EventsService};
use std::sync::Arc;

use axum::{Extension, Router, body::Bytes, extract::State, http::StatusCode, routing::post};
use gatehouse_domain::events::cloudevent::Strictness;
use serde_json::{Value, json};

use crate::{ApiError, AppState, events::auth::Caller, extract::ApiJson};

/// Most events in one batch request.
pub const MAX_BATCH: usize = 100;

/// Publishes a CloudEvent, or a batch of them, of a provider the integration owns.
#[utoipa::path(post, path = "/api/v1/events/publish", tag = "events",
    request_body = serde_json::Value,
    responses((status = 202, description = "Accepted and stored for delivery", body = serde_json::Value), (status = 400, description = "Malformed request", body = crate::error::Problem), (status = 401, description = "No valid access token", body = crate::error::Problem), (status = 403, description = "Not the caller's to use or change", body = crate::error::Problem), (status = 422, description = "Invalid input", body = crate::error::Problem), (status = 503, description = "Busy; try again", body = crate::error::Problem)))]
pub(crate) async fn publish(
    State(state): State<AppState>,
    Extension(svc): Extension<Arc<EventsService>>,
    caller: Caller,
    body: Bytes,
) -> Result<(StatusCode, ApiJson<Value>), ApiError> {
    let value: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request("invalid_json", format!("The body is not JSON: {e}")))?;
    let (items, batch) = match value {
        Value::Array(items) => (items, true),
        single => (vec![single], false),
    };
    if items.is_empty() || items.len() > MAX_BATCH {
        return Err(ApiError::bad_request(
            "invalid_batch",
            format!("A batch holds 1–{MAX_BATCH} events."),
        ));
    }
    let now = state.now();
    let mut conn = state.store.conn().await?;
    let mut events = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let e = service::check_event(&svc, &mut conn, &caller, item, Strictness::Strict, now)
            .await
            .map_err(|e| {
                if batch {
                    ApiError::new(
                        crate::error::status_of(e.kind),
                        e.code,
                        format!("event {i}: {}", e.message),
                    )
                } else {
                    ApiError::from(e)
                }
            })?;
        events.push(e);
    }
    drop(conn);
    let results = service::publish(&state, &events).await?;
    let rendered: Vec<Value> = events
        .iter()
        .zip(&results)
        .map(|(e, r)| {
            json!({
                "id": e.event.id(),
                "source": e.event.source(),
                "duplicate": r.duplicate,
                "deliveries": r.deliveries,
            })
        })
        .collect();
    let body = if batch {
        json!({ "data": rendered })
    } else {
        rendered.into_iter().next().unwrap_or(Value::Null)
    };
    Ok((StatusCode::ACCEPTED, ApiJson(body)))
}

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/events/publish", post(publish))
}
