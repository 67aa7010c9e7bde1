//! The pages and the API show one workflow: every aggregate is walked through its states, and at
//! each state, for every role, the forms a page offers (`data-step`, with `data-of` for a row)
//! are exactly the `next_actions` the API lists for that role — and a role the API refuses is
//! refused the page too.

use crate::aftercare::{opened_print, register_opened};
use crate::exam_pages::login;
use crate::exams::list_with_candidates;
use crate::helpers::*;
use crate::printing::pay_and_issue;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::BTreeSet;

const ROLES: [&str; 9] = [
    "hq", "security", "head", "officer", "clerk", "examiner", "delivery", "dg", "board",
];

/// (row, step): the row is `""` for the page's own record, else e.g. `entry-7`.
type Steps = BTreeSet<(String, String)>;

struct Viewer {
    name: &'static str,
    web: reqwest::Client,
    token: String,
}

async fn viewers(app: &TestApp) -> Vec<Viewer> {
    let mut out = Vec::new();
    for name in ROLES {
        out.push(Viewer {
            name,
            web: login(app, name).await,
            token: app.token(name).await,
        });
    }
    out
}

fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
    let len = tag[start..].find('"')?;
    Some(&tag[start..start + len])
}

/// The steps a page offers.
fn page_steps(html: &str) -> Steps {
    let mut out = Steps::new();
    let mut rest = html;
    while let Some(i) = rest.find("data-step=\"") {
        let tag_start = rest[..i].rfind('<').unwrap_or(0);
        let tag_end = i + rest[i..].find('>').unwrap_or(rest.len() - i);
        let tag = &rest[tag_start..tag_end];
        let step = attr(tag, "data-step").unwrap().to_string();
        let of = attr(tag, "data-of").unwrap_or("").to_string();
        out.insert((of, step));
        rest = &rest[tag_end..];
    }
    out
}

/// The ids of the rows `<tr id="{prefix}-N">` of a page.
fn row_ids(html: &str, prefix: &str) -> Vec<i64> {
    let needle = format!("<tr id=\"{prefix}-");
    html.match_indices(&needle)
        .filter_map(|(i, _)| {
            let rest = &html[i + needle.len()..];
            rest[..rest.find('"')?].parse().ok()
        })
        .collect()
}

fn api_steps(of: &str, view: &Value) -> Steps {
    view["next_actions"]["actions"]
        .as_array()
        .unwrap_or_else(|| panic!("no next_actions in {view}"))
        .iter()
        .map(|s| (of.to_string(), s.as_str().unwrap().to_string()))
        .collect()
}

/// Which record a page shows, and where the API reads it with its rows.
#[derive(Clone, Copy)]
enum Record {
    Shipment(i64),
    Request(i64),
    ExamList(i64),
    Issuance(i64),
    Case(i64),
    DeliveryList(i64),
}

impl Record {
    fn page(self) -> String {
        match self {
            Record::Shipment(id) => format!("/shipments/{id}"),
            Record::Request(id) => format!("/requests/{id}"),
            Record::ExamList(id) => format!("/exams/{id}"),
            Record::Issuance(id) => format!("/issuance/{id}"),
            Record::Case(id) => format!("/cases/{id}"),
            Record::DeliveryList(id) => format!("/deliveries/{id}"),
        }
    }
    fn api(self) -> String {
        match self {
            Record::Shipment(id) => format!("/api/v1/shipments/{id}"),
            Record::Request(id) => format!("/api/v1/requests/{id}"),
            Record::ExamList(id) => format!("/api/v1/exam-lists/{id}"),
            Record::Issuance(id) => format!("/api/v1/candidates/{id}/issuance"),
            Record::Case(id) => format!("/api/v1/cases/{id}"),
            Record::DeliveryList(id) => format!("/api/v1/delivery-lists/{id}"),
        }
    }
}

/// Asserts, for every role, that the page offers what the API lists; returns every role's
/// steps (for the walk to check that someone can move the record on).
async fn same_steps(app: &TestApp, viewers: &[Viewer], record: Record, state: &str) -> Steps {
    let mut anyone = Steps::new();
    for v in viewers {
        let r = v.web.get(app.url(&record.page())).send().await.unwrap();
        let page_status = r.status();
        let html = r.text().await.unwrap();
        let (api_status, view) = app.get_json(&record.api(), Some(&v.token)).await;
        assert_eq!(
            page_status, api_status,
            "{state}: {} sees the page {} but the API {}",
            v.name, page_status, api_status
        );
        if api_status != StatusCode::OK {
            continue;
        }
        let mut api = api_steps("", &view);
        match record {
            Record::ExamList(_) => {
                for e in view["entries"].as_array().unwrap() {
                    api.extend(api_steps(&format!("entry-{}", e["id"]), e));
                }
            }
            Record::DeliveryList(_) => {
                for c in view["cards"].as_array().unwrap() {
                    api.extend(api_steps(&format!("card-{}", c["print_id"]), c));
                }
            }
            Record::Issuance(_) => {
                for id in row_ids(&html, "print") {
                    let (s, p) = app
                        .get_json(&format!("/api/v1/prints/{id}"), Some(&v.token))
                        .await;
                    assert_eq!(s, StatusCode::OK, "{p}");
                    api.extend(api_steps(&format!("print-{id}"), &p));
                }
            }
            _ => {}
        }
        let page = page_steps(&html);
        assert_eq!(
            page,
            api,
            "{state}: for {} the page {} offers {:?}, the API lists {:?}",
            v.name,
            record.page(),
            page,
            api
        );
        anyone.extend(api);
    }
    anyone
}

