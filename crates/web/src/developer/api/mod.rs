//! The console's JSON API under `/api/v1`, one file per resource (types, validation, handlers and
//! a `router()`), merged here. Authentication: the console session (state-changing calls repeat
//! the CSRF cookie in `x-csrf-token`) or an access token with the `gatehouse.console` scope
//! ([`super::auth::Caller`]). Errors are problem JSON with stable codes ([`super::error`]).
//! [`ConsoleApi`] describes every route for the OpenAPI document.

pub mod certificates;
pub mod credentials;
pub mod integrations;
pub mod secrets;
pub mod services;
pub mod subscriptions;

use axum::Router;
use utoipa::OpenApi;

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(integrations::router())
        .merge(secrets::router())
        .merge(certificates::router())
        .merge(subscriptions::router())
        .merge(services::router())
        .merge(credentials::router())
}

/// The OpenAPI description of the console's routes (merged into `/api/v1/openapi.json`).
#[derive(OpenApi)]
#[openapi(
    paths(
        integrations::list,
        integrations::create,
        integrations::read,
        integrations::update,
        integrations::delete,
        integrations::redirect_check,
        secrets::list,
        secrets::add,
        secrets::revoke,
        certificates::list,
        certificates::upload,
        certificates::generate,
        certificates::remove,
        subscriptions::list,
        subscriptions::create,
        subscriptions::update,
        subscriptions::delete,
        services::list,
        services::read,
        services::create,
        services::replace,
        credentials::download,
    ),
    tags(
        (name = "integrations", description = "Integrations of three types: OAuth, Service Account, API Key"),
        (name = "credentials", description = "Client secrets, certificates and the credentials file"),
        (name = "subscriptions", description = "An integration's subscriptions to services"),
        (name = "services", description = "The services catalog (edited by operators)"),
    )
)]
pub struct ConsoleApi;
