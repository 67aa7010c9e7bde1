//! Part 2 issuance over the API: the fee by gateway callback and bank receipt, and the
//! certificate, on both backends.

use crate::exams::{entry, list_with_candidates};
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use skillcard_core::issuance::gateway_signature;

async fn gateway(app: &TestApp, body: &Value, signature: Option<String>) -> (StatusCode, Value) {
    let bytes = serde_json::to_vec(body).unwrap();
    let sig = signature.unwrap_or_else(|| gateway_signature(GATEWAY_SECRET, &bytes));
    let resp = app
        .client
        .post(app.url("/api/v1/payments/gateway"))
        .header("x-signature", sig)
        .header("content-type", "application/json")
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap())
}

#[tokio::test]
async fn r6_5_and_r6_6_fee_then_certificate() {
    let app = spawn_app().await;
    let (id, entries) = list_with_candidates(&app).await;
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
    let cand = |nid: &str| entry(&list, nid)["candidate_id"].as_i64().unwrap();
    let (ali, zahra, reza) = (cand("0499370899"), cand("0012345679"), cand("1234567891"));
    app.post_ok(
        &format!("/api/v1/exam-entries/{}/decision", entries[0]),
        "head",
        &json!({ "approve": true }),
    )
    .await;
    app.post_ok(
        &format!("/api/v1/exam-entries/{}/decision", entries[1]),
        "head",
        &json!({ "approve": true }),
    )
    .await;
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;

    // No fee in force yet: nothing can be paid.
    let (s, b) = gateway(
        &app,
        &json!({ "candidate_id": ali, "reference": "GW-1", "amount_rial": 1_500_000 }),
        None,
    )
    .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found")),
        "{b}"
    );
    let hq = app.token("hq").await;
    app.put_json(
        "/api/v1/fees",
        Some(&hq),
        &json!({ "kind": "issuance", "amount_rial": 1_500_000 }),
    )
    .await;

    // refuses an unpaid candidate.
    let issue = |c: i64| format!("/api/v1/candidates/{c}/certificate");
    app.post_rejected(
        &issue(ali),
        "clerk",
        &json!({ "confirm": true }),
        unprocessable,
        "not_paid",
    )
    .await;

    // by the gateway: a bad signature changes nothing; the right one records once.
    let cb = json!({ "candidate_id": ali, "reference": "GW-1", "amount_rial": 1_500_000 });
    let before = db_fingerprint(&app.store).await;
    let (s, b) = gateway(&app, &cb, Some(gateway_signature(b"wrong-secret", b"x"))).await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("bad_signature")),
        "{b}"
    );
    let (s, b) = gateway(
        &app,
        &json!({ "candidate_id": ali, "reference": "GW-1", "amount_rial": 1_000 }),
        None,
    )
    .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (unprocessable, Some("wrong_amount")),
        "{b}"
    );
    assert_eq!(before, db_fingerprint(&app.store).await);
    let (s, b) = gateway(&app, &cb, None).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["new"], true);
    let after_first = db_fingerprint(&app.store).await;
    let (s, b) = gateway(&app, &cb, None).await;
    assert_eq!((s, &b["new"]), (StatusCode::OK, &json!(false)), "{b}");
    assert_eq!(
        after_first,
        db_fingerprint(&app.store).await,
        "a repeated callback changed the database"
    );

    // before: no fee before the head approves a passing score — by a bank receipt
    // or through the gateway (an unverified charge goes back to the payer).
    app.post_rejected(
        &format!("/api/v1/candidates/{reza}/payments"),
        "clerk",
        &json!({ "reference": "بانک-۷۷۱", "amount_rial": "۱۵۰۰۰۰۰" }),
        unprocessable,
        "not_approved",
    )
    .await;
    app.post_rejected(
        &format!("/api/v1/candidates/{zahra}/payments"),
        "clerk",
        &json!({ "reference": "BANK-2", "amount_rial": 1_500_000 }),
        unprocessable,
        "not_passed",
    )
    .await;
    let before = db_fingerprint(&app.store).await;
    let (s, b) = gateway(
        &app,
        &json!({ "candidate_id": reza, "reference": "GW-9", "amount_rial": 1_500_000 }),
        None,
    )
    .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (unprocessable, Some("not_approved")),
        "{b}"
    );
    assert_eq!(before, db_fingerprint(&app.store).await);

    // approved + passed + paid + confirmed, by the issuance clerk only.
    app.post_rejected(
        &issue(zahra),
        "clerk",
        &json!({ "confirm": true }),
        unprocessable,
        "not_passed",
    )
    .await;
    app.post_rejected(
        &issue(reza),
        "clerk",
        &json!({ "confirm": true }),
        unprocessable,
        "not_approved",
    )
    .await;
    app.post_rejected(
        &issue(ali),
        "clerk",
        &json!({ "confirm": false }),
        unprocessable,
        "required",
    )
    .await;
    app.post_rejected(
        &issue(ali),
        "head",
        &json!({ "confirm": true }),
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let v = app
        .post_ok(&issue(ali), "clerk", &json!({ "confirm": true }))
        .await;
    let number = v["certificate"]["number"].as_str().unwrap().to_string();
    assert!(
        number.starts_with("ESF-14") && number.ends_with("-000001"),
        "{number}"
    );
    assert_eq!(v["certificate"]["final_score"], "75");
    // The answer is the view as it now stands.
    assert_eq!(
        v,
        app.get_ok(&format!("/api/v1/candidates/{ali}/issuance"), "clerk")
            .await
    );
    app.post_rejected(
        &issue(ali),
        "clerk",
        &json!({ "confirm": true }),
        StatusCode::CONFLICT,
        "already_recorded",
    )
    .await;
    app.post_ok(
        &format!("/api/v1/exam-entries/{}/decision", entries[2]),
        "head",
        &json!({ "approve": true }),
    )
    .await;
    // by a bank receipt, now that the pass is approved; a used reference cannot pay for
    // someone else.
    app.post_rejected(
        &format!("/api/v1/candidates/{reza}/payments"),
        "clerk",
        &json!({ "reference": "GW-1", "amount_rial": 1_500_000 }),
        StatusCode::CONFLICT,
        "already_recorded",
    )
    .await;
    let v = app
        .post_ok(
            &format!("/api/v1/candidates/{reza}/payments"),
            "clerk",
            &json!({ "reference": "بانک-۷۷۱", "amount_rial": "۱۵۰۰۰۰۰" }),
        )
        .await;
    assert_eq!(v["paid"], true);
    let v = app
        .post_ok(&issue(reza), "clerk", &json!({ "confirm": true }))
        .await;
    assert!(v["certificate"]["number"]
        .as_str()
        .unwrap()
        .ends_with("-000002"));
    app.assert_check_ok().await;
}
