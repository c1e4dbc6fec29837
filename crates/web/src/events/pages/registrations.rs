//! `/console/integrations/{id}/events`: the integration's registrations with status and health,
//! creating one (the challenge runs at once and its result is shown), and each registration's
//! page: settings (edit), re-enable (the challenge again), disable, delete, the journal URL, the
//! secret section and the attempt log.

use gatehouse_core::events::service::{self, EventsService, RegistrationInput};
use std::sync::Arc;

use askama::Template;
use axum::{
    Extension, Router,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use gatehouse_domain::{
    events::{
        health, journal,
        model::{DeliveryMethod, Registration, RegistrationStatus},
    },
    integration::Integration,
};
use gatehouse_store::{AttemptFilter, EventStore};
use serde::Deserialize;

use super::{EventsCtx, base, method_label, refusal, status_view};
use crate::{
    AppState,
    account::{Nav, page, when},
    console::pages::{Tabs, all_of, one_of},
    csrf::{CsrfForm, CsrfToken},
    error::PageError,
    events::{auth::Caller, view},
    extract::ClientInfo,
    identity::{SignedIn, forms::Errors},
};

/// Attempts shown per page of the log.
const ATTEMPTS_PER_PAGE: i64 = 50;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/integrations/{id}/events", get(list_page).post(create))
        .route(
            "/console/integrations/{id}/events/registrations/{rid}",
            get(registration_page).post(update),
        )
        .route(
            "/console/integrations/{id}/events/registrations/{rid}/enable",
            post(enable),
        )
        .route(
            "/console/integrations/{id}/events/registrations/{rid}/disable",
            post(disable),
        )
        .route(
            "/console/integrations/{id}/events/registrations/{rid}/delete",
            post(delete),
        )
}

/// One row of the registrations table.
pub struct Row {
    pub id: String,
    pub name: String,
    pub method: &'static str,
    pub status: &'static str,
    pub status_class: &'static str,
    pub reason: String,
    pub target: String,
    pub events: usize,
}

/// One event type to choose in the registration form.
pub struct Choice {
    pub value: String,
    pub code: String,
    pub label: String,
    pub checked: bool,
}

/// A provider with the event types the integration may subscribe to.
pub struct ProviderChoices {
    pub label: String,
    pub id: String,
    pub own: bool,
    pub types: Vec<Choice>,
}

/// What the registration form shows (empty for a new one, the stored values when editing, what
/// was typed after a refusal).
#[derive(Default)]
pub struct FormValues {
    pub name: String,
    pub description: String,
    pub delivery_method: String,
    pub webhook_url: String,
    pub chosen: Vec<String>,
}

impl FormValues {
    fn of(r: &Registration) -> Self {
        Self {
            name: r.name.clone(),
            description: r.description.clone(),
            delivery_method: r.delivery_method.as_str().to_owned(),
            webhook_url: r.webhook_url.clone().unwrap_or_default(),
            chosen: r
                .events_of_interest
                .iter()
                .map(|e| choice_value(&e.provider_id, e.event_code.as_str()))
                .collect(),
        }
    }

    fn from_form(fields: &[(String, String)]) -> Self {
        Self {
            name: one_of(fields, "name"),
            description: one_of(fields, "description"),
            delivery_method: one_of(fields, "delivery_method"),
            webhook_url: one_of(fields, "webhook_url"),
            chosen: all_of(fields, "event"),
        }
    }
}

/// A checkbox value: `<provider id>/<event code>` (codes never contain `/`).
fn choice_value(provider_id: &str, code: &str) -> String {
    format!("{provider_id}/{code}")
}

fn parse_choice(v: &str) -> (String, String) {
    match v.rsplit_once('/') {
        Some((p, c)) => (p.to_owned(), c.to_owned()),
        None => (String::new(), v.to_owned()),
    }
}

#[derive(Template)]
#[template(path = "developer/events.html")]
struct ListPage {
    nav: Nav,
    tabs: Tabs,
    i: Integration,
    rows: Vec<Row>,
    providers: Vec<ProviderChoices>,
    form: FormValues,
    notice: Option<&'static str>,
    errors: Errors,
}

