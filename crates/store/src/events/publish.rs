//! Publishing: the outbox insert with deduplication and the fan-out to registrations, in the
//! caller's transaction.
//!
//! A journal reader that has seen position N must never later find an event committed with a
//! smaller position. SQLite has one writer at a time, so positions follow commit order by
//! themselves. PostgreSQL publishers run concurrently (their commits share WAL flushes), so
//! positions may commit out of order; instead every publisher marks itself with a
//! transaction-scoped advisory lock of its own before it draws a position, and readers stop at
//! the journal horizon (see `journal::horizon`), below which every position has settled.

use gatehouse_domain::{Timestamp, events::own::NewEvent};

use super::reborrow;
use crate::{
    Published,
    backend::{Db, on_db},
    traits::Result,
};

/// The advisory lock class of publishers in flight (PostgreSQL only): "ghev" in ASCII. Each
/// publisher locks `(PUBLISHING, its backend pid)`, so publishers never wait for each other.
pub(super) const PUBLISHING: i32 = 0x6768_6576;

pub async fn publish(mut db: Db<'_>, e: &NewEvent, now: Timestamp, dedup_window: i64) -> Result<Published> {
    if let Db::Postgres(c) = &mut db {
        // Before the position is drawn: a reader that sees the position taken also sees the lock.
        sqlx::query("SELECT pg_advisory_xact_lock($1, pg_backend_pid())")
            .bind(PUBLISHING)
            .execute(&mut **c)
            .await?;
    }
    let source = e.event.source();
    let id = e.event.id();
    let payload = serde_json::to_string(e.event.attributes())?;
    let audience = e.audience.render();
    let code = e.event.event_type().as_str();
    // Optimistically store the event, then claim its source + id for the window; a live claim by an
    // earlier publication makes this one a duplicate, and the row just written goes again (the
    // common case costs no extra statement).
    let position: i64 = on_db!(reborrow(&mut db), c => {
        sqlx::query_scalar(
            "INSERT INTO events (event_id, source, event_code, provider_id, audience, payload, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING position",
        )
        .bind(id)
        .bind(source)
        .bind(code)
        .bind(&e.provider_id)
        .bind(&audience)
        .bind(&payload)
        .bind(now)
        .fetch_one(&mut *c)
        .await?
    });
    let claimed: Option<i64> = on_db!(reborrow(&mut db), c => {
        sqlx::query_scalar(
            "INSERT INTO event_dedup (source, event_id, position, expires_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (source, event_id) DO UPDATE SET position = excluded.position, expires_at = excluded.expires_at \
             WHERE event_dedup.expires_at <= $5 RETURNING position",
        )
        .bind(source)
        .bind(id)
        .bind(position)
        .bind(now + dedup_window)
        .bind(now)
        .fetch_optional(&mut *c)
        .await?
    });
    if claimed.is_none() {
        let earlier: i64 = on_db!(reborrow(&mut db), c => {
            sqlx::query("DELETE FROM events WHERE position = $1").bind(position).execute(&mut *c).await?;
            sqlx::query_scalar("SELECT position FROM event_dedup WHERE source = $1 AND event_id = $2")
                .bind(source)
                .bind(id)
                .fetch_one(&mut *c)
                .await?
        });
        return Ok(Published::Duplicate { position: earlier });
    }
    let deliveries = on_db!(db, c => {
        sqlx::query(
            "INSERT INTO deliveries (event_position, registration_id, state, attempts, next_attempt_at, cause, updated_at) \
             SELECT $1, r.id, \
                    CASE WHEN r.delivery_method = 'journal' THEN 'journal' \
                         WHEN r.status IN ('active', 'unstable') THEN 'pending' \
                         ELSE 'skipped' END, \
                    0, $2, 'scheduled', $2 \
             FROM registration_event_types t \
             JOIN event_registrations r ON r.id = t.registration_id \
             JOIN integrations i ON i.id = r.integration_id \
             WHERE t.provider_id = $3 AND t.event_code = $4 \
               AND ($5 = '*' OR $5 = 'org:' || i.org_id OR $5 = 'account:' || i.owner_account_id \
                    OR $5 = 'registration:' || r.id)",
        )
        .bind(position)
        .bind(now)
        .bind(&e.provider_id)
        .bind(code)
        .bind(&audience)
        .execute(&mut *c)
        .await?
        .rows_affected()
    });
    Ok(Published::New { position, deliveries })
}
