//! `/`: the start page. Signed out, the browser goes to sign in (which offers sign-up); signed
//! in, a dashboard of the person's integrations, organizations and recent activity, with the next
//! useful step for an account that has nothing yet (`gatehouse_core::home`).

use askama::Template;
use axum::{
    Router,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use gatehouse_domain::integration::IntegrationStatus;

use crate::{
    AppState,
    account::{Nav, page, when},
    console::pages::{Ctx, type_label},
    csrf::CsrfToken,
    error::PageError,
    extract::ClientInfo,
    identity::OptionalSession,
};

/// A day number (days since 1970-01-01, UTC) as a date.
pub fn router() -> Router<AppState> {
    Router::new().route("/", get(home))
}

struct IntegrationRow {
    id: String,
    name: String,
    type_label: &'static str,
    services: Vec<String>,
    active: bool,
    /// When it was last used, if it has been.
    last_used: Option<String>,
}

struct ActivityRow {
    time: String,
    action: String,
    target: String,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    nav: Nav,
    name: String,
    email: String,
    empty: bool,
    operator: bool,
    email_verified: bool,
    integrations: Vec<IntegrationRow>,
    orgs: Vec<(String, String, &'static str)>,
    activity: Vec<ActivityRow>,
    /// The outbox folder when no SMTP server is configured (shown to operators).
    outbox: Option<String>,
}

async fn home(
    State(state): State<AppState>,
    OptionalSession(who): OptionalSession,
    csrf: CsrfToken,
    client: ClientInfo,
) -> Result<Response, PageError> {
    let Some(who) = who else {
        return Ok(Redirect::to("/signin").into_response());
    };
    let ctx = Ctx::new(&state, who, &csrf, client, "home").await?;
    let h = gatehouse_core::home::home(&state, &ctx.caller).await?;
    let account = &ctx.who.account;
    let p = HomePage {
        name: account.display_name.clone(),
        email: account.email.to_string(),
        empty: h.is_empty(),
        operator: account.operator,
        email_verified: account.email_verified,
        integrations: h
            .integrations
            .iter()
            .map(|(i, subs)| IntegrationRow {
                id: i.id.clone(),
                name: i.name.clone(),
                type_label: type_label(i.integration_type),
                services: subs.iter().map(|s| s.service_code.to_string()).collect(),
                active: i.status == IntegrationStatus::Active,
                last_used: h.last_used.get(&i.id).map(|t| when(*t)),
            })
            .collect(),
        orgs: h
            .orgs
            .iter()
            .map(|(o, r)| (o.id.to_string(), o.name.clone(), r.as_str()))
            .collect(),
        activity: h
            .activity
            .iter()
            .map(|r| ActivityRow {
                time: when(r.entry.at),
                action: r.entry.action.clone(),
                target: r.entry.target.clone(),
            })
            .collect(),
        outbox: gatehouse_core::operator::outbox::outbox_dir(&state).map(|d| d.display().to_string()),
        nav: ctx.nav,
    };
    Ok(page(StatusCode::OK, csrf, &p))
}
