//! Debugging and recovery from the console: one event's attempts at one registration with
//! **Resend**; one attempt's page (the request's headers, signatures and body as sent, the
//! response's status, headers and body excerpt, latency and error); **Recover failed since T** and
//! **Send test event** for a registration. They call the same service functions as the API
//! (`service::resend_event`, `service::recover_failed`, `service::send_test_event`); the
//! dispatcher sends what they queue.

use askama::Template;
use axum::{
    Router,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use gatehouse_core::events::service;
use gatehouse_domain::{events::debug, integration::Integration};
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
        .route(
            "/console/integrations/{id}/events/registrations/{rid}/attempts/{attempt}",
            get(attempt_page),
        )
        .route(
            "/console/integrations/{id}/events/registrations/{rid}/test",
            post(send_test),
        )
}

#[derive(Template)]
#[template(path = "developer/event_attempt.html")]
struct AttemptPage {
    nav: Nav,
    tabs: Tabs,
    i: Integration,
    rid: String,
    registration_name: String,
    a: AttemptRow,
    webhook_url: String,
    request_headers: Vec<(String, String)>,
    signatures: Vec<(String, String)>,
    request_body: String,
    response_headers: Vec<(String, String)>,
    /// Recorded before Gatehouse kept requests and response headers.
    nothing_kept: bool,
}

async fn attempt_page(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path((id, rid, attempt)): Path<(String, String, i64)>,
) -> Result<Response, PageError> {
    let ec = EventsCtx::new(&state, who, &csrf, client, &id).await?;
    let mut conn = state.store.conn().await?;
    let r = service::owned_registration(&mut conn, &ec.caller, &rid)
        .await
        .map_err(ConsoleError::from)?;
    let Some(a) = conn.attempt_of_registration(&rid, attempt).await? else {
        return Err(ConsoleError::not_found("attempt of this registration").into());
    };
    drop(conn);
    let (signatures, request_headers): (Vec<_>, Vec<_>) = a
        .request_headers
        .iter()
        .cloned()
        .partition(|(name, _)| debug::is_signature(name));
    let p = AttemptPage {
        nav: ec.ctx.nav,
        tabs: Tabs::of(&ec.integration, "events"),
        i: ec.integration,
        registration_name: r.name,
        webhook_url: r.webhook_url.unwrap_or_default(),
        nothing_kept: a.request_headers.is_empty() && a.request_body.is_empty(),
        request_headers,
        signatures,
        request_body: pretty(&a.request_body),
        response_headers: a.response_headers.clone(),
        a: attempt_row(&a, &rid),
        rid,
    };
    Ok(page(StatusCode::OK, csrf, &p))
}

/// A JSON body indented for reading; anything else as it is.
fn pretty(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| body.to_owned())
}

async fn send_test(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path((id, rid)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, PageError> {
    let ec = EventsCtx::new(&state, who, &csrf, client, &id).await?;
    match service::send_test_event(&state, &ec.caller, &rid).await {
        Ok(_) => Ok(Redirect::to(&format!("{}/registrations/{rid}?done=test-sent", base(&id))).into_response()),
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

#[derive(Debug, Deserialize)]
struct Empty {}

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
