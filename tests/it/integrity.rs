//! `check`: the audit chain and custody invariants hold after real work, and tampering behind the
//! application's back is detected, by the library and by the `skillcard check` command.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

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

/// The stock view reads maintained counts; they follow every move, and `check` catches a count
/// changed behind the application's back.
#[tokio::test]
async fn card_counts_follow_every_move_and_check_guards_them() {
    let app = spawn_app().await;
    let pool = app.store.pool();
    let counted = || async {
        let rows: Vec<(i64, String, i64)> = sqlx::query_as(
            "SELECT province_id, state, CAST(COUNT(*) AS BIGINT) FROM cards GROUP BY province_id, state ORDER BY 1, 2",
        )
        .fetch_all(pool)
        .await
        .unwrap();
        rows
    };
    let stock = |v: &Value| {
        (
            v["in_transit"].as_u64().unwrap(),
            v["in_vault"].as_u64().unwrap(),
            v["with_office"].as_u64().unwrap(),
        )
    };
    let of = |rows: &[(i64, String, i64)], p: i64, s: &str| {
        rows.iter()
            .find(|r| r.0 == p && r.1 == s)
            .map_or(0, |r| r.2 as u64)
    };
    // The demo's shipments, receipts and handovers: the view equals a count of the cards.
    let province = app.get_ok("/api/v1/me", "security").await["province_id"]
        .as_i64()
        .unwrap();
    let rows = counted().await;
    let view = app.stock(province).await;
    assert_eq!(
        stock(&view),
        (
            of(&rows, province, "in_transit"),
            of(&rows, province, "in_vault"),
            of(&rows, province, "with_office"),
        )
    );
    // A new shipment, received: the counts move with it.
    let sh = app
        .post_ok(
            "/api/v1/shipments",
            "hq",
            &json!({ "province_id": province, "ref_no": "CC-1", "carrier": "پست", "declared_count": 10,
                     "ranges": [{ "first": 8_000_000, "last": 8_000_009 }] }),
        )
        .await;
    assert_eq!(
        stock(&app.stock(province).await).0,
        of(&rows, province, "in_transit") + 10
    );
    app.post_ok(
        &format!("/api/v1/shipments/{}/receipt", sh["id"]),
        "security",
        &receipt_body(9, &[(8_000_009, 8_000_009)], &[]),
    )
    .await;
    let after = stock(&app.stock(province).await);
    assert_eq!(after.1, of(&rows, province, "in_vault") + 9);
    assert_eq!(after.0, of(&rows, province, "in_transit"));
    app.assert_check_ok().await;

    sqlx::query("UPDATE card_counts SET n = n + 1 WHERE state = 'in_vault'")
        .execute(pool)
        .await
        .unwrap();
    let report = app.store.check().await.unwrap();
    assert!(
        report
            .violations
            .iter()
            .any(|v| v.invariant == "card_counts"),
        "{report:?}"
    );
}

/// Issue 15's second tamper: a registered card marked delivered in `cards` (and in the kept
/// counts, as a careful tamperer would) while its print records no delivery.
#[tokio::test]
async fn a_card_marked_delivered_without_a_delivery_is_named() {
    let app = spawn_app().await;
    let certs = crate::printing::issued_certificates(&app).await;
    let p = crate::aftercare::registered_card(&app, certs[0].0, "t1").await;
    let serial = p["serial"].as_i64().unwrap();
    app.assert_check_ok().await;
    for sql in [
        "UPDATE cards SET state = 'delivered' WHERE serial = $1",
        "UPDATE card_counts SET n = n - 1 WHERE state = 'bound' AND province_id = (SELECT province_id FROM cards WHERE serial = $1)",
    ] {
        sqlx::query(sql)
            .bind(serial)
            .execute(app.store.pool())
            .await
            .unwrap();
    }
    sqlx::query(
        "INSERT INTO card_counts (province_id, state, n) SELECT province_id, 'delivered', 0 FROM cards WHERE serial = $1 \
         AND NOT EXISTS (SELECT 1 FROM card_counts k WHERE k.province_id = cards.province_id AND k.state = 'delivered')",
    )
    .bind(serial)
    .execute(app.store.pool())
    .await
    .unwrap();
    sqlx::query("UPDATE card_counts SET n = n + 1 WHERE state = 'delivered' AND province_id = (SELECT province_id FROM cards WHERE serial = $1)")
        .bind(serial)
        .execute(app.store.pool())
        .await
        .unwrap();
    let report = app.store.check().await.unwrap();
    let named: Vec<_> = report
        .violations
        .iter()
        .map(|v| (v.invariant, v.detail.as_str()))
        .collect();
    assert!(
        named.iter().any(|(i, d)| *i == "print_card_state"
            && d.contains("\"bound\" (not delivered) whose card is \"delivered\"")),
        "{named:?}"
    );
    assert!(!named.iter().any(|(i, _)| *i == "card_counts"), "{named:?}");
}

