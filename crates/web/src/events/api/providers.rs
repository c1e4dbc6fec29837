//! `/api/v1/events/providers`: the providers the caller can see; custom providers it owns.

use axum::{
    Router,
    extract::{Path, State},
    http::StatusCode,
    routing::get,
};
use gatehouse_core::events::service;
use gatehouse_domain::events::model::{self, Provider};
use gatehouse_store::{AuditStore, EventStore};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{
    ApiError, AppState,
    events::{auth::Caller, view},
    extract::ApiJson,
};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderInput {
    pub label: String,
    #[serde(default)]
    pub description: String,
    pub docs_url: Option<String>,
    pub instance_id: Option<String>,
}

/// Checks a provider input; the parts are the label, description and docs URL.
pub fn parse(input: &ProviderInput) -> Result<(String, String, Option<String>), ApiError> {
    Ok((
        model::parse_label(&input.label)?,
        model::parse_description(&input.description)?,
        input
            .docs_url
            .as_deref()
            .filter(|u| !u.is_empty())
            .map(model::parse_docs_url)
            .transpose()?,
    ))
}

/// Creates a custom provider owned by the caller.
pub async fn create(state: &AppState, caller: &Caller, input: &ProviderInput) -> Result<Provider, ApiError> {
    let (label, description, docs_url) = parse(input)?;
    let now = state.now();
    let p = Provider {
        id: uuid::Uuid::new_v4().to_string(),
        label,
        description,
        docs_url,
        service_code: None,
        owner_integration_id: Some(caller.id().to_owned()),
        owner_scope: Some(caller.scope()),
        instance_id: input.instance_id.clone().filter(|s| !s.is_empty()),
        created_at: now,
        updated_at: now,
    };
    let mut tx = state.store.begin().await?;
    tx.insert_provider(&p).await?;
    tx.append_audit(&service::audit(
        caller,
        now,
        "event_provider.created",
        format!("event_provider:{}", p.id),
    ))
    .await?;
    tx.commit().await?;
    Ok(p)
}

/// Replaces a provider's label, description and docs URL.
pub async fn update(state: &AppState, caller: &Caller, id: &str, input: &ProviderInput) -> Result<Provider, ApiError> {
    let mut conn = state.store.conn().await?;
    let current = service::owned_provider(&mut conn, caller, id).await?;
    drop(conn);
    let (label, description, docs_url) = parse(input)?;
    let now = state.now();
    let p = Provider {
        label,
        description,
        docs_url,
        updated_at: now,
        ..current
    };
    let mut tx = state.store.begin().await?;
    tx.update_provider(&p).await?;
    tx.append_audit(&service::audit(
        caller,
        now,
        "event_provider.updated",
        format!("event_provider:{id}"),
    ))
    .await?;
    tx.commit().await?;
    Ok(p)
}

/// Deletes a provider the caller owns, with its event types.
pub async fn delete(state: &AppState, caller: &Caller, id: &str) -> Result<(), ApiError> {
    let mut conn = state.store.conn().await?;
    service::owned_provider(&mut conn, caller, id).await?;
    drop(conn);
    let now = state.now();
    let mut tx = state.store.begin().await?;
    tx.delete_provider(id).await?;
    tx.append_audit(&service::audit(
        caller,
        now,
        "event_provider.deleted",
        format!("event_provider:{id}"),
    ))
    .await?;
    tx.commit().await?;
    Ok(())
}

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
