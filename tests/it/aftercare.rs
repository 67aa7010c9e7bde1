//! Part 3 over the API on both backends: delivery lists and handovers (R-5.4, R-7, Form 5),
//! damage cases (R-8, Note 3, Form 6) and replacements (R-9, Note 4) through HQ and back to a
//! reprint — every step out of order refused with nothing changed, and `check` clean after.

use crate::helpers::*;
use crate::printing::issued_certificates;
use reqwest::StatusCode;
use serde_json::{json, Value};
use skillcard_chip::{CardWriter, FileWriter};
use skillcard_core::policy::Role;

const CONFLICT: StatusCode = StatusCode::CONFLICT;
const UNPROCESSABLE: StatusCode = StatusCode::UNPROCESSABLE_ENTITY;

/// Prints, inspects, writes and registers a card for `cert`; returns the print.
pub async fn registered_card(app: &TestApp, cert: i64, chip_name: &str) -> Value {
    let (p, chip) = opened_print(app, cert, chip_name).await;
    register_opened(app, &p, chip).await
}

/// R-6.8's first step: a card taken for `cert` and its credential signed for a fresh chip.
pub async fn opened_print(app: &TestApp, cert: i64, chip_name: &str) -> (Value, FileWriter) {
    let dir = tempdir();
    let mut chip = FileWriter::for_card(&dir, chip_name).unwrap();
    let uid = hex::encode(chip.uid().unwrap());
    let p = app
        .post_ok(
            &format!("/api/v1/certificates/{cert}/prints"),
            "clerk",
            &json!({ "chip_uid": uid }),
        )
        .await;
    (p, chip)
}

/// The rest for an opened print: inspection, chip write with read-back, registration.
pub async fn register_opened(app: &TestApp, p: &Value, mut chip: FileWriter) -> Value {
    let id = p["id"].as_i64().unwrap();
    let uid = hex::encode(chip.uid().unwrap());
    app.post_ok(
        &format!("/api/v1/prints/{id}/inspection"),
        "clerk",
        &json!({ "sound": true }),
    )
    .await;
    let bytes = hex::decode(p["credential_hex"].as_str().unwrap()).unwrap();
    chip.write(&bytes).unwrap();
    let read_back = chip.read().unwrap();
    app.post_ok(
        &format!("/api/v1/prints/{id}/chip"),
        "clerk",
        &json!({ "chip_uid": uid, "read_back": hex::encode(read_back) }),
    )
    .await;
    let v = app
        .post_ok(
            &format!("/api/v1/prints/{id}/register"),
            "clerk",
            &json!({}),
        )
        .await;
    assert_eq!(v["status"], "bound");
    v
}

async fn card_state(app: &TestApp, serial: u64) -> String {
    let (s,): (String,) = sqlx::query_as("SELECT state FROM cards WHERE serial = $1")
        .bind(serial as i64)
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    s
}

