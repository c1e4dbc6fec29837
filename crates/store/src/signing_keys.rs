//! Token-signing keys on both backends. The private half arrives and leaves sealed; this module
//! never sees it in the clear.

use async_trait::async_trait;
use gatehouse_domain::{
    Timestamp,
    token::{
        keys::{Jwk, SigningAlg},
        records::{KeySchedule, StoredSigningKey},
    },
};

use crate::{AsDb, SigningKeyStore, StoreError, backend::on_db, traits::Result};

#[derive(sqlx::FromRow)]
struct SigningKeyRow {
    kid: String,
    alg: String,
    private_key_enc: Vec<u8>,
    public_jwk: String,
    created_at: i64,
    activates_at: i64,
    retires_at: i64,
    expires_at: i64,
}

impl TryFrom<SigningKeyRow> for StoredSigningKey {
    type Error = StoreError;
    fn try_from(r: SigningKeyRow) -> Result<Self> {
        let public_jwk: Jwk = serde_json::from_str(&r.public_jwk)?;
        Ok(StoredSigningKey {
            alg: SigningAlg::parse(&r.alg)?,
            kid: r.kid,
            private_key_enc: r.private_key_enc,
            public_jwk,
            schedule: KeySchedule {
                created_at: r.created_at,
                activates_at: r.activates_at,
                retires_at: r.retires_at,
                expires_at: r.expires_at,
            },
        })
    }
}

#[async_trait]
impl<T: AsDb> SigningKeyStore for T {
    async fn insert_signing_key(&mut self, k: &StoredSigningKey) -> Result<bool> {
        let jwk = serde_json::to_string(&k.public_jwk)?;
        let s = &k.schedule;
        let n = on_db!(self.db(), c => {
            sqlx::query(
                "INSERT INTO signing_keys (kid, alg, private_key_enc, public_jwk, created_at, activates_at, retires_at, \
                 expires_at) SELECT $1, $2, $3, $4, $5, $6, $7, $8 \
                 WHERE NOT EXISTS (SELECT 1 FROM signing_keys WHERE alg = $2 AND activates_at = $6 AND expires_at > $5)",
            )
            .bind(&k.kid)
            .bind(k.alg.as_str())
            .bind(&k.private_key_enc)
            .bind(&jwk)
            .bind(s.created_at)
            .bind(s.activates_at)
            .bind(s.retires_at)
            .bind(s.expires_at)
            .execute(&mut *c)
            .await?
            .rows_affected()
        });
        Ok(n == 1)
    }

    async fn list_signing_keys(&mut self) -> Result<Vec<StoredSigningKey>> {
        let rows: Vec<SigningKeyRow> = on_db!(self.db(), c => {
            sqlx::query_as(
                "SELECT kid, alg, private_key_enc, public_jwk, created_at, activates_at, retires_at, expires_at \
                 FROM signing_keys ORDER BY activates_at, kid",
            )
            .fetch_all(&mut *c)
            .await?
        });
        rows.into_iter().map(StoredSigningKey::try_from).collect()
    }

    async fn mark_signing_key(&mut self, kid: &str, s: &KeySchedule) -> Result<bool> {
        let n = on_db!(self.db(), c => {
            sqlx::query(
                "UPDATE signing_keys SET created_at = $2, activates_at = $3, retires_at = $4, expires_at = $5 \
                 WHERE kid = $1",
            )
            .bind(kid)
            .bind(s.created_at)
            .bind(s.activates_at)
            .bind(s.retires_at)
            .bind(s.expires_at)
            .execute(&mut *c)
            .await?
            .rows_affected()
        });
        Ok(n == 1)
    }

    async fn purge_signing_keys(&mut self, now: Timestamp) -> Result<u64> {
        let n = on_db!(self.db(), c => {
            sqlx::query("DELETE FROM signing_keys WHERE expires_at <= $1")
                .bind(now)
                .execute(&mut *c)
                .await?
                .rows_affected()
        });
        Ok(n)
    }
}
