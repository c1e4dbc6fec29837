//! `gatehouse.signin.failed`: repeated failed sign-ins to an account (wrong passwords, or wrong
//! second-factor codes after the right password) are told to the registrations of every
//! organization the account belongs to. "Repeated" is the throttle's notion
//! ([`ThrottlePolicy::alerts_at`]): the last free failure, then every tenth after it — never once
//! per failure. The event is published in the same transaction as the failure's audit entry, which
//! commits without bumping the catalog generation (a failed sign-in changes nothing cached).
//!
//! [`ThrottlePolicy::alerts_at`]: gatehouse_domain::identity::throttle::ThrottlePolicy::alerts_at

use gatehouse_domain::{
    account::Account,
    audit::AuditEntry,
    events::own::{Audience, OwnEventKind},
};
use gatehouse_store::{AuditStore, OrgStore, StoreError};

use crate::{ClientInfo, Core};

/// Appends the failure's audit entry and publishes one event per organization of `account`, in
/// one transaction.
pub async fn record_with_events(
    state: &Core,
    entry: &AuditEntry,
    account: &Account,
    failures: u32,
    client: &ClientInfo,
) -> Result<(), StoreError> {
    let now = state.now();
    let mut tx = state.store.begin().await?;
    tx.append_audit(entry).await?;
    for m in tx.memberships_of_account(&account.id).await? {
        crate::events::publish_own(
            &mut tx,
            OwnEventKind::SigninFailed,
            Audience::Organization(m.org_id.as_str().to_owned()),
            &format!("account:{}", account.id),
            serde_json::json!({
                "org_id": m.org_id.as_str(),
                "account_id": account.id,
                "email": account.email.as_str(),
                "consecutive_failures": failures,
                "step": entry.details.get("step").and_then(serde_json::Value::as_str).unwrap_or("password"),
                "ip": client.ip,
                "user_agent": client.user_agent,
            }),
            now,
        )
        .await?;
    }
    tx.commit_unaudited().await
}
