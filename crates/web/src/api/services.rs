//! `/api/v1/services`: the services catalog. Anyone signed in reads it; Gatehouse operators
//! create, change and delete services (which integration types each allows is data on the
//! service).

use crate::error::OpResult;
use axum::{
    Router,
    extract::{Path, State},
    http::StatusCode,
    response::IntoResponse,
    routing::get,
};
use gatehouse_core::console;
use gatehouse_domain::{console::catalog::ServiceInput, gateway::Limits, service::Service};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{AppState, auth::Caller, error::ConsoleProblem as Problem, extract::ApiJson};

/// Gateway limits of an integration's calls to a service; a kind left out has no limit (on a
/// subscription: the service's default applies).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitsJson {
    /// Sustained requests per second (GCRA).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_second: Option<u32>,
    /// Requests allowed at once above the rate; the rate when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burst: Option<u32>,
    /// Requests per UTC day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_day: Option<u64>,
    /// Requests per UTC calendar month.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_month: Option<u64>,
}

impl From<Limits> for LimitsJson {
    fn from(l: Limits) -> Self {
        Self {
            per_second: l.per_second,
            burst: l.burst,
            per_day: l.per_day,
            per_month: l.per_month,
        }
    }
}

impl From<LimitsJson> for Limits {
    fn from(l: LimitsJson) -> Self {
        Self {
            per_second: l.per_second,
            burst: l.burst,
            per_day: l.per_day,
            per_month: l.per_month,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceOut {
    #[schema(example = "pdf_services")]
    pub code: String,
    pub name: String,
    pub description: String,
    /// Integration types that may subscribe: `oauth`, `server_to_server`, `service_account`,
    /// `api_key`.
    #[schema(value_type = Vec<super::schema::IntegrationTypeName>)]
    pub allowed_types: Vec<String>,
    /// Scopes it grants (for service accounts, the metascopes of their JWTs).
    pub scopes: Vec<String>,
    /// `user` or `organization`.
    #[schema(value_type = super::schema::ActsForName)]
    pub acts_for: String,
    /// Where the gateway sends calls to `/services/{code}/…`; none: the service is not proxied.
    pub upstream_url: Option<String>,
    /// A path prefix of the service's own, where the gateway also answers for it (`/stock/v2`).
    #[schema(example = "/stock/v2")]
    pub gateway_path: Option<String>,
    /// What the upstream learns of the caller: `signed` (the `x-gatehouse-identity` JWT) or
    /// `token` (the caller's access token).
    #[schema(example = "signed")]
    pub identity: String,
    /// The default gateway limits of every subscribed integration.
    pub limits: LimitsJson,
    pub created_at: i64,
    pub updated_at: i64,
}

impl From<&Service> for ServiceOut {
    fn from(s: &Service) -> Self {
        Self {
            code: s.code.to_string(),
            name: s.name.clone(),
            description: s.description.clone(),
            allowed_types: s.allowed_types.iter().map(|t| t.as_str().to_owned()).collect(),
            scopes: s.scopes.clone(),
            acts_for: s.acts_for.as_str().to_owned(),
            upstream_url: s.upstream_url.clone(),
            gateway_path: s.gateway.path.clone(),
            identity: s.gateway.identity.as_str().to_owned(),
            limits: s.gateway.limits.into(),
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

/// A service to create or replace.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceIn {
    /// Ignored (may be omitted) when replacing: the path names the service.
    #[serde(default)]
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Integration types that may subscribe: `oauth`, `server_to_server`, `service_account`,
    /// `api_key`.
    #[schema(value_type = Vec<super::schema::IntegrationTypeName>, example = json!(["server_to_server", "service_account"]))]
    pub allowed_types: Vec<String>,
    #[serde(default)]
    pub scopes: Vec<String>,
    /// `user` or `organization`.
    #[schema(value_type = super::schema::ActsForName)]
    pub acts_for: String,
    pub upstream_url: Option<String>,
    /// `signed` (the default) or `token`.
    #[serde(default)]
    pub identity: String,
    /// A path prefix of the service's own (`/stock/v2`), besides `/services/{code}`; it may not
    /// start with a path Gatehouse answers itself.
    pub gateway_path: Option<String>,
    /// The default gateway limits of every subscribed integration (none when left out).
    #[serde(default)]
    pub limits: LimitsJson,
}

impl From<ServiceIn> for ServiceInput {
    fn from(s: ServiceIn) -> Self {
        ServiceInput {
            code: s.code,
            name: s.name,
            description: s.description,
            allowed_types: s.allowed_types,
            scopes: s.scopes,
            acts_for: s.acts_for,
            upstream_url: s.upstream_url,
            identity: s.identity,
            gateway_path: s.gateway_path.unwrap_or_default(),
            limits: s.limits.into(),
        }
    }
}

/// Every service, by code.
#[utoipa::path(get, path = "/api/v1/services", tag = "services", responses((status = 200, body = [ServiceOut])))]
pub async fn list(State(state): State<AppState>, _caller: Caller) -> OpResult<ApiJson<Vec<ServiceOut>>> {
    let all = console::catalog::list(&state).await?;
    Ok(ApiJson(all.iter().map(ServiceOut::from).collect()))
}

#[utoipa::path(get, path = "/api/v1/services/{code}", tag = "services",
    params(("code" = String, Path, description = "Service code")),
    responses((status = 200, body = ServiceOut), (status = 404, body = Problem)))]
pub async fn read(
    State(state): State<AppState>,
    _caller: Caller,
    Path(code): Path<String>,
) -> OpResult<ApiJson<ServiceOut>> {
    Ok(ApiJson(ServiceOut::from(&console::catalog::get(&state, &code).await?)))
}

/// Creates a service (operators only).
#[utoipa::path(post, path = "/api/v1/services", tag = "services", request_body = ServiceIn,
    responses((status = 201, body = ServiceOut), (status = 403, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<ApiJson<ServiceIn>, crate::ApiError>,
) -> OpResult<impl IntoResponse> {
    let ApiJson(body) = body?;
    let (service, _) = console::catalog::save(&state, &caller, &body.into(), None).await?;
    Ok((StatusCode::CREATED, ApiJson(ServiceOut::from(&service))))
}

/// Replaces a service (operators only). Subscriptions lose scopes and types it no longer offers.
#[utoipa::path(put, path = "/api/v1/services/{code}", tag = "services", request_body = ServiceIn,
    params(("code" = String, Path, description = "Service code")),
    responses((status = 200, body = ServiceOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
pub async fn replace(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    body: Result<ApiJson<ServiceIn>, crate::ApiError>,
) -> OpResult<ApiJson<ServiceOut>> {
    let ApiJson(body) = body?;
    let (service, _) = console::catalog::save(&state, &caller, &body.into(), Some(&code)).await?;
    Ok(ApiJson(ServiceOut::from(&service)))
}

/// Deletes a service (operators only). Every subscription to it is removed, and the scopes it
/// granted are revoked from tokens already issued, exactly as when each integration unsubscribes.
#[utoipa::path(delete, path = "/api/v1/services/{code}", tag = "services",
    params(("code" = String, Path, description = "Service code")),
    responses((status = 204, description = "Deleted, with its subscriptions"), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
pub async fn delete(State(state): State<AppState>, caller: Caller, Path(code): Path<String>) -> OpResult<StatusCode> {
    console::catalog::delete(&state, &caller, &code).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/services", get(list).post(create))
        .route("/api/v1/services/{code}", get(read).put(replace).delete(delete))
}
