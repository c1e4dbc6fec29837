//! The guided "create integration" flow: `/console/integrations/new` asks for the type first and
//! explains each; `?type=…` shows that type's form; `POST /console/integrations` creates it and
//! redirects to `/console/integrations/{id}/created`, which shows its credentials — the client
//! secret once (POST-redirect-GET through [`console::reveal`]: a reload shows no secret and creates
//! nothing).
//!
//! From a project's page, `?workspace=…` carries the workspace through both steps (a hidden field
//! of each form): the form then names the project and workspace instead of asking for an owner,
//! since the credential takes its project's. Without it, the credential gets a project of its own.

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
    console::integration::IntegrationInput,
    ids::OrgId,
    integration::{Integration, IntegrationType, Owner, Platform},
};
use gatehouse_store::OrgStore;
use serde::Deserialize;

use super::{Ctx, form_errors, lines, no_store, one_of, platform_label, type_label};
use crate::{
    AppState,
    account::{Nav, page},
    csrf::{CsrfForm, CsrfToken},
    error::PageError,
    extract::ClientInfo,
    identity::{SignedIn, forms::Errors},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/integrations/new", get(new_page))
        .route("/console/integrations", axum::routing::post(create))
        .route("/console/integrations/{id}/created", get(created_page))
}

pub struct OrgChoice {
    pub id: String,
    pub name: String,
}

/// The organizations where the principal may create integrations of type `t`, with their names.
pub(super) async fn org_choices(
    state: &AppState,
    p: &gatehouse_core::policy::Principal,
    t: IntegrationType,
) -> Result<Vec<OrgChoice>, PageError> {
    let mut conn = state.store.conn().await?;
    let mut out = Vec::new();
    for id in gatehouse_core::policy::orgs_for_new(p, t) {
        let Ok(org_id) = OrgId::parse(&id) else { continue };
        if let Some(o) = conn.org_by_id(&org_id).await? {
            out.push(OrgChoice {
                id: id.clone(),
                name: o.name,
            });
        }
    }
    Ok(out)
}

/// The workspace a credential is created in, as the forms name it.
pub struct Placement {
    pub workspace_id: String,
    pub workspace_name: String,
    pub project_id: String,
    pub project_title: String,
    /// The project is someone's own (no service account in it).
    pub personal: bool,
    /// "Personal", or the owning organization's name.
    pub owner_name: String,
    owner: Owner,
}

/// The workspace `id` if the caller may add credentials to it (the error page otherwise).
async fn placement(
    state: &AppState,
    caller: &gatehouse_core::console::Caller,
    id: &str,
) -> Result<Placement, PageError> {
    let (project, workspace) = console::projects::placement(state, caller, id).await?;
    Ok(Placement {
        workspace_id: workspace.id,
        workspace_name: workspace.name,
        personal: project.org_id().is_none(),
        owner_name: super::projects::owner_name(&caller.principal, &project),
        project_id: project.id,
        project_title: project.title,
        owner: project.owner,
    })
}

#[derive(Template)]
#[template(path = "developer/choose_type.html")]
struct ChooseType {
    nav: Nav,
    can_service_account: bool,
    placement: Option<Placement>,
    errors: Errors,
}

/// The values of the type-specific form, as submitted.
#[derive(Debug, Clone, Default)]
struct Values {
    name: String,
    description: String,
    owner: String,
    platform: String,
    redirect_uri: String,
    redirect_patterns: String,
    /// The workspace it is created in (from a project's page); empty: a project of its own.
    workspace: String,
}

#[derive(Template)]
#[template(path = "developer/create_form.html")]
struct CreateForm {
    nav: Nav,
    kind: &'static str,
    kind_label: &'static str,
    orgs: Vec<OrgChoice>,
    personal_allowed: bool,
    platforms: Vec<(&'static str, &'static str)>,
    values: Values,
    /// Set when it is created in a workspace: shown instead of the owner select.
    placement: Option<Placement>,
    errors: Errors,
}

#[derive(Template)]
#[template(path = "developer/created.html")]
struct Created {
    nav: Nav,
    integration: Integration,
    type_label: &'static str,
    secret: Option<String>,
    /// A secret was created but has been shown already (or its display expired).
    secret_gone: bool,
}

#[derive(Debug, Default, Deserialize)]
struct TypeQuery {
    r#type: Option<String>,
    /// The workspace to create it in (from a project's page).
    workspace: Option<String>,
}

async fn form_page(
    state: &AppState,
    ctx: Ctx,
    t: IntegrationType,
    values: Values,
    errors: Errors,
) -> Result<CreateForm, PageError> {
    let placement = match values.workspace.as_str() {
        "" => None,
        id => Some(placement(state, &ctx.caller, id).await?),
    };
    let orgs = org_choices(state, &ctx.caller.principal, t).await?;
    Ok(CreateForm {
        nav: ctx.nav,
        kind: t.as_str(),
        kind_label: type_label(t),
        orgs,
        personal_allowed: !t.is_technical_account(),
        platforms: [Platform::Web, Platform::Spa, Platform::Native]
            .into_iter()
            .map(|p| (p.as_str(), platform_label(p)))
            .collect(),
        values,
        placement,
        errors,
    })
}

