//! Part 3 pages by hand, signed in through the login form: the delivery agent groups registered
//! cards into a handover list and confirms a handover in person (R-7, R-7.1, Form 5), HQ sees
//! the overdue provinces; the clerk opens a damage case, the officer reviews it, the
//! Director General's letter goes to HQ and HQ enables the reprint (R-8, Note 3); a replacement
//! request goes through the board, the void and the fee (R-9, Note 4). A bad form answers with
//! the Persian error page and changes nothing.

use crate::aftercare::registered_card;
use crate::exam_pages::{location, login, page, post_form};
use crate::helpers::*;
use crate::printing::issued_certificates;
use reqwest::StatusCode;
use serde_json::json;
use skillcard_core::text::fa_num;

const SCAN: &[u8] = b"%PDF-1.4\n% signed paper, scanned\n";

/// Asserts a refused post answered with the Persian error page, `status` and `code`, and that
/// nothing changed; returns the page.
async fn refused(
    app: &TestApp,
    before: &std::collections::BTreeMap<String, String>,
    r: reqwest::Response,
    status: StatusCode,
    code: &str,
) -> String {
    assert_eq!(r.status(), status);
    let html = r.text().await.unwrap();
    assert!(html.contains("dir=\"rtl\""), "{html}");
    assert!(html.contains("هیچ تغییری ذخیره نشد"), "{html}");
    assert_eq!(extract_data_code(&html).as_deref(), Some(code), "{html}");
    assert_eq!(
        before,
        &db_fingerprint(&app.store).await,
        "a refused post changed data"
    );
    html
}

/// POST a page form that must be refused, changing nothing; returns the error page.
async fn post_refused(
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
    refused(app, &before, r, status, code).await
}

/// A `multipart/form-data` body as a browser sends it: text fields, then files
/// `(field, filename, bytes)`.
pub fn multipart(fields: &[(&str, &str)], files: &[(&str, &str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "----skillcardTestBoundary7MA4YWxkTrZu0gW";
    let mut b = Vec::new();
    for (k, v) in fields {
        b.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    for (k, name, bytes) in files {
        b.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"; filename=\"{name}\"\r\nContent-Type: application/pdf\r\n\r\n"
            )
            .as_bytes(),
        );
        b.extend_from_slice(bytes);
        b.extend_from_slice(b"\r\n");
    }
    b.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), b)
}

pub async fn post_multipart(
    app: &TestApp,
    web: &reqwest::Client,
    path: &str,
    fields: &[(&str, &str)],
    files: &[(&str, &str, &[u8])],
) -> reqwest::Response {
    let (ct, body) = multipart(fields, files);
    web.post(app.url(path))
        .header(reqwest::header::CONTENT_TYPE, ct)
        .body(body)
        .send()
        .await
        .unwrap()
}

fn pos(html: &str, needle: &str) -> usize {
    html.find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not on the page:\n{html}"))
}

