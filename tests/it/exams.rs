//! Part 2 before issuance: reference data and the exam list from score entry to the head's
//! decisions, over the API, on both backends.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use skillcard_core::policy::Role;

const ESF: i64 = 4;

/// HQ's trade, a centre, and a list of three candidates at the demo province.
pub async fn list_with_candidates(app: &TestApp) -> (i64, Vec<i64>) {
    app.create_user("examiner2", Role::CenterExaminer, Some(ESF))
        .await;
    let trade = app
        .post_ok(
            "/api/v1/trades",
            "hq",
            &json!({ "standard_code": "7421-10", "title": "برق‌کار ساختمان" }),
        )
        .await;
    let centre = app
        .post_ok(
            "/api/v1/centres",
            "head",
            &json!({ "province_id": ESF, "code": "ESF-01", "name": "مرکز شماره ۱ اصفهان", "kind": "public" }),
        )
        .await;
    let list = app
        .post_ok(
            "/api/v1/exam-lists",
            "examiner",
            &json!({ "centre_id": centre["id"], "trade_id": trade["id"], "exam_date": "۱۴۰۵/۰۹/۱۰" }),
        )
        .await;
    let id = list["id"].as_i64().unwrap();
    assert_eq!(list["status"], "draft");
    assert_eq!(list["exam_date_fa"], "۱۴۰۵/۰۹/۱۰");
    let people = [
        ("0499370899", "علي", "كريمي", "حسن", "1380/01/15", "60"),
        ("0012345679", "زهرا", "احمدی", "محمد", "۱۳۷۹/۰۵/۲۰", "۴۵/۵"),
        ("1234567891", "رضا", "موسوی", "علی", "1382/12/01", "90"),
    ];
    let mut entries = Vec::new();
    for (nid, first, last, father, birth, written) in people {
        let v = app
            .post_ok(
                &format!("/api/v1/exam-lists/{id}/candidates"),
                "examiner",
                &json!({ "national_id": nid, "first_name": first, "last_name": last, "father_name": father,
                         "birth_date": birth, "written_score": written }),
            )
            .await;
        entries.push(
            v["entries"].as_array().unwrap().last().unwrap()["id"]
                .as_i64()
                .unwrap(),
        );
    }
    (id, entries)
}

pub fn entry<'a>(list: &'a Value, national_id: &str) -> &'a Value {
    list["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["national_id"] == national_id)
        .unwrap()
}