async fn pdf_words(app: &TestApp, path: &str, user: &str, words: &[&str]) {
    let r = app
        .client
        .get(app.url(path))
        .bearer_auth(app.token(user).await)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{path}: {:?}", r.text().await);
    let bytes = r.bytes().await.unwrap();
    assert!(bytes.starts_with(b"%PDF"), "{path}");
    let text = pdf_text(&bytes);
    for w in words {
        assert!(text.contains(w), "{path} lacks {w:?}; text:\n{text}");
    }
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

const SCAN: &[u8] = b"%PDF-1.4\n% signed minutes, scanned\n";

/// A small scan of signed minutes, as the API takes it.
pub fn scan_base64() -> String {
    b64(SCAN)
}

pub async fn verify_standing(app: &TestApp, qr: &str) -> String {
    let r = app
        .client
        .get(app.url("/api/v1/public/verify"))
        .query(&[("qr", qr)])
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    v["result"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn r7_delivery_lists_handovers_and_r5_4_overdue() {
    let app = spawn_app().await;
    let certs = issued_certificates(&app).await;
    // A contact for the first holder: registration then queues a "card ready" notice.
    let t = app.token("clerk").await;
    let (s, b) = app
        .put_json(
            &format!("/api/v1/candidates/{}/contact", certs[0].1),
            Some(&t),
            &json!({ "contact": "۰۹۱۲-۱۲۳-۴۵۶۷" }),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{b}");
    let p1 = registered_card(&app, certs[0].0, "d1").await;
    let p2 = registered_card(&app, certs[1].0, "d2").await;
    // The register of issued cards pages newest first, with the cursor to the older ones.
    let page = app
        .get_ok("/api/v1/prints?status=bound&limit=1", "clerk")
        .await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let older = page["next_before"].as_i64().unwrap();
    let rest = app
        .get_ok(
            &format!("/api/v1/prints?status=bound&limit=1&before={older}"),
            "clerk",
        )
        .await;
    assert!(rest["items"][0]["id"].as_i64().unwrap() < older);
    assert_eq!(rest["next_before"], Value::Null);
    let (id1, id2) = (p1["id"].as_i64().unwrap(), p2["id"].as_i64().unwrap());
    let notices = app.get_ok("/api/v1/notifications", "clerk").await["items"].clone();
    assert_eq!(notices.as_array().unwrap().len(), 1, "{notices}");
    assert_eq!(notices[0]["kind"], "card_ready");
    assert_eq!(notices[0]["recipient"], "09121234567");

    let waiting = app
        .get_ok("/api/v1/deliveries/undelivered?unlisted=true", "delivery")
        .await["items"]
        .clone();
    assert_eq!(waiting.as_array().unwrap().len(), 2);
    assert!(waiting[0]["days_overdue"].is_null());
    // The queue pages by cursor, oldest first: one card, then the other, then the end.
    let first = app
        .get_ok("/api/v1/deliveries/undelivered?limit=1", "delivery")
        .await;
    assert_eq!(first["items"][0]["print_id"], waiting[0]["print_id"]);
    let after = first["next_after"].as_i64().unwrap();
    let second = app
        .get_ok(
            &format!("/api/v1/deliveries/undelivered?limit=1&after={after}"),
            "delivery",
        )
        .await;
    assert_eq!(second["items"][0]["print_id"], waiting[1]["print_id"]);
    assert!(second["next_after"].is_null(), "{second}");

    // a card registered ten days ago is three days overdue, for the office and for HQ.
    let ten_days_ago =
        (time::OffsetDateTime::now_utc().date() - time::Duration::days(10)).to_string();
    sqlx::query("UPDATE card_prints SET registered_on = $1 WHERE id = $2")
        .bind(&ten_days_ago)
        .bind(id2)
        .execute(app.store.pool())
        .await
        .unwrap();
    let overdue = app.get_ok("/api/v1/deliveries/overdue", "head").await["items"].clone();
    assert_eq!(overdue.as_array().unwrap().len(), 1, "{overdue}");
    assert_eq!(overdue[0]["print_id"], id2);
    let days = overdue[0]["days_overdue"].as_i64().unwrap();
    assert!((2..=4).contains(&days), "{days}");
    let per_province = app
        .get_ok("/api/v1/deliveries/overdue/provinces", "hq")
        .await;
    let mine = per_province
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["province_id"] == p1["province_id"])
        .unwrap();
    assert_eq!(
        (mine["overdue"].as_i64(), mine["undelivered"].as_i64()),
        (Some(1), Some(2))
    );
    // Provinces with overdue cards come first: here the only one, though not the first by id.
    assert_eq!(
        per_province[0]["province_id"], p1["province_id"],
        "{per_province}"
    );
    assert!(per_province.as_array().unwrap()[1..]
        .iter()
        .all(|p| p["overdue"] == 0));
    // The office sees only its own province.
    let own = app
        .get_ok("/api/v1/deliveries/overdue/provinces", "head")
        .await;
    assert_eq!(own.as_array().unwrap().len(), 1);

    // a handover list (Form 5); a card joins one list only.
    let list = app
        .post_ok(
            "/api/v1/delivery-lists",
            "delivery",
            &json!({ "label": "مرکز شماره ۱", "print_ids": [id1, id2] }),
        )
        .await;
    let list_id = list["id"].as_i64().unwrap();
    assert_eq!(list["cards"].as_array().unwrap().len(), 2);
    app.post_rejected(
        "/api/v1/delivery-lists",
        "delivery",
        &json!({ "label": "دوباره", "print_ids": [id1] }),
        CONFLICT,
        "already_listed",
    )
    .await;
    app.post_rejected(
        "/api/v1/delivery-lists",
        "delivery",
        &json!({ "label": "خالی", "print_ids": [] }),
        UNPROCESSABLE,
        "required",
    )
    .await;
    pdf_words(
        &app,
        &format!("/api/v1/delivery-lists/{list_id}/form5.pdf"),
        "delivery",
        &[
            "اصفهان",
            &skillcard_core::text::fa_num(p1["serial"].as_u64().unwrap()),
        ],
    )
    .await;

    // Confirming a card of another province is refused.
    let other = p1["province_id"].as_i64().unwrap() + 1;
    app.create_user("delivery2", Role::DeliveryAgent, Some(other))
        .await;
    let deliver1 = format!("/api/v1/prints/{id1}/delivery");
    app.post_rejected(
        &deliver1,
        "delivery2",
        &json!({ "method": "in_person", "receiver": "x" }),
        StatusCode::FORBIDDEN,
        "wrong_province",
    )
    .await;
    app.post_rejected(
        &deliver1,
        "delivery",
        &json!({ "method": "in_person", "receiver": " " }),
        UNPROCESSABLE,
        "required",
    )
    .await;
    app.post_rejected(
        &deliver1,
        "delivery",
        &json!({ "method": "pigeon" }),
        UNPROCESSABLE,
        "invalid_value",
    )
    .await;
    // in person, with the receiver's name.
    let d = app
        .post_ok(
            &deliver1,
            "delivery",
            &json!({ "method": "in_person", "receiver": "علي رضايي" }),
        )
        .await;
    assert_eq!(d["receiver"], "علی رضایی");
    assert_eq!(d["delivery_method"], "in_person");
    assert_eq!(
        card_state(&app, p1["serial"].as_u64().unwrap()).await,
        "delivered"
    );
    app.post_rejected(
        &deliver1,
        "delivery",
        &json!({ "method": "in_person", "receiver": "دیگری" }),
        CONFLICT,
        "already_recorded",
    )
    .await;
    // By post: the tracking number stands for the handover.
    let deliver2 = format!("/api/v1/prints/{id2}/delivery");
    app.post_rejected(
        &deliver2,
        "delivery",
        &json!({ "method": "post", "tracking_no": "12" }),
        UNPROCESSABLE,
        "invalid_value",
    )
    .await;
    let d = app
        .post_ok(
            &deliver2,
            "delivery",
            &json!({ "method": "post", "tracking_no": "ir ۱۲۳۴۵۶۷۸" }),
        )
        .await;
    assert_eq!(d["tracking_no"], "IR12345678");
    let overdue = app.get_ok("/api/v1/deliveries/overdue", "head").await["items"].clone();
    assert!(
        overdue.as_array().unwrap().is_empty(),
        "delivered is not overdue: {overdue}"
    );

    // the scan of the signed Form 5 stays with the list; anything not a PDF/JPEG/PNG is refused.
    let t = app.token("delivery").await;
    let scan_path = format!("/api/v1/delivery-lists/{list_id}/scan");
    let before = db_fingerprint(&app.store).await;
    let (s, b) = app
        .put_json(
            &scan_path,
            Some(&t),
            &json!({ "scan_base64": b64(b"hello") }),
        )
        .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (UNPROCESSABLE, Some("invalid_value")),
        "{b}"
    );
    let (s, b) = app
        .put_json(
            &scan_path,
            Some(&t),
            &json!({ "scan_base64": b64(&skillcard_media::samples::png_bomb(100_000, 100_000)) }),
        )
        .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (UNPROCESSABLE, Some("image_too_large")),
        "{b}"
    );
    assert_eq!(before, db_fingerprint(&app.store).await);
    let (s, b) = app
        .put_json(&scan_path, Some(&t), &json!({ "scan_base64": b64(SCAN) }))
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["has_scan"], true);
    assert_eq!(b["delivered"], 2);
    let r = app
        .client
        .get(app.url(&scan_path))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()[reqwest::header::CONTENT_TYPE],
        "application/pdf"
    );
    assert_eq!(&r.bytes().await.unwrap()[..], SCAN);
    app.assert_check_ok().await;
}

