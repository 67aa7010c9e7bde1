//! The clerk's work queues (certificates due, certificates awaiting a card) are kept markers:
//! they follow every step that changes what is due, a pass policy change judges the waiting
//! candidates again, a queue is never emptied by rows that are not due, and `check` names a
//! marker edited behind the store's back.

use crate::exams::entry;
use crate::helpers::*;
use crate::printing::checked_list;
use serde_json::json;
use skillcard_core::policy::Actor;

async fn actor(app: &TestApp, username: &str) -> Actor {
    let (id,): (i64,) = sqlx::query_as("SELECT id FROM users WHERE username = $1")
        .bind(username)
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    app.store.actor(id).await.unwrap()
}

async fn due(app: &TestApp, clerk: &Actor, limit: i64) -> Vec<i64> {
    app.store
        .certificates_due(clerk, limit)
        .await
        .unwrap()
        .iter()
        .map(|d| d.candidate_id)
        .collect()
}

async fn awaiting(app: &TestApp, clerk: &Actor) -> Vec<i64> {
    app.store
        .awaiting_card(clerk, 50)
        .await
        .unwrap()
        .iter()
        .map(|c| c.certificate_id)
        .collect()
}

async fn check_names(app: &TestApp, needle: &str) {
    let report = app.store.check().await.unwrap();
    assert!(
        report
            .violations
            .iter()
            .any(|v| v.invariant == "work_queues" && v.detail.contains(needle)),
        "check should name {needle}: {report:?}"
    );
}

#[tokio::test]
async fn the_clerks_queues_follow_every_step_and_check_names_an_edited_marker() {
    let app = spawn_app().await;
    let clerk = actor(&app, "clerk").await;
    let (list, entries) = checked_list(&app).await;
    let cand = |nid: &str| entry(&list, nid)["candidate_id"].as_i64().unwrap();
    let (first, failing, last) = (cand("0499370899"), cand("0012345679"), cand("1234567891"));
    assert!(first < failing && failing < last);
    assert_eq!(
        due(&app, &clerk, 50).await,
        Vec::<i64>::new(),
        "nothing approved yet"
    );

    for e in &entries {
        app.post_ok(
            &format!("/api/v1/exam-entries/{e}/decision"),
            "head",
            &json!({ "approve": true }),
        )
        .await;
    }
    // The written score 45.5 fails the published policy's minimum of 50, though approved.
    assert_eq!(due(&app, &clerk, 50).await, vec![first, last]);
    let hq = app.token("hq").await;
    let policy = |written_min: &str| json!({ "written_min": written_min, "practical_min": "70", "written_weight_pct": 25, "final_min": "70" });
    let (s, body) = app
        .put_json("/api/v1/pass-policy", Some(&hq), &policy("45"))
        .await;
    assert!(s.is_success(), "{body}");
    assert_eq!(due(&app, &clerk, 50).await, vec![first, failing, last]);
    let issuance = app
        .get_ok(&format!("/api/v1/candidates/{failing}/issuance"), "clerk")
        .await;
    assert_eq!(issuance["entry"]["passes"], true, "{issuance}");
    app.put_json("/api/v1/pass-policy", Some(&hq), &policy("50"))
        .await;
    assert_eq!(due(&app, &clerk, 50).await, vec![first, last]);
    app.assert_check_ok().await;

    // Fee and certificate for the first: the queue's one slot goes to the next one due, not to
    // the approved but failing candidate between them.
    app.put_json(
        "/api/v1/fees",
        Some(&hq),
        &json!({ "kind": "issuance", "amount_rial": 1_500_000 }),
    )
    .await;
    let mut certs = Vec::new();
    for (n, c) in [first, last].into_iter().enumerate() {
        app.post_ok(
            &format!("/api/v1/candidates/{c}/payments"),
            "clerk",
            &json!({ "reference": format!("BANK-{n}"), "amount_rial": 1_500_000 }),
        )
        .await;
        let v = app
            .post_ok(
                &format!("/api/v1/candidates/{c}/certificate"),
                "clerk",
                &json!({ "confirm": true }),
            )
            .await;
        certs.push(v["certificate"]["id"].as_i64().unwrap());
        if n == 0 {
            assert_eq!(due(&app, &clerk, 1).await, vec![last]);
        }
    }
    assert_eq!(due(&app, &clerk, 50).await, Vec::<i64>::new());
    assert_eq!(awaiting(&app, &clerk).await, certs);

    // A print takes its certificate off the queue; a spoiled card puts it back.
    let dir = tempdir();
    let mut chip = skillcard_chip::FileWriter::for_card(&dir, "queue-1").unwrap();
    let uid = hex::encode(skillcard_chip::CardWriter::uid(&mut chip).unwrap());
    let p = app
        .post_ok(
            &format!("/api/v1/certificates/{}/prints", certs[0]),
            "clerk",
            &json!({ "chip_uid": uid }),
        )
        .await;
    assert_eq!(awaiting(&app, &clerk).await, vec![certs[1]]);
    app.post_ok(
        &format!("/api/v1/prints/{}/inspection", p["id"]),
        "clerk",
        &json!({ "sound": false, "reason": "رنگ عکس محو چاپ شده" }),
    )
    .await;
    assert_eq!(awaiting(&app, &clerk).await, certs);
    // Another province's clerk sees neither queue's rows.
    let other = create_user(
        &app.store,
        "clerk-thr",
        skillcard_core::policy::Role::IssuanceClerk,
        Some(8),
    )
    .await;
    assert!(awaiting(&app, &other).await.is_empty());
    app.assert_check_ok().await;

    // Edited behind the store's back, a marker is named by check.
    sqlx::query("UPDATE certificates SET card_due = 0 WHERE id = $1")
        .bind(certs[1])
        .execute(app.store.pool())
        .await
        .unwrap();
    check_names(&app, &format!("certificates.card_due of {} is 0", certs[1])).await;
    sqlx::query("UPDATE candidates SET certificate_due = 1 WHERE id = $1")
        .bind(failing)
        .execute(app.store.pool())
        .await
        .unwrap();
    check_names(
        &app,
        &format!("candidates.certificate_due of {failing} is 1"),
    )
    .await;
}

