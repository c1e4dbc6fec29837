//! The developer console: integrations of three types (OAuth, Service Account, API Key), their
//! credentials (client secrets, certificates, the credentials file), the services catalog and
//! subscriptions — as server-rendered pages under `/console/integrations` and `/console/services`
//! ([`pages`]) and as a JSON API under `/api/v1` ([`api`]), both over the same [`ops`].
//!
//! Account and organization pages are the identity module's (`crate::console`); this module adds
//! the developer's part of the console.

pub mod api;
pub mod auth;
pub mod cutoffs;
pub mod error;
pub mod expiry;
pub mod ops;
pub mod pages;

use std::sync::Arc;

use axum::{Extension, Router};

use crate::{
    AppState,
    oauth::service::{TokenService, TokenSettings},
};

/// The console's pages and API, and the identity API (`crate::api`). Both APIs verify access
/// tokens with one [`TokenService`] of their own (same keys and store as the token endpoints; its
/// own caches), through [`auth::Caller`].
pub fn router(state: &AppState) -> Router<AppState> {
    let svc = Arc::new(TokenService::new(state, TokenSettings::from_state(state)));
    expiry::spawn(state.clone());
    Router::new()
        .merge(api::router().merge(crate::api::router()).layer(Extension(svc)))
        .merge(pages::router())
}