async fn new_page(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Query(q): Query<TypeQuery>,
) -> Result<Response, PageError> {
    let ctx = Ctx::new(&state, who, &csrf, client, "integrations").await?;
    let chosen = q.r#type.as_deref().filter(|t| !t.is_empty());
    let workspace = q.workspace.unwrap_or_default();
    match chosen.map(IntegrationType::parse) {
        Some(Ok(t)) => {
            let values = Values {
                workspace,
                ..Values::default()
            };
            let p = form_page(&state, ctx, t, values, Errors::none()).await?;
            Ok(page(StatusCode::OK, csrf, &p))
        }
        other => {
            let placement = match workspace.as_str() {
                "" => None,
                id => Some(placement(&state, &ctx.caller, id).await?),
            };
            let p = &ctx.caller.principal;
            // In a workspace, a service account takes the project's owner: an organization the
            // caller administers, or none can be created there.
            let can_service_account = match &placement {
                Some(pl) => {
                    gatehouse_core::policy::create_integration(p, IntegrationType::ServiceAccount, &pl.owner).is_ok()
                }
                None => !gatehouse_core::policy::orgs_for_new(p, IntegrationType::ServiceAccount).is_empty(),
            };
            let errors = match other {
                Some(Err(_)) => Errors::one("integration_type", "Choose one of the four integration types."),
                _ => Errors::none(),
            };
            let status = errors.status();
            let p = ChooseType {
                nav: ctx.nav,
                can_service_account,
                placement,
                errors,
            };
            Ok(page(status, csrf, &p))
        }
    }
}

async fn create(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let ctx = Ctx::new(&state, who, &csrf, client, "integrations").await?;
    let Ok(t) = IntegrationType::parse(&one_of(&fields, "integration_type")) else {
        return Err(PageError::bad_request("Choose an integration type first."));
    };
    let values = Values {
        name: one_of(&fields, "name"),
        description: one_of(&fields, "description"),
        owner: one_of(&fields, "owner"),
        platform: one_of(&fields, "platform"),
        redirect_uri: one_of(&fields, "redirect_uri"),
        redirect_patterns: one_of(&fields, "redirect_patterns"),
        workspace: one_of(&fields, "workspace"),
    };
    // No organization chosen is the person's own: for a technical account the rules refuse that
    // together with every other field's problem.
    let owner = match values.owner.as_str() {
        "" | "personal" => Owner::Account(ctx.who.account.id.clone()),
        org => Owner::Organization(org.to_owned()),
    };
    let platform = (t == IntegrationType::Oauth && !values.platform.is_empty())
        .then(|| Platform::parse(&values.platform).ok())
        .flatten();
    let input = IntegrationInput {
        name: values.name.clone(),
        description: values.description.clone(),
        integration_type: t,
        platform,
        owner,
        redirect_uri: (t == IntegrationType::Oauth).then(|| values.redirect_uri.clone()),
        redirect_patterns: if t == IntegrationType::Oauth {
            lines(&values.redirect_patterns)
        } else {
            Vec::new()
        },
        workspace: Some(values.workspace.clone()).filter(|w| !w.is_empty()),
    };
    match console::integrations::create(&state, &ctx.caller, input).await {
        Ok((integration, secret)) => {
            let mut to = format!("/console/integrations/{}/created", integration.id);
            if let Some(plaintext) = secret {
                let handle = console::reveal::stash(&state, &ctx.who, &integration.id, &plaintext).await?;
                to.push_str(&format!("?secret={handle}"));
            }
            Ok(Redirect::to(&to).into_response())
        }
        Err(e) if crate::error::status_of(e.kind).is_client_error() => {
            let errors = form_errors(&e);
            let p = form_page(&state, ctx, t, values, errors).await?;
            Ok(page(crate::error::status_of(e.kind), csrf, &p))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Default, Deserialize)]
struct CreatedQuery {
    secret: Option<String>,
}

/// The new integration's credentials; its client secret the first time only.
async fn created_page(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path(id): Path<String>,
    Query(q): Query<CreatedQuery>,
) -> Result<Response, PageError> {
    let ctx = Ctx::new(&state, who, &csrf, client, "integrations").await?;
    let integration = console::integrations::details(&state, &ctx.caller, &id)
        .await?
        .integration;
    let secret = match q.secret.as_deref() {
        Some(handle) => console::reveal::open(&state, &ctx.who, &integration.id, handle).await?,
        None => None,
    };
    let p = Created {
        nav: ctx.nav,
        type_label: type_label(integration.integration_type),
        secret_gone: q.secret.is_some() && secret.is_none(),
        integration,
        secret,
    };
    Ok(no_store(page(StatusCode::OK, csrf, &p)))
}
