//! `/console/services`: the services catalog. Everyone signed in sees it; operators add services,
//! change them (code, name, description, allowed integration types, scopes, whom it acts for,
//! upstream URL) and delete them after a confirmation that names what it ends.

use askama::Template;
use axum::{
    Router,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use gatehouse_core::console;
use gatehouse_domain::{console::catalog::ServiceInput, integration::IntegrationType, service::Service};
use serde::Deserialize;

use super::{Ctx, all_of, form_errors, one_of, type_label};
use crate::{
    AppState,
    account::{Nav, page},
    csrf::{CsrfForm, CsrfToken},
    error::PageError,
    extract::ClientInfo,
    identity::{SignedIn, forms::Errors},
};
use gatehouse_domain::gateway::Limits;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/services", get(list_page).post(create))
        .route("/console/services/new", get(new_page))
        .route("/console/services/{code}", get(edit_page).post(update))
        .route("/console/services/{code}/delete", get(delete_page).post(delete))
}

struct Row {
    code: String,
    name: String,
    description: String,
    allowed: Vec<&'static str>,
    scopes: Vec<String>,
    acts_for: &'static str,
}

#[derive(Template)]
#[template(path = "developer/services.html")]
struct ListPage {
    nav: Nav,
    rows: Vec<Row>,
    operator: bool,
    notice: Option<&'static str>,
}

#[derive(Debug, Clone, Default)]
struct Values {
    code: String,
    name: String,
    description: String,
    allowed_types: Vec<String>,
    scopes: String,
    acts_for: String,
    upstream_url: String,
    identity: String,
    gateway_path: String,
    per_second: String,
    burst: String,
    per_day: String,
    per_month: String,
}

/// A limit as typed: empty is none; anything but a positive number reads as 0, which the limits'
/// validation refuses with its message.
fn limit<T: std::str::FromStr + Default>(s: &str) -> Option<T> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.parse().unwrap_or_default())
}

fn shown<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

impl Values {
    fn of(s: &Service) -> Self {
        Self {
            code: s.code.to_string(),
            name: s.name.clone(),
            description: s.description.clone(),
            allowed_types: s.allowed_types.iter().map(|t| t.as_str().to_owned()).collect(),
            scopes: s.scopes.join("\n"),
            acts_for: s.acts_for.as_str().to_owned(),
            upstream_url: s.upstream_url.clone().unwrap_or_default(),
            identity: s.gateway.identity.as_str().to_owned(),
            gateway_path: s.gateway.path.clone().unwrap_or_default(),
            per_second: shown(s.gateway.limits.per_second),
            burst: shown(s.gateway.limits.burst),
            per_day: shown(s.gateway.limits.per_day),
            per_month: shown(s.gateway.limits.per_month),
        }
    }

    fn from_form(fields: &[(String, String)]) -> Self {
        Self {
            code: one_of(fields, "code"),
            name: one_of(fields, "name"),
            description: one_of(fields, "description"),
            allowed_types: all_of(fields, "allowed_types"),
            scopes: one_of(fields, "scopes"),
            acts_for: one_of(fields, "acts_for"),
            upstream_url: one_of(fields, "upstream_url"),
            identity: one_of(fields, "identity"),
            gateway_path: one_of(fields, "gateway_path"),
            per_second: one_of(fields, "per_second"),
            burst: one_of(fields, "burst"),
            per_day: one_of(fields, "per_day"),
            per_month: one_of(fields, "per_month"),
        }
    }

    fn input(&self) -> ServiceInput {
        ServiceInput {
            code: self.code.clone(),
            name: self.name.clone(),
            description: self.description.clone(),
            allowed_types: self.allowed_types.clone(),
            scopes: self.scopes.split([' ', '\n', '\r', ',']).map(str::to_owned).collect(),
            acts_for: self.acts_for.clone(),
            upstream_url: Some(self.upstream_url.clone()),
            identity: self.identity.clone(),
            gateway_path: self.gateway_path.clone(),
            limits: Limits {
                per_second: limit(&self.per_second),
                burst: limit(&self.burst),
                per_day: limit(&self.per_day),
                per_month: limit(&self.per_month),
            },
        }
    }

    fn allows(&self, t: &str) -> bool {
        self.allowed_types.iter().any(|a| a == t)
    }
}

#[derive(Template)]
#[template(path = "developer/service_form.html")]
struct FormPage {
    nav: Nav,
    /// `None` when creating.
    existing: Option<String>,
    editable: bool,
    values: Values,
    types: Vec<(&'static str, &'static str)>,
    errors: Errors,
}

fn types() -> Vec<(&'static str, &'static str)> {
    IntegrationType::ALL
        .iter()
        .map(|t| (t.as_str(), type_label(*t)))
        .collect()
}

#[derive(Debug, Default, Deserialize)]
struct Done {
    done: Option<String>,
}

