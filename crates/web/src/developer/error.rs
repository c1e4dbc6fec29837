//! Why a console operation was refused, in one shape both surfaces map: the JSON API renders it as
//! problem JSON (`code`, `detail`, and for validation failures every field's problem in
//! `errors`), the pages as form errors next to the fields.

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use gatehouse_domain::{DomainError, certificate::CertificateError, identity::FieldErrors, service::SubscriptionError};
use gatehouse_store::StoreError;

use crate::error::{ApiError, PageError};

/// One problem with one field.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct FieldProblem {
    /// The request field (JSON member or form field) the problem is about.
    pub field: String,
    /// Stable, machine-readable code.
    pub code: String,
    pub message: String,
}

/// A refused or failed console operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Every field's problem, for validation failures (the first one is `code`/`message`).
    pub fields: Vec<FieldProblem>,
}

impl From<gatehouse_core::error::Refusal> for ConsoleError {
    fn from(r: gatehouse_core::error::Refusal) -> Self {
        Self::new(crate::error::status_of(r.kind), r.code, r.message)
    }
}

impl ConsoleError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            fields: Vec::new(),
        }
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("There is no such {what}, or you cannot see it."),
        )
    }

    /// A rule said no: 422 with the rule's code.
    pub fn rule(e: DomainError) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, e.code, e.message)
    }

    /// The problem concerns one field.
    pub fn on(mut self, field: &str) -> Self {
        self.fields = vec![FieldProblem {
            field: field.to_owned(),
            code: self.code.to_owned(),
            message: self.message.clone(),
        }];
        self
    }

    pub fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "console operation failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "An internal error occurred. The request ID in the x-request-id header identifies it in the server log.",
        )
    }

    /// The message for a form field, if the problem names one.
    pub fn for_field(&self, field: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|f| f.field == field)
            .map(|f| f.message.as_str())
    }
}

impl From<StoreError> for ConsoleError {
    fn from(e: StoreError) -> Self {
        Self::internal(e)
    }
}

/// Permission refusals are 403; everything else a rule refuses is 422.
impl From<DomainError> for ConsoleError {
    fn from(e: DomainError) -> Self {
        let status = match e.code {
            "service_account_requires_org_admin"
            | "developer_role_required"
            | "not_a_member"
            | "forbidden_owner"
            | "operator_required" => StatusCode::FORBIDDEN,
            "too_many_secrets" | "too_many_certificates" | "certificate_duplicate" | "last_secret" => {
                StatusCode::CONFLICT
            }
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        Self::new(status, e.code, e.message)
    }
}

impl From<CertificateError> for ConsoleError {
    fn from(e: CertificateError) -> Self {
        let status = if e == CertificateError::TooLarge {
            StatusCode::PAYLOAD_TOO_LARGE
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        Self::new(status, e.code(), e.to_string()).on("certificate")
    }
}

impl From<SubscriptionError> for ConsoleError {
    fn from(e: SubscriptionError) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, e.code(), e.to_string())
    }
}

/// Validation failures: every field's problem; the first one gives the code and message.
impl From<FieldErrors> for ConsoleError {
    fn from(errors: FieldErrors) -> Self {
        let (code, message) = errors
            .first()
            .map(|e| (e.error.code, e.error.message.clone()))
            .unwrap_or(("invalid_request", "The request is not valid.".to_owned()));
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code,
            message,
            fields: errors
                .into_iter()
                .map(|e| FieldProblem {
                    field: e.field.to_owned(),
                    code: e.error.code.to_owned(),
                    message: e.error.message,
                })
                .collect(),
        }
    }
}

impl From<ApiError> for ConsoleError {
    fn from(e: ApiError) -> Self {
        Self {
            status: e.status,
            code: match e.code {
                std::borrow::Cow::Borrowed(c) => c,
                std::borrow::Cow::Owned(_) => "invalid_request",
            },
            message: e.detail,
            fields: Vec::new(),
        }
    }
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        let mut body = serde_json::json!({
            "type": "about:blank",
            "title": self.status.canonical_reason().unwrap_or("Error"),
            "status": self.status.as_u16(),
            "code": self.code,
            "detail": self.message,
        });
        if !self.fields.is_empty() {
            body["errors"] = serde_json::json!(self.fields);
        }
        let mut res = (self.status, Json(body)).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        res
    }
}

impl From<ConsoleError> for PageError {
    fn from(e: ConsoleError) -> Self {
        let title = match e.status {
            StatusCode::NOT_FOUND => "Not found",
            StatusCode::FORBIDDEN => "Not allowed",
            StatusCode::PAYLOAD_TOO_LARGE => "Too large",
            s if s.is_server_error() => "Something went wrong",
            _ => "This cannot be done",
        };
        PageError::new(e.status, title, e.message)
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
