//! What the benches share: fresh databases per backend, timing, users and statistics.

#![allow(dead_code)]

pub mod million;

use anyhow::{Context, Result};
use skillcard_core::policy::{Actor, Role};
use skillcard_db::{NewUser, Store};
use sqlx::Connection;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Sqlite => "SQLite",
            Kind::Postgres => "PostgreSQL",
        }
    }
}

/// Fresh databases for one repetition, removed when done.
pub struct Fresh {
    pub kind: Kind,
    pub admin: String,
    pub names: Vec<String>,
}

impl Fresh {
    /// A URL of a new, empty database.
    pub async fn create(&mut self, label: &str, n: usize) -> Result<String> {
        match self.kind {
            Kind::Sqlite => {
                let path = std::env::temp_dir().join(format!(
                    "skillcard-bench-{}-{label}-{n}.db",
                    std::process::id()
                ));
                remove_sqlite(&path.to_string_lossy());
                let path = path.to_string_lossy().into_owned();
                self.names.push(path.clone());
                Ok(format!("sqlite:{path}"))
            }
            Kind::Postgres => {
                // The process id keeps two runs at once from dropping each other's databases.
                let name = format!("skillcard_bench_{label}_{n}_{}", std::process::id());
                let mut conn = sqlx::PgConnection::connect(&self.admin).await?;
                sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await?;
                sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await?;
                conn.close().await?;
                self.names.push(name.clone());
                let base = self
                    .admin
                    .rsplit_once('/')
                    .map(|(b, _)| b)
                    .context("admin URL has no database")?;
                Ok(format!("{base}/{name}"))
            }
        }
    }

    pub async fn drop_all(&mut self) -> Result<()> {
        let names = std::mem::take(&mut self.names);
        match self.kind {
            Kind::Sqlite => {
                for path in &names {
                    remove_sqlite(path);
                }
            }
            Kind::Postgres => {
                let mut conn = sqlx::PgConnection::connect(&self.admin).await?;
                for name in names {
                    sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut conn)
                        .await?;
                }
                conn.close().await?;
            }
        }
        Ok(())
    }
}

pub fn remove_sqlite(path: &str) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{path}{suffix}"));
    }
}

pub async fn timed<T, F: std::future::Future<Output = T>>(f: F) -> (T, Duration) {
    let start = Instant::now();
    let out = f.await;
    (out, start.elapsed())
}

pub async fn user(
    store: &Store,
    username: &str,
    role: Role,
    province: Option<i64>,
) -> Result<Actor> {
    let id = store
        .create_user(
            None,
            NewUser {
                username: username.into(),
                password: "bench-password".into(),
                full_name: format!("Bench {username}"),
                title: "bench".into(),
                role,
                province_id: province,
            },
        )
        .await?;
    Ok(store.actor(id).await?)
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// (median, min) of the samples.
pub fn stats(v: &[Duration]) -> Option<(Duration, Duration)> {
    let mut v = v.to_vec();
    v.sort();
    let min = *v.first()?;
    let median = if v.len() % 2 == 1 {
        v[v.len() / 2]
    } else {
        (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2
    };
    Some((median, min))
}

/// `cargo bench` passes `--bench` and any name filter: is the bench `name` selected?
pub fn selected(name: &str) -> bool {
    std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .all(|a| name.contains(a.as_str()))
}

/// `BENCH_REPS`, or `default`.
pub fn reps(default: usize) -> Result<usize> {
    match std::env::var("BENCH_REPS") {
        Ok(v) => v.parse().context("BENCH_REPS"),
        Err(_) => Ok(default),
    }
}

/// The PostgreSQL admin URL to create bench databases with (`SKILLCARD_BENCH_PG`, default the
/// local `test` database), or `None` (with the reason on stderr) when it is `off` or unreachable.
pub async fn pg_admin() -> Option<String> {
    let pg = std::env::var("SKILLCARD_BENCH_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    if pg == "off" {
        eprintln!("PostgreSQL skipped (SKILLCARD_BENCH_PG=off)");
        return None;
    }
    match sqlx::PgConnection::connect(&pg).await {
        Ok(c) => {
            let _ = c.close().await;
            Some(pg)
        }
        Err(e) => {
            eprintln!("PostgreSQL skipped: cannot connect to {pg}: {e}");
            None
        }
    }
}
