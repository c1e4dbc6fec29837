//! Recovery and visibility: resend one event to one registration, queue every failed (or
//! skipped) delivery since an instant again, send a test event, and the attempt logs per
//! registration (filtered by outcome and event type), per event, and one attempt in full.

use axum::{
    Router,
    extract::{Path, State},
    http::StatusCode,
    routing::{get, post},
};
use gatehouse_core::events::service;
use gatehouse_store::{AttemptFilter, EventStore};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::{
    ApiError, AppState,
    events::{auth::Caller, view},
    extract::{ApiJson, ApiPath, ApiQuery},
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

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct AttemptQuery {
    /// Attempts older than this attempt ID (the previous page's `next_before`).
    before: Option<i64>,
    /// At most this many attempts (1–500, default 50).
    limit: Option<i64>,
    /// Only the attempts that succeeded (`succeeded`) or failed (`failed`).
    #[param(inline)]
    outcome: Option<Outcome>,
    /// Only the attempts at events of this type.
    event_type: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Outcome {
    Succeeded,
    Failed,
}

/// A page of attempts, newest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct AttemptPage {
    data: Vec<view::AttemptView>,
    /// Pass as `before` for the next page; absent on the last one.
    next_before: Option<i64>,
}

/// The registration's recent delivery attempts, newest first, each with the request as sent and
/// the answer as received.
#[utoipa::path(get, path = "/api/v1/events/registrations/{id}/attempts", tag = "events",
    params(("id" = String, Path, description = "Registration ID"), AttemptQuery),
    responses((status = 200, description = "A page of attempts", body = AttemptPage), (status = 400, description = "Malformed request", body = crate::error::Problem), (status = 401, description = "No valid access token", body = crate::error::Problem), (status = 403, description = "Not the caller's to use or change", body = crate::error::Problem), (status = 404, description = "No such resource, or not visible to the caller", body = crate::error::Problem)))]
pub(crate) async fn attempts(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<AttemptQuery>,
) -> Result<ApiJson<AttemptPage>, ApiError> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::bad_request("invalid_limit", "limit must be 1–500."));
    }
    let filter = AttemptFilter {
        success: q.outcome.map(|o| matches!(o, Outcome::Succeeded)),
        event_code: q.event_type.filter(|t| !t.is_empty()),
    };
    let mut conn = state.store.conn().await?;
    service::owned_registration(&mut conn, &caller, &id).await?;
    let list = conn.attempts_of_registration(&id, q.before, limit, &filter).await?;
    let next_before = (list.len() as i64 == limit)
        .then(|| list.last().map(|a| a.id))
        .flatten();
    Ok(ApiJson(AttemptPage {
        data: list.iter().map(|a| view::attempt(a, &id)).collect(),
        next_before,
    }))
}

/// One delivery attempt in full: the request as sent (signatures apart, credentials masked) and
/// the answer as received.
#[utoipa::path(get, path = "/api/v1/events/registrations/{id}/attempts/{attempt}", tag = "events",
    params(("id" = String, Path, description = "Registration ID"), ("attempt" = i64, Path, description = "Attempt ID")),
    responses((status = 200, description = "The attempt", body = view::AttemptView), (status = 400, description = "Malformed request", body = crate::error::Problem), (status = 401, description = "No valid access token", body = crate::error::Problem), (status = 403, description = "Not the caller's to use or change", body = crate::error::Problem), (status = 404, description = "No such resource, or not visible to the caller", body = crate::error::Problem)))]
pub(crate) async fn attempt(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((id, attempt)): ApiPath<(String, i64)>,
) -> Result<ApiJson<view::AttemptView>, ApiError> {
    let mut conn = state.store.conn().await?;
    service::owned_registration(&mut conn, &caller, &id).await?;
    let Some(a) = conn.attempt_of_registration(&id, attempt).await? else {
        return Err(ApiError::not_found("This registration has no such attempt."));
    };
    Ok(ApiJson(view::attempt(&a, &id)))
}

/// Sends a test event to this registration only (of its first event type, with data saying it is
/// a test); the dispatcher delivers it like any other.
#[utoipa::path(post, path = "/api/v1/events/registrations/{id}/test", tag = "events",
    params(("id" = String, Path, description = "Registration ID")),
    responses((status = 202, description = "Queued: the test event's journal position", body = serde_json::Value), (status = 401, description = "No valid access token", body = crate::error::Problem), (status = 403, description = "Not the caller's to use, or the registration is not active", body = crate::error::Problem), (status = 404, description = "No such resource, or not visible to the caller", body = crate::error::Problem)))]
pub(crate) async fn send_test(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<(StatusCode, ApiJson<Value>), ApiError> {
    let position = service::send_test_event(&state, &caller, &id).await?;
    Ok((
        StatusCode::ACCEPTED,
        ApiJson(json!({ "position": gatehouse_domain::events::journal::cursor(&id, position) })),
    ))
}

/// The delivery attempts of one journal event.
#[utoipa::path(get, path = "/api/v1/events/registrations/{id}/events/{position}/attempts", tag = "events",
    params(("id" = String, Path, description = "Registration ID"), ("position" = String, Path, description = "Journal position")),
    responses((status = 200, description = "The event's delivery state and its attempts", body = EventAttempts), (status = 400, description = "Malformed request", body = crate::error::Problem), (status = 401, description = "No valid access token", body = crate::error::Problem), (status = 403, description = "Not the caller's to use or change", body = crate::error::Problem), (status = 404, description = "No such resource, or not visible to the caller", body = crate::error::Problem)))]
pub(crate) async fn event_attempts(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, cursor)): Path<(String, String)>,
) -> Result<ApiJson<EventAttempts>, ApiError> {
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
    Ok(ApiJson(EventAttempts {
        state: delivery_state.as_str().to_owned(),
        attempts: attempt_count,
        data: list.iter().map(|a| view::attempt(a, &id)).collect(),
    }))
}

/// One event's delivery to one registration.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct EventAttempts {
    /// The delivery's state (`pending`, `delivered`, `failed`, …).
    state: String,
    /// How many attempts were made.
    attempts: i64,
    data: Vec<view::AttemptView>,
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
        .route("/api/v1/events/registrations/{id}/attempts/{attempt}", get(attempt))
        .route("/api/v1/events/registrations/{id}/test", post(send_test))
}