/// `skillcard …` against the test's database and a key directory; success and what it said.
fn skillcard_cli(app: &TestApp, keys: &std::path::Path, args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_skillcard"))
        .args(args)
        .arg("--key-dir")
        .arg(keys)
        .env("DATABASE_URL", &app.db_url)
        .env("RUST_LOG", "warn")
        .env_remove("SKILLCARD_CONFIG")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// Cutting off the newest audit records and setting the head back leaves a chain that checks
/// out on its own; a signed checkpoint kept outside the database catches it (issue: tamper 1),
/// and a checkpoint that does not verify is refused.
#[tokio::test]
async fn a_checkpoint_kept_outside_catches_a_cut_off_audit_tail() {
    let app = spawn_app().await;
    let dir = tempdir();
    let keys = dir.join("keys");
    let (ok, out) = skillcard_cli(&app, &keys, &["keys", "generate", "--kid", "c1"]);
    assert!(ok, "{out}");
    let file = dir.join("checkpoints.b64");
    let file_arg = file.to_str().unwrap();

    let (ok, out) = skillcard_cli(&app, &keys, &["checkpoint", "--append", file_arg]);
    assert!(ok, "{out}");
    let (cp_seq, cp_hash) = app.store.audit_tip().await.unwrap().unwrap();
    assert!(out.contains(&format!("audit record {cp_seq} ")), "{out}");

    // Work after the checkpoint extends it.
    app.post_ok(
        "/api/v1/shipments/2/receipt",
        "security",
        &receipt_body(1000, &[], &[]),
    )
    .await;
    let (ok, out) = skillcard_cli(&app, &keys, &["check", "--checkpoint", file_arg]);
    assert!(ok && out.contains("extends"), "{out}");

    // The DBA cuts the chain back to before the checkpoint's record and sets the head back.
    let (prev_seq, prev_hash): (i64, String) =
        sqlx::query_as("SELECT seq, hash FROM audit_log WHERE seq < $1 ORDER BY seq DESC LIMIT 1")
            .bind(cp_seq)
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    sqlx::query("DELETE FROM audit_log WHERE seq >= $1")
        .bind(cp_seq)
        .execute(app.store.pool())
        .await
        .unwrap();
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(prev_seq)
        .bind(&prev_hash)
        .execute(app.store.pool())
        .await
        .unwrap();
    let (ok, _) = skillcard_cli(&app, &keys, &["check"]);
    assert!(
        ok,
        "the chain alone still checks out: this is what a checkpoint is for"
    );
    let (ok, out) = skillcard_cli(&app, &keys, &["check", "--checkpoint", file_arg]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("removed") && out.contains(&format!("record {cp_seq}")),
        "{out}"
    );

    // Putting back a record under the checkpoint's number with other content, chained so the
    // chain check passes, is named as a rewrite.
    let forged = chained_record(cp_seq, &prev_hash, "forged");
    insert_audit_record(&app, &forged).await;
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(forged.seq)
        .bind(&forged.hash)
        .execute(app.store.pool())
        .await
        .unwrap();
    let (ok, out) = skillcard_cli(&app, &keys, &["check"]);
    assert!(ok, "the forged chain checks out on its own: {out}");
    let (ok, out) = skillcard_cli(&app, &keys, &["check", "--checkpoint", file_arg]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("rewritten") && out.contains(&cp_hash) && out.contains(&forged.hash),
        "{out}"
    );

    // A checkpoint line that is not one, or one signed by a key not in the set, is refused.
    let bogus = dir.join("bogus.b64");
    std::fs::write(&bogus, "not a checkpoint\n").unwrap();
    let (ok, out) = skillcard_cli(
        &app,
        &keys,
        &["check", "--checkpoint", bogus.to_str().unwrap()],
    );
    assert!(!ok, "{out}");
    let other_keys = dir.join("other-keys");
    let (ok, _) = skillcard_cli(&app, &other_keys, &["keys", "generate", "--kid", "c9"]);
    assert!(ok);
    let (ok, out) = skillcard_cli(&app, &other_keys, &["check", "--checkpoint", file_arg]);
    assert!(!ok && out.contains("cannot be trusted"), "{out}");
}

/// behind the application's back (tamper 4): a registered card's holder renamed in the
/// database is named by `check`, against the claims signed into the card.
#[tokio::test]
async fn a_holder_renamed_after_registration_is_named() {
    let app = spawn_app().await;
    let certs = crate::printing::issued_certificates(&app).await;
    let card = crate::aftercare::registered_card(&app, certs[0].0, "t4").await;
    app.assert_check_ok().await;
    let before: (String,) = sqlx::query_as("SELECT first_name FROM candidates WHERE id = $1")
        .bind(certs[0].1)
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    sqlx::query("UPDATE candidates SET first_name = 'جعلی' WHERE id = $1")
        .bind(certs[0].1)
        .execute(app.store.pool())
        .await
        .unwrap();
    let report = app.store.check().await.unwrap();
    let named: Vec<_> = report
        .violations
        .iter()
        .filter(|v| v.invariant == "printed_data_unchanged")
        .collect();
    assert_eq!(named.len(), 1, "{report:?}");
    assert!(
        named[0]
            .detail
            .contains(&format!("card print {}", card["id"]))
            && named[0].detail.contains("first_name is \"جعلی\"")
            && named[0].detail.contains(&before.0),
        "{:?}",
        named[0]
    );
    sqlx::query("UPDATE candidates SET first_name = $1 WHERE id = $2")
        .bind(&before.0)
        .bind(certs[0].1)
        .execute(app.store.pool())
        .await
        .unwrap();
    app.assert_check_ok().await;
}

/// A record chained onto the newest one but written behind the application's back (the head
/// not moved) is named; the chain is read a page at a time up to the head.
#[tokio::test]
async fn an_audit_record_past_the_head_is_named() {
    let app = spawn_app().await;
    let (seq, hash) = app.store.audit_tip().await.unwrap().unwrap();
    let extra = chained_record(seq + 1, &hash, "slipped.in");
    insert_audit_record(&app, &extra).await;
    let report = app.store.check().await.unwrap();
    let error = report.chain_error.unwrap_or_default();
    assert!(
        error.contains("past the audit head") && error.contains(&(seq + 1).to_string()),
        "{error}"
    );
    assert_eq!(report.audit_records, seq);
}

/// An audit record as a forger would write it: correctly chained onto `prev_hash`.
fn chained_record(seq: i64, prev_hash: &str, action: &str) -> skillcard_core::audit::AuditRecord {
    let mut r = skillcard_core::audit::AuditRecord {
        seq,
        at: "2026-01-01T00:00:00Z".into(),
        actor_id: None,
        action: action.into(),
        entity: "x".into(),
        entity_id: "0".into(),
        province_id: None,
        before: "null".into(),
        after: "null".into(),
        prev_hash: prev_hash.into(),
        hash: String::new(),
    };
    r.hash = skillcard_core::audit::record_hash(prev_hash, &r);
    r
}

/// Writes `r` straight into `audit_log`, as a database administrator could.
async fn insert_audit_record(app: &TestApp, r: &skillcard_core::audit::AuditRecord) {
    sqlx::query(
        "INSERT INTO audit_log (seq, at, actor_id, action, entity, entity_id, province_id, before, after, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(r.seq)
    .bind(&r.at)
    .bind(r.actor_id)
    .bind(&r.action)
    .bind(&r.entity)
    .bind(&r.entity_id)
    .bind(r.province_id)
    .bind(&r.before)
    .bind(&r.after)
    .bind(&r.prev_hash)
    .bind(&r.hash)
    .execute(app.store.pool())
    .await
    .unwrap();
}

/// The audit page reads as Persian: every action the work below wrote has a Persian name, times
/// are Solar Hijri in Tehran, and no Latin digit shows in the table.
#[tokio::test]
async fn the_audit_page_names_each_action_in_persian() {
    let app = spawn_app().await;
    let certs = crate::printing::issued_certificates(&app).await;
    crate::aftercare::registered_card(&app, certs[0].0, "a1").await;
    let actions: Vec<(String,)> = sqlx::query_as("SELECT DISTINCT action FROM audit_log")
        .fetch_all(app.store.pool())
        .await
        .unwrap();
    assert!(actions.len() > 10, "{actions:?}");
    for (a,) in &actions {
        assert_ne!(
            skillcard_core::fa::audit_action(a),
            a.as_str(),
            "no Persian name for the audit action {a:?}"
        );
    }
    let web = crate::exam_pages::login(&app, "hq").await;
    let (html, _) = crate::exam_pages::page(&app, &web, "/audit").await;
    let table = &html[html.find("<tbody>").unwrap()..html.find("</tbody>").unwrap()];
    let visible: String = {
        let mut out = String::new();
        let mut in_tag = false;
        for ch in table.chars() {
            match ch {
                '<' => in_tag = true,
                '>' => in_tag = false,
                c if !in_tag => out.push(c),
                _ => {}
            }
        }
        out
    };
    assert!(visible.contains("صدور گواهینامه"), "{visible}");
    assert!(visible.contains("۱۴۰"), "Solar Hijri years: {visible}");
    assert!(
        !visible.chars().any(|c| c.is_ascii_digit()),
        "Latin digits on the audit page: {visible}"
    );
}

/// After a key is revoked its cards must be called back: `skillcard signed-by --kid` lists the
/// registered cards it signed, and none for another key.
#[tokio::test]
async fn the_cards_a_key_signed_are_listed() {
    let app = spawn_app().await;
    let certs = crate::printing::issued_certificates(&app).await;
    let card = crate::aftercare::registered_card(&app, certs[0].0, "k1").await;
    let signed_by = |kid: &str| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_skillcard"))
            .args(["signed-by", "--kid", kid])
            .env("DATABASE_URL", &app.db_url)
            .env("RUST_LOG", "warn")
            .env_remove("SKILLCARD_CONFIG")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let out = signed_by(test_issuer_key().kid());
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "serial,certificate,province,registered_on");
    assert_eq!(lines.len(), 2, "{out}");
    let cols: Vec<&str> = lines[1].split(',').collect();
    assert_eq!(cols[0], card["serial"].to_string(), "{out}");
    assert_eq!(cols[2], "ESF", "{out}");
    assert_eq!(
        signed_by("never-used").trim(),
        "serial,certificate,province,registered_on"
    );
}
