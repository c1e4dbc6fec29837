//! Identity: the storage of sessions, second factors and invitations on both backends, and the
//! hosted pages and API (sign-up, sign-in, sessions, MFA, organizations) end to end.

// Test code: a failed expectation should stop the test with a message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api;
mod api_tokens;
mod browser;
pub(crate) mod enterprise;
mod events;
pub(crate) mod helpers;
pub(crate) mod mfa;
mod orgs;
mod passkey_store;
mod passkeys;
mod signin;
mod store;
mod timeouts;
