//! Who is calling the events APIs: an integration acting for itself, identified by one of its own
//! access tokens (`Authorization: Bearer …`, RFC 6750 §2.1) and, when present, an `x-api-key` that
//! must be the token's client ID (Adobe's clients send both). Whether a token may be used here is
//! the policy's decision (`gatehouse_core::policy::events_caller`): a token issued to a person
//! through the integration is refused.
//!
//! Token verification is the token service's ([`gatehouse_core::TokenService`]); this
//! module sees it through [`TokenVerifier`] so the events API does not depend on how tokens work.

use std::{future::Future, pin::Pin};

use axum::{
    extract::FromRequestParts,
    http::{HeaderValue, StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
};
use gatehouse_domain::integration::{Integration, IntegrationStatus};

use gatehouse_core::policy::{self, Principal};

use crate::{ApiError, AppState, extract::ClientInfo};
use gatehouse_core::TokenService;

/// A boxed future, so the trait stays object-safe without extra dependencies.
pub type VerifyFuture<'a> = Pin<Box<dyn Future<Output = Result<Option<Verified>, String>> + Send + 'a>>;

/// An active access token: the integration it was issued to, and whether it was issued to that
/// integration acting for itself (its subject is the integration) rather than to a person.
pub struct Verified {
    pub integration: Integration,
    /// The token's subject: the integration itself (its client ID, or a service account's
    /// technical account), or the person it was issued to.
    pub subject: String,
    pub own_token: bool,
}

/// Checks an access token; `Ok(Some(verified))` when it is active and its integration too,
/// `Ok(None)` when it is not, `Err` when the check itself failed.
pub trait TokenVerifier: Send + Sync {
    fn verify<'a>(&'a self, token: &'a str) -> VerifyFuture<'a>;
}

impl TokenVerifier for TokenService {
    fn verify<'a>(&'a self, token: &'a str) -> VerifyFuture<'a> {
        Box::pin(async move {
            let claims = match self.inspect_access_token(token).await {
                Ok(Ok(claims)) => claims,
                Ok(Err(_inactive)) => return Ok(None),
                Err(e) => return Err(e.to_string()),
            };
            // The token service's client cache (cleared on every catalog change) spares a query.
            let client = self.client(&claims.client_id).await.map_err(|e| e.to_string())?;
            Ok(client
                .filter(|c| c.integration.status == IntegrationStatus::Active)
                .map(|c| Verified {
                    own_token: claims.sub == c.own_subject(),
                    subject: claims.sub.clone(),
                    integration: c.integration.clone(),
                }))
        })
    }
}

/// The caller of an events use case ([`gatehouse_core::events::Caller`]) as an extractor: an
/// integration acting for itself, as the policy allows it.
#[derive(Debug, Clone)]
pub struct Caller(pub gatehouse_core::events::Caller);

impl std::ops::Deref for Caller {
    type Target = gatehouse_core::events::Caller;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

fn unauthorized(detail: &str) -> Response {
    let mut res = ApiError::unauthorized(detail).into_response();
    res.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"gatehouse\""),
    );
    res
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| unauthorized("Send an access token: Authorization: Bearer <token>."))?;
        let verified = match state.tokens.verify(token).await {
            Ok(Some(v)) => v,
            Ok(None) => return Err(unauthorized("The access token is invalid, expired or revoked.")),
            Err(e) => return Err(ApiError::internal(e).into_response()),
        };
        let principal = if verified.own_token {
            Principal::integration(verified.integration)
        } else {
            Principal::person_token(&verified.subject, verified.integration.client_id.as_str())
        };
        let allowed = policy::events_caller(&principal).map_err(|r| ApiError::from(r).into_response())?;
        if let Some(key) = parts.headers.get("x-api-key")
            && key.to_str().ok() != Some(allowed.integration().client_id.as_str())
        {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "api_key_mismatch",
                "x-api-key is not the client ID the access token was issued to.",
            )
            .into_response());
        }
        let client = ClientInfo::from_request_parts(parts, state).await.unwrap_or_default();
        Ok(Caller(gatehouse_core::events::Caller::integration(allowed, client.0)))
    }
}
