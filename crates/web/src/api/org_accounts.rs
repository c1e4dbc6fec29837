//! `/api/v1/orgs/{org}/accounts`: the enterprise accounts an organization manages — creating one
//! (the person is mailed a link to choose a password), disabling and re-enabling it, resetting its
//! password or its two-step verification. The same operations as the console's member list
//! (`identity::enterprise`), so the same rules hold: only the owning organization's admins, never
//! a personal account or one another organization manages.

use axum::{
    Router,
    extract::{Path, State},
    http::StatusCode,
    routing::post,
};
use gatehouse_core::identity::enterprise;
use gatehouse_domain::{account::Account, identity::enterprise::AdminAction};
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
        .route("/api/v1/orgs/{org}/accounts", post(create_account))
        .route("/api/v1/orgs/{org}/accounts/{account}/{action}", post(account_action))
}

/// An enterprise account as its organization's admins see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ManagedAccountView {
    pub id: String,
    pub email: String,
    pub display_name: String,
    /// Always `enterprise`.
    pub account_type: String,
    /// The organization that manages it.
    pub owner_org_id: Option<String>,
    pub disabled: bool,
    /// False until the person has opened their link and chosen a password.
    pub email_verified: bool,
    pub created_at: i64,
}

impl From<&Account> for ManagedAccountView {
    fn from(a: &Account) -> Self {
        Self {
            id: a.id.clone(),
            email: a.email.to_string(),
            display_name: a.display_name.clone(),
            account_type: a.account_type.as_str().to_owned(),
            owner_org_id: a.owner_org_id.clone(),
            disabled: a.disabled,
            email_verified: a.email_verified,
            created_at: a.created_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewManagedAccount {
    pub email: String,
    #[schema(min_length = 1, max_length = 100)]
    pub display_name: String,
    /// `admin`, `developer` or `member`.
    #[schema(value_type = super::schema::RoleName)]
    pub role: String,
}

#[utoipa::path(post, path = "/api/v1/orgs/{org}/accounts", tag = "organizations", request_body = NewManagedAccount,
    params(("org" = String, Path, description = "Organization ID")),
    responses((status = 201, description = "Created; the person is mailed a link to choose a password", body = ManagedAccountView),
              (status = 403, description = "Not an admin of the organization, or the address is not in a domain the organization has verified (whether or not it has an account)", body = Problem),
              (status = 409, description = "The address, in a verified domain, has an account already", body = Problem),
              (status = 422, body = Problem)))]
pub async fn create_account(
    State(state): State<AppState>,
    ApiSession(who): ApiSession,
    client: ClientInfo,
    Path(org): Path<String>,
    ApiJson(body): ApiJson<NewManagedAccount>,
) -> Result<(StatusCode, ApiJson<ManagedAccountView>), ApiError> {
    let (o, role) = gatehouse_core::identity::organizations::org_for(&state, &who, &org).await?;
    let a = enterprise::create_account(
        &state,
        &who,
        &o,
        role,
        &body.email,
        &body.display_name,
        &body.role,
        &client,
    )
    .await?;
    Ok((StatusCode::CREATED, ApiJson(ManagedAccountView::from(&a))))
}

#[utoipa::path(post, path = "/api/v1/orgs/{org}/accounts/{account}/{action}", tag = "organizations",
    params(("org" = String, Path, description = "Organization ID"), ("account" = String, Path, description = "Account ID"),
           ("action" = super::schema::OrgAccountActionName, Path, description = "`disable` (ends its sessions, refresh and access tokens), `enable`, \
            `password-reset` (ends its sessions; mails a link to choose a new password) or `mfa-reset` (removes its \
            authenticator app and recovery codes; ends its sessions)")),
    responses((status = 200, description = "Done; the account as it is now", body = ManagedAccountView),
              (status = 403, description = "Not an admin of the owning organization, a personal account, or one another organization manages", body = Problem),
              (status = 404, description = "No such account", body = Problem),
              (status = 409, description = "Disabled already, or not disabled", body = Problem),
              (status = 422, description = "Unknown action, or disabling yourself", body = Problem)))]
pub async fn account_action(
    State(state): State<AppState>,
    ApiSession(who): ApiSession,
    client: ClientInfo,
    Path((org, account, action)): Path<(String, String, String)>,
) -> Result<ApiJson<ManagedAccountView>, ApiError> {
    let (o, role) = gatehouse_core::identity::organizations::org_for(&state, &who, &org).await?;
    let action = AdminAction::parse(&action)?;
    let a = enterprise::admin_action(&state, &who, &o, role, &account, action, &client).await?;
    Ok(ApiJson(ManagedAccountView::from(&a)))
}
