//! The token service over HTTP: the standard OAuth 2.0 / OpenID Connect surface (this module)
//! and, in [`crate::ims`], the Adobe-compatible one. Both use the node's one
//! [`gatehouse_core::TokenService`] (key ring, client cache, deny-list, issuance), which the root
//! router attaches to every route as an axum `Extension`.
//!
//! - [`authorize`]: the authorization endpoint (browser: sign-in, consent, codes);
//! - [`endpoints`]: discovery, JWKS, token, introspection, revocation;
//! - [`grants`] and [`user_grants`]: what each grant does;
//! - [`userinfo`], [`logout`], [`consents`], [`api_key`]: the person-facing and service-facing rest.

pub mod api_key;
pub mod authorize;
pub mod consents;
pub mod endpoints;
pub mod logout;
pub mod params;
pub mod responses;
pub mod userinfo;

use axum::{
    Router,
    routing::{get, post},
};

use crate::AppState;

/// Every token-service route (standard and Adobe-compatible).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/.well-known/openid-configuration", get(endpoints::discovery))
        .route("/.well-known/oauth-authorization-server", get(endpoints::discovery))
        .route("/oauth/jwks", get(endpoints::jwks))
        .route("/oauth/token", post(endpoints::token))
        .route("/oauth/introspect", post(endpoints::introspect))
        .route("/oauth/revoke", post(endpoints::revoke))
        .route("/oauth/userinfo", get(userinfo::userinfo).post(userinfo::userinfo))
        .route("/oauth/logout", get(logout::logout_get).post(logout::logout_post))
        .route("/oauth/api-key-check", get(api_key::check))
        .merge(authorize::routes())
        .merge(consents::routes())
}
