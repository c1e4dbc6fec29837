//! The identity runtime: the hosted sign-in's settings and its in-memory throttles.

pub mod settings;
pub mod throttles;

pub use settings::{IdentitySettings, SmtpSecurity, SmtpSettings};
pub use throttles::{IdentityRuntime, ThrottleKind};
