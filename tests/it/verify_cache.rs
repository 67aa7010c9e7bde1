//! The verification cache on both backends: answers about registered cards are kept in memory,
//! and a card leaving service is seen at once by the server that made the change and within
//! `FOLLOW_EVERY` by another server over the same database.

use crate::aftercare::registered_card;
use crate::helpers::*;
use crate::printing::issued_certificates;
use serde_json::{json, Value};
use skillcard_db::Store;
use skillcard_web::verify_cache::FOLLOW_EVERY;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const NATIONAL_ID: &str = "0499370899";

async fn verify(client: &reqwest::Client, addr: SocketAddr, query: &[(&str, &str)]) -> Value {
    let r = client
        .get(format!("http://{addr}/api/v1/public/verify"))
        .query(query)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    r.json().await.unwrap()
}

/// Renames the holder of certificate `number` behind the application's back: an answer that
/// still shows the old name was kept in memory.
async fn rename_behind_the_back(app: &TestApp, number: &str, name: &str) {
    let changed = sqlx::query(
        "UPDATE candidates SET first_name = $1 WHERE id = (SELECT candidate_id FROM certificates WHERE number = $2)",
    )
    .bind(name)
    .bind(number)
    .execute(app.store.pool())
    .await
    .unwrap();
    assert_eq!(changed.rows_affected(), 1);
}

#[tokio::test]
async fn kept_answers_follow_cards_leaving_service_here_and_on_other_servers() {
    let app = spawn_app().await;
    let certs = issued_certificates(&app).await;
    let p = registered_card(&app, certs[0].0, "cache1").await;
    let qr = p["qr_text"].as_str().unwrap();
    let number = p["certificate_no"].as_str().unwrap();
    let by_qr = [("qr", qr)];
    let by_number = [("number", number), ("national_id", NATIONAL_ID)];
    let here = app.addr;
    let c = &app.client;

    let first = verify(c, here, &by_qr).await;
    assert_eq!(first["result"], "valid", "{first}");
    let name = first["certificate"]["given_name"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(verify(c, here, &by_number).await["result"], "valid");

    // Both answers are now kept: a change made behind the application's back is not seen.
    rename_behind_the_back(&app, number, "دیگر").await;
    assert_eq!(
        verify(c, here, &by_qr).await["certificate"]["given_name"],
        name
    );
    assert_eq!(
        verify(c, here, &by_number).await["certificate"]["given_name"],
        name
    );

    // Another server over the same database, and one that keeps nothing, read it afresh.
    let other_server = serve_store(Store::connect(&app.db_url).await.unwrap()).await;
    let uncached_server = serve_store_with(Store::connect(&app.db_url).await.unwrap(), |s| {
        s.with_verify_cache(0)
    })
    .await;
    let (other, uncached) = (other_server.addr, uncached_server.addr);
    assert_eq!(
        verify(c, other, &by_qr).await["certificate"]["given_name"],
        "دیگر"
    );
    rename_behind_the_back(&app, number, "سوم").await;
    assert_eq!(
        verify(c, other, &by_qr).await["certificate"]["given_name"],
        "دیگر"
    );
    assert_eq!(
        verify(c, uncached, &by_qr).await["certificate"]["given_name"],
        "سوم"
    );

    // the card is reported damaged on the first server.
    app.post_ok(
        "/api/v1/cases/damage",
        "clerk",
        &json!({ "cards": [{ "print_id": p["id"], "cause": "physical" }] }),
    )
    .await;
    // The server that made the change answers from the database at once, both ways.
    assert_eq!(verify(c, here, &by_qr).await["result"], "damaged");
    assert_eq!(verify(c, here, &by_number).await["result"], "damaged");
    assert_eq!(verify(c, uncached, &by_qr).await["result"], "damaged");
    // The other server sees the change through the log, within its follow interval.
    let since = Instant::now();
    loop {
        let v = verify(c, other, &by_qr).await;
        if v["result"] == "damaged" {
            break;
        }
        assert_eq!(v["result"], "valid", "{v}");
        assert!(
            since.elapsed() < FOLLOW_EVERY * 5,
            "the other server still answers valid after {:?}",
            since.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A damaged card's answer is not kept: it is read afresh (and shows the latest name).
    rename_behind_the_back(&app, number, "چهارم").await;
    assert_eq!(
        verify(c, here, &by_qr).await["certificate"]["given_name"],
        "چهارم"
    );
}
