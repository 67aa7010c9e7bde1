//! `skillcard backup` while the server writes, `skillcard restore` into a fresh database, and
//! the check every restore ends with — on the backend under test (SQLite's online copy, or
//! pg_dump/pg_restore), through the real binary.

use crate::helpers::*;
use serde_json::json;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

async fn skillcard(db_url: &str, args: &[&str]) -> (bool, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_skillcard"))
        .args(args)
        .env("DATABASE_URL", db_url)
        .env("RUST_BACKTRACE", "0")
        .output()
        .await
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

async fn audit_hashes(store: &skillcard_db::Store) -> Vec<(i64, String)> {
    sqlx::query_as("SELECT seq, hash FROM audit_log ORDER BY seq")
        .fetch_all(store.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_backup_taken_under_write_load_restores_into_a_fresh_database_and_checks() {
    let app = Arc::new(spawn_app().await);
    let hq = app.token("hq").await;
    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicU64::new(0));
    let writer = {
        let (app, stop, written, hq) = (app.clone(), stop.clone(), written.clone(), hq.clone());
        tokio::spawn(async move {
            let mut n = 0u64;
            while !stop.load(Ordering::SeqCst) {
                n += 1;
                let (s, body) = app
                    .post_json(
                        "/api/v1/trades",
                        Some(&hq),
                        &json!({ "standard_code": format!("9{n:03}-01"), "title": format!("حرفه آزمایشی {n}") }),
                    )
                    .await;
                assert!(s.is_success(), "{body}");
                written.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    while written.load(Ordering::SeqCst) < 5 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let before = audit_hashes(&app.store).await;
    let dir = tempdir();
    let file = dir.join("skillcard.backup");
    let file_s = file.display().to_string();
    let (ok, out) = skillcard(&app.db_url, &["backup", "--out", &file_s]).await;
    let during = written.load(Ordering::SeqCst);
    stop.store(true, Ordering::SeqCst);
    writer.await.unwrap();
    assert!(ok, "backup failed: {out}");
    assert!(out.contains("backup written"), "{out}");
    assert!(during > 5, "no writes went on during the backup");
    let after = audit_hashes(&app.store).await;

    // A backup never overwrites.
    let (ok, out) = skillcard(&app.db_url, &["backup", "--out", &file_s]).await;
    assert!(!ok && out.contains("already exists"), "{out}");

    // Restore into a fresh database: it passes check and is a prefix of the live audit chain
    // at least as long as it was when the backup started.
    let target = fresh_database_url().await;
    let (ok, out) = skillcard(
        &app.db_url,
        &["restore", "--from", &file_s, "--to", &target],
    )
    .await;
    assert!(ok, "restore failed: {out}");
    assert!(out.contains("check: ok"), "{out}");
    let restored = skillcard_db::Store::connect(&target).await.unwrap();
    assert!(restored.check().await.unwrap().is_ok());
    let copy = audit_hashes(&restored).await;
    assert!(
        copy.len() >= before.len(),
        "{} < {}",
        copy.len(),
        before.len()
    );
    assert!(copy.len() <= after.len());
    assert_eq!(
        copy[..],
        after[..copy.len()],
        "the copy is not a prefix of the live chain"
    );
    let cards: (i64,) = sqlx::query_as("SELECT CAST(COUNT(*) AS BIGINT) FROM cards")
        .fetch_one(restored.pool())
        .await
        .unwrap();
    assert!(cards.0 > 0);

    // A second restore into the same, now full, database is refused and changes nothing.
    let full = db_fingerprint(&restored).await;
    let (ok, out) = skillcard(
        &app.db_url,
        &["restore", "--from", &file_s, "--to", &target],
    )
    .await;
    assert!(!ok, "{out}");
    assert!(out.contains("restore into"), "{out}");
    assert_eq!(full, db_fingerprint(&restored).await);
    restored.close().await;

    // A damaged backup file is refused, and leaves no database behind (SQLite) or fails to load.
    let bytes = std::fs::read(&file).unwrap();
    let damaged = dir.join("damaged.backup");
    std::fs::write(&damaged, &bytes[..bytes.len() / 2]).unwrap();
    let target2 = fresh_database_url().await;
    let (ok, out) = skillcard(
        &app.db_url,
        &[
            "restore",
            "--from",
            &damaged.display().to_string(),
            "--to",
            &target2,
        ],
    )
    .await;
    assert!(!ok, "a truncated backup restored: {out}");
    if let Some(path) = target2.strip_prefix("sqlite:") {
        assert!(
            !std::path::Path::new(path).exists(),
            "a failed restore left {path}"
        );
    }
    // The other backend's kind of file is named as such.
    let wrong = dir.join("wrong.backup");
    std::fs::write(&wrong, b"not a backup at all").unwrap();
    let (ok, out) = skillcard(
        &app.db_url,
        &[
            "restore",
            "--from",
            &wrong.display().to_string(),
            "--to",
            &target2,
        ],
    )
    .await;
    assert!(!ok && out.contains("is not a"), "{out}");
    discard_database(&target).await;
    discard_database(&target2).await;
}
