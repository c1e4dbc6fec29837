//! Personal sign-up (`/signup`, off when `[signup] enabled = false`). The page never says whether
//! an address is registered: a new address gets a verification link, a known one gets a "you
//! already have an account" message, and both see "check your inbox". Sign-in needs the
//! verified address.

use askama::Template;
use axum::{
    Router,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::get,
};
use gatehouse_core::identity::signup;
use gatehouse_domain::{
    identity::{
        password_policy,
        profile::{ProfileInput, parse_email_field, parse_profile},
    },
    password,
};
use serde::Deserialize;

use super::{forms::Errors, signin::MessagePage};
use crate::{
    AppState,
    csrf::{CsrfForm, CsrfToken},
    error::PageError,
    extract::ClientInfo,
    pages,
};

pub fn router() -> Router<AppState> {
    Router::new().route("/signup", get(signup_page).post(signup_submit))
}

#[derive(Template)]
#[template(path = "identity/signup.html")]
struct SignupPage<'a> {
    csrf_token: &'a str,
    email: &'a str,
    display_name: &'a str,
    min_password: usize,
    errors: Errors,
}

fn closed() -> PageError {
    PageError::new(
        StatusCode::NOT_FOUND,
        "Sign-up is closed",
        "This Gatehouse does not let people create accounts themselves. Ask your organization's administrator for an invitation.",
    )
}

fn render(csrf: CsrfToken, email: &str, display_name: &str, errors: Errors) -> Response {
    let status = errors.status();
    let page = SignupPage {
        csrf_token: csrf.value(),
        email,
        display_name,
        min_password: password::MIN_LENGTH,
        errors,
    };
    let html = pages::render(&page);
    (status, csrf, html).into_response()
}

async fn signup_page(State(state): State<AppState>, csrf: CsrfToken) -> Result<Response, PageError> {
    if !state.settings.signup_enabled {
        return Err(closed());
    }
    Ok(render(csrf, "", "", Errors::none()))
}

#[derive(Debug, Deserialize)]
struct SignupForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

/// Checks a new password and its confirmation; errors name the fields.
pub fn check_password_pair(pw: &str, confirm: &str, email: &str, errors: &mut Errors) {
    if pw.is_empty() {
        errors.add("password", "Enter a password.");
    } else if let Err(e) = password_policy::check_new_password(pw, email) {
        errors.add_domain("password", &e);
    } else if pw != confirm {
        errors.add("password_confirm", "The two passwords do not match.");
    }
}

/// Hashes off the async workers (argon2id is deliberately slow).
pub async fn hash_password(pw: String) -> Result<String, PageError> {
    gatehouse_core::pools::hashing::hash(pw)
        .await
        .map_err(PageError::internal)?
        .map_err(PageError::internal)
}

fn check_inbox(state: &AppState, email: &str) -> Response {
    let page = match super::mail_note(state) {
        Some(note) => MessagePage::new(
            "Check the outbox",
            &[
                &format!("The message for {email} {note}"),
                "Open the link in it to confirm your address, then sign in. The link works for 48 hours.",
            ],
            Some(("/signin", "Go to sign-in")),
        ),
        None => MessagePage::new(
            "Check your inbox",
            &[
                &format!(
                    "We have sent a message to {email}. Open the link in it to confirm your address, then sign in."
                ),
                "The link works for 48 hours. If nothing arrives, check your spam folder.",
            ],
            Some(("/signin", "Go to sign-in")),
        ),
    };
    pages::render(&page)
}

async fn signup_submit(
    State(state): State<AppState>,
    csrf: CsrfToken,
    client: ClientInfo,
    CsrfForm(form): CsrfForm<SignupForm>,
) -> Result<Response, PageError> {
    if !state.settings.signup_enabled {
        return Err(closed());
    }
    let mut errors = Errors::none();
    let email = parse_email_field("email", &form.email)
        .map_err(|e| errors.add_domain(e.field, &e.error))
        .ok();
    let profile = parse_profile(&ProfileInput {
        display_name: form.display_name.clone(),
        ..ProfileInput::default()
    })
    .map_err(|es| es.into_iter().for_each(|e| errors.add_domain(e.field, &e.error)))
    .ok();
    check_password_pair(
        &form.password,
        &form.password_confirm,
        email.as_ref().map_or("", |e| e.as_str()),
        &mut errors,
    );
    let (Some(email), Some(profile), true) = (email, profile, errors.is_empty()) else {
        return Ok(render(csrf, &form.email, &form.display_name, errors));
    };
    // The password was checked above; the use case checks it again for its other callers.
    signup::sign_up(&state, &email, profile, &form.password, &client).await?;
    Ok(check_inbox(&state, email.as_str()))
}
