//! The developer console: integrations of three types (OAuth, Service Account, API Key), their
//! credentials (client secrets, certificates, the credentials file), the services catalog and
//! subscriptions — as server-rendered pages under `/console/integrations` and `/console/services`
//! ([`pages`]) and as a JSON API under `/api/v1` ([`api`]), both over the same use cases
//! (`gatehouse_core::console`).
//!
//! Account and organization pages are the identity module's (`crate::console`); this module adds
//! the developer's part of the console.

pub mod api;
pub mod auth;
pub mod error;
pub mod pages;

use axum::Router;

use crate::AppState;

/// The console's pages and API, and the identity API (`crate::api`). Both APIs verify access
/// tokens with the node's one token service, through [`auth::Caller`].
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(api::router().merge(crate::api::router()))
        .merge(pages::router())
}
