//! `skillcard backup` and `skillcard restore`: copies of a running database that prove
//! themselves. A copy is good only once `check` (the audit chain and every invariant) has passed
//! on it, so a backup of SQLite is checked as soon as it is written, and every restore ends with
//! a check of what it restored — a restore that fails its check leaves no database in place
//! (SQLite) or says loudly that the target holds an unverified copy (PostgreSQL).
//!
//! - SQLite: `VACUUM INTO` writes one consistent snapshot while the server goes on writing; a
//!   restore copies it beside the target, checks it there, then renames it into place.
//! - PostgreSQL: `pg_dump --format=custom` (one snapshot of the database, taken while it runs),
//!   verified readable with `pg_restore --list`; a restore goes only into an empty database, with
//!   `pg_restore --single-transaction --exit-on-error`, then the check. Point-in-time recovery
//!   (base backups and WAL archiving) is the database's own and is described in the README.

use anyhow::{bail, Context};
use skillcard_db::{CheckReport, Store};
use std::path::{Path, PathBuf};

const SQLITE_MAGIC: &[u8] = b"SQLite format 3\0";
const PG_DUMP_MAGIC: &[u8] = b"PGDMP";

/// Writes a backup of the database at `url` to `out` (never over an existing file).
pub async fn backup(url: &str, out: &Path) -> anyhow::Result<()> {
    if out.exists() {
        bail!(
            "{} already exists; a backup never overwrites a file",
            out.display()
        );
    }
    let store = Store::connect(url)
        .await
        .with_context(|| format!("connecting to {url}"))?;
    let tip = store.audit_tip().await?;
    match store.backend() {
        skillcard_db::Backend::Sqlite => {
            store
                .sqlite_snapshot(out)
                .await
                .with_context(|| format!("writing {}", out.display()))?;
            store.close().await;
            let report = check_copy(&format!("sqlite:{}", out.display())).await;
            if let Err(e) = &report {
                eprintln!("the copy at {} failed its check: {e:#}", out.display());
            }
            let report = report?;
            println!(
                "backup written: {} ({} bytes); check on the copy: ok ({} audit records, {} cards)",
                out.display(),
                std::fs::metadata(out)?.len(),
                report.audit_records,
                report.cards
            );
        }
        skillcard_db::Backend::Postgres => {
            store.close().await;
            run(
                "pg_dump",
                &[
                    "--format=custom",
                    "--no-owner",
                    &format!("--file={}", out.display()),
                    &format!("--dbname={url}"),
                ],
            )
            .await?;
            run("pg_restore", &["--list", &out.display().to_string()])
                .await
                .context("the dump does not read back")?;
            println!(
                "backup written: {} ({} bytes), from audit record {} on; prove it with \
                 `skillcard restore --from {} --to postgres://…/an_empty_database`",
                out.display(),
                std::fs::metadata(out)?.len(),
                tip.map(|(seq, _)| seq).unwrap_or(0),
                out.display()
            );
        }
    }
    Ok(())
}

/// Restores the backup `from` into the database at `to` (which must not exist or be empty),
/// then checks it.
pub async fn restore(from: &Path, to: &str) -> anyhow::Result<()> {
    let mut head = [0u8; 16];
    let n = {
        use std::io::Read;
        let mut f =
            std::fs::File::open(from).with_context(|| format!("opening {}", from.display()))?;
        f.read(&mut head)?
    };
    let head = &head[..n];
    if let Some(path) = to.strip_prefix("sqlite:") {
        if !head.starts_with(SQLITE_MAGIC) {
            bail!("{} is not a SQLite backup", from.display());
        }
        let target = PathBuf::from(
            path.trim_start_matches("//")
                .split('?')
                .next()
                .unwrap_or(""),
        );
        if target.exists() && std::fs::metadata(&target)?.len() > 0 {
            bail!(
                "{} already holds a database; restore into a new file",
                target.display()
            );
        }
        let staged = target.with_extension("restoring");
        std::fs::copy(from, &staged).with_context(|| format!("copying to {}", staged.display()))?;
        match check_copy(&format!("sqlite:{}", staged.display())).await {
            Ok(report) => {
                std::fs::rename(&staged, &target)?;
                println!(
                    "restored into {}; check: ok ({} audit records, {} cards)",
                    target.display(),
                    report.audit_records,
                    report.cards
                );
                Ok(())
            }
            Err(e) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", staged.display()));
                }
                Err(e.context(format!(
                    "the restored copy failed its check; nothing was put at {}",
                    target.display()
                )))
            }
        }
    } else {
        if !head.starts_with(PG_DUMP_MAGIC) {
            bail!(
                "{} is not a PostgreSQL backup (pg_dump --format=custom)",
                from.display()
            );
        }
        let target = Store::connect(to)
            .await
            .with_context(|| format!("connecting to {to}"))?;
        let tables = target.table_count().await?;
        target.close().await;
        if tables > 0 {
            bail!("the target database holds {tables} tables; restore into an empty database");
        }
        run(
            "pg_restore",
            &[
                "--no-owner",
                "--exit-on-error",
                "--single-transaction",
                &format!("--dbname={to}"),
                &from.display().to_string(),
            ],
        )
        .await?;
        let report = check_copy(to).await.context(
            "the restored database FAILED its check: it holds an unverified copy; drop it",
        )?;
        println!(
            "restored into {to}; check: ok ({} audit records, {} cards)",
            report.audit_records, report.cards
        );
        Ok(())
    }
}

/// Opens a copy, brings its schema up to date and checks it; an error names what failed.
async fn check_copy(url: &str) -> anyhow::Result<CheckReport> {
    if let Some(path) = url.strip_prefix("sqlite:") {
        skillcard_db::sqlite_integrity(Path::new(path))
            .await
            .with_context(|| format!("{path} is not a sound SQLite database"))?;
    }
    let store = Store::connect(url)
        .await
        .with_context(|| format!("opening the copy {url}"))?;
    let result = async {
        store.migrate().await.context("migrating the copy")?;
        let report = store.check().await.context("checking the copy")?;
        if !report.is_ok() {
            crate::print_failures(&report);
            bail!("check failed on the copy");
        }
        Ok(report)
    }
    .await;
    store.close().await;
    result
}

async fn run(program: &str, args: &[&str]) -> anyhow::Result<()> {
    let out = tokio::process::Command::new(program)
        .args(args)
        .output()
        .await
        .with_context(|| format!("running {program} (install the PostgreSQL client tools)"))?;
    if !out.status.success() {
        bail!(
            "{program} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}
