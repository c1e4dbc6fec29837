//! Organizations, projects, workspaces, the services an organization can subscribe to, and the
//! workspace download, on Adobe's Console API paths.

use axum::{
    Router,
    extract::{Path, State},
    http::StatusCode,
    response::IntoResponse,
    routing::get,
};
use gatehouse_core::console::{self, projects as uc};
use gatehouse_domain::{
    integration::Owner,
    org::Role,
    project::{Changes, Input, Project, Workspace},
};
use gatehouse_store::ProjectStore;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ConsoleApiCaller, adobe_date, project_in, workspace_in};
use crate::{AppState, error::OpResult, extract::ApiJson};

fn role_name(r: Role) -> &'static str {
    match r {
        Role::Admin => "ADMIN",
        Role::Developer => "DEVELOPER",
        Role::Member => "MEMBER",
    }
}

/// `GET /console/organizations`: the organizations the caller belongs to.
async fn organizations(State(state): State<AppState>, caller: ConsoleApiCaller) -> OpResult<ApiJson<Vec<Value>>> {
    let mut out = Vec::new();
    for r in &caller.principal.roles {
        let name = match gatehouse_domain::ids::OrgId::parse(&r.org_id) {
            Ok(id) => {
                use gatehouse_store::OrgStore;
                state
                    .store
                    .conn()
                    .await?
                    .org_by_id(&id)
                    .await?
                    .map_or_else(|| r.org_name.clone(), |o| o.name)
            }
            Err(_) => r.org_name.clone(),
        };
        let role = role_name(r.role);
        out.push(json!({
            "id": r.org_id,
            "code": r.org_id,
            "name": name,
            "description": "",
            "type": "entp",
            "role": role,
            "roles": [role],
        }));
    }
    Ok(ApiJson(out))
}

fn who(p: &Project) -> Value {
    json!(p.created_by)
}

fn project_json(p: &Project, workspaces: &[Workspace]) -> Value {
    json!({
        "id": p.id,
        "name": p.name,
        "title": p.title,
        "description": p.description,
        "type": "default",
        "enabled": true,
        "deleted": false,
        "org_id": p.org_id(),
        "appId": null,
        "date_created": adobe_date(p.created_at),
        "date_last_modified": adobe_date(p.updated_at),
        "who_created": who(p),
        "who_last_modified": who(p),
        "metadata": {
            "workspaces": workspaces.iter().map(|w| json!({"id": w.id, "name": w.name})).collect::<Vec<_>>(),
        },
    })
}

fn workspace_json(w: &Workspace) -> Value {
    json!({
        "id": w.id,
        "name": w.name,
        "title": w.title,
        "description": w.description,
        "enabled": true,
        "runtime_enabled": false,
        "date_created": adobe_date(w.created_at),
        "date_last_modified": adobe_date(w.updated_at),
    })
}

/// `GET …/projects`: the organization's projects the caller may see.
async fn list_projects(
    State(state): State<AppState>,
    caller: ConsoleApiCaller,
    Path(org): Path<String>,
) -> OpResult<ApiJson<Vec<Value>>> {
    let all = uc::list(&state, &caller).await?;
    Ok(ApiJson(
        all.iter()
            .filter(|(p, _)| p.org_id() == Some(org.as_str()))
            .map(|(p, w)| project_json(p, w))
            .collect(),
    ))
}

#[derive(Debug, Deserialize)]
struct ProjectBody {
    name: Option<String>,
    title: Option<String>,
    description: Option<String>,
    #[serde(rename = "type")]
    project_type: Option<String>,
}

/// `POST …/projects`: a project with its Production workspace.
async fn create_project(
    State(state): State<AppState>,
    caller: ConsoleApiCaller,
    Path(org): Path<String>,
    body: Result<ApiJson<ProjectBody>, crate::ApiError>,
) -> OpResult<impl IntoResponse> {
    let ApiJson(body) = body?;
    if body.project_type.as_deref().is_some_and(|t| t != "default") {
        return Err(crate::error::ConsoleError::new(
            gatehouse_core::Kind::Invalid,
            "unsupported_project_type",
            "Gatehouse projects are of type \"default\" (App Builder projects are not supported).",
        )
        .on("type"));
    }
    let input = Input {
        name: body.name.unwrap_or_default(),
        title: body.title,
        description: body.description,
    };
    let (p, production) = uc::create(&state, &caller, Owner::Organization(org), &input).await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(json!({ "projectId": p.id, "projectType": "default", "workspaceId": production.id })),
    ))
}

