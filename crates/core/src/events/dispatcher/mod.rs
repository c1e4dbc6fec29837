//! The dispatcher: claims due deliveries, sends them, records the attempts.
//!
//! ```text
//!  outbox rows ──claim (lease)──▶ lanes, one per registration ──send──▶ endpoint
//!        ▲                              │ ≤ per_endpoint in flight          │
//!        └──── retry at next_attempt ◀──┴──── recorder (one Tx per batch) ◀─┘
//! ```
//! - At least once: a delivery is claimed under a lease; if the process dies, the lease runs out
//!   and the delivery is claimed again. On SQLite (one process) leases are cleared at start-up.
//! - Isolation: each registration has its own lane with at most `per_endpoint` requests in
//!   flight; a lane that is full is left out of the next claims, so a slow or failing endpoint
//!   holds only its own deliveries, never other registrations'.
//! - Tests drive it with [`Dispatcher::dispatch_due`], which does one complete pass at a given
//!   instant and returns when every attempt is recorded; servers run [`Dispatcher::spawn`].

mod lanes;
mod record;
mod send;

use std::{
    collections::{BTreeSet, HashMap},
    sync::Arc,
    time::Duration,
};

use gatehouse_domain::{
    Timestamp,
    crypto::MasterKey,
    events::{AddressPolicy, journal::DEFAULT_RETENTION, model::RegistrationStatus, retry::RetrySchedule},
};
use gatehouse_store::{AttemptOutcome, ClaimedDelivery, EventStore, Store, StoreError};
use tokio::task::JoinSet;

pub use record::HealthChanges;

use super::{keys::DeliveryKeys, outbound::Outbound};
use crate::{Clock, Core};

/// How the dispatcher works; defaults match `config.default.toml`.
#[derive(Debug, Clone)]
pub struct DispatchSettings {
    /// Timeout of one request, connection included.
    pub timeout: Duration,
    pub retry: RetrySchedule,
    /// Requests in flight at once, in all.
    pub workers: usize,
    /// Requests in flight at once to one registration.
    pub per_endpoint: usize,
    /// Deliveries claimed per round.
    pub claim_batch: i64,
    /// How long to wait before looking again when nothing more was due.
    pub idle_poll: Duration,
    /// Each look that finds nothing doubles the wait, up to this. Everything that makes
    /// deliveries due wakes the dispatcher at once — in this process, and on PostgreSQL from
    /// nodes without a dispatcher (see `Store::deliveries_queued`) — so an idle server need not
    /// look 50 times a second; what is left to find by looking (retries falling due, leases
    /// running out, writes by `gatehouse apply`) waits at most this long.
    pub idle_poll_max: Duration,
    /// Sign deliveries with the Adobe-compatible RSA signatures too (costs two RSA signatures per
    /// request; Standard Webhooks signatures are always sent).
    pub adobe_signatures: bool,
    /// How long events stay in journals (seconds).
    pub journal_retention: i64,
}

impl Default for DispatchSettings {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            retry: RetrySchedule::default(),
            workers: 256,
            per_endpoint: 32,
            claim_batch: 512,
            idle_poll: Duration::from_millis(20),
            idle_poll_max: Duration::from_secs(1),
            adobe_signatures: true,
            journal_retention: DEFAULT_RETENTION,
        }
    }
}

impl DispatchSettings {
    /// How long a claim holds a delivery: long enough for it to wait behind a full lane and be sent.
    pub fn lease(&self) -> i64 {
        3 * self.timeout.as_secs().max(1) as i64 + 15
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot build the webhook HTTP client: {0}")]
    Client(String),
}

/// What one [`Dispatcher::dispatch_due`] pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DispatchReport {
    /// Requests sent (a batch counts once).
    pub requests: usize,
    /// Deliveries attempted.
    pub attempted: usize,
    pub delivered: usize,
    /// Failed this time, with a retry scheduled.
    pub retrying: usize,
    /// Failed for good (schedule exhausted, 410, or a failed resend).
    pub failed: usize,
    pub health: HealthChanges,
}

pub(crate) struct Inner {
    pub store: Store,
    /// Publications on this node wake the dispatcher.
    pub runtime: crate::events::EventsRuntime,
    pub master_key: Arc<MasterKey>,
    pub clock: Clock,
    pub settings: DispatchSettings,
    pub outbound: Outbound,
    pub keys: Arc<DeliveryKeys>,
}

/// The dispatcher; cheap to clone.
#[derive(Clone)]
pub struct Dispatcher {
    inner: Arc<Inner>,
}

