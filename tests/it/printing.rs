//! over the API on both backends: a card taken from the office stock for an issued
//! certificate, its face printed, inspected, its chip written through a real card-writer back
//! end and read back, and its serial registered — and every step out of order refused with
//! nothing changed.

use crate::exam_pages::login;
use crate::exams::{entry, list_with_candidates};
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use skillcard_chip::{CardWriter, FileWriter};
use skillcard_credential::Verdict;

/// Runs three candidates through scores, approval, fee and issuance; returns the certificate id
/// and candidate id of each issued certificate (Ali's and Reza's).
pub async fn issued_certificates(app: &TestApp) -> Vec<(i64, i64)> {
    let (list, entries) = checked_list(app).await;
    for e in &entries {
        app.post_ok(
            &format!("/api/v1/exam-entries/{e}/decision"),
            "head",
            &json!({ "approve": true }),
        )
        .await;
    }
    pay_and_issue(app, &list).await
}

/// Three candidates scored (Zahra's written score fails), submitted and checked: the list as the
/// check answered it, and its entry ids, awaiting the head's decisions.
pub async fn checked_list(app: &TestApp) -> (Value, Vec<i64>) {
    let (id, entries) = list_with_candidates(app).await;
    let scores = json!({ "scores": [
        { "national_id": "0499370899", "score": "80" },
        { "national_id": "0012345679", "score": "90" },
        { "national_id": "1234567891", "score": "75.5" },
    ]});
    app.post_ok(
        &format!("/api/v1/exam-lists/{id}/scores"),
        "examiner",
        &scores,
    )
    .await;
    app.post_ok(
        &format!("/api/v1/exam-lists/{id}/submit"),
        "examiner",
        &json!({}),
    )
    .await;
    let list = app
        .post_ok(
            &format!("/api/v1/exam-lists/{id}/check"),
            "officer",
            &json!({ "accept": true }),
        )
        .await;
    (list, entries)
}

/// for the two passing candidates of a decided list: fee, payment, certificate.
pub async fn pay_and_issue(app: &TestApp, list: &Value) -> Vec<(i64, i64)> {
    let hq = app.token("hq").await;
    app.put_json(
        "/api/v1/fees",
        Some(&hq),
        &json!({ "kind": "issuance", "amount_rial": 1_500_000 }),
    )
    .await;
    let mut out = Vec::new();
    for (n, nid) in ["0499370899", "1234567891"].into_iter().enumerate() {
        let cand = entry(list, nid)["candidate_id"].as_i64().unwrap();
        app.post_ok(
            &format!("/api/v1/candidates/{cand}/payments"),
            "clerk",
            &json!({ "reference": format!("BANK-{n}"), "amount_rial": 1_500_000 }),
        )
        .await;
        let v = app
            .post_ok(
                &format!("/api/v1/candidates/{cand}/certificate"),
                "clerk",
                &json!({ "confirm": true }),
            )
            .await;
        out.push((v["certificate"]["id"].as_i64().unwrap(), cand));
    }
    out
}

/// The workstation's part of with the file back end: write the signed bytes, read them
/// back, and return the read-back.
fn write_chip(w: &mut FileWriter, print: &Value) -> Vec<u8> {
    let bytes = hex::decode(print["credential_hex"].as_str().unwrap()).unwrap();
    w.write(&bytes).unwrap();
    w.read().unwrap()
}

fn uid_hex(w: &mut FileWriter) -> String {
    hex::encode(w.uid().unwrap())
}

