//! Enterprise accounts an organization's admins manage (the rules are in
//! `gatehouse_domain::identity::enterprise`): creating one (the person gets a link to choose a
//! password), disabling and re-enabling it, resetting its password and its second factors. Each
//! writes the change, its audit entry and, where membership changes, its own event in one
//! transaction; mail goes out after the commit.
//!
//! Disabling ends everything the account holds: its sessions are deleted, its refresh tokens
//! revoked, and a deny-list marker (`account:<id>:<instant>`) ends the access tokens issued to it
//! until then on every node (see `crate::tokens::service`). Its consents stay stored but cannot be used: a
//! disabled account has no session and gets no tokens.

use crate::mail::messages;
use gatehouse_domain::{
    account::{Account, AccountType},
    audit::Actor,
    events::own::OwnEventKind,
    identity::{
        enterprise::{AdminAction, check_admin_action},
        links::{self, LinkPurpose},
        profile::{ProfileInput, parse_email_field, parse_profile},
    },
    org::{Membership, Organization, Role},
};
use gatehouse_store::{
    AccountStore, AuditStore, DomainStore, MfaKind, MfaStore, OneTimeToken, OneTimeTokenStore, OrgStore, SessionStore,
    StoreError,
};

use super::{
    SignedIn,
    accounts::{OpResult, not_found, publish_member_event},
    changes, emails,
    links::link,
};
use crate::tokens::TokenSettings;
use crate::{ClientInfo, Core, Error, Kind};

fn entry(
    state: &Core,
    who: &SignedIn,
    action: &str,
    target: &Account,
    org: &Organization,
    client: &ClientInfo,
) -> gatehouse_domain::audit::AuditEntry {
    super::audit::entry(
        state,
        &Actor::Account(who.account.id.clone()),
        action,
        super::audit::account_target(&target.id),
        client,
    )
    .org(org.id.as_str())
}

/// Creates an enterprise account owned by `org` with `role`, and mails the person a link (valid a
/// week, once) to choose their password. Only the organization's admins may, and only for an
/// address in a domain the organization has verified.
#[allow(clippy::too_many_arguments)]
pub async fn create_account(
    state: &Core,
    who: &SignedIn,
    org: &Organization,
    actor_role: Role,
    email: &str,
    display_name: &str,
    role: &str,
    client: &ClientInfo,
) -> OpResult<Account> {
    let email = parse_email_field("email", email).map_err(|e| Error::from(e.error).on("email"))?;
    // Before anything is looked up about the address: the refusal tells nothing of its account.
    let claims = state.store.conn().await?.domain_claims_of_org(org.id.as_str()).await?;
    let email = crate::policy::create_enterprise_account(actor_role, &email, &claims)
        .map_err(|r| Error::from(r).on("email"))?
        .email()
        .clone();
    let profile = parse_profile(&ProfileInput {
        display_name: display_name.to_owned(),
        ..ProfileInput::default()
    })
    .map_err(|errors| {
        let first = &errors[0];
        Error::from(first.error.clone()).on(first.field)
    })?;
    let role = Role::parse(role).map_err(|e| Error::from(e).on("role"))?;
    let now = state.now();
    let account = Account {
        id: gatehouse_domain::ids::new_row_id(&mut rand::thread_rng()),
        email: email.clone(),
        account_type: AccountType::Enterprise,
        display_name: profile.display_name,
        given_name: String::new(),
        family_name: String::new(),
        country: String::new(),
        email_verified: false,
        password_hash: None,
        operator: false,
        disabled: false,
        owner_org_id: Some(org.id.as_str().to_owned()),
        created_at: now,
        updated_at: now,
    };
    let issued = links::issue(&mut rand::thread_rng(), LinkPurpose::AccountSetup, now);
    let mut tx = state.store.begin().await?;
    match tx.insert_account(&account).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => {
            return Err(Error::new(
                Kind::Conflict,
                "account_exists",
                format!("{email} has a Gatehouse account already. Invite it to the organization instead."),
            )
            .on("email"));
        }
        Err(e) => return Err(e.into()),
    }
    tx.upsert_membership(&Membership {
        org_id: org.id.clone(),
        account_id: account.id.clone(),
        role,
        created_at: now,
    })
    .await?;
    tx.insert_one_time_token(&OneTimeToken {
        digest: issued.digest,
        purpose: LinkPurpose::AccountSetup.as_str().to_owned(),
        account_id: Some(account.id.clone()),
        org_id: Some(org.id.as_str().to_owned()),
        payload: serde_json::json!({ "email": email.as_str() }),
        created_at: issued.created_at,
        expires_at: issued.expires_at,
        used_at: None,
    })
    .await?;
    tx.append_audit(
        &entry(state, who, "account.created", &account, org, client).details(serde_json::json!({
            "email": email.as_str(), "type": "enterprise", "via": "admin", "role": role.as_str()
        })),
    )
    .await?;
    publish_member_event(state, &mut tx, OwnEventKind::MemberAdded, org, &account, role, None).await?;
    tx.commit().await?;
    let url = link(state, LinkPurpose::AccountSetup, &issued.token);
    emails::deliver(
        state,
        messages::account_setup(email.as_str(), &org.name, &who.account.display_name, &url),
        client,
    )
    .await?;
    Ok(account)
}

