//! Recovery and visibility: resend one event to one registration, queue every failed (or
//! skipped) delivery since an instant again, and the attempt logs per registration and per event.

use axum::{
    Router,
    extract::{Path, State},
    http::StatusCode,
    routing::{get, post},
};
use gatehouse_domain::events::journal;
use gatehouse_store::{AuditStore, EventStore};
use serde::Deserialize;
use serde_json::{Value, json};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use crate::{
    ApiError, AppState,
    events::{auth::Caller, service, view},
    extract::{ApiJson, ApiQuery},
};

fn position(registration_id: &str, cursor: &str) -> Result<i64, ApiError> {
    journal::parse_cursor(registration_id, cursor).map_err(|e| ApiError::bad_request(e.code, e.message))
}

async fn resend(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, cursor)): Path<(String, String)>,
) -> Result<(StatusCode, ApiJson<Value>), ApiError> {
    let mut conn = state.store.conn().await?;
    service::owned_registration(&mut conn, &caller, &id).await?;
    let p = position(&id, &cursor)?;
    drop(conn);
    let now = state.now();
    let mut tx = state.store.begin().await?;
    if !tx.resend_delivery(&id, p, now).await? {
        return Err(ApiError::not_found(
            "This registration's journal has no such event (any more).",
        ));
    }
    tx.append_audit(
        &service::audit(
            &caller,
            now,
            "event_delivery.resent",
            format!("event_registration:{id}"),
        )
        .details(json!({"position": cursor})),
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::ACCEPTED, ApiJson(json!({ "queued": 1 }))))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RecoverInput {
    /// RFC 3339 instant: events published at or after it.
    since: String,
}

async fn recover(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<RecoverInput>,
) -> Result<(StatusCode, ApiJson<Value>), ApiError> {
    let since = OffsetDateTime::parse(&input.since, &Rfc3339)
        .map_err(|_| {
            ApiError::unprocessable(
                "invalid_since",
                "since must be an RFC 3339 instant such as 2026-01-02T03:04:05Z.",
            )
        })?
        .unix_timestamp();
    let mut conn = state.store.conn().await?;
    service::owned_registration(&mut conn, &caller, &id).await?;
    drop(conn);
    let now = state.now();
    let mut tx = state.store.begin().await?;
    let n = tx.recover_failed(&id, since, now).await?;
    tx.append_audit(
        &service::audit(
            &caller,
            now,
            "event_delivery.recovered",
            format!("event_registration:{id}"),
        )
        .details(json!({"since": input.since, "queued": n})),
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::ACCEPTED, ApiJson(json!({ "queued": n }))))
}

#[derive(Debug, Deserialize)]
struct Page {
    before: Option<i64>,
    limit: Option<i64>,
}

async fn attempts(
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
    let list = conn.attempts_of_registration(&id, page.before, limit).await?;
    let next = (list.len() as i64 == limit)
        .then(|| list.last().map(|a| a.id))
        .flatten();
    Ok(ApiJson(json!({
        "data": list.iter().map(|a| view::attempt(a, &id)).collect::<Vec<_>>(),
        "next_before": next,
    })))
}

async fn event_attempts(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, cursor)): Path<(String, String)>,
) -> Result<ApiJson<Value>, ApiError> {
    let mut conn = state.store.conn().await?;
    service::owned_registration(&mut conn, &caller, &id).await?;
    let p = position(&id, &cursor)?;
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
