//! The dispatcher as a long-running task: a claim loop that feeds per-registration lanes, unit
//! tasks that send, and a recorder that writes outcomes in batches.
//!
//! A lane holds at most `4 × per_endpoint` deliveries (queued and in flight). Lanes at least half
//! full are left out of claims, so a busy lane is refilled in large claims rather than one per
//! completed request; deliveries claimed for a lane that filled up meanwhile are released at once.
//! The loop claims again as soon as a claim came back full, a lane drained below half, or a
//! write in this process made deliveries due (`Store::deliveries_queued`); otherwise it looks
//! again after `idle_poll`, a wait that doubles while nothing is found, up to `idle_poll_max`
//! (see `DispatchSettings`).

use std::{
    collections::{BTreeSet, HashMap, VecDeque},
    sync::{Arc, Mutex},
    time::Duration,
};

use gatehouse_domain::events::model::{DeliveryMethod, MAX_BATCH_EVENTS, RegistrationStatus};
use gatehouse_store::{AttemptOutcome, ClaimedDelivery, EventStore};
use tokio::sync::{Notify, Semaphore, mpsc};

use super::{Inner, record, send};

/// How often journal retention is applied.
const PURGE_EVERY: i64 = 60;
/// Most outcomes written in one transaction.
const RECORD_BATCH: usize = 1000;
/// How long the recorder gathers outcomes before writing them (delivery is already done).
const RECORD_GATHER: Duration = Duration::from_millis(5);

#[derive(Default)]
struct Lane {
    queue: VecDeque<ClaimedDelivery>,
    in_flight: usize,
}

impl Lane {
    fn load(&self) -> usize {
        self.queue.len() + self.in_flight
    }
}

struct Done {
    outcomes: Vec<AttemptOutcome>,
    unstable: Option<String>,
}

struct Pool {
    inner: Arc<Inner>,
    lanes: Mutex<HashMap<String, Lane>>,
    global: Arc<Semaphore>,
    recorder: mpsc::UnboundedSender<Done>,
    freed: Notify,
}

impl Pool {
    fn lane_capacity(&self) -> usize {
        self.inner.settings.per_endpoint.max(1) * 4
    }

    /// A lane this full is left out of claims until it drains below it.
    fn lane_watermark(&self) -> usize {
        self.lane_capacity() / 2
    }

    fn total_capacity(&self) -> usize {
        self.inner.settings.workers.max(1) * 4
    }

    /// Starts as many units of lane `id` as its concurrency allows.
    fn pump(self: &Arc<Self>, id: &str) {
        let per_endpoint = self.inner.settings.per_endpoint.max(1);
        let mut started = Vec::new();
        if let Ok(mut lanes) = self.lanes.lock()
            && let Some(lane) = lanes.get_mut(id)
        {
            while lane.in_flight < per_endpoint && !lane.queue.is_empty() {
                let batch = lane
                    .queue
                    .front()
                    .is_some_and(|d| d.delivery_method == DeliveryMethod::WebhookBatch);
                let take = if batch {
                    MAX_BATCH_EVENTS.min(lane.queue.len())
                } else {
                    1
                };
                let deliveries: Vec<ClaimedDelivery> = lane.queue.drain(..take).collect();
                lane.in_flight += 1;
                started.push(deliveries);
            }
        }
        for deliveries in started {
            let pool = self.clone();
            let id = id.to_owned();
            tokio::spawn(async move {
                let unstable = deliveries
                    .iter()
                    .any(|d| d.registration_status == RegistrationStatus::Unstable)
                    .then(|| id.clone());
                let mut outcomes = Vec::new();
                for unit in send::units(deliveries) {
                    let _permit = pool.global.clone().acquire_owned().await.ok();
                    let now = pool.inner.clock.now();
                    outcomes.extend(send::send(&pool.inner, unit, now).await);
                }
                let _ = pool.recorder.send(Done { outcomes, unstable });
                let mut drained = false;
                if let Ok(mut lanes) = pool.lanes.lock()
                    && let Some(lane) = lanes.get_mut(&id)
                {
                    lane.in_flight -= 1;
                    drained = lane.load() + 1 == pool.lane_watermark();
                    if lane.load() == 0 {
                        lanes.remove(&id);
                    }
                }
                pool.pump(&id);
                if drained {
                    pool.freed.notify_one();
                }
            });
        }
    }

    /// Registrations whose lanes are full, and the room left in all lanes together.
    fn saturation(&self) -> (Vec<String>, usize) {
        let Ok(lanes) = self.lanes.lock() else {
            return (Vec::new(), 0);
        };
        let cap = self.lane_capacity();
        let full = lanes
            .iter()
            .filter(|(_, l)| l.load() >= cap)
            .map(|(k, _)| k.clone())
            .collect();
        let used: usize = lanes.values().map(Lane::load).sum();
        (full, self.total_capacity().saturating_sub(used))
    }

