//! The web process's periodic work: polling the catalog generation so caches clear within a
//! second of a change made anywhere (another node, `gatehouse apply`), refreshing the pool gauges,
//! checkpointing SQLite's write-ahead log (so commits do not), and the metrics recorder's upkeep.
//! One task; it ends when every [`AppState`] is dropped.
//!
//! [`AppState`]: crate::AppState

use std::time::Duration;

use gatehouse_store::Store;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::{sync::watch, task::JoinHandle};

use crate::telemetry::{CATALOG_GENERATION, DB_POOL_CONNECTIONS};

/// How often the catalog generation is read.
pub const CATALOG_POLL: Duration = Duration::from_millis(250);
/// Metrics upkeep every this many polls (5 s).
const UPKEEP_EVERY: u32 = 20;

/// Starts the task. `initial` is the generation read at startup; the returned receiver goes into
/// the [`crate::AppState`].
pub fn spawn(store: Store, metrics: PrometheusHandle, initial: i64) -> (watch::Receiver<i64>, JoinHandle<()>) {
    let (tx, rx) = watch::channel(initial);
    metrics::gauge!(CATALOG_GENERATION).set(initial as f64);
    let task = tokio::spawn(async move {
        let mut tick = tokio::time::interval(CATALOG_POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failing = false;
        let mut n: u32 = 0;
        loop {
            tokio::select! {
                () = tx.closed() => break,
                _ = tick.tick() => {}
            }
            match store.catalog_generation().await {
                Ok(g) => {
                    if failing {
                        tracing::info!("the catalog generation can be read again");
                        failing = false;
                    }
                    metrics::gauge!(CATALOG_GENERATION).set(g as f64);
                    tx.send_if_modified(|current| {
                        let changed = *current != g;
                        *current = g;
                        changed
                    });
                }
                Err(e) if !failing => {
                    tracing::warn!(error = %e, "cannot read the catalog generation; caches may be stale");
                    failing = true;
                }
                Err(_) => {}
            }
            record_pool(&store);
            // SQLite: the write-ahead log goes into the database here, so no commit waits for it.
            if let Err(e) = store.checkpoint().await {
                tracing::debug!(error = %e, "background checkpoint did not run");
            }
            n = n.wrapping_add(1);
            if n.is_multiple_of(UPKEEP_EVERY) {
                metrics.run_upkeep();
            }
        }
    });
    (rx, task)
}

/// Sets the pool gauges from the store's current figures.
pub fn record_pool(store: &Store) {
    let (open, idle) = store.pool_stats();
    metrics::gauge!(DB_POOL_CONNECTIONS, "state" => "open").set(f64::from(open));
    metrics::gauge!(DB_POOL_CONNECTIONS, "state" => "idle").set(idle as f64);
}