/// Disables, re-enables, or resets the password or second factors of an enterprise account that
/// `org` owns. Returns the account as it is afterwards.
pub async fn admin_action(
    state: &Core,
    who: &SignedIn,
    org: &Organization,
    actor_role: Role,
    account_id: &str,
    action: AdminAction,
    client: &ClientInfo,
) -> OpResult<Account> {
    let now = state.now();
    let mut tx = state.store.begin().await?;
    let mut account = tx
        .account_by_id(account_id)
        .await?
        .ok_or_else(|| not_found("account"))?;
    check_admin_action(org.id.as_str(), &who.account.id, Some(actor_role), &account, action)?;
    let mut details = serde_json::json!({ "email": account.email.as_str() });
    match action {
        AdminAction::Disable => {
            let before = account.clone();
            account.disabled = true;
            account.updated_at = now;
            let longest = TokenSettings::from_settings(&state.settings)
                .lifetimes
                .longest_access_token();
            let ended = changes::account_changed(&mut tx, &before, &account, now, longest).await?;
            details["sessions_ended"] = ended["sessions_ended"].clone();
            details["refresh_tokens_revoked"] = ended["refresh_tokens_revoked"].clone();
        }
        AdminAction::Enable => {
            account.disabled = false;
            account.updated_at = now;
            tx.update_account(&account).await?;
        }
        AdminAction::ResetPassword => {
            // The old password stops working at once; the person chooses a new one by the link.
            account.password_hash = None;
            account.updated_at = now;
            tx.update_account(&account).await?;
            details["sessions_ended"] = tx.delete_sessions_of_account(&account.id, None).await?.into();
        }
        AdminAction::ResetMfa => {
            let totp = tx.delete_mfa_factors(&account.id, Some(MfaKind::Totp)).await?;
            let codes = tx.delete_mfa_factors(&account.id, Some(MfaKind::RecoveryCode)).await?;
            details["sessions_ended"] = tx.delete_sessions_of_account(&account.id, None).await?.into();
            details["factors_removed"] = (totp + codes).into();
        }
    }
    tx.append_audit(&entry(state, who, action.audit_action(), &account, org, client).details(details))
        .await?;
    tx.commit().await?;
    if action == AdminAction::ResetPassword {
        emails::send_password_reset(state, &account, client).await?;
    }
    Ok(account)
}

/// The organization's enterprise accounts among its members, by account ID (for the member list).
pub fn is_managed_by(account: &Account, org: &Organization) -> bool {
    account.account_type == AccountType::Enterprise && account.owner_org_id.as_deref() == Some(org.id.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_enterprise_accounts_of_the_org_are_managed_by_it() {
        let org = Organization {
            id: gatehouse_domain::ids::OrgId::parse("0123456789abcdef01234567@GatehouseOrg").unwrap(),
            name: "Acme".into(),
            require_mfa: false,
            created_at: 0,
            updated_at: 0,
        };
        let mut a = Account {
            id: "a".into(),
            email: gatehouse_domain::account::Email::parse("a@example.com").unwrap(),
            account_type: AccountType::Enterprise,
            display_name: String::new(),
            given_name: String::new(),
            family_name: String::new(),
            country: String::new(),
            email_verified: true,
            password_hash: None,
            operator: false,
            disabled: false,
            owner_org_id: Some(org.id.as_str().to_owned()),
            created_at: 0,
            updated_at: 0,
        };
        assert!(is_managed_by(&a, &org));
        a.owner_org_id = Some("other@GatehouseOrg".into());
        assert!(!is_managed_by(&a, &org));
        a.account_type = AccountType::Personal;
        a.owner_org_id = None;
        assert!(!is_managed_by(&a, &org));
    }
}
