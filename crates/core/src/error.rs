//! What kind of "no" a use case answers, without HTTP: each surface of the web crate maps a
//! [`Kind`] to its own shape once (problem+JSON, RFC 6749 errors, Adobe's shapes, form errors).

/// The kinds of refusal and failure every use case uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// The input is wrong (a field names which part).
    Invalid,
    /// Who is calling is not known (no or a bad credential).
    Unauthorized,
    /// The caller is known and may not do this.
    Forbidden,
    /// There is no such thing, or the caller may not know it exists.
    NotFound,
    /// The change contradicts the current state (a duplicate, the last admin).
    Conflict,
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
