//! Recording attempts and judging registration health, in one transaction per batch of outcomes.
//!
//! After the attempts are written, every registration that had a failure in the batch (or was
//! unstable) is judged on its last day of attempts ([`gatehouse_domain::events::health`]); a
//! `410 Gone` disables at once. A registration that becomes unstable or disabled gets an audit
//! entry; one that is disabled also makes Gatehouse publish `gatehouse.registration.disabled` to
//! its organization, in the same transaction.

use std::collections::{BTreeMap, BTreeSet};

use gatehouse_domain::{
    Timestamp,
    audit::{Actor, AuditEntry},
    events::{
        health::{self, GONE_REASON, Transition},
        model::{Registration, RegistrationStatus},
        own::{Audience, OwnEventKind, own_event},
    },
    integration::Owner,
};
use gatehouse_store::{AttemptOutcome, AuditStore, EventStore, IntegrationStore, Store, StoreError, Tx};
use serde_json::json;

/// What recording changed, for callers that report it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HealthChanges {
    /// (registration, new status)
    pub changed: Vec<(String, RegistrationStatus)>,
}

/// Writes `outcomes` and applies health transitions. `unstable` names registrations that were
/// unstable when claimed (so recovery is noticed even in batches without failures).
pub async fn record(
    store: &Store,
    runtime: &crate::events::EventsRuntime,
    outcomes: &[AttemptOutcome],
    unstable: &BTreeSet<String>,
    now: Timestamp,
) -> Result<HealthChanges, StoreError> {
    if outcomes.is_empty() {
        return Ok(HealthChanges::default());
    }
    let _turn = runtime.write_turn(store).await;
    let mut tx = store.begin().await?;
    let mut gone = BTreeSet::new();
    let mut judge: BTreeSet<String> = unstable.clone();
    tx.record_attempts(outcomes).await?;
    for o in outcomes {
        if o.status_code == Some(410) {
            gone.insert(o.registration_id.clone());
        } else if !o.success {
            judge.insert(o.registration_id.clone());
        }
    }
    let mut changes = HealthChanges::default();
    let mut audited = false;
    let mut transitions: BTreeMap<String, (Transition, &'static str)> = BTreeMap::new();
    for id in &gone {
        transitions.insert(id.clone(), (Transition::Disabled, GONE_REASON));
    }
    for id in judge.difference(&gone) {
        let Some(r) = tx.registration_by_id(id).await? else {
            continue;
        };
        let window = tx.health_window(id, now - health::WINDOW).await?;
        if let Some(t) = health::evaluate(r.status, r.unstable_since, window, now) {
            transitions.insert(id.clone(), (t, t.reason()));
        }
    }
    for (id, (t, reason)) in transitions {
        let Some(r) = tx.registration_by_id(&id).await? else {
            continue;
        };
        if r.status == t.to() || !r.status.receives_pushes() {
            continue;
        }
        apply(&mut tx, &r, t, reason, now).await?;
        changes.changed.push((id, t.to()));
        audited = true;
    }
    if audited {
        tx.commit().await?;
    } else {
        tx.commit_unaudited().await?;
    }
    Ok(changes)
}

async fn apply(tx: &mut Tx, r: &Registration, t: Transition, reason: &str, now: Timestamp) -> Result<(), StoreError> {
    let unstable_since = (t == Transition::BecameUnstable).then_some(now);
    let status_reason = (t != Transition::Recovered).then_some(reason);
    tx.set_registration_status(&r.id, t.to(), status_reason, unstable_since, now)
        .await?;
    let integration = tx.integration_by_id(&r.integration_id).await?;
    let org = integration.as_ref().and_then(|i| i.org_id().map(str::to_owned));
    let action = match t {
        Transition::BecameUnstable => "event_registration.unstable",
        Transition::Recovered => "event_registration.recovered",
        Transition::Disabled => "event_registration.disabled",
    };
    let mut entry =
        AuditEntry::new(now, &Actor::System, action, format!("event_registration:{}", r.id)).details(json!({
            "name": r.name,
            "reason": reason,
        }));
    if let Some(o) = &org {
        entry = entry.org(o.clone());
    }
    tx.append_audit(&entry).await?;
    tracing::warn!(registration = %r.id, status = t.to().as_str(), reason, "event registration health changed");
    if t == Transition::Disabled
        && let Some(i) = integration
    {
        let audience = match &i.owner {
            Owner::Organization(o) => Audience::Organization(o.clone()),
            Owner::Account(a) => Audience::Account(a.clone()),
        };
        let event = own_event(
            OwnEventKind::RegistrationDisabled,
            audience,
            &format!("event_registration:{}", r.id),
            json!({
                "registration_id": r.id,
                "name": r.name,
                "integration_id": r.integration_id,
                "reason": reason,
            }),
            now,
            &mut rand::thread_rng(),
        )?;
        tx.publish_event(&event, now, 86_400).await?;
    }
    Ok(())
}
