//! The pages one-time links open: email verification (`/verify-email/{token}`) and password
//! reset (`/password-reset`, `/password-reset/{token}`). Opening a link shows a form; only the
//! form's POST uses the link, so a mail scanner that fetches links does not spend them. A used,
//! expired or unknown link gets the same "no longer valid" page, and changes nothing.

use askama::Template;
use axum::{
    Router,
    extract::{Path, State},
    response::{IntoResponse, Response},
    routing::get,
};
use gatehouse_core::identity::audit;
use gatehouse_domain::{
    account::Account,
    audit::Actor,
    identity::{
        links::{LinkPurpose, well_formed},
        profile::parse_email_field,
    },
    password,
};
use gatehouse_store::{AccountStore, AuditStore, OneTimeToken, OneTimeTokenStore, SessionStore};
use serde::Deserialize;

use super::{
    forms::Errors,
    signin::{MessagePage, digest},
    signup::{check_password_pair, hash_password},
};
use crate::{
    AppState,
    csrf::{CsrfForm, CsrfToken},
    error::PageError,
    extract::ClientInfo,
    pages,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/verify-email/{token}", get(verify_page).post(verify_submit))
        .route("/password-reset", get(reset_request_page).post(reset_request_submit))
        .route("/password-reset/{token}", get(reset_page).post(reset_submit))
}

fn unusable(what: &str) -> PageError {
    PageError::gone(
        "This link can no longer be used",
        format!(
            "The {what} link has been used already, has expired, or is incomplete. Links work once, for a limited time. Ask for a new one."
        ),
    )
}

async fn peek(
    state: &AppState,
    token: &str,
    purpose: LinkPurpose,
) -> Result<Option<(OneTimeToken, Account)>, PageError> {
    if !well_formed(token) {
        return Ok(None);
    }
    let mut conn = state.store.conn().await?;
    let Some(t) = conn
        .peek_one_time_token(&digest(token), purpose.as_str(), state.now())
        .await?
    else {
        return Ok(None);
    };
    let Some(account_id) = t.account_id.clone() else {
        return Ok(None);
    };
    Ok(conn.account_by_id(&account_id).await?.map(|a| (t, a)))
}

#[derive(Template)]
#[template(path = "identity/confirm.html")]
struct ConfirmPage<'a> {
    title: &'a str,
    text: String,
    action: String,
    button: &'a str,
    csrf_token: &'a str,
}

async fn verify_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
    csrf: CsrfToken,
) -> Result<Response, PageError> {
    let Some((_, account)) = peek(&state, &token, LinkPurpose::VerifyEmail).await? else {
        return Err(unusable("confirmation"));
    };
    let page = ConfirmPage {
        title: "Confirm your email address",
        text: format!("Confirm that {} is your email address.", account.email),
        action: format!("/verify-email/{token}"),
        button: "Confirm my email address",
        csrf_token: csrf.value(),
    };
    let html = pages::render(&page);
    Ok((csrf, html).into_response())
}

#[derive(Debug, Deserialize)]
struct Empty {}

async fn verify_submit(
    State(state): State<AppState>,
    Path(token): Path<String>,
    client: ClientInfo,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, PageError> {
    if !well_formed(&token) {
        return Err(unusable("confirmation"));
    }
    let now = state.now();
    let mut tx = state.store.begin().await?;
    let Some(t) = tx
        .consume_one_time_token(&digest(&token), LinkPurpose::VerifyEmail.as_str(), now)
        .await?
    else {
        return Err(unusable("confirmation"));
    };
    let account = match &t.account_id {
        Some(id) => tx.account_by_id(id).await?,
        None => None,
    };
    let Some(mut account) = account else {
        return Err(unusable("confirmation"));
    };
    // A link sent to an address the account no longer has proves nothing.
    if t.payload.get("email").and_then(|v| v.as_str()) != Some(account.email.as_str()) {
        return Err(unusable("confirmation"));
    }
    account.email_verified = true;
    account.updated_at = now;
    tx.update_account(&account).await?;
    let entry = audit::entry(
        &state,
        &Actor::Account(account.id.clone()),
        "account.email_verified",
        audit::account_target(&account.id),
        &client,
    )
    .details(serde_json::json!({ "email": account.email.as_str() }));
    tx.append_audit(&entry).await?;
    tx.commit().await?;
    let page = MessagePage::new(
        "Email address confirmed",
        &[&format!("Thank you. {} is confirmed.", account.email)],
        Some(("/signin", "Sign in")),
    );
    Ok(pages::render(&page))
}

#[derive(Template)]
#[template(path = "identity/reset_request.html")]
struct ResetRequestPage<'a> {
    csrf_token: &'a str,
    email: &'a str,
    errors: Errors,
}

async fn reset_request_page(csrf: CsrfToken) -> Response {
    let page = ResetRequestPage {
        csrf_token: csrf.value(),
        email: "",
        errors: Errors::none(),
    };
    let html = pages::render(&page);
    (csrf, html).into_response()
}

