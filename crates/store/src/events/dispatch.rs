//! The dispatcher's bookkeeping: claiming due deliveries under a lease, giving them back,
//! recording attempts, the health window, and manual recovery (resend, recover).
//!
//! A claim is one `UPDATE … WHERE id IN (SELECT … LIMIT n) RETURNING`: on PostgreSQL the inner
//! select locks its rows with `FOR UPDATE SKIP LOCKED`, so workers on several nodes never claim the
//! same row; on SQLite the single writer does the same. A lease that runs out (a worker died)
//! makes the delivery claimable again: delivery is at least once.

use gatehouse_domain::{
    Timestamp,
    events::{
        debug,
        health::Window,
        model::{Attempt, DeliveryMethod, DeliveryState, RegistrationStatus, SealedSecrets},
    },
};

use super::reborrow;
use crate::{
    AttemptFilter, AttemptOutcome, Backlog, ClaimedDelivery,
    backend::{Db, on_db},
    lists::{MAX_LIST, batch_sizes, in_list_width, padded, placeholders},
    traits::Result,
};

#[derive(sqlx::FromRow)]
struct ClaimRow {
    id: i64,
    event_position: i64,
    attempts: i64,
    cause: String,
    registration_id: String,
}

#[derive(sqlx::FromRow)]
struct DetailRow {
    id: i64,
    event_code: String,
    provider_id: String,
    payload: String,
    delivery_method: String,
    status: String,
    webhook_url: Option<String>,
    client_id: String,
    secret_enc: Option<Vec<u8>>,
    previous_secret_enc: Option<Vec<u8>>,
    previous_secret_expires_at: Option<i64>,
}

pub async fn claim(
    mut db: Db<'_>,
    now: Timestamp,
    lease_until: Timestamp,
    limit: i64,
    exclude: &[String],
) -> Result<Vec<ClaimedDelivery>> {
    // The excluded registrations are bound as parameters $4, $5, …, in padded chunks (crate::lists).
    let mut not_in = String::new();
    let mut next = 4;
    for chunk in exclude.chunks(MAX_LIST) {
        let width = in_list_width(chunk.len());
        not_in.push_str(&format!(
            " AND d.registration_id NOT IN ({})",
            placeholders(next, width)
        ));
        next += width;
    }
    let select = format!(
        "SELECT d.id FROM deliveries d JOIN event_registrations r ON r.id = d.registration_id \
         WHERE d.state = 'pending' AND d.next_attempt_at <= $2 AND (d.lease_until IS NULL OR d.lease_until <= $2) \
         AND r.status IN ('active', 'unstable'){not_in} ORDER BY d.next_attempt_at, d.id LIMIT $3"
    );
    let locking = match db {
        Db::Postgres(_) => " FOR UPDATE OF d SKIP LOCKED",
        Db::Sqlite(_) => "",
    };
    let sql = format!(
        "UPDATE deliveries SET lease_until = $1 WHERE id IN ({select}{locking}) \
         RETURNING id, event_position, attempts, cause, registration_id"
    );
    let claimed: Vec<ClaimRow> = on_db!(reborrow(&mut db), c => {
        let mut q = sqlx::query_as(&sql).bind(lease_until).bind(now).bind(limit);
        for chunk in exclude.chunks(MAX_LIST) {
            for r in padded(chunk) {
                q = q.bind(r);
            }
        }
        q.fetch_all(&mut *c).await?
    });
    if claimed.is_empty() {
        return Ok(Vec::new());
    }
    // The details of the claimed rows, a padded chunk per query.
    let mut details: Vec<DetailRow> = Vec::with_capacity(claimed.len());
    for chunk in claimed.chunks(MAX_LIST) {
        let detail_sql = format!(
            "SELECT d.id, e.event_code, e.provider_id, e.payload, r.delivery_method, r.status, r.webhook_url, i.client_id, \
                    r.secret_enc, r.previous_secret_enc, r.previous_secret_expires_at \
             FROM deliveries d JOIN events e ON e.position = d.event_position \
             JOIN event_registrations r ON r.id = d.registration_id JOIN integrations i ON i.id = r.integration_id \
             WHERE d.id IN ({})",
            placeholders(1, in_list_width(chunk.len()))
        );
        let rows: Vec<DetailRow> = on_db!(reborrow(&mut db), c => {
            let mut q = sqlx::query_as(&detail_sql);
            for row in padded(chunk) {
                q = q.bind(row.id);
            }
            q.fetch_all(&mut *c).await?
        });
        details.extend(rows);
    }
    let mut by_id: std::collections::HashMap<i64, DetailRow> = details.into_iter().map(|d| (d.id, d)).collect();
    let mut out = Vec::with_capacity(claimed.len());
    for row in claimed {
        let Some(d) = by_id.remove(&row.id) else { continue };
        out.push(ClaimedDelivery {
            id: row.id,
            event_position: row.event_position,
            attempts: row.attempts,
            cause: row.cause,
            event_code: d.event_code,
            provider_id: d.provider_id,
            payload: d.payload,
            registration_id: row.registration_id,
            registration_status: RegistrationStatus::parse(&d.status)?,
            delivery_method: DeliveryMethod::parse(&d.delivery_method)?,
            webhook_url: d.webhook_url,
            client_id: d.client_id,
            secrets: d.secret_enc.map(|current| SealedSecrets {
                current,
                previous: d.previous_secret_enc,
                previous_expires_at: d.previous_secret_expires_at,
            }),
        });
    }
    out.sort_by_key(|d| d.id);
    Ok(out)
}

