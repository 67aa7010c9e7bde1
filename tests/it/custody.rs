//! Part 1 of the regulation over the HTTP API, R-3 / Note 1 / Form 2, R-4.1 / Note 2,
//! R-4.3 / Form 4.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use skillcard_core::policy::Role;

fn ranges_of(v: &Value) -> Vec<(u64, u64)> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| (r["first"].as_u64().unwrap(), r["last"].as_u64().unwrap()))
        .collect()
}

/// HQ dispatches, Security receives with missing and damaged ranges, the stock per state
/// follows, and HQ sees the discrepancy.
#[tokio::test]
async fn r1_dispatch_receive_with_discrepancies() {
    let app = spawn_app().await;
    let before = app.stock(ISFAHAN).await;
    assert_eq!(before["in_transit"], 1000);
    assert_eq!(before["in_vault"], 1493);
    assert_eq!(before["with_office"], 500);
    assert_eq!(before["missing_on_arrival"], 5);
    assert_eq!(before["damaged_on_arrival"], 2);

    let sh = app
        .post_ok(
            "/api/v1/shipments",
            "hq",
            &json!({ "province_id": ISFAHAN, "ref_no": "۱۴۰۵-۱۰۱", "carrier": "پست پیشتاز",
                     "declared_count": 1000,
                     "ranges": [{ "first": 200001, "last": 200500 }, { "first": 200501, "last": 201000 }] }),
        )
        .await;
    assert_eq!(sh["status"], "in_transit");
    assert_eq!(sh["declared_count"], 1000);
    let id = sh["id"].as_i64().unwrap();
    let mid = app.stock(ISFAHAN).await;
    assert_eq!(mid["in_transit"], 2000);
    assert_eq!(mid["in_vault"], 1493);

    let got = app
        .post_ok(
            &format!("/api/v1/shipments/{id}/receipt"),
            "security",
            &receipt_body(987, &[(200100, 200109)], &[(200900, 200902)]),
        )
        .await;
    assert_eq!(got["status"], "received");
    assert_eq!(got["receipt"]["received_count"], 987);

    let after = app.stock(ISFAHAN).await;
    assert_eq!(after["in_transit"], 1000);
    assert_eq!(after["in_vault"], 1493 + 987);
    assert_eq!(after["with_office"], 500);
    assert_eq!(after["missing_on_arrival"], 5 + 10);
    assert_eq!(after["damaged_on_arrival"], 2 + 3);
    // Security of the province sees the same counts (scoped to its province).
    let own = app.get_ok("/api/v1/stock", "security").await;
    assert_eq!(own.as_array().unwrap().len(), 1);
    assert_eq!(own[0]["in_vault"], 1493 + 987);

    let view = app.get_ok(&format!("/api/v1/shipments/{id}"), "hq").await;
    let r = &view["receipt"];
    assert_eq!(r["missing_count"], 10);
    assert_eq!(r["damaged_count"], 3);
    assert_eq!(ranges_of(&r["missing"]), vec![(200100, 200109)]);
    assert_eq!(ranges_of(&r["damaged"]), vec![(200900, 200902)]);
    assert_eq!(
        ranges_of(&view["ranges"]),
        vec![(200001, 200500), (200501, 201000)]
    );
    app.assert_check_ok().await;
}

