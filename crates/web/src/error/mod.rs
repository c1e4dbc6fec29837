//! The one place errors become HTTP responses, one type per surface:
//! - [`ApiError`]: the JSON APIs (`/api/v1`, events): RFC 7807 problem JSON with a stable `code`;
//! - [`OAuthError`]: the token service: RFC 6749 §5.2 JSON (`error`, `error_description`), with
//!   `WWW-Authenticate` on 401;
//! - [`PageError`]: server-rendered pages: an HTML error page.
//!
//! Internal causes (database failures, bugs) are logged with the request's span and never sent to
//! the client, who gets a generic message. Rejections of malformed input are converted here too, so
//! a bad JSON body gets the API's error shape rather than axum's plain text.

use std::borrow::Cow;

use axum::{
    Json,
    extract::rejection::{FormRejection, JsonRejection, PathRejection, QueryRejection},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use gatehouse_domain::DomainError;
use gatehouse_store::StoreError;

use crate::pages;

pub mod console;

pub use console::{ConsoleError, ConsoleProblem, FieldProblem, OpResult};

/// The problem JSON body every error has (RFC 7807).
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[schema(example = "about:blank")]
    pub r#type: String,
    pub title: String,
    pub status: u16,
    /// Stable, machine-readable code, e.g. `last_admin`.
    pub code: String,
    /// A sentence for the person.
    pub detail: String,
}

const INTERNAL_DETAIL: &str = "An internal error occurred. The request ID in the x-request-id header identifies it \
                               in the server log.";

fn log_internal(cause: &dyn std::fmt::Display) {
    tracing::error!(error = %cause, "request failed with an internal error");
}

// ---------------------------------------------------------------------------------------------
// JSON APIs
// ---------------------------------------------------------------------------------------------

/// An API error: rendered as `application/problem+json` (RFC 7807) with a machine-readable `code`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: Cow<'static, str>,
    pub detail: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: impl Into<Cow<'static, str>>, detail: impl Into<String>) -> Self {
        Self {
            status,
            code: code.into(),
            detail: detail.into(),
        }
    }

    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, detail)
    }

    pub fn unprocessable(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, detail)
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", detail)
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, detail)
    }

    /// Logs `cause` and answers 500 without revealing it.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        log_internal(&cause);
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", INTERNAL_DETAIL)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "type": "about:blank",
            "title": self.status.canonical_reason().unwrap_or("Error"),
            "status": self.status.as_u16(),
            "code": self.code,
            "detail": self.detail,
        });
        let mut res = (self.status, Json(body)).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if self.status == StatusCode::UNAUTHORIZED {
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, console::bearer_challenge(&self.code));
        }
        res
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        Self::unprocessable(e.code, e.message)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(_) => Self::conflict("conflict", "An object with the same identifier already exists."),
            StoreError::MissingReference(_) => Self::unprocessable(
                "missing_reference",
                "The request refers to an object that does not exist.",
            ),
            StoreError::Busy(why) => {
                tracing::warn!(reason = %why, "the store is busy");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "temporarily_unavailable",
                    "The server is busy; try again in a moment.",
                )
            }
            other => Self::internal(other),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        let code = match r {
            JsonRejection::MissingJsonContentType(_) => "unsupported_media_type",
            JsonRejection::JsonSyntaxError(_) => "invalid_json",
            JsonRejection::JsonDataError(_) => "invalid_body",
            _ => "invalid_body",
        };
        Self::new(r.status(), code, r.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_query", r.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", r.body_text())
    }
}

// ---------------------------------------------------------------------------------------------
// OAuth 2.0 token service
// ---------------------------------------------------------------------------------------------

/// An OAuth error response (RFC 6749 §5.2; RFC 6750 §3 for `invalid_token`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub status: StatusCode,
    /// The RFC's error code, e.g. `invalid_grant`.
    pub error: &'static str,
    pub description: Option<String>,
    /// Sent as `WWW-Authenticate` (always on 401).
    pub www_authenticate: Option<String>,
}

