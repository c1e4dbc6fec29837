//! The organization use cases behind both the console pages and the JSON API: creating
//! organizations, members and their roles, settings, invitations. Each checks the rules (in
//! `gatehouse_domain::identity` and the policy), writes the change and its audit entry in one
//! transaction, and returns the result or an [`Error`].

use gatehouse_domain::{
    DomainError,
    account::{Account, AccountType},
    audit::Actor,
    events::own::OwnEventKind,
    identity::{
        invitation::Invitation,
        links::{self, LinkPurpose},
        membership::{MembershipChange, check_change},
    },
    ids::OrgId,
    org::{Membership, Organization, Role, parse_org_name},
};
use gatehouse_store::{AccountStore, AuditStore, OneTimeToken, OneTimeTokenStore, OrgStore, StoreError};

use super::{
    SignedIn,
    accounts::{OpResult, entry, not_found, publish_member_event},
    links::link,
};
use crate::{ClientInfo, Core, Error, Kind, mail::messages};

// ------------------------------------------------------------------------------------------
// Organizations
// ------------------------------------------------------------------------------------------

/// An organization the caller belongs to, with the caller's role, as the policy allows it (members
/// only; closed until a second factor is used where the organization requires one).
pub async fn org_for(state: &Core, who: &SignedIn, org_id: &str) -> OpResult<(Organization, Role)> {
    let id = OrgId::parse(org_id).map_err(|_| not_found("organization"))?;
    let org = state
        .store
        .conn()
        .await?
        .org_by_id(&id)
        .await?
        .ok_or_else(|| not_found("organization"))?;
    let principal =
        crate::policy::load_person(&state.store, &who.account, who.session.used_second_factor(), None).await?;
    let access = crate::policy::in_organization(&principal, &org, false)?;
    Ok((org, access.role()))
}

/// The caller's organizations with their role, by name.
pub async fn my_orgs(state: &Core, who: &SignedIn) -> OpResult<Vec<(Organization, Role)>> {
    let mut conn = state.store.conn().await?;
    let mut out = Vec::new();
    for m in conn.memberships_of_account(&who.account.id).await? {
        if let Some(o) = conn.org_by_id(&m.org_id).await? {
            out.push((o, m.role));
        }
    }
    out.sort_by(|a, b| (&a.0.name, &a.0.id).cmp(&(&b.0.name, &b.0.id)));
    Ok(out)
}

pub async fn create_org(state: &Core, who: &SignedIn, name: &str, client: &ClientInfo) -> OpResult<Organization> {
    let name = parse_org_name(name).map_err(|e| Error::from(e).on("name"))?;
    if who.account.account_type == AccountType::Enterprise {
        return Err(Error::new(
            Kind::Forbidden,
            "enterprise_account",
            "Accounts managed by an organization cannot create organizations.",
        ));
    }
    let now = state.now();
    let org = Organization {
        id: OrgId::generate(&mut rand::thread_rng(), &state.settings.org_id_suffix),
        name,
        require_mfa: false,
        created_at: now,
        updated_at: now,
    };
    let mut tx = state.store.begin().await?;
    tx.insert_org(&org).await?;
    tx.upsert_membership(&Membership {
        org_id: org.id.clone(),
        account_id: who.account.id.clone(),
        role: Role::Admin,
        created_at: now,
    })
    .await?;
    tx.append_audit(
        &entry(state, who, "org.created", format!("org:{}", org.id), client)
            .org(org.id.as_str())
            .details(serde_json::json!({ "name": org.name })),
    )
    .await?;
    tx.commit().await?;
    Ok(org)
}

/// A member as listed: the membership and the account.
#[derive(Debug, Clone)]
pub struct Member {
    pub membership: Membership,
    pub account: Account,
}

pub async fn members(state: &Core, org: &Organization) -> OpResult<Vec<Member>> {
    let mut conn = state.store.conn().await?;
    let mut out = Vec::new();
    for m in conn.memberships_of_org(&org.id).await? {
        if let Some(a) = conn.account_by_id(&m.account_id).await? {
            out.push(Member {
                membership: m,
                account: a,
            });
        }
    }
    Ok(out)
}

