//! Organizations' email-domain claims and the outgoing-mail counters, on both backends.

use async_trait::async_trait;
use gatehouse_domain::{
    Timestamp,
    identity::email_domain::{DomainClaim, DomainName, VerifiedBy},
};

use crate::{AsDb, DomainStore, MailQuotaStore, StoreError, backend::on_db, traits::Result};

#[derive(sqlx::FromRow)]
struct ClaimRow {
    org_id: String,
    domain: String,
    token: String,
    created_at: i64,
    verified_at: Option<i64>,
    verified_by: Option<String>,
}

impl TryFrom<ClaimRow> for DomainClaim {
    type Error = StoreError;
    fn try_from(r: ClaimRow) -> Result<Self> {
        let verified = match (r.verified_at, r.verified_by) {
            (Some(at), Some(by)) => Some((at, VerifiedBy::parse(&by)?)),
            _ => None,
        };
        Ok(DomainClaim {
            org_id: r.org_id,
            domain: DomainName::parse(&r.domain)?,
            token: r.token,
            created_at: r.created_at,
            verified,
        })
    }
}

const COLUMNS: &str = "org_id, domain, token, created_at, verified_at, verified_by";

fn sorted(rows: Vec<ClaimRow>) -> Result<Vec<DomainClaim>> {
    let mut claims = rows
        .into_iter()
        .map(DomainClaim::try_from)
        .collect::<Result<Vec<_>>>()?;
    // Byte order, the same on both backends (PostgreSQL's ORDER BY follows the collation).
    claims.sort_by(|a, b| (&a.org_id, &a.domain).cmp(&(&b.org_id, &b.domain)));
    Ok(claims)
}

#[async_trait]
impl<T: AsDb> DomainStore for T {
    async fn insert_domain_claim(&mut self, c: &DomainClaim) -> Result<()> {
        let (at, by) = c
            .verified
            .map_or((None, None), |(at, by)| (Some(at), Some(by.as_str())));
        on_db!(self.db(), conn => {
            sqlx::query(
                "INSERT INTO org_domains (org_id, domain, token, created_at, verified_at, verified_by) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&c.org_id)
            .bind(c.domain.as_str())
            .bind(&c.token)
            .bind(c.created_at)
            .bind(at)
            .bind(by)
            .execute(&mut *conn)
            .await?
            .rows_affected()
        });
        Ok(())
    }

    async fn mark_domain_verified(&mut self, c: &DomainClaim) -> Result<bool> {
        let (at, by) = c
            .verified
            .map_or((None, None), |(at, by)| (Some(at), Some(by.as_str())));
        let n = on_db!(self.db(), conn => {
            sqlx::query("UPDATE org_domains SET verified_at = $3, verified_by = $4 WHERE org_id = $1 AND domain = $2")
                .bind(&c.org_id)
                .bind(c.domain.as_str())
                .bind(at)
                .bind(by)
                .execute(&mut *conn)
                .await?
                .rows_affected()
        });
        Ok(n > 0)
    }

    async fn delete_domain_claim(&mut self, org_id: &str, domain: &str) -> Result<bool> {
        let n = on_db!(self.db(), conn => {
            sqlx::query("DELETE FROM org_domains WHERE org_id = $1 AND domain = $2")
                .bind(org_id)
                .bind(domain)
                .execute(&mut *conn)
                .await?
                .rows_affected()
        });
        Ok(n > 0)
    }

    async fn domain_claim(&mut self, org_id: &str, domain: &str) -> Result<Option<DomainClaim>> {
        let sql = format!("SELECT {COLUMNS} FROM org_domains WHERE org_id = $1 AND domain = $2");
        let row: Option<ClaimRow> = on_db!(self.db(), conn => {
            sqlx::query_as(&sql).bind(org_id).bind(domain).fetch_optional(&mut *conn).await?
        });
        row.map(DomainClaim::try_from).transpose()
    }

    async fn domain_claims_of_org(&mut self, org_id: &str) -> Result<Vec<DomainClaim>> {
        let sql = format!("SELECT {COLUMNS} FROM org_domains WHERE org_id = $1");
        let rows: Vec<ClaimRow> =
            on_db!(self.db(), conn => sqlx::query_as(&sql).bind(org_id).fetch_all(&mut *conn).await?);
        sorted(rows)
    }

    async fn list_domain_claims(&mut self) -> Result<Vec<DomainClaim>> {
        let sql = format!("SELECT {COLUMNS} FROM org_domains");
        let rows: Vec<ClaimRow> = on_db!(self.db(), conn => sqlx::query_as(&sql).fetch_all(&mut *conn).await?);
        sorted(rows)
    }
}

#[async_trait]
impl<T: AsDb> MailQuotaStore for T {
    async fn count_mail(&mut self, key: &str, window_start: Timestamp) -> Result<i64> {
        let n: i64 = on_db!(self.db(), conn => {
            sqlx::query_scalar(
                "INSERT INTO mail_quota (key, window_start, sent) VALUES ($1, $2, 1) \
                 ON CONFLICT (key, window_start) DO UPDATE SET sent = mail_quota.sent + 1 RETURNING sent",
            )
            .bind(key)
            .bind(window_start)
            .fetch_one(&mut *conn)
            .await?
        });
        Ok(n)
    }

    async fn purge_mail_quota(&mut self, before: Timestamp) -> Result<u64> {
        let n = on_db!(self.db(), conn => {
            sqlx::query("DELETE FROM mail_quota WHERE window_start < $1")
                .bind(before)
                .execute(&mut *conn)
                .await?
                .rows_affected()
        });
        Ok(n)
    }
}