pub async fn release(mut db: Db<'_>, ids: &[i64]) -> Result<()> {
    for chunk in ids.chunks(MAX_LIST) {
        let sql = format!(
            "UPDATE deliveries SET lease_until = NULL WHERE id IN ({}) AND state = 'pending'",
            placeholders(1, in_list_width(chunk.len()))
        );
        on_db!(reborrow(&mut db), c => {
            let mut q = sqlx::query(&sql);
            for id in padded(chunk) {
                q = q.bind(*id);
            }
            q.execute(&mut *c).await?;
        });
    }
    Ok(())
}

pub async fn release_all(db: Db<'_>) -> Result<u64> {
    let n = on_db!(db, c => {
        sqlx::query("UPDATE deliveries SET lease_until = NULL WHERE lease_until IS NOT NULL")
            .execute(&mut *c)
            .await?
            .rows_affected()
    });
    Ok(n)
}

pub async fn record(mut db: Db<'_>, o: &AttemptOutcome) -> Result<()> {
    on_db!(reborrow(&mut db), c => {
        sqlx::query(
            "INSERT INTO delivery_attempts (delivery_id, registration_id, event_position, attempted_at, status_code, \
             success, latency_ms, response_body, error, cause, request_headers, request_body, response_headers) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(o.delivery_id)
        .bind(&o.registration_id)
        .bind(o.event_position)
        .bind(o.attempted_at)
        .bind(o.status_code.map(i64::from))
        .bind(o.success)
        .bind(o.latency_ms)
        .bind(&o.response_body)
        .bind(&o.error)
        .bind(&o.cause)
        .bind(debug::headers_to_json(&o.request_headers))
        .bind(&o.request_body)
        .bind(debug::headers_to_json(&o.response_headers))
        .execute(&mut *c)
        .await?;
    });
    update_one(db, o).await
}

/// The most rows in one multi-row insert of attempts (13 parameters each; see crate::lists).
const ATTEMPT_ROWS_PER_INSERT: usize = 16;

pub async fn record_many(mut db: Db<'_>, outcomes: &[AttemptOutcome]) -> Result<()> {
    let mut rest = outcomes;
    for size in batch_sizes(outcomes.len(), ATTEMPT_ROWS_PER_INSERT) {
        let (chunk, tail) = rest.split_at(size);
        rest = tail;
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| {
                let b = i * 13;
                let params: Vec<String> = (1..=13).map(|k| format!("${}", b + k)).collect();
                format!("({})", params.join(", "))
            })
            .collect();
        let sql = format!(
            "INSERT INTO delivery_attempts (delivery_id, registration_id, event_position, attempted_at, status_code, \
             success, latency_ms, response_body, error, cause, request_headers, request_body, response_headers) \
             VALUES {}",
            rows.join(", ")
        );
        on_db!(reborrow(&mut db), c => {
            let mut q = sqlx::query(&sql);
            for o in chunk {
                q = q
                    .bind(o.delivery_id)
                    .bind(&o.registration_id)
                    .bind(o.event_position)
                    .bind(o.attempted_at)
                    .bind(o.status_code.map(i64::from))
                    .bind(o.success)
                    .bind(o.latency_ms)
                    .bind(&o.response_body)
                    .bind(&o.error)
                    .bind(&o.cause)
                    .bind(debug::headers_to_json(&o.request_headers))
                    .bind(&o.request_body)
                    .bind(debug::headers_to_json(&o.response_headers));
            }
            q.execute(&mut *c).await?;
        });
    }
    // Delivered ones share their new state: one update per (status code, instant).
    let mut delivered: std::collections::BTreeMap<(Option<u16>, Timestamp), Vec<i64>> =
        std::collections::BTreeMap::new();
    for o in outcomes {
        if o.state_after == DeliveryState::Delivered {
            delivered
                .entry((o.status_code, o.attempted_at))
                .or_default()
                .push(o.delivery_id);
        } else {
            update_one(reborrow(&mut db), o).await?;
        }
    }
    for ((status, at), ids) in delivered {
        for chunk in ids.chunks(MAX_LIST) {
            let sql = format!(
                "UPDATE deliveries SET state = 'delivered', attempts = attempts + 1, lease_until = NULL, \
                 last_status = $1, cause = 'scheduled', updated_at = $2 WHERE id IN ({})",
                placeholders(3, in_list_width(chunk.len()))
            );
            on_db!(reborrow(&mut db), c => {
                let mut q = sqlx::query(&sql).bind(status.map(i64::from)).bind(at);
                for id in padded(chunk) {
                    q = q.bind(*id);
                }
                q.execute(&mut *c).await?;
            });
        }
    }
    Ok(())
}

