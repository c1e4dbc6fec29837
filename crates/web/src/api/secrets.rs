//! `/api/v1/integrations/{id}/secrets`: client secrets by hint, with when they expire and were
//! last used; add one (its value is in that response only), optionally expiring; revoke one. At
//! most two are active (neither revoked nor expired); the last one cannot be revoked.

use crate::error::OpResult;
use axum::{
    Router,
    body::Bytes,
    extract::{Path, State, rejection::BytesRejection},
    http::StatusCode,
    response::IntoResponse,
    routing::{delete, get},
};
use gatehouse_core::{Kind, console};
use gatehouse_domain::integration::StoredSecret;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    AppState,
    auth::Caller,
    error::{ConsoleError, ConsoleProblem as Problem},
    extract::ApiJson,
};

/// A client secret as stored: never its value.
#[derive(Debug, Serialize, ToSchema)]
pub struct SecretOut {
    /// The secret's ID (a UUID).
    #[schema(example = "0b9f6a3e-51b1-4c5e-9a43-0f5c2f1e7d21")]
    pub id: String,
    /// The last four characters of the secret.
    pub hint: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    /// When it stops authenticating (Unix seconds); `null`: never.
    pub expires_at: Option<i64>,
    /// When it last authenticated a client (Unix seconds, recorded to about a minute); `null`:
    /// never.
    pub last_used_at: Option<i64>,
}

impl From<&StoredSecret> for SecretOut {
    fn from(s: &StoredSecret) -> Self {
        Self {
            id: s.id.clone(),
            hint: s.hint.clone(),
            created_at: s.created_at,
            revoked_at: s.revoked_at,
            expires_at: s.expires_at,
            last_used_at: s.last_used_at,
        }
    }
}

/// A new secret's settings; the body may also be empty (a secret that does not expire).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSecret {
    /// When it stops authenticating (Unix seconds): in the future, at most 10 years ahead. Omit
    /// or `null`: never.
    #[schema(example = 1_767_225_600)]
    pub expires_at: Option<i64>,
}

/// The settings of a new secret: an empty body, or JSON [`NewSecret`].
fn new_secret_of(body: Result<Bytes, BytesRejection>) -> OpResult<NewSecret> {
    let body = body.map_err(|r| ConsoleError::from(crate::ApiError::new(r.status(), "invalid_body", r.body_text())))?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(NewSecret::default());
    }
    serde_json::from_slice(&body).map_err(|e| {
        ConsoleError::new(
            Kind::Invalid,
            "invalid_json",
            format!("The body is not the expected JSON: {e}"),
        )
    })
}

/// A new secret; `client_secret` is shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct SecretCreated {
    pub secret: SecretOut,
    #[schema(example = "ghs_3f1e…")]
    pub client_secret: String,
}

/// The integration's secrets, revoked and expired ones included, oldest first.
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

/// Adds a client secret (rotation: add the new one, deploy it, revoke the old one), optionally
/// expiring. An expired secret no longer authenticates and no longer counts among the two active.
#[utoipa::path(post, path = "/api/v1/integrations/{id}/secrets", tag = "credentials",
    request_body(content = Option<NewSecret>, description = "Optional; an empty body adds a secret that does not expire"),
    params(("id" = String, Path, description = "Integration ID")),
    responses((status = 201, body = SecretCreated), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn add(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> OpResult<impl IntoResponse> {
    let new = new_secret_of(body)?;
    let (stored, plaintext) = console::secrets::add(&state, &caller, &id, new.expires_at).await?;
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
