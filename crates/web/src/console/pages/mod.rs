//! The developer pages of the console (server-rendered, usable without JavaScript; a small script
//! adds copy buttons): projects and their workspaces, the integrations dashboard, the guided
//! "create integration" flow (into a workspace, or a project of its own), each integration's
//! overview (edit, redirect test, enable/disable, delete), credentials (secrets,
//! certificates, the credentials file) and subscriptions, and the services catalog. Every form
//! carries the CSRF token; every change goes through [`super::ops`].

mod create;
mod credentials;
mod dashboard;
mod overview;
mod projects;
mod services;
mod subscriptions;
mod usage;

use axum::{
    Router,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
    routing::get,
};
use gatehouse_domain::integration::{Integration, IntegrationType, Platform};

use crate::auth::{Caller, caller_of};
use crate::{
    AppState,
    account::Nav,
    csrf::CsrfToken,
    error::PageError,
    extract::ClientInfo,
    identity::{SignedIn, forms::Errors},
};

const SCRIPT: &str = include_str!("../../../static/console.js");

async fn script() -> impl IntoResponse {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/javascript; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600")),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        ],
        SCRIPT,
    )
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/static/console.js", get(script))
        .merge(dashboard::router())
        .merge(create::router())
        .merge(projects::router())
        .merge(overview::router())
        .merge(credentials::router())
        .merge(subscriptions::router())
        .merge(services::router())
}

/// What every developer page needs: the header, and the caller for operations.
pub struct Ctx {
    pub nav: Nav,
    pub caller: Caller,
    pub who: SignedIn,
}

impl Ctx {
    pub async fn new(
        state: &AppState,
        who: SignedIn,
        csrf: &CsrfToken,
        client: ClientInfo,
        section: &'static str,
    ) -> Result<Self, PageError> {
        let caller = caller_of(state, &who, client).await?;
        Ok(Self {
            nav: Nav::new(&who, csrf, section),
            caller,
            who,
        })
    }
}

/// A page that may show a secret is never stored by the browser or a proxy.
pub fn no_store(mut res: Response) -> Response {
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// A refusal as form errors: on its fields, or on the page as a whole (`main`).
pub fn form_errors(e: &gatehouse_core::Error) -> Errors {
    let mut errors = Errors::none();
    if e.fields.is_empty() {
        errors.add("main", sentence(&e.message));
    }
    for f in &e.fields {
        errors.add(static_field(&f.field), sentence(&f.message));
    }
    errors
}

/// A rule's message as a sentence on a page: capitalised, with a full stop.
fn sentence(message: &str) -> String {
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

/// Form field names are a small fixed set; errors refer to them by `&'static str`.
fn static_field(f: &str) -> &'static str {
    const FIELDS: [&str; 19] = [
        "name",
        "title",
        "description",
        "integration_type",
        "platform",
        "owner",
        "org_id",
        "redirect_uri",
        "redirect_patterns",
        "certificate",
        "service",
        "scopes",
        "code",
        "allowed_types",
        "acts_for",
        "upstream_url",
        "identity",
        "limits",
        "uri",
    ];
    FIELDS.iter().find(|x| **x == f).copied().unwrap_or("main")
}

/// How the pages name an integration type.
pub fn type_label(t: IntegrationType) -> &'static str {
    t.label()
}

pub fn platform_label(p: Platform) -> &'static str {
    match p {
        Platform::Web => "Web app (server-side, confidential)",
        Platform::Spa => "Single-page app (public, PKCE)",
        Platform::Native => "Native app (public, PKCE)",
    }
}

/// Where an integration sits: its project and workspace, shown as a breadcrumb above its name.
pub struct Crumb {
    pub project_id: String,
    pub project_title: String,
    pub workspace_id: String,
    pub workspace_name: String,
}

/// The sub-navigation of one integration's pages.
pub struct Tabs {
    pub id: String,
    pub name: String,
    pub current: &'static str,
    pub type_label: &'static str,
    pub active: bool,
    /// Its project and workspace, on the pages that show them.
    pub crumb: Option<Crumb>,
}

impl Tabs {
    pub fn of(i: &Integration, current: &'static str) -> Self {
        Self {
            id: i.id.clone(),
            name: i.name.clone(),
            current,
            type_label: type_label(i.integration_type),
            active: i.status == gatehouse_domain::integration::IntegrationStatus::Active,
            crumb: None,
        }
    }
}

/// Lines of a textarea, trimmed, without empty ones.
pub fn lines(s: &str) -> Vec<String> {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Every value of a repeated form field (checkboxes).
pub fn all_of(fields: &[(String, String)], name: &str) -> Vec<String> {
    fields
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .collect()
}

/// The first value of a form field, or "".
pub fn one_of(fields: &[(String, String)], name: &str) -> String {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}
