//! The events surfaces and machinery:
//! - Gatehouse's events API under `/api/v1/events` ([`api`]) and the Adobe I/O Events-compatible
//!   surface under `/events` ([`adobe`]), both over the same [`service`] operations;
//! - the delivery-signing public keys at `/events/keys/pub-key-<id>.pem` ([`keys`]);
//! - the console's Events tab of an integration ([`pages`]), over the same [`service`];
//! - the outbound HTTP client with its address filter ([`outbound`]) and the [`dispatcher`].
//!
//! Other code publishes Gatehouse's own events inside its transactions with
//! `gatehouse_store::EventStore::publish_event` and `gatehouse_domain::events::own::own_event`
//! (see [`publish_own`]).

pub mod adobe;
pub mod api;
pub mod auth;
pub mod dispatcher;
pub mod journal;
pub mod keys;
pub mod outbound;
pub mod pages;
pub mod service;
pub mod signing;
pub mod view;

use std::sync::Arc;

use axum::{Extension, Router, routing::get};
use gatehouse_domain::{
    DomainError, Timestamp,
    events::own::{Audience, OwnEventKind, own_event},
};
use gatehouse_store::{EventStore, Published, StoreError, Tx};

pub use dispatcher::{DispatchReport, DispatchSettings, Dispatcher};

/// This node's events machinery shared through the [`AppState`]: on SQLite the events writers
/// (publishing, claiming, recording) take turns in-process instead of meeting SQLite's busy
/// handler, which sleeps between retries. (Publishing wakes the dispatcher through the store:
/// `Store::deliveries_queued`.)
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

use crate::{
    AppState,
    oauth::service::{TokenService, TokenSettings},
};

/// Every events route, with the [`service::EventsService`] they share.
pub fn router(state: &AppState) -> Router<AppState> {
    let verifier = Arc::new(TokenService::new(state, TokenSettings::from_state(state)));
    let svc = match service::EventsService::new(state, verifier) {
        Ok(svc) => Arc::new(svc),
        Err(e) => {
            tracing::error!(error = %e, "the events API cannot build its HTTP client; it is not served");
            return Router::new();
        }
    };
    let keys = svc.keys.clone();
    Router::new()
        .merge(api::router())
        .merge(adobe::router())
        .merge(pages::router())
        .route("/events/keys/{file}", get(keys::serve_public_key))
        .layer(Extension(keys))
        .layer(Extension(svc))
}

/// Publishes one of Gatehouse's own events in the caller's transaction (the transactional
/// outbox): the event exists if and only if `tx` commits. `audience` is the organization (or, for
/// personal integrations, the account) it concerns; only registrations of integrations it owns
/// receive it. `subject` names the object (`integration:<id>`), `data` is the payload.
///
/// ```ignore
/// let mut tx = store.begin().await?;
/// tx.insert_integration(&integration).await?;
/// tx.append_audit(&entry).await?;
/// gatehouse_web::events::publish_own(
///     &mut tx,
///     OwnEventKind::IntegrationCreated,
///     Audience::Organization(org_id.to_string()),
///     &format!("integration:{}", integration.id),
///     serde_json::json!({ "integration_id": integration.id, "name": integration.name }),
///     now,
/// )
/// .await?;
/// tx.commit().await?;
/// ```
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
    tx.publish_event(&event, now, service::DEDUP_WINDOW).await
}