async fn update_one(db: Db<'_>, o: &AttemptOutcome) -> Result<()> {
    // A delivery skipped meanwhile (its registration was disabled) stays skipped.
    on_db!(db, c => {
        sqlx::query(
            "UPDATE deliveries SET state = CASE WHEN state = 'skipped' AND $2 = 'pending' THEN 'skipped' ELSE $2 END, \
             attempts = attempts + 1, next_attempt_at = COALESCE($3, next_attempt_at), lease_until = NULL, \
             last_status = $4, cause = 'scheduled', updated_at = $5 WHERE id = $1",
        )
        .bind(o.delivery_id)
        .bind(o.state_after.as_str())
        .bind(o.next_attempt_at)
        .bind(o.status_code.map(i64::from))
        .bind(o.attempted_at)
        .execute(&mut *c)
        .await?;
    });
    Ok(())
}

pub async fn health_window(db: Db<'_>, registration_id: &str, since: Timestamp) -> Result<Window> {
    let (attempts, failures): (i64, i64) = on_db!(db, c => {
        sqlx::query_as(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN success THEN 0 ELSE 1 END), 0) FROM delivery_attempts \
             WHERE registration_id = $1 AND attempted_at > $2",
        )
        .bind(registration_id)
        .bind(since)
        .fetch_one(&mut *c)
        .await?
    });
    Ok(Window {
        attempts: u64::try_from(attempts).unwrap_or(0),
        failures: u64::try_from(failures).unwrap_or(0),
    })
}

pub async fn resend(db: Db<'_>, registration_id: &str, position: i64, now: Timestamp) -> Result<bool> {
    let n = on_db!(db, c => {
        sqlx::query(
            "UPDATE deliveries SET state = CASE WHEN state = 'journal' THEN 'journal' ELSE 'pending' END, \
             next_attempt_at = $3, lease_until = NULL, cause = 'resend', updated_at = $3 \
             WHERE registration_id = $1 AND event_position = $2",
        )
        .bind(registration_id)
        .bind(position)
        .bind(now)
        .execute(&mut *c)
        .await?
        .rows_affected()
    });
    Ok(n > 0)
}

pub async fn recover(db: Db<'_>, registration_id: &str, since: Timestamp, now: Timestamp) -> Result<u64> {
    let n = on_db!(db, c => {
        sqlx::query(
            "UPDATE deliveries SET state = 'pending', next_attempt_at = $3, lease_until = NULL, cause = 'recover', \
             updated_at = $3 WHERE registration_id = $1 AND state IN ('failed', 'skipped') \
             AND event_position IN (SELECT position FROM events WHERE created_at >= $2)",
        )
        .bind(registration_id)
        .bind(since)
        .bind(now)
        .execute(&mut *c)
        .await?
        .rows_affected()
    });
    Ok(n)
}

#[derive(sqlx::FromRow)]
struct AttemptRow {
    id: i64,
    delivery_id: i64,
    registration_id: String,
    event_position: i64,
    attempted_at: i64,
    status_code: Option<i64>,
    latency_ms: i64,
    response_body: String,
    error: Option<String>,
    cause: String,
    event_code: Option<String>,
    event_id: Option<String>,
    request_headers: String,
    request_body: String,
    response_headers: String,
}