/// The providers the caller may see, with their event types, ticked as `chosen` says. Providers
/// without event types are left out.
async fn choices(state: &AppState, caller: &Caller, chosen: &[String]) -> Result<Vec<ProviderChoices>, PageError> {
    let mut conn = state.store.conn().await?;
    let mut out = Vec::new();
    for p in conn.list_providers(Some(&caller.scope())).await? {
        let types = conn.event_types_of(&p.id).await?;
        if types.is_empty() {
            continue;
        }
        out.push(ProviderChoices {
            own: gatehouse_core::policy::owns_provider(&caller.integration, &p),
            types: types
                .iter()
                .map(|t| {
                    let value = choice_value(&p.id, t.event_code.as_str());
                    Choice {
                        checked: chosen.contains(&value),
                        value,
                        code: t.event_code.as_str().to_owned(),
                        label: t.label.clone(),
                    }
                })
                .collect(),
            label: p.label,
            id: p.id,
        });
    }
    Ok(out)
}

fn row(r: &Registration) -> Row {
    let (status, status_class) = status_view(r.status);
    Row {
        id: r.id.clone(),
        name: r.name.clone(),
        method: r.delivery_method.as_str(),
        status,
        status_class,
        reason: r.status_reason.clone().unwrap_or_default(),
        target: r.webhook_url.clone().unwrap_or_else(|| view::journal_path(&r.id)),
        events: r.events_of_interest.len(),
    }
}

