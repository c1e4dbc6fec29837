//! [`EventStore`] on both backends: providers and event types, registrations, publishing (outbox
//! and fan-out), dispatch bookkeeping, the journal and the delivery-signing keys. Each part lives
//! in its own module as functions over a borrowed connection; this module wires them to the trait.

mod dispatch;
mod journal;
mod keys;
mod providers;
mod publish;
mod registrations;

use async_trait::async_trait;
use gatehouse_domain::{
    Timestamp,
    events::{
        health::Window,
        model::{Attempt, DeliveryState, EventType, Provider, Registration, RegistrationStatus, SealedSecrets},
        own::NewEvent,
    },
};

use crate::{
    AsDb, AttemptFilter, AttemptOutcome, Backlog, ClaimedDelivery, EventStore, JournalEntry, Published,
    StoredDeliveryKey, backend::Db, traits::Result,
};

/// A second borrow of the same connection, for functions that run several statements.
pub(crate) fn reborrow<'a>(db: &'a mut Db<'_>) -> Db<'a> {
    match db {
        Db::Sqlite(c) => Db::Sqlite(c),
        Db::Postgres(c) => Db::Postgres(c),
    }
}

#[async_trait]
impl<T: AsDb> EventStore for T {
    async fn insert_provider(&mut self, provider: &Provider) -> Result<()> {
        providers::insert(self.db(), provider).await
    }

    async fn update_provider(&mut self, provider: &Provider) -> Result<bool> {
        providers::update(self.db(), provider).await
    }

    async fn delete_provider(&mut self, id: &str) -> Result<bool> {
        providers::delete_types_of(self.db(), id).await?;
        providers::delete(self.db(), id).await
    }

    async fn provider_by_id(&mut self, id: &str) -> Result<Option<Provider>> {
        providers::by_id(self.db(), id).await
    }

    async fn list_providers(&mut self, scope: Option<&str>) -> Result<Vec<Provider>> {
        providers::list(self.db(), scope).await
    }

    async fn insert_event_type(&mut self, event_type: &EventType) -> Result<()> {
        providers::insert_type(self.db(), event_type).await
    }

    async fn update_event_type(&mut self, event_type: &EventType) -> Result<bool> {
        providers::update_type(self.db(), event_type).await
    }

    async fn delete_event_type(&mut self, provider_id: &str, event_code: &str) -> Result<bool> {
        providers::delete_type(self.db(), provider_id, event_code).await
    }

    async fn delete_event_types_of(&mut self, provider_id: &str) -> Result<u64> {
        providers::delete_types_of(self.db(), provider_id).await
    }

    async fn event_type(&mut self, provider_id: &str, event_code: &str) -> Result<Option<EventType>> {
        providers::type_by_code(self.db(), provider_id, event_code).await
    }

    async fn event_types_of(&mut self, provider_id: &str) -> Result<Vec<EventType>> {
        providers::types_of(self.db(), provider_id).await
    }

    async fn insert_registration(&mut self, registration: &Registration, secrets: &SealedSecrets) -> Result<()> {
        registrations::insert(self.db(), registration, secrets).await
    }

    async fn update_registration(&mut self, registration: &Registration) -> Result<bool> {
        let updated = registrations::update(self.db(), registration).await?;
        if updated && registration.status.receives_pushes() {
            self.mark_queued();
        }
        Ok(updated)
    }

