//! The identity runtime: the hosted sign-in's settings and its in-memory throttles.

pub mod settings;
pub mod signed_in;
pub mod throttles;

pub use settings::{IdentitySettings, SmtpSecurity, SmtpSettings};
pub use signed_in::SignedIn;
pub use throttles::{IdentityRuntime, ThrottleKind};