impl Dispatcher {
    pub fn new(state: &Core, settings: DispatchSettings) -> Result<Self, DispatchError> {
        let policy = AddressPolicy::new(state.settings.events_allowed_networks.clone());
        let outbound = Outbound::new(policy, settings.timeout).map_err(|e| DispatchError::Client(e.to_string()))?;
        Ok(Self {
            inner: Arc::new(Inner {
                store: state.store.clone(),
                runtime: state.events.clone(),
                master_key: state.master_key.clone(),
                clock: state.clock.clone(),
                keys: Arc::new(DeliveryKeys::new(state.store.clone(), state.master_key.clone())),
                settings,
                outbound,
            }),
        })
    }

    pub fn settings(&self) -> &DispatchSettings {
        &self.inner.settings
    }

    /// One complete pass at `now`: claims every delivery due by then, sends them (each
    /// registration in its own lane, at most `per_endpoint` at once), and records every attempt
    /// before returning. Deliveries that fail are rescheduled, not retried within the pass.
    pub async fn dispatch_due(&self, now: Timestamp) -> Result<DispatchReport, DispatchError> {
        let lease_until = now + self.inner.settings.lease();
        let mut claimed: Vec<ClaimedDelivery> = Vec::new();
        loop {
            let _turn = self.inner.runtime.write_turn(&self.inner.store).await;
            let mut conn = self.inner.store.conn().await?;
            let batch = conn
                .claim_deliveries(now, lease_until, self.inner.settings.claim_batch, &[])
                .await?;
            if batch.is_empty() {
                break;
            }
            claimed.extend(batch);
        }
        let unstable: BTreeSet<String> = claimed
            .iter()
            .filter(|d| d.registration_status == RegistrationStatus::Unstable)
            .map(|d| d.registration_id.clone())
            .collect();
        let mut by_registration: HashMap<String, Vec<ClaimedDelivery>> = HashMap::new();
        for d in claimed {
            by_registration.entry(d.registration_id.clone()).or_default().push(d);
        }
        let mut lanes = JoinSet::new();
        for (_, deliveries) in by_registration {
            let inner = self.inner.clone();
            lanes.spawn(async move { run_lane(inner, deliveries, now).await });
        }
        let mut report = DispatchReport::default();
        let mut outcomes: Vec<AttemptOutcome> = Vec::new();
        while let Some(done) = lanes.join_next().await {
            if let Ok((requests, lane_outcomes)) = done {
                report.requests += requests;
                outcomes.extend(lane_outcomes);
            }
        }
        for o in &outcomes {
            report.attempted += 1;
            match o.state_after {
                gatehouse_domain::events::model::DeliveryState::Delivered => report.delivered += 1,
                gatehouse_domain::events::model::DeliveryState::Pending => report.retrying += 1,
                _ => report.failed += 1,
            }
        }
        report.health = record::record(&self.inner.store, &self.inner.runtime, &outcomes, &unstable, now).await?;
        Ok(report)
    }

    /// Deletes journal entries past retention and retired keys. Any node may run it.
    pub async fn purge(&self, now: Timestamp) -> Result<u64, DispatchError> {
        let mut conn = self.inner.store.conn().await?;
        Ok(conn
            .purge_events(now - self.inner.settings.journal_retention, now)
            .await?)
    }

    /// Runs the dispatcher until the task is aborted. `single_process` (SQLite) clears leases
    /// left by a previous run first, so nothing waits for them to expire. On PostgreSQL it also
    /// listens for nodes without a dispatcher announcing deliveries they queued.
    pub fn spawn(self, single_process: bool) -> tokio::task::JoinHandle<()> {
        let store = self.inner.store.clone();
        tokio::spawn(async move {
            tokio::join!(
                lanes::run(self.inner, single_process),
                store.relay_other_nodes_deliveries()
            );
        })
    }
}

/// Sends one registration's deliveries, at most `per_endpoint` requests at once; returns the
/// number of requests and the outcomes.
async fn run_lane(inner: Arc<Inner>, deliveries: Vec<ClaimedDelivery>, now: Timestamp) -> (usize, Vec<AttemptOutcome>) {
    let units = send::units(deliveries);
    let requests = units.len();
    let limit = Arc::new(tokio::sync::Semaphore::new(inner.settings.per_endpoint.max(1)));
    let mut set = JoinSet::new();
    for unit in units {
        let inner = inner.clone();
        let limit = limit.clone();
        set.spawn(async move {
            let _permit = limit.acquire_owned().await.ok();
            send::send(&inner, unit, now).await
        });
    }
    let mut outcomes = Vec::new();
    while let Some(done) = set.join_next().await {
        if let Ok(o) = done {
            outcomes.extend(o);
        }
    }
    (requests, outcomes)
}
