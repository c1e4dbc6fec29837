//! Storage errors. Constraint violations are told apart so callers can answer 409, not 500.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique or primary-key constraint refused the row; `0` names the constraint or table.
    #[error("already exists: {0}")]
    Conflict(String),
    /// A row this change refers to does not exist (foreign key).
    #[error("refers to a missing row: {0}")]
    MissingReference(String),
    #[error("a write transaction must record an audit entry before it commits")]
    Unaudited,
    /// The database could not answer yet (for example a journal read waiting for publishers);
    /// asking again later may succeed.
    #[error("busy: {0}")]
    Busy(String),
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    #[error(
        "the database schema is newer than this Gatehouse (database at version {database}, this build knows up to {known}); upgrade Gatehouse"
    )]
    SchemaTooNew { database: i64, known: i64 },
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e {
            let what = db
                .constraint()
                .map(str::to_owned)
                .unwrap_or_else(|| db.message().to_owned());
            match db.kind() {
                sqlx::error::ErrorKind::UniqueViolation => return Self::Conflict(what),
                sqlx::error::ErrorKind::ForeignKeyViolation => return Self::MissingReference(what),
                _ => {}
            }
        }
        Self::Database(e)
    }
}

impl From<gatehouse_domain::DomainError> for StoreError {
    fn from(e: gatehouse_domain::DomainError) -> Self {
        Self::Corrupt(e.to_string())
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        Self::Corrupt(e.to_string())
    }
}
