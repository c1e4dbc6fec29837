//! `/api/v1/events/registrations`: the caller's registrations, their secrets and their state.
//!
//! Creating one, or changing its webhook URL, challenges the URL first; the answer decides
//! whether it starts `active` or `unverified`. The create response carries `webhook_secret` once;
//! `GET …/{id}/secret` shows it to the owner again.

use gatehouse_core::events::service::{self, EventsService, RegistrationInput};
use std::sync::Arc;

use axum::{
    Extension, Router,
    extract::{Path, State},
    http::StatusCode,
    routing::{get, post},
};
use gatehouse_domain::events::model::DeliveryMethod;
use gatehouse_store::EventStore;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{
    ApiError, AppState,
    events::{auth::Caller, view},
    extract::ApiJson,
};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InterestInput {
    pub provider_id: String,
    pub event_code: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Input {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub delivery_method: String,
    pub webhook_url: Option<String>,
    pub events_of_interest: Vec<InterestInput>,
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

impl Input {
    fn into_service(self) -> Result<RegistrationInput, ApiError> {
        Ok(RegistrationInput {
            name: self.name,
            description: self.description,
            delivery_method: DeliveryMethod::parse(&self.delivery_method)?,
            webhook_url: self.webhook_url,
            events_of_interest: self
                .events_of_interest
                .into_iter()
                .map(|e| (e.provider_id, e.event_code))
                .collect(),
            enabled: self.enabled,
        })
    }
}

/// The integration's registrations.
#[utoipa::path(get, path = "/api/v1/events/registrations", tag = "events",
    responses((status = 200, description = "The resource", body = serde_json::Value), (status = 401, description = "No valid access token", body = crate::error::Problem), (status = 403, description = "Not the caller's to use or change", body = crate::error::Problem)))]
pub(crate) async fn list(State(state): State<AppState>, caller: Caller) -> Result<ApiJson<Value>, ApiError> {
    let mut conn = state.store.conn().await?;
    let regs = conn.registrations_of_integration(caller.id()).await?;
    Ok(ApiJson(
        json!({ "data": regs.iter().map(view::registration).collect::<Vec<_>>() }),
    ))
}

/// Creates a registration (a webhook URL is challenged first).
#[utoipa::path(post, path = "/api/v1/events/registrations", tag = "events",
    request_body = serde_json::Value,
    responses((status = 201, description = "The registration and its webhook secret", body = serde_json::Value), (status = 401, description = "No valid access token", body = crate::error::Problem), (status = 403, description = "Not the caller's to use or change", body = crate::error::Problem), (status = 409, description = "Conflicts with the current state", body = crate::error::Problem), (status = 422, description = "Invalid input", body = crate::error::Problem)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(svc): Extension<Arc<EventsService>>,
    caller: Caller,
    ApiJson(input): ApiJson<Input>,
) -> Result<(StatusCode, ApiJson<Value>), ApiError> {
    let (r, secret) = service::create_registration(&svc, &state, &caller, input.into_service()?).await?;
    let mut body = view::registration(&r);
    body["webhook_secret"] = json!(secret);
    Ok((StatusCode::CREATED, ApiJson(body)))
}

/// One registration.
#[utoipa::path(get, path = "/api/v1/events/registrations/{id}", tag = "events",
    params(("id" = String, Path, description = "Registration ID")),
    responses((status = 200, description = "The resource", body = serde_json::Value), (status = 401, description = "No valid access token", body = crate::error::Problem), (status = 403, description = "Not the caller's to use or change", body = crate::error::Problem), (status = 404, description = "No such resource, or not visible to the caller", body = crate::error::Problem)))]
pub(crate) async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<ApiJson<Value>, ApiError> {
    let mut conn = state.store.conn().await?;
    Ok(ApiJson(view::registration(
        &service::owned_registration(&mut conn, &caller, &id).await?,
    )))
}

/// Replaces a registration's settings (a changed URL is challenged again).
#[utoipa::path(put, path = "/api/v1/events/registrations/{id}", tag = "events",
    params(("id" = String, Path, description = "Registration ID")),
    request_body = serde_json::Value,
    responses((status = 200, description = "The resource", body = serde_json::Value), (status = 401, description = "No valid access token", body = crate::error::Problem), (status = 403, description = "Not the caller's to use or change", body = crate::error::Problem), (status = 404, description = "No such resource, or not visible to the caller", body = crate::error::Problem), (status = 409, description = "Conflicts with the current state", body = crate::error::Problem), (status = 422, description = "Invalid input", body = crate::error::Problem)))]
