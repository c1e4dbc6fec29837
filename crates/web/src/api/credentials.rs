//! `/api/v1/integrations/{id}/credentials`: the credentials file to download — client ID,
//! organization, technical account, endpoints, scopes and metascopes — never a client secret.

use crate::error::OpResult;
use axum::{
    Router,
    extract::{Path, State},
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
    routing::get,
};
use gatehouse_core::console;

use crate::{AppState, auth::Caller, error::ConsoleProblem as Problem, extract::ApiJson};

/// Downloads the credentials file (`Content-Disposition: attachment`).
#[utoipa::path(get, path = "/api/v1/integrations/{id}/credentials", tag = "credentials",
    params(("id" = String, Path, description = "Integration ID")),
    responses((status = 200, description = "The credentials file (JSON)", content_type = "application/json"),
        (status = 404, body = Problem)))]
pub async fn download(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> OpResult<Response> {
    let file = console::integrations::credentials(&state, &caller, &id).await?;
    Ok(attachment(&file))
}

/// The file as a download named after the client ID.
pub fn attachment(file: &gatehouse_domain::console::credentials::CredentialsFile) -> Response {
    let mut res = ApiJson(file).into_response();
    let name = format!("attachment; filename=\"gatehouse-credentials-{}.json\"", file.client_id);
    if let Ok(v) = HeaderValue::from_str(&name) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/integrations/{id}/credentials", get(download))
}
