//! Every account, as operators see and manage them.

use gatehouse_domain::{
    account::{Account, AccountType},
    audit::AuditEntry,
    identity::operator::{self, OperatorAction},
    ids::OrgId,
    integration::Integration,
    org::{Organization, Role},
};
use gatehouse_store::{
    AccountStore, AuditStore, ConsoleStore, MfaKind, MfaStore, OrgStore, PasskeyStore, SessionStore,
};
use serde_json::json;

use super::{Caller, OpResult};
use crate::{
    Core, Error,
    identity::{changes, emails},
    policy,
    tokens::TokenSettings,
};

/// Which accounts to list; empty fields match every account.
#[derive(Debug, Clone, Default)]
pub struct AccountFilter {
    /// A part of the email address or of the display name (case-insensitive).
    pub q: String,
    /// `personal` or `enterprise`.
    pub account_type: String,
    /// Members of this organization only.
    pub org_id: String,
}

/// An account with the organizations it belongs to.
#[derive(Debug, Clone)]
pub struct AccountSummary {
    pub account: Account,
    pub orgs: Vec<(Organization, Role)>,
}

/// One account in full, as the operator's account page shows it.
#[derive(Debug, Clone)]
pub struct AccountDetail {
    pub summary: AccountSummary,
    pub sessions: usize,
    /// Authenticator apps, recovery codes left and passkeys.
    pub totp: bool,
    pub recovery_codes: usize,
    pub passkeys: usize,
    /// The account's personal integrations.
    pub integrations: Vec<Integration>,
}

fn matches(a: &Account, f: &AccountFilter) -> bool {
    let q = f.q.trim().to_lowercase();
    let text =
        q.is_empty() || a.email.as_str().to_lowercase().contains(&q) || a.display_name.to_lowercase().contains(&q);
    let kind = f.account_type.is_empty() || a.account_type.as_str() == f.account_type;
    text && kind
}

/// The accounts matching `filter`, oldest first.
pub async fn list(state: &Core, caller: &Caller, filter: &AccountFilter) -> OpResult<Vec<AccountSummary>> {
    policy::operate(&caller.principal)?;
    if !filter.account_type.is_empty() && AccountType::parse(&filter.account_type).is_err() {
        return Err(Error::new(
            crate::Kind::Invalid,
            "invalid_account_type",
            "The account type is personal or enterprise.",
        )
        .on("type"));
    }
    let mut conn = state.store.conn().await?;
    let orgs = conn.list_orgs().await?;
    let mut out = Vec::new();
    for a in conn.list_accounts().await? {
        if !matches(&a, filter) {
            continue;
        }
        let memberships = conn.memberships_of_account(&a.id).await?;
        if !filter.org_id.is_empty() && !memberships.iter().any(|m| m.org_id.as_str() == filter.org_id) {
            continue;
        }
        let of = memberships
            .iter()
            .filter_map(|m| orgs.iter().find(|o| o.id == m.org_id).map(|o| (o.clone(), m.role)))
            .collect();
        out.push(AccountSummary { account: a, orgs: of });
    }
    Ok(out)
}

/// One account with its memberships, sessions, second factors and personal integrations.
pub async fn get(state: &Core, caller: &Caller, id: &str) -> OpResult<AccountDetail> {
    policy::operate(&caller.principal)?;
    let mut conn = state.store.conn().await?;
    let account = conn
        .account_by_id(id)
        .await?
        .ok_or_else(|| Error::not_found("account"))?;
    let mut orgs = Vec::new();
    for m in conn.memberships_of_account(id).await? {
        if let Some(o) = conn.org_by_id(&m.org_id).await? {
            orgs.push((o, m.role));
        }
    }
    let factors = conn.mfa_factors_of(id).await?;
    Ok(AccountDetail {
        sessions: conn.sessions_of_account(id).await?.len(),
        totp: factors.iter().any(|f| f.kind == MfaKind::Totp),
        recovery_codes: factors.iter().filter(|f| f.kind == MfaKind::RecoveryCode).count(),
        passkeys: conn.passkeys_of(id).await?.len(),
        integrations: conn.integrations_of_account(id).await?,
        summary: AccountSummary { account, orgs },
    })
}

/// Does `action` to the account `id`, in one transaction with its audit entry (which records the
/// account's state before and after). Returns the account as it is afterwards.
pub async fn act(state: &Core, caller: &Caller, id: &str, action: OperatorAction) -> OpResult<Account> {
    let op = policy::operate(&caller.principal)?;
    let now = state.now();
    let mut tx = state.store.begin().await?;
    let before = tx.account_by_id(id).await?.ok_or_else(|| Error::not_found("account"))?;
    operator::check(op.account_id().unwrap_or_default(), &before, action).map_err(Error::from)?;
    let longest = TokenSettings::from_settings(&state.settings)
        .lifetimes
        .longest_access_token();
    let mut after = before.clone();
    let mut details = json!({ "email": before.email.as_str() });
    match action {
        OperatorAction::Disable | OperatorAction::Enable => {
            after.disabled = action == OperatorAction::Disable;
            after.updated_at = now;
            let ended = changes::account_changed(&mut tx, &before, &after, now, longest).await?;
            if let Some(o) = ended.as_object() {
                for (k, v) in o {
                    details[k] = v.clone();
                }
            }
        }
        OperatorAction::ResetPassword => {
            after.password_hash = None;
            after.updated_at = now;
            tx.update_account(&after).await?;
            details["sessions_ended"] = tx.delete_sessions_of_account(&after.id, None).await?.into();
        }
        OperatorAction::ResetMfa => {
            let totp = tx.delete_mfa_factors(&after.id, Some(MfaKind::Totp)).await?;
            let codes = tx.delete_mfa_factors(&after.id, Some(MfaKind::RecoveryCode)).await?;
            let mut passkeys = 0u64;
            for p in tx.passkeys_of(&after.id).await? {
                if tx.delete_passkey(&after.id, &p.id).await? {
                    passkeys += 1;
                }
            }
            details["factors_removed"] = (totp + codes + passkeys).into();
            details["sessions_ended"] = tx.delete_sessions_of_account(&after.id, None).await?.into();
        }
        OperatorAction::SignOutEverywhere => {
            let ended = changes::end_everything(&mut tx, &after.id, now, longest).await?;
            details["sessions_ended"] = ended.sessions.into();
            details["refresh_tokens_revoked"] = ended.refresh_tokens.into();
        }
    }
    // Where the action changed the account itself, the entry records it before and after.
    if state_of(&before) != state_of(&after) {
        details["before"] = state_of(&before);
        details["after"] = state_of(&after);
    }
    let entry = AuditEntry::new(
        now,
        &caller.actor,
        action.audit_action(),
        format!("account:{}", after.id),
    )
    .from_client(caller.client.ip.clone(), caller.client.user_agent.clone())
    .details(details);
    tx.append_audit(&entry).await?;
    tx.commit().await?;
    if action == OperatorAction::ResetPassword {
        emails::send_password_reset(state, &after, &caller.client).await?;
    }
    Ok(after)
}

/// What an operator's action may change of an account, for the audit entry's before and after.
fn state_of(a: &Account) -> serde_json::Value {
    json!({ "disabled": a.disabled, "has_password": a.password_hash.is_some() })
}

/// Parses an organization ID given as a filter; an unparseable one matches nothing.
pub fn org_filter(s: &str) -> Option<OrgId> {
    OrgId::parse(s.trim()).ok()
}
