//! Passkeys and passkey ceremonies on both backends. A ceremony is taken with one
//! `DELETE … RETURNING` (single use, expiry and binding in the same statement); a use is recorded
//! with a compare-and-set on the stored passkey, so a signature counter value is accepted once.

use async_trait::async_trait;
use gatehouse_domain::Timestamp;

use crate::{AsDb, PasskeyCeremony, PasskeyStore, StoredPasskey, backend::on_db, traits::Result};

#[derive(sqlx::FromRow)]
struct PasskeyRow {
    id: String,
    account_id: String,
    credential_id: String,
    name: String,
    passkey: String,
    created_at: i64,
    last_used_at: Option<i64>,
}

impl From<PasskeyRow> for StoredPasskey {
    fn from(r: PasskeyRow) -> Self {
        StoredPasskey {
            id: r.id,
            account_id: r.account_id,
            credential_id: r.credential_id,
            name: r.name,
            passkey: r.passkey,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
        }
    }
}

#[derive(sqlx::FromRow)]
struct CeremonyRow {
    id_digest: String,
    kind: String,
    binding: String,
    state: String,
    created_at: i64,
    expires_at: i64,
}

impl From<CeremonyRow> for PasskeyCeremony {
    fn from(r: CeremonyRow) -> Self {
        PasskeyCeremony {
            id_digest: r.id_digest,
            kind: r.kind,
            binding: r.binding,
            state: r.state,
            created_at: r.created_at,
            expires_at: r.expires_at,
        }
    }
}

const COLUMNS: &str = "id, account_id, credential_id, name, passkey, created_at, last_used_at";
const CEREMONY_COLUMNS: &str = "id_digest, kind, binding, state, created_at, expires_at";

#[async_trait]
impl<T: AsDb> PasskeyStore for T {
    async fn insert_passkey(&mut self, p: &StoredPasskey) -> Result<()> {
        on_db!(self.db(), c => {
            sqlx::query(
                "INSERT INTO passkeys (id, account_id, credential_id, name, passkey, created_at, last_used_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&p.id)
            .bind(&p.account_id)
            .bind(&p.credential_id)
            .bind(&p.name)
            .bind(&p.passkey)
            .bind(p.created_at)
            .bind(p.last_used_at)
            .execute(&mut *c)
            .await?
            .rows_affected()
        });
        Ok(())
    }

    async fn passkeys_of(&mut self, account_id: &str) -> Result<Vec<StoredPasskey>> {
        let sql = format!("SELECT {COLUMNS} FROM passkeys WHERE account_id = $1 ORDER BY created_at, id");
        let rows: Vec<PasskeyRow> =
            on_db!(self.db(), c => sqlx::query_as(&sql).bind(account_id).fetch_all(&mut *c).await?);
        Ok(rows.into_iter().map(StoredPasskey::from).collect())
    }

    async fn passkey_by_credential_id(&mut self, credential_id: &str) -> Result<Option<StoredPasskey>> {
        let sql = format!("SELECT {COLUMNS} FROM passkeys WHERE credential_id = $1");
        let row: Option<PasskeyRow> =
            on_db!(self.db(), c => sqlx::query_as(&sql).bind(credential_id).fetch_optional(&mut *c).await?);
        Ok(row.map(StoredPasskey::from))
    }

    async fn rename_passkey(&mut self, account_id: &str, id: &str, name: &str) -> Result<bool> {
        let n = on_db!(self.db(), c => {
            sqlx::query("UPDATE passkeys SET name = $3 WHERE account_id = $1 AND id = $2")
                .bind(account_id)
                .bind(id)
                .bind(name)
                .execute(&mut *c)
                .await?
                .rows_affected()
        });
        Ok(n > 0)
    }

    async fn delete_passkey(&mut self, account_id: &str, id: &str) -> Result<bool> {
        let n = on_db!(self.db(), c => {
            sqlx::query("DELETE FROM passkeys WHERE account_id = $1 AND id = $2")
                .bind(account_id)
                .bind(id)
                .execute(&mut *c)
                .await?
                .rows_affected()
        });
        Ok(n > 0)
    }

    async fn record_passkey_use(&mut self, id: &str, previous: &str, updated: &str, now: Timestamp) -> Result<bool> {
        let n = on_db!(self.db(), c => {
            sqlx::query("UPDATE passkeys SET passkey = $3, last_used_at = $4 WHERE id = $1 AND passkey = $2")
                .bind(id)
                .bind(previous)
                .bind(updated)
                .bind(now)
                .execute(&mut *c)
                .await?
                .rows_affected()
        });
        Ok(n > 0)
    }

    async fn insert_passkey_ceremony(&mut self, x: &PasskeyCeremony) -> Result<()> {
        on_db!(self.db(), c => {
            sqlx::query(
                "INSERT INTO passkey_ceremonies (id_digest, kind, binding, state, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&x.id_digest)
            .bind(&x.kind)
            .bind(&x.binding)
            .bind(&x.state)
            .bind(x.created_at)
            .bind(x.expires_at)
            .execute(&mut *c)
            .await?
            .rows_affected()
        });
        Ok(())
    }

    async fn take_passkey_ceremony(
        &mut self,
        id_digest: &str,
        kind: &str,
        binding: &str,
        now: Timestamp,
    ) -> Result<Option<PasskeyCeremony>> {
        let sql = format!(
            "DELETE FROM passkey_ceremonies \
             WHERE id_digest = $1 AND kind = $2 AND binding = $3 AND expires_at > $4 \
             RETURNING {CEREMONY_COLUMNS}"
        );
        let row: Option<CeremonyRow> = on_db!(self.db(), c => {
            sqlx::query_as(&sql)
                .bind(id_digest)
                .bind(kind)
                .bind(binding)
                .bind(now)
                .fetch_optional(&mut *c)
                .await?
        });
        Ok(row.map(PasskeyCeremony::from))
    }

    async fn purge_passkey_ceremonies(&mut self, now: Timestamp) -> Result<u64> {
        let n = on_db!(self.db(), c => {
            sqlx::query("DELETE FROM passkey_ceremonies WHERE expires_at <= $1")
                .bind(now)
                .execute(&mut *c)
                .await?
                .rows_affected()
        });
        Ok(n)
    }
}
