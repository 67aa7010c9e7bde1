//! Part 2 pages by hand: the examiner opens a list, registers a candidate and records a score
//! through the page forms, the officer checks it, the head approves, the clerk issues; a role
//! that may not act gets the Persian error page and nothing changes.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;

const ESF: i64 = ISFAHAN;

pub fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

/// A browser signed in as `username` through the login form.
pub async fn login(app: &TestApp, username: &str) -> reqwest::Client {
    let web = browser();
    let r = page_sign_in(app.url("/login"), &web, username, PASSWORD).await;
    assert!(
        r.status().is_redirection(),
        "login {username}: {}",
        r.status()
    );
    web
}

/// GET a page, expect 200, and return its HTML and form token.
pub async fn page(app: &TestApp, web: &reqwest::Client, path: &str) -> (String, String) {
    let r = web.get(app.url(path)).send().await.unwrap();
    let status = r.status();
    let html = r.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "GET {path}: {html}");
    assert!(html.contains("dir=\"rtl\""), "{path} is not RTL");
    let csrf = extract_csrf(&html).unwrap();
    (html, csrf)
}

/// POST a page form and expect a redirect; returns where it goes.
pub async fn post_form(
    app: &TestApp,
    web: &reqwest::Client,
    path: &str,
    csrf: &str,
    fields: &[(&str, &str)],
) -> String {
    let mut form: Vec<(&str, &str)> = fields.to_vec();
    form.push(("_csrf", csrf));
    let r = web.post(app.url(path)).form(&form).send().await.unwrap();
    let status = r.status();
    let to = location(&r);
    assert!(
        status.is_redirection(),
        "POST {path}: {status} {}",
        r.text().await.unwrap()
    );
    to
}

/// POST a page form that must be refused with `status` and `code`, changing nothing.
pub async fn post_refused(
    app: &TestApp,
    web: &reqwest::Client,
    path: &str,
    csrf: &str,
    fields: &[(&str, &str)],
    status: StatusCode,
    code: &str,
) -> String {
    let before = db_fingerprint(&app.store).await;
    let mut form: Vec<(&str, &str)> = fields.to_vec();
    form.push(("_csrf", csrf));
    let r = web.post(app.url(path)).form(&form).send().await.unwrap();
    assert_eq!(r.status(), status, "POST {path}");
    let html = r.text().await.unwrap();
    assert!(html.contains("dir=\"rtl\""));
    assert_eq!(extract_data_code(&html).as_deref(), Some(code), "{html}");
    assert_eq!(
        before,
        db_fingerprint(&app.store).await,
        "POST {path} changed data"
    );
    html
}

