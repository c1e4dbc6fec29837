//! `/api/v1/account`: the signed-in account's profile, password, sessions and MFA status.

use axum::{
    Router,
    extract::{Path, State},
    http::StatusCode,
    routing::{delete, get, put},
};
use gatehouse_domain::{account::Account, identity::profile::ProfileInput};
use gatehouse_store::SessionStore;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Problem;
use crate::{
    AppState,
    auth::ApiSession,
    error::ApiError,
    extract::{ApiJson, ClientInfo},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/account", get(get_account).patch(update_account))
        .route("/api/v1/account/password", put(change_password))
        .route(
            "/api/v1/account/sessions",
            get(list_sessions).delete(end_other_sessions),
        )
        .route("/api/v1/account/sessions/{id}", delete(end_session))
        .route("/api/v1/account/mfa", get(mfa_status))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountView {
    pub id: String,
    pub email: String,
    pub email_verified: bool,
    /// `personal` or `enterprise`.
    pub account_type: String,
    pub display_name: String,
    pub given_name: String,
    pub family_name: String,
    pub country: String,
    pub created_at: i64,
}

impl From<&Account> for AccountView {
    fn from(a: &Account) -> Self {
        Self {
            id: a.id.clone(),
            email: a.email.to_string(),
            email_verified: a.email_verified,
            account_type: a.account_type.as_str().to_owned(),
            display_name: a.display_name.clone(),
            given_name: a.given_name.clone(),
            family_name: a.family_name.clone(),
            country: a.country.clone(),
            created_at: a.created_at,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/account", tag = "account",
    responses((status = 200, body = AccountView), (status = 401, description = "Not signed in", body = Problem)))]
pub async fn get_account(ApiSession(who): ApiSession) -> ApiJson<AccountView> {
    ApiJson(AccountView::from(&who.account))
}

/// Fields to change; absent fields keep their value.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileUpdate {
    #[schema(max_length = 100)]
    pub display_name: Option<String>,
    #[schema(max_length = 100)]
    pub given_name: Option<String>,
    #[schema(max_length = 100)]
    pub family_name: Option<String>,
    /// ISO 3166-1 alpha-2, or empty.
    #[schema(max_length = 2)]
    pub country: Option<String>,
}

#[utoipa::path(patch, path = "/api/v1/account", tag = "account", request_body = ProfileUpdate,
    responses((status = 200, body = AccountView), (status = 422, description = "A field is invalid", body = Problem),
              (status = 403, description = "CSRF header missing", body = Problem)))]
pub async fn update_account(
    State(state): State<AppState>,
    ApiSession(who): ApiSession,
    client: ClientInfo,
    ApiJson(body): ApiJson<ProfileUpdate>,
) -> Result<ApiJson<AccountView>, ApiError> {
    let a = &who.account;
    let input = ProfileInput {
        display_name: body.display_name.unwrap_or_else(|| a.display_name.clone()),
        given_name: body.given_name.unwrap_or_else(|| a.given_name.clone()),
        family_name: body.family_name.unwrap_or_else(|| a.family_name.clone()),
        country: body.country.unwrap_or_else(|| a.country.clone()),
    };
    let updated = gatehouse_core::identity::accounts::update_profile(&state, &who, &input, &client).await?;
    Ok(ApiJson(AccountView::from(&updated)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    #[schema(min_length = 12)]
    pub new_password: String,
}

#[utoipa::path(put, path = "/api/v1/account/password", tag = "account", request_body = PasswordChange,
    responses((status = 204, description = "Changed; every other session has ended"),
              (status = 422, description = "Wrong current password or a weak new one", body = Problem)))]
pub async fn change_password(
    State(state): State<AppState>,
    ApiSession(who): ApiSession,
    client: ClientInfo,
    ApiJson(body): ApiJson<PasswordChange>,
) -> Result<StatusCode, ApiError> {
    gatehouse_core::identity::accounts::change_password(
        &state,
        &who,
        &body.current_password,
        &body.new_password,
        &client,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    /// Names the session (the digest of its cookie, never the cookie itself).
    pub id: String,
    pub current: bool,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub auth_time: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    /// RFC 8176 authentication method references.
    pub amr: Vec<String>,
}

#[utoipa::path(get, path = "/api/v1/account/sessions", tag = "account",
    responses((status = 200, body = Vec<SessionView>)))]
pub async fn list_sessions(
    State(state): State<AppState>,
    ApiSession(who): ApiSession,
) -> Result<ApiJson<Vec<SessionView>>, ApiError> {
    let list = state.store.conn().await?.sessions_of_account(&who.account.id).await?;
    Ok(ApiJson(
        list.into_iter()
            .map(|s| SessionView {
                current: s.id_digest == who.session.id_digest,
                amr: gatehouse_domain::identity::session::amr(&s.auth_methods)
                    .into_iter()
                    .map(str::to_owned)
                    .collect(),
                id: s.id_digest,
                ip: s.ip,
                user_agent: s.user_agent,
                auth_time: s.auth_time,
                last_seen_at: s.last_seen_at,
                expires_at: s.expires_at,
            })
            .collect(),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Ended {
    pub ended: u64,
}

#[utoipa::path(delete, path = "/api/v1/account/sessions", tag = "account",
    responses((status = 200, description = "Every other session ended", body = Ended)))]
pub async fn end_other_sessions(
    State(state): State<AppState>,
    ApiSession(who): ApiSession,
    client: ClientInfo,
) -> Result<ApiJson<Ended>, ApiError> {
    let ended = gatehouse_core::identity::accounts::end_sessions(&state, &who, None, &client).await?;
    Ok(ApiJson(Ended { ended }))
}

#[utoipa::path(delete, path = "/api/v1/account/sessions/{id}", tag = "account",
    params(("id" = String, Path, description = "Session ID from the list")),
    responses((status = 204, description = "Ended"), (status = 404, body = Problem)))]
pub async fn end_session(
    State(state): State<AppState>,
    ApiSession(who): ApiSession,
    client: ClientInfo,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    match gatehouse_core::identity::accounts::end_sessions(&state, &who, Some(&id), &client).await? {
        0 => Err(ApiError::not_found("You have no session with this ID.")),
        _ => Ok(StatusCode::NO_CONTENT),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MfaStatus {
    pub totp: bool,
    pub recovery_codes_left: usize,
    /// Passkeys registered; each is a second factor and signs in without a password.
    pub passkeys: usize,
    /// Name of an organization that requires two-step verification, if any.
    pub required_by: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/account/mfa", tag = "account", responses((status = 200, body = MfaStatus)))]
pub async fn mfa_status(
    State(state): State<AppState>,
    ApiSession(who): ApiSession,
) -> Result<ApiJson<MfaStatus>, ApiError> {
    let (totp, recovery_codes_left, passkeys) =
        gatehouse_core::identity::accounts::mfa_status(&state, &who.account.id).await?;
    let required_by = gatehouse_core::identity::accounts::mfa_required_by(&state, &who.account.id).await?;
    Ok(ApiJson(MfaStatus {
        totp,
        recovery_codes_left,
        passkeys,
        required_by,
    }))
}
