//! The developer console: integrations of three types (OAuth, Service Account, API Key), their
//! credentials (client secrets, certificates, the credentials file), the services catalog and
//! subscriptions — as server-rendered pages under `/console/integrations` and `/console/services`
//! ([`pages`]) and as a JSON API under `/api/v1` ([`api`]), both over the same use cases
//! (`gatehouse_core::console`).
//!
//! Account and organization pages are the identity module's (`crate::account`); this module adds
//! the developer's part of the console.

pub mod pages;

use axum::Router;

use crate::AppState;

/// The console's pages (its JSON API is `crate::api`).
pub fn router() -> Router<AppState> {
    pages::router()
}
