//! Registrations, their events of interest and their sealed webhook secrets.

use gatehouse_domain::{
    Timestamp,
    events::{
        code::EventCode,
        model::{DeliveryMethod, EventOfInterest, Registration, RegistrationStatus, SealedSecrets},
    },
};

use super::reborrow;
use crate::{
    backend::{Db, on_db},
    traits::Result,
};

#[derive(sqlx::FromRow)]
struct RegistrationRow {
    id: String,
    integration_id: String,
    name: String,
    description: String,
    delivery_method: String,
    webhook_url: Option<String>,
    status: String,
    unstable_since: Option<i64>,
    status_reason: Option<String>,
    created_at: i64,
    updated_at: i64,
}

const COLUMNS: &str = "id, integration_id, name, description, delivery_method, webhook_url, status, unstable_since, \
                       status_reason, created_at, updated_at";

fn from_row(r: RegistrationRow, events_of_interest: Vec<EventOfInterest>) -> Result<Registration> {
    Ok(Registration {
        delivery_method: DeliveryMethod::parse(&r.delivery_method)?,
        status: RegistrationStatus::parse(&r.status)?,
        id: r.id,
        integration_id: r.integration_id,
        name: r.name,
        description: r.description,
        webhook_url: r.webhook_url,
        unstable_since: r.unstable_since,
        status_reason: r.status_reason,
        events_of_interest,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

async fn interests(db: Db<'_>, registration_id: &str) -> Result<Vec<EventOfInterest>> {
    let rows: Vec<(String, String)> = on_db!(db, c => {
        sqlx::query_as("SELECT provider_id, event_code FROM registration_event_types WHERE registration_id = $1")
            .bind(registration_id)
            .fetch_all(&mut *c)
            .await?
    });
    let mut out = rows
        .into_iter()
        .map(|(provider_id, code)| {
            Ok(EventOfInterest {
                provider_id,
                event_code: EventCode::parse(&code)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    out.sort();
    Ok(out)
}

async fn write_interests(mut db: Db<'_>, r: &Registration) -> Result<()> {
    on_db!(&mut db, c => {
        sqlx::query("DELETE FROM registration_event_types WHERE registration_id = $1")
            .bind(&r.id)
            .execute(&mut **c)
            .await?;
        for e in &r.events_of_interest {
            sqlx::query(
                "INSERT INTO registration_event_types (registration_id, provider_id, event_code) VALUES ($1, $2, $3) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(&r.id)
            .bind(&e.provider_id)
            .bind(e.event_code.as_str())
            .execute(&mut **c)
            .await?;
        }
    });
    Ok(())
}

pub async fn lock_integration(mut db: Db<'_>, integration_id: &str) -> Result<bool> {
    let lock = match db {
        Db::Sqlite(_) => "",
        Db::Postgres(_) => " FOR UPDATE",
    };
    let sql = format!("SELECT id FROM integrations WHERE id = $1{lock}");
    let found: Option<String> = on_db!(&mut db, c => {
        sqlx::query_scalar(&sql).bind(integration_id).fetch_optional(&mut **c).await?
    });
    Ok(found.is_some())
}

pub async fn insert(mut db: Db<'_>, r: &Registration, s: &SealedSecrets) -> Result<()> {
    let sql = format!(
        "INSERT INTO event_registrations ({COLUMNS}, secret_enc, previous_secret_enc, previous_secret_expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
    );
    on_db!(&mut db, c => {
        sqlx::query(&sql)
            .bind(&r.id)
            .bind(&r.integration_id)
            .bind(&r.name)
            .bind(&r.description)
            .bind(r.delivery_method.as_str())
            .bind(&r.webhook_url)
            .bind(r.status.as_str())
            .bind(r.unstable_since)
            .bind(&r.status_reason)
            .bind(r.created_at)
            .bind(r.updated_at)
            .bind(&s.current)
            .bind(&s.previous)
            .bind(s.previous_expires_at)
            .execute(&mut **c)
            .await?;
    });
    write_interests(db, r).await
}

pub async fn update(mut db: Db<'_>, r: &Registration) -> Result<bool> {
    let n = on_db!(&mut db, c => {
        sqlx::query(
            "UPDATE event_registrations SET name = $2, description = $3, delivery_method = $4, webhook_url = $5, \
             status = $6, unstable_since = $7, status_reason = $8, updated_at = $9 WHERE id = $1",
        )
        .bind(&r.id)
        .bind(&r.name)
        .bind(&r.description)
        .bind(r.delivery_method.as_str())
        .bind(&r.webhook_url)
        .bind(r.status.as_str())
        .bind(r.unstable_since)
        .bind(&r.status_reason)
        .bind(r.updated_at)
        .execute(&mut **c)
        .await?
        .rows_affected()
    });
    if n == 0 {
        return Ok(false);
    }
    write_interests(reborrow(&mut db), r).await?;
    if !r.status.receives_pushes() {
        skip_pending(db, &r.id, r.updated_at).await?;
    }
    Ok(true)
}

/// Pending deliveries of a registration that stopped receiving pushes become `skipped`.
async fn skip_pending(db: Db<'_>, id: &str, now: Timestamp) -> Result<u64> {
    let n = on_db!(db, c => {
        sqlx::query(
            "UPDATE deliveries SET state = 'skipped', lease_until = NULL, updated_at = $2 \
             WHERE registration_id = $1 AND state = 'pending'",
        )
        .bind(id)
        .bind(now)
        .execute(&mut *c)
        .await?
        .rows_affected()
    });
    Ok(n)
}

pub async fn set_status(
    mut db: Db<'_>,
    id: &str,
    status: RegistrationStatus,
    reason: Option<&str>,
    unstable_since: Option<Timestamp>,
    now: Timestamp,
) -> Result<bool> {
    let n = on_db!(&mut db, c => {
        sqlx::query(
            "UPDATE event_registrations SET status = $2, status_reason = $3, unstable_since = $4, updated_at = $5 \
             WHERE id = $1",
        )
        .bind(id)
        .bind(status.as_str())
        .bind(reason)
        .bind(unstable_since)
        .bind(now)
        .execute(&mut **c)
        .await?
        .rows_affected()
    });
    if n > 0 && !status.receives_pushes() {
        skip_pending(db, id, now).await?;
    }
    Ok(n > 0)
}

pub async fn delete(db: Db<'_>, id: &str) -> Result<bool> {
    let n = on_db!(db, c => {
        sqlx::query("DELETE FROM event_registrations WHERE id = $1").bind(id).execute(&mut *c).await?.rows_affected()
    });
    Ok(n > 0)
}

pub async fn by_id(mut db: Db<'_>, id: &str) -> Result<Option<Registration>> {
    let sql = format!("SELECT {COLUMNS} FROM event_registrations WHERE id = $1");
    let row: Option<RegistrationRow> = on_db!(&mut db, c => {
        sqlx::query_as(&sql).bind(id).fetch_optional(&mut **c).await?
    });
    match row {
        Some(r) => {
            let i = interests(db, &r.id).await?;
            Ok(Some(from_row(r, i)?))
        }
        None => Ok(None),
    }
}

async fn with_interests(mut db: Db<'_>, rows: Vec<RegistrationRow>) -> Result<Vec<Registration>> {
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let i = interests(reborrow(&mut db), &r.id).await?;
        out.push(from_row(r, i)?);
    }
    Ok(out)
}

pub async fn of_integration(mut db: Db<'_>, integration_id: &str) -> Result<Vec<Registration>> {
    let sql = format!("SELECT {COLUMNS} FROM event_registrations WHERE integration_id = $1 ORDER BY created_at, id");
    let rows: Vec<RegistrationRow> = on_db!(&mut db, c => {
        sqlx::query_as(&sql).bind(integration_id).fetch_all(&mut **c).await?
    });
    with_interests(db, rows).await
}

pub async fn of_org(mut db: Db<'_>, org_id: &str) -> Result<Vec<Registration>> {
    let cols = COLUMNS
        .split(", ")
        .map(|c| format!("r.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT {cols} FROM event_registrations r JOIN integrations i ON i.id = r.integration_id \
         WHERE i.org_id = $1 ORDER BY r.created_at, r.id"
    );
    let rows: Vec<RegistrationRow> = on_db!(&mut db, c => {
        sqlx::query_as(&sql).bind(org_id).fetch_all(&mut **c).await?
    });
    with_interests(db, rows).await
}

pub async fn secrets(db: Db<'_>, id: &str) -> Result<Option<SealedSecrets>> {
    type Row = (Option<Vec<u8>>, Option<Vec<u8>>, Option<i64>);
    let row: Option<Row> = on_db!(db, c => {
        sqlx::query_as(
            "SELECT secret_enc, previous_secret_enc, previous_secret_expires_at FROM event_registrations WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *c)
        .await?
    });
    Ok(row.and_then(|(current, previous, previous_expires_at)| {
        Some(SealedSecrets {
            current: current?,
            previous,
            previous_expires_at,
        })
    }))
}

pub async fn set_secrets(db: Db<'_>, id: &str, s: &SealedSecrets, now: Timestamp) -> Result<bool> {
    let n = on_db!(db, c => {
        sqlx::query(
            "UPDATE event_registrations SET secret_enc = $2, previous_secret_enc = $3, previous_secret_expires_at = $4, \
             updated_at = $5 WHERE id = $1",
        )
        .bind(id)
        .bind(&s.current)
        .bind(&s.previous)
        .bind(s.previous_expires_at)
        .bind(now)
        .execute(&mut *c)
        .await?
        .rows_affected()
    });
    Ok(n > 0)
}
