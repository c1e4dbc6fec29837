//! The catalog generation: a number the store bumps in every audited commit, on any node and in
//! `gatehouse apply`. Every in-memory cache of catalog data (clients, cutoffs, the services
//! catalog) is tagged with the generation it was read at and clears itself when the generation
//! moves. A node's own audited commits move it at once (the store sets it after the commit, before
//! the use case returns), so every surface of that node sees a change as soon as it is made;
//! [`CatalogWatch::poll`], the background job, brings in other nodes' changes within
//! [`CATALOG_POLL`].

use std::time::Duration;

use gatehouse_store::{Store, StoreError};
use tokio::{sync::watch, task::JoinHandle};

/// How often the catalog generation is read: the bound on how long another node's change may
/// take to reach this node's caches.
pub const CATALOG_POLL: Duration = Duration::from_millis(250);

/// Gauge: the catalog generation this node last read.
pub const CATALOG_GENERATION: &str = "gatehouse_catalog_generation";
/// Gauge: the database pool's connections, by `state` (`open`, `idle`).
pub const DB_POOL_CONNECTIONS: &str = "gatehouse_db_pool_connections";

/// The latest generation, shared by every cache of the node. The store sets it at once when
/// this node commits an audited change; [`CatalogWatch::poll`] brings in other nodes' changes.
#[derive(Clone)]
pub struct CatalogWatch {
    store: Store,
}

impl CatalogWatch {
    pub fn new(store: Store, initial: i64) -> Self {
        store.note_catalog_generation(initial);
        metrics::gauge!(CATALOG_GENERATION).set(initial as f64);
        Self { store }
    }

    /// A receiver for a cache.
    pub fn subscribe(&self) -> watch::Receiver<i64> {
        self.store.catalog_changes()
    }

    /// Reads the generation now and tells every cache if it moved.
    pub async fn refresh(&self) -> Result<i64, StoreError> {
        let g = self.store.catalog_generation().await?;
        self.store.note_catalog_generation(g);
        metrics::gauge!(CATALOG_GENERATION).set(g as f64);
        Ok(g)
    }

    /// The background job: reads the generation every [`CATALOG_POLL`], sets the pool gauges and
    /// checkpoints SQLite's write-ahead log (so commits do not), and calls `upkeep` every 5 s.
    pub fn poll(&self, upkeep: impl Fn() + Send + 'static) -> JoinHandle<()> {
        let watch = self.clone();
        tokio::spawn(async move {
            const UPKEEP_EVERY: u32 = 20;
            let mut tick = tokio::time::interval(CATALOG_POLL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut failing = false;
            let mut n: u32 = 0;
            loop {
                tick.tick().await;
                match watch.refresh().await {
                    Ok(_) if failing => {
                        tracing::info!("the catalog generation can be read again");
                        failing = false;
                    }
                    Ok(_) => {}
                    Err(e) if !failing => {
                        tracing::warn!(error = %e, "cannot read the catalog generation; caches may be stale");
                        failing = true;
                    }
                    Err(_) => {}
                }
                record_pool(&watch.store);
                // SQLite: the write-ahead log goes into the database here, so no commit waits for it.
                if let Err(e) = watch.store.checkpoint().await {
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

/// Sets the pool gauges from the store's current figures.
pub fn record_pool(store: &Store) {
    let (open, idle) = store.pool_stats();
    metrics::gauge!(DB_POOL_CONNECTIONS, "state" => "open").set(f64::from(open));
    metrics::gauge!(DB_POOL_CONNECTIONS, "state" => "idle").set(idle as f64);
}
