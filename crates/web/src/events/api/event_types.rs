//! `/api/v1/events/providers/{id}/event-types`: the event types of a provider (anyone who sees
//! the provider reads them; its owner defines them).

use axum::{
    Router,
    extract::{Path, State},
    http::StatusCode,
    routing::get,
};
use gatehouse_core::events::service;
use gatehouse_domain::events::{
    code::EventCode,
    model::{self, EventType},
};
use gatehouse_store::{AuditStore, EventStore, StoreError};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{
    ApiError, AppState,
    events::{auth::Caller, view},
    extract::ApiJson,
};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventTypeInput {
    pub event_code: Option<String>,
    pub label: String,
    #[serde(default)]
    pub description: String,
    pub sample: Option<Value>,
}

/// Defines an event type on a provider the caller owns.
pub async fn create(
    state: &AppState,
    caller: &Caller,
    provider_id: &str,
    input: &EventTypeInput,
) -> Result<EventType, ApiError> {
    let mut conn = state.store.conn().await?;
    service::owned_provider(&mut conn, caller, provider_id).await?;
    drop(conn);
    let code = input
        .event_code
        .as_deref()
        .ok_or_else(|| ApiError::unprocessable("invalid_event_code", "event_code is required."))?;
    let now = state.now();
    let t = EventType {
        provider_id: provider_id.to_owned(),
        event_code: EventCode::parse(code)?,
        label: model::parse_label(&input.label)?,
        description: model::parse_description(&input.description)?,
        sample: input.sample.clone(),
        created_at: now,
    };
    let mut tx = state.store.begin().await?;
    match tx.insert_event_type(&t).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => {
            return Err(ApiError::conflict(
                "event_code_taken",
                format!("The provider already has the event type {}.", t.event_code),
            ));
        }
        Err(e) => return Err(e.into()),
    }
    let target = format!("event_type:{provider_id}/{}", t.event_code);
    tx.append_audit(&service::audit(caller, now, "event_type.created", target))
        .await?;
    tx.commit().await?;
    Ok(t)
}

/// Replaces an event type's label, description and sample.
pub async fn update(
    state: &AppState,
    caller: &Caller,
    provider_id: &str,
    code: &str,
    input: &EventTypeInput,
) -> Result<EventType, ApiError> {
    let mut conn = state.store.conn().await?;
    service::owned_provider(&mut conn, caller, provider_id).await?;
    let current = conn
        .event_type(provider_id, code)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("The provider has no event type {code:?}.")))?;
    drop(conn);
    let t = EventType {
        label: model::parse_label(&input.label)?,
        description: model::parse_description(&input.description)?,
        sample: input.sample.clone(),
        ..current
    };
    let now = state.now();
    let mut tx = state.store.begin().await?;
    tx.update_event_type(&t).await?;
    tx.append_audit(&service::audit(
        caller,
        now,
        "event_type.updated",
        format!("event_type:{provider_id}/{code}"),
    ))
    .await?;
    tx.commit().await?;
    Ok(t)
}

/// Deletes one event type (`Some(code)`) or all of a provider's.
pub async fn delete(state: &AppState, caller: &Caller, provider_id: &str, code: Option<&str>) -> Result<(), ApiError> {
    let mut conn = state.store.conn().await?;
    service::owned_provider(&mut conn, caller, provider_id).await?;
    drop(conn);
    let now = state.now();
    let mut tx = state.store.begin().await?;
    match code {
        Some(code) => {
            if !tx.delete_event_type(provider_id, code).await? {
                return Err(ApiError::not_found(format!("The provider has no event type {code:?}.")));
            }
        }
        None => {
            tx.delete_event_types_of(provider_id).await?;
        }
    }
    let target = format!("event_type:{provider_id}/{}", code.unwrap_or("*"));
    tx.append_audit(&service::audit(caller, now, "event_type.deleted", target))
        .await?;
    tx.commit().await?;
    Ok(())
}

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