impl From<AttemptRow> for Attempt {
    fn from(r: AttemptRow) -> Self {
        Attempt {
            id: r.id,
            delivery_id: r.delivery_id,
            registration_id: r.registration_id,
            event_position: r.event_position,
            attempted_at: r.attempted_at,
            status_code: r.status_code.and_then(|s| u16::try_from(s).ok()),
            latency_ms: r.latency_ms,
            response_body: r.response_body,
            error: r.error,
            trigger: r.cause,
            event_code: r.event_code.unwrap_or_default(),
            event_id: r.event_id.unwrap_or_default(),
            request_headers: debug::headers_from_json(&r.request_headers),
            request_body: r.request_body,
            response_headers: debug::headers_from_json(&r.response_headers),
        }
    }
}

/// An attempt's columns with its event's type and CloudEvent ID (`a`: the attempt, `e`: its event,
/// gone when the event was purged).
const ATTEMPT_COLUMNS: &str = "a.id, a.delivery_id, a.registration_id, a.event_position, a.attempted_at, a.status_code, \
                               a.latency_ms, a.response_body, a.error, a.cause, e.event_code, e.event_id, \
                               a.request_headers, a.request_body, a.response_headers";
const ATTEMPTS_FROM: &str = "delivery_attempts a LEFT JOIN events e ON e.position = a.event_position";

pub async fn attempts_of_registration(
    db: Db<'_>,
    registration_id: &str,
    before_id: Option<i64>,
    limit: i64,
    filter: &AttemptFilter,
) -> Result<Vec<Attempt>> {
    let mut sql = format!("SELECT {ATTEMPT_COLUMNS} FROM {ATTEMPTS_FROM} WHERE a.registration_id = $1 AND a.id < $2");
    let mut next = 4;
    if filter.success.is_some() {
        sql.push_str(&format!(" AND a.success = ${next}"));
        next += 1;
    }
    if filter.event_code.is_some() {
        sql.push_str(&format!(" AND e.event_code = ${next}"));
    }
    sql.push_str(" ORDER BY a.id DESC LIMIT $3");
    let rows: Vec<AttemptRow> = on_db!(db, c => {
        let mut q = sqlx::query_as(&sql)
            .bind(registration_id)
            .bind(before_id.unwrap_or(i64::MAX))
            .bind(limit);
        if let Some(ok) = filter.success {
            q = q.bind(ok);
        }
        if let Some(code) = &filter.event_code {
            q = q.bind(code);
        }
        q.fetch_all(&mut *c).await?
    });
    Ok(rows.into_iter().map(Attempt::from).collect())
}

pub async fn attempts_of_event(db: Db<'_>, registration_id: &str, position: i64) -> Result<Vec<Attempt>> {
    let sql = format!(
        "SELECT {ATTEMPT_COLUMNS} FROM {ATTEMPTS_FROM} WHERE a.registration_id = $1 AND a.event_position = $2 \
         ORDER BY a.id"
    );
    let rows: Vec<AttemptRow> = on_db!(db, c => {
        sqlx::query_as(&sql).bind(registration_id).bind(position).fetch_all(&mut *c).await?
    });
    Ok(rows.into_iter().map(Attempt::from).collect())
}

pub async fn attempt_of_registration(db: Db<'_>, registration_id: &str, attempt_id: i64) -> Result<Option<Attempt>> {
    let sql = format!("SELECT {ATTEMPT_COLUMNS} FROM {ATTEMPTS_FROM} WHERE a.registration_id = $1 AND a.id = $2");
    let row: Option<AttemptRow> = on_db!(db, c => {
        sqlx::query_as(&sql).bind(registration_id).bind(attempt_id).fetch_optional(&mut *c).await?
    });
    Ok(row.map(Attempt::from))
}

pub async fn backlog(db: Db<'_>, registration_id: &str) -> Result<Backlog> {
    let (pending, next_attempt_at): (i64, Option<i64>) = on_db!(db, c => {
        sqlx::query_as(
            "SELECT COUNT(*), MIN(next_attempt_at) FROM deliveries WHERE registration_id = $1 AND state = 'pending'",
        )
        .bind(registration_id)
        .fetch_one(&mut *c)
        .await?
    });
    Ok(Backlog {
        pending,
        next_attempt_at,
    })
}

pub async fn state(db: Db<'_>, registration_id: &str, position: i64) -> Result<Option<(DeliveryState, i64)>> {
    let row: Option<(String, i64)> = on_db!(db, c => {
        sqlx::query_as("SELECT state, attempts FROM deliveries WHERE registration_id = $1 AND event_position = $2")
            .bind(registration_id)
            .bind(position)
            .fetch_optional(&mut *c)
            .await?
    });
    row.map(|(s, n)| Ok((DeliveryState::parse(&s)?, n))).transpose()
}
