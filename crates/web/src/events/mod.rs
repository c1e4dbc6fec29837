//! The events surfaces and machinery:
//! - Gatehouse's events API under `/api/v1/events` ([`api`]) and the Adobe I/O Events-compatible
//!   surface under `/events` ([`adobe`]), both over the same use cases (`gatehouse_core::events::service`);
//! - the delivery-signing public keys at `/events/keys/pub-key-<id>.pem` ([`keys`]);
//! - the console's Events tab of an integration ([`pages`]), over the same use cases;
//!
//! The outbound HTTP client, the dispatcher and publishing Gatehouse's own events are the
//! application core's (`gatehouse_core::events`).

pub mod adobe;
pub mod api;
pub mod auth;
pub mod journal;
pub mod keys;
pub mod pages;
pub mod view;

use std::sync::Arc;

use axum::{Extension, Router, routing::get};

use crate::AppState;

/// Every events route, with the node's [`gatehouse_core::events::service::EventsService`].
pub fn router(state: &AppState) -> Router<AppState> {
    let svc = match gatehouse_core::events::service::EventsService::new(state) {
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
