//! The console's operations, shared by the pages and the JSON API: each checks the rules (in
//! `gatehouse_domain::console`), writes the change, its audit entry and — where Gatehouse
//! publishes one — its own event in one transaction, and returns the result or a
//! [`ConsoleError`]. An audited commit bumps the catalog generation, so the token service's
//! client cache sees the change within the poll interval.

pub mod catalog;
pub mod certificates;
pub mod integrations;
pub mod reveal;
pub mod secrets;
pub mod subscriptions;

use gatehouse_core::policy;
use gatehouse_domain::{
    audit::AuditEntry,
    events::own::{Audience, OwnEventKind, own_event},
    integration::{Integration, Owner},
};
use gatehouse_store::{EventStore, IntegrationStore, Tx};

use super::{auth::Caller, error::ConsoleError};
use crate::AppState;

pub type OpResult<T> = Result<T, ConsoleError>;

/// Own events are published with a random ID, so no deduplication window is needed.
const OWN_EVENT_DEDUP_WINDOW: i64 = 0;

/// An audit entry for `action` on `target`, by the caller, tagged with the integration's
/// organization when it has one.
pub fn audit(state: &AppState, caller: &Caller, action: &str, target: &Integration) -> AuditEntry {
    let entry = AuditEntry::new(state.now(), &caller.actor, action, format!("integration:{}", target.id))
        .from_client(caller.client.ip.clone(), caller.client.user_agent.clone());
    match target.org_id() {
        Some(org) => entry.org(org),
        None => entry,
    }
}

/// Who receives Gatehouse's own events about this integration.
pub fn audience_of(i: &Integration) -> Audience {
    match &i.owner {
        Owner::Organization(o) => Audience::Organization(o.clone()),
        Owner::Account(a) => Audience::Account(a.clone()),
    }
}

/// Publishes one of Gatehouse's own events about `i` in the caller's transaction.
pub async fn publish(
    state: &AppState,
    tx: &mut Tx,
    kind: OwnEventKind,
    i: &Integration,
    data: serde_json::Value,
) -> OpResult<()> {
    let event = own_event(
        kind,
        audience_of(i),
        &format!("integration:{}", i.id),
        data,
        state.now(),
        &mut rand::thread_rng(),
    )
    .map_err(ConsoleError::internal)?;
    tx.publish_event(&event, state.now(), OWN_EVENT_DEDUP_WINDOW).await?;
    Ok(())
}

/// The integration `id` if the policy lets the caller manage it; otherwise the policy's refusal
/// ("not found" whether it exists or not, so IDs cannot be probed; or "MFA required").
pub async fn visible_integration(db: &mut impl IntegrationStore, caller: &Caller, id: &str) -> OpResult<Integration> {
    let i = db
        .integration_by_id(id)
        .await?
        .ok_or_else(|| ConsoleError::not_found("integration"))?;
    Ok(policy::manage_integration(&caller.principal, i)?.into_integration())
}
