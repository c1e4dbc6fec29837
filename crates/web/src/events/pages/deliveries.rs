//! Recovery from the console: one event's attempts at one registration with **Resend**, and
//! **Recover failed since T** for a registration. Both call the same service functions as the
//! API (`service::resend_event`, `service::recover_failed`); the dispatcher sends what they queue.

use askama::Template;
use axum::{
    Router,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use gatehouse_core::events::service;
use gatehouse_domain::integration::Integration;
use gatehouse_store::EventStore;
use serde::Deserialize;

use super::{
    EventsCtx, base, refusal,
    registrations::{AttemptRow, Done, Extra, attempt_row, show},
};
use crate::{
    AppState,
    account::{Nav, page},
    console::pages::Tabs,
    csrf::{CsrfForm, CsrfToken},
    error::ConsoleError,
    error::PageError,
    extract::ClientInfo,
    identity::{SignedIn, forms::Errors},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/console/integrations/{id}/events/registrations/{rid}/events/{cursor}",
            get(event_page),
        )
        .route(
            "/console/integrations/{id}/events/registrations/{rid}/events/{cursor}/resend",
            post(resend),
        )
        .route(
            "/console/integrations/{id}/events/registrations/{rid}/recover",
            post(recover),
        )
}

#[derive(Template)]
#[template(path = "developer/event_attempts.html")]
struct EventPage {
    nav: Nav,
    tabs: Tabs,
    i: Integration,
    rid: String,
    registration_name: String,
    cursor: String,
    state: &'static str,
    attempt_count: i64,
    attempts: Vec<AttemptRow>,
    notice: Option<&'static str>,
    errors: Errors,
}

async fn event_page(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path((id, rid, cursor)): Path<(String, String, String)>,
    Query(q): Query<Done>,
) -> Result<Response, PageError> {
    let ec = EventsCtx::new(&state, who, &csrf, client, &id).await?;
    let mut conn = state.store.conn().await?;
    let r = service::owned_registration(&mut conn, &ec.caller, &rid)
        .await
        .map_err(ConsoleError::from)?;
    let position = service::position(&rid, &cursor).map_err(ConsoleError::from)?;
    let Some((delivery_state, attempt_count)) = conn.delivery_state(&rid, position).await? else {
        return Err(ConsoleError::not_found("event in this registration's journal").into());
    };
    let attempts = conn.attempts_of_event(&rid, position).await?;
    drop(conn);
    let notice = match q.done.as_deref() {
        Some("resent") => Some("The event is queued again; a new attempt appears here once it is sent."),
        _ => None,
    };
    let p = EventPage {
        nav: ec.ctx.nav,
        tabs: Tabs::of(&ec.integration, "events"),
        i: ec.integration,
        registration_name: r.name,
        state: delivery_state.as_str(),
        attempt_count,
        attempts: attempts.iter().map(|a| attempt_row(a, &rid)).collect(),
        rid,
        cursor,
        notice,
        errors: Errors::none(),
    };
    Ok(page(StatusCode::OK, csrf, &p))
}

#[derive(Debug, Deserialize)]
struct ResendForm {
    /// Where to go back to: `event` (the event's page) or the registration's log.
    #[serde(default)]
    back: String,
}

async fn resend(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path((id, rid, cursor)): Path<(String, String, String)>,
    CsrfForm(form): CsrfForm<ResendForm>,
) -> Result<Response, PageError> {
    let ec = EventsCtx::new(&state, who, &csrf, client, &id).await?;
    service::resend_event(&state, &ec.caller, &rid, &cursor)
        .await
        .map_err(ConsoleError::from)?;
    let to = if form.back == "event" {
        format!("{}/registrations/{rid}/events/{cursor}?done=resent", base(&id))
    } else {
        format!("{}/registrations/{rid}?done=resent", base(&id))
    };
    Ok(Redirect::to(&to).into_response())
}

#[derive(Debug, Deserialize)]
struct RecoverForm {
    #[serde(default)]
    since: String,
}

async fn recover(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path((id, rid)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<RecoverForm>,
) -> Result<Response, PageError> {
    let ec = EventsCtx::new(&state, who, &csrf, client, &id).await?;
    match service::recover_failed(&state, &ec.caller, &rid, &form.since).await {
        Ok(n) => {
            Ok(Redirect::to(&format!("{}/registrations/{rid}?done=recovered&queued={n}", base(&id))).into_response())
        }
        Err(e) => {
            let (status, errors) = refusal(e)?;
            let extra = Extra {
                errors,
                ..Extra::default()
            };
            show(&state, ec, csrf, &rid, status, extra).await
        }
    }
}
