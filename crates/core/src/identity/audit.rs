//! Audit entries for identity events, with the actor, the client's IP and user agent. Sign-in
//! events are not changes to anything cached, so they are appended on a plain connection (their
//! own autocommitted statement) rather than through an audited transaction, which would make
//! every node drop its caches on every sign-in.

use gatehouse_domain::audit::{Actor, AuditEntry};
use gatehouse_store::{AuditStore, StoreError};

use crate::{ClientInfo, Core};

/// An entry for `action` on `target`, made by `actor` from `client`.
pub fn entry(state: &Core, actor: &Actor, action: &str, target: impl Into<String>, client: &ClientInfo) -> AuditEntry {
    AuditEntry::new(state.now(), actor, action, target).from_client(client.ip.clone(), client.user_agent.clone())
}

/// Appends a sign-in event (success, failure, sign-out) outside any transaction.
pub async fn record(state: &Core, entry: &AuditEntry) -> Result<(), StoreError> {
    state.store.conn().await?.append_audit(entry).await?;
    Ok(())
}

pub fn account_target(id: &str) -> String {
    format!("account:{id}")
}
