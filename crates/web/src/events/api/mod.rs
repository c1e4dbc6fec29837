//! Gatehouse's events API under `/api/v1/events`, one file per resource (types, validation,
//! handlers and `router()` together). Every route is called by an integration with one of
//! Gatehouse's access tokens.

pub(crate) mod event_types;
mod journal;
pub(crate) mod providers;
mod publish;
mod recovery;
mod registrations;

use axum::Router;

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(providers::router())
        .merge(event_types::router())
        .merge(registrations::router())
        .merge(publish::router())
        .merge(journal::router())
        .merge(recovery::router())
}

/// The OpenAPI description of the events API (merged into `/api/v1/openapi.json`). It takes an
/// integration's own access token (`access_token`), never the console session.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        providers::list,
        providers::post,
        providers::get_one,
        providers::put,
        providers::remove,
        event_types::list,
        event_types::post,
        event_types::get_one,
        event_types::put,
        event_types::remove,
        registrations::list,
        registrations::create,
        registrations::get_one,
        registrations::put,
        registrations::remove,
        registrations::secret,
        registrations::rotate,
        registrations::enable,
        registrations::disable,
        journal::read,
        publish::publish,
        recovery::resend,
        recovery::recover,
        recovery::attempts,
        recovery::attempt,
        recovery::send_test,
        recovery::event_attempts,
    ),
    tags((name = "events", description = "Event providers and types, registrations, the journal, publishing and recovery"))
)]
pub struct EventsApi;
