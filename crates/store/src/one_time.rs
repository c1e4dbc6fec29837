//! One-time link tokens (bootstrap, email verification, invitations, password resets) on both
//! backends. Consuming one is a single conditional UPDATE, so a token is used at most once even
//! when two requests race for it.

use async_trait::async_trait;
use gatehouse_domain::Timestamp;

use crate::{
    AsDb, OneTimeToken, OneTimeTokenStore, StoreError,
    backend::on_db,
    rows::{from_json_doc, to_json_doc},
    traits::Result,
};

#[derive(sqlx::FromRow)]
struct OneTimeTokenRow {
    digest: String,
    purpose: String,
    account_id: Option<String>,
    org_id: Option<String>,
    payload: String,
    created_at: i64,
    expires_at: i64,
    used_at: Option<i64>,
}

impl TryFrom<OneTimeTokenRow> for OneTimeToken {
    type Error = StoreError;
    fn try_from(r: OneTimeTokenRow) -> Result<Self> {
        Ok(OneTimeToken {
            digest: r.digest,
            purpose: r.purpose,
            account_id: r.account_id,
            org_id: r.org_id,
            payload: from_json_doc(&r.payload)?,
            created_at: r.created_at,
            expires_at: r.expires_at,
            used_at: r.used_at,
        })
    }
}

const COLUMNS: &str = "digest, purpose, account_id, org_id, payload, created_at, expires_at, used_at";

#[async_trait]
impl<T: AsDb> OneTimeTokenStore for T {
    async fn insert_one_time_token(&mut self, t: &OneTimeToken) -> Result<()> {
        let payload = to_json_doc(&t.payload)?;
        on_db!(self.db(), c => {
            sqlx::query(
                "INSERT INTO one_time_tokens (digest, purpose, account_id, org_id, payload, created_at, expires_at, \
                 used_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&t.digest)
            .bind(&t.purpose)
            .bind(&t.account_id)
            .bind(&t.org_id)
            .bind(&payload)
            .bind(t.created_at)
            .bind(t.expires_at)
            .bind(t.used_at)
            .execute(&mut *c)
            .await?
            .rows_affected()
        });
        Ok(())
    }

    async fn consume_one_time_token(
        &mut self,
        digest: &str,
        purpose: &str,
        now: Timestamp,
    ) -> Result<Option<OneTimeToken>> {
        // One statement: the row lock (PostgreSQL) or the write lock (SQLite) makes the check and
        // the mark one step, so of two concurrent callers only one matches `used_at IS NULL`.
        let sql = format!(
            "UPDATE one_time_tokens SET used_at = $3 \
             WHERE digest = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3 RETURNING {COLUMNS}"
        );
        let row: Option<OneTimeTokenRow> = on_db!(self.db(), c => {
            sqlx::query_as(&sql).bind(digest).bind(purpose).bind(now).fetch_optional(&mut *c).await?
        });
        row.map(OneTimeToken::try_from).transpose()
    }

    async fn peek_one_time_token(
        &mut self,
        digest: &str,
        purpose: &str,
        now: Timestamp,
    ) -> Result<Option<OneTimeToken>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM one_time_tokens \
             WHERE digest = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3"
        );
        let row: Option<OneTimeTokenRow> = on_db!(self.db(), c => {
            sqlx::query_as(&sql).bind(digest).bind(purpose).bind(now).fetch_optional(&mut *c).await?
        });
        row.map(OneTimeToken::try_from).transpose()
    }

    async fn purge_one_time_tokens(&mut self, purpose: &str, now: Timestamp) -> Result<u64> {
        Ok(on_db!(self.db(), c => {
            sqlx::query(
                "DELETE FROM one_time_tokens WHERE purpose = $1 AND (used_at IS NOT NULL OR expires_at <= $2)",
            )
            .bind(purpose)
            .bind(now)
            .execute(&mut *c)
            .await?
            .rows_affected()
        }))
    }

    async fn revoke_one_time_tokens(&mut self, purpose: &str, now: Timestamp) -> Result<u64> {
        let n = on_db!(self.db(), c => {
            sqlx::query("UPDATE one_time_tokens SET used_at = $2 WHERE purpose = $1 AND used_at IS NULL")
                .bind(purpose)
                .bind(now)
                .execute(&mut *c)
                .await?
                .rows_affected()
        });
        Ok(n)
    }

    async fn revoke_account_tokens(&mut self, account_id: &str, purpose: &str, now: Timestamp) -> Result<u64> {
        let n = on_db!(self.db(), c => {
            sqlx::query(
                "UPDATE one_time_tokens SET used_at = $3 WHERE account_id = $1 AND purpose = $2 AND used_at IS NULL",
            )
            .bind(account_id)
            .bind(purpose)
            .bind(now)
            .execute(&mut *c)
            .await?
            .rows_affected()
        });
        Ok(n)
    }

    async fn org_tokens(&mut self, org_id: &str, purpose: &str, now: Timestamp) -> Result<Vec<OneTimeToken>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM one_time_tokens \
             WHERE org_id = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3 ORDER BY created_at, digest"
        );
        let rows: Vec<OneTimeTokenRow> = on_db!(self.db(), c => {
            sqlx::query_as(&sql).bind(org_id).bind(purpose).bind(now).fetch_all(&mut *c).await?
        });
        rows.into_iter().map(OneTimeToken::try_from).collect()
    }

    async fn revoke_org_token(&mut self, org_id: &str, digest: &str, purpose: &str, now: Timestamp) -> Result<bool> {
        let n = on_db!(self.db(), c => {
            sqlx::query(
                "UPDATE one_time_tokens SET used_at = $4 \
                 WHERE org_id = $1 AND digest = $2 AND purpose = $3 AND used_at IS NULL",
            )
            .bind(org_id)
            .bind(digest)
            .bind(purpose)
            .bind(now)
            .execute(&mut *c)
            .await?
            .rows_affected()
        });
        Ok(n > 0)
    }
}
