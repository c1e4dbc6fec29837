//! Telling the other PostgreSQL nodes that their caches are stale. A node's own commits reach its
//! caches at once (`Tx::commit` moves the catalog generation in memory, and the token service
//! puts what it revokes in its own deny-list); other nodes learn of them here, within
//! milliseconds, instead of at their next look at the database.
//!
//! After a commit that moved the catalog generation or added to the access-token deny-list, a node
//! sends `NOTIFY gatehouse_changes` from a statement of its own — never inside the transaction,
//! where it would serialize every writer's commit on PostgreSQL's notification queue lock — with
//! its name and the generation. Every node listens: another node's announcement moves the
//! generation it knows (so catalog caches clear) and counts a deny-list change (so the token
//! service catches up before it answers again). Announcements are hints, not the record: while a
//! listener reconnects the catalog poll and the deny-list's own catch-up interval still bound how
//! stale a cache can be, and on reconnecting a node assumes it missed something.
//!
//! SQLite has one process, which sees every write: both functions return at once there.

use std::time::Duration;

use tokio::sync::watch;

use crate::{Store, node_wakeups::follow};

/// The notification channel.
const CHANNEL: &str = "gatehouse_changes";
/// How long to wait before listening again after the listener failed.
const RETRY: Duration = Duration::from_millis(500);
/// Least time between two announcements of one node: changes that come meanwhile are folded into
/// the next, so a burst of revocations costs a few notifications, not one each.
const ANNOUNCE_SPACING: Duration = Duration::from_millis(2);

impl Store {
    /// Counts the deny-list changes other nodes announced: the token service compares it with
    /// the count at its last catch-up and catches up again when it moved.
    pub fn deny_list_changes(&self) -> watch::Receiver<u64> {
        self.denied_elsewhere.subscribe()
    }

    fn heard_deny_list_change(&self) {
        self.denied_elsewhere.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Tells the other nodes after each commit here that their caches must hear of. Runs until
    /// the task is aborted.
    pub async fn announce_changes_to_other_nodes(&self) {
        let Some(pool) = self.pool_postgres() else {
            return;
        };
        loop {
            self.changed.notified().await;
            let payload = format!("{}:{}", self.node, *self.catalog_changes().borrow());
            let sent = sqlx::query("SELECT pg_notify($1, $2)")
                .bind(CHANNEL)
                .bind(payload)
                .execute(pool)
                .await;
            if let Err(e) = sent {
                tracing::warn!(error = %e, "cannot tell the other nodes of a change; their next look finds it");
            }
            tokio::time::sleep(ANNOUNCE_SPACING).await;
        }
    }

    /// Follows the other nodes' announcements. Runs until the task is aborted; reconnects when the
    /// connection is lost.
    pub async fn follow_other_nodes_changes(&self) {
        let Some(pool) = self.pool_postgres() else {
            return;
        };
        let caught_up = || {
            // Announcements may have been missed before this: catch up once.
            let store = self.clone();
            tokio::spawn(async move {
                if let Ok(g) = store.catalog_generation().await {
                    store.note_catalog_generation(g);
                }
            });
            self.heard_deny_list_change();
        };
        follow(pool, CHANNEL, RETRY, "other nodes' changes", caught_up, |payload| {
            self.heard(payload)
        })
        .await;
    }

    /// Acts on one announcement: `<node>:<catalog generation>`.
    fn heard(&self, payload: &str) {
        let (node, generation) = payload.split_once(':').unwrap_or(("", payload));
        if node == &*self.node {
            return;
        }
        if let Ok(g) = generation.parse::<i64>() {
            self.note_catalog_generation(g);
        }
        self.heard_deny_list_change();
    }
}
