//! `/api/v1/events/providers`: the providers the caller can see; custom providers it owns.

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
use gatehouse_core::events::providers::{ProviderInput, create, delete, update};

/// The event providers the integration can see.
#[utoipa::path(get, path = "/api/v1/events/providers", tag = "events",
    responses((status = 200, description = "The resource", body = serde_json::Value), (status = 401, description = "No valid access token", body = crate::error::Problem), (status = 403, description = "Not the caller's to use or change", body = crate::error::Problem)))]
pub(crate) async fn list(State(state): State<AppState>, caller: Caller) -> Result<ApiJson<Value>, ApiError> {
    let mut conn = state.store.conn().await?;
    let providers = conn.list_providers(Some(&caller.scope())).await?;
    Ok(ApiJson(
        json!({ "data": providers.iter().map(view::provider).collect::<Vec<_>>() }),
    ))
}

/// Creates a custom event provider owned by the integration.
#[utoipa::path(post, path = "/api/v1/events/providers", tag = "events",
    request_body = serde_json::Value,
    responses((status = 201, description = "The provider", body = serde_json::Value), (status = 401, description = "No valid access token", body = crate::error::Problem), (status = 403, description = "Not the caller's to use or change", body = crate::error::Problem), (status = 422, description = "Invalid input", body = crate::error::Problem)))]
pub(crate) async fn post(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<ProviderInput>,
) -> Result<(StatusCode, ApiJson<Value>), ApiError> {
    let p = create(&state, &caller, &input).await?;
    Ok((StatusCode::CREATED, ApiJson(view::provider(&p))))
}

/// One event provider.
#[utoipa::path(get, path = "/api/v1/events/providers/{id}", tag = "events",
    params(("id" = String, Path, description = "Provider ID")),
    responses((status = 200, description = "The resource", body = serde_json::Value), (status = 401, description = "No valid access token", body = crate::error::Problem), (status = 403, description = "Not the caller's to use or change", body = crate::error::Problem), (status = 404, description = "No such resource, or not visible to the caller", body = crate::error::Problem), (status = 422, description = "Invalid input", body = crate::error::Problem)))]
pub(crate) async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<ApiJson<Value>, ApiError> {
    let mut conn = state.store.conn().await?;
    let p = service::visible_provider(&mut conn, &caller, &id).await?;
    Ok(ApiJson(view::provider(&p)))
}

/// Replaces a provider's label, description and docs URL.
#[utoipa::path(put, path = "/api/v1/events/providers/{id}", tag = "events",
    params(("id" = String, Path, description = "Provider ID")),
    request_body = serde_json::Value,
    responses((status = 200, description = "The resource", body = serde_json::Value), (status = 401, description = "No valid access token", body = crate::error::Problem), (status = 403, description = "Not the caller's to use or change", body = crate::error::Problem), (status = 404, description = "No such resource, or not visible to the caller", body = crate::error::Problem), (status = 422, description = "Invalid input", body = crate::error::Problem)))]
pub(crate) async fn put(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ProviderInput>,
) -> Result<ApiJson<Value>, ApiError> {
    Ok(ApiJson(view::provider(&update(&state, &caller, &id, &input).await?)))
}

/// Deletes a provider the integration owns.
#[utoipa::path(delete, path = "/api/v1/events/providers/{id}", tag = "events",
    params(("id" = String, Path, description = "Provider ID")),
    responses((status = 204, description = "Deleted"), (status = 401, description = "No valid access token", body = crate::error::Problem), (status = 403, description = "Not the caller's to use or change", body = crate::error::Problem), (status = 404, description = "No such resource, or not visible to the caller", body = crate::error::Problem), (status = 409, description = "Conflicts with the current state", body = crate::error::Problem)))]
pub(crate) async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    delete(&state, &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/events/providers", get(list).post(post))
        .route("/api/v1/events/providers/{id}", get(get_one).put(put).delete(remove))
}
