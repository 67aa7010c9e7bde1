//! `check`: the audit chain and custody invariants hold after real work, and tampering behind the
//! application's back is detected, by the library and by the `skillcard check` command.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn check_ok_after_operations_then_detects_tampering() {
    let app = spawn_app().await;
    // A bit of everything, accepted and rejected.
    app.post_ok(
        "/api/v1/shipments/2/receipt",
        "security",
        &receipt_body(995, &[(102001, 102003)], &[(102999, 103000)]),
    )
    .await;
    app.post_ok(
        "/api/v1/shipments/2/receipt-notice",
        "security",
        &json!({ "letter_no": "۴۵/۲", "signer_name": "محمد نوری" }),
    )
    .await;
    app.post_rejected(
        "/api/v1/shipments",
        "hq",
        &json!({ "province_id": ISFAHAN, "ref_no": "x", "carrier": "y", "declared_count": 10,
                 "ranges": [{ "first": 102995, "last": 103004 }] }),
        StatusCode::CONFLICT,
        "serials_already_known",
    )
    .await;
    app.setup_province(5, 600, 500_001).await;
    let req = app
        .post_ok(
            "/api/v1/requests",
            "head5",
            &json!({ "count": 200, "representative": "نماینده" }),
        )
        .await;
    app.post_ok(
        &format!("/api/v1/requests/{}/handovers", req["id"]),
        "sec5",
        &handover_body(Some(120), &[]),
    )
    .await;
    let report = app.store.check().await.unwrap();
    assert!(report.is_ok(), "{report:?}");
    assert!(report.audit_records > 10, "{report:?}");
    assert_eq!(report.cards, 2000 + 1000 + 1000);

    // The binary agrees.
    let ok = std::process::Command::new(env!("CARGO_BIN_EXE_skillcard"))
        .arg("check")
        .env("DATABASE_URL", &app.db_url)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );

    // Tamper with audit record 3 behind the application's back.
    sqlx::query("UPDATE audit_log SET after = '{}' WHERE seq = 3")
        .execute(app.store.pool())
        .await
        .unwrap();
    let report = app.store.check().await.unwrap();
    assert!(!report.is_ok());
    let err = report.chain_error.clone().unwrap();
    assert!(err.contains("record 3"), "{err}");

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_skillcard"))
        .arg("check")
        .env("DATABASE_URL", &app.db_url)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("audit chain broken"), "{stderr}");
    assert!(stderr.contains("record 3"), "{stderr}");
}

/// Changing a card's state behind the application's back breaks a custody invariant.
#[tokio::test]
async fn check_detects_cards_moved_behind_the_back() {
    let app = spawn_app().await;
    app.assert_check_ok().await;
    sqlx::query("UPDATE cards SET state = 'with_office' WHERE serial = 102000")
        .execute(app.store.pool())
        .await
        .unwrap();
    let report = app.store.check().await.unwrap();
    assert!(report.chain_error.is_none(), "{report:?}");
    assert!(!report.violations.is_empty(), "{report:?}");
}