fn has(steps: &Steps, step: &str) -> bool {
    steps.iter().any(|(_, s)| s == step)
}

#[tokio::test]
async fn pages_offer_exactly_the_api_next_actions() {
    let app = spawn_app().await;
    let viewers = viewers(&app).await;

    // a shipment in transit, received, announced.
    let province = app.get_ok("/api/v1/me", "security").await["province_id"].clone();
    let sh = app
        .post_ok(
            "/api/v1/shipments",
            "hq",
            &json!({ "province_id": province,
                     "ref_no": "NX-1", "carrier": "پست", "declared_count": 10,
                     "ranges": [{ "first": 7_000_000, "last": 7_000_009 }] }),
        )
        .await;
    let shipment = Record::Shipment(sh["id"].as_i64().unwrap());
    let steps = same_steps(&app, &viewers, shipment, "in transit").await;
    assert!(has(&steps, "receive_shipment"), "{steps:?}");
    let id = sh["id"].as_i64().unwrap();
    app.post_ok(
        &format!("/api/v1/shipments/{id}/receipt"),
        "security",
        &receipt_body(10, &[], &[]),
    )
    .await;
    let steps = same_steps(&app, &viewers, shipment, "received").await;
    assert!(has(&steps, "send_receipt_notice"), "{steps:?}");
    app.post_ok(
        &format!("/api/v1/shipments/{id}/receipt-notice"),
        "security",
        &json!({ "letter_no": "۵۵/ح", "signer_name": "امین" }),
    )
    .await;
    let steps = same_steps(&app, &viewers, shipment, "announced").await;
    assert!(steps.is_empty(), "{steps:?}");

    // the demo's open request, then handed over in full.
    let requests = app.get_ok("/api/v1/requests", "head").await;
    let r = &requests["items"].as_array().unwrap()[0];
    let request = Record::Request(r["id"].as_i64().unwrap());
    if r["status"] == "open" {
        let steps = same_steps(&app, &viewers, request, "open request").await;
        assert!(has(&steps, "hand_over"), "{steps:?}");
        let left = r["count"].as_u64().unwrap() - r["handed_count"].as_u64().unwrap();
        app.post_ok(
            &format!("/api/v1/requests/{}/handovers", r["id"]),
            "security",
            &handover_body(Some(left), &[]),
        )
        .await;
    }
    let steps = same_steps(&app, &viewers, request, "fulfilled request").await;
    assert!(steps.is_empty(), "{steps:?}");

    // a list from draft to decided.
    let (list_id, entries) = list_with_candidates(&app).await;
    let list = Record::ExamList(list_id);
    let steps = same_steps(&app, &viewers, list, "draft list").await;
    assert!(has(&steps, "record_scores") && has(&steps, "submit_list"));
    let scores = json!({ "scores": [
        { "national_id": "0499370899", "score": "80" },
        { "national_id": "0012345679", "score": "30" },
        { "national_id": "1234567891", "score": "75.5" },
    ]});
    app.post_ok(
        &format!("/api/v1/exam-lists/{list_id}/scores"),
        "examiner",
        &scores,
    )
    .await;
    app.post_ok(
        &format!("/api/v1/exam-lists/{list_id}/submit"),
        "examiner",
        &json!({}),
    )
    .await;
    let steps = same_steps(&app, &viewers, list, "submitted list").await;
    assert!(has(&steps, "check_list"), "{steps:?}");
    app.post_ok(
        &format!("/api/v1/exam-lists/{list_id}/check"),
        "officer",
        &json!({ "accept": true }),
    )
    .await;
    let steps = same_steps(&app, &viewers, list, "checked list").await;
    assert_eq!(
        steps.iter().filter(|(_, s)| s == "decide_score").count(),
        entries.len()
    );
    for e in &entries {
        app.post_ok(
            &format!("/api/v1/exam-entries/{e}/decision"),
            "head",
            &json!({ "approve": true }),
        )
        .await;
    }
    // Two pass (the certificate is due), one fails.
    let steps = same_steps(&app, &viewers, list, "decided list").await;
    assert_eq!(
        steps
            .iter()
            .filter(|(_, s)| s == "issue_certificate")
            .count(),
        2,
        "{steps:?}"
    );

    // for one candidate, then a damage case back to a reprint.
    let decided = app
        .get_ok(&format!("/api/v1/exam-lists/{list_id}"), "clerk")
        .await;
    let certs = pay_and_issue(&app, &decided).await;
    let (cert, candidate) = certs[0];
    let issuance = Record::Issuance(candidate);
    let steps = same_steps(&app, &viewers, issuance, "issued").await;
    assert!(has(&steps, "start_print"), "{steps:?}");
    let (p, chip) = opened_print(&app, cert, "nx1").await;
    let steps = same_steps(&app, &viewers, issuance, "printing").await;
    assert!(has(&steps, "record_inspection") && has(&steps, "write_chip"));
    let p = register_opened(&app, &p, chip).await;
    let print_id = p["id"].as_i64().unwrap();
    let steps = same_steps(&app, &viewers, issuance, "registered").await;
    assert!(has(&steps, "open_damage_case") && has(&steps, "request_replacement"));

    // a handover list with the card.
    let dl = app
        .post_ok(
            "/api/v1/delivery-lists",
            "delivery",
            &json!({ "label": "فهرست آزمایشی", "print_ids": [print_id] }),
        )
        .await;
    let delivery_list = Record::DeliveryList(dl["id"].as_i64().unwrap());
    let steps = same_steps(&app, &viewers, delivery_list, "listed").await;
    assert!(has(&steps, "deliver_card") && has(&steps, "upload_list_scan"));

    let case = app
        .post_ok(
            "/api/v1/cases/damage",
            "clerk",
            &json!({ "cards": [{ "print_id": print_id, "cause": "chip_fault" }] }),
        )
        .await;
    let case_id = case["id"].as_i64().unwrap();
    let case_record = Record::Case(case_id);
    let steps = same_steps(&app, &viewers, delivery_list, "damaged on its list").await;
    assert!(!has(&steps, "deliver_card"), "{steps:?}");
    let walk: [(&str, &str, &str, Value); 4] = [
        (
            "open",
            "review_damage",
            "review",
            json!({ "outcome": "تأیید خرابی" }),
        ),
        (
            "reviewed",
            "send_to_hq",
            "send",
            json!({ "letter_no": "۱/ص", "letter_date": "۱۴۰۵/۰۹/۰۵",
                    "minutes_scan_base64": crate::aftercare::scan_base64() }),
        ),
        ("sent to HQ", "record_arrival", "arrival", json!({})),
        ("at HQ", "authorize_reprint", "authorization", json!({})),
    ];
    for (state, step, path, body) in walk {
        let steps = same_steps(&app, &viewers, case_record, state).await;
        assert_eq!(
            steps.iter().map(|(_, s)| s.as_str()).collect::<Vec<_>>(),
            vec![step],
            "{state}"
        );
        let who = match step {
            "review_damage" => "officer",
            "send_to_hq" => "dg",
            _ => "hq",
        };
        app.post_ok(&format!("/api/v1/cases/{case_id}/{path}"), who, &body)
            .await;
    }
    let steps = same_steps(&app, &viewers, case_record, "authorised").await;
    assert!(steps.is_empty(), "{steps:?}");
    // The authorisation opens the reprint, for the clerk, on the issuance page.
    let steps = same_steps(&app, &viewers, issuance, "reprint authorised").await;
    assert!(has(&steps, "start_print"), "{steps:?}");

    // Note 4: a replacement request of the second card, through the board to HQ.
    let p2 = crate::aftercare::registered_card(&app, certs[1].0, "nx2").await;
    let hq = app.token("hq").await;
    app.put_json(
        "/api/v1/fees",
        Some(&hq),
        &json!({ "kind": "replacement", "amount_rial": 800_000 }),
    )
    .await;
    let rep = app
        .post_ok(
            &format!("/api/v1/prints/{}/replacement", p2["id"]),
            "clerk",
            &json!({ "reason": "اشتباه در نام", "first_name": "رضا" }),
        )
        .await;
    let rep_id = rep["id"].as_i64().unwrap();
    let rep_record = Record::Case(rep_id);
    let walk: [(&str, &str, &str, &str, Value); 4] = [
        (
            "requested",
            "decide_replacement",
            "decision",
            "board",
            json!({ "approve": true }),
        ),
        ("approved", "void_card", "void", "officer", json!({})),
        (
            "voided",
            "pay_replacement_fee",
            "fee",
            "clerk",
            json!({ "reference": "FEE-1", "amount_rial": 800_000 }),
        ),
        (
            "paid",
            "send_to_hq",
            "send",
            "dg",
            json!({ "letter_no": "۲/ص", "letter_date": "۱۴۰۵/۰۹/۰۶",
                    "minutes_scan_base64": crate::aftercare::scan_base64() }),
        ),
    ];
    for (state, step, path, who, body) in walk {
        let steps = same_steps(&app, &viewers, rep_record, state).await;
        assert_eq!(
            steps.iter().map(|(_, s)| s.as_str()).collect::<Vec<_>>(),
            vec![step],
            "{state}"
        );
        app.post_ok(&format!("/api/v1/cases/{rep_id}/{path}"), who, &body)
            .await;
    }
    let steps = same_steps(&app, &viewers, rep_record, "replacement sent").await;
    assert!(has(&steps, "record_arrival"), "{steps:?}");
    app.assert_check_ok().await;
}
