//! `/console/integrations/{id}/events/providers`: the custom event providers the integration owns
//! and their event types; create a provider, add an event type (code, label, description, sample).
//! The use cases (`gatehouse_core::events::providers`, `gatehouse_core::events::event_types`) do the work.

use askama::Template;
use axum::{
    Router,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use gatehouse_core::events::{
    event_types::{self, EventTypeInput},
    providers::{self, ProviderInput},
};
use gatehouse_domain::{events::model::EventType, integration::Integration};
use gatehouse_store::EventStore;
use serde::Deserialize;

use super::{EventsCtx, base, refusal};
use crate::{
    AppState,
    account::{Nav, page},
    console::pages::Tabs,
    csrf::{CsrfForm, CsrfToken},
    error::PageError,
    extract::ClientInfo,
    identity::{SignedIn, forms::Errors},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/console/integrations/{id}/events/providers",
            get(providers_page).post(create_provider),
        )
        .route(
            "/console/integrations/{id}/events/providers/{pid}/types",
            post(add_type),
        )
}

struct TypeRow {
    code: String,
    label: String,
    description: String,
    sample: String,
}

struct ProviderRow {
    id: String,
    label: String,
    description: String,
    source: String,
    types: Vec<TypeRow>,
}

/// What was typed into a form that was refused, to show it again.
#[derive(Default, Deserialize)]
struct Typed {
    #[serde(default)]
    label: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    docs_url: String,
    #[serde(default)]
    event_code: String,
    #[serde(default)]
    sample: String,
}

#[derive(Template)]
#[template(path = "developer/event_providers.html")]
struct ProvidersPage {
    nav: Nav,
    tabs: Tabs,
    i: Integration,
    providers: Vec<ProviderRow>,
    /// The form the errors belong to: `provider`, or a provider ID for its event-type form.
    form_of: String,
    typed: Typed,
    notice: Option<&'static str>,
    errors: Errors,
}

fn type_row(t: &EventType) -> TypeRow {
    TypeRow {
        code: t.event_code.as_str().to_owned(),
        label: t.label.clone(),
        description: t.description.clone(),
        sample: t
            .sample
            .as_ref()
            .and_then(|s| serde_json::to_string_pretty(s).ok())
            .unwrap_or_default(),
    }
}

async fn render(
    state: &AppState,
    ec: EventsCtx,
    form_of: String,
    typed: Typed,
    notice: Option<&'static str>,
    errors: Errors,
) -> Result<ProvidersPage, PageError> {
    let mut conn = state.store.conn().await?;
    let mut rows = Vec::new();
    for p in conn.list_providers(Some(&ec.caller.scope())).await? {
        if !gatehouse_core::policy::owns_provider(&ec.caller.integration, &p) {
            continue;
        }
        let types = conn.event_types_of(&p.id).await?;
        rows.push(ProviderRow {
            source: p.source(),
            types: types.iter().map(type_row).collect(),
            id: p.id,
            label: p.label,
            description: p.description,
        });
    }
    Ok(ProvidersPage {
        nav: ec.ctx.nav,
        tabs: Tabs::of(&ec.integration, "events"),
        i: ec.integration,
        providers: rows,
        form_of,
        typed,
        notice,
        errors,
    })
}

#[derive(Debug, Default, Deserialize)]
struct Done {
    done: Option<String>,
}

async fn providers_page(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path(id): Path<String>,
    Query(q): Query<Done>,
) -> Result<Response, PageError> {
    let ec = EventsCtx::new(&state, who, &csrf, client, &id).await?;
    let notice = match q.done.as_deref() {
        Some("provider") => Some("Provider created. Add its event types below."),
        Some("type") => Some("Event type added. Registrations can subscribe to it now."),
        _ => None,
    };
    let p = render(&state, ec, String::new(), Typed::default(), notice, Errors::none()).await?;
    Ok(page(StatusCode::OK, csrf, &p))
}

async fn refused(
    state: &AppState,
    ec: EventsCtx,
    csrf: CsrfToken,
    form_of: String,
    typed: Typed,
    e: gatehouse_core::Error,
) -> Result<Response, PageError> {
    let (status, errors) = refusal(e)?;
    let p = render(state, ec, form_of, typed, None, errors).await?;
    Ok(page(status, csrf, &p))
}

async fn create_provider(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path(id): Path<String>,
    CsrfForm(typed): CsrfForm<Typed>,
) -> Result<Response, PageError> {
    let ec = EventsCtx::new(&state, who, &csrf, client, &id).await?;
    let input = ProviderInput {
        label: typed.label.clone(),
        description: typed.description.clone(),
        docs_url: Some(typed.docs_url.trim().to_owned()).filter(|u| !u.is_empty()),
        instance_id: None,
    };
    match providers::create(&state, &ec.caller, &input).await {
        Ok(_) => Ok(Redirect::to(&format!("{}/providers?done=provider", base(&id))).into_response()),
        Err(e) => refused(&state, ec, csrf, "provider".into(), typed, e).await,
    }
}

async fn add_type(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path((id, pid)): Path<(String, String)>,
    CsrfForm(typed): CsrfForm<Typed>,
) -> Result<Response, PageError> {
    let ec = EventsCtx::new(&state, who, &csrf, client, &id).await?;
    let sample = match typed.sample.trim() {
        "" => None,
        s => match serde_json::from_str::<serde_json::Value>(s) {
            Ok(v) => Some(v),
            Err(e) => {
                let e = gatehouse_core::Error::new(
                    gatehouse_core::Kind::Invalid,
                    "invalid_sample",
                    format!("The sample is not valid JSON: {e}."),
                )
                .on("sample");
                return refused(&state, ec, csrf, pid, typed, e).await;
            }
        },
    };
    let input = EventTypeInput {
        event_code: Some(typed.event_code.trim().to_owned()),
        label: typed.label.clone(),
        description: typed.description.clone(),
        sample,
    };
    match event_types::create(&state, &ec.caller, &pid, &input).await {
        Ok(_) => Ok(Redirect::to(&format!("{}/providers?done=type", base(&id))).into_response()),
        Err(e) => refused(&state, ec, csrf, pid, typed, e).await,
    }
}
