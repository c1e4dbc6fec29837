//! The events runtime: the outbound HTTP client with its address filter ([`outbound`]), the
//! delivery-signing keys ([`keys`]), the [`dispatcher`], and publishing Gatehouse's own events in
//! the caller's transaction ([`publish_own`]).

pub mod dispatcher;
pub mod keys;
pub mod outbound;

use std::sync::Arc;

use gatehouse_domain::{
    DomainError, Timestamp,
    events::own::{Audience, OwnEventKind, own_event},
};
use gatehouse_store::{EventStore, Published, StoreError, Tx};

pub use dispatcher::{DispatchReport, DispatchSettings, Dispatcher};

/// Publishing with the same idempotency key within this many seconds returns the first event.
pub const DEDUP_WINDOW: i64 = 24 * 3600;

/// This node's events machinery: on SQLite the events writers (publishing, claiming, recording)
/// take turns in-process instead of meeting SQLite's busy handler, which sleeps between retries.
/// (Publishing wakes the dispatcher through the store: `Store::deliveries_queued`.)
#[derive(Clone, Default)]
pub struct EventsRuntime {
    write_gate: Arc<tokio::sync::Mutex<()>>,
}

impl EventsRuntime {
    /// Waits for this process's turn to write events on SQLite (one writer at a time anyway);
    /// `None` on PostgreSQL, where writers run side by side.
    pub async fn write_turn(&self, store: &gatehouse_store::Store) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        match store.backend() {
            gatehouse_store::Backend::Sqlite => Some(self.write_gate.clone().lock_owned().await),
            gatehouse_store::Backend::Postgres => None,
        }
    }
}

/// Publishes one of Gatehouse's own events in the caller's transaction (the transactional
/// outbox): the event exists if and only if `tx` commits. `audience` is the organization (or, for
/// personal integrations, the account) it concerns; only registrations of integrations it owns
/// receive it. `subject` names the object (`integration:<id>`), `data` is the payload.
pub async fn publish_own(
    tx: &mut Tx,
    kind: OwnEventKind,
    audience: Audience,
    subject: &str,
    data: serde_json::Value,
    now: Timestamp,
) -> Result<Published, StoreError> {
    let event = own_event(kind, audience, subject, data, now, &mut rand::thread_rng())
        .map_err(|e: DomainError| StoreError::Corrupt(e.message))?;
    tx.publish_event(&event, now, DEDUP_WINDOW).await
}
