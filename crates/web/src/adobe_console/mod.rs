//! Adobe's Console API (`/console/organizations/…`) over Gatehouse's projects, workspaces and
//! credentials, in the paths and shapes `@adobe/aio-lib-console` calls, so Adobe's tools manage a
//! Gatehouse organization unchanged (the wire facts and what is left out: docs/adobe.md).
//!
//! Every call carries an access token with the `gatehouse.console` scope as a Bearer token and
//! that token's client ID as `x-api-key`, as Adobe's API requires; then the same console use cases
//! and policy as `/api/v1` decide. `{orgId}` is a Gatehouse organization ID; projects outside it
//! are "not found". Client errors are 4xx: Adobe's clients retry every 5xx, POSTs included.

mod credentials;
mod projects;

/// The certificate upload's multipart reader, for the fuzz targets.
#[doc(hidden)]
pub use credentials::{CertForm, read_form};

use axum::{Router, extract::FromRequestParts, http::request::Parts};
use gatehouse_core::console::projects::managed_workspace;
use gatehouse_domain::{Timestamp, project::Project};
use gatehouse_store::Conn;

use crate::{AppState, auth::Caller, error::ConsoleError};

/// The caller of Adobe's Console API: a bearer token with the console scope, whose client ID is
/// the request's `x-api-key`.
pub struct ConsoleApiCaller(pub Caller);

impl std::ops::Deref for ConsoleApiCaller {
    type Target = Caller;
    fn deref(&self) -> &Caller {
        &self.0
    }
}

impl FromRequestParts<AppState> for ConsoleApiCaller {
    type Rejection = ConsoleError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let caller = Caller::from_request_parts(parts, state).await?;
        let key = parts.headers.get("x-api-key").and_then(|v| v.to_str().ok());
        gatehouse_core::policy::console_api_key(&caller.principal, key)?;
        Ok(Self(caller))
    }
}

/// Adobe's date format for `date_created` and the like (ISO 8601, UTC).
pub fn adobe_date(t: Timestamp) -> String {
    gatehouse_domain::events::cloudevent::format_time(t)
}

/// The organization `org`, of which the caller is a member ("not found" otherwise).
async fn org_member(
    state: &AppState,
    caller: &Caller,
    org: &str,
) -> Result<gatehouse_domain::org::Organization, ConsoleError> {
    use gatehouse_store::OrgStore;
    let not_found = || ConsoleError(gatehouse_core::Error::not_found("organization"));
    let id = gatehouse_domain::ids::OrgId::parse(org).map_err(|_| not_found())?;
    let o = state.store.conn().await?.org_by_id(&id).await?.ok_or_else(not_found)?;
    gatehouse_core::policy::in_organization(&caller.principal, &o, false)?;
    Ok(o)
}

/// The project `project_id` of organization `org`, managed by the caller.
async fn project_in(conn: &mut Conn, caller: &Caller, org: &str, project_id: &str) -> Result<Project, ConsoleError> {
    let m = gatehouse_core::console::projects::managed_project(conn, caller, project_id).await?;
    let p = m.into_project();
    if p.org_id() != Some(org) {
        return Err(ConsoleError(gatehouse_core::Error::not_found("project")));
    }
    Ok(p)
}

/// The workspace `workspace_id` of project `project_id` in organization `org`, managed by the caller.
async fn workspace_in(
    conn: &mut Conn,
    caller: &Caller,
    org: &str,
    project_id: &str,
    workspace_id: &str,
) -> Result<(Project, gatehouse_domain::project::Workspace), ConsoleError> {
    let (m, w) = managed_workspace(conn, caller, project_id, workspace_id).await?;
    let p = m.into_project();
    if p.org_id() != Some(org) {
        return Err(ConsoleError(gatehouse_core::Error::not_found("project")));
    }
    Ok((p, w))
}

pub fn router() -> Router<AppState> {
    Router::new().merge(projects::router()).merge(credentials::router())
}
