//! `/console/integrations/{id}`: an integration's overview — its project and workspace (a
//! breadcrumb to the project's page), its facts, editing its name,
//! description and redirect settings, testing a URL against its redirect rules, enabling or
//! disabling it — and deleting it after typing its name to confirm.

use askama::Template;
use axum::{
    Router,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use gatehouse_core::console;
use gatehouse_domain::{
    console::integration::IntegrationChanges,
    integration::{Integration, IntegrationStatus, IntegrationType},
    token::keys::SigningAlg,
};
use serde::Deserialize;

use super::{Crumb, Ctx, Tabs, form_errors, lines, platform_label};
use crate::{
    AppState,
    account::{Nav, page, when},
    api::integrations::{RedirectCheckResult, check_redirect},
    csrf::{CsrfForm, CsrfToken},
    error::PageError,
    extract::ClientInfo,
    identity::{SignedIn, forms::Errors},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/integrations/{id}", get(overview))
        .route("/console/integrations/{id}/edit", axum::routing::post(edit))
        .route(
            "/console/integrations/{id}/redirect-test",
            axum::routing::post(redirect_test),
        )
        .route("/console/integrations/{id}/status", axum::routing::post(status))
        .route("/console/integrations/{id}/migrate", axum::routing::post(migrate))
        .route("/console/integrations/{id}/delete-jwt", axum::routing::post(delete_jwt))
        .route("/console/integrations/{id}/delete", get(delete_page).post(delete))
}

#[derive(Debug, Clone, Default)]
struct EditValues {
    name: String,
    description: String,
    redirect_uri: String,
    redirect_patterns: String,
    /// `RS256`, `ES256` or empty (the configured algorithm).
    id_token_alg: String,
    /// One per line.
    allowed_domains: String,
}

impl EditValues {
    fn of(i: &Integration) -> Self {
        Self {
            name: i.name.clone(),
            description: i.description.clone(),
            redirect_uri: i.redirect_uri.clone().unwrap_or_default(),
            redirect_patterns: i.redirect_patterns.join("\n"),
            id_token_alg: i
                .id_token_signed_response_alg
                .map(|a| a.as_str().to_owned())
                .unwrap_or_default(),
            allowed_domains: i.allowed_domains.join("\n"),
        }
    }
}

#[derive(Template)]
#[template(path = "developer/overview.html")]
struct Overview {
    nav: Nav,
    tabs: Tabs,
    i: Integration,
    is_oauth: bool,
    platform: Option<&'static str>,
    created: String,
    updated: String,
    /// When it was last used; `None`: never.
    last_used: Option<String>,
    services: Vec<String>,
    values: EditValues,
    errors: Errors,
    notice: Option<&'static str>,
    test_uri: String,
    test: Option<RedirectCheckResult>,
    usage: super::usage::UsageChart,
    /// The owning organization's name (its ID when the caller's roles do not name it).
    owner_name: Option<String>,
    /// A Server-to-Server credential migrated from a Service Account that still has its JWT.
    jwt_retained: bool,
}

#[derive(Debug, Default, Deserialize)]
struct Done {
    done: Option<String>,
}

struct View {
    values: Option<EditValues>,
    errors: Errors,
    notice: Option<&'static str>,
    test_uri: String,
    test: Option<RedirectCheckResult>,
}

impl View {
    fn plain(notice: Option<&'static str>) -> Self {
        Self {
            values: None,
            errors: Errors::none(),
            notice,
            test_uri: String::new(),
            test: None,
        }
    }
}

async fn render(state: &AppState, ctx: Ctx, id: &str, view: View) -> Result<Overview, PageError> {
    let d = console::integrations::details(state, &ctx.caller, id).await?;
    let i = d.integration;
    let counts = gatehouse_core::gateway::usage(state, &ctx.caller, id, super::usage::DAYS).await?;
    let usage = super::usage::chart(&counts, gatehouse_domain::gateway::day_of(state.now()));
    // The breadcrumb to its project; none when the caller cannot see the project (a developer's
    // credential in a project an admin created).
    let crumb = match console::projects::placement(state, &ctx.caller, &i.workspace_id).await {
        Ok((project, workspace)) => Some(Crumb {
            project_id: project.id,
            project_title: project.title,
            workspace_id: workspace.id,
            workspace_name: workspace.name,
        }),
        Err(e) if e.kind == gatehouse_core::error::Kind::NotFound => None,
        Err(e) => return Err(e.into()),
    };
    let owner_name = i.org_id().map(|o| {
        ctx.caller
            .principal
            .roles
            .iter()
            .find(|r| r.org_id == o)
            .map_or_else(|| o.to_owned(), |r| r.org_name.clone())
    });
    let jwt_retained =
        i.integration_type == IntegrationType::ServerToServer && d.certificates.iter().any(|c| c.revoked_at.is_none());
    Ok(Overview {
        jwt_retained,
        owner_name,
        nav: ctx.nav,
        tabs: Tabs {
            crumb,
            ..Tabs::of(&i, "overview")
        },
        is_oauth: i.integration_type == IntegrationType::Oauth,
        platform: i.platform.map(platform_label),
        created: when(i.created_at),
        updated: when(i.updated_at),
        last_used: d.last_used_at.map(when),
        services: d.subscriptions.iter().map(|s| s.service_code.to_string()).collect(),
        values: view.values.unwrap_or_else(|| EditValues::of(&i)),
        errors: view.errors,
        notice: view.notice,
        test_uri: view.test_uri,
        test: view.test,
        usage,
        i,
    })
}

async fn overview(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path(id): Path<String>,
    Query(q): Query<Done>,
) -> Result<Response, PageError> {
    let ctx = Ctx::new(&state, who, &csrf, client, "integrations").await?;
    let notice = match q.done.as_deref() {
        Some("saved") => Some("Your changes were saved."),
        Some("disabled") => Some(
            "The integration is disabled: its access tokens no longer validate, its refresh tokens and unused \
                 authorization codes are revoked, and no new ones are issued.",
        ),
        Some("migration_started") => Some(
            "This credential is now OAuth Server-to-Server: switch your application to client credentials with the \
             same client ID and secret. Its JWT keeps working until you delete the JWT credential.",
        ),
        Some("jwt_deleted") => Some("The JWT credential is deleted: signed JWTs are refused; the client secret works."),
        Some("enabled") => Some(
            "The integration is enabled again. Tokens, refresh tokens and codes issued before it was disabled stay \
             invalid.",
        ),
        _ => None,
    };
    let p = render(&state, ctx, &id, View::plain(notice)).await?;
    Ok(page(StatusCode::OK, csrf, &p))
}

#[derive(Debug, Deserialize)]
struct EditForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    redirect_uri: Option<String>,
    redirect_patterns: Option<String>,
    /// OAuth: `RS256`, `ES256`, or empty for the configured algorithm.
    id_token_signed_response_alg: Option<String>,
    /// One per line.
    allowed_domains: Option<String>,
}

