//! Journal reads and retention.
//!
//! Readers never go past the journal horizon: the highest position below which every event has
//! either committed or gone for good. On SQLite (one writer) that is simply the highest stored
//! position. On PostgreSQL publishers commit concurrently, so a position may still be in flight
//! while a larger one is readable; the horizon is the last position drawn from the sequence, once
//! every publisher that was in flight when it was read has finished (each one holds its own
//! `PUBLISHING` advisory lock from before it draws a position until it commits or rolls back).

use std::time::{Duration, Instant};

use gatehouse_domain::Timestamp;

use super::publish::PUBLISHING;
use crate::{
    JournalEntry, StoreError,
    backend::{Db, on_db},
    traits::Result,
};

/// How often a reader looks again whether the publishers it waits for have finished.
const SETTLE_POLL: Duration = Duration::from_millis(1);
/// How long a reader waits for publishers in flight before it gives up (a publisher's
/// transaction normally lasts milliseconds; one held open this long is stuck).
const SETTLE_TIMEOUT: Duration = Duration::from_secs(5);

/// Advisory locks of publishers in flight in this database, other than the caller's own.
const IN_FLIGHT: &str = "SELECT virtualtransaction FROM pg_locks \
     WHERE locktype = 'advisory' AND classid = $1::oid AND objsubid = 2 AND pid IS DISTINCT FROM pg_backend_pid() \
     AND database = (SELECT oid FROM pg_database WHERE datname = current_database())";

pub async fn horizon(db: Db<'_>) -> Result<i64> {
    let c = match db {
        Db::Sqlite(_) => return last_event_position(db).await,
        Db::Postgres(c) => c,
    };
    // The last position drawn first, the publishers in flight second: any publisher that drew a
    // position up to `drawn` is then either finished or among them.
    let drawn: i64 = sqlx::query_scalar(
        "SELECT COALESCE(pg_sequence_last_value(pg_get_serial_sequence('events', 'position')::regclass), 0)",
    )
    .fetch_one(&mut *c)
    .await?;
    let mut waiting: Vec<String> = sqlx::query_scalar(IN_FLIGHT)
        .bind(PUBLISHING)
        .fetch_all(&mut *c)
        .await?;
    let deadline = Instant::now() + SETTLE_TIMEOUT;
    while !waiting.is_empty() {
        if Instant::now() >= deadline {
            return Err(StoreError::Busy(format!(
                "{} event publication(s) have been in flight for more than {} s",
                waiting.len(),
                SETTLE_TIMEOUT.as_secs()
            )));
        }
        tokio::time::sleep(SETTLE_POLL).await;
        // A virtual transaction ID is never reused by its backend's next transaction.
        waiting = sqlx::query_scalar(&format!("{IN_FLIGHT} AND virtualtransaction = ANY($2)"))
            .bind(PUBLISHING)
            .bind(&waiting)
            .fetch_all(&mut *c)
            .await?;
    }
    Ok(drawn)
}

pub async fn after(db: Db<'_>, registration_id: &str, after: i64, upto: i64, limit: i64) -> Result<Vec<JournalEntry>> {
    let rows: Vec<(i64, String, i64)> = on_db!(db, c => {
        sqlx::query_as(
            "SELECT e.position, e.payload, e.created_at FROM deliveries d JOIN events e ON e.position = d.event_position \
             WHERE d.registration_id = $1 AND d.event_position > $2 AND d.event_position <= $3 \
             ORDER BY d.event_position LIMIT $4",
        )
        .bind(registration_id)
        .bind(after)
        .bind(upto)
        .bind(limit)
        .fetch_all(&mut *c)
        .await?
    });
    Ok(rows
        .into_iter()
        .map(|(position, payload, created_at)| JournalEntry {
            position,
            payload,
            created_at,
        })
        .collect())
}

pub async fn position_before(mut db: Db<'_>, registration_id: &str, at: Timestamp) -> Result<i64> {
    let first: Option<i64> = on_db!(super::reborrow(&mut db), c => {
        sqlx::query_scalar(
            "SELECT MIN(d.event_position) FROM deliveries d JOIN events e ON e.position = d.event_position \
             WHERE d.registration_id = $1 AND e.created_at >= $2",
        )
        .bind(registration_id)
        .bind(at)
        .fetch_one(&mut *c)
        .await?
    });
    match first {
        Some(p) => Ok(p - 1),
        // Nothing that recent: start at the end, so the next read gets what comes after.
        None => last_event_position(db).await,
    }
}

async fn last_event_position(db: Db<'_>) -> Result<i64> {
    let p: Option<i64> = on_db!(db, c => {
        sqlx::query_scalar("SELECT MAX(position) FROM events").fetch_one(&mut *c).await?
    });
    Ok(p.unwrap_or(0))
}

pub async fn first_event_position(db: Db<'_>) -> Result<i64> {
    let p: Option<i64> = on_db!(db, c => {
        sqlx::query_scalar("SELECT MIN(position) FROM events").fetch_one(&mut *c).await?
    });
    Ok(p.unwrap_or(0))
}

pub async fn published_at(db: Db<'_>, position: i64) -> Result<Option<Timestamp>> {
    let t: Option<i64> = on_db!(db, c => {
        sqlx::query_scalar("SELECT created_at FROM events WHERE position = $1")
            .bind(position)
            .fetch_optional(&mut *c)
            .await?
    });
    Ok(t)
}

pub async fn purge(mut db: Db<'_>, before: Timestamp, now: Timestamp) -> Result<u64> {
    let n = on_db!(super::reborrow(&mut db), c => {
        // The newest event always stays, so the highest position never goes backwards.
        sqlx::query("DELETE FROM events WHERE created_at < $1 AND position < (SELECT MAX(position) FROM events)")
            .bind(before)
            .execute(&mut *c)
            .await?
            .rows_affected()
    });
    on_db!(db, c => {
        sqlx::query("DELETE FROM event_dedup WHERE expires_at <= $1").bind(now).execute(&mut *c).await?;
    });
    Ok(n)
}
