//! The console's errors as HTTP: the core's typed [`Error`] rendered as problem JSON for the API
//! (`code`, `detail`, and for validation failures every field's problem in `errors`) or as a page.
//! The status of each kind is decided once, in [`crate::error::status_of`].

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use gatehouse_core::{Error, Kind};

use super::{ApiError, PageError, status_of};

/// One problem with one field.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct FieldProblem {
    /// The request field (JSON member or form field) the problem is about.
    pub field: String,
    /// Stable, machine-readable code.
    pub code: String,
    pub message: String,
}

/// What a console handler returns.
pub type OpResult<T> = Result<T, ConsoleError>;

/// A refused or failed console operation, on its way to a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleError(pub Error);

impl std::ops::Deref for ConsoleError {
    type Target = Error;

    fn deref(&self) -> &Error {
        &self.0
    }
}

impl<E: Into<Error>> From<E> for ConsoleError {
    fn from(e: E) -> Self {
        Self(e.into())
    }
}

impl ConsoleError {
    pub fn new(kind: Kind, code: &'static str, message: impl Into<String>) -> Self {
        Self(Error::new(kind, code, message))
    }

    pub fn not_found(what: &str) -> Self {
        Self(Error::not_found(what))
    }

    pub fn internal(e: impl std::fmt::Display) -> Self {
        Self(Error::internal(e))
    }

    /// The problem concerns one field.
    pub fn on(self, field: &str) -> Self {
        Self(self.0.on(field))
    }

    pub fn status(&self) -> StatusCode {
        status_of(self.0.kind)
    }
}

/// A request the web crate refused while reading it (a malformed body, a missing CSRF header) on
/// its way to a console response: its kind from its status.
impl From<ApiError> for Error {
    fn from(e: ApiError) -> Self {
        let kind = match e.status {
            StatusCode::BAD_REQUEST => Kind::Malformed,
            StatusCode::NOT_FOUND => Kind::NotFound,
            StatusCode::GONE => Kind::Gone,
            StatusCode::FORBIDDEN => Kind::Forbidden,
            StatusCode::UNAUTHORIZED => Kind::Unauthorized,
            StatusCode::CONFLICT => Kind::Conflict,
            StatusCode::PAYLOAD_TOO_LARGE => Kind::TooLarge,
            StatusCode::SERVICE_UNAVAILABLE => Kind::Unavailable,
            s if s.is_server_error() => Kind::Internal,
            _ => Kind::Invalid,
        };
        let code = match e.code {
            std::borrow::Cow::Borrowed(c) => c,
            std::borrow::Cow::Owned(_) => "invalid_request",
        };
        Error::new(kind, code, e.detail)
    }
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut body = serde_json::json!({
            "type": "about:blank",
            "title": status.canonical_reason().unwrap_or("Error"),
            "status": status.as_u16(),
            "code": self.0.code,
            "detail": self.0.message,
        });
        if !self.0.fields.is_empty() {
            body["errors"] = serde_json::json!(self.0.fields);
        }
        let mut res = (status, Json(body)).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, bearer_challenge(self.0.code));
        }
        res
    }
}

/// RFC 6750 §3: a 401 names the scheme it wants, and says `invalid_token` when a token was sent
/// and refused (a request without credentials gets no error code, §3.1).
pub fn bearer_challenge(code: &str) -> HeaderValue {
    if code == "invalid_token" {
        HeaderValue::from_static("Bearer realm=\"gatehouse\", error=\"invalid_token\"")
    } else {
        HeaderValue::from_static("Bearer realm=\"gatehouse\"")
    }
}

impl From<Error> for PageError {
    fn from(e: Error) -> Self {
        ConsoleError(e).into()
    }
}

impl From<ConsoleError> for PageError {
    fn from(e: ConsoleError) -> Self {
        let status = e.status();
        let title = match status {
            StatusCode::NOT_FOUND => "Not found",
            StatusCode::FORBIDDEN => "Not allowed",
            StatusCode::PAYLOAD_TOO_LARGE => "Too large",
            s if s.is_server_error() => "Something went wrong",
            _ => "This cannot be done",
        };
        PageError::new(status, title, e.0.message)
    }
}

/// Problem JSON as the console API sends it; validation failures list every field's problem in `errors`.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ConsoleProblem {
    #[schema(example = "about:blank")]
    pub r#type: String,
    pub title: String,
    pub status: u16,
    /// Stable, machine-readable code, e.g. `service_not_allowed_for_integration_type`.
    pub code: String,
    pub detail: String,
    /// Every field's problem, for validation failures.
    #[schema(nullable = false)]
    pub errors: Option<Vec<FieldProblem>>,
}