async fn list_page(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Query(q): Query<Done>,
) -> Result<Response, PageError> {
    let ctx = Ctx::new(&state, who, &csrf, client, "services").await?;
    let rows = console::catalog::list(&state)
        .await?
        .iter()
        .map(|s| Row {
            code: s.code.to_string(),
            name: s.name.clone(),
            description: s.description.clone(),
            allowed: s.allowed_types.iter().map(|t| type_label(*t)).collect(),
            scopes: s.scopes.clone(),
            acts_for: match s.acts_for {
                gatehouse_domain::service::ActsFor::User => "A signed-in person",
                gatehouse_domain::service::ActsFor::Organization => "An organization",
            },
        })
        .collect();
    let notice = match q.done.as_deref() {
        Some("created") => Some("The service was added to the catalog."),
        Some("updated") => Some("The service was saved. Subscriptions lost any scope or type it no longer offers."),
        Some("deleted") => Some(
            "The service was deleted. Its subscriptions were removed and the scopes it granted were revoked from \
             issued tokens.",
        ),
        _ => None,
    };
    let p = ListPage {
        nav: ctx.nav,
        rows,
        operator: ctx.caller.principal.operator,
        notice,
    };
    Ok(page(StatusCode::OK, csrf, &p))
}

async fn new_page(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
) -> Result<Response, PageError> {
    let ctx = Ctx::new(&state, who, &csrf, client, "services").await?;
    gatehouse_core::policy::catalog_admin(&ctx.caller.principal).map_err(|e| PageError::forbidden(e.message))?;
    let p = FormPage {
        nav: ctx.nav,
        existing: None,
        editable: true,
        values: Values {
            acts_for: "user".into(),
            ..Values::default()
        },
        types: types(),
        errors: Errors::none(),
    };
    Ok(page(StatusCode::OK, csrf, &p))
}

async fn edit_page(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    let ctx = Ctx::new(&state, who, &csrf, client, "services").await?;
    let service = console::catalog::get(&state, &code).await?;
    let p = FormPage {
        nav: ctx.nav,
        existing: Some(service.code.to_string()),
        editable: ctx.caller.principal.operator,
        values: Values::of(&service),
        types: types(),
        errors: Errors::none(),
    };
    Ok(page(StatusCode::OK, csrf, &p))
}

async fn save(
    state: AppState,
    ctx: Ctx,
    csrf: CsrfToken,
    fields: Vec<(String, String)>,
    existing: Option<String>,
) -> Result<Response, PageError> {
    let values = Values::from_form(&fields);
    match console::catalog::save(&state, &ctx.caller, &values.input(), existing.as_deref()).await {
        Ok((_, created)) => {
            let done = if created { "created" } else { "updated" };
            Ok(Redirect::to(&format!("/console/services?done={done}")).into_response())
        }
        Err(e)
            if crate::error::status_of(e.kind).is_client_error()
                && crate::error::status_of(e.kind) != StatusCode::FORBIDDEN
                && crate::error::status_of(e.kind) != StatusCode::NOT_FOUND =>
        {
            let p = FormPage {
                nav: ctx.nav,
                existing,
                editable: true,
                values,
                types: types(),
                errors: form_errors(&e),
            };
            Ok(page(crate::error::status_of(e.kind), csrf, &p))
        }
        Err(e) => Err(e.into()),
    }
}

async fn create(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let ctx = Ctx::new(&state, who, &csrf, client, "services").await?;
    save(state, ctx, csrf, fields, None).await
}

async fn update(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path(code): Path<String>,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let ctx = Ctx::new(&state, who, &csrf, client, "services").await?;
    save(state, ctx, csrf, fields, Some(code)).await
}

#[derive(Template)]
#[template(path = "developer/service_delete.html")]
struct DeletePage {
    nav: Nav,
    code: String,
    name: String,
    scopes: Vec<String>,
    subscribers: usize,
    errors: Errors,
}

async fn delete_form(state: &AppState, ctx: Ctx, code: &str, errors: Errors) -> Result<DeletePage, PageError> {
    let (service, subscribers) = console::catalog::subscribers(state, &ctx.caller, code).await?;
    Ok(DeletePage {
        nav: ctx.nav,
        code: service.code.to_string(),
        name: service.name,
        scopes: service.scopes,
        subscribers: subscribers.len(),
        errors,
    })
}

async fn delete_page(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    let ctx = Ctx::new(&state, who, &csrf, client, "services").await?;
    let p = delete_form(&state, ctx, &code, Errors::none()).await?;
    Ok(page(StatusCode::OK, csrf, &p))
}

#[derive(Debug, Deserialize)]
struct DeleteForm {
    #[serde(default)]
    confirm_code: String,
}

async fn delete(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path(code): Path<String>,
    CsrfForm(f): CsrfForm<DeleteForm>,
) -> Result<Response, PageError> {
    let ctx = Ctx::new(&state, who, &csrf, client, "services").await?;
    if f.confirm_code.trim() != code {
        let errors = Errors::one("confirm_code", "Type the service's code exactly to confirm.");
        let p = delete_form(&state, ctx, &code, errors).await?;
        return Ok(page(StatusCode::UNPROCESSABLE_ENTITY, csrf, &p));
    }
    console::catalog::delete(&state, &ctx.caller, &code).await?;
    Ok(Redirect::to("/console/services?done=deleted").into_response())
}
