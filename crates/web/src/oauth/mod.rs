//! The token service over HTTP: the standard OAuth 2.0 surface (this module's [`endpoints`]) and,
//! in [`crate::ims`], the Adobe-compatible one. Both share one [`service::TokenService`] (key
//! ring, client cache, issuance), attached to their routes as an axum `Extension`.

pub mod endpoints;
pub mod grants;
pub mod params;
pub mod service;

use std::sync::Arc;

use axum::{
    Extension, Router,
    routing::{get, post},
};

use crate::AppState;

/// Every token-service route (standard and Adobe-compatible), sharing one [`service::TokenService`].
pub fn router(state: &AppState) -> Router<AppState> {
    let svc = Arc::new(service::TokenService::new(
        state,
        service::TokenSettings::from_state(state),
    ));
    Router::new()
        .route("/.well-known/openid-configuration", get(endpoints::discovery))
        .route("/.well-known/oauth-authorization-server", get(endpoints::discovery))
        .route("/oauth/jwks", get(endpoints::jwks))
        .route("/oauth/token", post(endpoints::token))
        .route("/oauth/introspect", post(endpoints::introspect))
        .route("/oauth/revoke", post(endpoints::revoke))
        .merge(crate::ims::routes())
        .layer(Extension(svc))
}
