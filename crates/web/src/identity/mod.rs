//! Hosted identity pages and the session machinery other surfaces use: sign-in (email → password
//! → second factor), sign-out, sign-up, email verification, password reset, and the session
//! cookie with its extractors ([`SignedIn`], [`OptionalSession`], [`ApiSession`]).
//!
//! For the token service: call [`redirect_to_signin`] with the full `/oauth/authorize?...` path
//! to send a browser to sign in and back; take [`OptionalSession`] in the handler to see who is
//! signed in, and compare `session.auth_time` for `max_age` (`Session::auth_age_exceeds`) and
//! `prompt=login` (`Session::authenticated_since`).

pub mod forms;
pub mod links_pages;
pub mod passkeys;
pub mod pending;
pub mod return_to;
pub mod session;
pub mod signin;
pub mod signup;

use axum::Router;

pub use gatehouse_core::identity::{IdentityRuntime, IdentitySettings, SmtpSecurity, SmtpSettings};
pub use session::{OptionalSession, SessionCookie, SignedIn, redirect_to_signin};

use crate::AppState;

/// Where a message went when no SMTP server is configured (development mode): a sentence that
/// replaces "we sent you a message" on the pages that say it, naming the outbox folder and where
/// an operator reads it. `None` when mail is sent over SMTP.
pub fn mail_note(state: &AppState) -> Option<String> {
    gatehouse_core::operator::outbox::outbox_dir(state).map(|dir| {
        format!(
            "was not sent by email: no mail server is configured (development mode), so it was written to the \
             outbox folder {} on the server. An operator can read it in the operator area (Operator › Outbox).",
            dir.display()
        )
    })
}

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(signin::router())
        .merge(passkeys::router())
        .merge(signup::router())
        .merge(links_pages::router())
}