impl OAuthError {
    pub fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        let description = description.into();
        Self {
            status,
            error,
            description: (!description.is_empty()).then_some(description),
            www_authenticate: None,
        }
    }

    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    /// Client authentication failed (§5.2): 401 with a `Basic` challenge.
    pub fn invalid_client(description: impl Into<String>) -> Self {
        let mut e = Self::new(StatusCode::UNAUTHORIZED, "invalid_client", description);
        e.www_authenticate = Some("Basic realm=\"gatehouse\"".to_owned());
        e
    }

    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_grant", description)
    }

    pub fn unauthorized_client(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "unauthorized_client", description)
    }

    pub fn unsupported_grant_type(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "unsupported_grant_type", description)
    }

    pub fn invalid_scope(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_scope", description)
    }

    pub fn access_denied(description: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "access_denied", description)
    }

    /// A bearer token was missing, expired or revoked (RFC 6750 §3.1).
    pub fn invalid_token(description: impl Into<String>) -> Self {
        let description = description.into();
        let mut e = Self::new(StatusCode::UNAUTHORIZED, "invalid_token", description.clone());
        let challenge = format!(
            "Bearer realm=\"gatehouse\", error=\"invalid_token\", error_description=\"{}\"",
            description.replace(['"', '\\'], "'")
        );
        e.www_authenticate = Some(challenge);
        e
    }

    /// Logs `cause` and answers `server_error` (500) without revealing it.
    pub fn server_error(cause: impl std::fmt::Display) -> Self {
        log_internal(&cause);
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "")
    }

    pub fn with_www_authenticate(mut self, challenge: impl Into<String>) -> Self {
        self.www_authenticate = Some(challenge.into());
        self
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let mut body = serde_json::Map::new();
        body.insert("error".to_owned(), self.error.into());
        if let Some(d) = &self.description {
            body.insert("error_description".to_owned(), d.clone().into());
        }
        let mut res = (self.status, Json(body)).into_response();
        let headers = res.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        let challenge = match (&self.www_authenticate, self.status) {
            (Some(c), _) => Some(c.clone()),
            (None, StatusCode::UNAUTHORIZED) => Some("Bearer realm=\"gatehouse\"".to_owned()),
            _ => None,
        };
        if let Some(v) = challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            headers.insert(header::WWW_AUTHENTICATE, v);
        }
        res
    }
}

impl From<StoreError> for OAuthError {
    fn from(e: StoreError) -> Self {
        Self::server_error(e)
    }
}

impl From<FormRejection> for OAuthError {
    fn from(r: FormRejection) -> Self {
        Self::invalid_request(r.body_text())
    }
}

impl From<QueryRejection> for OAuthError {
    fn from(r: QueryRejection) -> Self {
        Self::invalid_request(r.body_text())
    }
}

impl From<JsonRejection> for OAuthError {
    fn from(r: JsonRejection) -> Self {
        Self::invalid_request(r.body_text())
    }
}

// ---------------------------------------------------------------------------------------------
// HTML pages
// ---------------------------------------------------------------------------------------------

/// An error shown as a page: a title and a sentence that tells the person what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageError {
    pub status: StatusCode,
    pub title: String,
    pub message: String,
}

impl PageError {
    pub fn new(status: StatusCode, title: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            status,
            title: title.into(),
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "The request could not be understood", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "Not allowed", message)
    }

    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "Page not found",
            "There is no page at this address. Check the link, or go back to the start page.",
        )
    }

    /// A link that was valid once (a used or expired one-time link).
    pub fn gone(title: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(StatusCode::GONE, title, message)
    }

    /// Logs `cause` and shows a generic page.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        log_internal(&cause);
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong",
            INTERNAL_DETAIL,
        )
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let page = pages::ErrorPage {
            title: &self.title,
            message: &self.message,
        };
        (self.status, pages::render(&page)).into_response()
    }
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        Self::internal(e)
    }
}

impl From<FormRejection> for PageError {
    fn from(r: FormRejection) -> Self {
        Self::bad_request(r.body_text())
    }
}

impl From<QueryRejection> for PageError {
    fn from(r: QueryRejection) -> Self {
        Self::bad_request(r.body_text())
    }
}