pub(crate) async fn put(
    State(state): State<AppState>,
    Extension(svc): Extension<Arc<EventsService>>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<Input>,
) -> Result<ApiJson<Value>, ApiError> {
    let r = service::update_registration(&svc, &state, &caller, &id, input.into_service()?).await?;
    Ok(ApiJson(view::registration(&r)))
}

/// Deletes a registration with its deliveries.
#[utoipa::path(delete, path = "/api/v1/events/registrations/{id}", tag = "events",
    params(("id" = String, Path, description = "Registration ID")),
    responses((status = 204, description = "Deleted"), (status = 401, description = "No valid access token", body = crate::error::Problem), (status = 403, description = "Not the caller's to use or change", body = crate::error::Problem), (status = 404, description = "No such resource, or not visible to the caller", body = crate::error::Problem)))]
pub(crate) async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    service::delete_registration(&state, &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The registration's webhook secret (whsec_...).
#[utoipa::path(get, path = "/api/v1/events/registrations/{id}/secret", tag = "events",
    params(("id" = String, Path, description = "Registration ID")),
    responses((status = 200, description = "The resource", body = serde_json::Value), (status = 401, description = "No valid access token", body = crate::error::Problem), (status = 403, description = "Not the caller's to use or change", body = crate::error::Problem), (status = 404, description = "No such resource, or not visible to the caller", body = crate::error::Problem)))]
pub(crate) async fn secret(
    State(state): State<AppState>,
    Extension(svc): Extension<Arc<EventsService>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<ApiJson<Value>, ApiError> {
    Ok(ApiJson(service::read_secret(&svc, &state, &caller, &id).await?))
}

/// A new webhook secret; the previous one keeps signing for the overlap.
#[utoipa::path(post, path = "/api/v1/events/registrations/{id}/secret/rotate", tag = "events",
    params(("id" = String, Path, description = "Registration ID")),
    responses((status = 200, description = "The resource", body = serde_json::Value), (status = 401, description = "No valid access token", body = crate::error::Problem), (status = 403, description = "Not the caller's to use or change", body = crate::error::Problem), (status = 404, description = "No such resource, or not visible to the caller", body = crate::error::Problem)))]
pub(crate) async fn rotate(
    State(state): State<AppState>,
    Extension(svc): Extension<Arc<EventsService>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<ApiJson<Value>, ApiError> {
    Ok(ApiJson(service::rotate_secret(&svc, &state, &caller, &id).await?))
}

/// Enables a registration (its webhook is challenged again).
#[utoipa::path(post, path = "/api/v1/events/registrations/{id}/enable", tag = "events",
    params(("id" = String, Path, description = "Registration ID")),
    responses((status = 200, description = "The resource", body = serde_json::Value), (status = 401, description = "No valid access token", body = crate::error::Problem), (status = 403, description = "Not the caller's to use or change", body = crate::error::Problem), (status = 404, description = "No such resource, or not visible to the caller", body = crate::error::Problem)))]
pub(crate) async fn enable(
    State(state): State<AppState>,
    Extension(svc): Extension<Arc<EventsService>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<ApiJson<Value>, ApiError> {
    Ok(ApiJson(view::registration(
        &service::enable_registration(&svc, &state, &caller, &id).await?,
    )))
}

/// Disables a registration.
#[utoipa::path(post, path = "/api/v1/events/registrations/{id}/disable", tag = "events",
    params(("id" = String, Path, description = "Registration ID")),
    responses((status = 200, description = "The resource", body = serde_json::Value), (status = 401, description = "No valid access token", body = crate::error::Problem), (status = 403, description = "Not the caller's to use or change", body = crate::error::Problem), (status = 404, description = "No such resource, or not visible to the caller", body = crate::error::Problem)))]
pub(crate) async fn disable(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<ApiJson<Value>, ApiError> {
    Ok(ApiJson(view::registration(
        &service::disable_registration(&state, &caller, &id).await?,
    )))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/events/registrations", get(list).post(create))
        .route(
            "/api/v1/events/registrations/{id}",
            get(get_one).put(put).delete(remove),
        )
        .route("/api/v1/events/registrations/{id}/secret", get(secret))
        .route("/api/v1/events/registrations/{id}/secret/rotate", post(rotate))
        .route("/api/v1/events/registrations/{id}/enable", post(enable))
        .route("/api/v1/events/registrations/{id}/disable", post(disable))
}
