//! The console's account and organization pages (server-rendered, work without JavaScript):
//! profile, password, two-step verification and sessions under `/console/account`;
//! organizations, members, roles and invitations under `/console/orgs`; and the invitation
//! landing page `/invitations/{token}`. Every page needs a session ([`SignedIn`]); every form
//! carries the CSRF token. The rules live in `identity::ops`, shared with the JSON API.

pub mod invitations;
pub mod mfa;
pub mod orgs;
pub mod passkeys;
pub mod profile;

use axum::{
    Router,
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::get,
};

use crate::{AppState, csrf::CsrfToken, identity::SignedIn, identity::forms::Errors};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console", get(|| async { Redirect::to("/") }))
        .merge(profile::router())
        .merge(mfa::router())
        .merge(passkeys::router())
        .merge(orgs::router())
        .merge(invitations::router())
}

/// What the console's header shows: who is signed in, the sign-out form's token, the section.
#[derive(Debug, Clone)]
pub struct Nav {
    pub display_name: String,
    pub csrf: String,
    pub section: &'static str,
    /// Whether the operator area is offered.
    pub operator: bool,
}

impl Nav {
    pub fn new(who: &SignedIn, csrf: &CsrfToken, section: &'static str) -> Self {
        Self {
            display_name: who.account.display_name.clone(),
            csrf: csrf.value().to_owned(),
            section,
            operator: who.account.operator,
        }
    }
}

/// A UTC instant as every page shows it: `2026-01-02 03:04:05 UTC` (seconds tell apart attempts
/// made in the same minute).
pub fn when(ts: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ts)
        .ok()
        .and_then(|t| {
            t.format(time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute]:[second] UTC"
            ))
            .ok()
        })
        .unwrap_or_default()
}

/// An operation's refusal as form errors (on its field, or the page as a whole).
pub fn op_errors(e: &gatehouse_core::Error) -> Errors {
    if e.fields.is_empty() {
        return Errors::one("main".to_owned(), e.message.clone());
    }
    // Every field's problem at once, so the form is fixed in one round.
    let mut errors = Errors::none();
    for f in &e.fields {
        errors.add(f.field.clone(), f.message.clone());
    }
    errors
}

/// Renders a page with its status and the CSRF cookie.
pub fn page(status: StatusCode, csrf: CsrfToken, template: &impl askama::Template) -> Response {
    let html = crate::pages::render(template);
    (status, csrf, html).into_response()
}
