//! Who is calling the events APIs: an integration acting for itself, identified by one of its own
//! access tokens (`Authorization: Bearer …`, RFC 6750 §2.1) and, when present, an `x-api-key` that
//! must be the token's client ID (Adobe's clients send both). Whether a token may be used here is
//! the policy's decision (`gatehouse_core::policy::events_caller`): a token issued to a person
//! through the integration is refused.
//!
//! Token verification is the token service's ([`gatehouse_core::TokenService`]); this
//! module sees it through [`TokenVerifier`] so the events API does not depend on how tokens work.

use std::{future::Future, pin::Pin, sync::Arc};

use axum::{
    Extension,
    extract::FromRequestParts,
    http::{HeaderValue, StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
};
use gatehouse_domain::{
    audit::Actor,
    integration::{Integration, IntegrationStatus},
};

use gatehouse_core::policy::{self, Principal};

use super::service::EventsService;
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

/// The integration whose events resources are used, and who acts for it: the integration itself
/// with an access token (the API), or a person who manages it (the console pages, which check
/// that before building one with [`Caller::managed_by`]).
#[derive(Debug, Clone)]
pub struct Caller {
    pub integration: Integration,
    /// How the audit log names who acted.
    pub actor: Actor,
    /// Where the request came from, for the audit log.
    pub client: ClientInfo,
}

impl Caller {
    /// The integration acting for itself (an access token).
    pub fn integration(integration: Integration, client: ClientInfo) -> Self {
        Self {
            actor: Actor::Integration(integration.id.clone()),
            integration,
            client,
        }
    }

    /// A person acting on an integration they may manage (checked by the caller of this).
    pub fn managed_by(integration: Integration, actor: Actor, client: ClientInfo) -> Self {
        Self {
            integration,
            actor,
            client,
        }
    }

    pub fn id(&self) -> &str {
        &self.integration.id
    }

    pub fn client_id(&self) -> &str {
        self.integration.client_id.as_str()
    }

    /// Where the caller's custom providers are visible: its organization, or `account:<id>`.
    pub fn scope(&self) -> String {
        gatehouse_domain::events::model::provider_scope(&self.integration.owner)
    }

    pub fn org_id(&self) -> Option<&str> {
        self.integration.org_id()
    }

    /// Does `org` in an Adobe-style path name the caller's organization (or, for a personal
    /// integration, its account scope)?
    pub fn owns_org_path(&self, org: &str) -> bool {
        org == self.scope() || Some(org) == self.org_id()
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
        let Extension(svc) = Extension::<Arc<EventsService>>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::internal("the events service is not attached").into_response())?;
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| unauthorized("Send an access token: Authorization: Bearer <token>."))?;
        let verified = match svc.verifier.verify(token).await {
            Ok(Some(v)) => v,
            Ok(None) => return Err(unauthorized("The access token is invalid, expired or revoked.")),
            Err(e) => return Err(ApiError::internal(e).into_response()),
        };
        let principal = if verified.own_token {
            Principal::integration(verified.integration)
        } else {
            Principal::person_token(&verified.subject, verified.integration.client_id.as_str())
        };
        let integration = policy::events_caller(&principal)
            .map_err(|r| ApiError::from(r).into_response())?
            .into_integration();
        if let Some(key) = parts.headers.get("x-api-key")
            && key.to_str().ok() != Some(integration.client_id.as_str())
        {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "api_key_mismatch",
                "x-api-key is not the client ID the access token was issued to.",
            )
            .into_response());
        }
        let client = ClientInfo::from_request_parts(parts, state).await.unwrap_or_default();
        Ok(Caller::integration(integration, client))
    }
}
