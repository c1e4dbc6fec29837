//! `/invitations/{token}`: the page an invitation email links to. Signed in as the invited
//! address: accept. Signed in as someone else: sign in as a different user. Not signed in: sign
//! in (the address has an account) or create the enterprise account the invitation is for.

use askama::Template;
use axum::{
    Router,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use gatehouse_core::identity::audit;
use gatehouse_domain::identity::{
    invitation::Invitation,
    profile::{ProfileInput, parse_profile},
    session::AuthMethod,
};
use serde::Deserialize;

use super::page;
use crate::{
    AppState,
    csrf::{CsrfForm, CsrfToken},
    error::PageError,
    extract::ClientInfo,
    identity::{
        OptionalSession, SignedIn,
        forms::Errors,
        session::start_session,
        signup::{check_password_pair, hash_password},
    },
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/invitations/{token}", get(view))
        .route("/invitations/{token}/accept", post(accept))
        .route("/invitations/{token}/register", post(register))
}

pub enum InvitationMode {
    Accept,
    WrongAccount(String),
    SignIn,
    Register,
}

#[derive(Template)]
#[template(path = "console/invitation.html")]
struct InvitationPage {
    csrf_token: String,
    token: String,
    org_name: String,
    role: &'static str,
    email: String,
    mode: InvitationMode,
    display_name: String,
    errors: Errors,
}

fn gone(e: gatehouse_core::Error) -> PageError {
    PageError::new(
        crate::error::status_of(e.kind),
        "This invitation cannot be used",
        e.message,
    )
}

async fn build(
    state: &AppState,
    token: &str,
    who: Option<&SignedIn>,
    csrf: &CsrfToken,
) -> Result<(InvitationPage, Invitation), PageError> {
    let (inv, org, existing) = gatehouse_core::identity::organizations::peek_invitation(state, token)
        .await
        .map_err(gone)?;
    let mode = match (who, existing) {
        (Some(w), _) if w.account.email == inv.email => InvitationMode::Accept,
        (Some(w), _) => InvitationMode::WrongAccount(w.account.email.to_string()),
        (None, Some(_)) => InvitationMode::SignIn,
        (None, None) => InvitationMode::Register,
    };
    let p = InvitationPage {
        csrf_token: csrf.value().to_owned(),
        token: token.to_owned(),
        org_name: org.name,
        role: inv.role.as_str(),
        email: inv.email.to_string(),
        mode,
        display_name: String::new(),
        errors: Errors::none(),
    };
    Ok((p, inv))
}

async fn view(
    State(state): State<AppState>,
    Path(token): Path<String>,
    csrf: CsrfToken,
    OptionalSession(who): OptionalSession,
) -> Result<Response, PageError> {
    let (p, _) = build(&state, &token, who.as_ref(), &csrf).await?;
    Ok(page(StatusCode::OK, csrf, &p))
}

#[derive(Debug, Deserialize)]
struct Empty {}

async fn accept(
    State(state): State<AppState>,
    Path(token): Path<String>,
    who: SignedIn,
    client: ClientInfo,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, PageError> {
    let org = gatehouse_core::identity::organizations::accept_invitation(&state, &who, &token, &client)
        .await
        .map_err(gone)?;
    Ok(Redirect::to(&format!("/console/orgs/{}", org.id)).into_response())
}

#[derive(Debug, Deserialize)]
struct RegisterForm {
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

async fn register(
    State(state): State<AppState>,
    Path(token): Path<String>,
    csrf: CsrfToken,
    client: ClientInfo,
    CsrfForm(form): CsrfForm<RegisterForm>,
) -> Result<Response, PageError> {
    let (mut p, inv) = build(&state, &token, None, &csrf).await?;
    let mut errors = Errors::none();
    let profile = parse_profile(&ProfileInput {
        display_name: form.display_name.clone(),
        ..ProfileInput::default()
    })
    .map_err(|es| es.into_iter().for_each(|e| errors.add_domain(e.field, &e.error)))
    .ok();
    check_password_pair(&form.password, &form.password_confirm, inv.email.as_str(), &mut errors);
    let (Some(profile), true) = (profile, errors.is_empty()) else {
        p.display_name = form.display_name;
        p.errors = errors;
        return Ok(page(StatusCode::UNPROCESSABLE_ENTITY, csrf, &p));
    };
    let hash = hash_password(form.password).await?;
    let (account, org) =
        gatehouse_core::identity::organizations::register_invited(&state, &token, &profile.display_name, hash, &client)
            .await
            .map_err(gone)?;
    let (_, cookie) = start_session(&state, &account, vec![AuthMethod::Password], &client, None).await?;
    let e = audit::entry(
        &state,
        &gatehouse_domain::audit::Actor::Account(account.id.clone()),
        "signin.succeeded",
        audit::account_target(&account.id),
        &client,
    )
    .details(serde_json::json!({ "amr": ["pwd"], "via": "invitation" }));
    audit::record(&state, &e).await?;
    Ok((cookie, Redirect::to(&format!("/console/orgs/{}", org.id))).into_response())
}
