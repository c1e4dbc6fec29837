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
