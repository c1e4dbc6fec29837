//! The token endpoints' responses: the JSON body with its cache headers, and the mapping of the
//! grants' failures (`gatehouse_core::tokens::Failure`) to each surface's errors.

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use gatehouse_core::tokens::service::Failure;
use gatehouse_domain::token::{OAuthErrorCode, TokenError};

use crate::OAuthError;

/// A successful token response (RFC 6749 §5.1): JSON, never cached.
pub fn token_response(body: serde_json::Value) -> Response {
    let mut res = (StatusCode::OK, Json(body)).into_response();
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    res
}

/// The standard surface's error (RFC 6749 §5.2): 401 for `invalid_client`, else 400.
pub fn oauth_error(f: Failure) -> OAuthError {
    match f {
        Failure::Internal(e) => e.into(),
        Failure::Token(e) => {
            let description = e.to_string();
            tracing::info!(reason = e.reason(), "token request refused");
            match e.error() {
                OAuthErrorCode::InvalidClient => OAuthError::invalid_client(description),
                code => OAuthError::new(StatusCode::BAD_REQUEST, code.as_str(), description),
            }
        }
    }
}

/// The Adobe-compatible surface's error (compat §2): Adobe's codes; 401 only for a wrong secret.
pub fn ims_error(f: Failure) -> OAuthError {
    match f {
        Failure::Internal(e) => {
            let mut err = OAuthError::server_error(e);
            err.error = "internal_error";
            err.description = Some("Please try again later".into());
            err
        }
        Failure::Token(e) => {
            tracing::info!(reason = e.reason(), "token request refused");
            let status = match e {
                TokenError::InvalidClientSecret | TokenError::ClientAuthenticationRequired => StatusCode::UNAUTHORIZED,
                _ => StatusCode::BAD_REQUEST,
            };
            let mut err = OAuthError::new(status, e.adobe_code(), e.to_string());
            if status == StatusCode::UNAUTHORIZED {
                err.www_authenticate = Some("Basic realm=\"gatehouse\"".into());
            }
            err
        }
    }
}
