//! Identity: the hosted pages and API (sign-up, sign-in, sessions, MFA, organizations, passkeys)
//! end to end. The storage of sessions, second factors, invitations and passkeys is tested in
//! `store::identity` and `store::passkeys`.

// Test code: a failed expectation should stop the test with a message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api;
pub(crate) mod api_tokens;
mod browser;
mod domains;
pub(crate) mod enterprise;
mod enumeration;
mod events;
pub(crate) mod helpers;
mod mail_limits;
pub(crate) mod mfa;
mod orgs;
mod passkeys;
mod signin;
mod timeouts;