#[tokio::test]
async fn the_custody_dashboards_list_shipments_to_receive_and_discrepancies_for_hq() {
    let app = spawn_app().await;
    let sh = app
        .post_ok(
            "/api/v1/shipments",
            "hq",
            &json!({ "province_id": 4, "ref_no": "۱۴۰۵-۲۰۲", "carrier": "پست پیشتاز",
                     "declared_count": 100, "ranges": [{ "first": 300001, "last": 300100 }] }),
        )
        .await;
    let id = sh["id"].as_i64().unwrap();
    let link = format!("href=\"/shipments/{id}\"");
    let security = crate::exam_pages::login(&app, "security").await;
    let (dash, _) = crate::exam_pages::page(&app, &security, "/").await;
    assert!(
        dash.contains(&link) && dash.contains("دریافت محموله ۱۴۰۵-۲۰۲"),
        "{dash}"
    );
    let hq = crate::exam_pages::login(&app, "hq").await;
    let (dash, _) = crate::exam_pages::page(&app, &hq, "/").await;
    assert!(!dash.contains("مغایرت در دریافت محموله ۱۴۰۵-۲۰۲"), "{dash}");
    // The browser tab's title is plain text: the number isolated, no markup.
    let (html, _) = crate::exam_pages::page(&app, &hq, &format!("/shipments/{id}")).await;
    let title = &html[html.find("<title>").unwrap()..html.find("</title>").unwrap()];
    assert!(
        title.contains("محموله \u{2066}۱۴۰۵-۲۰۲\u{2069}") && !title.contains("bdi"),
        "{title}"
    );

    app.post_ok(
        &format!("/api/v1/shipments/{id}/receipt"),
        "security",
        &receipt_body(98, &[(300050, 300051)], &[]),
    )
    .await;
    let (dash, _) = crate::exam_pages::page(&app, &security, "/").await;
    assert!(!dash.contains("دریافت محموله ۱۴۰۵-۲۰۲ "), "{dash}");
    assert!(
        dash.contains("ثبت نامه اعلام وصول محموله ۱۴۰۵-۲۰۲"),
        "{dash}"
    );
    let (dash, _) = crate::exam_pages::page(&app, &hq, "/").await;
    assert!(dash.contains("مغایرت در دریافت محموله ۱۴۰۵-۲۰۲"), "{dash}");
}