    async fn set_registration_status(
        &mut self,
        id: &str,
        status: RegistrationStatus,
        reason: Option<&str>,
        unstable_since: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<bool> {
        let updated = registrations::set_status(self.db(), id, status, reason, unstable_since, now).await?;
        if updated && status.receives_pushes() {
            // Deliveries held while it was unverified or disabled are due again.
            self.mark_queued();
        }
        Ok(updated)
    }

    async fn delete_registration(&mut self, id: &str) -> Result<bool> {
        registrations::delete(self.db(), id).await
    }

    async fn registration_by_id(&mut self, id: &str) -> Result<Option<Registration>> {
        registrations::by_id(self.db(), id).await
    }

    async fn registrations_of_integration(&mut self, integration_id: &str) -> Result<Vec<Registration>> {
        registrations::of_integration(self.db(), integration_id).await
    }

    async fn lock_integration_registrations(&mut self, integration_id: &str) -> Result<bool> {
        registrations::lock_integration(self.db(), integration_id).await
    }

    async fn registrations_of_org(&mut self, org_id: &str) -> Result<Vec<Registration>> {
        registrations::of_org(self.db(), org_id).await
    }

    async fn registration_secrets(&mut self, id: &str) -> Result<Option<SealedSecrets>> {
        registrations::secrets(self.db(), id).await
    }

    async fn set_registration_secrets(&mut self, id: &str, secrets: &SealedSecrets, now: Timestamp) -> Result<bool> {
        registrations::set_secrets(self.db(), id, secrets, now).await
    }

    async fn publish_event(&mut self, event: &NewEvent, now: Timestamp, dedup_window: i64) -> Result<Published> {
        let published = publish::publish(self.db(), event, now, dedup_window).await?;
        if matches!(published, Published::New { deliveries, .. } if deliveries > 0) {
            self.mark_queued();
        }
        Ok(published)
    }

    async fn claim_deliveries(
        &mut self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: i64,
        exclude: &[String],
    ) -> Result<Vec<ClaimedDelivery>> {
        dispatch::claim(self.db(), now, lease_until, limit, exclude).await
    }

    async fn release_deliveries(&mut self, ids: &[i64]) -> Result<()> {
        dispatch::release(self.db(), ids).await
    }

    async fn release_all_leases(&mut self) -> Result<u64> {
        dispatch::release_all(self.db()).await
    }

    async fn record_attempt(&mut self, outcome: &AttemptOutcome) -> Result<()> {
        dispatch::record(self.db(), outcome).await?;
        if outcome.next_attempt_at.is_some() {
            self.mark_queued();
        }
        Ok(())
    }

    async fn record_attempts(&mut self, outcomes: &[AttemptOutcome]) -> Result<()> {
        dispatch::record_many(self.db(), outcomes).await?;
        if outcomes.iter().any(|o| o.next_attempt_at.is_some()) {
            // A retry may be due at once (the schedule may start at 0 s).
            self.mark_queued();
        }
        Ok(())
    }

    async fn health_window(&mut self, registration_id: &str, since: Timestamp) -> Result<Window> {
        dispatch::health_window(self.db(), registration_id, since).await
    }

    async fn resend_delivery(&mut self, registration_id: &str, position: i64, now: Timestamp) -> Result<bool> {
        let queued = dispatch::resend(self.db(), registration_id, position, now).await?;
        if queued {
            self.mark_queued();
        }
        Ok(queued)
    }

    async fn recover_failed(&mut self, registration_id: &str, since: Timestamp, now: Timestamp) -> Result<u64> {
        let queued = dispatch::recover(self.db(), registration_id, since, now).await?;
        if queued > 0 {
            self.mark_queued();
        }
        Ok(queued)
    }

    async fn attempts_of_registration(
        &mut self,
        registration_id: &str,
        before_id: Option<i64>,
        limit: i64,
        filter: &AttemptFilter,
    ) -> Result<Vec<Attempt>> {
        dispatch::attempts_of_registration(self.db(), registration_id, before_id, limit, filter).await
    }

    async fn attempt_of_registration(&mut self, registration_id: &str, attempt_id: i64) -> Result<Option<Attempt>> {
        dispatch::attempt_of_registration(self.db(), registration_id, attempt_id).await
    }

    async fn delivery_backlog(&mut self, registration_id: &str) -> Result<Backlog> {
        dispatch::backlog(self.db(), registration_id).await
    }

    async fn attempts_of_event(&mut self, registration_id: &str, position: i64) -> Result<Vec<Attempt>> {
        dispatch::attempts_of_event(self.db(), registration_id, position).await
    }

    async fn delivery_state(&mut self, registration_id: &str, position: i64) -> Result<Option<(DeliveryState, i64)>> {
        dispatch::state(self.db(), registration_id, position).await
    }

    async fn journal_after(
        &mut self,
        registration_id: &str,
        after: i64,
        upto: i64,
        limit: i64,
    ) -> Result<Vec<JournalEntry>> {
        journal::after(self.db(), registration_id, after, upto, limit).await
    }

    async fn journal_position_before(&mut self, registration_id: &str, at: Timestamp) -> Result<i64> {
        journal::position_before(self.db(), registration_id, at).await
    }

    async fn journal_horizon(&mut self) -> Result<i64> {
        journal::horizon(self.db()).await
    }

    async fn first_event_position(&mut self) -> Result<i64> {
        journal::first_event_position(self.db()).await
    }

    async fn event_published_at(&mut self, position: i64) -> Result<Option<Timestamp>> {
        journal::published_at(self.db(), position).await
    }

    async fn purge_events(&mut self, before: Timestamp, now: Timestamp) -> Result<u64> {
        journal::purge(self.db(), before, now).await
    }

    async fn insert_delivery_key(&mut self, key: &StoredDeliveryKey) -> Result<()> {
        keys::insert(self.db(), key).await
    }

    async fn list_delivery_keys(&mut self) -> Result<Vec<StoredDeliveryKey>> {
        keys::list(self.db()).await
    }

    async fn delete_delivery_keys_before(&mut self, created_before: Timestamp) -> Result<u64> {
        keys::delete_before(self.db(), created_before).await
    }
}
