//! Waking dispatchers on other PostgreSQL nodes. Each process wakes its own dispatcher in memory
//! when a commit makes deliveries due (`Store::deliveries_queued`); a node that runs no dispatcher
//! (`[events] dispatcher = false`) tells the others instead, with `NOTIFY` on one channel, and
//! every dispatcher node relays what it hears to its own dispatcher. So no node has to poll often
//! for work another node queued.
//!
//! The `NOTIFY` is sent after the commit, from its own statement, at most one every 5 ms per node
//! (wake-ups that come meanwhile are folded into the next): a `NOTIFY` inside the
//! publishing transaction would serialize the commits of all publishers on PostgreSQL's
//! notification queue lock. Notifications are a hint, never the record: one lost while a listener
//! reconnects costs only the wait until that dispatcher's next look.
//!
//! SQLite has one process, which sees every write: both functions return at once there.

use std::time::Duration;

use sqlx::postgres::PgListener;

use crate::{Store, StoreError};

/// The notification channel.
const CHANNEL: &str = "gatehouse_deliveries_queued";
/// How long to wait before listening again after the listener failed.
const RETRY: Duration = Duration::from_secs(1);
/// Least time between two announcements of one node: under a stream of publications, one
/// `NOTIFY` every few milliseconds wakes the others as well as one per commit would.
const ANNOUNCE_SPACING: Duration = Duration::from_millis(5);

impl Store {
    /// On a PostgreSQL node without a dispatcher: tells the other nodes' dispatchers, after each
    /// commit here that made deliveries due. Runs until the task is aborted.
    pub async fn announce_deliveries_to_other_nodes(&self) {
        let Some(pool) = self.pool_postgres() else {
            return;
        };
        loop {
            self.deliveries_queued().await;
            let sent = sqlx::query("SELECT pg_notify($1, '')")
                .bind(CHANNEL)
                .execute(pool)
                .await;
            if let Err(e) = sent {
                tracing::warn!(error = %e, "cannot tell the other nodes that deliveries are due; their next look finds them");
            }
            tokio::time::sleep(ANNOUNCE_SPACING).await;
        }
    }

    /// On a PostgreSQL node with a dispatcher: wakes it whenever another node announces
    /// deliveries. Runs until the task is aborted; reconnects when the connection is lost.
    pub async fn relay_other_nodes_deliveries(&self) {
        let Some(pool) = self.pool_postgres() else {
            return;
        };
        // On (re)connecting, announcements may have been missed: one look costs little.
        follow(
            pool,
            CHANNEL,
            RETRY,
            "deliveries queued on other nodes",
            || self.wake_dispatcher(),
            |_| self.wake_dispatcher(),
        )
        .await;
    }
}

/// Listens on `channel` until the task is aborted: `connected` runs each time the listener
/// (re)connects, `heard` with each notification's payload. A lost connection is retried every
/// `retry`; the first failure of a run of them is logged, naming `what` is being listened for.
pub(crate) async fn follow(
    pool: &sqlx::PgPool,
    channel: &str,
    retry: Duration,
    what: &str,
    connected: impl Fn(),
    heard: impl Fn(&str),
) {
    let mut failing = false;
    loop {
        match listen(pool, channel).await {
            Ok(mut listener) => {
                if failing {
                    tracing::info!("listening again for {what}");
                    failing = false;
                }
                connected();
                loop {
                    // `recv` reconnects by itself; an error means it could not.
                    match listener.recv().await {
                        Ok(n) => heard(n.payload()),
                        Err(e) => {
                            report(&mut failing, what, &e.into());
                            break;
                        }
                    }
                }
            }
            Err(e) => report(&mut failing, what, &e),
        }
        tokio::time::sleep(retry).await;
    }
}

async fn listen(pool: &sqlx::PgPool, channel: &str) -> Result<PgListener, StoreError> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(channel).await?;
    Ok(listener)
}

/// Logs the first failure of a run of them.
fn report(failing: &mut bool, what: &str, e: &StoreError) {
    if !*failing {
        tracing::warn!(error = %e, "cannot listen for {what}; retrying");
        *failing = true;
    }
}
