//! `/api/v1/orgs`: the caller's organizations, members and roles, invitations. The same
//! operations as the console pages (`identity::ops`), so the same rules hold: only admins manage
//! members, an organization keeps at least one admin, invitations are one-time links.

use axum::{
    Router,
    extract::{Path, State},
    http::StatusCode,
    routing::{delete, get, patch},
};
use gatehouse_domain::{
    identity::membership::MembershipChange,
    org::{Organization, Role},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Problem;
use crate::{
    AppState,
    auth::ApiSession,
    error::ApiError,
    extract::{ApiJson, ClientInfo},
    identity::SignedIn,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/orgs", get(list_orgs).post(create_org))
        .route("/api/v1/orgs/{org}", get(get_org))
        .route("/api/v1/orgs/{org}/members", get(list_members))
        .route(
            "/api/v1/orgs/{org}/members/{account}",
            patch(change_role).delete(remove_member),
        )
        .route("/api/v1/orgs/{org}/invitations", get(list_invitations).post(invite))
        .route("/api/v1/orgs/{org}/invitations/{id}", delete(cancel_invitation))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrgView {
    /// `<24 hex>@<suffix>`.
    pub id: String,
    pub name: String,
    pub require_mfa: bool,
    /// The caller's role: `admin`, `developer` or `member`.
    #[schema(value_type = super::schema::RoleName)]
    pub role: String,
    pub created_at: i64,
}

fn view(o: &Organization, role: Role) -> OrgView {
    OrgView {
        id: o.id.to_string(),
        name: o.name.clone(),
        require_mfa: o.require_mfa,
        role: role.as_str().to_owned(),
        created_at: o.created_at,
    }
}

#[utoipa::path(get, path = "/api/v1/orgs", tag = "organizations", responses((status = 200, body = Vec<OrgView>)))]
pub async fn list_orgs(
    State(state): State<AppState>,
    ApiSession(who): ApiSession,
) -> Result<ApiJson<Vec<OrgView>>, ApiError> {
    let orgs = gatehouse_core::identity::organizations::my_orgs(&state, &who).await?;
    Ok(ApiJson(orgs.iter().map(|(o, r)| view(o, *r)).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrg {
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
}

#[utoipa::path(post, path = "/api/v1/orgs", tag = "organizations", request_body = NewOrg,
    responses((status = 201, body = OrgView), (status = 422, body = Problem)))]
pub async fn create_org(
    State(state): State<AppState>,
    ApiSession(who): ApiSession,
    client: ClientInfo,
    ApiJson(body): ApiJson<NewOrg>,
) -> Result<(StatusCode, ApiJson<OrgView>), ApiError> {
    let org = gatehouse_core::identity::organizations::create_org(&state, &who, &body.name, &client).await?;
    Ok((StatusCode::CREATED, ApiJson(view(&org, Role::Admin))))
}

async fn org_of(state: &AppState, who: &SignedIn, id: &str) -> Result<(Organization, Role), ApiError> {
    Ok(gatehouse_core::identity::organizations::org_for(state, who, id).await?)
}

#[utoipa::path(get, path = "/api/v1/orgs/{org}", tag = "organizations",
    params(("org" = String, Path, description = "Organization ID")),
    responses((status = 200, body = OrgView), (status = 404, body = Problem)))]
pub async fn get_org(
    State(state): State<AppState>,
    ApiSession(who): ApiSession,
    Path(org): Path<String>,
) -> Result<ApiJson<OrgView>, ApiError> {
    let (o, r) = org_of(&state, &who, &org).await?;
    Ok(ApiJson(view(&o, r)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberView {
    pub account_id: String,
    pub email: String,
    pub display_name: String,
    #[schema(value_type = super::schema::RoleName)]
    pub role: String,
    pub joined_at: i64,
    /// `personal` or `enterprise`.
    pub account_type: String,
    /// An enterprise account this organization manages (its admins may disable it or reset its
    /// password or two-step verification).
    pub managed: bool,
    pub disabled: bool,
}

#[utoipa::path(get, path = "/api/v1/orgs/{org}/members", tag = "organizations",
    params(("org" = String, Path, description = "Organization ID")),
    responses((status = 200, body = Vec<MemberView>), (status = 404, body = Problem)))]
pub async fn list_members(
    State(state): State<AppState>,
    ApiSession(who): ApiSession,
    Path(org): Path<String>,
) -> Result<ApiJson<Vec<MemberView>>, ApiError> {
    let (o, _) = org_of(&state, &who, &org).await?;
    let members = gatehouse_core::identity::organizations::members(&state, &o).await?;
    Ok(ApiJson(
        members
            .into_iter()
            .map(|m| MemberView {
                managed: gatehouse_core::identity::enterprise::is_managed_by(&m.account, &o),
                disabled: m.account.disabled,
                account_type: m.account.account_type.as_str().to_owned(),
                account_id: m.account.id,
                email: m.account.email.to_string(),
                display_name: m.account.display_name,
                role: m.membership.role.as_str().to_owned(),
                joined_at: m.membership.created_at,
            })
            .collect(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleChange {
    /// `admin`, `developer` or `member`.
    #[schema(value_type = super::schema::RoleName)]
    pub role: String,
}

#[utoipa::path(patch, path = "/api/v1/orgs/{org}/members/{account}", tag = "organizations", request_body = RoleChange,
    params(("org" = String, Path, description = "Organization ID"), ("account" = String, Path, description = "Account ID")),
    responses((status = 204, description = "Changed"), (status = 403, description = "Not an admin", body = Problem),
              (status = 409, description = "It would leave the organization without an admin", body = Problem)))]
pub async fn change_role(
    State(state): State<AppState>,
    ApiSession(who): ApiSession,
    client: ClientInfo,
    Path((org, account)): Path<(String, String)>,
    ApiJson(body): ApiJson<RoleChange>,
) -> Result<StatusCode, ApiError> {
    let (o, _) = org_of(&state, &who, &org).await?;
    let role = Role::parse(&body.role)?;
    gatehouse_core::identity::organizations::change_membership(
        &state,
        &who,
        &o,
        MembershipChange::SetRole {
            account_id: &account,
            role,
        },
        &client,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/orgs/{org}/members/{account}", tag = "organizations",
    params(("org" = String, Path, description = "Organization ID"), ("account" = String, Path, description = "Account ID; your own to leave")),
    responses((status = 204, description = "Removed"), (status = 409, body = Problem)))]
pub async fn remove_member(
    State(state): State<AppState>,
    ApiSession(who): ApiSession,
    client: ClientInfo,
    Path((org, account)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let (o, _) = org_of(&state, &who, &org).await?;
    let change = if account == who.account.id {
        MembershipChange::Leave
    } else {
        MembershipChange::Remove { account_id: &account }
    };
    gatehouse_core::identity::organizations::change_membership(&state, &who, &o, change, &client).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationView {
    pub id: String,
    pub email: String,
    #[schema(value_type = super::schema::RoleName)]
    pub role: String,
    pub expires_at: i64,
}

fn inv_view(p: gatehouse_core::identity::organizations::PendingInvitation) -> InvitationView {
    InvitationView {
        id: p.id,
        email: p.invitation.email.to_string(),
        role: p.invitation.role.as_str().to_owned(),
        expires_at: p.expires_at,
    }
}

#[utoipa::path(get, path = "/api/v1/orgs/{org}/invitations", tag = "organizations",
    params(("org" = String, Path, description = "Organization ID")),
    responses((status = 200, body = Vec<InvitationView>), (status = 403, body = Problem)))]
pub async fn list_invitations(
    State(state): State<AppState>,
    ApiSession(who): ApiSession,
    Path(org): Path<String>,
) -> Result<ApiJson<Vec<InvitationView>>, ApiError> {
    let (o, r) = org_of(&state, &who, &org).await?;
    if r != Role::Admin {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "admin_required",
            "Only an admin of this organization can see its invitations.",
        ));
    }
    Ok(ApiJson(
        gatehouse_core::identity::organizations::invitations(&state, &o)
            .await?
            .into_iter()
            .map(inv_view)
            .collect(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInvitation {
    pub email: String,
    /// `admin`, `developer` or `member`.
    #[schema(value_type = super::schema::RoleName)]
    pub role: String,
}

#[utoipa::path(post, path = "/api/v1/orgs/{org}/invitations", tag = "organizations", request_body = NewInvitation,
    params(("org" = String, Path, description = "Organization ID")),
    responses((status = 201, description = "Sent (the link goes only to the invited address)", body = InvitationView),
              (status = 422, body = Problem), (status = 409, description = "Already a member", body = Problem)))]
pub async fn invite(
    State(state): State<AppState>,
    ApiSession(who): ApiSession,
    client: ClientInfo,
    Path(org): Path<String>,
    ApiJson(body): ApiJson<NewInvitation>,
) -> Result<(StatusCode, ApiJson<InvitationView>), ApiError> {
    let (o, _) = org_of(&state, &who, &org).await?;
    let p = gatehouse_core::identity::organizations::invite(&state, &who, &o, &body.email, &body.role, &client).await?;
    Ok((StatusCode::CREATED, ApiJson(inv_view(p))))
}

#[utoipa::path(delete, path = "/api/v1/orgs/{org}/invitations/{id}", tag = "organizations",
    params(("org" = String, Path, description = "Organization ID"), ("id" = String, Path, description = "Invitation ID")),
    responses((status = 204, description = "Cancelled"), (status = 404, body = Problem)))]
pub async fn cancel_invitation(
    State(state): State<AppState>,
    ApiSession(who): ApiSession,
    client: ClientInfo,
    Path((org, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let (o, r) = org_of(&state, &who, &org).await?;
    gatehouse_core::identity::organizations::cancel_invitation(&state, &who, &o, r, &id, &client).await?;
    Ok(StatusCode::NO_CONTENT)
}
