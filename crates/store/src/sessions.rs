//! Browser sessions on both backends. The key is the digest of the cookie value; the value itself
//! is never stored. Authentication methods are a JSON list of their short names.

use async_trait::async_trait;
use std::sync::LazyLock;

use gatehouse_domain::{
    Timestamp,
    account::Account,
    identity::session::{AuthMethod, Session},
};

use crate::{
    AsDb, SessionStore, StoreError,
    backend::on_db,
    rows::{from_json_list, to_json_list},
    traits::Result,
};

#[derive(sqlx::FromRow)]
struct SessionRow {
    id_digest: String,
    account_id: String,
    auth_methods: String,
    auth_time: i64,
    created_at: i64,
    last_seen_at: i64,
    expires_at: i64,
    ip: Option<String>,
    user_agent: Option<String>,
}

impl TryFrom<SessionRow> for Session {
    type Error = StoreError;
    fn try_from(r: SessionRow) -> Result<Self> {
        let methods: Vec<String> = from_json_list(&r.auth_methods)?;
        Ok(Session {
            id_digest: r.id_digest,
            account_id: r.account_id,
            auth_methods: methods
                .iter()
                .map(|m| AuthMethod::parse(m))
                .collect::<std::result::Result<_, _>>()?,
            auth_time: r.auth_time,
            created_at: r.created_at,
            last_seen_at: r.last_seen_at,
            expires_at: r.expires_at,
            ip: r.ip,
            user_agent: r.user_agent,
        })
    }
}

const COLUMNS: &str =
    "id_digest, account_id, auth_methods, auth_time, created_at, last_seen_at, expires_at, ip, user_agent";

/// An account's columns under their own names, then the session's under `session_` names (the two
/// tables share `created_at`).
#[derive(sqlx::FromRow)]
struct SignedInRow {
    #[sqlx(flatten)]
    account: crate::accounts::AccountRow,
    session_auth_methods: String,
    session_auth_time: i64,
    session_created_at: i64,
    session_last_seen_at: i64,
    session_expires_at: i64,
    session_ip: Option<String>,
    session_user_agent: Option<String>,
}

static SIGNED_IN_SQL: LazyLock<String> = LazyLock::new(|| {
    let account: Vec<String> = crate::accounts::COLUMNS
        .split(',')
        .map(|c| format!("a.{}", c.trim()))
        .collect();
    format!(
        "SELECT {}, s.auth_methods AS session_auth_methods, s.auth_time AS session_auth_time, \
         s.created_at AS session_created_at, s.last_seen_at AS session_last_seen_at, \
         s.expires_at AS session_expires_at, s.ip AS session_ip, s.user_agent AS session_user_agent \
         FROM sessions s JOIN accounts a ON a.id = s.account_id WHERE s.id_digest = $1",
        account.join(", ")
    )
});

#[async_trait]
impl<T: AsDb> SessionStore for T {
    async fn insert_session(&mut self, s: &Session) -> Result<()> {
        let methods: Vec<&str> = s.auth_methods.iter().map(|m| m.as_str()).collect();
        let methods = to_json_list(&methods)?;
        on_db!(self.db(), c => {
            sqlx::query(
                "INSERT INTO sessions (id_digest, account_id, auth_methods, auth_time, created_at, last_seen_at, \
                 expires_at, ip, user_agent) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(&s.id_digest)
            .bind(&s.account_id)
            .bind(&methods)
            .bind(s.auth_time)
            .bind(s.created_at)
            .bind(s.last_seen_at)
            .bind(s.expires_at)
            .bind(&s.ip)
            .bind(&s.user_agent)
            .execute(&mut *c)
            .await?
            .rows_affected()
        });
        Ok(())
    }

    async fn session_by_digest(&mut self, id_digest: &str) -> Result<Option<Session>> {
        let sql = format!("SELECT {COLUMNS} FROM sessions WHERE id_digest = $1");
        let row: Option<SessionRow> =
            on_db!(self.db(), c => sqlx::query_as(&sql).bind(id_digest).fetch_optional(&mut *c).await?);
        row.map(Session::try_from).transpose()
    }

    async fn session_with_account(&mut self, id_digest: &str) -> Result<Option<(Session, Account)>> {
        let row: Option<SignedInRow> = on_db!(self.db(), c => sqlx::query_as(SIGNED_IN_SQL.as_str()).bind(id_digest).fetch_optional(&mut *c).await?);
        let Some(r) = row else { return Ok(None) };
        let account = Account::try_from(r.account)?;
        let session = Session::try_from(SessionRow {
            id_digest: id_digest.to_owned(),
            account_id: account.id.clone(),
            auth_methods: r.session_auth_methods,
            auth_time: r.session_auth_time,
            created_at: r.session_created_at,
            last_seen_at: r.session_last_seen_at,
            expires_at: r.session_expires_at,
            ip: r.session_ip,
            user_agent: r.session_user_agent,
        })?;
        Ok(Some((session, account)))
    }

    async fn touch_session(&mut self, id_digest: &str, last_seen_at: Timestamp) -> Result<bool> {
        let n = on_db!(self.db(), c => {
            sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE id_digest = $1 AND last_seen_at < $2")
                .bind(id_digest)
                .bind(last_seen_at)
                .execute(&mut *c)
                .await?
                .rows_affected()
        });
        if n > 0 {
            return Ok(true);
        }
        Ok(self.session_by_digest(id_digest).await?.is_some())
    }

    async fn delete_session(&mut self, id_digest: &str) -> Result<bool> {
        let n = on_db!(self.db(), c => {
            sqlx::query("DELETE FROM sessions WHERE id_digest = $1")
                .bind(id_digest)
                .execute(&mut *c)
                .await?
                .rows_affected()
        });
        Ok(n > 0)
    }

    async fn delete_session_of_account(&mut self, account_id: &str, id_digest: &str) -> Result<bool> {
        let n = on_db!(self.db(), c => {
            sqlx::query("DELETE FROM sessions WHERE account_id = $1 AND id_digest = $2")
                .bind(account_id)
                .bind(id_digest)
                .execute(&mut *c)
                .await?
                .rows_affected()
        });
        Ok(n > 0)
    }

    async fn delete_sessions_of_account(&mut self, account_id: &str, keep: Option<&str>) -> Result<u64> {
        let n = on_db!(self.db(), c => {
            sqlx::query("DELETE FROM sessions WHERE account_id = $1 AND ($2 IS NULL OR id_digest <> $2)")
                .bind(account_id)
                .bind(keep)
                .execute(&mut *c)
                .await?
                .rows_affected()
        });
        Ok(n)
    }

    async fn sessions_of_account(&mut self, account_id: &str) -> Result<Vec<Session>> {
        let sql = format!("SELECT {COLUMNS} FROM sessions WHERE account_id = $1 ORDER BY last_seen_at DESC, id_digest");
        let rows: Vec<SessionRow> =
            on_db!(self.db(), c => sqlx::query_as(&sql).bind(account_id).fetch_all(&mut *c).await?);
        rows.into_iter().map(Session::try_from).collect()
    }

    async fn purge_sessions(&mut self, now: Timestamp, idle_timeout: i64) -> Result<u64> {
        let n = on_db!(self.db(), c => {
            sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2")
                .bind(now)
                .bind(now - idle_timeout)
                .execute(&mut *c)
                .await?
                .rows_affected()
        });
        Ok(n)
    }
}
