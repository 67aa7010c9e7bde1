//! The transparency log and the status list, over the public API and `skillcard verify`, on
//! both backends: issuance and damage are logged in the same transaction, tree heads are signed,
//! inclusion and consistency proofs verify (and forged ones do not), a monitor can rebuild the
//! root from the entries, the status list marks the damaged card, and `check` catches a log
//! edited behind the application's back.

use crate::aftercare::{opened_print, register_opened, registered_card};
use crate::helpers::*;
use crate::printing::issued_certificates;
use reqwest::StatusCode;
use serde_json::{json, Value};
use skillcard_credential::merkle::{self, verify_consistency};
use skillcard_credential::transparency::{
    parse_hash, verify_inclusion, InclusionBundle, LogError, Revocation, StatusList, TreeHead,
};

fn unb64(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

/// The current tree head, its signature checked against the published keys.
async fn head(app: &TestApp) -> TreeHead {
    head_and_json(app).await.0
}

/// The current tree head and the JSON the API served for it.
async fn head_and_json(app: &TestApp) -> (TreeHead, Value) {
    let (status, v) = app.get_json("/api/v1/public/log/tree-head", None).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let (head, kid) = TreeHead::verify(&unb64(v["signed"].as_str().unwrap()), &test_public_keys())
        .expect("signed by the published key");
    assert_eq!(kid, "test-1");
    assert_eq!(v["tree_size"], head.tree_size);
    assert_eq!(v["root_hash"], hex::encode(head.root_hash));
    (head, v)
}

async fn inclusion(app: &TestApp, qr: &str) -> InclusionBundle {
    let r = app
        .client
        .get(app.url("/api/v1/public/log/inclusion"))
        .query(&[("qr", qr)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

async fn status_list(app: &TestApp) -> (Vec<u8>, String) {
    let r = app
        .client
        .get(app.url("/api/v1/public/status-list"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let etag = r.headers()["etag"].to_str().unwrap().to_owned();
    (r.bytes().await.unwrap().to_vec(), etag)
}

fn credential(print: &Value) -> Vec<u8> {
    hex::decode(print["credential_hex"].as_str().unwrap()).unwrap()
}

/// `skillcard verify` with downloaded files: (success, JSON printed).
fn cli_verify(dir: &std::path::Path, qr: &str, extra: &[&str]) -> (bool, Value) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_skillcard"))
        .arg("verify")
        .arg("--keys")
        .arg(dir.join("keys.json"))
        .args(extra)
        .arg(qr)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "verify printed no JSON: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.success(), json)
}

#[tokio::test]
async fn the_log_records_cards_and_proves_inclusion_and_consistency() {
    let app = spawn_app().await;
    let keys = test_public_keys();
    let before = head(&app).await;
    let certs = issued_certificates(&app).await;
    let p1 = registered_card(&app, certs[0].0, "log1").await;
    let p2 = registered_card(&app, certs[1].0, "log2").await;
    let qr1 = p1["qr_text"].as_str().unwrap();
    let qr2 = p2["qr_text"].as_str().unwrap();
    let (two, two_json) = head_and_json(&app).await;
    assert_eq!(two.tree_size, before.tree_size + 2);

    // Inclusion: the proof holds for the card it was asked for, and for no other.
    let b1 = inclusion(&app, qr1).await;
    assert_eq!(b1.tree_size, two.tree_size);
    let shown = verify_inclusion(&credential(&p1), &b1, &keys).unwrap();
    assert_eq!(shown.event.as_str(), "issued");
    assert_eq!(
        verify_inclusion(&credential(&p2), &b1, &keys),
        Err(LogError::OtherCredential)
    );
    let mut forged = b1.clone();
    forged.audit_path[0] = hex::encode([0u8; 32]);
    assert!(matches!(
        verify_inclusion(&credential(&p1), &forged, &keys),
        Err(LogError::Proof(_))
    ));
    // Entries name cards by digest only: no certificate number, no national code.
    assert!(!b1.entry.contains(p1["certificate_no"].as_str().unwrap()));
    assert!(!b1.entry.contains("0499370899"));

    // R-8.1: the damage is logged, and the status list says so.
    app.post_ok(
        "/api/v1/cases/damage",
        "clerk",
        &json!({ "cards": [{ "print_id": p2["id"], "cause": "physical" }] }),
    )
    .await;
    let (three, three_json) = head_and_json(&app).await;
    assert_eq!(three.tree_size, two.tree_size + 1);
    let (list_bytes, etag) = status_list(&app).await;
    let (list, _) = StatusList::verify(&list_bytes, &keys).unwrap();
    assert_eq!(list.tree_size, three.tree_size);
    assert_eq!(list.status_of(&credential(&p2)), Some(Revocation::Damaged));
    assert_eq!(list.status_of(&credential(&p1)), None);
    let r = app
        .client
        .get(app.url("/api/v1/public/status-list"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED);

    // Consistency: the tree of two cards is a prefix of the tree of three.
    let (status, c) = app
        .get_json(
            &format!(
                "/api/v1/public/log/consistency?first={}&second={}",
                two.tree_size, three.tree_size
            ),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{c}");
    let proof: Vec<merkle::Hash> = c["proof"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| parse_hash(h.as_str().unwrap()).unwrap())
        .collect();
    verify_consistency(
        two.tree_size,
        three.tree_size,
        &two.root_hash,
        &three.root_hash,
        &proof,
    )
    .unwrap();
    assert!(verify_consistency(
        two.tree_size,
        three.tree_size,
        &before.root_hash,
        &three.root_hash,
        &proof
    )
    .is_err());
    // A monitor's check with `skillcard verify-log`, from the downloaded JSON.
    let mon = tempdir();
    test_public_keys().save(&mon.join("keys.json")).unwrap();
    std::fs::write(mon.join("old.json"), serde_json::to_vec(&two_json).unwrap()).unwrap();
    std::fs::write(
        mon.join("new.json"),
        serde_json::to_vec(&three_json).unwrap(),
    )
    .unwrap();
    std::fs::write(mon.join("proof.json"), serde_json::to_vec(&c).unwrap()).unwrap();
    let verify_log = |old: &str, new: &str| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_skillcard"))
            .arg("verify-log")
            .arg("--keys")
            .arg(mon.join("keys.json"))
            .arg("--old")
            .arg(mon.join(old))
            .arg("--new")
            .arg(mon.join(new))
            .arg("--proof")
            .arg(mon.join("proof.json"))
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        (
            out.status.success(),
            v["result"].as_str().unwrap_or_default().to_owned(),
        )
    };
    assert_eq!(
        verify_log("old.json", "new.json"),
        (true, "consistent".into())
    );
    assert_eq!(
        verify_log("new.json", "old.json"),
        (false, "inconsistent".into())
    );

    // Parameters missing or not numbers: the API's error shape, not a bare text.
    for bad in ["", "first=x&second=2", "first=1"] {
        let (status, v) = app
            .get_json(&format!("/api/v1/public/log/consistency?{bad}"), None)
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {v}");
        assert_eq!(v["code"], "bad_request", "{bad}: {v}");
    }
    for bad in ["first=0&second=1", "first=3&second=2", "first=1&second=99"] {
        let (status, v) = app
            .get_json(&format!("/api/v1/public/log/consistency?{bad}"), None)
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {v}");
        assert_eq!(v["code"], "invalid_value");
    }

    // A monitor rebuilds the root from the published entries.
    let (status, entries) = app
        .get_json(
            &format!("/api/v1/public/log/entries?start=0&end={}", three.tree_size),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let leaves: Vec<merkle::Hash> = entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| merkle::leaf_hash(e["entry"].as_str().unwrap().as_bytes()))
        .collect();
    assert_eq!(rebuild_root(&leaves), three.root_hash);

    // Unknown and malformed lookups are clear errors.
    let (status, v) = app
        .get_json(
            &format!("/api/v1/public/log/inclusion?digest={}", "ab".repeat(32)),
            None,
        )
        .await;
    assert_eq!(
        (status, v["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let (status, v) = app
        .get_json("/api/v1/public/log/inclusion?digest=xyz", None)
        .await;
    assert_eq!(
        (status, v["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_value"))
    );
    let (status, keys_json) = app.get_json("/api/v1/public/keys", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(keys_json.to_string().contains("test-1"));

    // Offline: `skillcard verify` with the downloaded key set, status list and proof.
    let dir = tempdir();
    test_public_keys().save(&dir.join("keys.json")).unwrap();
    std::fs::write(dir.join("status.cose"), &list_bytes).unwrap();
    std::fs::write(dir.join("proof1.json"), serde_json::to_vec(&b1).unwrap()).unwrap();
    let status_arg = dir.join("status.cose").display().to_string();
    let proof_arg = dir.join("proof1.json").display().to_string();
    let (ok, out) = cli_verify(
        &dir,
        qr1,
        &["--status-list", &status_arg, "--log-proof", &proof_arg],
    );
    assert!(ok, "{out}");
    assert_eq!(out["status"]["result"], "good");
    assert_eq!(out["log"]["result"], "included");
    let (ok, out) = cli_verify(&dir, qr2, &["--status-list", &status_arg]);
    assert!(!ok, "{out}");
    assert_eq!(out["verdict"], "valid");
    assert_eq!(out["status"]["result"], "damaged");
    let (ok, out) = cli_verify(&dir, qr2, &["--log-proof", &proof_arg]);
    assert!(!ok, "{out}");
    assert_eq!(out["log"]["result"], "not_included");

    // The log edited behind the application's back: `check` sees it.
    app.assert_check_ok().await;
    sqlx::query("UPDATE log_nodes SET hash = $1 WHERE level = 0 AND idx = 0")
        .bind(hex::encode([1u8; 32]))
        .execute(app.store.pool())
        .await
        .unwrap();
    let report = app.store.check().await.unwrap();
    assert!(
        report
            .violations
            .iter()
            .any(|v| v.invariant == "transparency_log"),
        "{report:?}"
    );
}

#[tokio::test]
async fn check_sees_a_card_missing_from_the_log() {
    let app = spawn_app().await;
    let certs = issued_certificates(&app).await;
    let p = registered_card(&app, certs[0].0, "gone").await;
    app.assert_check_ok().await;
    let last = head(&app).await.tree_size as i64 - 1;
    sqlx::query("DELETE FROM log_entries WHERE print_id = $1")
        .bind(p["id"].as_i64().unwrap())
        .execute(app.store.pool())
        .await
        .unwrap();
    sqlx::query("DELETE FROM log_nodes WHERE level = 0 AND idx = $1")
        .bind(last)
        .execute(app.store.pool())
        .await
        .unwrap();
    let report = app.store.check().await.unwrap();
    let details: Vec<&str> = report
        .violations
        .iter()
        .filter(|v| v.invariant == "transparency_log")
        .map(|v| v.detail.as_str())
        .collect();
    assert!(
        details.iter().any(|d| d.contains("is logged as []")),
        "{details:?}"
    );
}

/// RFC 9162's MTH, the slow way, as a monitor would compute it.
fn rebuild_root(leaves: &[merkle::Hash]) -> merkle::Hash {
    match leaves.len() {
        0 => merkle::empty_root(),
        1 => leaves[0],
        n => {
            let k = 1usize << (usize::BITS - 1 - (n - 1).leading_zeros());
            merkle::node_hash(&rebuild_root(&leaves[..k]), &rebuild_root(&leaves[k..]))
        }
    }
}

/// The back face of a registered card, photographed: the PDF's second page at 200 dpi, PNG.
fn photo_of_back(face_pdf: &[u8]) -> Vec<u8> {
    let dir = tempdir();
    std::fs::write(dir.join("face.pdf"), face_pdf).unwrap();
    let ok = std::process::Command::new("pdftoppm")
        .args(["-r", "200", "-png", "-f", "2", "-l", "2", "-singlefile"])
        .arg(dir.join("face.pdf"))
        .arg(dir.join("back"))
        .status()
        .expect("pdftoppm (poppler-utils) is needed");
    assert!(ok.success());
    let png = std::fs::read(dir.join("back.png")).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    png
}

#[tokio::test]
async fn the_verify_page_reads_the_qr_from_a_photo() {
    use crate::aftercare_pages::post_multipart;
    use crate::exam_pages::page;
    let app = spawn_app().await;
    let certs = issued_certificates(&app).await;
    let (opened, chip) = opened_print(&app, certs[0].0, "photo1").await;
    let r = app
        .client
        .get(app.url(&format!("/api/v1/prints/{}/face.pdf", opened["id"])))
        .bearer_auth(app.token("clerk").await)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let photo = photo_of_back(&r.bytes().await.unwrap());
    let p = register_opened(&app, &opened, chip).await;

    // A visitor without an account: the page hands out a form token with a cookie.
    let web = browser();
    let (_, csrf) = page(&app, &web, "/verify").await;
    let answer = post_multipart(
        &app,
        &web,
        "/verify",
        &[("_csrf", &csrf)],
        &[("photo", "back.png", &photo)],
    )
    .await;
    assert_eq!(answer.status(), StatusCode::OK);
    let html = answer.text().await.unwrap();
    assert!(html.contains("data-result=\"valid\""), "{html}");
    assert!(html.contains(
        p["certificate_no"]
            .as_str()
            .map(skillcard_core::text::persian_digits)
            .unwrap()
            .as_str()
    ));

    // Not a photo, and a photo without a code: a Persian error on the page, nothing verified.
    // A photo that declares 100,000 × 100,000 pixels is refused from its header.
    for (bytes, words) in [
        (b"%PDF-1.4 minutes".to_vec(), "عکس"),
        (blank_png(), "رمزینه (QR) خوانایی پیدا نشد"),
        (
            skillcard_media::samples::png_bomb(100_000, 100_000),
            "بیش از حد مجاز",
        ),
    ] {
        let (_, csrf) = page(&app, &web, "/verify").await;
        let answer = post_multipart(
            &app,
            &web,
            "/verify",
            &[("_csrf", &csrf)],
            &[("photo", "x.png", &bytes)],
        )
        .await;
        assert_eq!(answer.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = answer.text().await.unwrap();
        assert!(
            html.contains(words) && !html.contains("data-result"),
            "{html}"
        );
    }
    // The same photo, offline: `skillcard verify @photo.png`.
    let dir = tempdir();
    test_public_keys().save(&dir.join("keys.json")).unwrap();
    std::fs::write(dir.join("back.png"), &photo).unwrap();
    let (ok, out) = cli_verify(&dir, &format!("@{}", dir.join("back.png").display()), &[]);
    assert!(ok, "{out}");
    assert_eq!(
        out["credential"]["claims"]["certificate_no"],
        p["certificate_no"]
    );

    // Without the form token the post is refused.
    let refused = post_multipart(
        &app,
        &browser(),
        "/verify",
        &[],
        &[("photo", "back.png", &photo)],
    )
    .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
}

fn blank_png() -> Vec<u8> {
    let img = image::GrayImage::from_pixel(400, 300, image::Luma([250]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

#[tokio::test]
async fn a_database_from_before_the_log_is_backfilled_once() {
    let app = spawn_app().await;
    let certs = issued_certificates(&app).await;
    let mut prints = Vec::new();
    for (i, (cert, _)) in certs.iter().take(3).enumerate() {
        prints.push(registered_card(&app, *cert, &format!("old{i}")).await);
    }
    app.post_ok(
        "/api/v1/cases/damage",
        "clerk",
        &json!({ "cards": [{ "print_id": prints[1]["id"], "cause": "physical" }] }),
    )
    .await;
    let live = head(&app).await.tree_size;
    // As if the cards had been registered before migration 0007.
    for table in ["log_nodes", "log_entries"] {
        sqlx::query(&format!("DELETE FROM {table}"))
            .execute(app.store.pool())
            .await
            .unwrap();
    }
    assert!(!app.store.check().await.unwrap().is_ok());
    assert_eq!(app.store.backfill_log().await.unwrap(), live);
    app.assert_check_ok().await;
    assert_eq!(head(&app).await.tree_size, live);
    // Every card's proof holds against the rebuilt tree; a second run changes nothing.
    for p in &prints {
        let b = inclusion(&app, p["qr_text"].as_str().unwrap()).await;
        verify_inclusion(&credential(p), &b, &test_public_keys()).unwrap();
    }
    assert_eq!(app.store.backfill_log().await.unwrap(), 0);
    app.store.migrate().await.unwrap();
    assert_eq!(head(&app).await.tree_size, live);
}

/// The public audit checkpoint: signed by the issuer key, naming the chain's newest record, the
/// same while the chain has not grown and moving on when it does.
#[tokio::test]
async fn the_audit_checkpoint_names_the_chains_head() {
    use base64::Engine as _;
    use skillcard_credential::transparency::AuditCheckpoint;
    let app = spawn_app().await;
    let fetch = || async {
        let (s, b) = app.get_json("/api/v1/public/audit/checkpoint", None).await;
        assert_eq!(s, reqwest::StatusCode::OK, "{b}");
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b["signed"].as_str().unwrap())
            .unwrap();
        let (cp, kid) = AuditCheckpoint::verify(&bytes, &test_public_keys()).unwrap();
        assert_eq!(kid, b["kid"].as_str().unwrap());
        assert_eq!(
            (cp.seq, hex::encode(cp.hash)),
            (
                b["seq"].as_u64().unwrap(),
                b["hash"].as_str().unwrap().to_owned()
            )
        );
        (cp, b)
    };
    let (first, body) = fetch().await;
    let (tip_seq, tip_hash) = app.store.audit_tip().await.unwrap().unwrap();
    assert_eq!(
        (first.seq as i64, hex::encode(first.hash)),
        (tip_seq, tip_hash)
    );
    assert_eq!(
        fetch().await.1,
        body,
        "unchanged while the chain has not grown"
    );
    app.post_ok(
        "/api/v1/shipments/2/receipt",
        "security",
        &receipt_body(1000, &[], &[]),
    )
    .await;
    let (next, _) = fetch().await;
    assert!(next.seq > first.seq);
    assert_eq!(
        app.store.standing_against(&first).await.unwrap(),
        skillcard_db::checkpoint::CheckpointStanding::Extends { newest: next.seq }
    );
}
