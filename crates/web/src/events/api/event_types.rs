//! `/api/v1/events/providers/{id}/event-types`: the event types of a provider (anyone who sees
//! the provider reads them; its owner defines them).

use axum::{
    Router,
    extract::{Path, State},
    http::StatusCode,
    routing::get,
};
use gatehouse_core::events::service;
use gatehouse_store::EventStore;
use serde_json::{Value, json};

use crate::{
    ApiError, AppState,
    events::{auth::Caller, view},
    extract::ApiJson,
};
use gatehouse_core::events::event_types::{EventTypeInput, create, delete, update};

/// The event types of a provider.
#[utoipa::path(get, path = "/api/v1/events/providers/{id}/event-types", tag = "events",
    params(("id" = String, Path, description = "Provider ID")),
    responses((status = 200, description = "The resource", body = serde_json::Value), (status = 401, description = "No valid access token", body = crate::error::Problem), (status = 403, description = "Not the caller's to use or change", body = crate::error::Problem), (status = 404, description = "No such resource, or not visible to the caller", body = crate::error::Problem)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(provider): Path<String>,
) -> Result<ApiJson<Value>, ApiError> {
    let mut conn = state.store.conn().await?;
    service::visible_provider(&mut conn, &caller, &provider).await?;
    let types = conn.event_types_of(&provider).await?;
    Ok(ApiJson(
        json!({ "data": types.iter().map(view::event_type).collect::<Vec<_>>() }),
    ))
}

/// Defines an event type of a provider the integration owns.
#[utoipa::path(post, path = "/api/v1/events/providers/{id}/event-types", tag = "events",
    params(("id" = String, Path, description = "Provider ID")),
    request_body = serde_json::Value,
    responses((status = 201, description = "The event type", body = serde_json::Value), (status = 401, description = "No valid access token", body = crate::error::Problem), (status = 403, description = "Not the caller's to use or change", body = crate::error::Problem), (status = 404, description = "No such resource, or not visible to the caller", body = crate::error::Problem), (status = 409, description = "Conflicts with the current state", body = crate::error::Problem), (status = 422, description = "Invalid input", body = crate::error::Problem)))]
pub(crate) async fn post(
    State(state): State<AppState>,
    caller: Caller,
    Path(provider): Path<String>,
    ApiJson(input): ApiJson<EventTypeInput>,
) -> Result<(StatusCode, ApiJson<Value>), ApiError> {
    let t = create(&state, &caller, &provider, &input).await?;
    Ok((StatusCode::CREATED, ApiJson(view::event_type(&t))))
}

/// One event type.
#[utoipa::path(get, path = "/api/v1/events/providers/{id}/event-types/{code}", tag = "events",
    params(("id" = String, Path, description = "Provider ID"), ("code" = String, Path, description = "Event code")),
    responses((status = 200, description = "The resource", body = serde_json::Value), (status = 401, description = "No valid access token", body = crate::error::Problem), (status = 403, description = "Not the caller's to use or change", body = crate::error::Problem), (status = 404, description = "No such resource, or not visible to the caller", body = crate::error::Problem)))]
pub(crate) async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    Path((provider, code)): Path<(String, String)>,
) -> Result<ApiJson<Value>, ApiError> {
    let mut conn = state.store.conn().await?;
    service::visible_provider(&mut conn, &caller, &provider).await?;
    let t = conn
        .event_type(&provider, &code)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("The provider has no event type {code:?}.")))?;
    Ok(ApiJson(view::event_type(&t)))
}

/// Replaces an event type's label, description and sample.
#[utoipa::path(put, path = "/api/v1/events/providers/{id}/event-types/{code}", tag = "events",
    params(("id" = String, Path, description = "Provider ID"), ("code" = String, Path, description = "Event code")),
    request_body = serde_json::Value,
    responses((status = 200, description = "The resource", body = serde_json::Value), (status = 401, description = "No valid access token", body = crate::error::Problem), (status = 403, description = "Not the caller's to use or change", body = crate::error::Problem), (status = 404, description = "No such resource, or not visible to the caller", body = crate::error::Problem), (status = 422, description = "Invalid input", body = crate::error::Problem)))]
pub(crate) async fn put(
    State(state): State<AppState>,
    caller: Caller,
    Path((provider, code)): Path<(String, String)>,
    ApiJson(input): ApiJson<EventTypeInput>,
) -> Result<ApiJson<Value>, ApiError> {
    Ok(ApiJson(view::event_type(
        &update(&state, &caller, &provider, &code, &input).await?,
    )))
}

/// Deletes an event type.
#[utoipa::path(delete, path = "/api/v1/events/providers/{id}/event-types/{code}", tag = "events",
    params(("id" = String, Path, description = "Provider ID"), ("code" = String, Path, description = "Event code")),
    responses((status = 204, description = "Deleted"), (status = 401, description = "No valid access token", body = crate::error::Problem), (status = 403, description = "Not the caller's to use or change", body = crate::error::Problem), (status = 404, description = "No such resource, or not visible to the caller", body = crate::error::Problem)))]
pub(crate) async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path((provider, code)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    delete(&state, &caller, &provider, Some(&code)).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/events/providers/{id}/event-types", get(list).post(post))
        .route(
            "/api/v1/events/providers/{id}/event-types/{code}",
            get(get_one).put(put).delete(remove),
        )
}
