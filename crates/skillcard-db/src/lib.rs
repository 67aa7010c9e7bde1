//! Storage and transactional operations of skillcard, over SQLite (the default: one file, no
//! server) or PostgreSQL (national deployments), chosen by the database URL's scheme.
//!
//! Every operation that changes state is one transaction that (1) takes the audit chain's head
//! row, which serialises writers on both backends, (2) reads what it needs, (3) asks
//! `skillcard-core` whether the move is allowed and what it does, (4) writes it and (5) appends
//! the audit record. A rejected request therefore changes nothing, and two nodes racing on the
//! same cards cannot both win: the second sees the first's result when it gets the head.
//!
//! SQL is written once for both backends (runtime-checked `sqlx::Any` queries; integers are
//! BIGINT and every aggregate is cast to BIGINT so both decode alike); the schema has one
//! migration directory per backend.

mod auth;
mod backup;
pub use backup::sqlite_integrity;
pub mod bulk;
pub mod cases;
mod check;
pub mod checkpoint;
pub mod counters;
mod custody;
pub mod delivery;
pub mod demo;
mod error;
pub mod exams;
mod gauges;
pub use gauges::Gauges;
pub mod guards;
pub mod issuance;
mod media;
mod moves;
pub mod notify;
pub mod plans;
pub mod printing;
mod queues;
pub mod search;
pub mod signing;
pub mod totp;
pub mod transparency;
mod tx;
pub mod verification;
pub mod views;

pub use auth::{
    AccountAdmin, NewToken, NewUser, OneTimePassword, SessionInfo, SessionView, SignIn, TokenAuth,
    TokenView, UserListing, SESSION_TTL_SECS,
};
pub use check::CheckReport;
pub use custody::{
    HandoverInput, InspectionInput, NewRequest, NewShipment, ReceiptInput, ReceiptNoticeInput,
};
pub use error::StoreError;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The database, shared by every request handler (cheap to clone).
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// Transactions committed through this `Store` (and its clones) that appended to the
    /// transparency log: lets readers that keep answers in memory see this process's own
    /// writes at once, without asking the database.
    log_writes: Arc<AtomicU64>,
    counters: Arc<counters::Counters>,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Store {
    /// Connects to `sqlite:…` or `postgres://…`. A SQLite file is created if missing.
    pub async fn connect(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl(
                url.split(':').next().unwrap_or("").to_string(),
            ));
        };
        let url = match backend {
            Backend::Sqlite if !url.contains("mode=") => {
                format!("{url}{}mode=rwc", if url.contains('?') { "&" } else { "?" })
            }
            _ => url.to_string(),
        };
        let options = AnyConnectOptions::from_str(&url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 8 } else { 16 })
            // No ping before each use: it doubled the round trips of every read. A connection
            // that broke is dropped when its query fails, and `/health/ready` tells the probe.
            .test_before_acquire(false)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                             PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 30000;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        Ok(Store {
            pool,
            backend,
            log_writes: Arc::default(),
            counters: Arc::default(),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Brings the schema up to date; safe to run on every start.
    pub async fn migrate(&self) -> Result<()> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&self.pool).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&self.pool).await?,
        }
        self.install_guards().await?;
        self.backfill_log().await.map(|_| ())
    }

    /// How many transactions that appended to the transparency log this process has committed
    /// through this store. It only grows; it does not see other processes' writes.
    pub fn local_log_writes(&self) -> u64 {
        self.log_writes.load(Ordering::Acquire)
    }

    /// What this process has counted (lockouts, notices sent), for the metrics endpoint.
    pub fn counters(&self) -> &counters::Counters {
        &self.counters
    }

    /// One round trip to the database, for readiness probes.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// The pool, for tests and benchmarks that need to look behind the application's back.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Ids of one page of `table` in the actor's scope (its `province_id` column), newest
    /// first, optionally in one `status`: `limit + 1` at most, for the list reads that then
    /// build each item and page them with `Page::from_rows`.
    async fn scoped_ids(
        &self,
        table: &str,
        actor: &skillcard_core::policy::Actor,
        status: Option<&str>,
        cursor: views::Cursor,
    ) -> Result<Vec<i64>> {
        let (sql, terms) = scoped_query(table, actor.scope().province_filter(), status, cursor);
        let ids: Vec<(i64,)> = terms
            .bind_page(sqlx::query_as(&sql), cursor)
            .fetch_all(&self.pool)
            .await?;
        Ok(ids.into_iter().map(|(id,)| id).collect())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// The ids of one page of `table` (see `Store::scoped_ids`), for the store and `plans`.
pub(crate) fn scoped_query(
    table: &str,
    province: Option<i64>,
    status: Option<&str>,
    cursor: views::Cursor,
) -> (String, views::Terms) {
    let terms = views::Terms::new()
        .int("province_id = ?", province)
        .text("status = ?", status);
    let sql = format!("SELECT id FROM {table} {}", terms.page_sql("id", cursor));
    (sql, terms)
}
