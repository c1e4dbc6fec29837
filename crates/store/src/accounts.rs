//! Accounts on both backends.

use async_trait::async_trait;
use gatehouse_domain::account::{Account, AccountType, Email};

use crate::{AccountStore, AsDb, StoreError, backend::on_db, traits::Result};

#[derive(sqlx::FromRow)]
pub(crate) struct AccountRow {
    id: String,
    email: String,
    account_type: String,
    display_name: String,
    given_name: String,
    family_name: String,
    country: String,
    email_verified: bool,
    password_hash: Option<String>,
    operator: bool,
    disabled: bool,
    owner_org_id: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<AccountRow> for Account {
    type Error = StoreError;
    fn try_from(r: AccountRow) -> Result<Self> {
        Ok(Account {
            id: r.id,
            email: Email::parse(&r.email)?,
            account_type: AccountType::parse(&r.account_type)?,
            display_name: r.display_name,
            given_name: r.given_name,
            family_name: r.family_name,
            country: r.country,
            email_verified: r.email_verified,
            password_hash: r.password_hash,
            operator: r.operator,
            disabled: r.disabled,
            owner_org_id: r.owner_org_id,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

pub(crate) const COLUMNS: &str = "id, email, account_type, display_name, given_name, family_name, country, \
                       email_verified, password_hash, operator, disabled, owner_org_id, created_at, updated_at";

#[async_trait]
impl<T: AsDb> AccountStore for T {
    async fn insert_account(&mut self, a: &Account) -> Result<()> {
        on_db!(self.db(), c => {
            sqlx::query(
                "INSERT INTO accounts (id, email, account_type, display_name, given_name, family_name, country, \
                 email_verified, password_hash, operator, disabled, owner_org_id, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            )
            .bind(&a.id)
            .bind(a.email.as_str())
            .bind(a.account_type.as_str())
            .bind(&a.display_name)
            .bind(&a.given_name)
            .bind(&a.family_name)
            .bind(&a.country)
            .bind(a.email_verified)
            .bind(&a.password_hash)
            .bind(a.operator)
            .bind(a.disabled)
            .bind(&a.owner_org_id)
            .bind(a.created_at)
            .bind(a.updated_at)
            .execute(&mut *c)
            .await?
            .rows_affected()
        });
        Ok(())
    }

    async fn update_account(&mut self, a: &Account) -> Result<()> {
        on_db!(self.db(), c => {
            sqlx::query(
                "UPDATE accounts SET email = $2, account_type = $3, display_name = $4, given_name = $5, \
                 family_name = $6, country = $7, email_verified = $8, password_hash = $9, operator = $10, \
                 disabled = $11, updated_at = $12, owner_org_id = $13 WHERE id = $1",
            )
            .bind(&a.id)
            .bind(a.email.as_str())
            .bind(a.account_type.as_str())
            .bind(&a.display_name)
            .bind(&a.given_name)
            .bind(&a.family_name)
            .bind(&a.country)
            .bind(a.email_verified)
            .bind(&a.password_hash)
            .bind(a.operator)
            .bind(a.disabled)
            .bind(a.updated_at)
            .bind(&a.owner_org_id)
            .execute(&mut *c)
            .await?
            .rows_affected()
        });
        Ok(())
    }

    async fn account_by_id(&mut self, id: &str) -> Result<Option<Account>> {
        let sql = format!("SELECT {COLUMNS} FROM accounts WHERE id = $1");
        let row: Option<AccountRow> =
            on_db!(self.db(), c => sqlx::query_as(&sql).bind(id).fetch_optional(&mut *c).await?);
        row.map(Account::try_from).transpose()
    }

    async fn account_by_email(&mut self, email: &Email) -> Result<Option<Account>> {
        let sql = format!("SELECT {COLUMNS} FROM accounts WHERE email = $1");
        let row: Option<AccountRow> =
            on_db!(self.db(), c => sqlx::query_as(&sql).bind(email.as_str()).fetch_optional(&mut *c).await?);
        row.map(Account::try_from).transpose()
    }

    async fn list_accounts(&mut self) -> Result<Vec<Account>> {
        let sql = format!("SELECT {COLUMNS} FROM accounts");
        let rows: Vec<AccountRow> = on_db!(self.db(), c => sqlx::query_as(&sql).fetch_all(&mut *c).await?);
        // Sorted here, not by ORDER BY: PostgreSQL orders text by its collation, SQLite by bytes.
        let mut accounts = rows.into_iter().map(Account::try_from).collect::<Result<Vec<_>>>()?;
        accounts.sort_by(|a, b| a.email.as_str().cmp(b.email.as_str()));
        Ok(accounts)
    }

    async fn count_operators(&mut self) -> Result<i64> {
        let n: i64 = on_db!(self.db(), c => {
            sqlx::query_scalar("SELECT COUNT(*) FROM accounts WHERE operator AND NOT disabled").fetch_one(&mut *c).await?
        });
        Ok(n)
    }
}