impl From<PathRejection> for PageError {
    fn from(_: PathRejection) -> Self {
        Self::not_found()
    }
}

impl From<gatehouse_core::tokens::ServiceError> for OAuthError {
    fn from(e: gatehouse_core::tokens::ServiceError) -> Self {
        OAuthError::server_error(e)
    }
}

/// The HTTP status of each kind of refusal or failure the core answers.
pub fn status_of(kind: gatehouse_core::error::Kind) -> StatusCode {
    use gatehouse_core::error::Kind;
    match kind {
        Kind::Malformed => StatusCode::BAD_REQUEST,
        Kind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
        Kind::Unauthorized => StatusCode::UNAUTHORIZED,
        Kind::Forbidden => StatusCode::FORBIDDEN,
        Kind::NotFound => StatusCode::NOT_FOUND,
        Kind::Gone => StatusCode::GONE,
        Kind::Conflict => StatusCode::CONFLICT,
        Kind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        Kind::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
        Kind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        Kind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl From<gatehouse_core::error::Refusal> for ApiError {
    fn from(r: gatehouse_core::error::Refusal) -> Self {
        Self::new(status_of(r.kind), r.code, r.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::to_bytes;

    async fn parts(res: Response) -> (StatusCode, axum::http::HeaderMap, String) {
        let status = res.status();
        let headers = res.headers().clone();
        let body = to_bytes(res.into_body(), usize::MAX).await.unwrap();
        (status, headers, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn api_errors_are_problem_json_with_a_code() {
        let (status, headers, body) = parts(ApiError::conflict("client_id_taken", "taken").into_response()).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(headers[header::CONTENT_TYPE], "application/problem+json");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["code"], "client_id_taken");
        assert_eq!(v["status"], 409);
        assert_eq!(v["detail"], "taken");
    }

    #[tokio::test]
    async fn a_busy_store_asks_to_try_again_without_saying_why() {
        let e = ApiError::from(StoreError::Busy("2 publications in flight".into()));
        let (status, _, body) = parts(e.into_response()).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["code"], "temporarily_unavailable");
        assert!(!body.contains("in flight"), "{body}");
    }

    #[tokio::test]
    async fn internal_causes_are_not_sent() {
        let e = ApiError::from(StoreError::Corrupt("secret table layout".into()));
        let (status, _, body) = parts(e.into_response()).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!body.contains("secret table layout"), "{body}");
        let (_, _, body) = parts(OAuthError::server_error("db password wrong").into_response()).await;
        assert!(!body.contains("db password"), "{body}");
        let (_, _, body) = parts(PageError::internal("stack trace here").into_response()).await;
        assert!(!body.contains("stack trace here"), "{body}");
    }

    #[tokio::test]
    async fn oauth_errors_follow_rfc_6749() {
        let (status, headers, body) = parts(OAuthError::invalid_client("unknown client").into_response()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(headers[header::WWW_AUTHENTICATE], "Basic realm=\"gatehouse\"");
        assert_eq!(headers[header::CACHE_CONTROL], "no-store");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["error"], "invalid_client");
        assert_eq!(v["error_description"], "unknown client");

        let (status, headers, body) = parts(OAuthError::invalid_grant("").into_response()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(headers.get(header::WWW_AUTHENTICATE).is_none());
        assert_eq!(body, r#"{"error":"invalid_grant"}"#);

        let (_, headers, _) = parts(OAuthError::invalid_token("expired").into_response()).await;
        assert!(
            headers[header::WWW_AUTHENTICATE]
                .to_str()
                .unwrap()
                .contains("error=\"invalid_token\"")
        );
    }

    #[tokio::test]
    async fn page_errors_are_escaped_html() {
        let e = PageError::bad_request("<script>alert(1)</script>");
        let (status, headers, body) = parts(e.into_response()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
        assert!(!body.contains("<script>"), "{body}");
        assert!(
            body.contains("&#60;script&#62;") || body.contains("&lt;script&gt;"),
            "{body}"
        );
    }
}
