//! The events surfaces and machinery:
//! - Gatehouse's events API under `/api/v1/events` ([`api`]) and the Adobe I/O Events-compatible
//!   surface under `/events` ([`adobe`]), both over the same [`service`] operations;
//! - the delivery-signing public keys at `/events/keys/pub-key-<id>.pem` ([`keys`]);
//! - the console's Events tab of an integration ([`pages`]), over the same [`service`];
//!
//! The outbound HTTP client, the dispatcher and publishing Gatehouse's own events are the
//! application core's (`gatehouse_core::events`).

pub mod adobe;
pub mod api;
pub mod auth;
pub mod journal;
pub mod keys;
pub mod pages;
pub mod service;
pub mod view;

use std::sync::Arc;

use axum::{Extension, Router, routing::get};

use crate::AppState;

/// Every events route, with the [`service::EventsService`] they share.
pub fn router(state: &AppState) -> Router<AppState> {
    let svc = match service::EventsService::new(state, state.tokens.clone()) {
        Ok(svc) => Arc::new(svc),
        Err(e) => {
            tracing::error!(error = %e, "the events API cannot build its HTTP client; it is not served");
            return Router::new();
        }
    };
    let keys = svc.keys.clone();
    Router::new()
        .merge(api::router())
        .merge(adobe::router())
        .merge(pages::router())
        .route("/events/keys/{file}", get(keys::serve_public_key))
        .layer(Extension(keys))
        .layer(Extension(svc))
}
