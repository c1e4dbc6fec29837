//! `/console/account`: profile, password and sessions ("sign out everywhere").

use askama::Template;
use axum::{
    Router,
    extract::{Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use gatehouse_domain::{identity::profile::ProfileInput, password};
use gatehouse_store::SessionStore;
use serde::Deserialize;

use super::{Nav, op_errors, page, when};
use crate::{
    AppState,
    csrf::{CsrfForm, CsrfToken},
    error::PageError,
    extract::ClientInfo,
    identity::{SignedIn, forms::Errors, session},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/account", get(profile_page).post(profile_submit))
        .route("/console/account/password", get(password_page).post(password_submit))
        .route("/console/account/sessions", get(sessions_page))
        .route("/console/account/sessions/end", post(end_one))
        .route("/console/account/sessions/end-all", post(end_all))
}

#[derive(Debug, Default, Deserialize)]
pub struct NoticeQuery {
    pub done: Option<String>,
}

fn notice(code: Option<&str>) -> Option<&'static str> {
    match code? {
        "profile" => Some("Your profile has been saved."),
        "password" => Some("Your password has been changed. Other devices have been signed out."),
        "session" => Some("That session has been signed out."),
        "mfa_on" => Some("Two-step verification is on."),
        "mfa_off" => Some("Two-step verification is off."),
        "codes" => Some("New recovery codes have been created; the old ones no longer work."),
        _ => None,
    }
}

#[derive(Template)]
#[template(path = "console/account.html")]
struct ProfilePage {
    nav: Nav,
    tab: &'static str,
    notice: Option<&'static str>,
    errors: Errors,
    email: String,
    email_verified: bool,
    /// Where mail goes when no SMTP server is configured ([`crate::identity::mail_note`]).
    mail_note: Option<String>,
    account_type: &'static str,
    display_name: String,
    given_name: String,
    family_name: String,
    country: String,
}

fn profile(
    state: &AppState,
    who: &SignedIn,
    csrf: &CsrfToken,
    input: Option<&ProfileInput>,
    notice: Option<&'static str>,
    errors: Errors,
) -> ProfilePage {
    let a = &who.account;
    let (d, g, f, c) = match input {
        Some(i) => (
            i.display_name.clone(),
            i.given_name.clone(),
            i.family_name.clone(),
            i.country.clone(),
        ),
        None => (
            a.display_name.clone(),
            a.given_name.clone(),
            a.family_name.clone(),
            a.country.clone(),
        ),
    };
    ProfilePage {
        nav: Nav::new(who, csrf, "account"),
        tab: "profile",
        notice,
        errors,
        email: a.email.to_string(),
        email_verified: a.email_verified,
        mail_note: crate::identity::mail_note(state),
        account_type: a.account_type.as_str(),
        display_name: d,
        given_name: g,
        family_name: f,
        country: c,
    }
}

async fn profile_page(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let p = profile(&state, &who, &csrf, None, notice(q.done.as_deref()), Errors::none());
    page(StatusCode::OK, csrf, &p)
}

#[derive(Debug, Deserialize)]
struct ProfileForm {
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    given_name: String,
    #[serde(default)]
    family_name: String,
    #[serde(default)]
    country: String,
}

async fn profile_submit(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    CsrfForm(form): CsrfForm<ProfileForm>,
) -> Response {
    let input = ProfileInput {
        display_name: form.display_name,
        given_name: form.given_name,
        family_name: form.family_name,
        country: form.country,
    };
    match gatehouse_domain::identity::profile::parse_profile(&input) {
        Err(errors) => {
            let p = profile(&state, &who, &csrf, Some(&input), None, errors.into());
            page(StatusCode::UNPROCESSABLE_ENTITY, csrf, &p)
        }
        Ok(_) => match gatehouse_core::identity::accounts::update_profile(&state, &who, &input, &client).await {
            Ok(_) => Redirect::to("/console/account?done=profile").into_response(),
            Err(e) => {
                let p = profile(&state, &who, &csrf, Some(&input), None, op_errors(&e));
                page(crate::error::status_of(e.kind), csrf, &p)
            }
        },
    }
}

#[derive(Template)]
#[template(path = "console/password.html")]
struct PasswordPage {
    nav: Nav,
    tab: &'static str,
    notice: Option<&'static str>,
    errors: Errors,
    min_password: usize,
}

fn password_view(who: &SignedIn, csrf: &CsrfToken, notice: Option<&'static str>, errors: Errors) -> PasswordPage {
    PasswordPage {
        nav: Nav::new(who, csrf, "account"),
        tab: "password",
        notice,
        errors,
        min_password: password::MIN_LENGTH,
    }
}

async fn password_page(who: SignedIn, csrf: CsrfToken, Query(q): Query<NoticeQuery>) -> Response {
    let p = password_view(&who, &csrf, notice(q.done.as_deref()), Errors::none());
    page(StatusCode::OK, csrf, &p)
}

#[derive(Debug, Deserialize)]
struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

async fn password_submit(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> Response {
    let mut errors = Errors::none();
    if form.current_password.is_empty() {
        errors.add("current_password", "Enter your current password.");
    }
    crate::identity::signup::check_password_pair(
        &form.password,
        &form.password_confirm,
        who.account.email.as_str(),
        &mut errors,
    );
    if !errors.is_empty() {
        let p = password_view(&who, &csrf, None, errors);
        return page(StatusCode::UNPROCESSABLE_ENTITY, csrf, &p);
    }
    match gatehouse_core::identity::accounts::change_password(
        &state,
        &who,
        &form.current_password,
        &form.password,
        &client,
    )
    .await
    {
        Ok(()) => Redirect::to("/console/account/password?done=password").into_response(),
        Err(e) => {
            let p = password_view(&who, &csrf, None, op_errors(&e));
            page(crate::error::status_of(e.kind), csrf, &p)
        }
    }
}

struct SessionRow {
    id: String,
    device: String,
    ip: String,
    signed_in: String,
    last_seen: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "console/sessions.html")]
struct SessionsPage {
    nav: Nav,
    tab: &'static str,
    notice: Option<&'static str>,
    errors: Errors,
    sessions: Vec<SessionRow>,
}

fn device(ua: Option<&str>) -> String {
    let ua = ua.unwrap_or("Unknown browser");
    let name = ["Edg/", "Firefox/", "Chrome/", "Safari/", "curl/"]
        .iter()
        .find(|n| ua.contains(*n))
        .map(|n| n.trim_end_matches('/').replace("Edg", "Edge"));
    let os = ["Windows", "Mac OS", "Android", "iPhone", "Linux"]
        .iter()
        .find(|o| ua.contains(*o));
    match (name, os) {
        (Some(n), Some(o)) => format!("{n} on {o}"),
        (Some(n), None) => n,
        _ => ua.chars().take(60).collect(),
    }
}

async fn sessions_page(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    let list = state.store.conn().await?.sessions_of_account(&who.account.id).await?;
    let sessions = list
        .into_iter()
        .map(|s| SessionRow {
            current: s.id_digest == who.session.id_digest,
            device: device(s.user_agent.as_deref()),
            ip: s.ip.clone().unwrap_or_default(),
            signed_in: when(s.auth_time),
            last_seen: when(s.last_seen_at),
            id: s.id_digest,
        })
        .collect();
    let p = SessionsPage {
        nav: Nav::new(&who, &csrf, "account"),
        tab: "sessions",
        notice: notice(q.done.as_deref()),
        errors: Errors::none(),
        sessions,
    };
    Ok(page(StatusCode::OK, csrf, &p))
}

#[derive(Debug, Deserialize)]
struct EndForm {
    #[serde(default)]
    session: String,
}

async fn end_one(
    State(state): State<AppState>,
    who: SignedIn,
    client: ClientInfo,
    CsrfForm(form): CsrfForm<EndForm>,
) -> Result<Response, PageError> {
    gatehouse_core::identity::accounts::end_sessions(&state, &who, Some(&form.session), &client)
        .await
        .map_err(|e| {
            PageError::new(
                crate::error::status_of(e.kind),
                "Could not sign out that session",
                e.message,
            )
        })?;
    Ok(Redirect::to("/console/account/sessions?done=session").into_response())
}

#[derive(Debug, Deserialize)]
struct Empty {}

/// Ends every session, this one included.
async fn end_all(
    State(state): State<AppState>,
    who: SignedIn,
    headers: HeaderMap,
    client: ClientInfo,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, PageError> {
    gatehouse_core::identity::accounts::end_sessions(&state, &who, None, &client)
        .await
        .map_err(|e| PageError::new(crate::error::status_of(e.kind), "Could not sign out", e.message))?;
    let cookie = session::end_session(&state, &headers).await?;
    Ok((cookie, Redirect::to("/signin?signed_out=1")).into_response())
}
