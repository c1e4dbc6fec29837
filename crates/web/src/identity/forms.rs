//! Form errors as the pages show them: a summary at the top (each entry links to its field) and
//! a message under each field, with `aria-invalid` and `aria-describedby` set by the templates.

use std::borrow::Cow;

use gatehouse_domain::{DomainError, identity::FieldErrors};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormError {
    pub field: Cow<'static, str>,
    pub message: String,
}

/// The problems of one submission, in field order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Errors(pub Vec<FormError>);

impl Errors {
    pub fn none() -> Self {
        Self::default()
    }

    pub fn one(field: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        let mut e = Self::default();
        e.add(field, message);
        e
    }

    pub fn add(&mut self, field: impl Into<Cow<'static, str>>, message: impl Into<String>) {
        self.0.push(FormError {
            field: field.into(),
            message: message.into(),
        });
    }

    pub fn add_domain(&mut self, field: &'static str, e: &DomainError) {
        self.add(field, e.message.clone());
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The message for `field`, if it has one.
    pub fn for_field(&self, field: &str) -> Option<&str> {
        self.0.iter().find(|e| e.field == field).map(|e| e.message.as_str())
    }

    pub fn has(&self, field: &str) -> bool {
        self.for_field(field).is_some()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, FormError> {
        self.0.iter()
    }

    /// 422 when there are errors, 200 otherwise.
    pub fn status(&self) -> axum::http::StatusCode {
        if self.is_empty() {
            axum::http::StatusCode::OK
        } else {
            axum::http::StatusCode::UNPROCESSABLE_ENTITY
        }
    }
}

impl From<FieldErrors> for Errors {
    fn from(errors: FieldErrors) -> Self {
        Self(
            errors
                .into_iter()
                .map(|e| FormError {
                    field: e.field.into(),
                    message: e.error.message,
                })
                .collect(),
        )
    }
}
