//! The background job that deletes expired token bookkeeping: deny-list entries, replay records,
//! codes, refresh tokens and retired keys. It runs on every node (the deletes are idempotent).

use std::{sync::Arc, time::Duration};

use tokio::task::JoinHandle;

use super::{TokenService, service::purge_expired};

/// How often expired token bookkeeping is deleted.
pub const PURGE_EVERY: Duration = Duration::from_secs(600);

/// Starts the job; it ends when the token service is dropped.
pub fn spawn(svc: &Arc<TokenService>) -> JoinHandle<()> {
    let weak = Arc::downgrade(svc);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(PURGE_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            let Some(svc) = weak.upgrade() else { break };
            match purge_expired(svc.store(), svc.now()).await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(rows = n, "purged expired token bookkeeping"),
                Err(e) => tracing::warn!(error = %e, "purging expired token bookkeeping failed"),
            }
        }
    })
}
