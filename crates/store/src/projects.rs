//! Projects and workspaces on both backends. Deleting a project deletes its workspaces by
//! cascade; a workspace that still holds an integration is not deleted (the foreign key refuses).

use async_trait::async_trait;
use gatehouse_domain::{
    integration::{Integration, Owner},
    project::{Project, Workspace},
};

use crate::{
    AsDb, ProjectStore, StoreError,
    backend::on_db,
    console::sorted,
    integrations::{INTEGRATION_COLUMNS, IntegrationRow},
    traits::Result,
};

const PROJECT_COLUMNS: &str =
    "id, name, title, description, owner_account_id, org_id, created_by, created_at, updated_at";
const WORKSPACE_COLUMNS: &str = "id, project_id, name, title, description, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct ProjectRow {
    id: String,
    name: String,
    title: String,
    description: String,
    owner_account_id: Option<String>,
    org_id: Option<String>,
    created_by: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<ProjectRow> for Project {
    type Error = StoreError;
    fn try_from(r: ProjectRow) -> Result<Self> {
        let owner = match (r.owner_account_id, r.org_id) {
            (None, Some(org)) => Owner::Organization(org),
            (Some(account), None) => Owner::Account(account),
            _ => {
                return Err(StoreError::Corrupt(format!(
                    "project {} must have exactly one owner (an account or an organization)",
                    r.id
                )));
            }
        };
        Ok(Project {
            id: r.id,
            name: r.name,
            title: r.title,
            description: r.description,
            owner,
            created_by: r.created_by,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct WorkspaceRow {
    id: String,
    project_id: String,
    name: String,
    title: String,
    description: String,
    created_at: i64,
    updated_at: i64,
}

impl From<WorkspaceRow> for Workspace {
    fn from(r: WorkspaceRow) -> Self {
        Workspace {
            id: r.id,
            project_id: r.project_id,
            name: r.name,
            title: r.title,
            description: r.description,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

fn sorted_projects(rows: Vec<ProjectRow>) -> Result<Vec<Project>> {
    let mut all = rows.into_iter().map(Project::try_from).collect::<Result<Vec<_>>>()?;
    // Byte order for the ID tie-break on both backends, whatever PostgreSQL's collation.
    all.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    Ok(all)
}

#[async_trait]
impl<T: AsDb> ProjectStore for T {
    async fn insert_project(&mut self, p: &Project) -> Result<()> {
        let (owner_account_id, org_id) = match &p.owner {
            Owner::Account(a) => (Some(a.as_str()), None),
            Owner::Organization(o) => (None, Some(o.as_str())),
        };
        on_db!(self.db(), c => {
            sqlx::query(
                "INSERT INTO projects (id, name, title, description, owner_account_id, org_id, created_by, \
                 created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(&p.id)
            .bind(&p.name)
            .bind(&p.title)
            .bind(&p.description)
            .bind(owner_account_id)
            .bind(org_id)
            .bind(&p.created_by)
            .bind(p.created_at)
            .bind(p.updated_at)
            .execute(&mut *c)
            .await?
            .rows_affected()
        });
        Ok(())
    }

    async fn update_project(&mut self, p: &Project) -> Result<()> {
        on_db!(self.db(), c => {
            sqlx::query("UPDATE projects SET title = $2, description = $3, updated_at = $4 WHERE id = $1")
                .bind(&p.id)
                .bind(&p.title)
                .bind(&p.description)
                .bind(p.updated_at)
                .execute(&mut *c)
                .await?
                .rows_affected()
        });
        Ok(())
    }

    async fn project_by_id(&mut self, id: &str) -> Result<Option<Project>> {
        let sql = format!("SELECT {PROJECT_COLUMNS} FROM projects WHERE id = $1");
        let row: Option<ProjectRow> =
            on_db!(self.db(), c => sqlx::query_as(&sql).bind(id).fetch_optional(&mut *c).await?);
        row.map(Project::try_from).transpose()
    }

    async fn projects_of_account(&mut self, account_id: &str) -> Result<Vec<Project>> {
        let sql = format!("SELECT {PROJECT_COLUMNS} FROM projects WHERE owner_account_id = $1");
        let rows: Vec<ProjectRow> =
            on_db!(self.db(), c => sqlx::query_as(&sql).bind(account_id).fetch_all(&mut *c).await?);
        sorted_projects(rows)
    }

    async fn projects_of_org(&mut self, org_id: &str) -> Result<Vec<Project>> {
        let sql = format!("SELECT {PROJECT_COLUMNS} FROM projects WHERE org_id = $1");
        let rows: Vec<ProjectRow> = on_db!(self.db(), c => sqlx::query_as(&sql).bind(org_id).fetch_all(&mut *c).await?);
        sorted_projects(rows)
    }

    async fn delete_project(&mut self, id: &str) -> Result<bool> {
        let n = on_db!(self.db(), c => {
            sqlx::query("DELETE FROM projects WHERE id = $1").bind(id).execute(&mut *c).await?.rows_affected()
        });
        Ok(n > 0)
    }

    async fn insert_workspace(&mut self, w: &Workspace) -> Result<()> {
        on_db!(self.db(), c => {
            sqlx::query(
                "INSERT INTO workspaces (id, project_id, name, title, description, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&w.id)
            .bind(&w.project_id)
            .bind(&w.name)
            .bind(&w.title)
            .bind(&w.description)
            .bind(w.created_at)
            .bind(w.updated_at)
            .execute(&mut *c)
            .await?
            .rows_affected()
        });
        Ok(())
    }

    async fn update_workspace(&mut self, w: &Workspace) -> Result<()> {
        on_db!(self.db(), c => {
            sqlx::query("UPDATE workspaces SET title = $2, description = $3, updated_at = $4 WHERE id = $1")
                .bind(&w.id)
                .bind(&w.title)
                .bind(&w.description)
                .bind(w.updated_at)
                .execute(&mut *c)
                .await?
                .rows_affected()
        });
        Ok(())
    }

    async fn workspace_by_id(&mut self, id: &str) -> Result<Option<Workspace>> {
        let sql = format!("SELECT {WORKSPACE_COLUMNS} FROM workspaces WHERE id = $1");
        let row: Option<WorkspaceRow> =
            on_db!(self.db(), c => sqlx::query_as(&sql).bind(id).fetch_optional(&mut *c).await?);
        Ok(row.map(Workspace::from))
    }

    async fn workspaces_of(&mut self, project_id: &str) -> Result<Vec<Workspace>> {
        let sql = format!("SELECT {WORKSPACE_COLUMNS} FROM workspaces WHERE project_id = $1");
        let rows: Vec<WorkspaceRow> =
            on_db!(self.db(), c => sqlx::query_as(&sql).bind(project_id).fetch_all(&mut *c).await?);
        let mut all: Vec<Workspace> = rows.into_iter().map(Workspace::from).collect();
        all.sort_by(|a, b| (!a.is_production(), a.created_at, &a.id).cmp(&(!b.is_production(), b.created_at, &b.id)));
        Ok(all)
    }

    async fn delete_workspace(&mut self, id: &str) -> Result<bool> {
        let n = on_db!(self.db(), c => {
            sqlx::query("DELETE FROM workspaces WHERE id = $1").bind(id).execute(&mut *c).await?.rows_affected()
        });
        Ok(n > 0)
    }

    async fn integrations_of_workspace(&mut self, workspace_id: &str) -> Result<Vec<Integration>> {
        let sql = format!("SELECT {INTEGRATION_COLUMNS} FROM integrations WHERE workspace_id = $1");
        let rows: Vec<IntegrationRow> =
            on_db!(self.db(), c => sqlx::query_as(&sql).bind(workspace_id).fetch_all(&mut *c).await?);
        sorted(rows)
    }
}
