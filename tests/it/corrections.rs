//! a candidate's data can be corrected until the day before the exam, with who and why
//! in the audit; from the exam day on the correction is refused with the replacement road
//! (Note 4) named — over the API and the pages, on both backends.

use crate::exam_pages::{login, page, post_form, post_refused};
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use skillcard_core::date::{tehran_date, JalaliDate};

/// Today in Tehran plus `days`, as the Solar Hijri text a user types.
fn day(days: i64) -> String {
    let d = tehran_date(time::OffsetDateTime::now_utc()) + time::Duration::days(days);
    JalaliDate::from_gregorian(d).unwrap().to_string()
}

/// The trade and centre the lists below are of.
async fn trade_and_centre(app: &TestApp) -> (Value, Value) {
    let trade = app
        .post_ok(
            "/api/v1/trades",
            "hq",
            &json!({ "standard_code": "7231-15", "title": "مکانیک خودرو" }),
        )
        .await;
    let centre = app
        .post_ok(
            "/api/v1/centres",
            "head",
            &json!({ "province_id": 4, "code": "ESF-09", "name": "مرکز شماره ۹ اصفهان", "kind": "public" }),
        )
        .await;
    (trade["id"].clone(), centre["id"].clone())
}

/// A list on `exam_date` with candidates `people` (national id, given name): the list and each
/// candidate's id.
async fn list_on(
    app: &TestApp,
    (trade, centre): &(Value, Value),
    exam_date: &str,
    people: &[(&str, &str)],
) -> (i64, Vec<i64>) {
    let list = app
        .post_ok(
            "/api/v1/exam-lists",
            "examiner",
            &json!({ "centre_id": centre, "trade_id": trade, "exam_date": exam_date }),
        )
        .await;
    let id = list["id"].as_i64().unwrap();
    let mut candidates = Vec::new();
    for (nid, first) in people {
        let v = app
            .post_ok(
                &format!("/api/v1/exam-lists/{id}/candidates"),
                "examiner",
                &json!({ "national_id": nid, "first_name": first, "last_name": "كريمي", "father_name": "حسن",
                         "birth_date": "1380/01/15", "written_score": "60" }),
            )
            .await;
        candidates.push(
            v["entries"].as_array().unwrap().last().unwrap()["candidate_id"]
                .as_i64()
                .unwrap(),
        );
    }
    (id, candidates)
}

