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

async fn list(
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

async fn post(
    State(state): State<AppState>,
    caller: Caller,
    Path(provider): Path<String>,
    ApiJson(input): ApiJson<EventTypeInput>,
) -> Result<(StatusCode, ApiJson<Value>), ApiError> {
    let t = create(&state, &caller, &provider, &input).await?;
    Ok((StatusCode::CREATED, ApiJson(view::event_type(&t))))
}

async fn get_one(
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

async fn put(
    State(state): State<AppState>,
    caller: Caller,
    Path((provider, code)): Path<(String, String)>,
    ApiJson(input): ApiJson<EventTypeInput>,
) -> Result<ApiJson<Value>, ApiError> {
    Ok(ApiJson(view::event_type(
        &update(&state, &caller, &provider, &code, &input).await?,
    )))
}

async fn remove(
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
