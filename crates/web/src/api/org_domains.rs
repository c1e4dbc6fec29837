//! `/api/v1/orgs/{org}/domains`: the email domains an organization claims. An admin claims a
//! domain and publishes the TXT record the answer names, then asks for verification; a Gatehouse
//! operator may approve a claim instead. The organization creates enterprise accounts only in its
//! verified domains (`/api/v1/orgs/{org}/accounts`).

use axum::{
    Router,
    extract::{Path, State},
    http::StatusCode,
    routing::{delete, get, post},
};
use gatehouse_core::identity::{domains, organizations::org_for};
use gatehouse_domain::identity::email_domain::DomainClaim;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Problem;
use crate::{
    AppState,
    auth::ApiSession,
    error::ApiError,
    extract::{ApiJson, ClientInfo},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/orgs/{org}/domains", get(list_domains).post(claim_domain))
        .route("/api/v1/orgs/{org}/domains/{domain}", delete(release_domain))
        .route("/api/v1/orgs/{org}/domains/{domain}/verify", post(verify_domain))
        .route("/api/v1/orgs/{org}/domains/{domain}/approve", post(approve_domain))
}

/// A claimed email domain and how to prove it.
#[derive(Debug, Serialize, ToSchema)]
pub struct DomainView {
    pub domain: String,
    /// True once verified: the organization may create enterprise accounts in it.
    pub verified: bool,
    /// `dns` or `operator`, once verified.
    #[schema(value_type = Option<String>)]
    pub verified_by: Option<&'static str>,
    pub verified_at: Option<i64>,
    /// The name to publish the TXT record at (`_gatehouse.<domain>`).
    pub txt_name: String,
    /// The TXT record's value.
    pub txt_value: String,
    pub created_at: i64,
}

impl From<&DomainClaim> for DomainView {
    fn from(c: &DomainClaim) -> Self {
        Self {
            domain: c.domain.to_string(),
            verified: c.is_verified(),
            verified_by: c.verified.map(|(_, by)| by.as_str()),
            verified_at: c.verified.map(|(at, _)| at),
            txt_name: c.domain.txt_name(),
            txt_value: c.txt_value(),
            created_at: c.created_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDomain {
    /// The domain, such as `example.com`.
    pub domain: String,
}

#[utoipa::path(get, path = "/api/v1/orgs/{org}/domains", tag = "organizations",
    params(("org" = String, Path, description = "Organization ID")),
    responses((status = 200, description = "The organization's claimed domains", body = [DomainView]),
              (status = 401, body = Problem),
              (status = 403, description = "Not an admin of the organization", body = Problem),
              (status = 404, description = "No such organization (or not a member)", body = Problem)))]
pub async fn list_domains(
    State(state): State<AppState>,
    ApiSession(who): ApiSession,
    Path(org): Path<String>,
) -> Result<ApiJson<Vec<DomainView>>, ApiError> {
    let (o, _) = org_for(&state, &who, &org).await?;
    let claims = domains::list(&state, &who, &o).await?;
    Ok(ApiJson(claims.iter().map(DomainView::from).collect()))
}

#[utoipa::path(post, path = "/api/v1/orgs/{org}/domains", tag = "organizations", request_body = NewDomain,
    params(("org" = String, Path, description = "Organization ID")),
    responses((status = 201, description = "Claimed; publish the TXT record, then verify", body = DomainView),
              (status = 401, body = Problem),
              (status = 403, description = "Not an admin of the organization", body = Problem),
              (status = 404, description = "No such organization (or not a member)", body = Problem),
              (status = 409, description = "Claimed already, or too many domains", body = Problem),
              (status = 422, description = "Not a domain name", body = Problem)))]
pub async fn claim_domain(
    State(state): State<AppState>,
    ApiSession(who): ApiSession,
    client: ClientInfo,
    Path(org): Path<String>,
    ApiJson(body): ApiJson<NewDomain>,
) -> Result<(StatusCode, ApiJson<DomainView>), ApiError> {
    let (o, _) = org_for(&state, &who, &org).await?;
    let claim = domains::claim(&state, &who, &o, &body.domain, &client).await?;
    Ok((StatusCode::CREATED, ApiJson(DomainView::from(&claim))))
}

#[utoipa::path(post, path = "/api/v1/orgs/{org}/domains/{domain}/verify", tag = "organizations",
    params(("org" = String, Path, description = "Organization ID"), ("domain" = String, Path, description = "The claimed domain")),
    responses((status = 200, description = "Verified (the TXT record was found, or it was verified already)", body = DomainView),
              (status = 401, body = Problem),
              (status = 403, description = "Not an admin of the organization", body = Problem),
              (status = 404, description = "No such organization or claim", body = Problem),
              (status = 409, description = "Another organization has verified this domain", body = Problem),
              (status = 422, description = "The TXT record was not found", body = Problem),
              (status = 503, description = "The DNS lookup failed", body = Problem)))]
pub async fn verify_domain(
    State(state): State<AppState>,
    ApiSession(who): ApiSession,
    client: ClientInfo,
    Path((org, domain)): Path<(String, String)>,
) -> Result<ApiJson<DomainView>, ApiError> {
    let (o, _) = org_for(&state, &who, &org).await?;
    let claim = domains::verify(&state, &who, &o, &domain, &client).await?;
    Ok(ApiJson(DomainView::from(&claim)))
}

#[utoipa::path(post, path = "/api/v1/orgs/{org}/domains/{domain}/approve", tag = "organizations",
    params(("org" = String, Path, description = "Organization ID"), ("domain" = String, Path, description = "The claimed domain")),
    responses((status = 200, description = "Approved by an operator (or verified already)", body = DomainView),
              (status = 401, body = Problem),
              (status = 403, description = "Not a Gatehouse operator", body = Problem),
              (status = 404, description = "No such organization or claim", body = Problem),
              (status = 409, description = "Another organization has verified this domain", body = Problem)))]
pub async fn approve_domain(
    State(state): State<AppState>,
    ApiSession(who): ApiSession,
    client: ClientInfo,
    Path((org, domain)): Path<(String, String)>,
) -> Result<ApiJson<DomainView>, ApiError> {
    let claim = domains::approve(&state, &who, &org, &domain, &client).await?;
    Ok(ApiJson(DomainView::from(&claim)))
}

#[utoipa::path(delete, path = "/api/v1/orgs/{org}/domains/{domain}", tag = "organizations",
    params(("org" = String, Path, description = "Organization ID"), ("domain" = String, Path, description = "The claimed domain")),
    responses((status = 204, description = "Released; accounts created in it stay with the organization"),
              (status = 401, body = Problem),
              (status = 403, description = "Not an admin of the organization", body = Problem),
              (status = 404, description = "No such organization or claim", body = Problem)))]
pub async fn release_domain(
    State(state): State<AppState>,
    ApiSession(who): ApiSession,
    client: ClientInfo,
    Path((org, domain)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let (o, _) = org_for(&state, &who, &org).await?;
    domains::release(&state, &who, &o, &domain, &client).await?;
    Ok(StatusCode::NO_CONTENT)
}
