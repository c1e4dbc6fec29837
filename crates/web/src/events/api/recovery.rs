//! Recovery and visibility: resend one event to one registration, queue every failed (or
//! skipped) delivery since an instant again, and the attempt logs per registration and per event.

use axum::{
    Router,
    extract::{Path, State},
    http::StatusCode,
    routing::{get, post},
};
use gatehouse_core::events::service;
use gatehouse_store::EventStore;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{
    ApiError, AppState,
    events::{auth::Caller, view},
    extract::{ApiJson, ApiQuery},
};

/// Delivers one journal event again.
#[utoipa::path(post, path = "/api/v1/events/registrations/{id}/events/{position}/resend", tag = "events",
    params(("id" = String, Path, description = "Registration ID"), ("position" = String, Path, description = "Journal position")),
    responses((status = 202, description = "Queued"), (status = 400, description = "Malformed request", body = crate::error::Problem), (status = 401, description = "No valid access token", body = crate::error::Problem), (status = 403, description = "Not the caller's to use or change", body = crate::error::Problem), (status = 404, description = "No such resource, or not visible to the caller", body = crate::error::Problem)))]
pub(crate) async fn resend(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, cursor)): Path<(String, String)>,
) -> Result<(StatusCode, ApiJson<Value>), ApiError> {
    service::resend_event(&state, &caller, &id, &cursor).await?;
    Ok((StatusCode::ACCEPTED, ApiJson(json!({ "queued": 1 }))))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RecoverInput {
    /// RFC 3339 instant: events published at or after it.
    since: String,
}

/// Queues again every delivery that failed since an instant.
#[utoipa::path(post, path = "/api/v1/events/registrations/{id}/recover", tag = "events",
    params(("id" = String, Path, description = "Registration ID")),
    request_body = serde_json::Value,
    responses((status = 200, description = "How many were queued", body = serde_json::Value), (status = 401, description = "No valid access token", body = crate::error::Problem), (status = 403, description = "Not the caller's to use or change", body = crate::error::Problem), (status = 404, description = "No such resource, or not visible to the caller", body = crate::error::Problem), (status = 422, description = "Invalid input", body = crate::error::Problem)))]
pub(crate) async fn recover(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<RecoverInput>,
) -> Result<(StatusCode, ApiJson<Value>), ApiError> {
    let n = service::recover_failed(&state, &caller, &id, &input.since).await?;
    Ok((StatusCode::ACCEPTED, ApiJson(json!({ "queued": n }))))
}

#[derive(Debug, Deserialize)]
pub(crate) struct Page {
    before: Option<i64>,
    limit: Option<i64>,
}

/// The registration's recent delivery attempts.
#[utoipa::path(get, path = "/api/v1/events/registrations/{id}/attempts", tag = "events",
    params(("id" = String, Path, description = "Registration ID")),
    responses((status = 200, description = "The resource", body = serde_json::Value), (status = 400, description = "Malformed request", body = crate::error::Problem), (status = 401, description = "No valid access token", body = crate::error::Problem), (status = 403, description = "Not the caller's to use or change", body = crate::error::Problem), (status = 404, description = "No such resource, or not visible to the caller", body = crate::error::Problem)))]
pub(crate) async fn attempts(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(page): ApiQuery<Page>,
) -> Result<ApiJson<Value>, ApiError> {
    let limit = page.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::bad_request("invalid_limit", "limit must be 1–500."));
    }
    let mut conn = state.store.conn().await?;
    service::owned_registration(&mut conn, &caller, &id).await?;
    let list = conn
        .attempts_of_registration(&id, page.before, limit, &Default::default())
        .await?;
    let next = (list.len() as i64 == limit)
        .then(|| list.last().map(|a| a.id))
        .flatten();
    Ok(ApiJson(json!({
        "data": list.iter().map(|a| view::attempt(a, &id)).collect::<Vec<_>>(),
        "next_before": next,
    })))
}

/// The delivery attempts of one journal event.
#[utoipa::path(get, path = "/api/v1/events/registrations/{id}/events/{position}/attempts", tag = "events",
    params(("id" = String, Path, description = "Registration ID"), ("position" = String, Path, description = "Journal position")),
    responses((status = 200, description = "The resource", body = serde_json::Value), (status = 400, description = "Malformed request", body = crate::error::Problem), (status = 401, description = "No valid access token", body = crate::error::Problem), (status = 403, description = "Not the caller's to use or change", body = crate::error::Problem), (status = 404, description = "No such resource, or not visible to the caller", body = crate::error::Problem)))]
pub(crate) async fn event_attempts(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, cursor)): Path<(String, String)>,
) -> Result<ApiJson<Value>, ApiError> {
    let mut conn = state.store.conn().await?;
    service::owned_registration(&mut conn, &caller, &id).await?;
    let p = service::position(&id, &cursor)?;
    let state_now = conn.delivery_state(&id, p).await?;
    let Some((delivery_state, attempt_count)) = state_now else {
        return Err(ApiError::not_found(
            "This registration's journal has no such event (any more).",
        ));
    };
    let list = conn.attempts_of_event(&id, p).await?;
    Ok(ApiJson(json!({
        "state": delivery_state.as_str(),
        "attempts": attempt_count,
        "data": list.iter().map(|a| view::attempt(a, &id)).collect::<Vec<_>>(),
    })))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/events/registrations/{id}/events/{position}/resend",
            post(resend),
        )
        .route(
            "/api/v1/events/registrations/{id}/events/{position}/attempts",
            get(event_attempts),
        )
        .route("/api/v1/events/registrations/{id}/recover", post(recover))
        .route("/api/v1/events/registrations/{id}/attempts", get(attempts))
}
