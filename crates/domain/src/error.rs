//! Validation errors raised while parsing domain values. Each carries a stable machine code.

/// A value failed to parse into a domain type. `code` is stable and machine-readable;
/// `message` is written for the person who supplied the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DomainError {
    pub code: &'static str,
    pub message: String,
}

impl DomainError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}
