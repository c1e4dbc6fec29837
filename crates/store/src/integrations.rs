//! Integrations and their credentials (client secrets, certificates) and subscriptions on both
//! backends. Deleting an integration removes its credentials and subscriptions by cascade.

use async_trait::async_trait;
use gatehouse_domain::{
    Timestamp,
    ids::ClientId,
    integration::{Integration, IntegrationStatus, IntegrationType, Owner, Platform, StoredCertificate, StoredSecret},
    service::{ServiceCode, Subscription},
    token::keys::SigningAlg,
};

use crate::{
    AsDb, IntegrationStore, StoreError,
    backend::on_db,
    rows::{from_json_list, parse_opt, to_json_list},
    traits::Result,
};

#[derive(sqlx::FromRow)]
pub(crate) struct IntegrationRow {
    id: String,
    client_id: String,
    name: String,
    description: String,
    integration_type: String,
    platform: Option<String>,
    owner_account_id: Option<String>,
    org_id: Option<String>,
    created_by: Option<String>,
    redirect_uri: Option<String>,
    redirect_patterns: String,
    technical_account_id: Option<String>,
    technical_account_email: Option<String>,
    status: String,
    created_at: i64,
    updated_at: i64,
    id_token_signed_response_alg: Option<String>,
    may_introspect: bool,
    allowed_domains: String,
    workspace_id: String,
}

impl TryFrom<IntegrationRow> for Integration {
    type Error = StoreError;
    fn try_from(r: IntegrationRow) -> Result<Self> {
        let owner = match (r.owner_account_id, r.org_id) {
            (None, Some(org)) => Owner::Organization(org),
            (Some(account), None) => Owner::Account(account),
            _ => {
                return Err(StoreError::Corrupt(format!(
                    "integration {} must have exactly one owner (an account or an organization)",
                    r.id
                )));
            }
        };
        Ok(Integration {
            client_id: ClientId::parse(&r.client_id)?,
            name: r.name,
            description: r.description,
            integration_type: IntegrationType::parse(&r.integration_type)?,
            platform: parse_opt(r.platform.as_deref(), Platform::parse)?,
            owner,
            created_by: r.created_by,
            redirect_uri: r.redirect_uri,
            redirect_patterns: from_json_list(&r.redirect_patterns)?,
            technical_account_id: r.technical_account_id,
            technical_account_email: r.technical_account_email,
            id_token_signed_response_alg: parse_opt(r.id_token_signed_response_alg.as_deref(), SigningAlg::parse)?,
            may_introspect: r.may_introspect,
            allowed_domains: from_json_list(&r.allowed_domains)?,
            workspace_id: r.workspace_id,
            status: IntegrationStatus::parse(&r.status)?,
            created_at: r.created_at,
            updated_at: r.updated_at,
            id: r.id,
        })
    }
}

#[derive(sqlx::FromRow)]
struct SecretRow {
    id: String,
    integration_id: String,
    digest: String,
    hint: String,
    created_at: i64,
    revoked_at: Option<i64>,
    expires_at: Option<i64>,
    last_used_at: Option<i64>,
}