async fn card_state(app: &TestApp, serial: u64) -> (String, Option<String>) {
    sqlx::query_as("SELECT state, issued_at FROM cards WHERE serial = $1")
        .bind(serial as i64)
        .fetch_one(app.store.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn r6_7_to_r6_9_print_inspect_write_register() {
    let app = spawn_app().await;
    let certs = issued_certificates(&app).await;
    let (cert, _cand) = certs[0];
    let dir = tempdir();
    let mut chip = FileWriter::for_card(&dir, "blank-1").unwrap();
    let uid = uid_hex(&mut chip);
    let start = format!("/api/v1/certificates/{cert}/prints");
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;

    // the issuance role only; bad UIDs and serials outside the office stock are refused.
    app.post_rejected(
        &start,
        "head",
        &json!({ "chip_uid": uid }),
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    app.post_rejected(
        &start,
        "clerk",
        &json!({ "chip_uid": "zz" }),
        unprocessable,
        "invalid_value",
    )
    .await;
    app.post_rejected(
        &start,
        "clerk",
        &json!({ "chip_uid": "0102" }),
        unprocessable,
        "invalid_value",
    )
    .await;
    // Serial 102500 is still in transit (shipment 2); 100052 was missing on arrival.
    for serial in [102_500u64, 100_052] {
        app.post_rejected(
            &start,
            "clerk",
            &json!({ "chip_uid": uid, "serial": serial }),
            unprocessable,
            "card_not_in_office_stock",
        )
        .await;
    }

    // The print opens on the lowest serial of the office stock, with a credential for this chip.
    let lowest: (i64,) =
        sqlx::query_as("SELECT MIN(serial) FROM cards WHERE state = 'with_office'")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    let p = app
        .post_ok(&start, "clerk", &json!({ "chip_uid": uid }))
        .await;
    let print_id = p["id"].as_i64().unwrap();
    let serial = p["serial"].as_u64().unwrap();
    assert_eq!(serial, lowest.0 as u64);
    assert_eq!(p["status"], "printing");
    assert_eq!(card_state(&app, serial).await.0, "printing");
    let signed = hex::decode(p["credential_hex"].as_str().unwrap()).unwrap();
    match skillcard_credential::verify(
        &signed,
        &test_public_keys(),
        Some(&hex::decode(&uid).unwrap()),
    ) {
        Verdict::Valid { claims, .. } => {
            assert_eq!(claims.card_serial, serial);
            assert_eq!(claims.certificate_no, p["certificate_no"].as_str().unwrap());
            assert_eq!(claims.given_name, "علی");
            assert_eq!(claims.score, 750);
        }
        other => panic!("the signed credential does not verify: {other:?}"),
    }
    assert_eq!(
        skillcard_credential::from_qr_text(p["qr_text"].as_str().unwrap()).unwrap(),
        signed,
        "the QR carries the chip's bytes"
    );
    // One live card per certificate.
    app.post_rejected(
        &start,
        "clerk",
        &json!({ "chip_uid": uid }),
        StatusCode::CONFLICT,
        "print_in_progress",
    )
    .await;

    // The face: ID-1 pages with the certificate number, the serial and the QR of these bytes.
    let face = app
        .client
        .get(app.url(&format!("/api/v1/prints/{print_id}/face.pdf")))
        .bearer_auth(app.token("clerk").await)
        .send()
        .await
        .unwrap();
    assert_eq!(face.status(), StatusCode::OK);
    let pdf = face.bytes().await.unwrap();
    let text = pdf_text(&pdf);
    assert!(
        text.contains(&skillcard_core::text::persian_digits(&serial.to_string())),
        "serial not on the face: {text}"
    );
    assert_eq!(
        qr_codes(&pdf),
        vec![p["qr_text"].as_str().unwrap().to_string()]
    );

    // needs the inspection and the chip; needs this chip's exact bytes.
    let step = |s: &str| format!("/api/v1/prints/{print_id}/{s}");
    app.post_rejected(
        &step("register"),
        "clerk",
        &json!({}),
        unprocessable,
        "not_inspected",
    )
    .await;
    app.post_ok(&step("inspection"), "clerk", &json!({ "sound": true }))
        .await;
    app.post_rejected(
        &step("inspection"),
        "clerk",
        &json!({ "sound": true }),
        StatusCode::CONFLICT,
        "already_recorded",
    )
    .await;
    app.post_rejected(
        &step("register"),
        "clerk",
        &json!({}),
        unprocessable,
        "chip_not_written",
    )
    .await;
    let read_back = write_chip(&mut chip, &p);
    let mut other_chip = FileWriter::for_card(&dir, "another").unwrap();
    let other_uid = uid_hex(&mut other_chip);
    let mut tampered = read_back.clone();
    tampered[40] ^= 1;
    for (uid, bytes, reason) in [
        (other_uid.as_str(), read_back.clone(), "uid"),
        (uid.as_str(), tampered, "payload"),
    ] {
        let b = app
            .post_rejected(
                &step("chip"),
                "clerk",
                &json!({ "chip_uid": uid, "read_back": hex::encode(bytes) }),
                unprocessable,
                "chip_mismatch",
            )
            .await;
        assert_eq!(b["details"]["reason"], reason);
    }
    let v = app
        .post_ok(
            &step("chip"),
            "clerk",
            &json!({ "chip_uid": uid, "read_back": hex::encode(&read_back) }),
        )
        .await;
    assert_eq!(
        (v["inspected"].as_bool(), v["chip_verified"].as_bool()),
        (Some(true), Some(true))
    );
    app.post_rejected(
        &step("register"),
        "head",
        &json!({}),
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let v = app.post_ok(&step("register"), "clerk", &json!({})).await;
    assert_eq!(v["status"], "bound");
    let (state, issued_at) = card_state(&app, serial).await;
    assert_eq!(state, "bound");
    assert!(
        issued_at.is_some(),
        "R-6.9 sets the issue date Note 2's cap counts"
    );

    // The register of issued cards exports to Excel: serial beside certificate number.
    let resp = app
        .client
        .get(app.url("/api/v1/prints/export.xlsx?status=bound"))
        .bearer_auth(app.token("head").await)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let table = skillcard_sheets::read_sheet(&resp.bytes().await.unwrap(), None).unwrap();
    assert_eq!(table.rows.len(), 1);
    assert_eq!(table.headers[1], "سریال کارت");
    let cells = &table.rows[0].cells;
    assert!(cells.contains(&serial.to_string()), "{cells:?}");
    assert!(
        cells
            .iter()
            .any(|c| c == p["certificate_no"].as_str().unwrap()),
        "{cells:?}"
    );

    // Done is done: no second registration, no spoiling a registered card, no second card.
    app.post_rejected(
        &step("register"),
        "clerk",
        &json!({}),
        StatusCode::CONFLICT,
        "not_printing",
    )
    .await;
    app.post_rejected(
        &step("spoil"),
        "clerk",
        &json!({ "reason": "x" }),
        StatusCode::CONFLICT,
        "not_printing",
    )
    .await;
    app.post_rejected(
        &start,
        "clerk",
        &json!({ "chip_uid": uid }),
        StatusCode::CONFLICT,
        "already_recorded",
    )
    .await;
    let (s, _) = app
        .get_json(
            &format!("/api/v1/prints/{print_id}/face.pdf"),
            Some(&app.token("clerk").await),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::CONFLICT,
        "a registered card's face is not printed again"
    );
    app.assert_check_ok().await;
}

#[tokio::test]
async fn r6_7_spoiled_card_is_never_used_again() {
    let app = spawn_app().await;
    let certs = issued_certificates(&app).await;
    let (cert, cand) = certs[1];
    let dir = tempdir();
    let mut chip = FileWriter::for_card(&dir, "blank-2").unwrap();
    let uid = uid_hex(&mut chip);
    let start = format!("/api/v1/certificates/{cert}/prints");
    let p = app
        .post_ok(&start, "clerk", &json!({ "chip_uid": uid }))
        .await;
    let (id, serial) = (p["id"].as_i64().unwrap(), p["serial"].as_u64().unwrap());

    // A crash here leaves the print open: the clerk's queue shows it to resume or spoil.
    let queue = app.get_ok("/api/v1/prints?status=printing", "clerk").await;
    assert!(queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|q| q["id"] == id));

    // a damaged card needs a reason, then it is spoiled for good.
    let inspection = format!("/api/v1/prints/{id}/inspection");
    app.post_rejected(
        &inspection,
        "clerk",
        &json!({ "sound": false, "reason": " " }),
        StatusCode::UNPROCESSABLE_ENTITY,
        "required",
    )
    .await;
    let v = app
        .post_ok(
            &inspection,
            "clerk",
            &json!({ "sound": false, "reason": "رنگ عکس محو چاپ شده" }),
        )
        .await;
    assert_eq!(v["status"], "spoiled");
    assert_eq!(card_state(&app, serial).await.0, "spoiled");

    // The certificate awaits a card again; the spoiled serial cannot be named or picked.
    app.post_rejected(
        &start,
        "clerk",
        &json!({ "chip_uid": uid, "serial": serial }),
        StatusCode::UNPROCESSABLE_ENTITY,
        "card_not_in_office_stock",
    )
    .await;
    let again = app
        .post_ok(&start, "clerk", &json!({ "chip_uid": uid }))
        .await;
    assert_ne!(again["serial"].as_u64().unwrap(), serial);
    let prints = app
        .get_ok(&format!("/api/v1/certificates/{cert}/prints"), "clerk")
        .await;
    let statuses: Vec<&str> = prints
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["spoiled", "printing"]);

    // The clerk's page shows both prints and the steps of the open one, and records the
    // inspection through its form.
    let web = login(&app, "clerk").await;
    let page = web
        .get(app.url(&format!("/issuance/{cand}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("رنگ عکس محو چاپ شده"),
        "spoil reason not shown"
    );
    let form = format!("/prints/{}/inspection", again["id"]);
    assert!(page.contains(&form), "no inspection form");
    let csrf = extract_csrf(&page).unwrap();
    let r = web
        .post(app.url(&form))
        .form(&[("sound", "true"), ("_csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    let v = app
        .get_ok(&format!("/api/v1/prints/{}", again["id"]), "clerk")
        .await;
    assert_eq!(v["inspected"], true);
    // The dashboard lists the open print in the clerk's queue.
    let dash = web
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        dash.contains("ادامه چاپ کارت"),
        "open print not in the clerk's queue"
    );
    app.assert_check_ok().await;
}

/// `skillcard card write` and `card read`, the real binary at the clerk's workstation, with the
/// file back end, against the real server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r6_8_workstation_command_writes_and_reads_the_chip() {
    let app = spawn_app().await;
    let certs = issued_certificates(&app).await;
    let (cert, _) = certs[0];
    let dir = tempdir();
    let token = app.token("clerk").await;
    let face = dir.join("face.pdf");
    let run = |args: &[&str]| {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_skillcard"));
        cmd.args(args)
            .env("SKILLCARD_TOKEN", &token)
            .env("SKILLCARD_SERVER", &app.base);
        async move { cmd.output().await.unwrap() }
    };
    let card_dir = dir.join("cards");
    let card_dir = card_dir.to_str().unwrap();
    let out = run(&[
        "card",
        "write",
        "--certificate",
        &cert.to_string(),
        "--card-dir",
        card_dir,
        "--card",
        "c1",
        "--face-out",
        face.to_str().unwrap(),
    ])
    .await;
    assert!(
        out.status.success(),
        "card write failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let p: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (p["status"].as_str(), p["chip_verified"].as_bool()),
        (Some("printing"), Some(true))
    );
    assert!(std::fs::read(&face).unwrap().starts_with(b"%PDF"));

    // Resuming on another chip is refused before anything is written.
    let out = run(&[
        "card",
        "write",
        "--print",
        &p["id"].to_string(),
        "--card-dir",
        card_dir,
        "--card",
        "c2",
    ])
    .await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("was signed for chip"));

    // The card reads back valid for this chip against the published keys; a copy onto another
    // chip does not.
    let keys = dir.join("public-keys.json");
    test_public_keys().save(&keys).unwrap();
    let keys = keys.to_str().unwrap();
    let out = run(&[
        "card",
        "read",
        "--keys",
        keys,
        "--card-dir",
        card_dir,
        "--card",
        "c1",
    ])
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["verdict"], "valid");
    assert_eq!(v["credential"]["claims"]["card_serial"], p["serial"]);
    let copied = std::fs::read(format!("{card_dir}/c1.ef-e101")).unwrap();
    std::fs::write(format!("{card_dir}/c3.ef-e101"), copied).unwrap();
    let out = run(&[
        "card",
        "read",
        "--keys",
        keys,
        "--card-dir",
        card_dir,
        "--card",
        "c3",
    ])
    .await;
    assert!(!out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["verdict"], "chip_mismatch");
}

/// Public verification (no account) of a registered card by its QR text and by number plus
/// national code; a tampered QR, a spoiled card and a wrong national code each get their answer.
#[tokio::test]
async fn public_verification_of_printed_cards() {
    let app = spawn_app().await;
    let certs = issued_certificates(&app).await;
    let dir = tempdir();
    let mut chip = FileWriter::for_card(&dir, "pv").unwrap();
    let uid = uid_hex(&mut chip);
    let p = app
        .post_ok(
            &format!("/api/v1/certificates/{}/prints", certs[0].0),
            "clerk",
            &json!({ "chip_uid": uid }),
        )
        .await;
    let id = p["id"].as_i64().unwrap();
    let qr = p["qr_text"].as_str().unwrap().to_string();
    let verify = |q: Vec<(&'static str, String)>| {
        let url = app.url("/api/v1/public/verify");
        let client = app.client.clone();
        async move {
            let r = client.get(url).query(&q).send().await.unwrap();
            assert_eq!(
                r.headers()[reqwest::header::CACHE_CONTROL],
                "public, max-age=60"
            );
            r.json::<Value>().await.unwrap()
        }
    };
    // Signed but not registered yet: not a valid card.
    let v = verify(vec![("qr", qr.clone())]).await;
    assert_eq!(
        (v["result"].as_str(), v["signature"].as_str()),
        (Some("not_issued"), Some("valid"))
    );
    app.post_ok(
        &format!("/api/v1/prints/{id}/inspection"),
        "clerk",
        &json!({ "sound": true }),
    )
    .await;
    let read_back = write_chip(&mut chip, &p);
    app.post_ok(
        &format!("/api/v1/prints/{id}/chip"),
        "clerk",
        &json!({ "chip_uid": uid, "read_back": hex::encode(read_back) }),
    )
    .await;
    app.post_ok(
        &format!("/api/v1/prints/{id}/register"),
        "clerk",
        &json!({}),
    )
    .await;
    let v = verify(vec![("qr", qr.clone())]).await;
    assert_eq!(v["result"], "valid", "{v}");
    assert_eq!(v["certificate"]["national_id_masked"], "04******99");
    assert_eq!(v["certificate"]["given_name"], "علی");
    let by_number = verify(vec![
        ("number", p["certificate_no"].as_str().unwrap().to_string()),
        ("national_id", "۰۴۹۹۳۷۰۸۹۹".to_string()),
    ])
    .await;
    assert_eq!(by_number["result"], "valid");
    assert_eq!(by_number["certificate"]["card_serial"], p["serial"]);
    let wrong = verify(vec![
        ("number", p["certificate_no"].as_str().unwrap().to_string()),
        ("national_id", "0012345679".to_string()),
    ])
    .await;
    assert_eq!(
        (wrong["result"].as_str(), &wrong["certificate"]),
        (Some("unknown"), &Value::Null)
    );
    // A QR re-encoded from altered bytes fails its signature.
    let mut bytes = skillcard_credential::from_qr_text(&qr).unwrap();
    let n = bytes.len();
    bytes[n - 70] ^= 1;
    let v = verify(vec![("qr", skillcard_credential::to_qr_text(&bytes))]).await;
    assert_ne!(v["result"], "valid", "{v}");
    assert_eq!(v["certificate"], Value::Null);
    // A card spoiled at printing is void.
    let mut chip2 = FileWriter::for_card(&dir, "pv2").unwrap();
    let p2 = app
        .post_ok(
            &format!("/api/v1/certificates/{}/prints", certs[1].0),
            "clerk",
            &json!({ "chip_uid": uid_hex(&mut chip2) }),
        )
        .await;
    app.post_ok(
        &format!("/api/v1/prints/{}/spoil", p2["id"]),
        "clerk",
        &json!({ "reason": "چاپ کج" }),
    )
    .await;
    let v = verify(vec![("qr", p2["qr_text"].as_str().unwrap().to_string())]).await;
    assert_eq!(v["result"], "void");
    // The page, without an account, in Persian.
    let page = app
        .client
        .get(app.url("/verify"))
        .query(&[("qr", qr.as_str())])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("data-result=\"valid\""), "{page}");
    assert!(page.contains("معتبر است"));
    assert!(
        !page.contains("0499370899") && !page.contains("۰۴۹۹۳۷۰۸۹۹"),
        "the national code is not masked"
    );
}
