//! The services catalog on both backends. Allowed integration types and scopes are JSON lists.

use async_trait::async_trait;
use gatehouse_domain::service::{ActsFor, Service, ServiceCode};

use crate::{
    AsDb, ServiceStore, StoreError,
    backend::on_db,
    rows::{from_json_list, to_json_list},
    traits::Result,
};

#[derive(sqlx::FromRow)]
struct ServiceRow {
    code: String,
    name: String,
    description: String,
    allowed_types: String,
    scopes: String,
    acts_for: String,
    upstream_url: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<ServiceRow> for Service {
    type Error = StoreError;
    fn try_from(r: ServiceRow) -> Result<Self> {
        Ok(Service {
            code: ServiceCode::parse(&r.code)?,
            name: r.name,
            description: r.description,
            allowed_types: from_json_list(&r.allowed_types)?,
            scopes: from_json_list(&r.scopes)?,
            acts_for: ActsFor::parse(&r.acts_for)?,
            upstream_url: r.upstream_url,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

const COLUMNS: &str = "code, name, description, allowed_types, scopes, acts_for, upstream_url, created_at, updated_at";

#[async_trait]
impl<T: AsDb> ServiceStore for T {
    async fn upsert_service(&mut self, s: &Service) -> Result<()> {
        let allowed_types = to_json_list(&s.allowed_types)?;
        let scopes = to_json_list(&s.scopes)?;
        on_db!(self.db(), c => {
            sqlx::query(
                "INSERT INTO services (code, name, description, allowed_types, scopes, acts_for, upstream_url, \
                 created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 ON CONFLICT (code) DO UPDATE SET name = excluded.name, description = excluded.description, \
                 allowed_types = excluded.allowed_types, scopes = excluded.scopes, acts_for = excluded.acts_for, \
                 upstream_url = excluded.upstream_url, updated_at = excluded.updated_at",
            )
            .bind(s.code.as_str())
            .bind(&s.name)
            .bind(&s.description)
            .bind(&allowed_types)
            .bind(&scopes)
            .bind(s.acts_for.as_str())
            .bind(&s.upstream_url)
            .bind(s.created_at)
            .bind(s.updated_at)
            .execute(&mut *c)
            .await?
            .rows_affected()
        });
        Ok(())
    }

    async fn service_by_code(&mut self, code: &ServiceCode) -> Result<Option<Service>> {
        let sql = format!("SELECT {COLUMNS} FROM services WHERE code = $1");
        let row: Option<ServiceRow> =
            on_db!(self.db(), c => sqlx::query_as(&sql).bind(code.as_str()).fetch_optional(&mut *c).await?);
        row.map(Service::try_from).transpose()
    }

    async fn list_services(&mut self) -> Result<Vec<Service>> {
        let sql = format!("SELECT {COLUMNS} FROM services");
        let rows: Vec<ServiceRow> = on_db!(self.db(), c => sqlx::query_as(&sql).fetch_all(&mut *c).await?);
        let mut services = rows.into_iter().map(Service::try_from).collect::<Result<Vec<_>>>()?;
        // Byte order on both backends, whatever PostgreSQL's collation (see `list_orgs`).
        services.sort_by(|a, b| a.code.cmp(&b.code));
        Ok(services)
    }

    async fn delete_service(&mut self, code: &ServiceCode) -> Result<bool> {
        let n = on_db!(self.db(), c => {
            sqlx::query("DELETE FROM services WHERE code = $1")
                .bind(code.as_str())
                .execute(&mut *c)
                .await?
                .rows_affected()
        });
        Ok(n > 0)
    }
}
