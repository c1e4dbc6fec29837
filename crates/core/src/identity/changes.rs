//! The writing half of changes to accounts and memberships that more than one surface makes —
//! the write, what it implies, and Gatehouse's own event — in the caller's transaction. The
//! organization pages, `/api/v1` and `gatehouse apply` each ask the policy first; whichever made
//! the change, disabling an account ends everything it holds and organizations hear of their
//! members joining and leaving.

use gatehouse_domain::{
    Timestamp,
    account::Account,
    events::own::{Audience, OwnEventKind},
    org::{Organization, Role},
    token::grant::account_deny_key,
};
use gatehouse_store::{AccountStore, SessionStore, TokenStore, Tx};
use serde_json::{Value, json};

use super::accounts::OpResult;

/// What ending an account's sessions and tokens did, for the audit entry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ended {
    pub sessions: u64,
    pub refresh_tokens: u64,
}

/// Ends everything the account holds: its sessions are deleted, its refresh tokens revoked, and a
/// deny-list marker (`account:<id>:<instant>`) ends the access tokens issued to it until now on
/// every node, kept for `longest_access_token` seconds (no token issued before lives longer).
pub async fn end_everything(
    tx: &mut Tx,
    account_id: &str,
    now: Timestamp,
    longest_access_token: i64,
) -> OpResult<Ended> {
    let sessions = tx.delete_sessions_of_account(account_id, None).await?;
    let refresh_tokens = tx.revoke_all_refresh_tokens_of(account_id, now).await?;
    tx.revoke_access_token(&account_deny_key(account_id, now), "", now, now + longest_access_token)
        .await?;
    Ok(Ended {
        sessions,
        refresh_tokens,
    })
}

/// Saves `after` over `before`. Disabling ends everything the account holds; a password set by
/// someone else (an operator, a provisioning file) ends its sessions, so whoever knew the old one
/// is signed out. Returns what was ended, for the audit entry.
pub async fn account_changed(
    tx: &mut Tx,
    before: &Account,
    after: &Account,
    now: Timestamp,
    longest_access_token: i64,
) -> OpResult<Value> {
    tx.update_account(after).await?;
    let mut details = json!({});
    if after.disabled && !before.disabled {
        let ended = end_everything(tx, &after.id, now, longest_access_token).await?;
        details["sessions_ended"] = ended.sessions.into();
        details["refresh_tokens_revoked"] = ended.refresh_tokens.into();
    } else if after.password_hash != before.password_hash && before.password_hash.is_some() {
        details["sessions_ended"] = tx.delete_sessions_of_account(&after.id, None).await?.into();
    }
    Ok(details)
}

/// Publishes `gatehouse.member.added` or `gatehouse.member.removed` to the organization.
pub async fn member_event(
    tx: &mut Tx,
    kind: OwnEventKind,
    org: &Organization,
    account: &Account,
    role: Role,
    previous_role: Option<Role>,
    now: Timestamp,
) -> OpResult<()> {
    let mut data = json!({
        "org_id": org.id.as_str(),
        "account_id": account.id,
        "email": account.email.as_str(),
        "account_type": account.account_type.as_str(),
        "role": role.as_str(),
    });
    if let Some(p) = previous_role {
        data["previous_role"] = p.as_str().into();
    }
    crate::events::publish_own(
        tx,
        kind,
        Audience::Organization(org.id.as_str().to_owned()),
        &format!("account:{}", account.id),
        data,
        now,
    )
    .await?;
    Ok(())
}

/// Records an organization's claim on an email domain, verified or not. A second claim of the same
/// domain by the same organization, or a verified claim on a domain another organization holds
/// verified, is a conflict.
pub async fn claim_domain(
    tx: &mut Tx,
    claim: &gatehouse_domain::identity::email_domain::DomainClaim,
) -> OpResult<Value> {
    use gatehouse_store::{DomainStore, StoreError};
    match tx.insert_domain_claim(claim).await {
        Ok(()) => Ok(json!({ "domain": claim.domain.as_str(), "verified_by": claim.verified.map(|v| v.1.as_str()) })),
        Err(StoreError::Conflict(_)) if claim.is_verified() => Err(verified_elsewhere(claim)),
        Err(StoreError::Conflict(_)) => Err(crate::Error::new(
            crate::Kind::Conflict,
            "domain_claimed_already",
            format!("This organization has claimed {} already.", claim.domain),
        )
        .on("domain")),
        Err(e) => Err(e.into()),
    }
}

/// Marks a claim verified (its `verified` says when and how).
pub async fn domain_verified(
    tx: &mut Tx,
    claim: &gatehouse_domain::identity::email_domain::DomainClaim,
) -> OpResult<Value> {
    use gatehouse_store::{DomainStore, StoreError};
    match tx.mark_domain_verified(claim).await {
        Ok(true) => Ok(json!({ "domain": claim.domain.as_str(), "verified_by": claim.verified.map(|v| v.1.as_str()) })),
        Ok(false) => Err(super::accounts::not_found("domain claim")),
        Err(StoreError::Conflict(_)) => Err(verified_elsewhere(claim)),
        Err(e) => Err(e.into()),
    }
}

fn verified_elsewhere(claim: &gatehouse_domain::identity::email_domain::DomainClaim) -> crate::Error {
    crate::Error::new(
        crate::Kind::Conflict,
        "domain_verified_elsewhere",
        format!(
            "Another organization has verified {} already; a domain belongs to one organization at a time.",
            claim.domain
        ),
    )
    .on("domain")
}
