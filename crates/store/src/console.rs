//! The developer console's queries on both backends: integrations by owner, subscriptions by
//! service, token cutoffs, certificate expiry notices and generated private keys awaiting download.

use async_trait::async_trait;
use gatehouse_domain::{
    Timestamp,
    console::cutoff::TokenCutoff,
    integration::{Integration, StoredCertificate},
    service::{ServiceCode, Subscription},
};

use crate::{
    AsDb, ConsoleStore, PendingKeyStore, PendingPrivateKey,
    backend::on_db,
    integrations::{
        CERTIFICATE_COLUMNS, CertificateRow, INTEGRATION_COLUMNS, IntegrationRow, SUBSCRIPTION_COLUMNS, SubscriptionRow,
    },
    traits::Result,
};

pub(crate) fn sorted(rows: Vec<IntegrationRow>) -> Result<Vec<Integration>> {
    let mut all = rows
        .into_iter()
        .map(Integration::try_from)
        .collect::<Result<Vec<_>>>()?;
    // Byte order for the ID tie-break on both backends, whatever PostgreSQL's collation.
    all.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    Ok(all)
}

#[derive(sqlx::FromRow)]
struct CutoffRow {
    client_id: String,
    scope: String,
    cutoff_at: i64,
}

#[async_trait]
impl<T: AsDb> ConsoleStore for T {
    async fn integrations_of_account(&mut self, account_id: &str) -> Result<Vec<Integration>> {
        let sql = format!("SELECT {INTEGRATION_COLUMNS} FROM integrations WHERE owner_account_id = $1");
        let rows: Vec<IntegrationRow> =
            on_db!(self.db(), c => sqlx::query_as(&sql).bind(account_id).fetch_all(&mut *c).await?);
        sorted(rows)
    }

    async fn integrations_of_org(&mut self, org_id: &str) -> Result<Vec<Integration>> {
        let sql = format!("SELECT {INTEGRATION_COLUMNS} FROM integrations WHERE org_id = $1");
        let rows: Vec<IntegrationRow> =
            on_db!(self.db(), c => sqlx::query_as(&sql).bind(org_id).fetch_all(&mut *c).await?);
        sorted(rows)
    }

    async fn subscriptions_of_service(&mut self, code: &ServiceCode) -> Result<Vec<Subscription>> {
        let sql = format!("SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE service_code = $1");
        let rows: Vec<SubscriptionRow> =
            on_db!(self.db(), c => sqlx::query_as(&sql).bind(code.as_str()).fetch_all(&mut *c).await?);
        let mut all = rows
            .into_iter()
            .map(Subscription::try_from)
            .collect::<Result<Vec<_>>>()?;
        all.sort_by(|a, b| a.integration_id.cmp(&b.integration_id));
        Ok(all)
    }

    async fn record_token_cutoff(&mut self, cutoff: &TokenCutoff) -> Result<()> {
        on_db!(self.db(), c => {
            sqlx::query(
                "INSERT INTO token_cutoffs (client_id, scope, cutoff_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (client_id, scope) DO UPDATE SET cutoff_at = CASE \
                 WHEN excluded.cutoff_at > token_cutoffs.cutoff_at THEN excluded.cutoff_at \
                 ELSE token_cutoffs.cutoff_at END",
            )
            .bind(&cutoff.client_id)
            .bind(cutoff.scope.as_deref().unwrap_or_default())
            .bind(cutoff.at)
            .execute(&mut *c)
            .await?
            .rows_affected()
        });
        Ok(())
    }

    async fn token_cutoffs_of(&mut self, client_id: &str) -> Result<Vec<TokenCutoff>> {
        let rows: Vec<CutoffRow> = on_db!(self.db(), c => {
            sqlx::query_as("SELECT client_id, scope, cutoff_at FROM token_cutoffs WHERE client_id = $1")
                .bind(client_id)
                .fetch_all(&mut *c)
                .await?
        });
        let mut all: Vec<TokenCutoff> = rows
            .into_iter()
            .map(|r| TokenCutoff {
                client_id: r.client_id,
                scope: (!r.scope.is_empty()).then_some(r.scope),
                at: r.cutoff_at,
            })
            .collect();
        all.sort_by(|a, b| a.scope.cmp(&b.scope));
        Ok(all)
    }

