//! Projects and their workspaces: list what the caller may see, create a project (with its
//! Production workspace), add, edit and delete workspaces, edit and delete projects. A project or
//! workspace is deleted only once it holds no credentials (`gatehouse_domain::project`).

use crate::policy::{self, ManageProject};
use gatehouse_domain::console::workspace_file::{self, OrgRef};
use gatehouse_domain::{
    audit::AuditEntry,
    integration::{Integration, Owner},
    org::Role,
    project::{self, Changes, Input, Project, Workspace},
};
use gatehouse_store::{AuditStore, IntegrationStore, OrgStore, ProjectStore, ServiceStore, StoreError, Tx};
use serde_json::json;

use super::{Caller, OpResult};
use crate::{Core, error::Error};

/// A project with its workspaces (Production first) and the integrations the caller sees in each.
#[derive(Debug, Clone)]
pub struct ProjectDetails {
    pub project: Project,
    pub workspaces: Vec<(Workspace, Vec<Integration>)>,
}

fn audit(state: &Core, caller: &Caller, action: &str, p: &Project) -> AuditEntry {
    let entry = AuditEntry::new(state.now(), &caller.actor, action, format!("project:{}", p.id))
        .from_client(caller.client.ip.clone(), caller.client.user_agent.clone());
    match p.org_id() {
        Some(org) => entry.org(org),
        None => entry,
    }
}

/// The project `id` if the policy lets the caller manage it ("not found" otherwise).
pub async fn managed_project(db: &mut impl ProjectStore, caller: &Caller, id: &str) -> OpResult<ManageProject> {
    let p = db.project_by_id(id).await?.ok_or_else(|| Error::not_found("project"))?;
    Ok(policy::manage_project(&caller.principal, p)?)
}

/// The workspace `workspace_id` of project `project_id`, both managed by the caller.
pub async fn managed_workspace(
    db: &mut impl ProjectStore,
    caller: &Caller,
    project_id: &str,
    workspace_id: &str,
) -> OpResult<(ManageProject, Workspace)> {
    let m = managed_project(db, caller, project_id).await?;
    let w = db
        .workspace_by_id(workspace_id)
        .await?
        .filter(|w| w.project_id == m.project().id)
        .ok_or_else(|| Error::not_found("workspace"))?;
    Ok((m, w))
}

/// The workspace `workspace_id`, found from its ID alone, with its project's leave.
pub async fn workspace_by_id(
    db: &mut impl ProjectStore,
    caller: &Caller,
    workspace_id: &str,
) -> OpResult<(ManageProject, Workspace)> {
    let w = db
        .workspace_by_id(workspace_id)
        .await?
        .ok_or_else(|| Error::not_found("workspace"))?;
    let m = managed_project(db, caller, &w.project_id).await.map_err(|e| {
        if e.kind == policy::Kind::NotFound {
            Error::not_found("workspace")
        } else {
            e
        }
    })?;
    Ok((m, w))
}

/// The projects the caller may see, oldest first, each with its workspaces.
pub async fn list(state: &Core, caller: &Caller) -> OpResult<Vec<(Project, Vec<Workspace>)>> {
    let mut conn = state.store.conn().await?;
    let p = &caller.principal;
    let mut all = Vec::new();
    if let Some(account) = p.account_id() {
        all.extend(conn.projects_of_account(account).await?);
    }
    for r in &p.roles {
        if matches!(r.role, Role::Admin | Role::Developer) {
            all.extend(conn.projects_of_org(&r.org_id).await?);
        }
    }
    all.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    let mut out = Vec::new();
    for project in policy::visible_projects(p, all) {
        let workspaces = conn.workspaces_of(&project.id).await?;
        out.push((project, workspaces));
    }
    Ok(out)
}

fn name_taken(what: &str) -> Error {
    Error::new(
        policy::Kind::Conflict,
        "name_taken",
        format!("A {what} of that name exists already; choose another name."),
    )
    .on("name")
}

/// Stores a new project and its Production workspace in the caller's transaction.
pub async fn insert_project(tx: &mut Tx, project: &Project, production: &Workspace) -> OpResult<()> {
    match tx.insert_project(project).await {
        Err(StoreError::Conflict(_)) => return Err(name_taken("project")),
        other => other?,
    }
    tx.insert_workspace(production).await?;
    Ok(())
}

/// A new project owned by `owner`, with its Production workspace.
pub async fn create(state: &Core, caller: &Caller, owner: Owner, input: &Input) -> OpResult<(Project, Workspace)> {
    let allowed = policy::create_project(&caller.principal, &owner);
    let built = project::new_project(
        input,
        owner,
        caller.principal.account_id(),
        state.now(),
        &mut rand::thread_rng(),
    );
    let (project, production) = match (allowed, built) {
        (Ok(_), Ok(ok)) => ok,
        (Ok(_), Err(fields)) => return Err(fields.into()),
        (Err(refusal), _) => return Err(refusal.into()),
    };
    let mut tx = state.store.begin().await?;
    insert_project(&mut tx, &project, &production).await?;
    tx.append_audit(&audit(state, caller, "project.created", &project).details(json!({
        "name": project.name,
        "title": project.title,
        "workspace_id": production.id,
    })))
    .await?;
    tx.commit().await?;
    Ok((project, production))
}

/// A project with its workspaces and the credentials in each that the caller may see.
pub async fn details(state: &Core, caller: &Caller, id: &str) -> OpResult<ProjectDetails> {
    let mut conn = state.store.conn().await?;
    let project = managed_project(&mut conn, caller, id).await?.into_project();
    let mut workspaces = Vec::new();
    for w in conn.workspaces_of(&project.id).await? {
        let all = conn.integrations_of_workspace(&w.id).await?;
        workspaces.push((w, policy::visible_integrations(&caller.principal, all)));
    }
    Ok(ProjectDetails { project, workspaces })
}

