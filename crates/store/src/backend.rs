//! The two backends behind one type. Each query is written once and run on whichever driver the
//! URL selected, through the [`on_db!`] macro: the body is compiled once per driver, so both are
//! type-checked, and the conformance suite runs both.

use std::{str::FromStr, sync::Arc, time::Duration};

use sqlx::{
    PgConnection, PgPool, Postgres, Sqlite, SqliteConnection, SqlitePool, Transaction,
    pool::PoolConnection,
    postgres::PgPoolOptions,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

use tokio::sync::{Notify, watch};

use crate::StoreError;

/// Runs `$body` with `$c` bound to the backend's `&mut Connection`.
macro_rules! on_db {
    ($db:expr, $c:ident => $body:expr) => {
        match $db {
            $crate::backend::Db::Sqlite($c) => $body,
            $crate::backend::Db::Postgres($c) => $body,
        }
    };
}
pub(crate) use on_db;

/// A borrowed connection on either backend.
pub enum Db<'c> {
    Sqlite(&'c mut SqliteConnection),
    Postgres(&'c mut PgConnection),
}

/// Anything that can lend a connection: a pooled [`Conn`] for reads, a [`Tx`] for writes.
pub trait AsDb: Send {
    fn db(&mut self) -> Db<'_>;
    /// Called when an audit entry is written; a [`Tx`] remembers it so it may commit.
    fn mark_audited(&mut self) {}
    /// Called when a write made deliveries due (a publication, a resend, a recovery, a retry, a
    /// registration made active): the dispatcher is woken once the write is committed, see
    /// [`Store::deliveries_queued`].
    fn mark_queued(&mut self);
    /// Called when a write put an entry on the access-token deny-list: other nodes are told once
    /// it is committed (see `Store::announce_changes_to_other_nodes`).
    fn mark_denied(&mut self);
}

#[derive(Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// The database: a pool on one of the two backends.
#[derive(Clone)]
pub struct Store {
    pool: Pool,
    /// Signalled when a committed write made deliveries due in this process.
    queued: Arc<Notify>,
    /// The newest catalog generation this process knows: set by its own audited commits at once,
    /// and by [`Store::note_catalog_generation`] for what other processes committed.
    generation: Arc<watch::Sender<i64>>,
    /// Signalled after a commit here that other nodes' caches must hear of (the catalog
    /// generation moved, or the deny-list grew).
    pub(crate) changed: Arc<Notify>,
    /// Counts the deny-list changes other nodes announced (see `Store::deny_list_changes`).
    pub(crate) denied_elsewhere: Arc<watch::Sender<u64>>,
    /// This process's name in its announcements, so it ignores its own.
    pub(crate) node: Arc<str>,
}

/// A pooled connection for reads (autocommit).
pub struct Conn {
    inner: ConnInner,
    queued: Arc<Notify>,
    changed: Arc<Notify>,
}

enum ConnInner {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(PoolConnection<Postgres>),
}

impl AsDb for Conn {
    fn db(&mut self) -> Db<'_> {
        match &mut self.inner {
            ConnInner::Sqlite(c) => Db::Sqlite(c),
            ConnInner::Postgres(c) => Db::Postgres(c),
        }
    }

    /// Autocommit: the write is already committed.
    fn mark_queued(&mut self) {
        self.queued.notify_one();
    }

    fn mark_denied(&mut self) {
        self.changed.notify_one();
    }
}

enum TxInner {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// A write transaction. Dropping it without committing rolls back.
pub struct Tx {
    inner: TxInner,
    generation: Arc<watch::Sender<i64>>,
    pub(crate) audited: bool,
    /// Deliveries were made due: signal `Store::queued` after the commit, not before.
    queued: Arc<Notify>,
    made_due: bool,
    changed: Arc<Notify>,
    denied: bool,
}

impl AsDb for Tx {
    fn db(&mut self) -> Db<'_> {
        match &mut self.inner {
            TxInner::Sqlite(t) => Db::Sqlite(t),
            TxInner::Postgres(t) => Db::Postgres(t),
        }
    }

    fn mark_audited(&mut self) {
        self.audited = true;
    }

    fn mark_queued(&mut self) {
        self.made_due = true;
    }

    fn mark_denied(&mut self) {
        self.denied = true;
    }
}

impl Tx {
    /// Commits a change that recorded at least one audit entry, and bumps the catalog generation
    /// so every node's caches see the change.
    pub async fn commit(mut self) -> Result<(), StoreError> {
        if !self.audited {
            return Err(StoreError::Unaudited);
        }
        let generation: i64 = on_db!(self.db(), c => {
            sqlx::query_scalar(
                "UPDATE cache_generations SET generation = generation + 1 WHERE name = 'catalog' RETURNING generation",
            )
            .fetch_one(&mut *c)
            .await?
        });
        let local = self.generation.clone();
        let changed = self.changed.clone();
        self.commit_unaudited().await?;
        // This process's caches see its own change before the caller answers anyone; other
        // nodes hear of it from the announcement.
        note(&local, generation);
        changed.notify_one();
        Ok(())
    }

    /// Commits without an audit entry. Only for bookkeeping that is not a change anyone made:
    /// issuing and consuming tokens, expiring rows, recording delivery attempts.
    pub async fn commit_unaudited(self) -> Result<(), StoreError> {
        match self.inner {
            TxInner::Sqlite(t) => t.commit().await?,
            TxInner::Postgres(t) => t.commit().await?,
        }
        if self.made_due {
            self.queued.notify_one();
        }
        if self.denied {
            self.changed.notify_one();
        }
        Ok(())
    }
}

fn note(tx: &watch::Sender<i64>, generation: i64) {
    tx.send_if_modified(|current| {
        let newer = generation > *current;
        if newer {
            *current = generation;
        }
        newer
    });
}

/// Which backend a URL selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of_url(url: &str) -> Option<Self> {
        if url.starts_with("sqlite:") {
            Some(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Self::Postgres)
        } else {
            None
        }
    }
}

