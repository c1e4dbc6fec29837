//! The console's "Events" tab of an integration (server-rendered, usable without JavaScript):
//! its registrations with status and health ([`registrations`]), each registration's attempt
//! log, resend and recovery ([`deliveries`]), its webhook secret ([`secret`]), and the custom
//! event providers it owns with their event types ([`providers`]).
//!
//! Only people who may manage the integration (an admin of its organization, the developer who
//! created it, the owner of a personal one) reach these pages; everyone else gets "not found".
//! Every change is a CSRF-protected form that calls the same [`super::service`] functions as the
//! JSON API, acting as the person (the audit log names them, their IP and user agent).

mod deliveries;
mod providers;
mod registrations;
mod secret;

use axum::{Router, http::StatusCode};
use gatehouse_core::console;
use gatehouse_domain::integration::Integration;

use crate::events::auth::Caller;
use crate::{
    AppState,
    console::pages::Ctx,
    csrf::CsrfToken,
    error::PageError,
    extract::ClientInfo,
    identity::{SignedIn, forms::Errors},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(registrations::router())
        .merge(deliveries::router())
        .merge(secret::router())
        .merge(providers::router())
}

/// A signed-in person on one integration's events pages: the console context, the integration
/// (if they may manage it) and the events caller acting as them.
pub struct EventsCtx {
    pub ctx: Ctx,
    pub integration: Integration,
    pub caller: Caller,
}

impl EventsCtx {
    pub async fn new(
        state: &AppState,
        who: SignedIn,
        csrf: &CsrfToken,
        client: ClientInfo,
        integration_id: &str,
    ) -> Result<Self, PageError> {
        let ctx = Ctx::new(state, who, csrf, client, "integrations").await?;
        let mut conn = state.store.conn().await?;
        let allowed = console::managed_integration(&mut conn, &ctx.caller, integration_id).await?;
        let integration = allowed.integration().clone();
        let caller = Caller(gatehouse_core::events::Caller::managed_by(
            allowed,
            ctx.caller.actor.clone(),
            ctx.caller.client.clone(),
        ));
        Ok(Self {
            ctx,
            integration,
            caller,
        })
    }
}

/// The form field that shows a problem with the API field `field` (the forms name two of them
/// differently).
fn form_field(field: &str) -> String {
    match field {
        "events_of_interest" => "events".to_owned(),
        other => other.to_owned(),
    }
}

/// A refusal as form errors, or the error page when it is not the person's to fix.
pub fn refusal(e: gatehouse_core::Error) -> Result<(StatusCode, Errors), PageError> {
    let status = crate::error::status_of(e.kind);
    if status.is_server_error() || (e.kind == gatehouse_core::Kind::NotFound && e.code == "not_found") {
        return Err(e.into());
    }
    if e.fields.is_empty() {
        return Ok((status, Errors::one("main".to_owned(), sentence(&e.message))));
    }
    // Every field's problem at once.
    let mut errors = Errors::none();
    for f in &e.fields {
        errors.add(form_field(&f.field), sentence(&f.message));
    }
    Ok((status, errors))
}

/// A message as a sentence: capitalised, ending with a full stop.
pub fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    let mut out: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    };
    if !out.ends_with(['.', '!', '?', ')']) {
        out.push('.');
    }
    out
}

/// How the pages name a registration's status, and the tag class that colours it.
pub fn status_view(s: gatehouse_domain::events::model::RegistrationStatus) -> (&'static str, &'static str) {
    use gatehouse_domain::events::model::RegistrationStatus::*;
    match s {
        Active => ("Active", "on"),
        Unstable => ("Unstable", "warn"),
        Disabled => ("Disabled", "off"),
        Unverified => ("Unverified", "warn"),
    }
}

pub fn method_label(m: gatehouse_domain::events::model::DeliveryMethod) -> &'static str {
    use gatehouse_domain::events::model::DeliveryMethod::*;
    match m {
        Webhook => "Webhook (one event per request)",
        WebhookBatch => "Webhook batch (several events per request)",
        Journal => "Journal only (your application reads it)",
    }
}

/// The base path of an integration's events pages.
pub fn base(integration_id: &str) -> String {
    format!("/console/integrations/{integration_id}/events")
}