pub async fn update(state: &Core, caller: &Caller, id: &str, changes: &Changes) -> OpResult<Project> {
    let mut tx = state.store.begin().await?;
    let current = managed_project(&mut tx, caller, id).await?.into_project();
    let next = project::edit_project(&current, changes, state.now())?;
    tx.update_project(&next).await?;
    tx.append_audit(
        &audit(state, caller, "project.updated", &next)
            .details(json!({"title": next.title, "description": next.description})),
    )
    .await?;
    tx.commit().await?;
    Ok(next)
}

/// Deletes an empty project with its workspaces.
pub async fn delete(state: &Core, caller: &Caller, id: &str) -> OpResult<Project> {
    let mut tx = state.store.begin().await?;
    let project = managed_project(&mut tx, caller, id).await?.into_project();
    let mut credentials = 0;
    for w in tx.workspaces_of(&project.id).await? {
        credentials += tx.integrations_of_workspace(&w.id).await?.len();
    }
    project::check_delete_project(credentials)?;
    tx.delete_project(&project.id).await?;
    tx.append_audit(&audit(state, caller, "project.deleted", &project).details(json!({"name": project.name})))
        .await?;
    tx.commit().await?;
    Ok(project)
}

/// A new workspace in the project `project_id`.
pub async fn create_workspace(state: &Core, caller: &Caller, project_id: &str, input: &Input) -> OpResult<Workspace> {
    let mut tx = state.store.begin().await?;
    let project = managed_project(&mut tx, caller, project_id).await?.into_project();
    let existing = tx.workspaces_of(&project.id).await?;
    let w = project::new_workspace(&project, existing.len(), input, state.now(), &mut rand::thread_rng())?;
    match tx.insert_workspace(&w).await {
        Err(StoreError::Conflict(_)) => return Err(name_taken("workspace")),
        other => other?,
    }
    tx.append_audit(&audit(state, caller, "workspace.created", &project).details(json!({
        "workspace_id": w.id,
        "name": w.name,
        "title": w.title,
    })))
    .await?;
    tx.commit().await?;
    Ok(w)
}

pub async fn update_workspace(
    state: &Core,
    caller: &Caller,
    project_id: &str,
    workspace_id: &str,
    changes: &Changes,
) -> OpResult<Workspace> {
    let mut tx = state.store.begin().await?;
    let (m, current) = managed_workspace(&mut tx, caller, project_id, workspace_id).await?;
    let next = project::edit_workspace(&current, changes, state.now())?;
    tx.update_workspace(&next).await?;
    tx.append_audit(&audit(state, caller, "workspace.updated", m.project()).details(json!({
        "workspace_id": next.id,
        "title": next.title,
        "description": next.description,
    })))
    .await?;
    tx.commit().await?;
    Ok(next)
}

/// Deletes an empty workspace other than Production.
pub async fn delete_workspace(state: &Core, caller: &Caller, project_id: &str, workspace_id: &str) -> OpResult<()> {
    let mut tx = state.store.begin().await?;
    let (m, w) = managed_workspace(&mut tx, caller, project_id, workspace_id).await?;
    let credentials = tx.integrations_of_workspace(&w.id).await?.len();
    project::check_delete_workspace(&w, credentials)?;
    tx.delete_workspace(&w.id).await?;
    tx.append_audit(
        &audit(state, caller, "workspace.deleted", m.project()).details(json!({"workspace_id": w.id, "name": w.name})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The workspace file of a workspace (Adobe's download shape, without secrets), recorded in the
/// audit log as downloaded.
pub async fn download(
    state: &Core,
    caller: &Caller,
    project_id: &str,
    workspace_id: &str,
) -> OpResult<serde_json::Value> {
    let mut conn = state.store.conn().await?;
    let (m, w) = managed_workspace(&mut conn, caller, project_id, workspace_id).await?;
    let project = m.into_project();
    let mut credentials = Vec::new();
    for i in policy::visible_integrations(&caller.principal, conn.integrations_of_workspace(&w.id).await?) {
        let subscriptions = conn.subscriptions_of(&i.id).await?;
        let jwt_retained = conn
            .certificates_of(&i.id)
            .await?
            .iter()
            .any(|c| c.revoked_at.is_none());
        credentials.push(workspace_file::Credential {
            integration: i,
            subscriptions,
            jwt_retained,
        });
    }
    let catalog = conn.list_services().await?;
    let org = match project.org_id() {
        Some(id) => {
            let parsed = gatehouse_domain::ids::OrgId::parse(id).map_err(Error::internal)?;
            conn.org_by_id(&parsed).await?
        }
        None => None,
    };
    let file = workspace_file::workspace_file(
        org.as_ref().map(|o| OrgRef {
            id: o.id.as_str(),
            name: &o.name,
        }),
        &project,
        &w,
        &credentials,
        &catalog,
    );
    conn.append_audit(&audit(state, caller, "workspace.downloaded", &project).details(json!({"workspace_id": w.id})))
        .await?;
    Ok(file)
}

/// Where the workspace `workspace_id` sits: its project and itself, for a breadcrumb or a form
/// that creates a credential in it. "Not found" unless the caller may manage the project.
pub async fn placement(state: &Core, caller: &Caller, workspace_id: &str) -> OpResult<(Project, Workspace)> {
    let mut conn = state.store.conn().await?;
    let (m, w) = workspace_by_id(&mut conn, caller, workspace_id).await?;
    Ok((m.into_project(), w))
}