/// R-1, bad input: each rejection has its code and leaves the database as it was.
#[tokio::test]
async fn r1_bad_input_is_rejected_without_change() {
    let app = spawn_app().await;
    let ship = |ranges: Value, declared: Value| json!({ "province_id": ISFAHAN, "ref_no": "R-bad", "carrier": "پست", "declared_count": declared, "ranges": ranges });
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    // Overlapping ranges within one shipment.
    app.post_rejected(
        "/api/v1/shipments",
        "hq",
        &ship(
            json!([{ "first": 300001, "last": 300100 }, { "first": 300050, "last": 300200 }]),
            json!(251),
        ),
        unprocessable,
        "overlapping_ranges",
    )
    .await;
    // A range overlapping an earlier shipment (demo shipment 1: 100001–102000).
    let b = app
        .post_rejected(
            "/api/v1/shipments",
            "hq",
            &ship(json!([{ "first": 101901, "last": 102100 }]), json!(200)),
            StatusCode::CONFLICT,
            "serials_already_known",
        )
        .await;
    assert!(
        b["details"]["range"].as_str().unwrap().contains("101901"),
        "{b}"
    );
    // Reversed.
    app.post_rejected(
        "/api/v1/shipments",
        "hq",
        &ship(json!([{ "first": 300100, "last": 300001 }]), json!(100)),
        unprocessable,
        "reversed_range",
    )
    .await;
    // Declared count disagrees with the ranges.
    let b = app
        .post_rejected(
            "/api/v1/shipments",
            "hq",
            &ship(json!([{ "first": 300001, "last": 300100 }]), json!(99)),
            unprocessable,
            "declared_count_mismatch",
        )
        .await;
    assert_eq!(b["details"]["declared"], 99);
    assert_eq!(b["details"]["actual"], 100);
    // Malformed digits.
    app.post_rejected(
        "/api/v1/shipments",
        "hq",
        &ship(json!([{ "first": "12x", "last": "300100" }]), json!(100)),
        unprocessable,
        "malformed_number",
    )
    .await;
    // Wrong role: Security may not dispatch.
    app.post_rejected(
        "/api/v1/shipments",
        "security",
        &ship(json!([{ "first": 300001, "last": 300100 }]), json!(100)),
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;

    // No ranges at all; an absurdly large range; a province that does not exist.
    app.post_rejected(
        "/api/v1/shipments",
        "hq",
        &ship(json!([]), json!(0)),
        unprocessable,
        "required",
    )
    .await;
    app.post_rejected(
        "/api/v1/shipments",
        "hq",
        &ship(json!([{ "first": 1, "last": 600000 }]), json!(600000)),
        unprocessable,
        "range_too_large",
    )
    .await;
    app.post_rejected(
        "/api/v1/shipments",
        "hq",
        &json!({ "province_id": 999, "ref_no": "R", "carrier": "C", "declared_count": 100,
                 "ranges": [{ "first": 300001, "last": 300100 }] }),
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    // Persian digits are accepted.
    let sh = app
        .post_ok(
            "/api/v1/shipments",
            "hq",
            &ship(
                json!([{ "first": "۲۰۰۰۰۱", "last": "۲۰۰۱۰۰" }]),
                json!("۱۰۰"),
            ),
        )
        .await;
    assert_eq!(ranges_of(&sh["ranges"]), vec![(200001, 200100)]);
    assert_eq!(sh["declared_count"], 100);

    // Receiving twice (demo shipment 1 is received).
    app.post_rejected(
        "/api/v1/shipments/1/receipt",
        "security",
        &receipt_body(1993, &[(100051, 100055)], &[(101500, 101501)]),
        StatusCode::CONFLICT,
        "shipment_not_in_transit",
    )
    .await;
    // Counted disagrees with shipment less missing and damaged (shipment 2 is 102001–103000).
    let b = app
        .post_rejected(
            "/api/v1/shipments/2/receipt",
            "security",
            &receipt_body(999, &[], &[]),
            unprocessable,
            "received_count_mismatch",
        )
        .await;
    assert_eq!(b["details"]["expected"], 1000);
    // A missing range outside the shipment.
    app.post_rejected(
        "/api/v1/shipments/2/receipt",
        "security",
        &receipt_body(998, &[(101999, 102000)], &[]),
        unprocessable,
        "not_in_shipment",
    )
    .await;
    // Missing and damaged ranges that overlap each other.
    app.post_rejected(
        "/api/v1/shipments/2/receipt",
        "security",
        &receipt_body(990, &[(102001, 102005)], &[(102005, 102010)]),
        unprocessable,
        "overlapping_ranges",
    )
    .await;
    // Security of another province may not receive Isfahan's shipment.
    app.create_user("sec_tehran", Role::Security, Some(8)).await;
    app.post_rejected(
        "/api/v1/shipments/2/receipt",
        "sec_tehran",
        &receipt_body(1000, &[], &[]),
        StatusCode::FORBIDDEN,
        "wrong_province",
    )
    .await;
    // And HQ may not receive at all.
    app.post_rejected(
        "/api/v1/shipments/2/receipt",
        "hq",
        &receipt_body(1000, &[], &[]),
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    // The shipment is still in transit and can be received properly.
    let ok = app
        .post_ok(
            "/api/v1/shipments/2/receipt",
            "security",
            &receipt_body(1000, &[], &[]),
        )
        .await;
    assert_eq!(ok["status"], "received");
    app.assert_check_ok().await;
}

/// the receipt notice to HQ is recorded once.
#[tokio::test]
async fn r2_receipt_notice_recorded_once() {
    let app = spawn_app().await;
    let notice =
        json!({ "letter_no": "۴۵/۹۹۹", "signer_name": "محمد نوری", "signer_title": "مدیر کل" });
    // Not before the shipment is received (demo shipment 2 is in transit).
    let t = app.token("security").await;
    let before = db_fingerprint(&app.store).await;
    let (s, b) = app
        .post_json("/api/v1/shipments/2/receipt-notice", Some(&t), &notice)
        .await;
    assert!(s.is_client_error(), "{s} {b}");
    assert_eq!(before, db_fingerprint(&app.store).await);

    app.post_ok(
        "/api/v1/shipments/2/receipt",
        "security",
        &receipt_body(1000, &[], &[]),
    )
    .await;
    let v = app
        .post_ok("/api/v1/shipments/2/receipt-notice", "security", &notice)
        .await;
    // Input text is normalised: digits are stored as Latin digits.
    assert_eq!(v["receipt_notice"]["letter_no"], "45/999");
    assert_eq!(v["receipt_notice"]["signer_name"], "محمد نوری");
    let again = json!({ "letter_no": "۴۵/۱۰۰۰", "signer_name": "محمد نوری" });
    let b = app
        .post_rejected(
            "/api/v1/shipments/2/receipt-notice",
            "security",
            &again,
            StatusCode::CONFLICT,
            "already_recorded",
        )
        .await;
    assert_eq!(b["details"]["what"], "receipt_notice");
    // The demo's shipment 1 already has its notice.
    app.post_rejected(
        "/api/v1/shipments/1/receipt-notice",
        "security",
        &again,
        StatusCode::CONFLICT,
        "already_recorded",
    )
    .await;
    let v = app.get_ok("/api/v1/shipments/2", "hq").await;
    assert_eq!(v["receipt_notice"]["letter_no"], "45/999");
    app.assert_check_ok().await;
}

fn checklist() -> Value {
    json!({ "no_direct_light": true, "dust_free": true, "no_magnetic_fields": true,
            "no_pressure_on_cards": true, "serial_order": true, "safety_systems": true,
            "inventory_form_current": true })
}

/// R-3 / Note 1 / Form 2: the ledger is derived from the movements, its running balance equals
/// the vault stock; inspections flag out-of-range readings and refuse absurd ones.
#[tokio::test]
async fn r3_ledger_balance_and_note1_inspections() {
    let app = spawn_app().await;
    // Receive shipment 2 too, so the ledger has two receipts and a handover.
    app.post_ok(
        "/api/v1/shipments/2/receipt",
        "security",
        &receipt_body(1000, &[], &[]),
    )
    .await;
    let ledger = app
        .get_ok(&format!("/api/v1/provinces/{ISFAHAN}/ledger"), "security")
        .await;
    let rows = ledger["rows"].as_array().unwrap();
    assert!(rows.len() >= 4, "{ledger}");
    assert_eq!(ledger["opening_balance"], 0);
    let mut balance: i64 = 0;
    let (mut ins, mut outs) = (0u64, 0u64);
    for r in rows {
        let (f, l, c) = (
            r["first"].as_u64().unwrap(),
            r["last"].as_u64().unwrap(),
            r["count"].as_u64().unwrap(),
        );
        assert_eq!(c, l - f + 1, "{r}");
        match r["direction"].as_str().unwrap() {
            "in" => {
                balance += c as i64;
                ins += c;
                assert_eq!(r["source"], "shipment");
            }
            "out" => {
                balance -= c as i64;
                outs += c;
                assert_eq!(r["source"], "handover");
                assert_eq!(r["source_id"], 1);
            }
            d => panic!("direction {d}"),
        }
        assert_eq!(r["balance"].as_i64().unwrap(), balance, "{r}");
        // The missing and damaged cards never entered the vault.
        for bad in [100051u64, 100055, 101500, 101501] {
            assert!(!(f..=l).contains(&bad) || r["direction"] != "in", "{r}");
        }
    }
    assert_eq!(ins, 1993 + 1000);
    assert_eq!(outs, 500);
    let stock = app.stock(ISFAHAN).await;
    assert_eq!(stock["in_vault"].as_i64().unwrap(), balance);
    assert_eq!(ledger["closing_balance"].as_i64().unwrap(), balance);

    // Note 1: 26 °C is flagged.
    let insp = app
        .post_ok(
            &format!("/api/v1/provinces/{ISFAHAN}/inspections"),
            "security",
            &json!({ "temperature_c": 26.0, "humidity_pct": 45.0, "checklist": checklist(), "notes": "" }),
        )
        .await;
    assert_eq!(insp["flagged"], true);
    assert_eq!(insp["flags"], json!(["temperature_out_of_range"]));
    // In range: not flagged.
    let insp = app
        .post_ok(
            &format!("/api/v1/provinces/{ISFAHAN}/inspections"),
            "security",
            &json!({ "temperature_c": 20.0, "humidity_pct": 45.0, "checklist": checklist() }),
        )
        .await;
    assert_eq!(insp["flagged"], false);
    // Absurd humidity is refused.
    let b = app
        .post_rejected(
            &format!("/api/v1/provinces/{ISFAHAN}/inspections"),
            "security",
            &json!({ "temperature_c": 20.0, "humidity_pct": 150.0, "checklist": checklist() }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        )
        .await;
    assert_eq!(b["details"]["field"], "humidity");
    // NaN cannot be a JSON number; sent as text it is refused as a bad request, changing nothing.
    let t = app.token("security").await;
    let before = db_fingerprint(&app.store).await;
    for body in [
        json!({ "temperature_c": "NaN", "humidity_pct": 45.0, "checklist": checklist() }),
        json!({ "temperature_c": 20.0, "humidity_pct": "NaN", "checklist": checklist() }),
        json!({ "temperature_c": 1.0e300, "humidity_pct": 45.0, "checklist": checklist() }),
    ] {
        let (s, b) = app
            .post_json(
                &format!("/api/v1/provinces/{ISFAHAN}/inspections"),
                Some(&t),
                &body,
            )
            .await;
        assert!(s.is_client_error(), "{body} → {s} {b}");
        assert!(b["code"].is_string(), "{b}");
    }
    assert_eq!(before, db_fingerprint(&app.store).await);
    // Another province's security may not record Isfahan's inspection.
    app.create_user("sec_tehran", Role::Security, Some(8)).await;
    app.post_rejected(
        &format!("/api/v1/provinces/{ISFAHAN}/inspections"),
        "sec_tehran",
        &json!({ "temperature_c": 20.0, "humidity_pct": 45.0, "checklist": checklist() }),
        StatusCode::FORBIDDEN,
        "wrong_province",
    )
    .await;
    app.assert_check_ok().await;
}

fn request_body(count: u64) -> Value {
    json!({ "count": count, "representative": "علی رضایی" })
}

/// R-4.1 / Note 2: the cap, one request a month, HQ's override.
#[tokio::test]
async fn r4_1_note2_cap_one_request_per_month_and_override() {
    let app = spawn_app().await;
    // Isfahan already has this month's request (the demo's).
    let b = app
        .post_rejected(
            "/api/v1/requests",
            "head",
            &request_body(10),
            StatusCode::CONFLICT,
            "request_exists",
        )
        .await;
    let month = app.this_month_key().await;
    assert_eq!(b["details"]["month"], month);

    // A fresh province (Alborz, 5): baseline 300 through this month.
    app.setup_province(5, 300, 0).await;
    let cap = app.get_ok("/api/v1/provinces/5/cap", "head5").await;
    assert_eq!(cap["cap"], 300);
    assert_eq!(cap["basis"], "baseline");
    assert_eq!(cap["month"], month);
    let b = app
        .post_rejected(
            "/api/v1/requests",
            "head5",
            &request_body(301),
            StatusCode::UNPROCESSABLE_ENTITY,
            "over_cap",
        )
        .await;
    assert_eq!(b["details"]["cap"], 300);
    assert_eq!(b["details"]["requested"], 301);
    // Zero is no request.
    app.post_rejected(
        "/api/v1/requests",
        "head5",
        &request_body(0),
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_value",
    )
    .await;
    // Isfahan's head may not ask for Alborz.
    app.post_rejected(
        "/api/v1/requests",
        "head",
        &json!({ "province_id": 5, "count": 10, "representative": "x" }),
        StatusCode::FORBIDDEN,
        "wrong_province",
    )
    .await;
    // Only HQ may override.
    app.post_rejected(
        "/api/v1/provinces/5/overrides",
        "head5",
        &json!({ "month": month_text(month), "max_count": 450, "reason": "آزمون‌های ویژه" }),
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let cap = app
        .post_ok(
            "/api/v1/provinces/5/overrides",
            "hq",
            &json!({ "month": month_text(month), "max_count": 450, "reason": "آزمون‌های ویژه" }),
        )
        .await;
    assert_eq!(cap["override_max"], 450);
    assert_eq!(cap["effective"], 450);
    app.post_rejected(
        "/api/v1/provinces/5/overrides",
        "hq",
        &json!({ "month": month_text(month), "max_count": 500, "reason": "دوباره" }),
        StatusCode::CONFLICT,
        "already_recorded",
    )
    .await;
    let b = app
        .post_rejected(
            "/api/v1/requests",
            "head5",
            &request_body(451),
            StatusCode::UNPROCESSABLE_ENTITY,
            "over_cap",
        )
        .await;
    assert_eq!(b["details"]["cap"], 450);
    let r = app
        .post_ok("/api/v1/requests", "head5", &request_body(450))
        .await;
    assert_eq!(r["count"], 450);
    assert_eq!(r["cap"], 450);
    assert_eq!(r["status"], "open");
    assert_eq!(r["month"], month);
    // A second request in the same month.
    app.post_rejected(
        "/api/v1/requests",
        "head5",
        &request_body(1),
        StatusCode::CONFLICT,
        "request_exists",
    )
    .await;
    app.assert_check_ok().await;
}

/// R-4.3 / Form 4: lowest serials first, explicit ranges must be in the vault, never more than
/// what remains, and the request is fulfilled.
#[tokio::test]
async fn r4_3_handover_lowest_first_and_limits() {
    let app = spawn_app().await;
    // The demo's handover: 500 lowest serials in the vault, skipping 100051–100055.
    let h = app.get_ok("/api/v1/handovers/1", "security").await;
    assert_eq!(h["count"], 500);
    assert_eq!(
        ranges_of(&h["ranges"]),
        vec![(100001, 100050), (100056, 100505)]
    );
    let r = app.get_ok("/api/v1/requests/1", "head").await;
    assert_eq!(r["status"], "fulfilled");
    assert_eq!(r["handed_count"], 500);
    app.post_rejected(
        "/api/v1/requests/1/handovers",
        "security",
        &handover_body(Some(1), &[]),
        StatusCode::CONFLICT,
        "request_not_open",
    )
    .await;

    // Alborz: 500001–501000 received with 500001–500003 missing; a request of 300.
    app.setup_province(5, 600, 500_001).await;
    let req = app
        .post_ok("/api/v1/requests", "head5", &request_body(300))
        .await;
    let rid = req["id"].as_i64().unwrap();
    let path = format!("/api/v1/requests/{rid}/handovers");
    // Explicit ranges with cards missing on arrival.
    let b = app
        .post_rejected(
            &path,
            "sec5",
            &handover_body(None, &[(500_001, 500_010)]),
            StatusCode::UNPROCESSABLE_ENTITY,
            "cards_not_in_vault",
        )
        .await;
    assert!(
        b["details"]["range"].as_str().unwrap().contains("500001"),
        "{b}"
    );
    // Explicit ranges of another province's vault.
    app.post_rejected(
        &path,
        "sec5",
        &handover_body(None, &[(101_001, 101_010)]),
        StatusCode::UNPROCESSABLE_ENTITY,
        "cards_not_in_vault",
    )
    .await;
    // Explicit ranges of serials that do not exist.
    app.post_rejected(
        &path,
        "sec5",
        &handover_body(None, &[(900_001, 900_010)]),
        StatusCode::UNPROCESSABLE_ENTITY,
        "cards_not_in_vault",
    )
    .await;
    // More than the request.
    let b = app
        .post_rejected(
            &path,
            "sec5",
            &handover_body(Some(301), &[]),
            StatusCode::UNPROCESSABLE_ENTITY,
            "handover_exceeds_request",
        )
        .await;
    assert_eq!(b["details"]["remaining"], 300);
    // Isfahan's security may not hand over Alborz's cards.
    app.post_rejected(
        &path,
        "security",
        &handover_body(Some(10), &[]),
        StatusCode::FORBIDDEN,
        "wrong_province",
    )
    .await;

    let h1 = app
        .post_ok(&path, "sec5", &handover_body(Some(100), &[]))
        .await;
    assert_eq!(h1["count"], 100);
    assert_eq!(ranges_of(&h1["ranges"]), vec![(500_004, 500_103)]);
    let r = app
        .get_ok(&format!("/api/v1/requests/{rid}"), "head5")
        .await;
    assert_eq!(r["status"], "open");
    assert_eq!(r["handed_count"], 100);
    // Explicit ranges, in the vault.
    let h2 = app
        .post_ok(
            &path,
            "sec5",
            &handover_body(Some(50), &[(500_901, 500_950)]),
        )
        .await;
    assert_eq!(ranges_of(&h2["ranges"]), vec![(500_901, 500_950)]);
    // Already handed over.
    app.post_rejected(
        &path,
        "sec5",
        &handover_body(None, &[(500_950, 500_951)]),
        StatusCode::UNPROCESSABLE_ENTITY,
        "cards_not_in_vault",
    )
    .await;
    let b = app
        .post_rejected(
            &path,
            "sec5",
            &handover_body(Some(151), &[]),
            StatusCode::UNPROCESSABLE_ENTITY,
            "handover_exceeds_request",
        )
        .await;
    assert_eq!(b["details"]["remaining"], 150);
    // The rest, by default the lowest remaining serials.
    let h3 = app.post_ok(&path, "sec5", &handover_body(None, &[])).await;
    assert_eq!(h3["count"], 150);
    assert_eq!(ranges_of(&h3["ranges"]), vec![(500_104, 500_253)]);
    let r = app
        .get_ok(&format!("/api/v1/requests/{rid}"), "head5")
        .await;
    assert_eq!(r["status"], "fulfilled");
    assert_eq!(r["handed_count"], 300);
    assert_eq!(r["handover_ids"].as_array().unwrap().len(), 3);
    app.post_rejected(
        &path,
        "sec5",
        &handover_body(Some(1), &[]),
        StatusCode::CONFLICT,
        "request_not_open",
    )
    .await;
    let s = app.stock(5).await;
    assert_eq!(s["with_office"], 300);
    assert_eq!(s["in_vault"], 997 - 300);
    app.assert_check_ok().await;
}

/// Form 2 over a period: movements before it form the opening balance. Views are scoped to the
/// reader's province.
#[tokio::test]
async fn form2_period_and_province_scoping() {
    let app = spawn_app().await;
    let month = app.this_month_key().await;
    let next = if month % 100 == 12 {
        (month / 100 + 1) * 100 + 1
    } else {
        month + 1
    };
    let from = format!("{}/01", month_text(next));
    let l = app
        .get_ok(
            &format!("/api/v1/provinces/{ISFAHAN}/ledger?from={from}"),
            "security",
        )
        .await;
    assert_eq!(l["rows"].as_array().unwrap().len(), 0, "{l}");
    assert_eq!(l["opening_balance"], 1493);
    assert_eq!(l["closing_balance"], 1493);
    let this = format!("{}/01", month_text(month));
    let l = app
        .get_ok(
            &format!("/api/v1/provinces/{ISFAHAN}/ledger?from={this}"),
            "security",
        )
        .await;
    assert_eq!(l["opening_balance"], 0);
    assert_eq!(l["closing_balance"], 1493);
    // A malformed date is refused.
    let t = app.token("security").await;
    let (s, b) = app
        .get_json(
            &format!("/api/v1/provinces/{ISFAHAN}/ledger?from=1405/13/40"),
            Some(&t),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert_eq!(b["code"], "invalid_date");

    // Another province's security sees none of Isfahan's custody.
    app.create_user("sec_tehran", Role::Security, Some(8)).await;
    let t8 = app.token("sec_tehran").await;
    for path in [
        "/api/v1/shipments/1".to_string(),
        format!("/api/v1/provinces/{ISFAHAN}/ledger"),
        "/api/v1/requests/1".to_string(),
        "/api/v1/handovers/1".to_string(),
    ] {
        let (s, b) = app.get_json(&path, Some(&t8)).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{path}: {b}");
        assert_eq!(b["code"], "wrong_province", "{path}");
    }
    let (s, list) = app.get_json("/api/v1/shipments", Some(&t8)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list["items"].as_array().unwrap().len(), 0);
    let (s, list) = app.get_json("/api/v1/requests", Some(&t8)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list["items"].as_array().unwrap().len(), 0);
    let (s, audit) = app.get_json("/api/v1/audit", Some(&t8)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["province_id"] != ISFAHAN),
        "{audit}"
    );
    let stock = app.get_ok("/api/v1/stock", "sec_tehran").await;
    assert_eq!(stock.as_array().unwrap().len(), 1);
    assert_eq!(stock[0]["province_id"], 8);
    assert_eq!(stock[0]["in_vault"], 0);
}
