//! A registration's webhook secret in the console: rotate it (then the secret page shows the new
//! `whsec_` value; the old one keeps signing for 24 hours) and read it again on a page only its
//! managers reach (never cached). Both call the API's service functions.

use gatehouse_core::events::service::{self, EventsService};
use std::sync::Arc;

use askama::Template;
use axum::{
    Extension, Router,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use gatehouse_domain::integration::Integration;
use serde::Deserialize;

use super::EventsCtx;
use crate::{
    AppState,
    account::{Nav, page},
    console::pages::{Tabs, no_store},
    csrf::{CsrfForm, CsrfToken},
    error::ConsoleError,
    error::PageError,
    extract::ClientInfo,
    identity::SignedIn,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/console/integrations/{id}/events/registrations/{rid}/secret",
            get(read),
        )
        .route(
            "/console/integrations/{id}/events/registrations/{rid}/secret/rotate",
            post(rotate),
        )
}

#[derive(Template)]
#[template(path = "developer/event_secret.html")]
struct SecretPage {
    nav: Nav,
    tabs: Tabs,
    i: Integration,
    rid: String,
    registration_name: String,
    rotated: bool,
    secret: String,
    previous: Option<String>,
    previous_expires_at: Option<String>,
}

fn text(v: &serde_json::Value) -> Option<String> {
    v.as_str().map(str::to_owned)
}

async fn name_of(state: &AppState, ec: &EventsCtx, rid: &str) -> Result<String, PageError> {
    let mut conn = state.store.conn().await?;
    Ok(service::owned_registration(&mut conn, &ec.caller, rid)
        .await
        .map_err(ConsoleError::from)?
        .name)
}

#[derive(Debug, Default, Deserialize)]
struct ReadQuery {
    rotated: Option<String>,
}

async fn read(
    State(state): State<AppState>,
    Extension(svc): Extension<Arc<EventsService>>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path((id, rid)): Path<(String, String)>,
    Query(q): Query<ReadQuery>,
) -> Result<Response, PageError> {
    let ec = EventsCtx::new(&state, who, &csrf, client, &id).await?;
    let registration_name = name_of(&state, &ec, &rid).await?;
    let v = service::read_secret(&svc, &state, &ec.caller, &rid)
        .await
        .map_err(ConsoleError::from)?;
    let p = SecretPage {
        nav: ec.ctx.nav,
        tabs: Tabs::of(&ec.integration, "events"),
        i: ec.integration,
        rid,
        registration_name,
        rotated: q.rotated.is_some(),
        secret: text(&v["webhook_secret"]).unwrap_or_default(),
        previous: text(&v["previous"]["webhook_secret"]),
        previous_expires_at: text(&v["previous"]["expires_at"]),
    };
    Ok(no_store(page(StatusCode::OK, csrf, &p)))
}

#[derive(Debug, Deserialize)]
struct Empty {}

async fn rotate(
    State(state): State<AppState>,
    Extension(svc): Extension<Arc<EventsService>>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path((id, rid)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, PageError> {
    let ec = EventsCtx::new(&state, who, &csrf, client, &id).await?;
    service::rotate_secret(&svc, &state, &ec.caller, &rid)
        .await
        .map_err(ConsoleError::from)?;
    // Post/redirect/get: reloading the secret page reads the secret again, never rotates twice.
    Ok(Redirect::to(&format!(
        "/console/integrations/{id}/events/registrations/{rid}/secret?rotated=1"
    ))
    .into_response())
}
