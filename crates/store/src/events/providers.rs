//! Event providers and their event types.

use gatehouse_domain::{
    events::{
        code::EventCode,
        model::{EventType, Provider},
    },
    service::ServiceCode,
};

use crate::{
    backend::{Db, on_db},
    rows::parse_opt,
    traits::Result,
};

#[derive(sqlx::FromRow)]
struct ProviderRow {
    id: String,
    label: String,
    description: String,
    docs_url: Option<String>,
    service_code: Option<String>,
    owner_integration_id: Option<String>,
    owner_scope: Option<String>,
    instance_id: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<ProviderRow> for Provider {
    type Error = crate::StoreError;
    fn try_from(r: ProviderRow) -> Result<Self> {
        Ok(Provider {
            service_code: parse_opt(r.service_code.as_deref(), ServiceCode::parse)?,
            id: r.id,
            label: r.label,
            description: r.description,
            docs_url: r.docs_url,
            owner_integration_id: r.owner_integration_id,
            owner_scope: r.owner_scope,
            instance_id: r.instance_id,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

const PROVIDER_COLUMNS: &str = "id, label, description, docs_url, service_code, owner_integration_id, owner_scope, \
                                instance_id, created_at, updated_at";

pub async fn insert(db: Db<'_>, p: &Provider) -> Result<()> {
    let sql =
        format!("INSERT INTO event_providers ({PROVIDER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)");
    on_db!(db, c => {
        sqlx::query(&sql)
            .bind(&p.id)
            .bind(&p.label)
            .bind(&p.description)
            .bind(&p.docs_url)
            .bind(p.service_code.as_ref().map(ServiceCode::as_str))
            .bind(&p.owner_integration_id)
            .bind(&p.owner_scope)
            .bind(&p.instance_id)
            .bind(p.created_at)
            .bind(p.updated_at)
            .execute(&mut *c)
            .await?;
    });
    Ok(())
}

pub async fn update(db: Db<'_>, p: &Provider) -> Result<bool> {
    let n = on_db!(db, c => {
        sqlx::query("UPDATE event_providers SET label = $2, description = $3, docs_url = $4, updated_at = $5 WHERE id = $1")
            .bind(&p.id)
            .bind(&p.label)
            .bind(&p.description)
            .bind(&p.docs_url)
            .bind(p.updated_at)
            .execute(&mut *c)
            .await?
            .rows_affected()
    });
    Ok(n > 0)
}

pub async fn delete(db: Db<'_>, id: &str) -> Result<bool> {
    let n = on_db!(db, c => {
        sqlx::query("DELETE FROM event_providers WHERE id = $1").bind(id).execute(&mut *c).await?.rows_affected()
    });
    Ok(n > 0)
}

pub async fn by_id(db: Db<'_>, id: &str) -> Result<Option<Provider>> {
    let sql = format!("SELECT {PROVIDER_COLUMNS} FROM event_providers WHERE id = $1");
    let row: Option<ProviderRow> = on_db!(db, c => {
        sqlx::query_as(&sql).bind(id).fetch_optional(&mut *c).await?
    });
    row.map(Provider::try_from).transpose()
}

pub async fn list(db: Db<'_>, scope: Option<&str>) -> Result<Vec<Provider>> {
    let rows: Vec<ProviderRow> = match scope {
        Some(scope) => {
            let sql =
                format!("SELECT {PROVIDER_COLUMNS} FROM event_providers WHERE owner_scope IS NULL OR owner_scope = $1");
            on_db!(db, c => { sqlx::query_as(&sql).bind(scope).fetch_all(&mut *c).await? })
        }
        None => {
            let sql = format!("SELECT {PROVIDER_COLUMNS} FROM event_providers");
            on_db!(db, c => { sqlx::query_as(&sql).fetch_all(&mut *c).await? })
        }
    };
    // Sorted here, not by ORDER BY: PostgreSQL orders text by its collation, SQLite by bytes.
    let mut out = rows.into_iter().map(Provider::try_from).collect::<Result<Vec<_>>>()?;
    out.sort_by(|a, b| (a.label.as_bytes(), a.id.as_bytes()).cmp(&(b.label.as_bytes(), b.id.as_bytes())));
    Ok(out)
}

#[derive(sqlx::FromRow)]
struct EventTypeRow {
    provider_id: String,
    event_code: String,
    label: String,
    description: String,
    sample: Option<String>,
    created_at: i64,
}

impl TryFrom<EventTypeRow> for EventType {
    type Error = crate::StoreError;
    fn try_from(r: EventTypeRow) -> Result<Self> {
        Ok(EventType {
            event_code: EventCode::parse(&r.event_code)?,
            sample: r.sample.as_deref().map(crate::rows::from_json_doc).transpose()?,
            provider_id: r.provider_id,
            label: r.label,
            description: r.description,
            created_at: r.created_at,
        })
    }
}

const TYPE_COLUMNS: &str = "provider_id, event_code, label, description, sample, created_at";

fn sample_text(t: &EventType) -> Result<Option<String>> {
    t.sample.as_ref().map(crate::rows::to_json_doc).transpose()
}

pub async fn insert_type(db: Db<'_>, t: &EventType) -> Result<()> {
    let sample = sample_text(t)?;
    let sql = format!("INSERT INTO event_types ({TYPE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)");
    on_db!(db, c => {
        sqlx::query(&sql)
            .bind(&t.provider_id)
            .bind(t.event_code.as_str())
            .bind(&t.label)
            .bind(&t.description)
            .bind(&sample)
            .bind(t.created_at)
            .execute(&mut *c)
            .await?;
    });
    Ok(())
}

pub async fn update_type(db: Db<'_>, t: &EventType) -> Result<bool> {
    let sample = sample_text(t)?;
    let n = on_db!(db, c => {
        sqlx::query(
            "UPDATE event_types SET label = $3, description = $4, sample = $5 WHERE provider_id = $1 AND event_code = $2",
        )
        .bind(&t.provider_id)
        .bind(t.event_code.as_str())
        .bind(&t.label)
        .bind(&t.description)
        .bind(&sample)
        .execute(&mut *c)
        .await?
        .rows_affected()
    });
    Ok(n > 0)
}

pub async fn delete_type(db: Db<'_>, provider_id: &str, code: &str) -> Result<bool> {
    let n = on_db!(db, c => {
        sqlx::query("DELETE FROM registration_event_types WHERE provider_id = $1 AND event_code = $2")
            .bind(provider_id)
            .bind(code)
            .execute(&mut *c)
            .await?;
        sqlx::query("DELETE FROM event_types WHERE provider_id = $1 AND event_code = $2")
            .bind(provider_id)
            .bind(code)
            .execute(&mut *c)
            .await?
            .rows_affected()
    });
    Ok(n > 0)
}

pub async fn delete_types_of(db: Db<'_>, provider_id: &str) -> Result<u64> {
    let n = on_db!(db, c => {
        sqlx::query("DELETE FROM registration_event_types WHERE provider_id = $1")
            .bind(provider_id)
            .execute(&mut *c)
            .await?;
        sqlx::query("DELETE FROM event_types WHERE provider_id = $1")
            .bind(provider_id)
            .execute(&mut *c)
            .await?
            .rows_affected()
    });
    Ok(n)
}

pub async fn type_by_code(db: Db<'_>, provider_id: &str, code: &str) -> Result<Option<EventType>> {
    let sql = format!("SELECT {TYPE_COLUMNS} FROM event_types WHERE provider_id = $1 AND event_code = $2");
    let row: Option<EventTypeRow> = on_db!(db, c => {
        sqlx::query_as(&sql).bind(provider_id).bind(code).fetch_optional(&mut *c).await?
    });
    row.map(EventType::try_from).transpose()
}

pub async fn types_of(db: Db<'_>, provider_id: &str) -> Result<Vec<EventType>> {
    let sql = format!("SELECT {TYPE_COLUMNS} FROM event_types WHERE provider_id = $1");
    let rows: Vec<EventTypeRow> = on_db!(db, c => {
        sqlx::query_as(&sql).bind(provider_id).fetch_all(&mut *c).await?
    });
    let mut out = rows.into_iter().map(EventType::try_from).collect::<Result<Vec<_>>>()?;
    out.sort_by(|a, b| a.event_code.as_str().as_bytes().cmp(b.event_code.as_str().as_bytes()));
    Ok(out)
}
