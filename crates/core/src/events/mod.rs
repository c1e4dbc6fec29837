//! The events runtime: the outbound HTTP client with its address filter ([`outbound`]), the
//! delivery-signing keys ([`keys`]), the [`dispatcher`], and publishing Gatehouse's own events in
//! the caller's transaction ([`publish_own`]).

pub mod dispatcher;
pub mod event_types;
pub mod keys;
pub mod outbound;
pub mod providers;
pub mod service;

use std::sync::Arc;

use gatehouse_domain::{
    DomainError, Timestamp,
    audit::Actor,
    events::own::{Audience, OwnEventKind, own_event},
    integration::Integration,
};
use gatehouse_store::{EventStore, Published, StoreError, Tx};

use crate::{
    ClientInfo,
    policy::{EventsCaller, ManageIntegration},
};

pub use dispatcher::{DispatchReport, DispatchSettings, Dispatcher};

/// A repeat of `source` + `id` within this many seconds is not delivered again (publishing with
/// the same idempotency key returns the first event).
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

/// The integration whose events resources are used, and who acts for it: the integration itself
/// (the events APIs) or a person who manages it (the console's Events tab). Built only from the
/// policy's capabilities.
#[derive(Debug, Clone)]
pub struct Caller {
    pub integration: Integration,
    /// How the audit log names who acted.
    pub actor: Actor,
    /// Where the request came from, for the audit log.
    pub client: ClientInfo,
}

impl Caller {
    /// The integration acting for itself.
    pub fn integration(allowed: EventsCaller, client: ClientInfo) -> Self {
        let integration = allowed.into_integration();
        Self {
            actor: Actor::Integration(integration.id.clone()),
            integration,
            client,
        }
    }

    /// A person acting on an integration the policy lets them manage.
    pub fn managed_by(allowed: ManageIntegration, actor: Actor, client: ClientInfo) -> Self {
        Self {
            integration: allowed.into_integration(),
            actor,
            client,
        }
    }

    pub fn id(&self) -> &str {
        &self.integration.id
    }

    pub fn client_id(&self) -> &str {
        self.integration.client_id.as_str()
    }

    /// Where the caller's custom providers are visible: its organization, or `account:<id>`.
    pub fn scope(&self) -> String {
        gatehouse_domain::events::model::provider_scope(&self.integration.owner)
    }

    pub fn org_id(&self) -> Option<&str> {
        self.integration.org_id()
    }
}