#[tokio::test]
async fn r8_damage_case_to_hq_and_one_reprint_per_authorisation() {
    let app = spawn_app().await;
    let certs = issued_certificates(&app).await;
    let (cert, _) = certs[0];
    let p = registered_card(&app, cert, "dm1").await;
    let print_id = p["id"].as_i64().unwrap();
    let serial = p["serial"].as_u64().unwrap();
    let qr = p["qr_text"].as_str().unwrap().to_string();

    // the clerk opens the case; "other" needs its words; a card not registered is refused.
    let open = "/api/v1/cases/damage";
    app.post_rejected(
        open,
        "clerk",
        &json!({ "cards": [{ "print_id": print_id, "cause": "other" }] }),
        UNPROCESSABLE,
        "required",
    )
    .await;
    app.post_rejected(
        open,
        "delivery",
        &json!({ "cards": [{ "print_id": print_id, "cause": "chip_fault" }] }),
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let case = app
        .post_ok(
            open,
            "clerk",
            &json!({ "cards": [{ "print_id": print_id, "cause": "chip_fault", "detail": "تراشه پاسخ نمی‌دهد" }] }),
        )
        .await;
    let case_id = case["id"].as_i64().unwrap();
    assert_eq!(case["status"], "open");
    assert_eq!(case["items"][0]["print_status"], "damaged");
    assert_eq!(card_state(&app, serial).await, "damaged");
    assert_eq!(verify_standing(&app, &qr).await, "damaged");
    // HQ's stock view counts returned cards at each step, not only its case list.
    let returned =
        |s: &Value| ["issued", "damaged", "sent_to_hq", "at_hq"].map(|k| s[k].as_u64().unwrap());
    let stock = app.stock(4).await;
    let issued = stock["issued"].as_u64().unwrap();
    assert_eq!(returned(&stock), [issued, 1, 0, 0]);
    // A damaged card is not delivered, and not put in a second case.
    app.post_rejected(
        &format!("/api/v1/prints/{print_id}/delivery"),
        "delivery",
        &json!({ "method": "in_person", "receiver": "x" }),
        CONFLICT,
        "not_deliverable",
    )
    .await;
    app.post_rejected(
        open,
        "clerk",
        &json!({ "cards": [{ "print_id": print_id, "cause": "physical" }] }),
        CONFLICT,
        "not_in_service",
    )
    .await;

    // no reprint before HQ's authorisation.
    let dir = tempdir();
    let mut chip = FileWriter::for_card(&dir, "dm-new").unwrap();
    let uid = hex::encode(chip.uid().unwrap());
    let start = format!("/api/v1/certificates/{cert}/prints");
    app.post_rejected(
        &start,
        "clerk",
        &json!({ "chip_uid": uid }),
        CONFLICT,
        "reprint_not_authorized",
    )
    .await;

    // Out of order: no letter before the review.
    let send = format!("/api/v1/cases/{case_id}/send");
    let send_body = json!({ "letter_no": "۱۲۳/ص", "letter_date": "۱۴۰۵/۰۹/۰۵", "minutes_scan_base64": b64(SCAN) });
    app.post_rejected(&send, "dg", &send_body, CONFLICT, "wrong_case_status")
        .await;
    let reviewed = app
        .post_ok(
            &format!("/api/v1/cases/{case_id}/review"),
            "officer",
            &json!({ "outcome": "تأیید خرابی تراشه؛ ارسال به ستاد" }),
        )
        .await;
    assert_eq!(reviewed["status"], "reviewed");
    pdf_words(
        &app,
        &format!("/api/v1/cases/{case_id}/form6.pdf"),
        "officer",
        &["اصفهان", &skillcard_core::text::fa_num(serial)],
    )
    .await;
    app.post_rejected(
        &send,
        "dg",
        &json!({ "letter_no": "۱۲۳", "letter_date": "۱۴۰۵/۰۹/۰۵", "minutes_scan_base64": b64(b"GIF89a") }),
        UNPROCESSABLE,
        "invalid_value",
    )
    .await;
    app.post_rejected(
        &send,
        "dg",
        &json!({ "letter_no": "۱۲۳", "letter_date": "۱۴۰۵/۰۹/۰۵",
                 "minutes_scan_base64": b64(&skillcard_media::samples::png_bomb(100_000, 100_000)) }),
        UNPROCESSABLE,
        "image_too_large",
    )
    .await;
    let sent = app.post_ok(&send, "dg", &send_body).await;
    assert_eq!(sent["status"], "sent_to_hq");
    assert_eq!(card_state(&app, serial).await, "sent_to_hq");
    assert_eq!(returned(&app.stock(4).await), [issued, 0, 1, 0]);
    pdf_words(
        &app,
        &format!("/api/v1/cases/{case_id}/letter.pdf"),
        "dg",
        &[&skillcard_core::text::fa_num(serial)],
    )
    .await;

    // at HQ: arrival, then authorisation — not the other way round, and only HQ.
    let authorize = format!("/api/v1/cases/{case_id}/authorization");
    app.post_rejected(&authorize, "hq", &json!({}), CONFLICT, "wrong_case_status")
        .await;
    let arrival = format!("/api/v1/cases/{case_id}/arrival");
    app.post_rejected(
        &arrival,
        "head",
        &json!({}),
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    app.post_ok(&arrival, "hq", &json!({})).await;
    assert_eq!(card_state(&app, serial).await, "at_hq");
    assert_eq!(returned(&app.stock(4).await), [issued, 0, 0, 1]);
    let hq_web = crate::exam_pages::login(&app, "hq").await;
    let (dash, _) = crate::exam_pages::page(&app, &hq_web, "/").await;
    assert!(dash.contains("رسیده به ستاد"), "{dash}");
    let row = dash.split("<tr data-province=\"4\">").nth(1).unwrap();
    assert!(row.contains("<td data-col=\"at_hq\">۱</td>"), "{row}");
    // The clerk's pages follow the core: at HQ but not yet authorised, no print form and no
    // "print card" to-do, and the page says why.
    let cand = certs[0].1;
    let clerk = crate::exam_pages::login(&app, "clerk").await;
    let issuance = format!("/issuance/{cand}");
    let (html, _) = crate::exam_pages::page(&app, &clerk, &issuance).await;
    assert!(
        !html.contains(&format!("action=\"/issuance/{cand}/prints\"")),
        "{html}"
    );
    assert!(html.contains("data-no-print"), "{html}");
    let todo = format!("href=\"/issuance/{cand}#card-prints\"");
    let (dash, _) = crate::exam_pages::page(&app, &clerk, "/").await;
    assert!(
        !dash.contains(&todo),
        "a print to-do before HQ's authorisation:\n{dash}"
    );
    let done = app.post_ok(&authorize, "hq", &json!({})).await;
    assert_eq!(done["status"], "authorized");
    app.assert_check_ok().await;
    // Authorised: the to-do appears and the page offers the print.
    let (dash, _) = crate::exam_pages::page(&app, &clerk, "/").await;
    assert!(
        dash.contains(&todo),
        "no print to-do after HQ's authorisation:\n{dash}"
    );
    let (html, _) = crate::exam_pages::page(&app, &clerk, &issuance).await;
    assert!(
        html.contains(&format!("action=\"/issuance/{cand}/prints\"")),
        "{html}"
    );
    assert!(!html.contains("data-no-print"));

    // The reprint: a new serial bound to the same certificate; the old one shows as damaged and
    // reissued, and is never usable again.
    let reprint = registered_card(&app, cert, "dm-reprint").await;
    assert_ne!(reprint["serial"].as_u64().unwrap(), serial);
    assert_eq!(reprint["certificate_id"], cert);
    assert_eq!(verify_standing(&app, &qr).await, "damaged_reissued");
    assert_eq!(
        verify_standing(&app, reprint["qr_text"].as_str().unwrap()).await,
        "valid"
    );
    let case = app
        .get_ok(&format!("/api/v1/cases/{case_id}"), "clerk")
        .await;
    assert_eq!(case["items"][0]["reprint_print_id"], reprint["id"]);

    // A second reprint on the same authorisation: damage the reprint, and printing again needs a
    // new authorisation.
    app.post_ok(
        open,
        "clerk",
        &json!({ "cards": [{ "print_id": reprint["id"], "cause": "physical" }] }),
    )
    .await;
    app.post_rejected(
        &start,
        "clerk",
        &json!({ "chip_uid": uid }),
        CONFLICT,
        "reprint_not_authorized",
    )
    .await;
    app.assert_check_ok().await;
}

#[tokio::test]
async fn r9_replacement_approved_with_corrections_and_rejected() {
    let app = spawn_app().await;
    let certs = issued_certificates(&app).await;
    let hq = app.token("hq").await;
    app.put_json(
        "/api/v1/fees",
        Some(&hq),
        &json!({ "kind": "replacement", "amount_rial": 800_000 }),
    )
    .await;
    let p1 = registered_card(&app, certs[0].0, "rp1").await;
    let p2 = registered_card(&app, certs[1].0, "rp2").await;
    let (id1, id2) = (p1["id"].as_i64().unwrap(), p2["id"].as_i64().unwrap());

    // the request names its reason; corrections and the scan go with it.
    app.post_rejected(
        &format!("/api/v1/prints/{id1}/replacement"),
        "clerk",
        &json!({ "reason": " " }),
        UNPROCESSABLE,
        "required",
    )
    .await;
    app.post_rejected(
        &format!("/api/v1/prints/{id1}/replacement"),
        "clerk",
        &json!({
            "reason": "اشتباه در نام خانوادگی", "last_name": "محمدي‌پور",
            "scan_base64": b64(&skillcard_media::samples::jpeg_bomb(60_000, 60_000)),
        }),
        UNPROCESSABLE,
        "image_too_large",
    )
    .await;
    let case = app
        .post_ok(
            &format!("/api/v1/prints/{id1}/replacement"),
            "clerk",
            &json!({
                "reason": "اشتباه در نام خانوادگی", "last_name": "محمدي‌پور",
                "scan_base64": b64(SCAN), "contact": "09121112233",
            }),
        )
        .await;
    let case_id = case["id"].as_i64().unwrap();
    assert_eq!(case["status"], "requested");
    assert_eq!(case["corrections"]["last_name"], "محمدی‌پور");
    let decision = format!("/api/v1/cases/{case_id}/decision");
    app.post_rejected(
        &decision,
        "head",
        &json!({ "approve": true }),
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    app.post_rejected(
        &decision,
        "board",
        &json!({ "approve": false }),
        UNPROCESSABLE,
        "required",
    )
    .await;
    // Out of order: no voiding before the board's approval.
    let void = format!("/api/v1/cases/{case_id}/void");
    app.post_rejected(&void, "officer", &json!({}), CONFLICT, "wrong_case_status")
        .await;
    app.post_ok(
        &decision,
        "board",
        &json!({ "approve": true, "reason": "صورتجلسه ۱۲" }),
    )
    .await;
    // The card is still valid until voided.
    assert_eq!(
        verify_standing(&app, p1["qr_text"].as_str().unwrap()).await,
        "valid"
    );
    let voided = app.post_ok(&void, "officer", &json!({})).await;
    assert_eq!(voided["status"], "voided");
    assert_eq!(voided["fee_amount"], 800_000);
    assert_eq!(
        card_state(&app, p1["serial"].as_u64().unwrap()).await,
        "void"
    );
    assert_eq!(
        verify_standing(&app, p1["qr_text"].as_str().unwrap()).await,
        "replaced"
    );
    let notices = app.get_ok("/api/v1/notifications", "clerk").await["items"].clone();
    assert!(
        notices
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["kind"] == "fee_due" && n["recipient"] == "09121112233"),
        "{notices}"
    );
    pdf_words(
        &app,
        &format!("/api/v1/cases/{case_id}/fee-notice.pdf"),
        "officer",
        &["۸۰۰٬۰۰۰"],
    )
    .await;

    // The fee, then the same road as.
    let send = format!("/api/v1/cases/{case_id}/send");
    let send_body = json!({ "letter_no": "۴۵۶", "letter_date": "۱۴۰۵/۰۹/۰۶", "minutes_scan_base64": b64(SCAN) });
    app.post_rejected(&send, "dg", &send_body, CONFLICT, "wrong_case_status")
        .await;
    let fee = format!("/api/v1/cases/{case_id}/fee");
    app.post_rejected(
        &fee,
        "clerk",
        &json!({ "reference": "R-1", "amount_rial": 1000 }),
        UNPROCESSABLE,
        "wrong_amount",
    )
    .await;
    app.post_ok(
        &fee,
        "clerk",
        &json!({ "reference": "R-1", "amount_rial": 800_000 }),
    )
    .await;
    app.post_ok(&send, "dg", &send_body).await;
    app.post_ok(
        &format!("/api/v1/cases/{case_id}/arrival"),
        "hq",
        &json!({}),
    )
    .await;
    app.post_ok(
        &format!("/api/v1/cases/{case_id}/authorization"),
        "hq",
        &json!({}),
    )
    .await;
    // Reissued with the corrected data.
    let reprint = registered_card(&app, certs[0].0, "rp1-new").await;
    assert_eq!(reprint["family_name"], "محمدی‌پور");
    let signed = hex::decode(reprint["credential_hex"].as_str().unwrap()).unwrap();
    match skillcard_credential::verify(&signed, &test_public_keys(), None) {
        skillcard_credential::Verdict::Valid { claims, .. } => {
            assert_eq!(claims.family_name, "محمدی‌پور")
        }
        other => panic!("{other:?}"),
    }

    // Rejected: the reason is kept and the old card stays valid.
    let case2 = app
        .post_ok(
            &format!("/api/v1/prints/{id2}/replacement"),
            "clerk",
            &json!({ "reason": "کارت فرسوده" }),
        )
        .await;
    let case2_id = case2["id"].as_i64().unwrap();
    let rejected = app
        .post_ok(
            &format!("/api/v1/cases/{case2_id}/decision"),
            "board",
            &json!({ "approve": false, "reason": "مدرکی ارائه نشد" }),
        )
        .await;
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(rejected["decision_reason"], "مدرکی ارائه نشد");
    assert_eq!(
        verify_standing(&app, p2["qr_text"].as_str().unwrap()).await,
        "valid"
    );
    app.post_rejected(
        &format!("/api/v1/cases/{case2_id}/void"),
        "officer",
        &json!({}),
        CONFLICT,
        "wrong_case_status",
    )
    .await;
    app.assert_check_ok().await;
}

/// A sender that fails its first `fail` calls, then records what it sent.
struct FlakySender {
    fail: std::sync::atomic::AtomicUsize,
    sent: std::sync::Mutex<Vec<String>>,
}

impl skillcard_db::notify::Sender for FlakySender {
    async fn send(
        &self,
        n: &skillcard_db::notify::Outgoing,
    ) -> Result<skillcard_db::notify::Receipt, String> {
        use std::sync::atomic::Ordering;
        if self
            .fail
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |f| f.checked_sub(1))
            .is_ok()
        {
            return Err("gateway timeout".into());
        }
        self.sent.lock().unwrap().push(n.recipient.clone());
        Ok(None)
    }
}

#[tokio::test]
async fn notices_outbox_retries_with_backoff_then_sends_once() {
    let app = spawn_app().await;
    let certs = issued_certificates(&app).await;
    let t = app.token("clerk").await;
    app.put_json(
        &format!("/api/v1/candidates/{}/contact", certs[0].1),
        Some(&t),
        &json!({ "contact": "ali@example.ir" }),
    )
    .await;
    let (s, b) = app
        .put_json(
            &format!("/api/v1/candidates/{}/contact", certs[1].1),
            Some(&t),
            &json!({ "contact": "0912" }),
        )
        .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (UNPROCESSABLE, Some("invalid_value"))
    );
    registered_card(&app, certs[0].0, "n1").await;
    let sender = FlakySender {
        fail: 2.into(),
        sent: Default::default(),
    };
    let now = time::OffsetDateTime::now_utc();
    let r = app
        .store
        .dispatch_notifications(&sender, now, 10)
        .await
        .unwrap();
    assert_eq!((r.sent, r.retried, r.failed), (0, 1, 0));
    // Not due again until the back-off has passed.
    let r = app
        .store
        .dispatch_notifications(&sender, now, 10)
        .await
        .unwrap();
    assert_eq!(r, Default::default());
    let later = now + time::Duration::minutes(1);
    let r = app
        .store
        .dispatch_notifications(&sender, later, 10)
        .await
        .unwrap();
    assert_eq!(r.retried, 1);
    let r = app
        .store
        .dispatch_notifications(&sender, later + time::Duration::minutes(2), 10)
        .await
        .unwrap();
    assert_eq!(r.sent, 1);
    assert_eq!(
        *sender.sent.lock().unwrap(),
        vec!["ali@example.ir".to_string()]
    );
    let notices = app.get_ok("/api/v1/notifications", "clerk").await["items"].clone();
    assert_eq!(notices[0]["status"], "sent");
    assert_eq!(notices[0]["attempts"], 3);
    // Sent is sent: nothing goes out twice.
    let r = app
        .store
        .dispatch_notifications(&sender, later + time::Duration::hours(1), 10)
        .await
        .unwrap();
    assert_eq!(r, Default::default());

    // A gateway that never answers: the notice fails for good after the last attempt.
    sqlx::query("UPDATE notifications SET status = 'pending', attempts = 0")
        .execute(app.store.pool())
        .await
        .unwrap();
    let dead = FlakySender {
        fail: 100.into(),
        sent: Default::default(),
    };
    let mut at = now;
    let mut failed = 0;
    for _ in 0..10 {
        at += time::Duration::hours(1);
        failed += app
            .store
            .dispatch_notifications(&dead, at, 10)
            .await
            .unwrap()
            .failed;
    }
    assert_eq!(failed, 1);
    let notices = app.get_ok("/api/v1/notifications", "clerk").await["items"].clone();
    assert_eq!(notices[0]["status"], "failed");
    assert_eq!(notices[0]["attempts"], skillcard_core::notice::MAX_ATTEMPTS);
    assert_eq!(notices[0]["last_error"], "gateway timeout");

    // one overdue-pickup notice per card past the week, queued once.
    sqlx::query("UPDATE card_prints SET registered_on = '2026-01-01'")
        .execute(app.store.pool())
        .await
        .unwrap();
    let today = skillcard_core::date::tehran_date(now);
    assert_eq!(app.store.notify_overdue(today).await.unwrap(), 1);
    assert_eq!(app.store.notify_overdue(today).await.unwrap(), 0);
    app.assert_check_ok().await;
}

