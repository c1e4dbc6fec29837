//! The Adobe I/O Events-compatible surface, so `@adobe/aio-lib-events` and code written for
//! Adobe's APIs work against Gatehouse (wire facts: the team's compat notes, §A.1–A.6):
//! - management under `/events/{org}/{project}/{workspace}/…` — `org` is the caller's
//!   organization, `project` its integration ID, `workspace` is `default` — answering HAL JSON;
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

/// The only workspace Gatehouse has per project (integration).
pub const WORKSPACE: &str = "default";

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

/// Checks `{org}/{project}/{workspace}` against the caller: its organization, its integration ID,
/// and the `default` workspace.
pub fn check_workspace(caller: &Caller, org: &str, project: &str, workspace: &str) -> Result<(), ApiError> {
    check_org(caller, org)?;
    if project != caller.id() {
        return Err(ApiError::forbidden(format!(
            "{project:?} is not your integration's ID (the project of this path)."
        )));
    }
    if workspace != WORKSPACE {
        return Err(ApiError::not_found(format!(
            "Integrations have one workspace, \"{WORKSPACE}\", not {workspace:?}."
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
