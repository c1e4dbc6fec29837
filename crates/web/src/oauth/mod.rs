//! The token service over HTTP: the standard OAuth 2.0 / OpenID Connect surface (this module)
//! and, in [`crate::ims`], the Adobe-compatible one. Both share one [`service::TokenService`]
//! (key ring, client cache, deny-list, issuance), attached to their routes as an axum `Extension`.
//!
//! - [`authorize`]: the authorization endpoint (browser: sign-in, consent, codes);
//! - [`endpoints`]: discovery, JWKS, token, introspection, revocation;
//! - [`grants`] and [`user_grants`]: what each grant does;
//! - [`userinfo`], [`logout`], [`consents`], [`api_key`]: the person-facing and service-facing rest.

pub mod api_key;
pub mod authorize;
pub mod consents;
pub mod endpoints;
pub mod grants;
pub mod logout;
pub mod params;
pub mod service;
pub mod user_grants;
pub mod userinfo;

use std::{sync::Arc, time::Duration};

use axum::{
    Extension, Router,
    routing::{get, post},
};

use crate::AppState;

/// How often expired token bookkeeping is deleted.
pub const PURGE_EVERY: Duration = Duration::from_secs(600);

/// Every token-service route (standard and Adobe-compatible), sharing one [`service::TokenService`].
pub fn router(state: &AppState) -> Router<AppState> {
    let svc = Arc::new(service::TokenService::new(
        state,
        service::TokenSettings::from_state(state),
    ));
    spawn_purge(&svc);
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
        .merge(crate::ims::routes())
        .layer(Extension(svc))
}

/// Deletes expired deny-list entries, replay records, codes, refresh tokens and retired keys
/// every [`PURGE_EVERY`], on every node (the deletes are idempotent). The task ends when the
/// router (and so the service) is dropped.
fn spawn_purge(svc: &Arc<service::TokenService>) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let weak = Arc::downgrade(svc);
    runtime.spawn(async move {
        let mut tick = tokio::time::interval(PURGE_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            let Some(svc) = weak.upgrade() else { break };
            match service::purge_expired(svc.store(), svc.now()).await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(rows = n, "purged expired token bookkeeping"),
                Err(e) => tracing::warn!(error = %e, "purging expired token bookkeeping failed"),
            }
        }
    });
}
