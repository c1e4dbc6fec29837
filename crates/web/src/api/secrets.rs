//! `/api/v1/integrations/{id}/secrets`: client secrets by hint, add one (its value is in that
//! response only), revoke one. At most two are active; the last one cannot be revoked.

use crate::error::OpResult;
use axum::{
    Router,
    extract::{Path, State},
    http::StatusCode,
    response::IntoResponse,
    routing::{delete, get},
};
use gatehouse_core::console;
use gatehouse_domain::integration::StoredSecret;
use serde::Serialize;
use utoipa::ToSchema;

use crate::{AppState, auth::Caller, error::ConsoleProblem as Problem, extract::ApiJson};

/// A client secret as stored: never its value.
#[derive(Debug, Serialize, ToSchema)]
pub struct SecretOut {
    pub id: String,
    /// The last four characters of the secret.
    pub hint: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

impl From<&StoredSecret> for SecretOut {
    fn from(s: &StoredSecret) -> Self {
        Self {
            id: s.id.clone(),
            hint: s.hint.clone(),
            created_at: s.created_at,
            revoked_at: s.revoked_at,
        }
    }
}

/// A new secret; `client_secret` is shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct SecretCreated {
    pub secret: SecretOut,
    #[schema(example = "ghs_3f1e…")]
    pub client_secret: String,
}

/// The integration's secrets, revoked ones included, oldest first.
#[utoipa::path(get, path = "/api/v1/integrations/{id}/secrets", tag = "credentials",
    params(("id" = String, Path, description = "Integration ID")),
    responses((status = 200, body = [SecretOut]), (status = 404, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> OpResult<ApiJson<Vec<SecretOut>>> {
    let d = console::integrations::details(&state, &caller, &id).await?;
    Ok(ApiJson(d.secrets.iter().map(SecretOut::from).collect()))
}

/// Adds a client secret (rotation: add the new one, deploy it, revoke the old one).
#[utoipa::path(post, path = "/api/v1/integrations/{id}/secrets", tag = "credentials",
    params(("id" = String, Path, description = "Integration ID")),
    responses((status = 201, body = SecretCreated), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn add(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> OpResult<impl IntoResponse> {
    let (stored, plaintext) = console::secrets::add(&state, &caller, &id).await?;
    Ok((
        StatusCode::CREATED,
        [(axum::http::header::CACHE_CONTROL, "no-store")],
        ApiJson(SecretCreated {
            secret: SecretOut::from(&stored),
            client_secret: plaintext,
        }),
    ))
}

/// Revokes a client secret; refused for the last active one.
#[utoipa::path(delete, path = "/api/v1/integrations/{id}/secrets/{secret_id}", tag = "credentials",
    params(("id" = String, Path, description = "Integration ID"), ("secret_id" = String, Path, description = "Secret ID")),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, secret_id)): Path<(String, String)>,
) -> OpResult<StatusCode> {
    console::secrets::revoke(&state, &caller, &id, &secret_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/integrations/{id}/secrets", get(list).post(add))
        .route("/api/v1/integrations/{id}/secrets/{secret_id}", delete(revoke))
}