async fn render_list(
    state: &AppState,
    ec: EventsCtx,
    form: FormValues,
    notice: Option<&'static str>,
    errors: Errors,
) -> Result<ListPage, PageError> {
    let mut conn = state.store.conn().await?;
    let regs = conn.registrations_of_integration(ec.caller.id()).await?;
    drop(conn);
    let providers = choices(state, &ec.caller, &form.chosen).await?;
    Ok(ListPage {
        nav: ec.ctx.nav,
        tabs: Tabs::of(&ec.integration, "events"),
        i: ec.integration,
        rows: regs.iter().map(row).collect(),
        providers,
        form: FormValues {
            delivery_method: if form.delivery_method.is_empty() {
                "webhook".into()
            } else {
                form.delivery_method
            },
            ..form
        },
        notice,
        errors,
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct Done {
    pub done: Option<String>,
    pub before: Option<i64>,
    pub queued: Option<u64>,
    /// The attempt log's filters: `succeeded` or `failed`, and an event type.
    pub status: Option<String>,
    #[serde(rename = "type")]
    pub event_type: Option<String>,
}

impl Done {
    fn filter(&self) -> AttemptFilter {
        AttemptFilter {
            success: match self.status.as_deref() {
                Some("succeeded") => Some(true),
                Some("failed") => Some(false),
                _ => None,
            },
            event_code: self.event_type.clone().filter(|t| !t.is_empty()),
        }
    }
}

async fn list_page(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path(id): Path<String>,
    Query(q): Query<Done>,
) -> Result<Response, PageError> {
    let ec = EventsCtx::new(&state, who, &csrf, client, &id).await?;
    let notice = match q.done.as_deref() {
        Some("deleted") => Some("Registration deleted. Nothing more is delivered to it."),
        _ => None,
    };
    let p = render_list(&state, ec, FormValues::default(), notice, Errors::none()).await?;
    Ok(page(StatusCode::OK, csrf, &p))
}

fn input_of(form: &FormValues, enabled: bool) -> Result<RegistrationInput, gatehouse_core::Error> {
    Ok(RegistrationInput {
        name: form.name.clone(),
        description: form.description.clone(),
        delivery_method: DeliveryMethod::parse(&form.delivery_method)
            .map_err(|e| gatehouse_core::Error::from(e).on("delivery_method"))?,
        webhook_url: Some(form.webhook_url.clone()).filter(|u| !u.trim().is_empty()),
        events_of_interest: form.chosen.iter().map(|v| parse_choice(v)).collect(),
        enabled,
    })
}

async fn create(
    State(state): State<AppState>,
    Extension(svc): Extension<Arc<EventsService>>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path(id): Path<String>,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let ec = EventsCtx::new(&state, who, &csrf, client, &id).await?;
    let form = FormValues::from_form(&fields);
    let created = match input_of(&form, true) {
        Ok(input) => service::create_registration(&svc, &state, &ec.caller, input).await,
        Err(e) => Err(e),
    };
    match created {
        // Post/redirect/get: a reload of the next page shows it again instead of creating another.
        Ok((r, _secret)) => {
            let done = match r.status {
                RegistrationStatus::Unverified => "created-unverified",
                _ if r.delivery_method.pushes() => "created-active",
                _ => "created-journal",
            };
            Ok(Redirect::to(&format!("{}/registrations/{}?done={done}", base(&id), r.id)).into_response())
        }
        Err(e) => {
            let (status, errors) = refusal(e)?;
            let p = render_list(&state, ec, form, None, errors).await?;
            Ok(page(status, csrf, &p))
        }
    }
}

/// One attempt as the log shows it.
pub struct AttemptRow {
    pub id: i64,
    pub event_code: String,
    pub event_id: String,
    pub cursor: String,
    pub at: String,
    pub status: String,
    pub ok: bool,
    pub latency_ms: i64,
    pub response: String,
    pub error: String,
    pub trigger: String,
}

pub fn attempt_row(a: &gatehouse_domain::events::model::Attempt, registration_id: &str) -> AttemptRow {
    AttemptRow {
        id: a.id,
        event_code: a.event_code.clone(),
        event_id: a.event_id.clone(),
        cursor: journal::cursor(registration_id, a.event_position),
        at: when(a.attempted_at),
        status: a
            .status_code
            .map_or_else(|| "no response".to_owned(), |s| s.to_string()),
        ok: a.status_code.is_some_and(|s| (200..300).contains(&s)) && a.error.is_none(),
        latency_ms: a.latency_ms,
        response: a.response_body.clone(),
        error: a.error.clone().unwrap_or_default(),
        trigger: a.trigger.clone(),
    }
}

#[derive(Template)]
#[template(path = "developer/event_registration.html")]
struct OnePage {
    nav: Nav,
    tabs: Tabs,
    i: Integration,
    r: Row,
    description: String,
    unstable_since: Option<String>,
    method_label: &'static str,
    pushes: bool,
    /// Attempts and failures in the health window (the last 24 hours).
    recent_attempts: u64,
    recent_failures: u64,
    disabled: bool,
    journal_url: String,
    created: String,
    interests: Vec<String>,
    providers: Vec<ProviderChoices>,
    form: FormValues,
    attempts: Vec<AttemptRow>,
    older: Option<i64>,
    new_secret: Option<String>,
    notice: Option<&'static str>,
    queued: Option<u64>,
    errors: Errors,
    /// Deliveries waiting, and when the next is due.
    backlog: i64,
    next_retry: Option<String>,
    /// The log's filters as chosen (`""`: all), and the query string that keeps them for "older".
    filter_status: String,
    filter_type: String,
    filter_query: String,
}

#[derive(Default)]
pub struct Extra {
    pub new_secret: Option<String>,
    pub notice: Option<&'static str>,
    pub queued: Option<u64>,
    pub form: Option<FormValues>,
    pub errors: Errors,
    pub before: Option<i64>,
    pub filter: AttemptFilter,
}

async fn render_one(state: &AppState, ec: EventsCtx, r: Registration, extra: Extra) -> Result<OnePage, PageError> {
    let mut conn = state.store.conn().await?;
    let attempts = conn
        .attempts_of_registration(&r.id, extra.before, ATTEMPTS_PER_PAGE, &extra.filter)
        .await?;
    let backlog = conn.delivery_backlog(&r.id).await?;
    let window = conn.health_window(&r.id, state.now() - health::WINDOW).await?;
    drop(conn);
    let older = (attempts.len() as i64 == ATTEMPTS_PER_PAGE)
        .then(|| attempts.last().map(|a| a.id))
        .flatten();
    let form = extra.form.unwrap_or_else(|| FormValues::of(&r));
    let providers = choices(state, &ec.caller, &form.chosen).await?;
    Ok(OnePage {
        nav: ec.ctx.nav,
        tabs: Tabs::of(&ec.integration, "events"),
        i: ec.integration,
        description: r.description.clone(),
        unstable_since: r.unstable_since.map(when),
        method_label: method_label(r.delivery_method),
        pushes: r.delivery_method.pushes(),
        recent_attempts: window.attempts,
        recent_failures: window.failures,
        disabled: r.status == RegistrationStatus::Disabled,
        journal_url: format!("{}{}", state.settings.public_url, view::journal_path(&r.id)),
        created: when(r.created_at),
        interests: r
            .events_of_interest
            .iter()
            .map(|e| e.event_code.as_str().to_owned())
            .collect(),
        r: row(&r),
        providers,
        form,
        attempts: attempts.iter().map(|a| attempt_row(a, &r.id)).collect(),
        older,
        new_secret: extra.new_secret,
        notice: extra.notice,
        queued: extra.queued,
        errors: extra.errors,
        backlog: backlog.pending,
        next_retry: backlog.next_attempt_at.map(when),
        filter_status: match extra.filter.success {
            Some(true) => "succeeded".into(),
            Some(false) => "failed".into(),
            None => String::new(),
        },
        filter_query: {
            let mut q = url::form_urlencoded::Serializer::new(String::new());
            match extra.filter.success {
                Some(true) => {
                    q.append_pair("status", "succeeded");
                }
                Some(false) => {
                    q.append_pair("status", "failed");
                }
                None => {}
            }
            if let Some(t) = &extra.filter.event_code {
                q.append_pair("type", t);
            }
            q.finish()
        },
        filter_type: extra.filter.event_code.unwrap_or_default(),
    })
}

/// The registration page after a change, or the list's error page when it is not the caller's.
pub async fn show(
    state: &AppState,
    ec: EventsCtx,
    csrf: CsrfToken,
    rid: &str,
    status: StatusCode,
    extra: Extra,
) -> Result<Response, PageError> {
    let mut conn = state.store.conn().await?;
    let r = match service::owned_registration(&mut conn, &ec.caller, rid).await {
        Ok(r) => r,
        Err(e) => return Err(crate::error::ConsoleError::from(e).into()),
    };
    drop(conn);
    let p = render_one(state, ec, r, extra).await?;
    Ok(page(status, csrf, &p))
}

async fn registration_page(
    State(state): State<AppState>,
    Extension(svc): Extension<Arc<EventsService>>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path((id, rid)): Path<(String, String)>,
    Query(q): Query<Done>,
) -> Result<Response, PageError> {
    let ec = EventsCtx::new(&state, who, &csrf, client, &id).await?;
    let notice = match q.done.as_deref() {
        Some("updated") => Some("Settings saved."),
        Some("enabled") => Some("The webhook answered the challenge: the registration is active again."),
        Some("disabled") => Some("Registration disabled. Nothing is delivered until you re-enable it."),
        Some("resent") => Some("The event is queued again; a new attempt appears below once it is sent."),
        Some("recovered") => Some("Failed deliveries are queued again."),
        Some("test-sent") => {
            Some("A test event is queued for this registration; its attempt appears below once it is sent.")
        }
        Some("created-unverified") => Some(
            "Registration created, but the webhook did not pass the challenge: nothing is delivered until it does. Fix the endpoint, then press Re-enable.",
        ),
        Some("created-active") => {
            Some("Registration created. The webhook answered the challenge; events are delivered from now on.")
        }
        Some("created-journal") => Some("Registration created. Read its events from the journal."),
        _ => None,
    };
    // Right after creation the page shows the webhook secret (its managers may read it at any
    // time on the secret page); such a page is never cached.
    let just_created = q.done.as_deref().is_some_and(|d| d.starts_with("created-"));
    let new_secret = if just_created {
        match service::read_secret(&svc, &state, &ec.caller, &rid).await {
            Ok(v) => v["webhook_secret"].as_str().map(str::to_owned),
            Err(_) => None,
        }
    } else {
        None
    };
    let extra = Extra {
        new_secret,
        notice,
        queued: q.queued.filter(|_| q.done.as_deref() == Some("recovered")),
        before: q.before,
        filter: q.filter(),
        ..Extra::default()
    };
    let res = show(&state, ec, csrf, &rid, StatusCode::OK, extra).await?;
    Ok(if just_created {
        crate::console::pages::no_store(res)
    } else {
        res
    })
}

async fn update(
    State(state): State<AppState>,
    Extension(svc): Extension<Arc<EventsService>>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path((id, rid)): Path<(String, String)>,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let ec = EventsCtx::new(&state, who, &csrf, client, &id).await?;
    let mut conn = state.store.conn().await?;
    let current = service::owned_registration(&mut conn, &ec.caller, &rid)
        .await
        .map_err(crate::error::ConsoleError::from)?;
    drop(conn);
    let form = FormValues::from_form(&fields);
    let enabled = current.status != RegistrationStatus::Disabled;
    let updated = match input_of(&form, enabled) {
        Ok(input) => service::update_registration(&svc, &state, &ec.caller, &rid, input).await,
        Err(e) => Err(e),
    };
    match updated {
        Ok(r) if r.status == RegistrationStatus::Unverified => {
            let extra = Extra {
                notice: Some(
                    "Settings saved, but the webhook did not pass the challenge: nothing is delivered until it does.",
                ),
                ..Extra::default()
            };
            show(&state, ec, csrf, &rid, StatusCode::OK, extra).await
        }
        Ok(_) => Ok(Redirect::to(&format!("{}/registrations/{rid}?done=updated", base(&id))).into_response()),
        Err(e) => {
            let (status, errors) = refusal(e)?;
            let extra = Extra {
                form: Some(form),
                errors,
                ..Extra::default()
            };
            show(&state, ec, csrf, &rid, status, extra).await
        }
    }
}

#[derive(Debug, Deserialize)]
struct Empty {}

async fn enable(
    State(state): State<AppState>,
    Extension(svc): Extension<Arc<EventsService>>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path((id, rid)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, PageError> {
    let ec = EventsCtx::new(&state, who, &csrf, client, &id).await?;
    match service::enable_registration(&svc, &state, &ec.caller, &rid).await {
        Ok(_) => Ok(Redirect::to(&format!("{}/registrations/{rid}?done=enabled", base(&id))).into_response()),
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

async fn disable(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path((id, rid)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, PageError> {
    let ec = EventsCtx::new(&state, who, &csrf, client, &id).await?;
    service::disable_registration(&state, &ec.caller, &rid)
        .await
        .map_err(crate::error::ConsoleError::from)?;
    Ok(Redirect::to(&format!("{}/registrations/{rid}?done=disabled", base(&id))).into_response())
}

#[derive(Debug, Deserialize)]
struct DeleteForm {
    #[serde(default)]
    confirm_name: String,
}

async fn delete(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path((id, rid)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<DeleteForm>,
) -> Result<Response, PageError> {
    let ec = EventsCtx::new(&state, who, &csrf, client, &id).await?;
    let mut conn = state.store.conn().await?;
    let r = service::owned_registration(&mut conn, &ec.caller, &rid)
        .await
        .map_err(crate::error::ConsoleError::from)?;
    drop(conn);
    // Deleting loses the journal for good: the name must be typed, as for an integration.
    if form.confirm_name.trim() != r.name {
        let extra = Extra {
            errors: Errors::one("confirm_name", format!("Type {} exactly to delete it.", r.name)),
            ..Extra::default()
        };
        return show(&state, ec, csrf, &rid, StatusCode::UNPROCESSABLE_ENTITY, extra).await;
    }
    service::delete_registration(&state, &ec.caller, &rid)
        .await
        .map_err(crate::error::ConsoleError::from)?;
    Ok(Redirect::to(&format!("{}?done=deleted", base(&id))).into_response())
}