/// Applies a membership change after checking it against the current members, in one
/// transaction (so two admins demoting each other at once cannot leave the org without one).
pub async fn change_membership(
    state: &Core,
    who: &SignedIn,
    org: &Organization,
    change: MembershipChange<'_>,
    client: &ClientInfo,
) -> OpResult<()> {
    let mut tx = state.store.begin().await?;
    let current = tx.memberships_of_org(&org.id).await?;
    check_change(&current, &who.account.id, &change)?;
    let now = state.now();
    let set = |account_id: &str, role: Role| Membership {
        org_id: org.id.clone(),
        account_id: account_id.to_owned(),
        role,
        created_at: now,
    };
    let role_of = |id: &str| current.iter().find(|m| m.account_id == id).map(|m| m.role);
    // Each event: (kind, account, role after — or before, for a removal —, previous role).
    let mut events: Vec<(OwnEventKind, String, Role, Option<Role>)> = Vec::new();
    let (action, target, details) = match &change {
        MembershipChange::SetRole { account_id, role } => {
            let before = role_of(account_id);
            tx.upsert_membership(&set(account_id, *role)).await?;
            events.push((OwnEventKind::MemberAdded, (*account_id).to_owned(), *role, before));
            (
                "member.role_changed",
                *account_id,
                serde_json::json!({ "from": before.map(Role::as_str), "to": role.as_str() }),
            )
        }
        MembershipChange::Remove { account_id } => {
            tx.delete_membership(&org.id, account_id).await?;
            if let Some(r) = role_of(account_id) {
                events.push((OwnEventKind::MemberRemoved, (*account_id).to_owned(), r, None));
            }
            ("member.removed", *account_id, serde_json::Value::Null)
        }
        MembershipChange::Leave => {
            tx.delete_membership(&org.id, &who.account.id).await?;
            if let Some(r) = role_of(&who.account.id) {
                events.push((OwnEventKind::MemberRemoved, who.account.id.clone(), r, None));
            }
            ("member.left", who.account.id.as_str(), serde_json::Value::Null)
        }
        MembershipChange::TransferAdmin { to, actor_role } => {
            tx.upsert_membership(&set(to, Role::Admin)).await?;
            tx.upsert_membership(&set(&who.account.id, *actor_role)).await?;
            events.push((OwnEventKind::MemberAdded, (*to).to_owned(), Role::Admin, role_of(to)));
            events.push((
                OwnEventKind::MemberAdded,
                who.account.id.clone(),
                *actor_role,
                role_of(&who.account.id),
            ));
            (
                "org.admin_transferred",
                *to,
                serde_json::json!({ "previous_admin_now": actor_role.as_str() }),
            )
        }
        MembershipChange::Invite { .. } => return Err(Error::internal("invite is not a membership change")),
    };
    tx.append_audit(
        &entry(state, who, action, format!("account:{target}"), client)
            .org(org.id.as_str())
            .details(details),
    )
    .await?;
    for (kind, account_id, role, previous) in events {
        if let Some(account) = tx.account_by_id(&account_id).await? {
            publish_member_event(state, &mut tx, kind, org, &account, role, previous).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

pub async fn update_org(
    state: &Core,
    who: &SignedIn,
    org: &Organization,
    role: Role,
    name: &str,
    require_mfa: bool,
    client: &ClientInfo,
) -> OpResult<Organization> {
    if role != Role::Admin {
        return Err(DomainError::new(
            "admin_required",
            "Only an admin of this organization can change its settings.",
        )
        .into());
    }
    let name = parse_org_name(name).map_err(|e| Error::from(e).on("name"))?;
    if require_mfa && !org.require_mfa && !who.session.used_second_factor() {
        return Err(Error::new(
            Kind::Invalid,
            "mfa_required_first",
            "Set up two-step verification for yourself and sign in with it before requiring it of everyone.",
        )
        .on("require_mfa"));
    }
    let mut updated = org.clone();
    updated.name = name;
    updated.require_mfa = require_mfa;
    updated.updated_at = state.now();
    let mut tx = state.store.begin().await?;
    tx.update_org(&updated).await?;
    tx.append_audit(
        &entry(state, who, "org.updated", format!("org:{}", org.id), client)
            .org(org.id.as_str())
            .details(serde_json::json!({ "name": updated.name, "require_mfa": require_mfa })),
    )
    .await?;
    tx.commit().await?;
    Ok(updated)
}

/// A pending invitation as listed.
#[derive(Debug, Clone)]
pub struct PendingInvitation {
    /// The stored digest, which names the invitation (the link's token is never stored).
    pub id: String,
    pub invitation: Invitation,
    pub expires_at: i64,
}

pub async fn invitations(state: &Core, org: &Organization) -> OpResult<Vec<PendingInvitation>> {
    let tokens = state
        .store
        .conn()
        .await?
        .org_tokens(org.id.as_str(), LinkPurpose::Invitation.as_str(), state.now())
        .await?;
    Ok(tokens
        .into_iter()
        .filter_map(|t| {
            Invitation::from_payload(&t.payload).ok().map(|i| PendingInvitation {
                id: t.digest,
                invitation: i,
                expires_at: t.expires_at,
            })
        })
        .collect())
}

/// Invites `email` with `role`, mails the link, and returns the pending invitation.
pub async fn invite(
    state: &Core,
    who: &SignedIn,
    org: &Organization,
    email: &str,
    role: &str,
    client: &ClientInfo,
) -> OpResult<PendingInvitation> {
    let email = gatehouse_domain::identity::profile::parse_email_field("email", email)
        .map_err(|e| Error::from(e.error).on("email"))?;
    let role = Role::parse(role).map_err(|e| Error::from(e).on("role"))?;
    let mut tx = state.store.begin().await?;
    let current = tx.memberships_of_org(&org.id).await?;
    check_change(&current, &who.account.id, &MembershipChange::Invite { role })?;
    if let Some(existing) = tx.account_by_email(&email).await?
        && current.iter().any(|m| m.account_id == existing.id)
    {
        return Err(Error::new(
            Kind::Conflict,
            "already_a_member",
            format!("{email} is already a member of {}.", org.name),
        )
        .on("email"));
    }
    let now = state.now();
    let issued = links::issue(&mut rand::thread_rng(), LinkPurpose::Invitation, now);
    let invitation = Invitation {
        email: email.clone(),
        role,
        invited_by: who.account.id.clone(),
    };
    tx.insert_one_time_token(&OneTimeToken {
        digest: issued.digest.clone(),
        purpose: LinkPurpose::Invitation.as_str().to_owned(),
        account_id: None,
        org_id: Some(org.id.as_str().to_owned()),
        payload: invitation.to_payload(),
        created_at: now,
        expires_at: issued.expires_at,
        used_at: None,
    })
    .await?;
    tx.append_audit(
        &entry(state, who, "invitation.sent", format!("email:{email}"), client)
            .org(org.id.as_str())
            .details(serde_json::json!({ "role": role.as_str() })),
    )
    .await?;
    tx.commit().await?;
    let url = link(state, LinkPurpose::Invitation, &issued.token);
    let m = messages::invitation(
        email.as_str(),
        &org.name,
        &who.account.display_name,
        role.as_str(),
        &url,
    );
    super::emails::deliver(state, m, client).await?;
    Ok(PendingInvitation {
        id: issued.digest,
        invitation,
        expires_at: issued.expires_at,
    })
}

pub async fn cancel_invitation(
    state: &Core,
    who: &SignedIn,
    org: &Organization,
    role: Role,
    id: &str,
    client: &ClientInfo,
) -> OpResult<()> {
    if role != Role::Admin {
        return Err(DomainError::new(
            "admin_required",
            "Only an admin of this organization can manage invitations.",
        )
        .into());
    }
    let mut tx = state.store.begin().await?;
    if !tx
        .revoke_org_token(org.id.as_str(), id, LinkPurpose::Invitation.as_str(), state.now())
        .await?
    {
        return Err(not_found("pending invitation"));
    }
    tx.append_audit(
        &entry(state, who, "invitation.cancelled", format!("invitation:{id}"), client).org(org.id.as_str()),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Accepts an invitation for the signed-in account (whose address must be the invited one).
pub async fn accept_invitation(
    state: &Core,
    who: &SignedIn,
    token: &str,
    client: &ClientInfo,
) -> OpResult<Organization> {
    let digest = gatehouse_domain::secret::digest(token);
    let mut tx = state.store.begin().await?;
    let t = tx
        .peek_one_time_token(&digest, LinkPurpose::Invitation.as_str(), state.now())
        .await?
        .ok_or_else(invitation_gone)?;
    let inv = Invitation::from_payload(&t.payload)?;
    inv.check_recipient(&who.account.email)?;
    let org_id = OrgId::parse(t.org_id.as_deref().unwrap_or_default())?;
    let org = tx.org_by_id(&org_id).await?.ok_or_else(invitation_gone)?;
    tx.consume_one_time_token(&digest, LinkPurpose::Invitation.as_str(), state.now())
        .await?
        .ok_or_else(invitation_gone)?;
    let joined = tx.membership(&org_id, &who.account.id).await?.is_none();
    if joined {
        tx.upsert_membership(&Membership {
            org_id: org_id.clone(),
            account_id: who.account.id.clone(),
            role: inv.role,
            created_at: state.now(),
        })
        .await?;
        publish_member_event(
            state,
            &mut tx,
            OwnEventKind::MemberAdded,
            &org,
            &who.account,
            inv.role,
            None,
        )
        .await?;
    }
    tx.append_audit(
        &entry(
            state,
            who,
            "invitation.accepted",
            format!("account:{}", who.account.id),
            client,
        )
        .org(org_id.as_str())
        .details(serde_json::json!({ "role": inv.role.as_str(), "invited_by": inv.invited_by })),
    )
    .await?;
    tx.commit().await?;
    Ok(org)
}

pub fn invitation_gone() -> Error {
    Error::new(
        Kind::Gone,
        "invitation_unusable",
        "This invitation has been used already, was cancelled or has expired. Ask the organization's admin for a new one.",
    )
}

/// Looks at an invitation without using it.
pub async fn peek_invitation(state: &Core, token: &str) -> OpResult<(Invitation, Organization, Option<Account>)> {
    if !links::well_formed(token) {
        return Err(invitation_gone());
    }
    let mut conn = state.store.conn().await?;
    let t = conn
        .peek_one_time_token(
            &gatehouse_domain::secret::digest(token),
            LinkPurpose::Invitation.as_str(),
            state.now(),
        )
        .await?
        .ok_or_else(invitation_gone)?;
    let inv = Invitation::from_payload(&t.payload)?;
    let org_id = OrgId::parse(t.org_id.as_deref().unwrap_or_default())?;
    let org = conn.org_by_id(&org_id).await?.ok_or_else(invitation_gone)?;
    let existing = conn.account_by_email(&inv.email).await?;
    Ok((inv, org, existing))
}

/// Creates the enterprise account an invitation is for (the invitee has no account yet) and
/// makes it a member, in one transaction. Following the emailed link verified the address.
pub async fn register_invited(
    state: &Core,
    token: &str,
    display_name: &str,
    password_hash: String,
    client: &ClientInfo,
) -> OpResult<(Account, Organization)> {
    let digest = gatehouse_domain::secret::digest(token);
    let now = state.now();
    let mut tx = state.store.begin().await?;
    let t = tx
        .consume_one_time_token(&digest, LinkPurpose::Invitation.as_str(), now)
        .await?
        .ok_or_else(invitation_gone)?;
    let inv = Invitation::from_payload(&t.payload)?;
    let org_id = OrgId::parse(t.org_id.as_deref().unwrap_or_default())?;
    let org = tx.org_by_id(&org_id).await?.ok_or_else(invitation_gone)?;
    let account = Account {
        id: gatehouse_domain::ids::new_row_id(&mut rand::thread_rng()),
        email: inv.email.clone(),
        account_type: AccountType::Enterprise,
        display_name: display_name.to_owned(),
        given_name: String::new(),
        family_name: String::new(),
        country: String::new(),
        email_verified: true,
        password_hash: Some(password_hash),
        operator: false,
        disabled: false,
        owner_org_id: Some(org_id.as_str().to_owned()),
        created_at: now,
        updated_at: now,
    };
    match tx.insert_account(&account).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => {
            return Err(Error::new(
                Kind::Conflict,
                "account_exists",
                format!(
                    "An account for {} exists already. Sign in to accept the invitation.",
                    inv.email
                ),
            ));
        }
        Err(e) => return Err(e.into()),
    }
    tx.upsert_membership(&Membership {
        org_id: org_id.clone(),
        account_id: account.id.clone(),
        role: inv.role,
        created_at: now,
    })
    .await?;
    let e = super::audit::entry(state, &Actor::Account(account.id.clone()), "account.created", format!("account:{}", account.id), client)
        .org(org_id.as_str())
        .details(serde_json::json!({ "email": account.email.as_str(), "type": "enterprise", "via": "invitation", "role": inv.role.as_str() }));
    tx.append_audit(&e).await?;
    publish_member_event(
        state,
        &mut tx,
        OwnEventKind::MemberAdded,
        &org,
        &account,
        inv.role,
        None,
    )
    .await?;
    tx.commit().await?;
    Ok((account, org))
}
