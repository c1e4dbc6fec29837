//! The append-only audit log on both backends.

use async_trait::async_trait;
use gatehouse_domain::audit::{AuditEntry, AuditQuery, AuditRecord};

use crate::{AsDb, AuditStore, backend::on_db, traits::Result};

#[derive(sqlx::FromRow)]
struct AuditRow {
    id: i64,
    at: i64,
    actor: String,
    action: String,
    target: String,
    org_id: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
    details: String,
}

#[async_trait]
impl<T: AsDb> AuditStore for T {
    async fn append_audit(&mut self, e: &AuditEntry) -> Result<i64> {
        let details = serde_json::to_string(&e.details)?;
        let id: i64 = on_db!(self.db(), c => {
            sqlx::query_scalar(
                "INSERT INTO audit_log (at, actor, action, target, org_id, ip, user_agent, details) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            )
            .bind(e.at)
            .bind(&e.actor)
            .bind(&e.action)
            .bind(&e.target)
            .bind(&e.org_id)
            .bind(&e.ip)
            .bind(&e.user_agent)
            .bind(&details)
            .fetch_one(&mut *c)
            .await?
        });
        self.mark_audited();
        Ok(id)
    }

    async fn recent_audit(&mut self, org_id: Option<&str>, limit: i64) -> Result<Vec<AuditRecord>> {
        let rows: Vec<AuditRow> = on_db!(self.db(), c => {
            sqlx::query_as(
                "SELECT id, at, actor, action, target, org_id, ip, user_agent, details FROM audit_log \
                 WHERE ($1 IS NULL OR org_id = $1) ORDER BY id DESC LIMIT $2",
            )
            .bind(org_id)
            .bind(limit)
            .fetch_all(&mut *c)
            .await?
        });
        records(rows)
    }

    async fn search_audit(&mut self, q: &AuditQuery) -> Result<Vec<AuditRecord>> {
        // A family (`integration`) matches its actions (`integration.created`); LIKE's wildcards
        // in the filter are escaped so they match themselves.
        let family = q.action.as_ref().map(|a| {
            let escaped = a.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            format!("{escaped}.%")
        });
        let rows: Vec<AuditRow> = on_db!(self.db(), c => {
            sqlx::query_as(
                "SELECT id, at, actor, action, target, org_id, ip, user_agent, details FROM audit_log \
                 WHERE ($1 IS NULL OR actor = $1) AND ($2 IS NULL OR org_id = $2) AND ($3 IS NULL OR target = $3) \
                 AND ($4 IS NULL OR action = $4 OR action LIKE $5 ESCAPE '\\') \
                 AND ($6 IS NULL OR at >= $6) AND ($7 IS NULL OR at < $7) AND ($8 IS NULL OR id < $8) \
                 ORDER BY id DESC LIMIT $9",
            )
            .bind(&q.actor)
            .bind(&q.org_id)
            .bind(&q.target)
            .bind(&q.action)
            .bind(&family)
            .bind(q.since)
            .bind(q.until)
            .bind(q.before_id)
            .bind(q.limit)
            .fetch_all(&mut *c)
            .await?
        });
        records(rows)
    }
}

fn records(rows: Vec<AuditRow>) -> Result<Vec<AuditRecord>> {
    rows.into_iter()
        .map(|r| {
            Ok(AuditRecord {
                id: r.id,
                entry: AuditEntry {
                    at: r.at,
                    actor: r.actor,
                    action: r.action,
                    target: r.target,
                    org_id: r.org_id,
                    ip: r.ip,
                    user_agent: r.user_agent,
                    details: serde_json::from_str(&r.details)?,
                },
            })
        })
        .collect()
}
