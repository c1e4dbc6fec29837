//! `/console/integrations/{id}/subscriptions`: the services an integration subscribes to, with
//! their scopes (change or unsubscribe), and the catalog to subscribe from. A service that does
//! not allow the integration's type refuses with a message naming both.

use askama::Template;
use axum::{
    Router,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use gatehouse_core::Kind;
use gatehouse_core::console;
use gatehouse_domain::{
    integration::{Integration, IntegrationType},
    service::{ActsFor, Service},
};
use serde::Deserialize;

use super::{Ctx, Tabs, all_of, form_errors, one_of, type_label};
use crate::{
    AppState,
    account::{Nav, page},
    csrf::{CsrfForm, CsrfToken},
    error::ConsoleError,
    error::PageError,
    extract::ClientInfo,
    identity::{SignedIn, forms::Errors},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/console/integrations/{id}/subscriptions",
            get(subscriptions_page).post(subscribe),
        )
        .route("/console/integrations/{id}/subscriptions/{code}", post(update))
        .route(
            "/console/integrations/{id}/subscriptions/{code}/remove",
            post(unsubscribe),
        )
}

struct ScopeChoice {
    scope: String,
    checked: bool,
}

struct Current {
    code: String,
    name: String,
    scopes: Vec<ScopeChoice>,
}

struct Offer {
    code: String,
    name: String,
    description: String,
    acts_for: &'static str,
    allowed: bool,
    allowed_labels: String,
    scopes: Vec<String>,
}

#[derive(Template)]
#[template(path = "developer/subscriptions.html")]
struct SubscriptionsPage {
    nav: Nav,
    tabs: Tabs,
    i: Integration,
    type_label: &'static str,
    /// "an OAuth", "a Service Account", "an API Key".
    type_with_article: &'static str,
    current: Vec<Current>,
    /// Services this integration may subscribe to, and, listed apart, those it may not.
    offers: Vec<Offer>,
    unavailable: Vec<Offer>,
    notice: Option<&'static str>,
    errors: Errors,
}

fn acts_for_label(a: ActsFor) -> &'static str {
    match a {
        ActsFor::User => "acts for a signed-in person",
        ActsFor::Organization => "acts for an organization",
    }
}

async fn render(
    state: &AppState,
    ctx: Ctx,
    id: &str,
    notice: Option<&'static str>,
    errors: Errors,
) -> Result<SubscriptionsPage, PageError> {
    let d = console::integrations::details(state, &ctx.caller, id).await?;
    let services = console::catalog::list(state).await?;
    let name_of = |code: &str| -> String {
        services
            .iter()
            .find(|s| s.code.as_str() == code)
            .map_or_else(|| code.to_owned(), |s| s.name.clone())
    };
    let current = d
        .subscriptions
        .iter()
        .map(|sub| {
            let offered: Vec<String> = services
                .iter()
                .find(|s| s.code == sub.service_code)
                .map(|s| s.scopes.clone())
                .unwrap_or_default();
            Current {
                code: sub.service_code.to_string(),
                name: name_of(sub.service_code.as_str()),
                scopes: offered
                    .into_iter()
                    .map(|scope| ScopeChoice {
                        checked: sub.scopes.contains(&scope),
                        scope,
                    })
                    .collect(),
            }
        })
        .collect();
    let t = d.integration.integration_type;
    let (offers, unavailable): (Vec<Offer>, Vec<Offer>) = services
        .iter()
        .filter(|s| !d.subscriptions.iter().any(|sub| sub.service_code == s.code))
        .map(|s: &Service| Offer {
            code: s.code.to_string(),
            name: s.name.clone(),
            description: s.description.clone(),
            acts_for: acts_for_label(s.acts_for),
            allowed: s.allows(t),
            allowed_labels: IntegrationType::labels(&s.allowed_types),
            scopes: s.scopes.clone(),
        })
        .partition(|o| o.allowed);
    Ok(SubscriptionsPage {
        nav: ctx.nav,
        tabs: Tabs::of(&d.integration, "subscriptions"),
        type_label: type_label(t),
        type_with_article: t.with_article(),
        unavailable,
        i: d.integration,
        current,
        offers,
        notice,
        errors,
    })
}

#[derive(Debug, Default, Deserialize)]
struct Done {
    done: Option<String>,
}

async fn subscriptions_page(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path(id): Path<String>,
    Query(q): Query<Done>,
) -> Result<Response, PageError> {
    let ctx = Ctx::new(&state, who, &csrf, client, "integrations").await?;
    let notice = match q.done.as_deref() {
        Some("subscribed") => Some("Subscribed. New tokens carry the chosen scopes."),
        Some("updated") => Some("Scopes saved. Scopes you removed are revoked from tokens already issued."),
        Some("unsubscribed") => Some("Unsubscribed. The service's scopes are revoked from tokens already issued."),
        _ => None,
    };
    let p = render(&state, ctx, &id, notice, Errors::none()).await?;
    Ok(page(StatusCode::OK, csrf, &p))
}

async fn refused(
    state: &AppState,
    ctx: Ctx,
    csrf: CsrfToken,
    id: &str,
    e: gatehouse_core::Error,
) -> Result<Response, PageError> {
    if crate::error::status_of(e.kind).is_server_error() {
        return Err(e.into());
    }
    let mut errors = form_errors(&e);
    if errors.is_empty() {
        errors.add("service", e.message.clone());
    }
    let p = render(state, ctx, id, None, errors).await?;
    Ok(page(crate::error::status_of(e.kind), csrf, &p))
}

async fn subscribe(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path(id): Path<String>,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let ctx = Ctx::new(&state, who, &csrf, client, "integrations").await?;
    let service = one_of(&fields, "service");
    let scopes = all_of(&fields, "scope");
    match console::subscriptions::subscribe(&state, &ctx.caller, &id, &service, &scopes, false).await {
        Ok(_) => Ok(Redirect::to(&format!("/console/integrations/{id}/subscriptions?done=subscribed")).into_response()),
        Err(e) => refused(&state, ctx, csrf, &id, e).await,
    }
}

async fn update(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path((id, code)): Path<(String, String)>,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let ctx = Ctx::new(&state, who, &csrf, client, "integrations").await?;
    let scopes = all_of(&fields, "scope");
    if scopes.is_empty() {
        let e = ConsoleError::new(
            Kind::Invalid,
            "scopes_required",
            "Keep at least one scope, or unsubscribe from the service.",
        )
        .on("scopes");
        return refused(&state, ctx, csrf, &id, e.0).await;
    }
    match console::subscriptions::subscribe(&state, &ctx.caller, &id, &code, &scopes, true).await {
        Ok(_) => Ok(Redirect::to(&format!("/console/integrations/{id}/subscriptions?done=updated")).into_response()),
        Err(e) => refused(&state, ctx, csrf, &id, e).await,
    }
}

#[derive(Debug, Deserialize)]
struct Empty {}

async fn unsubscribe(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path((id, code)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, PageError> {
    let ctx = Ctx::new(&state, who, &csrf, client, "integrations").await?;
    match console::subscriptions::unsubscribe(&state, &ctx.caller, &id, &code).await {
        Ok(()) => {
            Ok(Redirect::to(&format!("/console/integrations/{id}/subscriptions?done=unsubscribed")).into_response())
        }
        Err(e) => refused(&state, ctx, csrf, &id, e).await,
    }
}
