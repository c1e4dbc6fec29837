//! Identity rules: what a valid profile, password, membership change, invitation, session and
//! second factor are, and how sign-in attempts are throttled. Pure functions and plain data: the
//! clock and the random source are parameters; storing and serving them is the store's and the
//! web layer's job.

pub mod email_domain;
pub mod enterprise;
pub mod invitation;
pub mod links;
pub mod membership;
pub mod mfa;
pub mod operator;
pub mod passkey;
pub mod password_policy;
pub mod profile;
pub mod session;
pub mod throttle;

use crate::DomainError;

/// A problem with one field of a form or request body: which field, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub error: DomainError,
}

impl FieldError {
    pub fn new(field: &'static str, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            error: DomainError::new(code, message),
        }
    }
}

/// Every problem found in one submission, in field order, so all can be shown at once.
pub type FieldErrors = Vec<FieldError>;