/// `check` covers the Part 3 states: a delivered card whose print is voided behind the
/// application's back, or a damaged card put back in the office stock, is reported.
#[tokio::test]
async fn check_covers_delivered_damaged_and_void_cards() {
    let app = spawn_app().await;
    let certs = issued_certificates(&app).await;
    let p1 = registered_card(&app, certs[0].0, "c1").await;
    let p2 = registered_card(&app, certs[1].0, "c2").await;
    app.post_ok(
        &format!("/api/v1/prints/{}/delivery", p1["id"]),
        "delivery",
        &json!({ "method": "in_person", "receiver": "علی" }),
    )
    .await;
    app.post_ok(
        "/api/v1/cases/damage",
        "clerk",
        &json!({ "cards": [{ "print_id": p2["id"], "cause": "physical" }] }),
    )
    .await;
    app.assert_check_ok().await;
    let pool = app.store.pool();

    sqlx::query("UPDATE card_prints SET status = 'void' WHERE id = $1")
        .bind(p1["id"].as_i64().unwrap())
        .execute(pool)
        .await
        .unwrap();
    let report = app.store.check().await.unwrap();
    assert!(
        report
            .violations
            .iter()
            .any(|v| v.invariant == "print_card_state"),
        "{report:?}"
    );
    sqlx::query("UPDATE card_prints SET status = 'bound' WHERE id = $1")
        .bind(p1["id"].as_i64().unwrap())
        .execute(pool)
        .await
        .unwrap();
    app.assert_check_ok().await;

    // A damaged card slipped back into the office stock: used and stock no longer add up.
    sqlx::query("UPDATE cards SET state = 'with_office' WHERE serial = $1")
        .bind(p2["serial"].as_i64().unwrap())
        .execute(pool)
        .await
        .unwrap();
    let report = app.store.check().await.unwrap();
    let names: Vec<&str> = report.violations.iter().map(|v| v.invariant).collect();
    assert!(names.contains(&"print_card_state"), "{names:?}");
    assert!(names.contains(&"prints_match_cards"), "{names:?}");
}
