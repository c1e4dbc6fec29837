//! Consents on both backends: what a person approved for an integration. Scopes are a JSON list.

use async_trait::async_trait;
use gatehouse_domain::token::grant::Consent;

use crate::{
    AsDb, ConsentStore, StoreError,
    backend::on_db,
    rows::{from_json_list, to_json_list},
    traits::Result,
};

#[derive(sqlx::FromRow)]
struct ConsentRow {
    account_id: String,
    integration_id: String,
    scopes: String,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<ConsentRow> for Consent {
    type Error = StoreError;
    fn try_from(r: ConsentRow) -> Result<Self> {
        Ok(Consent {
            account_id: r.account_id,
            integration_id: r.integration_id,
            scopes: from_json_list(&r.scopes)?,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

const COLUMNS: &str = "account_id, integration_id, scopes, created_at, updated_at";

#[async_trait]
impl<T: AsDb> ConsentStore for T {
    async fn consent(&mut self, account_id: &str, integration_id: &str) -> Result<Option<Consent>> {
        let sql = format!("SELECT {COLUMNS} FROM consents WHERE account_id = $1 AND integration_id = $2");
        let row: Option<ConsentRow> = on_db!(self.db(), c => {
            sqlx::query_as(&sql).bind(account_id).bind(integration_id).fetch_optional(&mut *c).await?
        });
        row.map(Consent::try_from).transpose()
    }

    async fn upsert_consent(&mut self, consent: &Consent) -> Result<()> {
        let scopes = to_json_list(&consent.scopes)?;
        on_db!(self.db(), c => {
            sqlx::query(
                "INSERT INTO consents (account_id, integration_id, scopes, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (account_id, integration_id) \
                 DO UPDATE SET scopes = excluded.scopes, updated_at = excluded.updated_at",
            )
            .bind(&consent.account_id)
            .bind(&consent.integration_id)
            .bind(&scopes)
            .bind(consent.created_at)
            .bind(consent.updated_at)
            .execute(&mut *c)
            .await?;
        });
        Ok(())
    }

    async fn delete_consent(&mut self, account_id: &str, integration_id: &str) -> Result<bool> {
        let n = on_db!(self.db(), c => {
            sqlx::query("DELETE FROM consents WHERE account_id = $1 AND integration_id = $2")
                .bind(account_id)
                .bind(integration_id)
                .execute(&mut *c)
                .await?
                .rows_affected()
        });
        Ok(n == 1)
    }

    async fn consents_of_account(&mut self, account_id: &str) -> Result<Vec<Consent>> {
        let sql =
            format!("SELECT {COLUMNS} FROM consents WHERE account_id = $1 ORDER BY updated_at DESC, integration_id");
        let rows: Vec<ConsentRow> =
            on_db!(self.db(), c => sqlx::query_as(&sql).bind(account_id).fetch_all(&mut *c).await?);
        rows.into_iter().map(Consent::try_from).collect()
    }
}
