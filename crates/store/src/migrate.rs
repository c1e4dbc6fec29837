//! Embedded migrations for both backends. Startup against an older schema migrates it; against a
//! newer one (written by a later Gatehouse) it refuses with a clear message.

use sqlx::migrate::Migrator;

use crate::{AsDb, Store, StoreError, backend::on_db};

static SQLITE: Migrator = sqlx::migrate!("../../migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("../../migrations/postgres");

/// How the database's schema compares with this build's migrations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaStatus {
    Current,
    /// Migrations are pending (the database is older).
    Behind,
    /// The database has migrations this build does not know.
    Ahead {
        database: i64,
        known: i64,
    },
}

impl Store {
    fn migrator(&self) -> &'static Migrator {
        match self.backend() {
            crate::backend::Backend::Sqlite => &SQLITE,
            crate::backend::Backend::Postgres => &POSTGRES,
        }
    }

    /// The highest migration version this build ships.
    pub fn known_schema_version(&self) -> i64 {
        self.migrator().iter().map(|m| m.version).max().unwrap_or(0)
    }

    /// Compares the applied migrations with the embedded ones.
    pub async fn schema_status(&self) -> Result<SchemaStatus, StoreError> {
        let known = self.known_schema_version();
        let mut c = self.conn().await?;
        // The table does not exist before the first migration.
        let applied: Result<Vec<i64>, sqlx::Error> = on_db!(c.db(), c => {
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success").fetch_all(&mut *c).await
        });
        let applied = match applied {
            Ok(v) => v,
            Err(sqlx::Error::Database(_)) => Vec::new(),
            Err(e) => return Err(e.into()),
        };
        let database = applied.iter().copied().max().unwrap_or(0);
        if database > known {
            return Ok(SchemaStatus::Ahead { database, known });
        }
        let all_applied = self.migrator().iter().all(|m| applied.contains(&m.version));
        Ok(if all_applied {
            SchemaStatus::Current
        } else {
            SchemaStatus::Behind
        })
    }

    /// Applies pending migrations; refuses a schema newer than this build.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        if let SchemaStatus::Ahead { database, known } = self.schema_status().await? {
            return Err(StoreError::SchemaTooNew { database, known });
        }
        if let Some(p) = self.pool_sqlite() {
            SQLITE.run(p).await?;
        } else if let Some(p) = self.pool_postgres() {
            POSTGRES.run(p).await?;
        }
        Ok(())
    }
}
