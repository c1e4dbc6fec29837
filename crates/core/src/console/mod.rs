//! The console's use cases (integrations, credentials, certificates, subscriptions, the services
//! catalog, test tokens), shared by the pages and the JSON API: each checks the rules (in
//! `gatehouse_domain::console`), writes the change, its audit entry and — where Gatehouse
//! publishes one — its own event in one transaction, and returns the result or a
//! [`Error`]. An audited commit moves the catalog generation, so the node's token service sees
//! the change at once and other nodes within the poll interval.

pub mod catalog;
pub mod certificates;
pub mod changes;
pub mod expiry;
pub mod integrations;
pub mod migration;
pub mod projects;
pub mod reveal;
pub mod secrets;
pub mod subscriptions;
pub mod test_token;

use crate::policy;
use gatehouse_domain::{
    audit::AuditEntry,
    events::own::{Audience, OwnEventKind, own_event},
    integration::{Integration, Owner},
};
use gatehouse_store::{EventStore, IntegrationStore, Tx};

use crate::{Core, error::Error};

pub type OpResult<T> = Result<T, Error>;

/// The caller of a console use case: who acts (the policy's principal), how the audit log names
/// them, where the request came from, and the person when one is calling (their session, or a
/// session that stands for their access token). `None` for a service account's token.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: policy::Principal,
    pub actor: gatehouse_domain::audit::Actor,
    pub client: crate::ClientInfo,
    pub person: Option<crate::identity::SignedIn>,
}

/// Own events are published with a random ID, so no deduplication window is needed.
const OWN_EVENT_DEDUP_WINDOW: i64 = 0;

/// An audit entry for `action` on `target`, by the caller, tagged with the integration's
/// organization when it has one.
pub fn audit(state: &Core, caller: &Caller, action: &str, target: &Integration) -> AuditEntry {
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
    tx: &mut Tx,
    kind: OwnEventKind,
    i: &Integration,
    data: serde_json::Value,
    now: gatehouse_domain::Timestamp,
) -> OpResult<()> {
    let event = own_event(
        kind,
        audience_of(i),
        &format!("integration:{}", i.id),
        data,
        now,
        &mut rand::thread_rng(),
    )
    .map_err(Error::internal)?;
    tx.publish_event(&event, now, OWN_EVENT_DEDUP_WINDOW).await?;
    Ok(())
}

/// The integration `id` if the policy lets the caller manage it; otherwise the policy's refusal
/// ("not found" whether it exists or not, so IDs cannot be probed; or "MFA required").
pub async fn visible_integration(db: &mut impl IntegrationStore, caller: &Caller, id: &str) -> OpResult<Integration> {
    Ok(managed_integration(db, caller, id).await?.into_integration())
}

/// The policy's leave to manage the integration `id` (see [`visible_integration`]).
pub async fn managed_integration(
    db: &mut impl IntegrationStore,
    caller: &Caller,
    id: &str,
) -> OpResult<policy::ManageIntegration> {
    let i = db
        .integration_by_id(id)
        .await?
        .ok_or_else(|| Error::not_found("integration"))?;
    Ok(policy::manage_integration(&caller.principal, i)?)
}
