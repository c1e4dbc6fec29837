//! The services catalog on both backends. Allowed integration types and scopes are JSON lists.

use async_trait::async_trait;
use gatehouse_domain::{
    gateway::{GatewaySettings, IdentityForwarding, Limits},
    service::{ActsFor, Service, ServiceCode},
};

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
    gateway_identity: String,
    rate_per_second: Option<i64>,
    rate_burst: Option<i64>,
    daily_quota: Option<i64>,
    monthly_quota: Option<i64>,
    gateway_path: Option<String>,
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
            gateway: GatewaySettings {
                path: r.gateway_path,
                identity: IdentityForwarding::parse(&r.gateway_identity)?,
                limits: limits_of(r.rate_per_second, r.rate_burst, r.daily_quota, r.monthly_quota),
            },
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

/// Limits as stored: non-negative integers or NULL (out-of-range values read as no limit).
pub(crate) fn limits_of(
    per_second: Option<i64>,
    burst: Option<i64>,
    per_day: Option<i64>,
    per_month: Option<i64>,
) -> Limits {
    Limits {
        per_second: per_second.and_then(|v| u32::try_from(v).ok()),
        burst: burst.and_then(|v| u32::try_from(v).ok()),
        per_day: per_day.and_then(|v| u64::try_from(v).ok()),
        per_month: per_month.and_then(|v| u64::try_from(v).ok()),
    }
}

/// Limits as bound: `i64` on both backends (rate, burst, daily and monthly quota).
pub(crate) fn limit_columns(l: &Limits) -> (Option<i64>, Option<i64>, Option<i64>, Option<i64>) {
    (
        l.per_second.map(i64::from),
        l.burst.map(i64::from),
        l.per_day.and_then(|v| i64::try_from(v).ok()),
        l.per_month.and_then(|v| i64::try_from(v).ok()),
    )
}

const COLUMNS: &str = "code, name, description, allowed_types, scopes, acts_for, upstream_url, gateway_identity, \
                       rate_per_second, rate_burst, daily_quota, monthly_quota, gateway_path, created_at, updated_at";

#[async_trait]
impl<T: AsDb> ServiceStore for T {
    async fn upsert_service(&mut self, s: &Service) -> Result<()> {
        let allowed_types = to_json_list(&s.allowed_types)?;
        let scopes = to_json_list(&s.scopes)?;
        let (per_second, burst, per_day, per_month) = limit_columns(&s.gateway.limits);
        on_db!(self.db(), c => {
            sqlx::query(
                "INSERT INTO services (code, name, description, allowed_types, scopes, acts_for, upstream_url, \
                 created_at, updated_at, gateway_identity, rate_per_second, rate_burst, daily_quota, monthly_quota, \
                 gateway_path) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
                 ON CONFLICT (code) DO UPDATE SET name = excluded.name, description = excluded.description, \
                 allowed_types = excluded.allowed_types, scopes = excluded.scopes, acts_for = excluded.acts_for, \
                 upstream_url = excluded.upstream_url, updated_at = excluded.updated_at, \
                 gateway_identity = excluded.gateway_identity, rate_per_second = excluded.rate_per_second, \
                 rate_burst = excluded.rate_burst, daily_quota = excluded.daily_quota, \
                 monthly_quota = excluded.monthly_quota, gateway_path = excluded.gateway_path",
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
            .bind(s.gateway.identity.as_str())
            .bind(per_second)
            .bind(burst)
            .bind(per_day)
            .bind(per_month)
            .bind(&s.gateway.path)
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