/// Pages of SQLite write-ahead log after which a commit checkpoints by itself (SQLite's default is
/// 1,000): a backstop for processes that run no background checkpoint.
pub const WAL_AUTOCHECKPOINT_PAGES: u32 = 10_000;

impl Store {
    /// Connects to `url` (`sqlite://path` or `postgres://…`). SQLite files are created when
    /// missing and opened with WAL, foreign keys on and a busy timeout.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let pool = match Backend::of_url(url) {
            Some(Backend::Sqlite) => {
                let opts = SqliteConnectOptions::from_str(url)?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(5))
                    // A checkpoint started by a commit makes that commit wait for its fsync, and every
                    // writer behind it. `gatehouse serve` checkpoints in the background
                    // (`Store::checkpoint`); commits do it only past this backstop (40 MiB of WAL).
                    .pragma("wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES.to_string());
                // A connection to a local file does not go stale, so the ping sqlx would send
                // through the connection's worker thread before every acquire is pure cost.
                let pool = SqlitePoolOptions::new()
                    .max_connections(max_connections.max(1))
                    .test_before_acquire(false)
                    .connect_with(opts)
                    .await?;
                Pool::Sqlite(pool)
            }
            Some(Backend::Postgres) => {
                let pool = PgPoolOptions::new()
                    .max_connections(max_connections.max(1))
                    .acquire_timeout(Duration::from_secs(5))
                    .connect(url)
                    .await?;
                Pool::Postgres(pool)
            }
            None => {
                return Err(StoreError::Database(sqlx::Error::Configuration(
                    format!(
                        "database URL must start with sqlite:// or postgres://, got {:?}",
                        redact(url)
                    )
                    .into(),
                )));
            }
        };
        Ok(Self {
            pool,
            queued: Arc::new(Notify::new()),
            generation: Arc::new(watch::channel(0).0),
            changed: Arc::new(Notify::new()),
            denied_elsewhere: Arc::new(watch::channel(0).0),
            node: uuid::Uuid::new_v4().simple().to_string().into(),
        })
    }

    /// Follows the newest catalog generation known to this process (see [`Store::generation`]).
    pub fn catalog_changes(&self) -> watch::Receiver<i64> {
        self.generation.subscribe()
    }

    /// Records a generation read from the database (another process's commits); generations only
    /// grow, so an older read never moves followers back.
    pub fn note_catalog_generation(&self, generation: i64) {
        note(&self.generation, generation);
    }

    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// A connection for reads.
    pub async fn conn(&self) -> Result<Conn, StoreError> {
        let inner = match &self.pool {
            Pool::Sqlite(p) => ConnInner::Sqlite(p.acquire().await?),
            Pool::Postgres(p) => ConnInner::Postgres(p.acquire().await?),
        };
        Ok(Conn {
            inner,
            queued: self.queued.clone(),
            changed: self.changed.clone(),
        })
    }

    /// Resolves once a write committed through this store (this process) has made deliveries
    /// due since the last call returned — or, on PostgreSQL while
    /// [`Store::relay_other_nodes_deliveries`] runs, a node that runs no dispatcher said it did:
    /// the dispatcher's wake-up, so it need not poll for that work.
    pub async fn deliveries_queued(&self) {
        self.queued.notified().await;
    }

    pub(crate) fn wake_dispatcher(&self) {
        self.queued.notify_one();
    }

    /// Begins a write transaction. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`),
    /// so read-then-write transactions never fail with SQLITE_BUSY half-way through.
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        let inner = match &self.pool {
            Pool::Sqlite(p) => TxInner::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
            Pool::Postgres(p) => TxInner::Postgres(p.begin().await?),
        };
        Ok(Tx {
            inner,
            generation: self.generation.clone(),
            audited: false,
            queued: self.queued.clone(),
            made_due: false,
            changed: self.changed.clone(),
            denied: false,
        })
    }

    /// Pool figures for `/metrics`: (connections open, connections idle).
    pub fn pool_stats(&self) -> (u32, usize) {
        match &self.pool {
            Pool::Sqlite(p) => (p.size(), p.num_idle()),
            Pool::Postgres(p) => (p.size(), p.num_idle()),
        }
    }

    /// Is the database reachable?
    pub async fn ping(&self) -> Result<(), StoreError> {
        let mut c = self.conn().await?;
        on_db!(c.db(), c => { sqlx::query("SELECT 1").execute(&mut *c).await?.rows_affected(); });
        Ok(())
    }

    /// The catalog generation: changes whenever an audited write commits, on any node or process.
    pub async fn catalog_generation(&self) -> Result<i64, StoreError> {
        let mut c = self.conn().await?;
        let g: i64 = on_db!(c.db(), c => {
            sqlx::query_scalar("SELECT generation FROM cache_generations WHERE name = 'catalog'")
                .fetch_one(&mut *c)
                .await?
        });
        Ok(g)
    }

    /// Copies what the SQLite write-ahead log holds into the database file without blocking writers
    /// (a passive checkpoint, with its fsync) and returns the log's frames and how many of them are
    /// now in the database. Nothing to do on PostgreSQL (`None`).
    pub async fn checkpoint(&self) -> Result<Option<(i64, i64)>, StoreError> {
        let Pool::Sqlite(p) = &self.pool else {
            return Ok(None);
        };
        let mut c = p.acquire().await?;
        let (_busy, log, done): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(&mut *c)
            .await?;
        Ok(Some((log, done)))
    }

    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
        }
    }

    pub(crate) fn pool_sqlite(&self) -> Option<&SqlitePool> {
        match &self.pool {
            Pool::Sqlite(p) => Some(p),
            Pool::Postgres(_) => None,
        }
    }

    pub(crate) fn pool_postgres(&self) -> Option<&PgPool> {
        match &self.pool {
            Pool::Postgres(p) => Some(p),
            Pool::Sqlite(_) => None,
        }
    }
}

/// Hides the password in a database URL before it is logged or shown.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}
