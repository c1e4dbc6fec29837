//! Journal reads and retention.

use gatehouse_domain::Timestamp;

use crate::{
    JournalEntry,
    backend::{Db, on_db},
    traits::Result,
};

pub async fn after(db: Db<'_>, registration_id: &str, after: i64, limit: i64) -> Result<Vec<JournalEntry>> {
    let rows: Vec<(i64, String, i64)> = on_db!(db, c => {
        sqlx::query_as(
            "SELECT e.position, e.payload, e.created_at FROM deliveries d JOIN events e ON e.position = d.event_position \
             WHERE d.registration_id = $1 AND d.event_position > $2 ORDER BY d.event_position LIMIT $3",
        )
        .bind(registration_id)
        .bind(after)
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

pub async fn last_event_position(db: Db<'_>) -> Result<i64> {
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
