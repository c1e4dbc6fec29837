//! `/api/v1/projects`: projects and their workspaces — list, create (with a Production
//! workspace), read with the credentials in each workspace, edit, delete (only once empty) — and
//! a workspace's file in the shape of Adobe's Developer Console download.

use crate::error::OpResult;
use axum::{
    Router,
    extract::{Path, State},
    http::StatusCode,
    response::IntoResponse,
    routing::get,
};
use gatehouse_core::{Kind, console};
use gatehouse_domain::{
    integration::Owner,
    project::{Changes, Input, Project, Workspace},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::integrations::IntegrationOut;
use crate::{
    AppState,
    auth::Caller,
    error::{ConsoleError, ConsoleProblem as Problem},
    extract::ApiJson,
};

/// A project as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectOut {
    pub id: String,
    /// Letters and digits, unique among its owner's projects.
    #[schema(example = "Storefront")]
    pub name: String,
    pub title: String,
    pub description: String,
    /// The owning organization, for organization-owned projects.
    pub org_id: Option<String>,
    /// The owning account, for personal projects.
    pub owner_account_id: Option<String>,
    pub created_by: Option<String>,
    pub workspaces: Vec<WorkspaceOut>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl ProjectOut {
    fn new(p: &Project, workspaces: &[Workspace]) -> Self {
        let (org_id, owner_account_id) = match &p.owner {
            Owner::Organization(o) => (Some(o.clone()), None),
            Owner::Account(a) => (None, Some(a.clone())),
        };
        Self {
            id: p.id.clone(),
            name: p.name.clone(),
            title: p.title.clone(),
            description: p.description.clone(),
            org_id,
            owner_account_id,
            created_by: p.created_by.clone(),
            workspaces: workspaces.iter().map(WorkspaceOut::from).collect(),
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

/// A workspace of a project.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkspaceOut {
    pub id: String,
    pub project_id: String,
    #[schema(example = "Stage")]
    pub name: String,
    pub title: String,
    pub description: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl From<&Workspace> for WorkspaceOut {
    fn from(w: &Workspace) -> Self {
        Self {
            id: w.id.clone(),
            project_id: w.project_id.clone(),
            name: w.name.clone(),
            title: w.title.clone(),
            description: w.description.clone(),
            created_at: w.created_at,
            updated_at: w.updated_at,
        }
    }
}

/// A workspace with the credentials (integrations) in it that the caller may see.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkspaceDetail {
    pub workspace: WorkspaceOut,
    pub credentials: Vec<IntegrationOut>,
}

/// A project with every workspace and its credentials.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectDetail {
    pub project: ProjectOut,
    pub workspaces: Vec<WorkspaceDetail>,
}

/// A new project; it starts with a `Production` workspace.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProject {
    /// 1–45 letters and digits, unique among the owner's projects.
    #[schema(example = "Storefront")]
    pub name: String,
    /// What people read; defaults to the name.
    pub title: Option<String>,
    pub description: Option<String>,
    /// The owning organization; omit for a personal project.
    pub org_id: Option<String>,
}

/// A new workspace.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWorkspace {
    /// 1–45 letters and digits, unique in the project.
    #[schema(example = "Stage")]
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
}

/// An edit of a project or workspace; absent members stay as they are. Names do not change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProject {
    pub title: Option<String>,
    pub description: Option<String>,
}

impl From<UpdateProject> for Changes {
    fn from(u: UpdateProject) -> Self {
        Changes {
            title: u.title,
            description: u.description,
        }
    }
}

fn owner_of(caller: &Caller, org_id: Option<String>) -> OpResult<Owner> {
    match org_id.map(|o| o.trim().to_owned()).filter(|o| !o.is_empty()) {
        Some(o) => Ok(Owner::Organization(o)),
        None => match caller.principal.account_id() {
            Some(a) => Ok(Owner::Account(a.to_owned())),
            None => Err(ConsoleError::new(
                Kind::Invalid,
                "org_id_required",
                "A service account's token creates projects for its organization: give org_id.",
            )
            .on("org_id")),
        },
    }
}

