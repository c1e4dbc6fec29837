//! `/api/v1/integrations/{id}/subscriptions`: subscribe to a service with chosen scopes, change
//! the scopes, unsubscribe. A service that does not allow the integration's type refuses with
//! `service_not_allowed_for_integration_type`; scopes taken away are revoked from issued tokens.

use crate::error::OpResult;
use axum::{
    Router,
    extract::{Path, State},
    http::StatusCode,
    response::IntoResponse,
    routing::get,
};
use gatehouse_core::console;
use gatehouse_domain::service::Subscription;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{AppState, auth::Caller, error::ConsoleProblem as Problem, extract::ApiJson};

#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriptionOut {
    /// The service's code.
    pub service: String,
    /// The scopes granted (for service accounts, their metascopes).
    pub scopes: Vec<String>,
    /// This integration's own gateway limits on the service (operators set them); kinds left out
    /// follow the service's defaults.
    pub limits: crate::api::services::LimitsJson,
    pub created_at: i64,
    pub updated_at: i64,
}

impl From<&Subscription> for SubscriptionOut {
    fn from(s: &Subscription) -> Self {
        Self {
            service: s.service_code.to_string(),
            scopes: s.scopes.clone(),
            limits: s.limits.into(),
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSubscription {
    /// The service's code, e.g. `pdf_services`.
    pub service: String,
    /// Scopes chosen from those the service offers; omitted or empty means all of them.
    #[serde(default)]
    pub scopes: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSubscription {
    /// The new scope choice; empty means all the service offers.
    #[serde(default)]
    pub scopes: Vec<String>,
}

/// The integration's subscriptions, by service code.
#[utoipa::path(get, path = "/api/v1/integrations/{id}/subscriptions", tag = "subscriptions",
    params(("id" = String, Path, description = "Integration ID")),
    responses((status = 200, body = [SubscriptionOut]), (status = 404, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> OpResult<ApiJson<Vec<SubscriptionOut>>> {
    let d = console::integrations::details(&state, &caller, &id).await?;
    Ok(ApiJson(d.subscriptions.iter().map(SubscriptionOut::from).collect()))
}

/// Subscribes the integration to a service.
#[utoipa::path(post, path = "/api/v1/integrations/{id}/subscriptions", tag = "subscriptions",
    request_body = CreateSubscription, params(("id" = String, Path, description = "Integration ID")),
    responses((status = 201, body = SubscriptionOut), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<ApiJson<CreateSubscription>, crate::ApiError>,
) -> OpResult<impl IntoResponse> {
    let ApiJson(body) = body?;
    let (sub, _) = console::subscriptions::subscribe(&state, &caller, &id, &body.service, &body.scopes, false).await?;
    Ok((StatusCode::CREATED, ApiJson(SubscriptionOut::from(&sub))))
}

/// Changes the scopes of a subscription; scopes taken away are revoked from issued tokens.
#[utoipa::path(put, path = "/api/v1/integrations/{id}/subscriptions/{service}", tag = "subscriptions",
    request_body = UpdateSubscription,
    params(("id" = String, Path, description = "Integration ID"), ("service" = String, Path, description = "Service code")),
    responses((status = 200, body = SubscriptionOut), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, service)): Path<(String, String)>,
    body: Result<ApiJson<UpdateSubscription>, crate::ApiError>,
) -> OpResult<ApiJson<SubscriptionOut>> {
    let ApiJson(body) = body?;
    let (sub, _) = console::subscriptions::subscribe(&state, &caller, &id, &service, &body.scopes, true).await?;
    Ok(ApiJson(SubscriptionOut::from(&sub)))
}

/// Unsubscribes: the service's scopes leave future tokens, and issued tokens carrying them are revoked.
#[utoipa::path(delete, path = "/api/v1/integrations/{id}/subscriptions/{service}", tag = "subscriptions",
    params(("id" = String, Path, description = "Integration ID"), ("service" = String, Path, description = "Service code")),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, service)): Path<(String, String)>,
) -> OpResult<StatusCode> {
    console::subscriptions::unsubscribe(&state, &caller, &id, &service).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/integrations/{id}/subscriptions", get(list).post(create))
        .route(
            "/api/v1/integrations/{id}/subscriptions/{service}",
            axum::routing::put(update).delete(delete),
        )
}
