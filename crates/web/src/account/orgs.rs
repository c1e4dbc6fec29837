//! `/console/orgs`: the caller's organizations, creating one, and an organization's page with
//! members (roles, removal), invitations, settings (name, required two-step verification),
//! transferring admin and leaving, and the enterprise accounts the organization manages (creating
//! one; disabling, re-enabling, resetting its password or two-step verification). Every change
//! goes through `identity::ops` / `identity::enterprise`, which check the rules and write the
//! audit entry.

use askama::Template;
use axum::{
    Router,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use gatehouse_core::identity::enterprise;
use gatehouse_domain::{
    account::AccountType,
    identity::{enterprise::AdminAction, membership::MembershipChange},
    org::{Organization, Role},
};
use serde::Deserialize;

use super::{Nav, op_errors, page, when};
use crate::{
    AppState,
    csrf::{CsrfForm, CsrfToken},
    error::PageError,
    extract::ClientInfo,
    identity::{SignedIn, forms::Errors},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/orgs", get(list_page).post(create))
        .route("/console/orgs/{org}", get(org_page))
        .route("/console/orgs/{org}/members/{account}/role", post(set_role))
        .route("/console/orgs/{org}/members/{account}/remove", post(remove))
        .route("/console/orgs/{org}/leave", post(leave))
        .route("/console/orgs/{org}/transfer", post(transfer))
        .route("/console/orgs/{org}/invitations", post(invite))
        .route("/console/orgs/{org}/invitations/{id}/cancel", post(cancel))
        .route("/console/orgs/{org}/settings", post(settings))
        .route("/console/orgs/{org}/accounts", post(create_account))
        .route("/console/orgs/{org}/accounts/{account}/{action}", post(account_action))
}

const ROLES: [&str; 3] = ["admin", "developer", "member"];

struct OrgRow {
    id: String,
    name: String,
    role: &'static str,
}

#[derive(Template)]
#[template(path = "console/orgs.html")]
struct ListPage {
    nav: Nav,
    notice: Option<&'static str>,
    errors: Errors,
    orgs: Vec<OrgRow>,
    can_create: bool,
    name: String,
}

#[derive(Debug, Default, Deserialize)]
struct NoticeQuery {
    done: Option<String>,
}

fn page_err(e: gatehouse_core::Error) -> PageError {
    PageError::new(crate::error::status_of(e.kind), "This cannot be done", e.message)
}

async fn list_view(
    state: &AppState,
    who: &SignedIn,
    csrf: &CsrfToken,
    notice: Option<&'static str>,
    errors: Errors,
    name: String,
) -> Result<ListPage, PageError> {
    let orgs = gatehouse_core::identity::organizations::my_orgs(state, who)
        .await
        .map_err(page_err)?
        .into_iter()
        .map(|(o, r)| OrgRow {
            id: o.id.to_string(),
            name: o.name,
            role: r.as_str(),
        })
        .collect();
    Ok(ListPage {
        nav: Nav::new(who, csrf, "orgs"),
        notice,
        errors,
        orgs,
        can_create: who.account.account_type != AccountType::Enterprise,
        name,
    })
}

async fn list_page(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    let notice = match q.done.as_deref() {
        Some("left") => Some("You have left the organization."),
        _ => None,
    };
    let p = list_view(&state, &who, &csrf, notice, Errors::none(), String::new()).await?;
    Ok(page(StatusCode::OK, csrf, &p))
}

#[derive(Debug, Deserialize)]
struct CreateForm {
    #[serde(default)]
    name: String,
}

async fn create(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    CsrfForm(form): CsrfForm<CreateForm>,
) -> Result<Response, PageError> {
    match gatehouse_core::identity::organizations::create_org(&state, &who, &form.name, &client).await {
        Ok(org) => Ok(Redirect::to(&format!("/console/orgs/{}?done=created", org.id)).into_response()),
        Err(e) => {
            let p = list_view(&state, &who, &csrf, None, op_errors(&e), form.name).await?;
            Ok(page(crate::error::status_of(e.kind), csrf, &p))
        }
    }
}

struct MemberRow {
    id: String,
    name: String,
    email: String,
    role: &'static str,
    is_me: bool,
    /// An enterprise account this organization manages.
    managed: bool,
    disabled: bool,
}

struct InvitationRow {
    id: String,
    email: String,
    role: &'static str,
    expires: String,
}

#[derive(Template)]
#[template(path = "console/org.html")]
struct OrgPage {
    nav: Nav,
    notice: Option<String>,
    errors: Errors,
    org_id: String,
    org_name: String,
    my_role: &'static str,
    is_admin: bool,
    require_mfa: bool,
    members: Vec<MemberRow>,
    invitations: Vec<InvitationRow>,
    /// Other members, for "transfer admin": (account ID, label).
    others: Vec<(String, String)>,
    roles: [&'static str; 3],
    invite_email: String,
}

#[allow(clippy::too_many_arguments)]
async fn org_view(
    state: &AppState,
    who: &SignedIn,
    csrf: &CsrfToken,
    org: &Organization,
    role: Role,
    notice: Option<String>,
    errors: Errors,
    invite_email: String,
) -> Result<OrgPage, PageError> {
    let members = gatehouse_core::identity::organizations::members(state, org)
        .await
        .map_err(page_err)?;
    let is_admin = role == Role::Admin;
    let invitations = if is_admin {
        gatehouse_core::identity::organizations::invitations(state, org)
            .await
            .map_err(page_err)?
    } else {
        Vec::new()
    };
    let others = members
        .iter()
        .filter(|m| m.account.id != who.account.id)
        .map(|m| {
            (
                m.account.id.clone(),
                format!("{} ({})", m.account.display_name, m.account.email),
            )
        })
        .collect();
    Ok(OrgPage {
        nav: Nav::new(who, csrf, "orgs"),
        notice,
        errors,
        org_id: org.id.to_string(),
        org_name: org.name.clone(),
        my_role: role.as_str(),
        is_admin,
        require_mfa: org.require_mfa,
        members: members
            .into_iter()
            .map(|m| MemberRow {
                is_me: m.account.id == who.account.id,
                managed: enterprise::is_managed_by(&m.account, org),
                disabled: m.account.disabled,
                id: m.account.id,
                name: m.account.display_name,
                email: m.account.email.to_string(),
                role: m.membership.role.as_str(),
            })
            .collect(),
        invitations: invitations
            .into_iter()
            .map(|i| InvitationRow {
                id: i.id,
                email: i.invitation.email.to_string(),
                role: i.invitation.role.as_str(),
                expires: when(i.expires_at),
            })
            .collect(),
        others,
        roles: ROLES,
        invite_email,
    })
}

/// The notice after a change; where it sent mail, where the mail went ([`crate::identity::mail_note`]).
fn org_notice(state: &AppState, code: Option<&str>) -> Option<String> {
    let mailed = |done: &str, what: &str| match crate::identity::mail_note(state) {
        Some(note) => format!("{done} {what} {note}"),
        None => format!("{done} {what} has been sent."),
    };
    Some(match code? {
        "created" => "The organization has been created. You are its admin.".to_owned(),
        "role" => "The role has been changed.".to_owned(),
        "removed" => "The member has been removed.".to_owned(),
        "transferred" => "Admin has been transferred.".to_owned(),
        "invited" => mailed("", "The invitation").trim_start().to_owned(),
        "cancelled" => "The invitation has been cancelled.".to_owned(),
        "settings" => "The settings have been saved.".to_owned(),
        "account_created" => mailed("The account has been created.", "The link to choose a password"),
        "disabled" => "The account has been disabled and signed out everywhere; its tokens no longer work.".to_owned(),
        "enabled" => "The account has been enabled again.".to_owned(),
        "password_reset" => mailed("The password has been reset.", "The link to choose a new one"),
        "mfa_reset" => "Two-step verification has been reset and the account signed out everywhere.".to_owned(),
        _ => return None,
    })
}

async fn org_page(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    Path(org_id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    let (org, role) = gatehouse_core::identity::organizations::org_for(&state, &who, &org_id)
        .await
        .map_err(page_err)?;
    let p = org_view(
        &state,
        &who,
        &csrf,
        &org,
        role,
        org_notice(&state, q.done.as_deref()),
        Errors::none(),
        String::new(),
    )
    .await?;
    Ok(page(StatusCode::OK, csrf, &p))
}

/// Runs a change and answers with the org page: a redirect with a notice, or the page with the
/// refusal and its status.
#[allow(clippy::too_many_arguments)]
async fn after(
    state: &AppState,
    who: &SignedIn,
    csrf: CsrfToken,
    org: &Organization,
    role: Role,
    result: gatehouse_core::identity::accounts::OpResult<()>,
    done: &str,
    invite_email: String,
) -> Result<Response, PageError> {
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/console/orgs/{}?done={done}", org.id)).into_response()),
        Err(e) => {
            let p = org_view(state, who, &csrf, org, role, None, op_errors(&e), invite_email).await?;
            Ok(page(crate::error::status_of(e.kind), csrf, &p))
        }
    }
}

#[derive(Debug, Deserialize)]
struct RoleForm {
    #[serde(default)]
    role: String,
}

async fn set_role(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path((org_id, account)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<RoleForm>,
) -> Result<Response, PageError> {
    let (org, role) = gatehouse_core::identity::organizations::org_for(&state, &who, &org_id)
        .await
        .map_err(page_err)?;
    let result = match Role::parse(&form.role) {
        Ok(r) => {
            gatehouse_core::identity::organizations::change_membership(
                &state,
                &who,
                &org,
                MembershipChange::SetRole {
                    account_id: &account,
                    role: r,
                },
                &client,
            )
            .await
        }
        Err(e) => Err(e.into()),
    };
    after(&state, &who, csrf, &org, role, result, "role", String::new()).await
}

#[derive(Debug, Deserialize)]
struct Empty {}

async fn remove(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path((org_id, account)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, PageError> {
    let (org, role) = gatehouse_core::identity::organizations::org_for(&state, &who, &org_id)
        .await
        .map_err(page_err)?;
    let result = gatehouse_core::identity::organizations::change_membership(
        &state,
        &who,
        &org,
        MembershipChange::Remove { account_id: &account },
        &client,
    )
    .await;
    after(&state, &who, csrf, &org, role, result, "removed", String::new()).await
}

async fn leave(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path(org_id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, PageError> {
    let (org, role) = gatehouse_core::identity::organizations::org_for(&state, &who, &org_id)
        .await
        .map_err(page_err)?;
    match gatehouse_core::identity::organizations::change_membership(
        &state,
        &who,
        &org,
        MembershipChange::Leave,
        &client,
    )
    .await
    {
        Ok(()) => Ok(Redirect::to("/console/orgs?done=left").into_response()),
        Err(e) => after(&state, &who, csrf, &org, role, Err(e), "", String::new()).await,
    }
}

#[derive(Debug, Deserialize)]
struct TransferForm {
    #[serde(default)]
    to: String,
    #[serde(default)]
    my_role: String,
}

async fn transfer(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path(org_id): Path<String>,
    CsrfForm(form): CsrfForm<TransferForm>,
) -> Result<Response, PageError> {
    let (org, role) = gatehouse_core::identity::organizations::org_for(&state, &who, &org_id)
        .await
        .map_err(page_err)?;
    let result = match Role::parse(&form.my_role) {
        Ok(r) => {
            gatehouse_core::identity::organizations::change_membership(
                &state,
                &who,
                &org,
                MembershipChange::TransferAdmin {
                    to: &form.to,
                    actor_role: r,
                },
                &client,
            )
            .await
        }
        Err(e) => Err(e.into()),
    };
    after(&state, &who, csrf, &org, role, result, "transferred", String::new()).await
}

#[derive(Debug, Deserialize)]
struct InviteForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
}

async fn invite(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path(org_id): Path<String>,
    CsrfForm(form): CsrfForm<InviteForm>,
) -> Result<Response, PageError> {
    let (org, role) = gatehouse_core::identity::organizations::org_for(&state, &who, &org_id)
        .await
        .map_err(page_err)?;
    let result = gatehouse_core::identity::organizations::invite(&state, &who, &org, &form.email, &form.role, &client)
        .await
        .map(|_| ());
    after(&state, &who, csrf, &org, role, result, "invited", form.email).await
}

async fn cancel(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path((org_id, id)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, PageError> {
    let (org, role) = gatehouse_core::identity::organizations::org_for(&state, &who, &org_id)
        .await
        .map_err(page_err)?;
    let result =
        gatehouse_core::identity::organizations::cancel_invitation(&state, &who, &org, role, &id, &client).await;
    after(&state, &who, csrf, &org, role, result, "cancelled", String::new()).await
}

#[derive(Debug, Deserialize)]
struct SettingsForm {
    #[serde(default)]
    name: String,
    require_mfa: Option<String>,
}

async fn settings(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path(org_id): Path<String>,
    CsrfForm(form): CsrfForm<SettingsForm>,
) -> Result<Response, PageError> {
    let (org, role) = gatehouse_core::identity::organizations::org_for(&state, &who, &org_id)
        .await
        .map_err(page_err)?;
    let result = gatehouse_core::identity::organizations::update_org(
        &state,
        &who,
        &org,
        role,
        &form.name,
        form.require_mfa.is_some(),
        &client,
    )
    .await
    .map(|_| ());
    after(&state, &who, csrf, &org, role, result, "settings", String::new()).await
}

#[derive(Debug, Deserialize)]
struct NewAccountForm {
    #[serde(default)]
    account_email: String,
    #[serde(default)]
    account_name: String,
    #[serde(default)]
    account_role: String,
}

async fn create_account(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path(org_id): Path<String>,
    CsrfForm(form): CsrfForm<NewAccountForm>,
) -> Result<Response, PageError> {
    let (org, role) = gatehouse_core::identity::organizations::org_for(&state, &who, &org_id)
        .await
        .map_err(page_err)?;
    let result = enterprise::create_account(
        &state,
        &who,
        &org,
        role,
        &form.account_email,
        &form.account_name,
        &form.account_role,
        &client,
    )
    .await
    .map(|_| ())
    .map_err(|mut e| {
        // This form's fields have their own names (the invitation form has `email` and `role`).
        for f in &mut e.fields {
            f.field = match f.field.as_str() {
                "email" => "account_email",
                "display_name" => "account_name",
                "role" => "account_role",
                other => other,
            }
            .to_owned();
        }
        e
    });
    after(&state, &who, csrf, &org, role, result, "account_created", String::new()).await
}

async fn account_action(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path((org_id, account, action)): Path<(String, String, String)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, PageError> {
    let (org, role) = gatehouse_core::identity::organizations::org_for(&state, &who, &org_id)
        .await
        .map_err(page_err)?;
    let action = AdminAction::parse(&action).map_err(|e| page_err(e.into()))?;
    let done = match action {
        AdminAction::Disable => "disabled",
        AdminAction::Enable => "enabled",
        AdminAction::ResetPassword => "password_reset",
        AdminAction::ResetMfa => "mfa_reset",
    };
    let result = enterprise::admin_action(&state, &who, &org, role, &account, action, &client)
        .await
        .map(|_| ());
    after(&state, &who, csrf, &org, role, result, done, String::new()).await
}