fn entry_of(list: &Value, candidate: i64) -> &Value {
    list["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["candidate_id"] == candidate)
        .unwrap()
}

fn offers(entry: &Value, step: &str) -> bool {
    entry["next_actions"]["actions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s == step)
}

#[tokio::test]
async fn r9_1_corrections_until_the_day_before_the_exam_and_refused_from_the_exam_day() {
    let app = spawn_app().await;
    let ref_data = trade_and_centre(&app).await;
    let (list, cands) = list_on(
        &app,
        &ref_data,
        &day(1),
        &[("0499370899", "علي"), ("0012345679", "زهرا")],
    )
    .await;
    let (a, b) = (cands[0], cands[1]);
    let correct = |c: i64| format!("/api/v1/candidates/{c}/correction");
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;

    // The exam is tomorrow: the centre's officer may correct, and the list offers the step.
    let view = app
        .get_ok(&format!("/api/v1/exam-lists/{list}"), "examiner")
        .await;
    assert!(offers(entry_of(&view, a), "correct_candidate"), "{view}");
    let view = app
        .get_ok(&format!("/api/v1/exam-lists/{list}"), "head")
        .await;
    assert!(!offers(entry_of(&view, a), "correct_candidate"));

    // Refusals change nothing: no reason, nothing new, a bad national code or date, the wrong
    // role, another province, a national code another candidate of the trade holds.
    app.post_rejected(
        &correct(a),
        "examiner",
        &json!({ "first_name": "علی‌رضا", "reason": " " }),
        unprocessable,
        "required",
    )
    .await;
    app.post_rejected(
        &correct(a),
        "examiner",
        &json!({ "first_name": "علي", "national_id": "", "reason": "درخواست داوطلب" }),
        unprocessable,
        "required",
    )
    .await;
    app.post_rejected(
        &correct(a),
        "examiner",
        &json!({ "national_id": "0499370898", "reason": "x" }),
        unprocessable,
        "invalid_national_id",
    )
    .await;
    app.post_rejected(
        &correct(a),
        "examiner",
        &json!({ "birth_date": "1380/13/01", "reason": "x" }),
        unprocessable,
        "invalid_date",
    )
    .await;
    app.post_rejected(
        &correct(a),
        "head",
        &json!({ "first_name": "علی‌رضا", "reason": "x" }),
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    create_user(
        &app.store,
        "examiner-thr",
        skillcard_core::policy::Role::CenterExaminer,
        Some(8),
    )
    .await;
    app.post_rejected(
        &correct(a),
        "examiner-thr",
        &json!({ "first_name": "علی‌رضا", "reason": "x" }),
        StatusCode::FORBIDDEN,
        "wrong_province",
    )
    .await;
    app.post_rejected(
        &correct(b),
        "examiner",
        &json!({ "national_id": "0499370899", "reason": "x" }),
        StatusCode::CONFLICT,
        "already_recorded",
    )
    .await;
    app.post_rejected(
        &correct(999_999),
        "examiner",
        &json!({ "first_name": "x", "reason": "x" }),
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    // Accepted: Persian or Arabic letters and any digits, folded like every input; only the
    // changed fields are written and audited, with who and why.
    let v = app
        .post_ok(
            &correct(a),
            "examiner",
            &json!({ "first_name": "علي‌رضا", "last_name": "كريمي", "birth_date": "۱۳۸۰/۰۲/۱۵", "reason": "درخواست داوطلب" }),
        )
        .await;
    let e = entry_of(&v, a);
    assert_eq!(e["first_name"], "علی‌رضا");
    assert_eq!(e["last_name"], "کریمی");
    assert_eq!(e["birth_date_fa"], "۱۳۸۰/۰۲/۱۵");
    let (by, before, after): (Option<i64>, String, String) = sqlx::query_as(
        "SELECT actor_id, before, after FROM audit_log WHERE action = 'candidate.correct' AND entity_id = $1",
    )
    .bind(a.to_string())
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    let (examiner,): (i64,) = sqlx::query_as("SELECT id FROM users WHERE username = 'examiner'")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_eq!(by, Some(examiner));
    let before: Value = serde_json::from_str(&before).unwrap();
    let after: Value = serde_json::from_str(&after).unwrap();
    assert_eq!(
        before,
        json!({ "first_name": "علی", "birth_date": "2001-04-04" })
    );
    assert_eq!(
        after,
        json!({ "first_name": "علی‌رضا", "birth_date": "2001-05-05", "reason": "درخواست داوطلب" })
    );
    app.assert_check_ok().await;

    // On the exam day the correction is closed: the error names the date and Note 4's road.
    let (today_list, today_cands) =
        list_on(&app, &ref_data, &day(0), &[("1234567891", "رضا")]).await;
    let view = app
        .get_ok(&format!("/api/v1/exam-lists/{today_list}"), "examiner")
        .await;
    assert!(!offers(
        entry_of(&view, today_cands[0]),
        "correct_candidate"
    ));
    let refused = app
        .post_rejected(
            &correct(today_cands[0]),
            "examiner",
            &json!({ "first_name": "علیرضا", "reason": "درخواست داوطلب" }),
            StatusCode::CONFLICT,
            "correction_closed",
        )
        .await;
    let today_iso = tehran_date(time::OffsetDateTime::now_utc()).to_string();
    assert_eq!(refused["details"]["exam_date"], today_iso.as_str());
    assert!(
        refused["message"].as_str().unwrap().contains("تبصره ۴"),
        "{refused}"
    );

    // The pages: the form on the list, a correction through it, and the refusal in Persian.
    let web = login(&app, "examiner").await;
    let (html, csrf) = page(&app, &web, &format!("/exams/{list}")).await;
    assert!(
        html.contains(&format!("action=\"/exams/candidates/{b}/correction\"")),
        "{html}"
    );
    let to = post_form(
        &app,
        &web,
        &format!("/exams/candidates/{b}/correction"),
        &csrf,
        &[
            ("national_id", "0012345679"),
            ("first_name", "زهرا"),
            ("last_name", "احمدی"),
            ("father_name", "حسن"),
            ("birth_date", "۱۳۸۰/۰۱/۱۵"),
            ("reason", "اشتباه تایپی در نام خانوادگی"),
        ],
    )
    .await;
    assert_eq!(to, format!("/exams/{list}#entry-of-{b}"));
    let v = app
        .get_ok(&format!("/api/v1/exam-lists/{list}"), "examiner")
        .await;
    assert_eq!(entry_of(&v, b)["last_name"], "احمدی");
    let (html, csrf) = page(&app, &web, &format!("/exams/{today_list}")).await;
    assert!(!html.contains("data-step=\"correct_candidate\""));
    let html = post_refused(
        &app,
        &web,
        &format!("/exams/candidates/{}/correction", today_cands[0]),
        &csrf,
        &[("first_name", "علیرضا"), ("reason", "درخواست داوطلب")],
        StatusCode::CONFLICT,
        "correction_closed",
    )
    .await;
    assert!(html.contains("بند ۹-۱"), "{html}");
}
