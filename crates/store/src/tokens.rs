//! Issued-token bookkeeping on both backends: the access-token deny-list, assertion replay
//! detection, refresh tokens with rotation and reuse detection, and single-use authorization
//! codes. Each check-and-change is one conditional statement (`UPDATE … WHERE … RETURNING`,
//! `INSERT … ON CONFLICT … WHERE`), so concurrent callers cannot both win.

use async_trait::async_trait;
use gatehouse_domain::{
    Timestamp,
    token::records::{
        AuthorizationCodeRecord, ClientGrantsRevoked, CodeConsumption, RefreshRotation, RefreshTokenRecord,
    },
};

use crate::{AsDb, TokenStore, backend::on_db, traits::Result};

#[derive(sqlx::FromRow)]
struct RefreshRow {
    digest: String,
    family_id: String,
    client_id: String,
    account_id: Option<String>,
    scope: String,
    auth_time: Option<i64>,
    amr: Option<String>,
    created_at: i64,
    expires_at: i64,
    rotated_at: Option<i64>,
    revoked_at: Option<i64>,
}

/// `amr` values are stored space-separated; no methods is NULL.
fn amr_to_db(amr: &[String]) -> Option<String> {
    (!amr.is_empty()).then(|| amr.join(" "))
}

fn amr_from_db(amr: Option<String>) -> Vec<String> {
    amr.map(|s| s.split(' ').filter(|v| !v.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default()
}

impl From<RefreshRow> for RefreshTokenRecord {
    fn from(r: RefreshRow) -> Self {
        RefreshTokenRecord {
            digest: r.digest,
            family_id: r.family_id,
            client_id: r.client_id,
            account_id: r.account_id,
            scope: r.scope,
            auth_time: r.auth_time,
            amr: amr_from_db(r.amr),
            created_at: r.created_at,
            expires_at: r.expires_at,
            rotated_at: r.rotated_at,
            revoked_at: r.revoked_at,
        }
    }
}

const REFRESH_COLUMNS: &str =
    "digest, family_id, client_id, account_id, scope, auth_time, amr, created_at, expires_at, rotated_at, revoked_at";

#[derive(sqlx::FromRow)]
struct CodeRow {
    code_digest: String,
    client_id: String,
    account_id: String,
    redirect_uri: String,
    scope: String,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    nonce: Option<String>,
    auth_time: i64,
    amr: Option<String>,
    created_at: i64,
    expires_at: i64,
    consumed_at: Option<i64>,
    issued_family_id: Option<String>,
    issued_jti: Option<String>,
    redirect_uri_sent: bool,
}

impl From<CodeRow> for AuthorizationCodeRecord {
    fn from(r: CodeRow) -> Self {
        AuthorizationCodeRecord {
            code_digest: r.code_digest,
            client_id: r.client_id,
            account_id: r.account_id,
            redirect_uri: r.redirect_uri,
            redirect_uri_sent: r.redirect_uri_sent,
            scope: r.scope,
            code_challenge: r.code_challenge,
            code_challenge_method: r.code_challenge_method,
            nonce: r.nonce,
            auth_time: r.auth_time,
            amr: amr_from_db(r.amr),
            created_at: r.created_at,
            expires_at: r.expires_at,
            consumed_at: r.consumed_at,
            issued_family_id: r.issued_family_id,
            issued_jti: r.issued_jti,
        }
    }
}

const CODE_COLUMNS: &str = "code_digest, client_id, account_id, redirect_uri, scope, code_challenge, \
                            code_challenge_method, nonce, auth_time, amr, created_at, expires_at, consumed_at, \
                            issued_family_id, issued_jti, redirect_uri_sent";

/// Runs a statement that only reports how many rows it changed.
macro_rules! exec {
    ($self:expr, $sql:expr $(, $bind:expr)* $(,)?) => {
        on_db!($self.db(), c => {
            sqlx::query($sql)$(.bind($bind))*.execute(&mut *c).await?.rows_affected()
        })
    };
}

#[async_trait]
impl<T: AsDb> TokenStore for T {
    async fn revoke_access_token(
        &mut self,
        jti: &str,
        client_id: &str,
        revoked_at: Timestamp,
        expires_at: Timestamp,
    ) -> Result<()> {
        exec!(
            self,
            "INSERT INTO revoked_tokens (jti, client_id, revoked_at, expires_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (jti) DO NOTHING",
            jti,
            client_id,
            revoked_at,
            expires_at,
        );
        self.mark_denied();
        Ok(())
    }

    async fn is_access_token_revoked(&mut self, jti: &str) -> Result<bool> {
        let n: i64 = on_db!(self.db(), c => {
            sqlx::query_scalar("SELECT COUNT(*) FROM revoked_tokens WHERE jti = $1")
                .bind(jti)
                .fetch_one(&mut *c)
                .await?
        });
        Ok(n > 0)
    }

    async fn revoked_access_tokens_since(
        &mut self,
        since: Timestamp,
        now: Timestamp,
    ) -> Result<Vec<(String, Timestamp)>> {
        let rows: Vec<(String, i64)> = on_db!(self.db(), c => {
            sqlx::query_as("SELECT jti, expires_at FROM revoked_tokens WHERE revoked_at >= $1 AND expires_at > $2")
                .bind(since)
                .bind(now)
                .fetch_all(&mut *c)
                .await?
        });
        Ok(rows)
    }

    async fn purge_revoked_access_tokens(&mut self, now: Timestamp) -> Result<u64> {
        Ok(exec!(self, "DELETE FROM revoked_tokens WHERE expires_at <= $1", now))
    }

    async fn record_assertion_jti(
        &mut self,
        key: &str,
        client_id: &str,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<bool> {
        // Inserted, or an expired entry replaced: 1 row. A live entry: the WHERE fails, 0 rows.
        let n = exec!(
            self,
            "INSERT INTO used_assertions (jti, client_id, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (jti) DO UPDATE SET client_id = excluded.client_id, expires_at = excluded.expires_at \
             WHERE used_assertions.expires_at <= $4",
            key,
            client_id,
            expires_at,
            now,
        );
        Ok(n == 1)
    }

    async fn purge_used_assertions(&mut self, now: Timestamp) -> Result<u64> {
        Ok(exec!(self, "DELETE FROM used_assertions WHERE expires_at <= $1", now))
    }

    async fn insert_refresh_token(&mut self, t: &RefreshTokenRecord) -> Result<()> {
        exec!(
            self,
            "INSERT INTO refresh_tokens (digest, family_id, client_id, account_id, scope, auth_time, created_at, \
             expires_at, rotated_at, revoked_at, amr) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            &t.digest,
            &t.family_id,
            &t.client_id,
            &t.account_id,
            &t.scope,
            t.auth_time,
            t.created_at,
            t.expires_at,
            t.rotated_at,
            t.revoked_at,
            amr_to_db(&t.amr),
        );
        Ok(())
    }

    async fn refresh_token_by_digest(&mut self, digest: &str) -> Result<Option<RefreshTokenRecord>> {
        let sql = format!("SELECT {REFRESH_COLUMNS} FROM refresh_tokens WHERE digest = $1");
        let row: Option<RefreshRow> =
            on_db!(self.db(), c => sqlx::query_as(&sql).bind(digest).fetch_optional(&mut *c).await?);
        Ok(row.map(Into::into))
    }

    async fn rotate_refresh_token(
        &mut self,
        digest: &str,
        client_id: &str,
        new_digest: &str,
        new_expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<RefreshRotation> {
        let sql = format!(
            "UPDATE refresh_tokens SET rotated_at = $3 \
             WHERE digest = $1 AND client_id = $2 AND rotated_at IS NULL AND revoked_at IS NULL AND expires_at > $3 \
             RETURNING {REFRESH_COLUMNS}"
        );
        let rotated: Option<RefreshRow> = on_db!(self.db(), c => {
            sqlx::query_as(&sql).bind(digest).bind(client_id).bind(now).fetch_optional(&mut *c).await?
        });
        if let Some(old) = rotated {
            let old = RefreshTokenRecord::from(old);
            let new = RefreshTokenRecord {
                digest: new_digest.to_owned(),
                created_at: now,
                expires_at: new_expires_at,
                rotated_at: None,
                revoked_at: None,
                ..old.clone()
            };
            self.insert_refresh_token(&new).await?;
            return Ok(RefreshRotation::Rotated(old));
        }
        match self.refresh_token_by_digest(digest).await? {
            Some(t) if t.client_id == client_id && t.rotated_at.is_some() => {
                self.revoke_refresh_family(&t.family_id, now).await?;
                Ok(RefreshRotation::Reused {
                    family_id: t.family_id,
                    client_id: t.client_id,
                })
            }
            _ => Ok(RefreshRotation::Invalid),
        }
    }

    async fn revoke_refresh_tokens_of(
        &mut self,
        account_id: &str,
        client_id: &str,
        now: Timestamp,
    ) -> Result<Vec<String>> {
        let families: Vec<String> = on_db!(self.db(), c => {
            sqlx::query_scalar(
                "UPDATE refresh_tokens SET revoked_at = $3 \
                 WHERE account_id = $1 AND client_id = $2 AND revoked_at IS NULL RETURNING family_id",
            )
            .bind(account_id)
            .bind(client_id)
            .bind(now)
            .fetch_all(&mut *c)
            .await?
        });
        let mut unique: Vec<String> = Vec::with_capacity(families.len());
        for f in families {
            if !unique.contains(&f) {
                unique.push(f);
            }
        }
        Ok(unique)
    }

    async fn revoke_all_refresh_tokens_of(&mut self, account_id: &str, now: Timestamp) -> Result<u64> {
        Ok(exec!(
            self,
            "UPDATE refresh_tokens SET revoked_at = $2 WHERE account_id = $1 AND revoked_at IS NULL",
            account_id,
            now,
        ))
    }

    async fn revoke_refresh_family(&mut self, family_id: &str, now: Timestamp) -> Result<u64> {
        Ok(exec!(
            self,
            "UPDATE refresh_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL",
            family_id,
            now,
        ))
    }

    async fn revoke_client_grants(&mut self, client_id: &str, now: Timestamp) -> Result<ClientGrantsRevoked> {
        let refresh_tokens = exec!(
            self,
            "UPDATE refresh_tokens SET revoked_at = $2 \
             WHERE client_id = $1 AND revoked_at IS NULL AND rotated_at IS NULL AND expires_at > $2",
            client_id,
            now,
        );
        let authorization_codes = exec!(
            self,
            "DELETE FROM authorization_codes WHERE client_id = $1 AND consumed_at IS NULL",
            client_id,
        );
        Ok(ClientGrantsRevoked {
            refresh_tokens,
            authorization_codes,
        })
    }

    async fn purge_refresh_tokens(&mut self, now: Timestamp) -> Result<u64> {
        Ok(exec!(self, "DELETE FROM refresh_tokens WHERE expires_at <= $1", now))
    }

    async fn insert_authorization_code(&mut self, a: &AuthorizationCodeRecord) -> Result<()> {
        exec!(
            self,
            "INSERT INTO authorization_codes (code_digest, client_id, account_id, redirect_uri, scope, code_challenge, \
             code_challenge_method, nonce, auth_time, created_at, expires_at, consumed_at, issued_family_id, \
             issued_jti, amr, redirect_uri_sent) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
            &a.code_digest,
            &a.client_id,
            &a.account_id,
            &a.redirect_uri,
            &a.scope,
            &a.code_challenge,
            &a.code_challenge_method,
            &a.nonce,
            a.auth_time,
            a.created_at,
            a.expires_at,
            a.consumed_at,
            &a.issued_family_id,
            &a.issued_jti,
            amr_to_db(&a.amr),
            a.redirect_uri_sent,
        );
        Ok(())
    }

    async fn consume_authorization_code(
        &mut self,
        code_digest: &str,
        now: Timestamp,
        issued_jti: &str,
        issued_family_id: Option<&str>,
    ) -> Result<CodeConsumption> {
        let sql = format!(
            "UPDATE authorization_codes SET consumed_at = $2, issued_jti = $3, issued_family_id = $4 \
             WHERE code_digest = $1 AND consumed_at IS NULL RETURNING {CODE_COLUMNS}"
        );
        let consumed: Option<CodeRow> = on_db!(self.db(), c => {
            sqlx::query_as(&sql)
                .bind(code_digest)
                .bind(now)
                .bind(issued_jti)
                .bind(issued_family_id)
                .fetch_optional(&mut *c)
                .await?
        });
        if let Some(row) = consumed {
            return Ok(CodeConsumption::Consumed(row.into()));
        }
        let sql = format!("SELECT {CODE_COLUMNS} FROM authorization_codes WHERE code_digest = $1");
        let row: Option<CodeRow> =
            on_db!(self.db(), c => sqlx::query_as(&sql).bind(code_digest).fetch_optional(&mut *c).await?);
        Ok(match row {
            Some(r) => CodeConsumption::AlreadyConsumed(r.into()),
            None => CodeConsumption::NotFound,
        })
    }

    async fn purge_authorization_codes(&mut self, now: Timestamp) -> Result<u64> {
        Ok(exec!(
            self,
            "DELETE FROM authorization_codes WHERE expires_at <= $1",
            now
        ))
    }
}
