//! `/console/projects`: the projects the signed-in person may see, and a form for a new one;
//! `/console/projects/{id}`: a project with its workspaces (Production first) and the credentials
//! in each, adding and deleting workspaces, editing the project's title and description, and
//! deleting it. The rules refuse to delete a workspace or project that still holds credentials;
//! the page then says so next to it and in the error summary.

use askama::Template;
use axum::{
    Router,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use gatehouse_core::{console, error::Kind, policy::Principal};
use gatehouse_domain::{
    integration::{IntegrationStatus, IntegrationType, Owner},
    project::{Changes, Input, MAX_NAME, MAX_TITLE, Project},
};
use serde::Deserialize;

use super::{
    Ctx,
    create::{OrgChoice, org_choices},
    form_errors, type_label,
};
use crate::{
    AppState,
    account::{Nav, page, when},
    csrf::{CsrfForm, CsrfToken},
    error::{PageError, status_of},
    extract::ClientInfo,
    identity::{SignedIn, forms::Errors},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/projects", get(list_page).post(create))
        .route("/console/projects/{id}", get(project_page))
        .route("/console/projects/{id}/edit", post(edit))
        .route("/console/projects/{id}/delete", post(delete))
        .route("/console/projects/{id}/workspaces", post(create_workspace))
        .route(
            "/console/projects/{id}/workspaces/{workspace}/delete",
            post(delete_workspace),
        )
}

/// Who owns a project, as the pages name it: "Personal", or the organization's name.
pub(super) fn owner_name(p: &Principal, project: &Project) -> String {
    match project.org_id() {
        None => "Personal".to_owned(),
        Some(o) => p
            .roles
            .iter()
            .find(|r| r.org_id == o)
            .map_or_else(|| o.to_owned(), |r| r.org_name.clone()),
    }
}

struct Row {
    id: String,
    title: String,
    name: String,
    owner: String,
    personal: bool,
    workspaces: usize,
}

/// The new-project form as submitted.
#[derive(Debug, Clone, Default, Deserialize)]
struct NewProject {
    #[serde(default)]
    name: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    owner: String,
}

#[derive(Template)]
#[template(path = "developer/projects.html")]
struct ListPage {
    nav: Nav,
    rows: Vec<Row>,
    notice: Option<String>,
    orgs: Vec<OrgChoice>,
    values: NewProject,
    errors: Errors,
    max_name: usize,
    max_title: usize,
}

#[derive(Debug, Default, Deserialize)]
struct ListNotice {
    deleted: Option<String>,
}

async fn render_list(
    state: &AppState,
    ctx: Ctx,
    notice: Option<String>,
    values: NewProject,
    errors: Errors,
) -> Result<ListPage, PageError> {
    let p = &ctx.caller.principal;
    let rows = console::projects::list(state, &ctx.caller)
        .await?
        .into_iter()
        .map(|(project, workspaces)| Row {
            owner: owner_name(p, &project),
            personal: project.org_id().is_none(),
            id: project.id,
            title: project.title,
            name: project.name,
            workspaces: workspaces.len(),
        })
        .collect();
    // Whoever may create an OAuth integration for an owner may create a project for it.
    let orgs = org_choices(state, p, IntegrationType::Oauth).await?;
    Ok(ListPage {
        nav: ctx.nav,
        rows,
        notice,
        orgs,
        values,
        errors,
        max_name: MAX_NAME,
        max_title: MAX_TITLE,
    })
}

async fn list_page(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Query(q): Query<ListNotice>,
) -> Result<Response, PageError> {
    let ctx = Ctx::new(&state, who, &csrf, client, "projects").await?;
    let notice = q.deleted.map(|title| format!("The project {title:?} was deleted."));
    let values = NewProject {
        owner: "personal".into(),
        ..NewProject::default()
    };
    let p = render_list(&state, ctx, notice, values, Errors::none()).await?;
    Ok(page(StatusCode::OK, csrf, &p))
}

async fn create(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    CsrfForm(f): CsrfForm<NewProject>,
) -> Result<Response, PageError> {
    let ctx = Ctx::new(&state, who, &csrf, client, "projects").await?;
    let owner = match f.owner.as_str() {
        "" | "personal" => Owner::Account(ctx.who.account.id.clone()),
        org => Owner::Organization(org.to_owned()),
    };
    let input = Input {
        name: f.name.clone(),
        title: Some(f.title.clone()),
        description: Some(f.description.clone()),
    };
    match console::projects::create(&state, &ctx.caller, owner, &input).await {
        Ok((project, _)) => Ok(Redirect::to(&format!("/console/projects/{}?done=created", project.id)).into_response()),
        Err(e) if status_of(e.kind).is_client_error() && e.kind != Kind::NotFound => {
            // A refusal of the owner (a member of the organization, two-step verification
            // missing) is about the owner field.
            let e = if e.fields.is_empty() && e.kind == Kind::Forbidden {
                e.on("owner")
            } else {
                e
            };
            let status = status_of(e.kind);
            let p = render_list(&state, ctx, None, f, form_errors(&e)).await?;
            Ok(page(status, csrf, &p))
        }
        Err(e) => Err(e.into()),
    }
}

struct Credential {
    id: String,
    name: String,
    type_label: &'static str,
    active: bool,
}

struct WorkspaceView {
    id: String,
    name: String,
    title: String,
    description: String,
    production: bool,
    credentials: Vec<Credential>,
    /// Its section's ID, which refusals about it name as their field.
    anchor: String,
}

#[derive(Debug, Clone, Default)]
struct EditValues {
    title: String,
    description: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct NewWorkspace {
    #[serde(default)]
    workspace_name: String,
    #[serde(default)]
    workspace_title: String,
}

#[derive(Template)]
#[template(path = "developer/project.html")]
struct ProjectPage {
    nav: Nav,
    project: Project,
    owner: String,
    personal: bool,
    created: String,
    credentials: usize,
    workspaces: Vec<WorkspaceView>,
    values: EditValues,
    new_workspace: NewWorkspace,
    errors: Errors,
    notice: Option<&'static str>,
    max_name: usize,
    max_title: usize,
}

/// What a project page shows besides the project: a form's values and errors, a notice.
#[derive(Default)]
struct View {
    values: Option<EditValues>,
    new_workspace: NewWorkspace,
    errors: Errors,
    notice: Option<&'static str>,
}

fn anchor(workspace_id: &str) -> String {
    format!("ws-{workspace_id}")
}

async fn render(state: &AppState, ctx: Ctx, id: &str, view: View) -> Result<ProjectPage, PageError> {
    let d = console::projects::details(state, &ctx.caller, id).await?;
    let project = d.project;
    let credentials = d.workspaces.iter().map(|(_, c)| c.len()).sum();
    let workspaces = d
        .workspaces
        .into_iter()
        .map(|(w, integrations)| WorkspaceView {
            anchor: anchor(&w.id),
            production: w.is_production(),
            id: w.id,
            name: w.name,
            title: w.title,
            description: w.description,
            credentials: integrations
                .into_iter()
                .map(|i| Credential {
                    type_label: type_label(i.integration_type),
                    active: i.status == IntegrationStatus::Active,
                    id: i.id,
                    name: i.name,
                })
                .collect(),
        })
        .collect();
    Ok(ProjectPage {
        nav: ctx.nav,
        owner: owner_name(&ctx.caller.principal, &project),
        personal: project.org_id().is_none(),
        created: when(project.created_at),
        credentials,
        workspaces,
        values: view.values.unwrap_or_else(|| EditValues {
            title: project.title.clone(),
            description: project.description.clone(),
        }),
        new_workspace: view.new_workspace,
        errors: view.errors,
        notice: view.notice,
        max_name: MAX_NAME,
        max_title: MAX_TITLE,
        project,
    })
}

#[derive(Debug, Default, Deserialize)]
struct Done {
    done: Option<String>,
}

async fn project_page(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path(id): Path<String>,
    Query(q): Query<Done>,
) -> Result<Response, PageError> {
    let ctx = Ctx::new(&state, who, &csrf, client, "projects").await?;
    let notice = match q.done.as_deref() {
        Some("created") => Some(
            "The project was created with its Production workspace. Add credentials to it, or a workspace such as \
             Stage for testing.",
        ),
        Some("saved") => Some("Your changes were saved."),
        Some("workspace") => Some("The workspace was added."),
        Some("workspace_deleted") => Some("The workspace was deleted."),
        _ => None,
    };
    let view = View {
        notice,
        ..View::default()
    };
    let p = render(&state, ctx, &id, view).await?;
    Ok(page(StatusCode::OK, csrf, &p))
}

/// A refusal the page shows (a client error other than "not found", which gets the error page).
fn shown(e: &gatehouse_core::Error) -> bool {
    let status = status_of(e.kind);
    status.is_client_error() && status != StatusCode::NOT_FOUND
}

#[derive(Debug, Deserialize)]
struct EditForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
}

async fn edit(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<EditForm>,
) -> Result<Response, PageError> {
    let ctx = Ctx::new(&state, who, &csrf, client, "projects").await?;
    let changes = Changes {
        title: Some(f.title.clone()),
        description: Some(f.description.clone()),
    };
    match console::projects::update(&state, &ctx.caller, &id, &changes).await {
        Ok(_) => Ok(Redirect::to(&format!("/console/projects/{id}?done=saved")).into_response()),
        Err(e) if shown(&e) => {
            let view = View {
                values: Some(EditValues {
                    title: f.title,
                    description: f.description,
                }),
                errors: form_errors(&e),
                ..View::default()
            };
            let p = render(&state, ctx, &id, view).await?;
            Ok(page(status_of(e.kind), csrf, &p))
        }
        Err(e) => Err(e.into()),
    }
}

/// A form with nothing but its CSRF token.
#[derive(Debug, Deserialize)]
struct Empty {}

async fn delete(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, PageError> {
    let ctx = Ctx::new(&state, who, &csrf, client, "projects").await?;
    match console::projects::delete(&state, &ctx.caller, &id).await {
        Ok(gone) => {
            let q = serde_urlencoded::to_string([("deleted", gone.title.as_str())]).unwrap_or_default();
            Ok(Redirect::to(&format!("/console/projects?{q}")).into_response())
        }
        Err(e) if shown(&e) => {
            let view = View {
                errors: Errors::one("delete_project", super::sentence(&e.message)),
                ..View::default()
            };
            let p = render(&state, ctx, &id, view).await?;
            Ok(page(status_of(e.kind), csrf, &p))
        }
        Err(e) => Err(e.into()),
    }
}

/// A workspace refusal on the new-workspace form's fields.
fn workspace_errors(e: &gatehouse_core::Error) -> Errors {
    let mut errors = Errors::none();
    if e.fields.is_empty() {
        errors.add("workspace_name", super::sentence(&e.message));
    }
    for f in &e.fields {
        let field = match f.field.as_str() {
            "title" => "workspace_title",
            _ => "workspace_name",
        };
        errors.add(field, super::sentence(&f.message));
    }
    errors
}

async fn create_workspace(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<NewWorkspace>,
) -> Result<Response, PageError> {
    let ctx = Ctx::new(&state, who, &csrf, client, "projects").await?;
    let input = Input {
        name: f.workspace_name.clone(),
        title: Some(f.workspace_title.clone()),
        description: None,
    };
    match console::projects::create_workspace(&state, &ctx.caller, &id, &input).await {
        Ok(w) => Ok(Redirect::to(&format!("/console/projects/{id}?done=workspace#{}", anchor(&w.id))).into_response()),
        Err(e) if shown(&e) => {
            let view = View {
                new_workspace: f,
                errors: workspace_errors(&e),
                ..View::default()
            };
            let p = render(&state, ctx, &id, view).await?;
            Ok(page(status_of(e.kind), csrf, &p))
        }
        Err(e) => Err(e.into()),
    }
}

async fn delete_workspace(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path((id, workspace)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, PageError> {
    let ctx = Ctx::new(&state, who, &csrf, client, "projects").await?;
    match console::projects::delete_workspace(&state, &ctx.caller, &id, &workspace).await {
        Ok(()) => Ok(Redirect::to(&format!("/console/projects/{id}?done=workspace_deleted")).into_response()),
        Err(e) if shown(&e) => {
            let view = View {
                errors: Errors::one(anchor(&workspace), super::sentence(&e.message)),
                ..View::default()
            };
            let p = render(&state, ctx, &id, view).await?;
            Ok(page(status_of(e.kind), csrf, &p))
        }
        Err(e) => Err(e.into()),
    }
}
