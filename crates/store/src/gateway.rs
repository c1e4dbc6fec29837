//! The gateway's shared counters on both backends: usage, one row per integration, service, UTC
//! day and outcome, to which every node adds what it counted; and the per-second budgets the nodes
//! lease calls from, one row per integration, service and second.

use async_trait::async_trait;

use crate::{AsDb, GatewayStore, UsageCount, backend::on_db, traits::Result};

#[derive(sqlx::FromRow)]
struct UsageRow {
    integration_id: String,
    service_code: String,
    day: i64,
    outcome: String,
    requests: i64,
}

#[async_trait]
impl<T: AsDb> GatewayStore for T {
    async fn add_usage(&mut self, counts: &[UsageCount]) -> Result<()> {
        for u in counts {
            on_db!(self.db(), c => {
                sqlx::query(
                    "INSERT INTO gateway_usage (integration_id, service_code, day, outcome, requests) \
                     SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM integrations WHERE id = $1) \
                     AND EXISTS (SELECT 1 FROM services WHERE code = $2) \
                     ON CONFLICT (integration_id, service_code, day, outcome) \
                     DO UPDATE SET requests = gateway_usage.requests + excluded.requests",
                )
                .bind(&u.integration_id)
                .bind(&u.service_code)
                .bind(u.day)
                .bind(&u.outcome)
                .bind(u.requests)
                .execute(&mut *c)
                .await?
                .rows_affected()
            });
        }
        Ok(())
    }

    async fn usage_of(&mut self, integration_id: &str, since_day: i64) -> Result<Vec<UsageCount>> {
        let rows: Vec<UsageRow> = on_db!(self.db(), c => {
            sqlx::query_as(
                "SELECT integration_id, service_code, day, outcome, requests FROM gateway_usage \
                 WHERE integration_id = $1 AND day >= $2",
            )
            .bind(integration_id)
            .bind(since_day)
            .fetch_all(&mut *c)
            .await?
        });
        let mut out: Vec<UsageCount> = rows
            .into_iter()
            .map(|r| UsageCount {
                integration_id: r.integration_id,
                service_code: r.service_code,
                day: r.day,
                outcome: r.outcome,
                requests: r.requests,
            })
            .collect();
        // Byte order on both backends, whatever PostgreSQL's collation.
        out.sort_by(|a, b| (a.day, &a.service_code, &a.outcome).cmp(&(b.day, &b.service_code, &b.outcome)));
        Ok(out)
    }

    async fn allowed_between(
        &mut self,
        integration_id: &str,
        service_code: &str,
        first_day: i64,
        last_day: i64,
    ) -> Result<i64> {
        // SUM is NUMERIC on PostgreSQL: cast back to a BIGINT for both backends.
        let n: Option<i64> = on_db!(self.db(), c => {
            sqlx::query_scalar(
                "SELECT CAST(SUM(requests) AS BIGINT) FROM gateway_usage WHERE integration_id = $1 \
                 AND service_code = $2 AND day >= $3 AND day <= $4 AND outcome = 'allowed'",
            )
            .bind(integration_id)
            .bind(service_code)
            .bind(first_day)
            .bind(last_day)
            .fetch_one(&mut *c)
            .await?
        });
        Ok(n.unwrap_or(0))
    }

    async fn purge_usage(&mut self, before_day: i64) -> Result<u64> {
        let n = on_db!(self.db(), c => {
            sqlx::query("DELETE FROM gateway_usage WHERE day < $1")
                .bind(before_day)
                .execute(&mut *c)
                .await?
                .rows_affected()
        });
        Ok(n)
    }

    async fn take_rate_lease(
        &mut self,
        integration_id: &str,
        service_code: &str,
        second: i64,
        cap: u32,
        lease: u32,
    ) -> Result<u32> {
        let (cap, lease) = (i64::from(cap), i64::from(lease.max(1)));
        // SET expressions read the row as it was, on both backends: last_lease is what this
        // update adds, never more than what is left of the cap. The row lock (PostgreSQL) or the
        // single writer (SQLite) makes concurrent leases add up exactly.
        let granted: i64 = on_db!(self.db(), c => {
            sqlx::query_scalar(
                "INSERT INTO gateway_rate_windows (integration_id, service_code, second, taken, last_lease) \
                 VALUES ($1, $2, $3, $4, $4) \
                 ON CONFLICT (integration_id, service_code, second) DO UPDATE SET \
                 last_lease = CASE WHEN gateway_rate_windows.taken + $5 < $6 \
                 THEN $5 ELSE $6 - gateway_rate_windows.taken END, \
                 taken = CASE WHEN gateway_rate_windows.taken + $5 < $6 \
                 THEN gateway_rate_windows.taken + $5 ELSE $6 END \
                 RETURNING last_lease",
            )
            .bind(integration_id)
            .bind(service_code)
            .bind(second)
            .bind(lease.min(cap))
            .bind(lease)
            .bind(cap)
            .fetch_one(&mut *c)
            .await?
        });
        Ok(u32::try_from(granted.max(0)).unwrap_or(0))
    }

    async fn purge_rate_windows(&mut self, before_second: i64) -> Result<u64> {
        let n = on_db!(self.db(), c => {
            sqlx::query("DELETE FROM gateway_rate_windows WHERE second < $1")
                .bind(before_second)
                .execute(&mut *c)
                .await?
                .rows_affected()
        });
        Ok(n)
    }
}
