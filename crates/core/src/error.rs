//! What kind of "no" a use case answers, without HTTP: each surface of the web crate maps a
//! [`Kind`] to its own shape once (problem+JSON, RFC 6749 errors, Adobe's shapes, form errors).

/// The kinds of refusal and failure every use case uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// The input cannot be read at all (bad syntax, a malformed cursor).
    Malformed,
    /// The input is wrong (a field names which part).
    Invalid,
    /// Who is calling is not known (no or a bad credential).
    Unauthorized,
    /// The caller is known and may not do this.
    Forbidden,
    /// There is no such thing, or the caller may not know it exists.
    NotFound,
    /// It existed and can no longer be used (an invitation used or withdrawn).
    Gone,
    /// The change contradicts the current state (a duplicate, the last admin).
    Conflict,
    /// The input is larger than allowed.
    TooLarge,
    /// Too many requests: a rate limit or quota is spent for now.
    TooManyRequests,
    /// Try again later (the database is busy).
    Unavailable,
    /// Gatehouse's own fault; the details are logged, never shown.
    Internal,
}

/// A refusal by the authorization policy: its kind, a stable code and a sentence for the person.
/// It never names another organization's people or data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub kind: Kind,
    pub code: &'static str,
    pub message: String,
}

impl Refusal {
    pub fn new(kind: Kind, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            kind,
            code,
            message: message.into(),
        }
    }

    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Kind::Forbidden, code, message)
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(
            Kind::NotFound,
            "not_found",
            format!("There is no such {what}, or you cannot see it."),
        )
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

/// One problem with one field.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldProblem {
    /// The request field (JSON member or form field) the problem is about.
    pub field: String,
    /// Stable, machine-readable code.
    pub code: String,
    pub message: String,
}

/// Why a use case refused or failed: a kind, a stable code, a sentence for the person, and for
/// validation failures every field's problem (the first one is `code`/`message`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: Kind,
    pub code: &'static str,
    pub message: String,
    pub fields: Vec<FieldProblem>,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn new(kind: Kind, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            kind,
            code,
            message: message.into(),
            fields: Vec::new(),
        }
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(
            Kind::NotFound,
            "not_found",
            format!("There is no such {what}, or you cannot see it."),
        )
    }

    /// A rule said no about the input (whatever the rule's code).
    pub fn rule(e: gatehouse_domain::DomainError) -> Self {
        Self::new(Kind::Invalid, e.code, e.message)
    }

    /// Logs `cause` and answers a generic internal error that reveals nothing of it.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "operation failed with an internal error");
        Self::new(
            Kind::Internal,
            "internal_error",
            "An internal error occurred. The request ID in the x-request-id header identifies it in the server log.",
        )
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

    /// Several fields' problems as one refusal, so a form reports them all in one round: the
    /// first gives the kind, code and message; `None` when there are none.
    pub fn together(errors: Vec<Error>) -> Option<Self> {
        let mut all = errors.into_iter();
        let mut first = all.next()?;
        for e in all {
            first.fields.extend(e.fields);
        }
        Some(first)
    }

    /// The field the problem is about, when there is one.
    pub fn field(&self) -> Option<&str> {
        self.fields.first().map(|f| f.field.as_str())
    }

    /// The message for a form field, if the problem names one.
    pub fn for_field(&self, field: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|f| f.field == field)
            .map(|f| f.message.as_str())
    }
}

/// Names the field a failed step is about: `parse(x).on_field("name")?`.
pub trait OnField<T> {
    fn on_field(self, field: &str) -> Result<T>;
}

impl<T, E: Into<Error>> OnField<T> for std::result::Result<T, E> {
    fn on_field(self, field: &str) -> Result<T> {
        self.map_err(|e| e.into().on(field))
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl From<Refusal> for Error {
    fn from(r: Refusal) -> Self {
        Self::new(r.kind, r.code, r.message)
    }
}

impl From<gatehouse_store::StoreError> for Error {
    fn from(e: gatehouse_store::StoreError) -> Self {
        use gatehouse_store::StoreError;
        match e {
            StoreError::Conflict(_) => Self::new(
                Kind::Conflict,
                "conflict",
                "An object with the same identifier already exists.",
            ),
            StoreError::Busy(why) => {
                tracing::warn!(reason = %why, "the store is busy");
                Self::new(
                    Kind::Unavailable,
                    "temporarily_unavailable",
                    "The server is busy; try again in a moment.",
                )
            }
            other => Self::internal(other),
        }
    }
}

/// The kind of a domain rule's refusal, by its code: the rules that guard state (the last admin,
/// a full set of secrets) are conflicts, the few that concern who acts on whom are forbidden, and
/// every other rule is about the input.
pub fn kind_of_rule(code: &str) -> Kind {
    match code {
        "admin_required" | "not_a_member" | "personal_account" | "managed_by_another_organization" => Kind::Forbidden,
        "last_admin"
        | "already_disabled"
        | "not_disabled"
        | "too_many_secrets"
        | "too_many_certificates"
        | "certificate_duplicate"
        | "last_secret"
        | "not_empty"
        | "production_workspace"
        | "name_taken"
        | "not_migrating"
        | "not_a_service_account"
        | "service_without_server_to_server" => Kind::Conflict,
        _ => Kind::Invalid,
    }
}

impl From<gatehouse_domain::DomainError> for Error {
    fn from(e: gatehouse_domain::DomainError) -> Self {
        Self::new(kind_of_rule(e.code), e.code, e.message)
    }
}

impl From<gatehouse_domain::certificate::CertificateError> for Error {
    fn from(e: gatehouse_domain::certificate::CertificateError) -> Self {
        let kind = if e == gatehouse_domain::certificate::CertificateError::TooLarge {
            Kind::TooLarge
        } else {
            Kind::Invalid
        };
        Self::new(kind, e.code(), e.to_string()).on("certificate")
    }
}

impl From<gatehouse_domain::service::SubscriptionError> for Error {
    fn from(e: gatehouse_domain::service::SubscriptionError) -> Self {
        Self::new(Kind::Invalid, e.code(), e.to_string())
    }
}

/// Validation failures: every field's problem; the first one gives the code and message.
impl From<gatehouse_domain::identity::FieldErrors> for Error {
    fn from(errors: gatehouse_domain::identity::FieldErrors) -> Self {
        let (code, message) = errors
            .first()
            .map(|e| (e.error.code, e.error.message.clone()))
            .unwrap_or(("invalid_request", "The request is not valid.".to_owned()));
        Self {
            kind: Kind::Invalid,
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
