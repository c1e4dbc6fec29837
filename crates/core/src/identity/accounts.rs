//! The account use cases behind both the console pages and the JSON API (profile, password,
//! sessions, second factors), and what the organization use cases share with them: each checks the
//! rules (in `gatehouse_domain::identity`), writes the change and its audit entry in one
//! transaction, and returns the result or an [`Error`] that each surface maps to its own shape.

use gatehouse_domain::{
    account::{Account, Email},
    audit::{Actor, AuditEntry},
    events::own::OwnEventKind,
    identity::profile::{Profile, ProfileInput, parse_profile},
    org::{Organization, Role},
};
use gatehouse_store::{AccountStore, AuditStore, MfaStore, OrgStore, SessionStore, Tx};

use super::SignedIn;
use crate::{ClientInfo, Core, Error, Kind};

pub type OpResult<T> = Result<T, Error>;

/// "There is no such …" for identity objects.
pub fn not_found(what: &str) -> Error {
    Error::new(Kind::NotFound, "not_found", format!("There is no such {what}."))
}

/// Publishes `gatehouse.member.added` or `gatehouse.member.removed` about `account` in `tx`, for the
/// registrations of `org` only. `role` is the member's role after the change (for a removal: the
/// one they had).
pub async fn publish_member_event(
    state: &Core,
    tx: &mut Tx,
    kind: OwnEventKind,
    org: &Organization,
    account: &Account,
    role: Role,
    previous_role: Option<Role>,
) -> OpResult<()> {
    super::changes::member_event(tx, kind, org, account, role, previous_role, state.now()).await
}

pub(crate) fn entry(state: &Core, who: &SignedIn, action: &str, target: String, client: &ClientInfo) -> AuditEntry {
    super::audit::entry(state, &Actor::Account(who.account.id.clone()), action, target, client)
}

// ------------------------------------------------------------------------------------------
// Account
// ------------------------------------------------------------------------------------------

pub async fn update_profile(
    state: &Core,
    who: &SignedIn,
    input: &ProfileInput,
    client: &ClientInfo,
) -> OpResult<Account> {
    let profile: Profile = parse_profile(input).map_err(|errors| {
        let first = &errors[0];
        Error::new(Kind::Invalid, first.error.code, first.error.message.clone()).on(first.field)
    })?;
    let mut tx = state.store.begin().await?;
    let mut account = tx
        .account_by_id(&who.account.id)
        .await?
        .ok_or_else(|| not_found("account"))?;
    account.display_name = profile.display_name;
    account.given_name = profile.given_name;
    account.family_name = profile.family_name;
    account.country = profile.country;
    account.updated_at = state.now();
    tx.update_account(&account).await?;
    tx.append_audit(&entry(
        state,
        who,
        "account.profile_updated",
        format!("account:{}", account.id),
        client,
    ))
    .await?;
    tx.commit().await?;
    Ok(account)
}

/// Changes the password after checking the current one; ends every other session.
pub async fn change_password(
    state: &Core,
    who: &SignedIn,
    current: &str,
    new: &str,
    client: &ClientInfo,
) -> OpResult<()> {
    let stored = who.account.password_hash.clone().unwrap_or_default();
    let cur = current.to_owned();
    let ok = crate::pools::hashing::verify(cur, stored)
        .await
        .map_err(Error::internal)?;
    if !ok {
        return Err(
            Error::new(Kind::Invalid, "wrong_password", "Your current password is not correct.").on("current_password"),
        );
    }
    gatehouse_domain::identity::password_policy::check_new_password(new, who.account.email.as_str())
        .map_err(|e| Error::from(e).on("password"))?;
    let pw = new.to_owned();
    let hash = crate::pools::hashing::hash(pw)
        .await
        .map_err(Error::internal)?
        .map_err(Error::internal)?;
    let mut tx = state.store.begin().await?;
    let mut account = tx
        .account_by_id(&who.account.id)
        .await?
        .ok_or_else(|| not_found("account"))?;
    account.password_hash = Some(hash);
    account.updated_at = state.now();
    tx.update_account(&account).await?;
    tx.delete_sessions_of_account(&account.id, Some(&who.session.id_digest))
        .await?;
    tx.append_audit(&entry(
        state,
        who,
        "password.changed",
        format!("account:{}", account.id),
        client,
    ))
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Ends one of the caller's sessions, or all but the current one (`digest = None`).
pub async fn end_sessions(state: &Core, who: &SignedIn, digest: Option<&str>, client: &ClientInfo) -> OpResult<u64> {
    let mut conn = state.store.conn().await?;
    let n = match digest {
        Some(d) => u64::from(conn.delete_session_of_account(&who.account.id, d).await?),
        None => {
            conn.delete_sessions_of_account(&who.account.id, Some(&who.session.id_digest))
                .await?
        }
    };
    let e = entry(
        state,
        who,
        "sessions.ended",
        format!("account:{}", who.account.id),
        client,
    )
    .details(serde_json::json!({ "count": n, "all_others": digest.is_none() }));
    conn.append_audit(&e).await?;
    Ok(n)
}

/// Does any of the account's organizations require two-step verification?
pub async fn mfa_required_by(state: &Core, account_id: &str) -> OpResult<Option<String>> {
    let mut conn = state.store.conn().await?;
    for m in conn.memberships_of_account(account_id).await? {
        if let Some(o) = conn.org_by_id(&m.org_id).await?
            && o.require_mfa
        {
            return Ok(Some(o.name));
        }
    }
    Ok(None)
}

/// The account's second factors: (TOTP enrolled, unused recovery codes, passkeys registered).
pub async fn mfa_status(state: &Core, account_id: &str) -> OpResult<(bool, usize, usize)> {
    let mut conn = state.store.conn().await?;
    let factors = conn.mfa_factors_of(account_id).await?;
    let totp = factors.iter().any(|f| f.kind == gatehouse_store::MfaKind::Totp);
    let codes = factors
        .iter()
        .filter(|f| f.kind == gatehouse_store::MfaKind::RecoveryCode && f.last_used_at.is_none())
        .count();
    let passkeys = gatehouse_store::PasskeyStore::passkeys_of(&mut conn, account_id)
        .await?
        .len();
    Ok((totp, codes, passkeys))
}

pub fn parse_email(s: &str) -> OpResult<Email> {
    Email::parse(s).map_err(|e| Error::from(e).on("email"))
}
