//! The store's part of backups: SQLite's consistent online copy, and what a restore target
//! must look like. Running `pg_dump`/`pg_restore` for PostgreSQL, and checking every copy, is
//! the binary's (`src/backup.rs`).

use crate::{Backend, Result, Store, StoreError};
use sqlx::Connection;
use std::path::Path;

/// SQLite's own page-level check of the database file at `path`, on one connection that fails
/// at once (a pool would retry a damaged file until it timed out).
pub async fn sqlite_integrity(path: &Path) -> Result<()> {
    sqlx::any::install_default_drivers();
    let url = format!("sqlite:{}?mode=ro", path.display());
    let mut conn = sqlx::AnyConnection::connect(&url).await?;
    let rows: Vec<(String,)> = sqlx::query_as("PRAGMA integrity_check")
        .fetch_all(&mut conn)
        .await?;
    conn.close().await?;
    match rows.as_slice() {
        [(ok,)] if ok == "ok" => Ok(()),
        _ => Err(StoreError::Corrupt(format!(
            "integrity_check: {}",
            rows.iter()
                .map(|r| r.0.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        ))),
    }
}

impl Store {
    /// Writes a consistent copy of a SQLite database to `out` while writers go on: `VACUUM
    /// INTO` reads one snapshot (WAL mode lets the server keep writing meanwhile) and writes a
    /// compact database file. Refuses an existing `out`, and PostgreSQL (use `pg_dump`).
    pub async fn sqlite_snapshot(&self, out: &Path) -> Result<()> {
        if self.backend != Backend::Sqlite {
            return Err(StoreError::Internal(
                "an online file copy is for SQLite; PostgreSQL is backed up with pg_dump".into(),
            ));
        }
        if out.exists() {
            return Err(StoreError::Internal(format!(
                "{} already exists; a backup never overwrites a file",
                out.display()
            )));
        }
        let path = out
            .to_str()
            .ok_or_else(|| StoreError::Internal("the backup path is not valid UTF-8".into()))?;
        sqlx::query("VACUUM INTO $1")
            .bind(path)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The tables of the database (those of the schema in use on PostgreSQL): a restore goes
    /// only into a database that has none.
    pub async fn table_count(&self) -> Result<i64> {
        let sql = match self.backend {
            Backend::Sqlite => {
                "SELECT CAST(COUNT(*) AS BIGINT) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            }
            Backend::Postgres => {
                "SELECT CAST(COUNT(*) AS BIGINT) FROM information_schema.tables WHERE table_schema = current_schema()"
            }
        };
        let (n,): (i64,) = sqlx::query_as(sql).fetch_one(&self.pool).await?;
        Ok(n)
    }

    /// The newest audit record's sequence number and hash, if any: what a copy reaches.
    pub async fn audit_tip(&self) -> Result<Option<(i64, String)>> {
        Ok(
            sqlx::query_as("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
                .fetch_optional(&self.pool)
                .await?,
        )
    }
}