async fn edit(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<EditForm>,
) -> Result<Response, PageError> {
    let ctx = Ctx::new(&state, who, &csrf, client, "integrations").await?;
    let changes = IntegrationChanges {
        name: Some(f.name.clone()),
        description: Some(f.description.clone()),
        redirect_uri: f.redirect_uri.clone(),
        redirect_patterns: f.redirect_patterns.as_deref().map(lines),
        id_token_signed_response_alg: match f.id_token_signed_response_alg.as_deref().map(str::trim) {
            None => None,
            Some("") => Some(None),
            Some(a) => match SigningAlg::parse(a) {
                Ok(a) => Some(Some(a)),
                Err(e) => {
                    return Err(PageError::bad_request(e.message));
                }
            },
        },
        may_introspect: None,
        allowed_domains: f.allowed_domains.as_deref().map(lines),
    };
    match console::integrations::update(&state, &ctx.caller, &id, &changes).await {
        Ok(_) => Ok(Redirect::to(&format!("/console/integrations/{id}?done=saved")).into_response()),
        Err(e)
            if crate::error::status_of(e.kind).is_client_error()
                && crate::error::status_of(e.kind) != StatusCode::NOT_FOUND =>
        {
            let view = View {
                values: Some(EditValues {
                    name: f.name,
                    description: f.description,
                    redirect_uri: f.redirect_uri.unwrap_or_default(),
                    redirect_patterns: f.redirect_patterns.unwrap_or_default(),
                    id_token_alg: f.id_token_signed_response_alg.unwrap_or_default(),
                    allowed_domains: f.allowed_domains.unwrap_or_default(),
                }),
                errors: form_errors(&e),
                ..View::plain(None)
            };
            let p = render(&state, ctx, &id, view).await?;
            Ok(page(crate::error::status_of(e.kind), csrf, &p))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize)]
struct TestForm {
    #[serde(default)]
    uri: String,
}

async fn redirect_test(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<TestForm>,
) -> Result<Response, PageError> {
    let ctx = Ctx::new(&state, who, &csrf, client, "integrations").await?;
    let i = console::integrations::details(&state, &ctx.caller, &id)
        .await?
        .integration;
    let (test, errors) = match check_redirect(&i, &f.uri) {
        Ok(r) => (Some(r), Errors::none()),
        Err(e) => (None, form_errors(&e)),
    };
    let status = errors.status();
    let view = View {
        errors,
        test_uri: f.uri,
        test,
        ..View::plain(None)
    };
    let p = render(&state, ctx, &id, view).await?;
    Ok(page(status, csrf, &p))
}

#[derive(Debug, Deserialize)]
struct StatusForm {
    status: String,
}

async fn status(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<StatusForm>,
) -> Result<Response, PageError> {
    let ctx = Ctx::new(&state, who, &csrf, client, "integrations").await?;
    let status = IntegrationStatus::parse(&f.status).map_err(|e| PageError::bad_request(e.message))?;
    console::integrations::set_status(&state, &ctx.caller, &id, status).await?;
    let done = match status {
        IntegrationStatus::Active => "enabled",
        IntegrationStatus::Disabled => "disabled",
    };
    Ok(Redirect::to(&format!("/console/integrations/{id}?done={done}")).into_response())
}

/// Starts migrating a Service Account to OAuth Server-to-Server (the guided flow's first step).
async fn migrate(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let ctx = Ctx::new(&state, who, &csrf, client, "integrations").await?;
    console::migration::start(&state, &ctx.caller, &id).await?;
    Ok(Redirect::to(&format!("/console/integrations/{id}?done=migration_started")).into_response())
}

/// Deletes the JWT credential of a migrated credential (the guided flow's last step).
async fn delete_jwt(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let ctx = Ctx::new(&state, who, &csrf, client, "integrations").await?;
    console::migration::delete_jwt_credential(&state, &ctx.caller, &id).await?;
    Ok(Redirect::to(&format!("/console/integrations/{id}?done=jwt_deleted")).into_response())
}

#[derive(Template)]
#[template(path = "developer/delete.html")]
struct DeletePage {
    nav: Nav,
    tabs: Tabs,
    i: Integration,
    errors: Errors,
}

async fn delete_page(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let ctx = Ctx::new(&state, who, &csrf, client, "integrations").await?;
    let i = console::integrations::details(&state, &ctx.caller, &id)
        .await?
        .integration;
    let p = DeletePage {
        nav: ctx.nav,
        tabs: Tabs::of(&i, "overview"),
        i,
        errors: Errors::none(),
    };
    Ok(page(StatusCode::OK, csrf, &p))
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
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<DeleteForm>,
) -> Result<Response, PageError> {
    let ctx = Ctx::new(&state, who, &csrf, client, "integrations").await?;
    let i = console::integrations::details(&state, &ctx.caller, &id)
        .await?
        .integration;
    if f.confirm_name.trim() != i.name {
        let p = DeletePage {
            nav: ctx.nav,
            tabs: Tabs::of(&i, "overview"),
            i,
            errors: Errors::one("confirm_name", "Type the integration's name exactly to confirm."),
        };
        return Ok(page(StatusCode::UNPROCESSABLE_ENTITY, csrf, &p));
    }
    let gone = console::integrations::delete(&state, &ctx.caller, &id).await?;
    let q = serde_urlencoded::to_string([("deleted", gone.name.as_str())]).unwrap_or_default();
    Ok(Redirect::to(&format!("/console/integrations?{q}")).into_response())
}
