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

async fn list(State(state): State<AppState>, caller: Caller) -> Result<ApiJson<Value>, ApiError> {
    let mut conn = state.store.conn().await?;
    let providers = conn.list_providers(Some(&caller.scope())).await?;
    Ok(ApiJson(
        json!({ "data": providers.iter().map(view::provider).collect::<Vec<_>>() }),
    ))
}

async fn post(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<ProviderInput>,
) -> Result<(StatusCode, ApiJson<Value>), ApiError> {
    let p = create(&state, &caller, &input).await?;
    Ok((StatusCode::CREATED, ApiJson(view::provider(&p))))
}

async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<ApiJson<Value>, ApiError> {
    let mut conn = state.store.conn().await?;
    let p = service::visible_provider(&mut conn, &caller, &id).await?;
    Ok(ApiJson(view::provider(&p)))
}

async fn put(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ProviderInput>,
) -> Result<ApiJson<Value>, ApiError> {
    Ok(ApiJson(view::provider(&update(&state, &caller, &id, &input).await?)))
}

async fn remove(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    delete(&state, &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/events/providers", get(list).post(post))
        .route("/api/v1/events/providers/{id}", get(get_one).put(put).delete(remove))
}