/// The projects the caller may see, each with its workspaces.
#[utoipa::path(get, path = "/api/v1/projects", tag = "projects",
    responses((status = 200, body = [ProjectOut]), (status = 401, body = Problem)))]
pub async fn list(State(state): State<AppState>, caller: Caller) -> OpResult<ApiJson<Vec<ProjectOut>>> {
    let all = console::projects::list(&state, &caller).await?;
    Ok(ApiJson(all.iter().map(|(p, w)| ProjectOut::new(p, w)).collect()))
}

/// Creates a project with its `Production` workspace. Anyone for themselves; for an organization,
/// its admins and developers.
#[utoipa::path(post, path = "/api/v1/projects", tag = "projects", request_body = CreateProject,
    responses((status = 201, body = ProjectOut), (status = 403, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<ApiJson<CreateProject>, crate::ApiError>,
) -> OpResult<impl IntoResponse> {
    let ApiJson(body) = body?;
    let owner = owner_of(&caller, body.org_id)?;
    let input = Input {
        name: body.name,
        title: body.title,
        description: body.description,
    };
    let (p, production) = console::projects::create(&state, &caller, owner, &input).await?;
    Ok((StatusCode::CREATED, ApiJson(ProjectOut::new(&p, &[production]))))
}

/// One project with its workspaces and the credentials in each.
#[utoipa::path(get, path = "/api/v1/projects/{id}", tag = "projects",
    params(("id" = String, Path, description = "Project ID")),
    responses((status = 200, body = ProjectDetail), (status = 404, body = Problem)))]
pub async fn read(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> OpResult<ApiJson<ProjectDetail>> {
    let d = console::projects::details(&state, &caller, &id).await?;
    let workspaces: Vec<Workspace> = d.workspaces.iter().map(|(w, _)| w.clone()).collect();
    Ok(ApiJson(ProjectDetail {
        project: ProjectOut::new(&d.project, &workspaces),
        workspaces: d
            .workspaces
            .iter()
            .map(|(w, creds)| WorkspaceDetail {
                workspace: WorkspaceOut::from(w),
                credentials: creds.iter().map(|i| IntegrationOut::new(i, &[])).collect(),
            })
            .collect(),
    }))
}

/// Edits the title or description.
#[utoipa::path(patch, path = "/api/v1/projects/{id}", tag = "projects", request_body = UpdateProject,
    params(("id" = String, Path, description = "Project ID")),
    responses((status = 200, body = ProjectOut), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<ApiJson<UpdateProject>, crate::ApiError>,
) -> OpResult<ApiJson<ProjectOut>> {
    let ApiJson(body) = body?;
    let p = console::projects::update(&state, &caller, &id, &body.into()).await?;
    let d = console::projects::details(&state, &caller, &p.id).await?;
    let workspaces: Vec<Workspace> = d.workspaces.into_iter().map(|(w, _)| w).collect();
    Ok(ApiJson(ProjectOut::new(&p, &workspaces)))
}

/// Deletes a project with its workspaces; refused (409) while any holds a credential.
#[utoipa::path(delete, path = "/api/v1/projects/{id}", tag = "projects",
    params(("id" = String, Path, description = "Project ID")),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn delete(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> OpResult<StatusCode> {
    console::projects::delete(&state, &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The project's workspaces, Production first.
#[utoipa::path(get, path = "/api/v1/projects/{id}/workspaces", tag = "projects",
    params(("id" = String, Path, description = "Project ID")),
    responses((status = 200, body = [WorkspaceOut]), (status = 404, body = Problem)))]
pub async fn list_workspaces(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> OpResult<ApiJson<Vec<WorkspaceOut>>> {
    let d = console::projects::details(&state, &caller, &id).await?;
    Ok(ApiJson(
        d.workspaces.iter().map(|(w, _)| WorkspaceOut::from(w)).collect(),
    ))
}

/// Adds a workspace (at most 50 per project).
#[utoipa::path(post, path = "/api/v1/projects/{id}/workspaces", tag = "projects", request_body = CreateWorkspace,
    params(("id" = String, Path, description = "Project ID")),
    responses((status = 201, body = WorkspaceOut), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
pub async fn create_workspace(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<ApiJson<CreateWorkspace>, crate::ApiError>,
) -> OpResult<impl IntoResponse> {
    let ApiJson(body) = body?;
    let input = Input {
        name: body.name,
        title: body.title,
        description: body.description,
    };
    let w = console::projects::create_workspace(&state, &caller, &id, &input).await?;
    Ok((StatusCode::CREATED, ApiJson(WorkspaceOut::from(&w))))
}

/// One workspace with the credentials in it.
#[utoipa::path(get, path = "/api/v1/projects/{id}/workspaces/{workspace_id}", tag = "projects",
    params(("id" = String, Path, description = "Project ID"), ("workspace_id" = String, Path, description = "Workspace ID")),
    responses((status = 200, body = WorkspaceDetail), (status = 404, body = Problem)))]
pub async fn read_workspace(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, workspace_id)): Path<(String, String)>,
) -> OpResult<ApiJson<WorkspaceDetail>> {
    let d = console::projects::details(&state, &caller, &id).await?;
    let (w, creds) = d
        .workspaces
        .into_iter()
        .find(|(w, _)| w.id == workspace_id)
        .ok_or_else(|| ConsoleError(gatehouse_core::Error::not_found("workspace")))?;
    Ok(ApiJson(WorkspaceDetail {
        workspace: WorkspaceOut::from(&w),
        credentials: creds.iter().map(|i| IntegrationOut::new(i, &[])).collect(),
    }))
}