impl From<SecretRow> for StoredSecret {
    fn from(r: SecretRow) -> Self {
        StoredSecret {
            id: r.id,
            integration_id: r.integration_id,
            digest: r.digest,
            hint: r.hint,
            created_at: r.created_at,
            revoked_at: r.revoked_at,
            expires_at: r.expires_at,
            last_used_at: r.last_used_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct CertificateRow {
    id: String,
    integration_id: String,
    fingerprint: String,
    pem: String,
    not_before: i64,
    not_after: i64,
    created_at: i64,
    revoked_at: Option<i64>,
}

impl From<CertificateRow> for StoredCertificate {
    fn from(r: CertificateRow) -> Self {
        StoredCertificate {
            id: r.id,
            integration_id: r.integration_id,
            fingerprint: r.fingerprint,
            pem: r.pem,
            not_before: r.not_before,
            not_after: r.not_after,
            created_at: r.created_at,
            revoked_at: r.revoked_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct SubscriptionRow {
    integration_id: String,
    service_code: String,
    scopes: String,
    rate_per_second: Option<i64>,
    rate_burst: Option<i64>,
    daily_quota: Option<i64>,
    monthly_quota: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<SubscriptionRow> for Subscription {
    type Error = StoreError;
    fn try_from(r: SubscriptionRow) -> Result<Self> {
        Ok(Subscription {
            integration_id: r.integration_id,
            service_code: ServiceCode::parse(&r.service_code)?,
            scopes: from_json_list(&r.scopes)?,
            limits: crate::services::limits_of(r.rate_per_second, r.rate_burst, r.daily_quota, r.monthly_quota),
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

pub(crate) const INTEGRATION_COLUMNS: &str = "id, client_id, name, description, integration_type, platform, owner_account_id, \
                                   org_id, created_by, redirect_uri, redirect_patterns, technical_account_id, \
                                   technical_account_email, status, created_at, updated_at, \
                                   id_token_signed_response_alg, may_introspect, allowed_domains, workspace_id";
const SECRET_COLUMNS: &str = "id, integration_id, digest, hint, created_at, revoked_at, expires_at, last_used_at";
pub(crate) const CERTIFICATE_COLUMNS: &str =
    "id, integration_id, fingerprint, pem, not_before, not_after, created_at, revoked_at";
pub(crate) const SUBSCRIPTION_COLUMNS: &str = "integration_id, service_code, scopes, rate_per_second, rate_burst, daily_quota, monthly_quota, created_at, \
     updated_at";

#[async_trait]
impl<T: AsDb> IntegrationStore for T {
    async fn insert_integration(&mut self, i: &Integration) -> Result<()> {
        let (owner_account_id, org_id) = match &i.owner {
            Owner::Account(a) => (Some(a.as_str()), None),
            Owner::Organization(o) => (None, Some(o.as_str())),
        };
        let redirect_patterns = to_json_list(&i.redirect_patterns)?;
        let allowed_domains = to_json_list(&i.allowed_domains)?;
        on_db!(self.db(), c => {
            sqlx::query(
                "INSERT INTO integrations (id, client_id, name, description, integration_type, platform, \
                 owner_account_id, org_id, created_by, redirect_uri, redirect_patterns, technical_account_id, \
                 technical_account_email, status, created_at, updated_at, id_token_signed_response_alg, \
                 may_introspect, allowed_domains, workspace_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)",
            )
            .bind(&i.id)
            .bind(i.client_id.as_str())
            .bind(&i.name)
            .bind(&i.description)
            .bind(i.integration_type.as_str())
            .bind(i.platform.map(Platform::as_str))
            .bind(owner_account_id)
            .bind(org_id)
            .bind(&i.created_by)
            .bind(&i.redirect_uri)
            .bind(&redirect_patterns)
            .bind(&i.technical_account_id)
            .bind(&i.technical_account_email)
            .bind(i.status.as_str())
            .bind(i.created_at)
            .bind(i.updated_at)
            .bind(i.id_token_signed_response_alg.map(SigningAlg::as_str))
            .bind(i.may_introspect)
            .bind(&allowed_domains)
            .bind(&i.workspace_id)
            .execute(&mut *c)
            .await?
            .rows_affected()
        });
        Ok(())
    }

    async fn update_integration(&mut self, i: &Integration) -> Result<()> {
        let redirect_patterns = to_json_list(&i.redirect_patterns)?;
        let allowed_domains = to_json_list(&i.allowed_domains)?;
        on_db!(self.db(), c => {
            sqlx::query(
                "UPDATE integrations SET name = $2, description = $3, platform = $4, redirect_uri = $5, \
                 redirect_patterns = $6, technical_account_id = $7, technical_account_email = $8, status = $9, \
                 updated_at = $10, id_token_signed_response_alg = $11, may_introspect = $12, \
                 allowed_domains = $13 WHERE id = $1",
            )
            .bind(&i.id)
            .bind(&i.name)
            .bind(&i.description)
            .bind(i.platform.map(Platform::as_str))
            .bind(&i.redirect_uri)
            .bind(&redirect_patterns)
            .bind(&i.technical_account_id)
            .bind(&i.technical_account_email)
            .bind(i.status.as_str())
            .bind(i.updated_at)
            .bind(i.id_token_signed_response_alg.map(SigningAlg::as_str))
            .bind(i.may_introspect)
            .bind(&allowed_domains)
            .execute(&mut *c)
            .await?
            .rows_affected()
        });
        Ok(())
    }

    async fn set_integration_type(&mut self, i: &Integration) -> Result<()> {
        on_db!(self.db(), c => {
            sqlx::query("UPDATE integrations SET integration_type = $2, updated_at = $3 WHERE id = $1")
                .bind(&i.id)
                .bind(i.integration_type.as_str())
                .bind(i.updated_at)
                .execute(&mut *c)
                .await?
                .rows_affected()
        });
        Ok(())
    }

    async fn integration_by_id(&mut self, id: &str) -> Result<Option<Integration>> {
        let sql = format!("SELECT {INTEGRATION_COLUMNS} FROM integrations WHERE id = $1");
        let row: Option<IntegrationRow> =
            on_db!(self.db(), c => sqlx::query_as(&sql).bind(id).fetch_optional(&mut *c).await?);
        row.map(Integration::try_from).transpose()
    }

    async fn integration_by_client_id(&mut self, client_id: &ClientId) -> Result<Option<Integration>> {
        let sql = format!("SELECT {INTEGRATION_COLUMNS} FROM integrations WHERE client_id = $1");
        let row: Option<IntegrationRow> =
            on_db!(self.db(), c => sqlx::query_as(&sql).bind(client_id.as_str()).fetch_optional(&mut *c).await?);
        row.map(Integration::try_from).transpose()
    }

    async fn list_integrations(&mut self) -> Result<Vec<Integration>> {
        let sql = format!("SELECT {INTEGRATION_COLUMNS} FROM integrations");
        let rows: Vec<IntegrationRow> = on_db!(self.db(), c => sqlx::query_as(&sql).fetch_all(&mut *c).await?);
        let mut all = rows
            .into_iter()
            .map(Integration::try_from)
            .collect::<Result<Vec<_>>>()?;
        // Byte order for the ID tie-break on both backends, whatever PostgreSQL's collation.
        all.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(all)
    }

    async fn delete_integration(&mut self, id: &str) -> Result<bool> {
        let n = on_db!(self.db(), c => {
            sqlx::query("DELETE FROM integrations WHERE id = $1").bind(id).execute(&mut *c).await?.rows_affected()
        });
        Ok(n > 0)
    }

    async fn insert_secret(&mut self, s: &StoredSecret) -> Result<()> {
        on_db!(self.db(), c => {
            sqlx::query(
                "INSERT INTO client_secrets (id, integration_id, digest, hint, created_at, revoked_at, expires_at, \
                 last_used_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&s.id)
            .bind(&s.integration_id)
            .bind(&s.digest)
            .bind(&s.hint)
            .bind(s.created_at)
            .bind(s.revoked_at)
            .bind(s.expires_at)
            .bind(s.last_used_at)
            .execute(&mut *c)
            .await?
            .rows_affected()
        });
        Ok(())
    }

    async fn revoke_secret(&mut self, integration_id: &str, secret_id: &str, at: Timestamp) -> Result<bool> {
        let n = on_db!(self.db(), c => {
            sqlx::query(
                "UPDATE client_secrets SET revoked_at = $3 \
                 WHERE integration_id = $1 AND id = $2 AND revoked_at IS NULL",
            )
            .bind(integration_id)
            .bind(secret_id)
            .bind(at)
            .execute(&mut *c)
            .await?
            .rows_affected()
        });
        Ok(n > 0)
    }

    async fn secrets_of(&mut self, integration_id: &str) -> Result<Vec<StoredSecret>> {
        let sql = format!("SELECT {SECRET_COLUMNS} FROM client_secrets WHERE integration_id = $1");
        let rows: Vec<SecretRow> =
            on_db!(self.db(), c => sqlx::query_as(&sql).bind(integration_id).fetch_all(&mut *c).await?);
        let mut secrets: Vec<StoredSecret> = rows.into_iter().map(StoredSecret::from).collect();
        secrets.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(secrets)
    }

    async fn insert_certificate(&mut self, cert: &StoredCertificate) -> Result<()> {
        on_db!(self.db(), c => {
            sqlx::query(
                "INSERT INTO certificates (id, integration_id, fingerprint, pem, not_before, not_after, created_at, \
                 revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&cert.id)
            .bind(&cert.integration_id)
            .bind(&cert.fingerprint)
            .bind(&cert.pem)
            .bind(cert.not_before)
            .bind(cert.not_after)
            .bind(cert.created_at)
            .bind(cert.revoked_at)
            .execute(&mut *c)
            .await?
            .rows_affected()
        });
        Ok(())
    }

    async fn revoke_certificate(&mut self, integration_id: &str, cert_id: &str, at: Timestamp) -> Result<bool> {
        let n = on_db!(self.db(), c => {
            sqlx::query(
                "UPDATE certificates SET revoked_at = $3 WHERE integration_id = $1 AND id = $2 AND revoked_at IS NULL",
            )
            .bind(integration_id)
            .bind(cert_id)
            .bind(at)
            .execute(&mut *c)
            .await?
            .rows_affected()
        });
        Ok(n > 0)
    }

    async fn certificates_of(&mut self, integration_id: &str) -> Result<Vec<StoredCertificate>> {
        let sql = format!("SELECT {CERTIFICATE_COLUMNS} FROM certificates WHERE integration_id = $1");
        let rows: Vec<CertificateRow> =
            on_db!(self.db(), c => sqlx::query_as(&sql).bind(integration_id).fetch_all(&mut *c).await?);
        let mut certs: Vec<StoredCertificate> = rows.into_iter().map(StoredCertificate::from).collect();
        certs.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(certs)
    }

    async fn upsert_subscription(&mut self, s: &Subscription) -> Result<()> {
        let scopes = to_json_list(&s.scopes)?;
        let (per_second, burst, per_day, per_month) = crate::services::limit_columns(&s.limits);
        on_db!(self.db(), c => {
            sqlx::query(
                "INSERT INTO subscriptions (integration_id, service_code, scopes, created_at, updated_at, \
                 rate_per_second, rate_burst, daily_quota, monthly_quota) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (integration_id, service_code) \
                 DO UPDATE SET scopes = excluded.scopes, updated_at = excluded.updated_at, \
                 rate_per_second = excluded.rate_per_second, rate_burst = excluded.rate_burst, \
                 daily_quota = excluded.daily_quota, monthly_quota = excluded.monthly_quota",
            )
            .bind(&s.integration_id)
            .bind(s.service_code.as_str())
            .bind(&scopes)
            .bind(s.created_at)
            .bind(s.updated_at)
            .bind(per_second)
            .bind(burst)
            .bind(per_day)
            .bind(per_month)
            .execute(&mut *c)
            .await?
            .rows_affected()
        });
        Ok(())
    }

    async fn delete_subscription(&mut self, integration_id: &str, service: &ServiceCode) -> Result<bool> {
        let n = on_db!(self.db(), c => {
            sqlx::query("DELETE FROM subscriptions WHERE integration_id = $1 AND service_code = $2")
                .bind(integration_id)
                .bind(service.as_str())
                .execute(&mut *c)
                .await?
                .rows_affected()
        });
        Ok(n > 0)
    }

    async fn subscriptions_of(&mut self, integration_id: &str) -> Result<Vec<Subscription>> {
        let sql = format!("SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE integration_id = $1");
        let rows: Vec<SubscriptionRow> =
            on_db!(self.db(), c => sqlx::query_as(&sql).bind(integration_id).fetch_all(&mut *c).await?);
        let mut subs = rows
            .into_iter()
            .map(Subscription::try_from)
            .collect::<Result<Vec<_>>>()?;
        // Byte order on both backends, whatever PostgreSQL's collation.
        subs.sort_by(|a, b| a.service_code.cmp(&b.service_code));
        Ok(subs)
    }
}
