//! Organizations and their memberships on both backends.

use async_trait::async_trait;
use gatehouse_domain::{
    ids::OrgId,
    org::{Membership, Organization, Role},
};

use crate::{AsDb, OrgStore, StoreError, backend::on_db, traits::Result};

#[derive(sqlx::FromRow)]
struct OrgRow {
    id: String,
    name: String,
    require_mfa: bool,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<OrgRow> for Organization {
    type Error = StoreError;
    fn try_from(r: OrgRow) -> Result<Self> {
        Ok(Organization {
            id: OrgId::parse(&r.id)?,
            name: r.name,
            require_mfa: r.require_mfa,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct MembershipRow {
    org_id: String,
    account_id: String,
    role: String,
    created_at: i64,
}

impl TryFrom<MembershipRow> for Membership {
    type Error = StoreError;
    fn try_from(r: MembershipRow) -> Result<Self> {
        Ok(Membership {
            org_id: OrgId::parse(&r.org_id)?,
            account_id: r.account_id,
            role: Role::parse(&r.role)?,
            created_at: r.created_at,
        })
    }
}

const ORG_COLUMNS: &str = "id, name, require_mfa, created_at, updated_at";
const MEMBERSHIP_COLUMNS: &str = "org_id, account_id, role, created_at";

#[async_trait]
impl<T: AsDb> OrgStore for T {
    async fn insert_org(&mut self, o: &Organization) -> Result<()> {
        on_db!(self.db(), c => {
            sqlx::query(
                "INSERT INTO organizations (id, name, require_mfa, created_at, updated_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(o.id.as_str())
            .bind(&o.name)
            .bind(o.require_mfa)
            .bind(o.created_at)
            .bind(o.updated_at)
            .execute(&mut *c)
            .await?
            .rows_affected()
        });
        Ok(())
    }

    async fn update_org(&mut self, o: &Organization) -> Result<()> {
        on_db!(self.db(), c => {
            sqlx::query("UPDATE organizations SET name = $2, require_mfa = $3, updated_at = $4 WHERE id = $1")
                .bind(o.id.as_str())
                .bind(&o.name)
                .bind(o.require_mfa)
                .bind(o.updated_at)
                .execute(&mut *c)
                .await?
                .rows_affected()
        });
        Ok(())
    }

    async fn org_by_id(&mut self, id: &OrgId) -> Result<Option<Organization>> {
        let sql = format!("SELECT {ORG_COLUMNS} FROM organizations WHERE id = $1");
        let row: Option<OrgRow> =
            on_db!(self.db(), c => sqlx::query_as(&sql).bind(id.as_str()).fetch_optional(&mut *c).await?);
        row.map(Organization::try_from).transpose()
    }

    async fn list_orgs(&mut self) -> Result<Vec<Organization>> {
        let sql = format!("SELECT {ORG_COLUMNS} FROM organizations");
        let rows: Vec<OrgRow> = on_db!(self.db(), c => sqlx::query_as(&sql).fetch_all(&mut *c).await?);
        let mut orgs = rows
            .into_iter()
            .map(Organization::try_from)
            .collect::<Result<Vec<_>>>()?;
        // Sorted here rather than by ORDER BY: PostgreSQL sorts text by the database's collation,
        // SQLite by bytes; byte order is the one both backends can promise.
        orgs.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
        Ok(orgs)
    }

    async fn upsert_membership(&mut self, m: &Membership) -> Result<()> {
        on_db!(self.db(), c => {
            sqlx::query(
                "INSERT INTO memberships (org_id, account_id, role, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (org_id, account_id) DO UPDATE SET role = excluded.role",
            )
            .bind(m.org_id.as_str())
            .bind(&m.account_id)
            .bind(m.role.as_str())
            .bind(m.created_at)
            .execute(&mut *c)
            .await?
            .rows_affected()
        });
        Ok(())
    }

    async fn delete_membership(&mut self, org: &OrgId, account_id: &str) -> Result<bool> {
        let n = on_db!(self.db(), c => {
            sqlx::query("DELETE FROM memberships WHERE org_id = $1 AND account_id = $2")
                .bind(org.as_str())
                .bind(account_id)
                .execute(&mut *c)
                .await?
                .rows_affected()
        });
        Ok(n > 0)
    }

    async fn membership(&mut self, org: &OrgId, account_id: &str) -> Result<Option<Membership>> {
        let sql = format!("SELECT {MEMBERSHIP_COLUMNS} FROM memberships WHERE org_id = $1 AND account_id = $2");
        let row: Option<MembershipRow> = on_db!(self.db(), c => {
            sqlx::query_as(&sql).bind(org.as_str()).bind(account_id).fetch_optional(&mut *c).await?
        });
        row.map(Membership::try_from).transpose()
    }

    async fn memberships_of_org(&mut self, org: &OrgId) -> Result<Vec<Membership>> {
        let sql =
            format!("SELECT {MEMBERSHIP_COLUMNS} FROM memberships WHERE org_id = $1 ORDER BY created_at, account_id");
        let rows: Vec<MembershipRow> =
            on_db!(self.db(), c => sqlx::query_as(&sql).bind(org.as_str()).fetch_all(&mut *c).await?);
        rows.into_iter().map(Membership::try_from).collect()
    }

    async fn memberships_of_account(&mut self, account_id: &str) -> Result<Vec<Membership>> {
        let sql =
            format!("SELECT {MEMBERSHIP_COLUMNS} FROM memberships WHERE account_id = $1 ORDER BY created_at, org_id");
        let rows: Vec<MembershipRow> =
            on_db!(self.db(), c => sqlx::query_as(&sql).bind(account_id).fetch_all(&mut *c).await?);
        rows.into_iter().map(Membership::try_from).collect()
    }
}
