//! Who is calling the events APIs: an integration acting for itself, identified by one of its own
//! access tokens (`Authorization: Bearer …`, RFC 6750 §2.1) and, when present, an `x-api-key` that
//! must be the token's client ID (Adobe's clients send both). Whether a token may be used here is
//! the policy's decision (`gatehouse_core::policy::events_caller`): a token issued to a person
//! through the integration is refused.
//! The node's one token verifier ([`gatehouse_core::TokenService`]) checks the token.

use axum::{
    extract::FromRequestParts,
    http::{HeaderValue, StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
};
use gatehouse_core::policy::{self, Principal};

use crate::{ApiError, AppState, extract::ClientInfo};

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
            .and_then(crate::auth::bearer_token)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| unauthorized("Send an access token: Authorization: Bearer <token>."))?;
        let invalid = || unauthorized("The access token is invalid, expired or revoked.");
        // Checks signature, lifetime, deny-list, cutoffs and that the client is active.
        let claims = match state.tokens.inspect_access_token(token).await {
            Ok(Ok(claims)) => claims,
            Ok(Err(_inactive)) => return Err(invalid()),
            Err(e) => return Err(ApiError::internal(e).into_response()),
        };
        let client = match state.tokens.client(&claims.client_id).await {
            Ok(Some(client)) => client,
            Ok(None) => return Err(invalid()),
            Err(e) => return Err(ApiError::internal(e).into_response()),
        };
        let principal = if claims.sub == client.own_subject() {
            Principal::integration(client.integration.clone())
        } else {
            Principal::person_token(&claims.sub, &claims.client_id)
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
