//! The Adobe I/O Events-compatible surface, so `@adobe/aio-lib-events` and code written for
//! Adobe's APIs work against Gatehouse (wire facts: the team's compat notes, §A.1–A.6):
//! - management under `/events/{org}/{project}/{workspace}/…` — `org` is the caller's
//!   organization, `project` and `workspace` those its integration lives in (or, as before
//!   projects existed, its integration ID and `default`) — answering HAL JSON;
//! - the journal at `/events/organizations/{org}/integrations/{integration}/{registration}`
//!   (each registration's `_links["rel:events"]`);
//! - publishing at `POST /events/ingress`, answering `200 OK` (or `204` when no registration
//!   receives the event).
//!
//! The same rules and store operations as Gatehouse's own API run behind it ([`super::service`]).

mod eventmetadata;
mod ingress;
mod providers;
mod registrations;

use axum::{
    Router,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use crate::events::auth::Caller;
use crate::{ApiError, AppState};

/// The workspace of paths written before projects existed, whose project was the integration.
pub const LEGACY_WORKSPACE: &str = "default";

/// A HAL JSON response.
pub fn hal(status: StatusCode, body: Value) -> Response {
    let mut res = (status, axum::Json(body)).into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/hal+json"));
    res
}

/// `{"href": <absolute URL>}`.
pub fn href(state: &AppState, path: &str) -> Value {
    json!({ "href": state.settings.url(path) })
}

/// Checks the `{org}` of a path against the caller.
pub fn check_org(caller: &Caller, org: &str) -> Result<(), ApiError> {
    if gatehouse_core::policy::owns_org_path(&caller.integration, org) {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "{org:?} is not your integration's organization."
        )))
    }
}

/// The project and workspace IDs of an integration's workspace, as the paths of this surface
/// name them.
pub async fn placement(
    state: &AppState,
    i: &gatehouse_domain::integration::Integration,
) -> Result<(String, String), ApiError> {
    use gatehouse_store::ProjectStore;
    let w = state
        .store
        .conn()
        .await?
        .workspace_by_id(&i.workspace_id)
        .await?
        .ok_or_else(|| ApiError::internal("an integration's workspace is missing"))?;
    Ok((w.project_id, w.id))
}

/// `/events/{scope}/{project}/{workspace}`: where the caller's own resources are on this surface.
pub async fn workspace_base(state: &AppState, caller: &Caller) -> Result<String, ApiError> {
    let (project, workspace) = placement(state, &caller.integration).await?;
    Ok(format!("/events/{}/{project}/{workspace}", caller.scope()))
}

/// Checks `{org}/{project}/{workspace}` against the caller: its organization, and the project and
/// workspace its integration lives in. The form from before projects existed — the integration's
/// ID as the project and `default` as the workspace — is still accepted.
pub async fn check_workspace(
    state: &AppState,
    caller: &Caller,
    org: &str,
    project: &str,
    workspace: &str,
) -> Result<(), ApiError> {
    check_org(caller, org)?;
    if project == caller.id() && workspace == LEGACY_WORKSPACE {
        return Ok(());
    }
    let (project_id, workspace_id) = placement(state, &caller.integration).await?;
    if project != project_id {
        return Err(ApiError::forbidden(format!(
            "{project:?} is not the project of your integration's workspace."
        )));
    }
    if workspace != workspace_id {
        return Err(ApiError::not_found(format!(
            "{workspace:?} is not your integration's workspace."
        )));
    }
    Ok(())
}

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(providers::router())
        .merge(eventmetadata::router())
        .merge(registrations::router())
        .merge(ingress::router())
}
