//! The catalog generation: a number the store bumps in every audited commit, on any node and in
//! `gatehouse apply`. Every in-memory cache of catalog data (clients, cutoffs, the services
//! catalog) is tagged with the generation it was read at and clears itself when the generation
//! moves. [`CatalogWatch::poll`] is the background job that reads it; a node that makes a change
//! refreshes at once through [`CatalogWatch::refresh`], so its own surfaces never serve stale data.

use std::{
    sync::{Arc, Weak},
    time::Duration,
};

use gatehouse_store::{Store, StoreError};
use tokio::{sync::watch, task::JoinHandle};

/// How often the catalog generation is read: the bound on how long another node's change may
/// take to reach this node's caches.
pub const CATALOG_POLL: Duration = Duration::from_millis(250);

/// Gauge: the catalog generation this node last read.
pub const CATALOG_GENERATION: &str = "gatehouse_catalog_generation";
/// Gauge: the database pool's connections, by `state` (`open`, `idle`).
pub const DB_POOL_CONNECTIONS: &str = "gatehouse_db_pool_connections";

/// The latest generation, shared by every cache of the node.
#[derive(Clone)]
pub struct CatalogWatch {
    store: Store,
    tx: Arc<watch::Sender<i64>>,
    rx: watch::Receiver<i64>,
}

impl CatalogWatch {
    pub fn new(store: Store, initial: i64) -> Self {
        let (tx, rx) = watch::channel(initial);
        metrics::gauge!(CATALOG_GENERATION).set(initial as f64);
        Self {
            store,
            tx: Arc::new(tx),
            rx,
        }
    }

    /// A receiver for a cache.
    pub fn subscribe(&self) -> watch::Receiver<i64> {
        self.rx.clone()
    }

    /// The generation last read.
    pub fn current(&self) -> i64 {
        *self.rx.borrow()
    }

    /// Reads the generation now and tells every cache if it moved.
    pub async fn refresh(&self) -> Result<i64, StoreError> {
        let g = self.store.catalog_generation().await?;
        publish(&self.tx, g);
        Ok(g)
    }

    /// The background job: reads the generation every [`CATALOG_POLL`], sets the pool gauges and
    /// checkpoints SQLite's write-ahead log (so commits do not), and calls `upkeep` every 5 s.
    /// It ends when every [`CatalogWatch`] is dropped.
    pub fn poll(&self, upkeep: impl Fn() + Send + 'static) -> JoinHandle<()> {
        let store = self.store.clone();
        let tx: Weak<watch::Sender<i64>> = Arc::downgrade(&self.tx);
        tokio::spawn(async move {
            const UPKEEP_EVERY: u32 = 20;
            let mut tick = tokio::time::interval(CATALOG_POLL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut failing = false;
            let mut n: u32 = 0;
            loop {
                tick.tick().await;
                let Some(tx) = tx.upgrade() else { break };
                match store.catalog_generation().await {
                    Ok(g) => {
                        if failing {
                            tracing::info!("the catalog generation can be read again");
                            failing = false;
                        }
                        publish(&tx, g);
                    }
                    Err(e) if !failing => {
                        tracing::warn!(error = %e, "cannot read the catalog generation; caches may be stale");
                        failing = true;
                    }
                    Err(_) => {}
                }
                drop(tx);
                record_pool(&store);
                // SQLite: the write-ahead log goes into the database here, so no commit waits for it.
                if let Err(e) = store.checkpoint().await {
                    tracing::debug!(error = %e, "background checkpoint did not run");
                }
                n = n.wrapping_add(1);
                if n.is_multiple_of(UPKEEP_EVERY) {
                    upkeep();
                }
            }
        })
    }
}

fn publish(tx: &watch::Sender<i64>, g: i64) {
    metrics::gauge!(CATALOG_GENERATION).set(g as f64);
    tx.send_if_modified(|current| {
        // Generations only grow; an older read (a slow poll) never moves caches back.
        let changed = *current < g;
        if changed {
            *current = g;
        }
        changed
    });
}

/// Sets the pool gauges from the store's current figures.
pub fn record_pool(store: &Store) {
    let (open, idle) = store.pool_stats();
    metrics::gauge!(DB_POOL_CONNECTIONS, "state" => "open").set(f64::from(open));
    metrics::gauge!(DB_POOL_CONNECTIONS, "state" => "idle").set(idle as f64);
}
