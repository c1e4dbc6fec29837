//! Second factors on both backends. The single-use rules (a TOTP step accepted once, a recovery
//! code used once) are each one conditional UPDATE, so they hold when two requests race.

use async_trait::async_trait;
use gatehouse_domain::Timestamp;

use crate::{
    AsDb, MfaFactor, MfaKind, MfaStore, StoreError,
    backend::on_db,
    rows::{from_json_doc, to_json_doc},
    traits::Result,
};

#[derive(sqlx::FromRow)]
struct FactorRow {
    id: String,
    account_id: String,
    kind: String,
    label: String,
    secret: Option<Vec<u8>>,
    data: String,
    last_used_at: Option<i64>,
    created_at: i64,
}

impl TryFrom<FactorRow> for MfaFactor {
    type Error = StoreError;
    fn try_from(r: FactorRow) -> Result<Self> {
        Ok(MfaFactor {
            id: r.id,
            account_id: r.account_id,
            kind: MfaKind::parse(&r.kind)?,
            label: r.label,
            secret: r.secret,
            data: from_json_doc(&r.data)?,
            last_used_at: r.last_used_at,
            created_at: r.created_at,
        })
    }
}

const COLUMNS: &str = "id, account_id, kind, label, secret, data, last_used_at, created_at";

#[async_trait]
impl<T: AsDb> MfaStore for T {
    async fn insert_mfa_factor(&mut self, f: &MfaFactor) -> Result<()> {
        let data = to_json_doc(&f.data)?;
        on_db!(self.db(), c => {
            sqlx::query(
                "INSERT INTO mfa_factors (id, account_id, kind, label, secret, data, last_used_at, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&f.id)
            .bind(&f.account_id)
            .bind(f.kind.as_str())
            .bind(&f.label)
            .bind(&f.secret)
            .bind(&data)
            .bind(f.last_used_at)
            .bind(f.created_at)
            .execute(&mut *c)
            .await?
            .rows_affected()
        });
        Ok(())
    }

    async fn mfa_factors_of(&mut self, account_id: &str) -> Result<Vec<MfaFactor>> {
        let sql = format!("SELECT {COLUMNS} FROM mfa_factors WHERE account_id = $1 ORDER BY created_at, id");
        let rows: Vec<FactorRow> =
            on_db!(self.db(), c => sqlx::query_as(&sql).bind(account_id).fetch_all(&mut *c).await?);
        rows.into_iter().map(MfaFactor::try_from).collect()
    }

    async fn delete_mfa_factors(&mut self, account_id: &str, kind: Option<MfaKind>) -> Result<u64> {
        let kind = kind.map(MfaKind::as_str);
        let n = on_db!(self.db(), c => {
            sqlx::query("DELETE FROM mfa_factors WHERE account_id = $1 AND ($2 IS NULL OR kind = $2)")
                .bind(account_id)
                .bind(kind)
                .execute(&mut *c)
                .await?
                .rows_affected()
        });
        Ok(n)
    }

    async fn record_totp_step(&mut self, factor_id: &str, step_start: Timestamp) -> Result<bool> {
        let n = on_db!(self.db(), c => {
            sqlx::query(
                "UPDATE mfa_factors SET last_used_at = $2 \
                 WHERE id = $1 AND kind = 'totp' AND (last_used_at IS NULL OR last_used_at < $2)",
            )
            .bind(factor_id)
            .bind(step_start)
            .execute(&mut *c)
            .await?
            .rows_affected()
        });
        Ok(n > 0)
    }

    async fn use_recovery_code(&mut self, account_id: &str, digest: &str, now: Timestamp) -> Result<bool> {
        let n = on_db!(self.db(), c => {
            sqlx::query(
                "UPDATE mfa_factors SET last_used_at = $3 \
                 WHERE account_id = $1 AND kind = 'recovery_code' AND secret = $2 AND last_used_at IS NULL",
            )
            .bind(account_id)
            .bind(digest.as_bytes())
            .bind(now)
            .execute(&mut *c)
            .await?
            .rows_affected()
        });
        Ok(n > 0)
    }
}