    /// Puts claimed deliveries in their lanes; returns those that did not fit.
    fn enqueue(self: &Arc<Self>, claimed: Vec<ClaimedDelivery>) -> Vec<i64> {
        let cap = self.lane_capacity();
        let mut overflow = Vec::new();
        let mut touched = BTreeSet::new();
        if let Ok(mut lanes) = self.lanes.lock() {
            for d in claimed {
                let lane = lanes.entry(d.registration_id.clone()).or_default();
                if lane.load() >= cap {
                    overflow.push(d.id);
                } else {
                    touched.insert(d.registration_id.clone());
                    lane.queue.push_back(d);
                }
            }
            lanes.retain(|_, l| l.load() > 0);
        }
        for id in touched {
            self.pump(&id);
        }
        overflow
    }
}

/// The claim loop. Ends only when the task is aborted.
pub(super) async fn run(inner: Arc<Inner>, single_process: bool) {
    let runtime = inner.runtime.clone();
    let longest_wait = inner.settings.idle_poll_max.max(inner.settings.idle_poll);
    let mut wait = inner.settings.idle_poll;
    if single_process {
        match inner.store.conn().await {
            Ok(mut c) => match c.release_all_leases().await {
                Ok(n) if n > 0 => tracing::info!(deliveries = n, "released deliveries a previous run had claimed"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "cannot release earlier claims"),
            },
            Err(e) => tracing::warn!(error = %e, "cannot release earlier claims"),
        }
    }
    if inner.settings.adobe_signatures
        && let Err(e) = inner.keys.current(inner.clock.now()).await
    {
        // Creating the keys now, not at the first delivery, keeps their generation off its latency.
        tracing::warn!(error = %e, "cannot prepare the delivery-signing keys; the first delivery will try again");
    }
    let (tx, rx) = mpsc::unbounded_channel();
    let recorder = tokio::spawn(run_recorder(inner.clone(), rx));
    let pool = Arc::new(Pool {
        global: Arc::new(Semaphore::new(inner.settings.workers.max(1))),
        lanes: Mutex::new(HashMap::new()),
        recorder: tx,
        freed: Notify::new(),
        inner: inner.clone(),
    });
    let dispatcher = super::Dispatcher { inner: inner.clone() };
    let mut last_purge = 0;
    let mut failing = false;
    loop {
        let now = inner.clock.now();
        if now - last_purge >= PURGE_EVERY {
            last_purge = now;
            if let Err(e) = dispatcher.purge(now).await {
                tracing::warn!(error = %e, "cannot apply journal retention");
            }
        }
        let (full, room) = pool.saturation();
        if room == 0 {
            let _ = tokio::time::timeout(inner.settings.idle_poll, pool.freed.notified()).await;
            continue;
        }
        // At most one lane's worth per claim: more would mostly come back as overflow when one
        // registration has most of what is due.
        let limit = (room.min(pool.lane_capacity()) as i64).min(inner.settings.claim_batch);
        let claimed = {
            let _turn = runtime.write_turn(&inner.store).await;
            match inner.store.conn().await {
                Ok(mut c) => {
                    c.claim_deliveries(now, now + inner.settings.lease(), limit, &full)
                        .await
                }
                Err(e) => Err(e),
            }
        };
        match claimed {
            Ok(batch) => {
                if failing {
                    tracing::info!("the dispatcher can claim deliveries again");
                    failing = false;
                }
                let n = batch.len() as i64;
                let busy_lanes = !full.is_empty();
                let overflow = pool.enqueue(batch);
                if !overflow.is_empty()
                    && let Ok(mut c) = inner.store.conn().await
                    && let Err(e) = c.release_deliveries(&overflow).await
                {
                    tracing::warn!(error = %e, "cannot release deliveries; they wait for their lease");
                }
                if n < limit {
                    // Nothing more is due now: wait for a write here that makes deliveries due,
                    // a busy lane to drain, or the next look (retries falling due, publications on
                    // other nodes).
                    let woken = tokio::select! {
                        () = tokio::time::sleep(wait) => false,
                        () = inner.store.deliveries_queued() => true,
                        () = pool.freed.notified(), if busy_lanes => true,
                    };
                    wait = if woken || n > 0 {
                        inner.settings.idle_poll
                    } else {
                        (wait * 2).min(longest_wait)
                    };
                }
            }
            Err(e) => {
                if !failing {
                    tracing::warn!(error = %e, "the dispatcher cannot claim deliveries");
                    failing = true;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
        if recorder.is_finished() {
            tracing::error!("the delivery recorder stopped; the dispatcher stops too");
            return;
        }
    }
}

async fn run_recorder(inner: Arc<Inner>, mut rx: mpsc::UnboundedReceiver<Done>) {
    while let Some(first) = rx.recv().await {
        let mut outcomes = first.outcomes;
        let mut unstable: BTreeSet<String> = first.unstable.into_iter().collect();
        // A moment's wait lets a steady trickle of outcomes share one transaction.
        tokio::time::sleep(RECORD_GATHER).await;
        while outcomes.len() < RECORD_BATCH {
            match rx.try_recv() {
                Ok(more) => {
                    outcomes.extend(more.outcomes);
                    unstable.extend(more.unstable);
                }
                Err(_) => break,
            }
        }
        let now = inner.clock.now();
        if let Err(e) = record::record(&inner.store, &inner.runtime, &outcomes, &unstable, now).await {
            tracing::error!(
                error = %e,
                attempts = outcomes.len(),
                "cannot record delivery attempts; the deliveries will be sent again when their lease ends"
            );
        }
    }
}
