//! What the operator's status page reads of the database itself: the webhook backlog, the
//! registrations' health and the applied migrations, on both backends.

use async_trait::async_trait;
use gatehouse_domain::Timestamp;

use crate::{
    AsDb, OpsStore,
    backend::on_db,
    traits::{AppliedMigration, DeliveryBacklog, Result},
};

#[async_trait]
impl<T: AsDb> OpsStore for T {
    async fn dispatcher_backlog(&mut self, now: Timestamp, since: Timestamp) -> Result<DeliveryBacklog> {
        let (pending, due, oldest): (i64, i64, Option<i64>) = on_db!(self.db(), c => {
            sqlx::query_as(
                "SELECT COUNT(*), \
                 COALESCE(SUM(CASE WHEN next_attempt_at <= $1 THEN 1 ELSE 0 END), 0), \
                 MIN(CASE WHEN next_attempt_at <= $1 THEN next_attempt_at END) \
                 FROM deliveries WHERE state = 'pending'",
            )
            .bind(now)
            .fetch_one(&mut *c)
            .await?
        });
        let (succeeded, failed): (i64, i64) = on_db!(self.db(), c => {
            sqlx::query_as(
                "SELECT COALESCE(SUM(CASE WHEN success THEN 1 ELSE 0 END), 0), \
                 COALESCE(SUM(CASE WHEN success THEN 0 ELSE 1 END), 0) \
                 FROM delivery_attempts WHERE attempted_at >= $1",
            )
            .bind(since)
            .fetch_one(&mut *c)
            .await?
        });
        Ok(DeliveryBacklog {
            pending,
            due,
            oldest_due_at: oldest,
            succeeded,
            failed,
        })
    }

    async fn registrations_by_status(&mut self) -> Result<Vec<(String, i64)>> {
        Ok(on_db!(self.db(), c => {
            sqlx::query_as("SELECT status, COUNT(*) FROM event_registrations GROUP BY status ORDER BY status")
                .fetch_all(&mut *c)
                .await?
        }))
    }

    async fn applied_migrations(&mut self) -> Result<Vec<AppliedMigration>> {
        let rows: Vec<(i64, String)> = on_db!(self.db(), c => {
            sqlx::query_as("SELECT version, description FROM _sqlx_migrations WHERE success ORDER BY version")
                .fetch_all(&mut *c)
                .await?
        });
        Ok(rows
            .into_iter()
            .map(|(version, description)| AppliedMigration { version, description })
            .collect())
    }
}