async fn get_project(
    State(state): State<AppState>,
    caller: ConsoleApiCaller,
    Path((org, project)): Path<(String, String)>,
) -> OpResult<ApiJson<Value>> {
    let mut conn = state.store.conn().await?;
    let p = project_in(&mut conn, &caller, &org, &project).await?;
    let w = conn.workspaces_of(&p.id).await?;
    Ok(ApiJson(project_json(&p, &w)))
}

async fn edit_project(
    State(state): State<AppState>,
    caller: ConsoleApiCaller,
    Path((org, project)): Path<(String, String)>,
    body: Result<ApiJson<ProjectBody>, crate::ApiError>,
) -> OpResult<ApiJson<Value>> {
    let ApiJson(body) = body?;
    project_in(&mut state.store.conn().await?, &caller, &org, &project).await?;
    let changes = Changes {
        title: body.title,
        description: body.description,
    };
    let p = uc::update(&state, &caller, &project, &changes).await?;
    let w = state.store.conn().await?.workspaces_of(&p.id).await?;
    Ok(ApiJson(project_json(&p, &w)))
}

async fn delete_project(
    State(state): State<AppState>,
    caller: ConsoleApiCaller,
    Path((org, project)): Path<(String, String)>,
) -> OpResult<ApiJson<Value>> {
    project_in(&mut state.store.conn().await?, &caller, &org, &project).await?;
    uc::delete(&state, &caller, &project).await?;
    Ok(ApiJson(json!({})))
}

async fn list_workspaces(
    State(state): State<AppState>,
    caller: ConsoleApiCaller,
    Path((org, project)): Path<(String, String)>,
) -> OpResult<ApiJson<Vec<Value>>> {
    let mut conn = state.store.conn().await?;
    let p = project_in(&mut conn, &caller, &org, &project).await?;
    Ok(ApiJson(
        conn.workspaces_of(&p.id).await?.iter().map(workspace_json).collect(),
    ))
}

async fn create_workspace(
    State(state): State<AppState>,
    caller: ConsoleApiCaller,
    Path((org, project)): Path<(String, String)>,
    body: Result<ApiJson<ProjectBody>, crate::ApiError>,
) -> OpResult<impl IntoResponse> {
    let ApiJson(body) = body?;
    project_in(&mut state.store.conn().await?, &caller, &org, &project).await?;
    let input = Input {
        name: body.name.unwrap_or_default(),
        title: body.title,
        description: body.description,
    };
    let w = uc::create_workspace(&state, &caller, &project, &input).await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(json!({ "projectId": project, "workspaceId": w.id })),
    ))
}

async fn get_workspace(
    State(state): State<AppState>,
    caller: ConsoleApiCaller,
    Path((org, project, workspace)): Path<(String, String, String)>,
) -> OpResult<ApiJson<Value>> {
    let (_, w) = workspace_in(&mut state.store.conn().await?, &caller, &org, &project, &workspace).await?;
    Ok(ApiJson(workspace_json(&w)))
}

async fn edit_workspace(
    State(state): State<AppState>,
    caller: ConsoleApiCaller,
    Path((org, project, workspace)): Path<(String, String, String)>,
    body: Result<ApiJson<ProjectBody>, crate::ApiError>,
) -> OpResult<ApiJson<Value>> {
    let ApiJson(body) = body?;
    workspace_in(&mut state.store.conn().await?, &caller, &org, &project, &workspace).await?;
    let changes = Changes {
        title: body.title,
        description: body.description,
    };
    let w = uc::update_workspace(&state, &caller, &project, &workspace, &changes).await?;
    Ok(ApiJson(workspace_json(&w)))
}