#[tokio::test]
async fn r6_1_to_r6_4_exam_list_lifecycle() {
    let app = spawn_app().await;
    let (id, entries) = list_with_candidates(&app).await;
    let list = app
        .get_ok(&format!("/api/v1/exam-lists/{id}"), "officer")
        .await;
    // Names were folded to Persian letters on input.
    assert_eq!(entry(&list, "0499370899")["first_name"], "علی");
    assert_eq!(entry(&list, "0499370899")["last_name"], "کریمی");
    assert_eq!(entry(&list, "0012345679")["written_score"], "45.5");

    // a list with unscored candidates cannot be submitted.
    app.post_rejected(
        &format!("/api/v1/exam-lists/{id}/submit"),
        "examiner",
        &json!({}),
        StatusCode::UNPROCESSABLE_ENTITY,
        "unscored_entries",
    )
    .await;

    // a sheet with bad rows changes nothing and names every bad row.
    let bad = json!({ "scores": [
        { "national_id": "0499370899", "score": "80" },
        { "national_id": "0499370898", "score": "80" },
        { "national_id": "0012345679", "score": "101" },
        { "national_id": "5555555555", "score": "70" },
        { "national_id": "0499370899", "score": "75" },
    ]});
    let err = app
        .post_rejected(
            &format!("/api/v1/exam-lists/{id}/scores"),
            "examiner",
            &bad,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_rows",
        )
        .await;
    let rows: Vec<(i64, String)> = err["details"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["row"].as_i64().unwrap(),
                r["code"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            (2, "invalid_national_id".into()),
            (3, "invalid_value".into()),
            (4, "invalid_national_id".into()),
            (5, "already_recorded".into()),
        ]
    );
    assert!(err["message"].as_str().unwrap().contains("ردیف ۲"), "{err}");

    // Only the centre's exam officer records scores.
    app.post_rejected(
        &format!("/api/v1/exam-lists/{id}/scores"),
        "officer",
        &json!({ "scores": [{ "national_id": "0499370899", "score": "80" }] }),
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;

    let good = json!({ "scores": [
        { "national_id": "0499370899", "score": "۸۰" },
        { "national_id": "0012345679", "score": "90" },
        { "national_id": "1234567891", "score": "65.5" },
    ]});
    let list = app
        .post_ok(
            &format!("/api/v1/exam-lists/{id}/scores"),
            "examiner",
            &good,
        )
        .await;
    let ali = entry(&list, "0499370899");
    assert_eq!(ali["final_score"], "75"); // 0.25 × 60 + 0.75 × 80
    assert_eq!(ali["passes"], true);
    assert_eq!(entry(&list, "0012345679")["passes"], false); // written 45.5 < 50
    assert_eq!(entry(&list, "1234567891")["passes"], false); // practical 65.5 < 70

    // submitted; the centre can no longer change it.
    let list = app
        .post_ok(
            &format!("/api/v1/exam-lists/{id}/submit"),
            "examiner",
            &json!({}),
        )
        .await;
    assert_eq!(list["status"], "submitted");
    app.post_rejected(
        &format!("/api/v1/exam-lists/{id}/scores"),
        "examiner",
        &good,
        StatusCode::CONFLICT,
        "list_locked",
    )
    .await;

    // needs a checked list first.
    app.post_rejected(
        &format!("/api/v1/exam-entries/{}/decision", entries[0]),
        "head",
        &json!({ "approve": true }),
        StatusCode::CONFLICT,
        "wrong_list_status",
    )
    .await;

    // returned with remarks (required), then corrected, resubmitted and checked.
    app.post_rejected(
        &format!("/api/v1/exam-lists/{id}/check"),
        "officer",
        &json!({ "accept": false }),
        StatusCode::UNPROCESSABLE_ENTITY,
        "required",
    )
    .await;
    let list = app
        .post_ok(
            &format!("/api/v1/exam-lists/{id}/check"),
            "officer",
            &json!({ "accept": false, "remarks": "نمره ردیف ۳ خوانا نیست" }),
        )
        .await;
    assert_eq!(list["status"], "returned");
    app.post_ok(
        &format!("/api/v1/exam-lists/{id}/scores"),
        "examiner",
        &json!({ "scores": [{ "national_id": "1234567891", "score": "75.5" }] }),
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
    assert_eq!(list["status"], "checked");

    // only the head decides; rejecting needs a reason; a decision is final.
    app.post_rejected(
        &format!("/api/v1/exam-entries/{}/decision", entries[0]),
        "officer",
        &json!({ "approve": true }),
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    app.post_rejected(
        &format!("/api/v1/exam-entries/{}/decision", entries[1]),
        "head",
        &json!({ "approve": false }),
        StatusCode::UNPROCESSABLE_ENTITY,
        "required",
    )
    .await;
    app.post_ok(
        &format!("/api/v1/exam-entries/{}/decision", entries[0]),
        "head",
        &json!({ "approve": true }),
    )
    .await;
    let list = app
        .post_ok(
            &format!("/api/v1/exam-entries/{}/decision", entries[1]),
            "head",
            &json!({ "approve": false, "reason": "برگه آزمون ناقص" }),
        )
        .await;
    assert_eq!(entry(&list, "0499370899")["decision"], "approved");
    assert_eq!(entry(&list, "0012345679")["decision"], "rejected");
    assert_eq!(entry(&list, "1234567891")["final_score"], "79.1"); // 22.5 + 56.625 → 79.1
    app.post_rejected(
        &format!("/api/v1/exam-entries/{}/decision", entries[0]),
        "head",
        &json!({ "approve": false, "reason": "x" }),
        StatusCode::CONFLICT,
        "already_recorded",
    )
    .await;
    app.assert_check_ok().await;
}

#[tokio::test]
async fn candidates_and_reference_data_are_validated() {
    let app = spawn_app().await;
    let (id, _) = list_with_candidates(&app).await;
    let base = json!({ "national_id": "0499370899", "first_name": "مینا", "last_name": "رستمی", "father_name": "جواد",
                       "birth_date": "1381/02/02", "written_score": "70" });
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    let path = format!("/api/v1/exam-lists/{id}/candidates");
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    // The same person may not be registered twice for the same trade.
    app.post_rejected(
        &path,
        "examiner",
        &base,
        StatusCode::CONFLICT,
        "already_recorded",
    )
    .await;
    let fresh = with("national_id", json!("0067749828"));
    let cases = [
        ("national_id", json!("1111111111"), "invalid_national_id"),
        ("national_id", json!("12345"), "invalid_national_id"),
        ("birth_date", json!("1404/12/30"), "invalid_date"),
        ("written_score", json!("abc"), "invalid_value"),
        ("first_name", json!("   "), "required"),
        (
            "photo_base64",
            json!("R0lGODlhAQABAAAAACw="),
            "invalid_value",
        ),
    ];
    for (field, value, code) in cases {
        let mut body = fresh.clone();
        body[field] = value;
        app.post_rejected(&path, "examiner", &body, unprocessable, code)
            .await;
    }
    // A PNG photo is stored with the record.
    let mut body = fresh.clone();
    body["photo_base64"] = json!("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==");
    let list = app.post_ok(&path, "examiner", &body).await;
    assert_eq!(entry(&list, "0067749828")["has_photo"], true);
    // HQ-only reference data, duplicate trades, other provinces' centres.
    app.post_rejected(
        "/api/v1/trades",
        "head",
        &json!({ "standard_code": "1", "title": "x" }),
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    app.post_rejected(
        "/api/v1/trades",
        "hq",
        &json!({ "standard_code": "7421-10", "title": "تکراری" }),
        StatusCode::CONFLICT,
        "already_recorded",
    )
    .await;
    app.post_rejected(
        "/api/v1/centres",
        "head",
        &json!({ "province_id": 8, "code": "THR-01", "name": "تهران", "kind": "public" }),
        StatusCode::FORBIDDEN,
        "wrong_province",
    )
    .await;
    let t = app.token("hq").await;
    let (s, policy) = app
        .put_json("/api/v1/pass-policy", Some(&t), &json!({ "written_min": "50", "practical_min": "60", "written_weight_pct": 30, "final_min": "65" }))
        .await;
    assert_eq!(s, StatusCode::OK, "{policy}");
    assert_eq!(
        app.get_ok("/api/v1/pass-policy", "examiner").await["practical_min"],
        "60"
    );
    let (s, fees) = app
        .put_json(
            "/api/v1/fees",
            Some(&t),
            &json!({ "kind": "issuance", "amount_rial": "۱۵۰۰۰۰۰" }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{fees}");
    assert_eq!(fees[0]["amount_rial"], 1_500_000);
    app.assert_check_ok().await;
}

#[tokio::test]
async fn r6_1_score_sheet_upload_is_all_or_nothing() {
    let app = spawn_app().await;
    let (id, _) = list_with_candidates(&app).await;
    let token = app.token("examiner").await;
    let upload = |body: Vec<u8>| {
        let app = &app;
        let token = token.clone();
        async move {
            let resp = app
                .client
                .post(app.url(&format!("/api/v1/exam-lists/{id}/scores/upload")))
                .bearer_auth(token)
                .body(body)
                .send()
                .await
                .unwrap();
            let status = resp.status();
            (status, resp.json::<Value>().await.unwrap())
        }
    };
    // CSV as Excel saves it: BOM, semicolons, Persian header and digits; row 3 is bad.
    let before = db_fingerprint(&app.store).await;
    let csv =
        "\u{feff}ردیف;کد ملی;نمره عملی\n۱;۰۴۹۹۳۷۰۸۹۹;۸۰\n۲;0012345679;نامعلوم\n۳;1234567891;75\n";
    let (s, b) = upload(csv.as_bytes().to_vec()).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert_eq!(b["code"], "invalid_rows");
    assert_eq!(b["details"]["rows"][0]["row"], 3);
    assert_eq!(b["details"]["rows"].as_array().unwrap().len(), 1);
    assert_eq!(before, db_fingerprint(&app.store).await);

    // A sheet without the score column is refused with the missing column named.
    let (s, b) = upload("کد ملی\n0499370899\n".as_bytes().to_vec()).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert!(b["message"].as_str().unwrap().contains("نمره"), "{b}");
    // Not a sheet at all.
    let (s, b) = upload(vec![0x89, b'P', b'N', b'G', 0, 0, 0, 0, 1, 2, 3]).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");

    // The same scores as an Excel workbook apply whole.
    use skillcard_sheets::{write_xlsx, Cell};
    let rows = vec![
        vec![Cell::from("۰۴۹۹۳۷۰۸۹۹"), Cell::Int(80)],
        vec![Cell::from("0012345679"), Cell::Float(72.5)],
        vec![Cell::from("1234567891"), Cell::from("۷۵٫۵")],
    ];
    let xlsx = write_xlsx("نمرات", &["کد ملی", "نمره عملی"], &rows).unwrap();
    let (s, b) = upload(xlsx).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(entry(&b, "0012345679")["practical_score"], "72.5");
    assert_eq!(entry(&b, "1234567891")["practical_score"], "75.5");

    // And the list comes back out as a workbook.
    let resp = app
        .client
        .get(app.url(&format!("/api/v1/exam-lists/{id}/export.xlsx")))
        .bearer_auth(app.token("officer").await)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let table = skillcard_sheets::read_sheet(&resp.bytes().await.unwrap(), None).unwrap();
    assert_eq!(table.rows.len(), 3);
    assert_eq!(table.headers[1], "کد ملی");
    assert!(table
        .rows
        .iter()
        .any(|r| r.cells.iter().any(|c| c == "72.5")));
}

/// Lists page newest first with a cursor, filter by status, and carry counts instead of entries.
#[tokio::test]
async fn exam_lists_page_by_cursor_without_their_entries() {
    let app = spawn_app().await;
    let (first, _) = list_with_candidates(&app).await;
    let head = app
        .get_ok(&format!("/api/v1/exam-lists/{first}"), "examiner")
        .await;
    let body = |date: &str| json!({ "centre_id": head["centre_id"], "trade_id": head["trade_id"], "exam_date": date });
    let second = app
        .post_ok("/api/v1/exam-lists", "examiner", &body("۱۴۰۵/۰۹/۱۱"))
        .await["id"]
        .as_i64()
        .unwrap();
    let third = app
        .post_ok("/api/v1/exam-lists", "examiner", &body("۱۴۰۵/۰۹/۱۲"))
        .await["id"]
        .as_i64()
        .unwrap();
    let ids = |page: &Value| -> Vec<i64> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["id"].as_i64().unwrap())
            .collect()
    };
    let p1 = app.get_ok("/api/v1/exam-lists?limit=2", "head").await;
    assert_eq!(ids(&p1), vec![third, second]);
    assert!(
        p1["items"][0]["entries"].is_u64(),
        "a count, not the entries"
    );
    let before = p1["next_before"].as_i64().unwrap();
    let p2 = app
        .get_ok(
            &format!("/api/v1/exam-lists?limit=2&before={before}"),
            "head",
        )
        .await;
    assert_eq!(ids(&p2), vec![first]);
    assert_eq!(p2["next_before"], Value::Null);
    assert_eq!(p2["items"][0]["entries"], 3);
    assert_eq!(p2["items"][0]["status"], "draft");
    // The examiner's list-level steps come with each summary.
    let mine = app.get_ok("/api/v1/exam-lists", "examiner").await;
    assert!(mine["items"][0]["next_actions"]["actions"]
        .as_array()
        .unwrap()
        .contains(&json!("submit_list")));
    let checked = app
        .get_ok("/api/v1/exam-lists?status=checked", "head")
        .await;
    assert!(ids(&checked).is_empty());
    let (s, b) = app
        .get_json(
            "/api/v1/exam-lists?status=lost",
            Some(&app.token("head").await),
        )
        .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_value"))
    );
    let limit = app.get_ok("/api/v1/exam-lists?limit=100000", "head").await;
    assert_eq!(ids(&limit).len(), 3);
}
