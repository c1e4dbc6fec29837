//! The JSON API under `/api/v1`, authenticated by the console's session cookie (state-changing
//! calls also need the `x-csrf-token` header repeating the `gatehouse_csrf` cookie) or by an
//! access token issued to a person with the `gatehouse.console` scope ([`crate::auth::ApiSession`]).
//! Errors are problem JSON. The OpenAPI document is generated from these handlers ([`ApiDoc`]), checked in
//! as `api/openapi.json` (a test fails when it drifts) and served at `/api/v1/openapi.json`.
//! One file per resource, each with its types, handlers and `router()`; merged here.

pub mod account;
pub mod certificates;
pub mod credentials;
pub mod integrations;
pub mod openapi;
pub mod operator;
pub mod org_accounts;
pub mod org_domains;
pub mod orgs;
pub mod projects;
pub mod schema;
pub mod secrets;
pub mod services;
pub mod subscriptions;
pub mod usage;

use axum::{Router, http::header, response::IntoResponse, routing::get};
use utoipa::OpenApi;

use self::openapi::Authentication;
use crate::{AppState, error::ApiError};

pub use crate::error::Problem;

#[derive(OpenApi)]
#[openapi(
    info(title = "Gatehouse API"),
    modifiers(&Authentication),
    paths(
        account::get_account,
        account::update_account,
        account::change_password,
        account::list_sessions,
        account::end_other_sessions,
        account::end_session,
        account::mfa_status,
        orgs::list_orgs,
        orgs::create_org,
        orgs::get_org,
        orgs::list_members,
        orgs::change_role,
        orgs::remove_member,
        orgs::list_invitations,
        orgs::invite,
        orgs::cancel_invitation,
        org_accounts::create_account,
        org_accounts::account_action,
        org_domains::list_domains,
        org_domains::claim_domain,
        org_domains::verify_domain,
        org_domains::approve_domain,
        org_domains::release_domain,
        operator::list_accounts,
        operator::get_account,
        operator::account_action,
        operator::list_orgs,
        operator::get_org,
        operator::audit_log,
        operator::audit_export,
        operator::get_status,
        operator::list_outbox,
        operator::read_outbox,
        crate::oauth::consents::list_api,
        crate::oauth::consents::revoke_api,
    ),
    components(schemas(
        Problem,
        schema::IntegrationTypeName,
        schema::PlatformName,
        schema::IntegrationStatusName,
        schema::RoleName,
        schema::ActsForName,
        schema::OperatorActionName,
        schema::OrgAccountActionName,
    )),
    tags(
        (name = "account", description = "The signed-in account: profile, password, sessions, two-step verification"),
        (name = "organizations", description = "Organizations, members, roles, invitations, enterprise accounts and claimed email domains"),
        (name = "operator", description = "Operators only: every account and organization, the audit log with its exports, the status of the deployment and the development outbox")
    )
)]
pub struct ApiDoc;

/// The OpenAPI document's description of the whole API.
pub const DESCRIPTION: &str = "The JSON API of Gatehouse's console, under /api/v1: the signed-in account (profile, \
password, sessions, two-step verification), organizations with their members, roles and invitations, and the \
developer console — integrations of three types (OAuth, Service Account, API Key), their client secrets, \
certificates and credentials file, their subscriptions to services, and the services catalog that Gatehouse's \
operators maintain.\n\n\
Authenticate with the console's session cookie — then send the gatehouse_csrf cookie's value in x-csrf-token on \
every POST, PUT, PATCH and DELETE — or with an access token carrying the gatehouse.console scope as a Bearer token: \
a token issued to a person acts as that person everywhere; a service account's token acts as an admin of its \
organization on the developer console's routes (the account and organization routes act for a person and refuse \
it). \
Errors are problem JSON (RFC 7807) with a stable, machine-readable code. The OAuth 2.0 / OpenID Connect endpoints \
are described by /.well-known/openid-configuration, not here.";

pub use crate::openapi_json;

async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], openapi_json())
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi))
        .merge(account::router())
        .merge(orgs::router())
        .merge(org_accounts::router())
        .merge(org_domains::router())
        .merge(operator::router())
        .merge(integrations::router())
        .merge(projects::router())
        .merge(secrets::router())
        .merge(certificates::router())
        .merge(subscriptions::router())
        .merge(services::router())
        .merge(usage::router())
        .merge(credentials::router())
}

impl From<gatehouse_core::Error> for ApiError {
    fn from(e: gatehouse_core::Error) -> Self {
        ApiError::new(crate::error::status_of(e.kind), e.code, e.message)
    }
}