    async fn purge_token_cutoffs(&mut self, before: Timestamp) -> Result<u64> {
        Ok(on_db!(self.db(), c => {
            sqlx::query("DELETE FROM token_cutoffs WHERE cutoff_at < $1")
                .bind(before)
                .execute(&mut *c)
                .await?
                .rows_affected()
        }))
    }

    async fn certificates_expiring(&mut self, after: Timestamp, until: Timestamp) -> Result<Vec<StoredCertificate>> {
        let sql = format!(
            "SELECT {CERTIFICATE_COLUMNS} FROM certificates WHERE revoked_at IS NULL AND not_after > $1 \
             AND not_after <= $2"
        );
        let rows: Vec<CertificateRow> =
            on_db!(self.db(), c => sqlx::query_as(&sql).bind(after).bind(until).fetch_all(&mut *c).await?);
        let mut all: Vec<StoredCertificate> = rows.into_iter().map(StoredCertificate::from).collect();
        all.sort_by(|a, b| (a.not_after, &a.id).cmp(&(b.not_after, &b.id)));
        Ok(all)
    }

    async fn certificate_notices(&mut self, certificate_id: &str) -> Result<Vec<i64>> {
        let mut days: Vec<i64> = on_db!(self.db(), c => {
            sqlx::query_scalar("SELECT days_before FROM certificate_notices WHERE certificate_id = $1")
                .bind(certificate_id)
                .fetch_all(&mut *c)
                .await?
        });
        days.sort_unstable();
        Ok(days)
    }

    async fn record_certificate_notice(&mut self, certificate_id: &str, days: i64, at: Timestamp) -> Result<bool> {
        let n = on_db!(self.db(), c => {
            sqlx::query(
                "INSERT INTO certificate_notices (certificate_id, days_before, sent_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (certificate_id, days_before) DO NOTHING",
            )
            .bind(certificate_id)
            .bind(days)
            .bind(at)
            .execute(&mut *c)
            .await?
            .rows_affected()
        });
        Ok(n > 0)
    }
}

#[derive(sqlx::FromRow)]
struct PendingRow {
    digest: String,
    integration_id: String,
    certificate_id: String,
    sealed: Vec<u8>,
    created_at: i64,
    expires_at: i64,
}

#[async_trait]
impl<T: AsDb> PendingKeyStore for T {
    async fn insert_pending_key(&mut self, k: &PendingPrivateKey) -> Result<()> {
        on_db!(self.db(), c => {
            sqlx::query(
                "INSERT INTO pending_private_keys (digest, integration_id, certificate_id, sealed, created_at, \
                 expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&k.digest)
            .bind(&k.integration_id)
            .bind(&k.certificate_id)
            .bind(&k.sealed)
            .bind(k.created_at)
            .bind(k.expires_at)
            .execute(&mut *c)
            .await?
            .rows_affected()
        });
        Ok(())
    }

    async fn take_pending_key(
        &mut self,
        digest: &str,
        integration_id: &str,
        now: Timestamp,
    ) -> Result<Option<PendingPrivateKey>> {
        let row: Option<PendingRow> = on_db!(self.db(), c => {
            sqlx::query_as(
                "DELETE FROM pending_private_keys WHERE digest = $1 AND integration_id = $2 \
                 RETURNING digest, integration_id, certificate_id, sealed, created_at, expires_at",
            )
            .bind(digest)
            .bind(integration_id)
            .fetch_optional(&mut *c)
            .await?
        });
        Ok(row.filter(|r| r.expires_at > now).map(|r| PendingPrivateKey {
            digest: r.digest,
            integration_id: r.integration_id,
            certificate_id: r.certificate_id,
            sealed: r.sealed,
            created_at: r.created_at,
            expires_at: r.expires_at,
        }))
    }

    async fn pending_key_waits(&mut self, digest: &str, integration_id: &str, now: Timestamp) -> Result<bool> {
        let n: i64 = on_db!(self.db(), c => {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM pending_private_keys WHERE digest = $1 AND integration_id = $2 AND expires_at > $3",
            )
            .bind(digest)
            .bind(integration_id)
            .bind(now)
            .fetch_one(&mut *c)
            .await?
        });
        Ok(n > 0)
    }

    async fn purge_pending_keys(&mut self, now: Timestamp) -> Result<u64> {
        Ok(on_db!(self.db(), c => {
            sqlx::query("DELETE FROM pending_private_keys WHERE expires_at <= $1")
                .bind(now)
                .execute(&mut *c)
                .await?
                .rows_affected()
        }))
    }
}