#[derive(Debug, Deserialize)]
struct ResetRequestForm {
    #[serde(default)]
    email: String,
}

async fn reset_request_submit(
    State(state): State<AppState>,
    csrf: CsrfToken,
    client: ClientInfo,
    CsrfForm(form): CsrfForm<ResetRequestForm>,
) -> Result<Response, PageError> {
    let email = match parse_email_field("email", &form.email) {
        Ok(e) => e,
        Err(e) => {
            let page = ResetRequestPage {
                csrf_token: csrf.value(),
                email: &form.email,
                errors: Errors::one("email", e.error.message),
            };
            let html = pages::render(&page);
            return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, csrf, html).into_response());
        }
    };
    gatehouse_core::identity::signup::request_password_reset(&state, &email, &client).await?;
    let page = match super::mail_note(&state) {
        Some(note) => MessagePage::new(
            "Check the outbox",
            &[
                &format!(
                    "If an account exists for {email}, a link to choose a new password was made for it. The message {note}"
                ),
                "The link works once, for one hour.",
            ],
            Some(("/signin", "Back to sign-in")),
        ),
        None => MessagePage::new(
            "Check your inbox",
            &[
                &format!("If an account exists for {email}, we have sent it a link to choose a new password."),
                "The link works once, for one hour.",
            ],
            Some(("/signin", "Back to sign-in")),
        ),
    };
    Ok(pages::render(&page))
}

#[derive(Template)]
#[template(path = "identity/new_password.html")]
pub struct NewPasswordPage<'a> {
    pub title: &'a str,
    pub intro: Option<String>,
    pub action: String,
    pub button: &'a str,
    pub ask_current: bool,
    pub csrf_token: &'a str,
    pub min_password: usize,
    pub errors: Errors,
}

fn reset_form(token: &str, account: &Account, csrf: CsrfToken, errors: Errors) -> Response {
    let status = errors.status();
    let page = NewPasswordPage {
        title: "Choose a new password",
        intro: Some(format!(
            "For {}. You will be signed out everywhere else.",
            account.email
        )),
        action: format!("/password-reset/{token}"),
        button: "Set new password",
        ask_current: false,
        csrf_token: csrf.value(),
        min_password: password::MIN_LENGTH,
        errors,
    };
    let html = pages::render(&page);
    (status, csrf, html).into_response()
}

/// A password link: a reset the person asked for (or their organization's admin sent), or the
/// set-up link of an enterprise account an admin created. Both open the same form.
async fn peek_password_link(state: &AppState, token: &str) -> Result<Option<(LinkPurpose, Account)>, PageError> {
    for purpose in [LinkPurpose::PasswordReset, LinkPurpose::AccountSetup] {
        if let Some((_, account)) = peek(state, token, purpose).await? {
            return Ok(Some((purpose, account)));
        }
    }
    Ok(None)
}

async fn reset_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
    csrf: CsrfToken,
) -> Result<Response, PageError> {
    let Some((_, account)) = peek_password_link(&state, &token).await? else {
        return Err(unusable("password reset"));
    };
    Ok(reset_form(&token, &account, csrf, Errors::none()))
}

#[derive(Debug, Deserialize)]
struct NewPasswordForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

async fn reset_submit(
    State(state): State<AppState>,
    Path(token): Path<String>,
    csrf: CsrfToken,
    client: ClientInfo,
    CsrfForm(form): CsrfForm<NewPasswordForm>,
) -> Result<Response, PageError> {
    let Some((purpose, account)) = peek_password_link(&state, &token).await? else {
        return Err(unusable("password reset"));
    };
    let mut errors = Errors::none();
    check_password_pair(
        &form.password,
        &form.password_confirm,
        account.email.as_str(),
        &mut errors,
    );
    if !errors.is_empty() {
        return Ok(reset_form(&token, &account, csrf, errors));
    }
    let hash = hash_password(form.password).await?;
    let now = state.now();
    let mut tx = state.store.begin().await?;
    if tx
        .consume_one_time_token(&digest(&token), purpose.as_str(), now)
        .await?
        .is_none()
    {
        return Err(unusable("password reset"));
    }
    let Some(mut account) = tx.account_by_id(&account.id).await? else {
        return Err(unusable("password reset"));
    };
    account.password_hash = Some(hash);
    // Following the link proves the mailbox.
    account.email_verified = true;
    account.updated_at = now;
    tx.update_account(&account).await?;
    tx.delete_sessions_of_account(&account.id, None).await?;
    let entry = audit::entry(
        &state,
        &Actor::Account(account.id.clone()),
        "password.reset",
        audit::account_target(&account.id),
        &client,
    );
    tx.append_audit(&entry).await?;
    tx.commit().await?;
    let page = MessagePage::new(
        "Your password has been changed",
        &["You have been signed out everywhere. Sign in with your new password."],
        Some(("/signin", "Sign in")),
    );
    Ok(pages::render(&page))
}
