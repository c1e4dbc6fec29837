//! The API-key check: a service (and later Gatehouse's gateway) asks whether the key a caller
//! presented in `x-api-key` is valid, active and subscribed to the service.
//!
//! ```text
//!  service ──GET /oauth/api-key-check?service=<code>  x-api-key: <client ID>──▶ check
//!           200 {"valid", "active", "domain_allowed", "subscribed", "client_id", "integration_type", "scopes"}
//! ```
//!
//! A service checking a browser's call forwards the call's `Origin` (or `Referer`): an API key
//! restricted to allowed domains is `subscribed` only when that origin is one of them
//! (`domain_allowed`; the rule is `policy::api_key_origin`).
//!
//! Every integration's client ID is its API key; for API Key integrations it is the only
//! credential. The answer comes from the client cache (unknown keys are cached too), so a warm
//! check touches no database. Client IDs are not secrets, so the check needs no authentication.
//! A key the check accepts (`subscribed`) counts as a use of its integration (recorded in memory
//! and written later, see `gatehouse_core::tokens::last_used`).

use std::sync::Arc;

use axum::{
    Extension, Json,
    extract::Query,
    http::{HeaderMap, HeaderValue, header},
    response::{IntoResponse, Response},
};
use gatehouse_domain::{integration::IntegrationStatus, service::ServiceCode};
use serde::Deserialize;
use serde_json::json;

use crate::OAuthError;
use gatehouse_core::{policy, tokens::service::TokenService};

/// The header the key arrives in.
pub const API_KEY_HEADER: &str = "x-api-key";

#[derive(Debug, Deserialize)]
pub struct CheckQuery {
    service: Option<String>,
}

pub async fn check(
    Extension(svc): Extension<Arc<TokenService>>,
    headers: HeaderMap,
    Query(q): Query<CheckQuery>,
) -> Response {
    let Some(key) = headers.get(API_KEY_HEADER).and_then(|v| v.to_str().ok()) else {
        return OAuthError::invalid_request("send the API key in the x-api-key header").into_response();
    };
    let Some(service) = q.service.as_deref().and_then(|s| ServiceCode::parse(s).ok()) else {
        return OAuthError::invalid_request("name the service with ?service=<code>").into_response();
    };
    let body = match svc.client(key.trim()).await {
        Err(e) => return OAuthError::server_error(e).into_response(),
        Ok(None) => json!({ "valid": false, "active": false, "subscribed": false }),
        Ok(Some(c)) => {
            let active = c.integration.status == IntegrationStatus::Active;
            let subscription = c.subscriptions.iter().find(|s| s.service_code == service);
            let header = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
            let domain_allowed =
                policy::api_key_origin(&c.integration, header(header::ORIGIN), header(header::REFERER)).is_ok();
            let subscribed = active && domain_allowed && subscription.is_some();
            if subscribed {
                svc.last_used.mark(&c.integration.id, None, svc.now());
            }
            json!({
                "valid": true,
                "active": active,
                "domain_allowed": domain_allowed,
                "subscribed": subscribed,
                "client_id": c.client_id(),
                "integration_type": c.integration.integration_type.as_str(),
                "scopes": subscription.map(|s| s.scopes.clone()).unwrap_or_default(),
            })
        }
    };
    let mut res = Json(body).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}