/// Edits a workspace's title or description.
#[utoipa::path(patch, path = "/api/v1/projects/{id}/workspaces/{workspace_id}", tag = "projects",
    request_body = UpdateProject,
    params(("id" = String, Path, description = "Project ID"), ("workspace_id" = String, Path, description = "Workspace ID")),
    responses((status = 200, body = WorkspaceOut), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update_workspace(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, workspace_id)): Path<(String, String)>,
    body: Result<ApiJson<UpdateProject>, crate::ApiError>,
) -> OpResult<ApiJson<WorkspaceOut>> {
    let ApiJson(body) = body?;
    let w = console::projects::update_workspace(&state, &caller, &id, &workspace_id, &body.into()).await?;
    Ok(ApiJson(WorkspaceOut::from(&w)))
}

/// Deletes a workspace other than Production; refused (409) while it holds a credential.
#[utoipa::path(delete, path = "/api/v1/projects/{id}/workspaces/{workspace_id}", tag = "projects",
    params(("id" = String, Path, description = "Project ID"), ("workspace_id" = String, Path, description = "Workspace ID")),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn delete_workspace(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, workspace_id)): Path<(String, String)>,
) -> OpResult<StatusCode> {
    console::projects::delete_workspace(&state, &caller, &id, &workspace_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The workspace file in the shape of Adobe's Developer Console download
/// (`project.workspace.details.credentials[]`), without client secrets.
#[utoipa::path(get, path = "/api/v1/projects/{id}/workspaces/{workspace_id}/download", tag = "projects",
    params(("id" = String, Path, description = "Project ID"), ("workspace_id" = String, Path, description = "Workspace ID")),
    responses((status = 200, body = Object), (status = 404, body = Problem)))]
pub async fn download(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, workspace_id)): Path<(String, String)>,
) -> OpResult<ApiJson<serde_json::Value>> {
    Ok(ApiJson(
        console::projects::download(&state, &caller, &id, &workspace_id).await?,
    ))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/projects", get(list).post(create))
        .route("/api/v1/projects/{id}", get(read).patch(update).delete(delete))
        .route(
            "/api/v1/projects/{id}/workspaces",
            get(list_workspaces).post(create_workspace),
        )
        .route(
            "/api/v1/projects/{id}/workspaces/{workspace_id}",
            get(read_workspace).patch(update_workspace).delete(delete_workspace),
        )
        .route(
            "/api/v1/projects/{id}/workspaces/{workspace_id}/download",
            get(download),
        )
}
