//! Sign-in failure counts on both backends. `lock_throttle` makes sure the row exists and holds it
//! in one statement, so that PostgreSQL has a row to lock even for a key never seen before; SQLite's
//! write transactions (`BEGIN IMMEDIATE`) already take turns.

use async_trait::async_trait;
use gatehouse_domain::Timestamp;

use crate::{AsDb, ThrottleStore, backend::on_db, traits::Result};

#[async_trait]
impl<T: AsDb> ThrottleStore for T {
    async fn lock_throttle(&mut self, kind: &str, key: &str) -> Result<Option<(u32, Timestamp)>> {
        // One statement: a key never seen gets a zero row, and the conflict's no-op update takes the
        // row lock that PostgreSQL's concurrent writers then wait for.
        let (failures, last): (i64, i64) = on_db!(self.db(), c => {
            sqlx::query_as(
                "INSERT INTO signin_throttles (kind, key, failures, last_failure) VALUES ($1, $2, 0, 0) \
                 ON CONFLICT (kind, key) DO UPDATE SET failures = signin_throttles.failures \
                 RETURNING failures, last_failure",
            )
            .bind(kind)
            .bind(key)
            .fetch_one(&mut *c)
            .await?
        });
        Ok((failures > 0).then(|| (u32::try_from(failures).unwrap_or(u32::MAX), last)))
    }

    async fn throttle(&mut self, kind: &str, key: &str) -> Result<Option<(u32, Timestamp)>> {
        let row: Option<(i64, i64)> = on_db!(self.db(), c => {
            sqlx::query_as("SELECT failures, last_failure FROM signin_throttles WHERE kind = $1 AND key = $2")
                .bind(kind)
                .bind(key)
                .fetch_optional(&mut *c)
                .await?
        });
        Ok(row
            .filter(|(n, _)| *n > 0)
            .map(|(n, last)| (u32::try_from(n).unwrap_or(u32::MAX), last)))
    }

    async fn set_throttle(&mut self, kind: &str, key: &str, failures: u32, last_failure: Timestamp) -> Result<()> {
        on_db!(self.db(), c => {
            sqlx::query(
                "INSERT INTO signin_throttles (kind, key, failures, last_failure) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (kind, key) DO UPDATE SET failures = excluded.failures, last_failure = excluded.last_failure",
            )
            .bind(kind)
            .bind(key)
            .bind(i64::from(failures))
            .bind(last_failure)
            .execute(&mut *c)
            .await?;
        });
        Ok(())
    }

    async fn clear_throttle(&mut self, kind: &str, key: &str) -> Result<()> {
        on_db!(self.db(), c => {
            sqlx::query("DELETE FROM signin_throttles WHERE kind = $1 AND key = $2")
                .bind(kind)
                .bind(key)
                .execute(&mut *c)
                .await?;
        });
        Ok(())
    }

    async fn forgive_throttle(&mut self, kind: &str, key: &str) -> Result<()> {
        on_db!(self.db(), c => {
            sqlx::query("UPDATE signin_throttles SET failures = failures - 1 WHERE kind = $1 AND key = $2 AND failures > 0")
                .bind(kind)
                .bind(key)
                .execute(&mut *c)
                .await?;
        });
        Ok(())
    }

    async fn purge_throttles(&mut self, before: Timestamp) -> Result<u64> {
        let n = on_db!(self.db(), c => {
            sqlx::query("DELETE FROM signin_throttles WHERE last_failure < $1")
                .bind(before)
                .execute(&mut *c)
                .await?
                .rows_affected()
        });
        Ok(n)
    }
}
