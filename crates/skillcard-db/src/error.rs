use skillcard_core::DomainError;

/// What an operation on the store can fail with: a rule of the domain (the caller's fault, with
/// a Persian message), or the database itself (ours).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error("database: {0}")]
    Database(sqlx::Error),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL scheme {0:?} (use sqlite: or postgres://)")]
    UnsupportedUrl(String),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error("password hashing: {0}")]
    Hash(String),
    #[error("internal: {0}")]
    Internal(String),
}

impl From<sqlx::Error> for StoreError {
    /// Text PostgreSQL cannot hold (a NUL, an invalid sequence) is the user's input, not a
    /// server fault. The core's text parsers refuse it first; this keeps any path they miss
    /// from answering 500 on one backend only.
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e {
            if matches!(db.code().as_deref(), Some("22021" | "22P05")) {
                return StoreError::Domain(DomainError::ForbiddenCharacter {
                    field: "input",
                    codepoint: 0,
                });
            }
        }
        StoreError::Database(e)
    }
}

impl StoreError {
    /// The domain error, if this is one the user can act on.
    pub fn domain(&self) -> Option<&DomainError> {
        match self {
            StoreError::Domain(d) => Some(d),
            _ => None,
        }
    }
}

/// Turns a unique-constraint violation into the domain's conflict, leaving other errors alone.
pub(crate) fn unique_to(e: sqlx::Error, conflict: DomainError) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Domain(conflict),
        _ => StoreError::Database(e),
    }
}
