//! Identity: the account and organization use cases, enterprise accounts, the mails with one-time
//! links, sign-in audit entries and events, and the hosted sign-in's settings and throttles.

pub mod accounts;
pub mod audit;
pub mod changes;
pub mod domains;
pub mod emails;
pub mod enterprise;
pub mod failure_events;
pub mod links;
pub mod organizations;
pub mod settings;
pub mod signed_in;
pub mod signup;
pub mod throttles;

pub use settings::{IdentitySettings, MailLimits, SmtpSecurity, SmtpSettings};
pub use signed_in::SignedIn;
pub use throttles::{IdentityRuntime, ThrottleKind};