#[tokio::test]
async fn exam_pages_r6_1_to_r6_6_by_hand() {
    let app = spawn_app().await;
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
    let trade_id = trade["id"].as_i64().unwrap().to_string();
    let centre_id = centre["id"].as_i64().unwrap().to_string();

    // The examiner opens a list through the form on /exams.
    let examiner = login(&app, "examiner").await;
    let (html, csrf) = page(&app, &examiner, "/exams").await;
    assert!(html.contains("action=\"/exams\""), "{html}");
    assert!(html.contains("مرکز شماره ۱ اصفهان"));
    assert!(html.contains("آزمون‌ها"));
    let to = post_form(
        &app,
        &examiner,
        "/exams",
        &csrf,
        &[
            ("centre_id", centre_id.as_str()),
            ("trade_id", trade_id.as_str()),
            ("exam_date", "۱۴۰۵/۰۹/۱۰"),
        ],
    )
    .await;
    let id: i64 = to.strip_prefix("/exams/").unwrap().parse().unwrap();
    let list_path = format!("/exams/{id}");
    let (html, _) = page(&app, &examiner, "/exams").await;
    assert!(
        html.contains("پیش‌نویس") && html.contains("۱۴۰۵/۰۹/۱۰"),
        "{html}"
    );

    // Registers a candidate typed with Persian digits.
    let (html, csrf) = page(&app, &examiner, &list_path).await;
    assert!(html.contains(&format!("action=\"/exams/{id}/candidates\"")));
    assert!(html.contains(&format!("/api/v1/exam-lists/{id}/export.xlsx")));
    assert!(!html.contains(&format!("action=\"/exams/{id}/check\"")));
    let to = post_form(
        &app,
        &examiner,
        &format!("/exams/{id}/candidates"),
        &csrf,
        &[
            ("national_id", "۰۰۱۲۳۴۵۶۷۹"),
            ("first_name", "زهرا"),
            ("last_name", "احمدی"),
            ("father_name", "محمد"),
            ("birth_date", "۱۳۷۹/۰۵/۲۰"),
            ("written_score", "۸۰"),
        ],
    )
    .await;
    assert_eq!(to, list_path);
    let v = app
        .get_ok(&format!("/api/v1/exam-lists/{id}"), "officer")
        .await;
    let entry = &v["entries"][0];
    assert_eq!(entry["national_id"], "0012345679");
    let entry_id = entry["id"].as_i64().unwrap().to_string();
    let candidate_id = entry["candidate_id"].as_i64().unwrap();

    // A bad score line is reported by its line number and nothing is recorded.
    let html = post_refused(
        &app,
        &examiner,
        &format!("/exams/{id}/scores"),
        &csrf,
        &[("scores", "۰۰۱۲۳۴۵۶۷۹ ۷۵\n\n12345 50")],
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_rows",
    )
    .await;
    assert!(html.contains("ردیف ۳"), "{html}");
    // A right one is recorded.
    post_form(
        &app,
        &examiner,
        &format!("/exams/{id}/scores"),
        &csrf,
        &[("scores", "۰۰۱۲۳۴۵۶۷۹ ۷۵")],
    )
    .await;
    let (html, csrf) = page(&app, &examiner, &list_path).await;
    assert!(html.contains("۰۰۱۲۳۴۵۶۷۹"), "{html}");
    assert!(html.contains("۷۵") && html.contains("قبول"), "{html}");
    // 0.25 × 80 + 0.75 × 75 = 76.25, rounded half up, with the Persian decimal separator.
    assert!(html.contains("۷۶٫۳") && !html.contains("۷۶.۳"), "{html}");
    assert!(html.contains("۱۳۷۹/۰۵/۲۰"));
    // The examiner's dashboard lists the draft.
    let (dash, _) = page(&app, &examiner, "/").await;
    assert!(dash.contains(&format!("href=\"{list_path}\"")), "{dash}");
    post_form(&app, &examiner, &format!("/exams/{id}/submit"), &csrf, &[]).await;
    let v = app
        .get_ok(&format!("/api/v1/exam-lists/{id}"), "officer")
        .await;
    assert_eq!(v["status"], "submitted");

    // A role that may not check gets the Persian error page and nothing changes.
    let clerk = login(&app, "clerk").await;
    let (html, clerk_csrf) = page(&app, &clerk, &list_path).await;
    assert!(!html.contains(&format!("action=\"/exams/{id}/check\"")));
    let html = post_refused(
        &app,
        &clerk,
        &format!("/exams/{id}/check"),
        &clerk_csrf,
        &[("accept", "true"), ("remarks", "")],
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert!(html.contains("هیچ تغییری ذخیره نشد"));
    // Nor may the examiner decide a score.
    post_refused(
        &app,
        &examiner,
        &format!("/exams/entries/{entry_id}/decision"),
        &csrf,
        &[("approve", "true"), ("reason", "")],
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;

    // The officer's page shows the check form; the officer checks the list.
    let officer = login(&app, "officer").await;
    let (dash, _) = page(&app, &officer, "/").await;
    assert!(dash.contains(&format!("href=\"{list_path}\"")), "{dash}");
    let (html, csrf) = page(&app, &officer, &list_path).await;
    assert!(
        html.contains(&format!("action=\"/exams/{id}/check\"")),
        "{html}"
    );
    assert!(html.contains("ارسال‌شده"));
    post_form(
        &app,
        &officer,
        &format!("/exams/{id}/check"),
        &csrf,
        &[("accept", "true"), ("remarks", "")],
    )
    .await;

    // The head approves the score.
    let head = login(&app, "head").await;
    let (dash, _) = page(&app, &head, "/").await;
    assert!(dash.contains(&format!("href=\"{list_path}\"")), "{dash}");
    let (html, csrf) = page(&app, &head, &list_path).await;
    assert!(html.contains("بررسی‌شده"));
    let decide = format!("/exams/entries/{entry_id}/decision");
    assert!(html.contains(&format!("action=\"{decide}\"")), "{html}");
    let to = post_form(
        &app,
        &head,
        &decide,
        &csrf,
        &[("approve", "true"), ("reason", "")],
    )
    .await;
    assert_eq!(to, list_path);
    let v = app
        .get_ok(&format!("/api/v1/exam-lists/{id}"), "officer")
        .await;
    assert_eq!(v["status"], "checked");
    assert_eq!(v["entries"][0]["decision"], "approved");

    // The clerk sees the to-do, records the bank receipt and issues with the confirmation.
    let hq = app.token("hq").await;
    let (s, b) = app
        .put_json(
            "/api/v1/fees",
            Some(&hq),
            &json!({ "kind": "issuance", "amount_rial": 1_500_000 }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let issuance = format!("/issuance/{candidate_id}");
    let (dash, _) = page(&app, &clerk, "/").await;
    assert!(dash.contains(&format!("href=\"{issuance}\"")), "{dash}");
    let (html, csrf) = page(&app, &clerk, &issuance).await;
    assert!(
        html.contains("۱٬۵۰۰٬۰۰۰") && html.contains("پرداخت‌نشده"),
        "{html}"
    );
    post_form(
        &app,
        &clerk,
        &format!("{issuance}/payments"),
        &csrf,
        &[("reference", "۹۸۷۶۵"), ("amount_rial", "۱٬۵۰۰٬۰۰۰")],
    )
    .await;
    // Without the confirmation nothing is issued.
    post_refused(
        &app,
        &clerk,
        &format!("{issuance}/issue"),
        &csrf,
        &[],
        StatusCode::UNPROCESSABLE_ENTITY,
        "required",
    )
    .await;
    post_form(
        &app,
        &clerk,
        &format!("{issuance}/issue"),
        &csrf,
        &[("confirm", "1")],
    )
    .await;
    let (html, _) = page(&app, &clerk, &issuance).await;
    assert!(html.contains("certificate-number"), "{html}");
    assert!(!html.contains(&format!("action=\"{issuance}/issue\"")));
    let (dash, _) = page(&app, &clerk, "/").await;
    assert!(!dash.contains(&format!("href=\"{issuance}\"")), "{dash}");
    app.assert_check_ok().await;
}

/// Reference data by hand: HQ adds a trade and the fee (Persian digits), the head a centre of
/// their own province; a head cannot set fees, and the examiner can use what they added.
#[tokio::test]
async fn reference_data_pages() {
    let app = spawn_app().await;
    let hq = login(&app, "hq").await;
    let (html, csrf) = page(&app, &hq, "/reference").await;
    assert!(html.contains("هنوز حرفه‌ای ثبت نشده است"));
    post_form(
        &app,
        &hq,
        "/reference/trades",
        &csrf,
        &[("standard_code", "۷۴۲۱-۱۰"), ("title", "برق‌كار ساختمان")],
    )
    .await;
    post_form(
        &app,
        &hq,
        "/reference/fees",
        &csrf,
        &[("kind", "issuance"), ("amount_rial", "۱۵۰۰۰۰۰")],
    )
    .await;
    let head = login(&app, "head").await;
    let (html, csrf) = page(&app, &head, "/reference").await;
    assert!(
        html.contains("برق‌کار ساختمان"),
        "trade not listed (ك folded)"
    );
    assert!(
        html.contains("۱٬۵۰۰٬۰۰۰"),
        "fee not shown in grouped Persian digits"
    );
    assert!(
        !html.contains("/reference/fees"),
        "the head sees HQ's fee form"
    );
    post_form(
        &app,
        &head,
        "/reference/centres",
        &csrf,
        &[
            ("province_id", "4"),
            ("code", "C-7"),
            ("name", "مرکز شماره ۷"),
            ("kind", "public"),
        ],
    )
    .await;
    post_refused(
        &app,
        &head,
        "/reference/fees",
        &csrf,
        &[("kind", "issuance"), ("amount_rial", "1")],
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let examiner = login(&app, "examiner").await;
    let (html, _) = page(&app, &examiner, "/exams").await;
    assert!(
        html.contains("مرکز شماره ۷") && html.contains("۷۴۲۱-۱۰"),
        "the examiner cannot pick them"
    );
    let fees = app.get_ok("/api/v1/fees", "clerk").await;
    assert_eq!(fees[0]["amount_rial"], 1_500_000);
}