async fn delete_workspace(
    State(state): State<AppState>,
    caller: ConsoleApiCaller,
    Path((org, project, workspace)): Path<(String, String, String)>,
) -> OpResult<ApiJson<Value>> {
    workspace_in(&mut state.store.conn().await?, &caller, &org, &project, &workspace).await?;
    uc::delete_workspace(&state, &caller, &project, &workspace).await?;
    Ok(ApiJson(json!({})))
}

/// `GET …/workspaces/{workspaceId}/download`: the workspace file (no client secrets).
async fn download(
    State(state): State<AppState>,
    caller: ConsoleApiCaller,
    Path((org, project, workspace)): Path<(String, String, String)>,
) -> OpResult<ApiJson<Value>> {
    workspace_in(&mut state.store.conn().await?, &caller, &org, &project, &workspace).await?;
    Ok(ApiJson(uc::download(&state, &caller, &project, &workspace).await?))
}

#[derive(Debug, Deserialize)]
struct ServicesQuery {
    #[serde(rename = "sdkCodes")]
    sdk_codes: Option<String>,
}

/// `GET …/services`: the catalog, each service with the credential types it allows (`entp` for
/// Server-to-Server and Service Account credentials, `adobeid` for OAuth ones).
async fn services(
    State(state): State<AppState>,
    caller: ConsoleApiCaller,
    Path(org): Path<String>,
    axum::extract::Query(q): axum::extract::Query<ServicesQuery>,
) -> OpResult<ApiJson<Vec<Value>>> {
    super::org_member(&state, &caller, &org).await?;
    let wanted: Option<Vec<&str>> = q.sdk_codes.as_deref().map(|c| c.split(',').map(str::trim).collect());
    let catalog = console::catalog::list(&state).await?;
    Ok(ApiJson(
        catalog
            .iter()
            .filter(|s| wanted.as_ref().is_none_or(|w| w.contains(&s.code.as_str())))
            .map(|s| {
                let entp = s.allowed_types.iter().any(|t| t.is_technical_account());
                json!({
                    "name": s.name,
                    "code": s.code.as_str(),
                    "enabled": true,
                    "type": if entp { "entp" } else { "adobeid" },
                    "description": s.description,
                    "deprecated": false,
                    "platformList": s.allowed_types.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
                    "properties": { "licenseConfigs": [], "roles": [] },
                    "requiresApproval": false,
                    "canRequestAccess": false,
                    "entitledForOrg": true,
                    "disabledReasons": [],
                })
            })
            .collect(),
    ))
}

/// `GET …/projects_workspaces/workspaces/{workspaceId}`: the project of a workspace.
async fn project_of_workspace(
    State(state): State<AppState>,
    caller: ConsoleApiCaller,
    Path((org, workspace)): Path<(String, String)>,
) -> OpResult<ApiJson<Value>> {
    let mut conn = state.store.conn().await?;
    let (m, w) = uc::workspace_by_id(&mut conn, &caller, &workspace).await?;
    if m.project().org_id() != Some(org.as_str()) {
        return Err(gatehouse_core::Error::not_found("workspace").into());
    }
    Ok(ApiJson(json!({ "projectId": w.project_id, "workspaceId": w.id })))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/organizations", get(organizations))
        .route("/console/organizations/{org}/services", get(services))
        .route(
            "/console/organizations/{org}/projects",
            get(list_projects).post(create_project),
        )
        .route(
            "/console/organizations/{org}/projects/{project}",
            get(get_project).patch(edit_project).delete(delete_project),
        )
        .route(
            "/console/organizations/{org}/projects/{project}/workspaces",
            get(list_workspaces).post(create_workspace),
        )
        .route(
            "/console/organizations/{org}/projects/{project}/workspaces/{workspace}",
            get(get_workspace).patch(edit_workspace).delete(delete_workspace),
        )
        .route(
            "/console/organizations/{org}/projects/{project}/workspaces/{workspace}/download",
            get(download),
        )
        .route(
            "/console/organizations/{org}/projects_workspaces/workspaces/{workspace}",
            get(project_of_workspace),
        )
}