#[tokio::test]
async fn r7_handover_list_and_in_person_handover_by_hand() {
    let app = spawn_app().await;
    let certs = issued_certificates(&app).await;
    let p1 = registered_card(&app, certs[0].0, "pg1").await;
    let p2 = registered_card(&app, certs[1].0, "pg2").await;
    let (id1, id2) = (p1["id"].as_i64().unwrap(), p2["id"].as_i64().unwrap());
    let (serial1, serial2) = (
        p1["serial"].as_u64().unwrap(),
        p2["serial"].as_u64().unwrap(),
    );
    // the second card was registered ten days ago — three days past the week.
    let ten_days_ago =
        (time::OffsetDateTime::now_utc().date() - time::Duration::days(10)).to_string();
    sqlx::query("UPDATE card_prints SET registered_on = $1 WHERE id = $2")
        .bind(&ten_days_ago)
        .bind(id2)
        .execute(app.store.pool())
        .await
        .unwrap();

    // The delivery agent sees both cards, the overdue one first and flagged.
    let agent = login(&app, "delivery").await;
    let (dash, _) = page(&app, &agent, "/").await;
    assert!(dash.contains("href=\"/deliveries\""), "{dash}");
    assert!(dash.contains("تحویل ۲ کارت ثبت‌شده"), "{dash}");
    assert!(dash.contains("۱ کارت بیش از یک هفته"), "{dash}");
    assert!(dash.contains("id=\"outbox\""), "{dash}");
    let (html, csrf) = page(&app, &agent, "/deliveries").await;
    assert!(html.contains("تحویل کارت به دارندگان"));
    assert!(html.contains(&fa_num(serial1)) && html.contains(&fa_num(serial2)));
    assert!(
        pos(&html, &format!("id=\"card-{id2}\"")) < pos(&html, &format!("id=\"card-{id1}\"")),
        "the overdue card comes first"
    );
    assert!(html.contains("روز دیرکرد"), "{html}");
    assert!(html.contains(&format!("name=\"print_id\" value=\"{id1}\"")));

    // A list without a title is refused in Persian; nothing changes.
    let err = post_refused(
        &app,
        &agent,
        "/deliveries",
        &csrf,
        &[("label", " "), ("print_id", &id1.to_string())],
        StatusCode::UNPROCESSABLE_ENTITY,
        "required",
    )
    .await;
    assert!(err.contains("عنوان"), "{err}");

    // Both cards go on one handover list (Form 5).
    let to = post_form(
        &app,
        &agent,
        "/deliveries",
        &csrf,
        &[
            ("label", "هنرستان شهید بهشتی"),
            ("print_id", &id1.to_string()),
            ("print_id", &id2.to_string()),
        ],
    )
    .await;
    let list_id: i64 = to.strip_prefix("/deliveries/").unwrap().parse().unwrap();
    let list_path = format!("/deliveries/{list_id}");
    let (html, csrf) = page(&app, &agent, &list_path).await;
    assert!(html.contains("هنرستان شهید بهشتی"));
    assert!(html.contains(&format!("/api/v1/delivery-lists/{list_id}/form5.pdf")));
    assert!(html.contains(&format!("action=\"/prints/{id1}/delivery\"")));
    assert!(html.contains("enctype=\"multipart/form-data\""));
    // The list's cards cannot join another list.
    let (html_all, _) = page(&app, &agent, "/deliveries").await;
    assert!(!html_all.contains(&format!("name=\"print_id\" value=\"{id1}\"")));
    assert!(html_all.contains(&format!("href=\"{list_path}\"")));

    // an in-person handover needs the receiver's name; without it nothing changes.
    let delivery = format!("/prints/{id1}/delivery");
    let err = post_refused(
        &app,
        &agent,
        &delivery,
        &csrf,
        &[("method", "in_person"), ("receiver", "  ")],
        StatusCode::UNPROCESSABLE_ENTITY,
        "required",
    )
    .await;
    assert!(err.contains("نام تحویل‌گیرنده"), "{err}");
    // A bad tracking number likewise.
    post_refused(
        &app,
        &agent,
        &delivery,
        &csrf,
        &[("method", "post"), ("tracking_no", "x")],
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_value",
    )
    .await;

    let to = post_form(
        &app,
        &agent,
        &delivery,
        &csrf,
        &[
            ("method", "in_person"),
            ("receiver", "علی محمدی (پدر دارنده)"),
        ],
    )
    .await;
    assert_eq!(to, format!("{list_path}#card-{id1}"));
    let (html, csrf) = page(&app, &agent, &list_path).await;
    assert!(html.contains("تحویل شد (حضوری)"), "{html}");
    assert!(html.contains("علی محمدی (پدر دارنده)"));
    assert!(html.contains("id=\"delivered\">۱</b>"), "{html}");
    assert!(!html.contains(&format!("action=\"/prints/{id1}/delivery\"")));
    let list = app
        .get_ok(&format!("/api/v1/delivery-lists/{list_id}"), "delivery")
        .await;
    let c1 = list["cards"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["print_id"] == id1)
        .unwrap();
    assert_eq!(c1["delivery_method"], "in_person");
    assert_eq!(c1["receiver"], "علی محمدی (پدر دارنده)");
    // Twice is refused.
    post_refused(
        &app,
        &agent,
        &delivery,
        &csrf,
        &[("method", "in_person"), ("receiver", "کسی دیگر")],
        StatusCode::CONFLICT,
        "already_recorded",
    )
    .await;

    // The signed Form 5's scan: a multipart form, its `_csrf` inside the body.
    let scan_path = format!("/deliveries/{list_id}/scan");
    let before = db_fingerprint(&app.store).await;
    let r = post_multipart(
        &app,
        &agent,
        &scan_path,
        &[],
        &[("scan", "form5.pdf", SCAN)],
    )
    .await;
    refused(&app, &before, r, StatusCode::FORBIDDEN, "csrf_mismatch").await;
    let r = post_multipart(
        &app,
        &agent,
        &scan_path,
        &[("_csrf", &csrf)],
        &[("scan", "form5.txt", b"not a scan")],
    )
    .await;
    refused(
        &app,
        &before,
        r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_value",
    )
    .await;
    let r = post_multipart(
        &app,
        &agent,
        &scan_path,
        &[("_csrf", &csrf)],
        &[("scan", "form5.pdf", SCAN)],
    )
    .await;
    assert!(r.status().is_redirection(), "{:?}", r.text().await);
    let (html, _) = page(&app, &agent, &list_path).await;
    let scan_link = format!("/api/v1/delivery-lists/{list_id}/scan");
    assert!(html.contains(&scan_link));
    let r = agent.get(app.url(&scan_link)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(&r.bytes().await.unwrap()[..], SCAN);
    // A real scan is megabytes: 3 MiB replaces the first; past 8 MiB is refused in Persian.
    let mut big = SCAN.to_vec();
    big.resize(3 << 20, b'x');
    let r = post_multipart(
        &app,
        &agent,
        &scan_path,
        &[("_csrf", &csrf)],
        &[("scan", "form5.pdf", &big)],
    )
    .await;
    assert!(r.status().is_redirection(), "{:?}", r.text().await);
    let r = agent.get(app.url(&scan_link)).send().await.unwrap();
    assert_eq!(r.bytes().await.unwrap().len(), big.len());
    big.resize((8 << 20) + 1, b'x');
    let before = db_fingerprint(&app.store).await;
    let r = post_multipart(
        &app,
        &agent,
        &scan_path,
        &[("_csrf", &csrf)],
        &[("scan", "form5.pdf", &big)],
    )
    .await;
    let err = refused(
        &app,
        &before,
        r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "too_long",
    )
    .await;
    assert!(err.contains("تصویر سند امضاشده"), "{err}");

    // HQ sees the province's overdue card, on its dashboard and on /deliveries.
    let hq = login(&app, "hq").await;
    let (dash, _) = page(&app, &hq, "/").await;
    assert!(dash.contains("۱ کارت بیش از یک هفته تحویل نشده"), "{dash}");
    let (html, _) = page(&app, &hq, "/deliveries").await;
    assert!(html.contains("id=\"overdue\""), "{html}");
    assert!(html.contains("اصفهان"));
    assert!(
        !html.contains("action=\"/deliveries\""),
        "HQ does not group cards"
    );

    app.assert_check_ok().await;
}

#[tokio::test]
async fn r8_damage_case_review_letter_and_reprint_by_hand() {
    let app = spawn_app().await;
    let certs = issued_certificates(&app).await;
    let p1 = registered_card(&app, certs[0].0, "pg3").await;
    let id1 = p1["id"].as_i64().unwrap();
    let serial1 = p1["serial"].as_u64().unwrap();

    // From the certificate's page to the card's forms.
    let clerk = login(&app, "clerk").await;
    let (html, _) = page(&app, &clerk, &format!("/issuance/{}", certs[0].1)).await;
    assert!(
        html.contains(&format!("/cases?print={id1}#damage")),
        "{html}"
    );
    let (html, csrf) = page(&app, &clerk, &format!("/cases?print={id1}")).await;
    assert!(html.contains("گزارش کارت مخدوش"));
    assert!(html.contains(&format!("name=\"print_id\" value=\"{id1}\"")));
    assert!(html.contains(&format!("action=\"/prints/{id1}/replacement\"")));
    for cause in ["نقص چاپ", "خرابی تراشه", "آسیب فیزیکی", "سایر"] {
        assert!(html.contains(cause), "{cause}");
    }
    // The same card found by its serial, typed in Persian digits.
    let (found, _) = page(&app, &clerk, &format!("/cases?serial={}", fa_num(serial1))).await;
    assert!(found.contains(&format!("name=\"print_id\" value=\"{id1}\"")));

    // "Other" needs its words; an unknown serial is not found; nothing changes.
    let err = post_refused(
        &app,
        &clerk,
        "/cases",
        &csrf,
        &[
            ("print_id", &id1.to_string()),
            ("cause", "other"),
            ("detail", ""),
        ],
        StatusCode::UNPROCESSABLE_ENTITY,
        "required",
    )
    .await;
    assert!(err.contains("شرح علت"), "{err}");
    post_refused(
        &app,
        &clerk,
        "/cases",
        &csrf,
        &[("serials", "۹۹۹۹۹۹۹"), ("cause", "physical")],
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    // The clerk opens the case by serial; the card leaves service at once.
    let to = post_form(
        &app,
        &clerk,
        "/cases",
        &csrf,
        &[
            ("serials", &fa_num(serial1)),
            ("cause", "chip_fault"),
            ("detail", "تراشه پس از ثبت خوانده نمی‌شود"),
        ],
    )
    .await;
    let case_id: i64 = to.strip_prefix("/cases/").unwrap().parse().unwrap();
    let case_path = format!("/cases/{case_id}");
    let (html, _) = page(&app, &clerk, &case_path).await;
    assert!(html.contains("data-status=\"open\""), "{html}");
    assert!(html.contains("خرابی تراشه"));
    assert!(html.contains(&format!("/api/v1/cases/{case_id}/form6.pdf")));
    assert!(
        !html.contains(&format!("action=\"{case_path}/review\"")),
        "the clerk does not review"
    );
    // Twice is refused.
    post_refused(
        &app,
        &clerk,
        "/cases",
        &csrf,
        &[("print_id", &id1.to_string()), ("cause", "physical")],
        StatusCode::CONFLICT,
        "not_in_service",
    )
    .await;

    // The officer's queue holds the review; an empty outcome is refused.
    let officer = login(&app, "officer").await;
    let (dash, _) = page(&app, &officer, "/").await;
    assert!(dash.contains(&format!("href=\"{case_path}\"")), "{dash}");
    assert!(dash.contains("بررسی علت و تنظیم صورتجلسه"), "{dash}");
    let (html, csrf) = page(&app, &officer, &case_path).await;
    let review = format!("{case_path}/review");
    assert!(html.contains(&format!("action=\"{review}\"")));
    post_refused(
        &app,
        &officer,
        &review,
        &csrf,
        &[("outcome", "")],
        StatusCode::UNPROCESSABLE_ENTITY,
        "required",
    )
    .await;
    post_form(
        &app,
        &officer,
        &review,
        &csrf,
        &[(
            "outcome",
            "تراشه معیوب از سوی سازنده؛ تقصیری متوجه کارشناس نیست",
        )],
    )
    .await;
    let (html, _) = page(&app, &officer, &case_path).await;
    assert!(html.contains("data-status=\"reviewed\""), "{html}");
    assert!(html.contains("تراشه معیوب از سوی سازنده"));
    assert!(!html.contains(&format!("action=\"{review}\"")));
    let (dash, _) = page(&app, &officer, "/").await;
    assert!(!dash.contains(&format!("href=\"{case_path}\"")), "{dash}");

    // the Director General's letter with the signed minutes' scan.
    let dg = login(&app, "dg").await;
    let (dash, _) = page(&app, &dg, "/").await;
    assert!(dash.contains("نامه مدیر کل"), "{dash}");
    let (html, csrf) = page(&app, &dg, &case_path).await;
    let send = format!("{case_path}/send");
    assert!(html.contains(&format!("action=\"{send}\"")));
    let before = db_fingerprint(&app.store).await;
    let r = post_multipart(
        &app,
        &dg,
        &send,
        &[
            ("_csrf", &csrf),
            ("letter_no", "۱۲۳/ص"),
            ("letter_date", "۱۴۰۵/۱۳/۰۱"),
        ],
        &[("scan", "minutes.pdf", SCAN)],
    )
    .await;
    refused(
        &app,
        &before,
        r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_date",
    )
    .await;
    let r = post_multipart(
        &app,
        &dg,
        &send,
        &[
            ("_csrf", &csrf),
            ("letter_no", "۱۲۳/ص"),
            ("letter_date", "۱۴۰۵/۰۹/۰۵"),
        ],
        &[("scan", "", b"")],
    )
    .await;
    refused(
        &app,
        &before,
        r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "required",
    )
    .await;
    let r = post_multipart(
        &app,
        &dg,
        &send,
        &[
            ("_csrf", &csrf),
            ("letter_no", "۱۲۳/ص"),
            ("letter_date", "۱۴۰۵/۰۹/۰۵"),
        ],
        &[("scan", "minutes.pdf", SCAN)],
    )
    .await;
    assert!(r.status().is_redirection(), "{:?}", r.text().await);
    let (html, _) = page(&app, &dg, &case_path).await;
    assert!(html.contains("data-status=\"sent_to_hq\""), "{html}");
    assert!(html.contains(&format!("/api/v1/cases/{case_id}/letter.pdf")));
    assert!(html.contains(&format!("/api/v1/cases/{case_id}/scans/minutes")));
    assert!(html.contains("۱۴۰۵/۰۹/۰۵"), "{html}");

    // HQ records the arrival and enables the reprint.
    let hq = login(&app, "hq").await;
    let (dash, _) = page(&app, &hq, "/").await;
    assert!(dash.contains("ثبت دریافت نامه و کارت‌ها در ستاد"), "{dash}");
    let (_, csrf) = page(&app, &hq, &case_path).await;
    post_refused(
        &app,
        &hq,
        &format!("{case_path}/authorization"),
        &csrf,
        &[],
        StatusCode::CONFLICT,
        "wrong_case_status",
    )
    .await;
    post_form(&app, &hq, &format!("{case_path}/arrival"), &csrf, &[]).await;
    post_form(&app, &hq, &format!("{case_path}/authorization"), &csrf, &[]).await;
    let (html, _) = page(&app, &hq, "/cases?status=authorized").await;
    assert!(html.contains(&format!("id=\"case-{case_id}\"")), "{html}");
    assert!(html.contains("چاپ مجدد مجاز شد"));
    let (html, _) = page(&app, &hq, "/cases?status=open").await;
    assert!(!html.contains(&format!("id=\"case-{case_id}\"")));

    app.assert_check_ok().await;
}

#[tokio::test]
async fn r9_replacement_request_board_void_and_fee_by_hand() {
    let app = spawn_app().await;
    let hq = app.token("hq").await;
    app.put_json(
        "/api/v1/fees",
        Some(&hq),
        &json!({ "kind": "replacement", "amount_rial": 800_000 }),
    )
    .await;
    let certs = issued_certificates(&app).await;
    let p1 = registered_card(&app, certs[0].0, "pg4").await;
    let id1 = p1["id"].as_i64().unwrap();

    // The clerk records the request with a correction, a contact and the supporting scan.
    let clerk = login(&app, "clerk").await;
    let (_, csrf) = page(&app, &clerk, &format!("/cases?print={id1}")).await;
    let path = format!("/prints/{id1}/replacement");
    let before = db_fingerprint(&app.store).await;
    let r = post_multipart(
        &app,
        &clerk,
        &path,
        &[("_csrf", &csrf), ("reason", ""), ("last_name", "محمدی‌نیا")],
        &[],
    )
    .await;
    refused(
        &app,
        &before,
        r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "required",
    )
    .await;
    let r = post_multipart(
        &app,
        &clerk,
        &path,
        &[
            ("_csrf", &csrf),
            ("reason", "اشتباه در نام خانوادگی"),
            ("contact", "۰۹۱۲"),
        ],
        &[],
    )
    .await;
    refused(
        &app,
        &before,
        r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_value",
    )
    .await;
    let r = post_multipart(
        &app,
        &clerk,
        &path,
        &[
            ("_csrf", &csrf),
            ("reason", "اشتباه در نام خانوادگی"),
            ("first_name", ""),
            ("last_name", "محمدی‌نیا"),
            ("father_name", ""),
            ("contact", "۰۹۱۲۱۲۳۴۵۶۷"),
        ],
        &[("scan", "request.pdf", SCAN)],
    )
    .await;
    assert!(r.status().is_redirection(), "{:?}", r.text().await);
    let case_path = location(&r);
    let case_id: i64 = case_path.strip_prefix("/cases/").unwrap().parse().unwrap();
    let (html, _) = page(&app, &clerk, &case_path).await;
    assert!(html.contains("data-status=\"requested\""), "{html}");
    assert!(html.contains("محمدی‌نیا"));
    assert!(html.contains(&format!("/api/v1/cases/{case_id}/scans/request")));

    // The board: a rejection needs its reason; then it approves.
    let board = login(&app, "board").await;
    let (dash, _) = page(&app, &board, "/").await;
    assert!(dash.contains(&format!("href=\"{case_path}\"")), "{dash}");
    let (_, csrf) = page(&app, &board, &case_path).await;
    let decision = format!("{case_path}/decision");
    post_refused(
        &app,
        &board,
        &decision,
        &csrf,
        &[("approve", "false"), ("reason", "")],
        StatusCode::UNPROCESSABLE_ENTITY,
        "required",
    )
    .await;
    post_form(
        &app,
        &board,
        &decision,
        &csrf,
        &[("approve", "true"), ("reason", "صورتجلسه ۱۴/ت")],
    )
    .await;

    // The officer voids the old card; the fee notice is then ready.
    let officer = login(&app, "officer").await;
    let (html, csrf) = page(&app, &officer, &case_path).await;
    assert!(
        html.contains(&format!("action=\"{case_path}/void\"")),
        "{html}"
    );
    post_form(&app, &officer, &format!("{case_path}/void"), &csrf, &[]).await;
    let (html, _) = page(&app, &officer, &case_path).await;
    assert!(html.contains("data-status=\"voided\""), "{html}");
    assert!(html.contains(&format!("/api/v1/cases/{case_id}/fee-notice.pdf")));
    assert!(
        html.contains(&skillcard_core::text::fa_amount(800_000)),
        "{html}"
    );

    // The clerk records the fee.
    let (dash, _) = page(&app, &clerk, "/").await;
    assert!(dash.contains("ثبت پرداخت هزینه تعویض"), "{dash}");
    let (_, csrf) = page(&app, &clerk, &case_path).await;
    let fee = format!("{case_path}/fee");
    post_refused(
        &app,
        &clerk,
        &fee,
        &csrf,
        &[("reference", "FEE-1"), ("amount_rial", "ده")],
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_value",
    )
    .await;
    post_form(
        &app,
        &clerk,
        &fee,
        &csrf,
        &[("reference", "FEE-1"), ("amount_rial", "۸۰۰۰۰۰")],
    )
    .await;
    let (html, _) = page(&app, &clerk, &case_path).await;
    assert!(html.contains("data-status=\"paid\""), "{html}");

    app.assert_check_ok().await;
}

#[tokio::test]
async fn r9_rejected_request_shows_its_reason() {
    let app = spawn_app().await;
    let certs = issued_certificates(&app).await;
    let p1 = registered_card(&app, certs[0].0, "pg5").await;
    let id1 = p1["id"].as_i64().unwrap();
    let case = app
        .post_ok(
            &format!("/api/v1/prints/{id1}/replacement"),
            "clerk",
            &json!({ "reason": "کارت فرسوده است" }),
        )
        .await;
    let case_path = format!("/cases/{}", case["id"].as_i64().unwrap());
    let board = login(&app, "board").await;
    let (_, csrf) = page(&app, &board, &case_path).await;
    post_form(
        &app,
        &board,
        &format!("{case_path}/decision"),
        &csrf,
        &[
            ("approve", "false"),
            ("reason", "کارت سالم است و نیازی به تعویض ندارد"),
        ],
    )
    .await;
    let clerk = login(&app, "clerk").await;
    let (html, _) = page(&app, &clerk, &case_path).await;
    assert!(html.contains("id=\"rejection\""), "{html}");
    assert!(html.contains("کارت سالم است و نیازی به تعویض ندارد"));
    // A role that may not act sees no forms, and a post is refused in Persian.
    assert!(!html.contains(&format!("action=\"{case_path}/")));
    let (_, csrf) = page(&app, &clerk, "/cases").await;
    let err = post_refused(
        &app,
        &clerk,
        &format!("{case_path}/void"),
        &csrf,
        &[],
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert!(err.contains("اجازه"), "{err}");
}
