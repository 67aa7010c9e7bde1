//! Every list answers keyset pages (`{items, next_before}`, newest first): walking a list by its
//! cursor visits each row once, stays stable while rows are added, keeps the page size within
//! `1..=200`, and refuses an unknown status rather than reading it as "all".

use crate::exam_pages;
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// The lists and the key their cursor runs on.
const LISTS: [(&str, &str); 8] = [
    ("/api/v1/shipments", "id"),
    ("/api/v1/requests", "id"),
    ("/api/v1/exam-lists", "id"),
    ("/api/v1/prints", "id"),
    ("/api/v1/delivery-lists", "id"),
    ("/api/v1/cases", "id"),
    ("/api/v1/notifications", "id"),
    ("/api/v1/audit", "seq"),
];

fn keys(page: &Value, key: &str) -> Vec<i64> {
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a page of items: {page}"))
        .iter()
        .map(|r| r[key].as_i64().unwrap())
        .collect()
}

/// Every row of `path` (with `?` or `&` to append to), `limit` at a time, newest first.
async fn walk(app: &TestApp, path: &str, key: &str, user: &str, limit: u64) -> Vec<i64> {
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut all = Vec::new();
    let mut before: Option<i64> = None;
    for _ in 0..1000 {
        let url = match before {
            Some(b) => format!("{path}{sep}limit={limit}&before={b}"),
            None => format!("{path}{sep}limit={limit}"),
        };
        let page = app.get_ok(&url, user).await;
        let got = keys(&page, key);
        assert!(got.len() as u64 <= limit, "{url}: {} rows", got.len());
        all.extend(got);
        match page["next_before"].as_i64() {
            Some(b) => {
                assert_eq!(Some(&b), all.last(), "{url}: the cursor is the last row");
                before = Some(b);
            }
            None => return all,
        }
    }
    panic!("{path}: no last page");
}

async fn ship(app: &TestApp, n: u64) -> i64 {
    let first = 700_000 + n * 10;
    let sh = app
        .post_ok(
            "/api/v1/shipments",
            "hq",
            &json!({ "province_id": 1, "ref_no": format!("PG-{n}"), "carrier": "پست",
                     "declared_count": 5, "ranges": [{ "first": first, "last": first + 4 }] }),
        )
        .await;
    sh["id"].as_i64().unwrap()
}

#[tokio::test]
async fn a_walk_by_cursor_visits_every_row_once_and_stays_stable_while_rows_are_added() {
    let app = spawn_app().await;
    for n in 0..7 {
        ship(&app, n).await;
    }
    for (path, key) in [("/api/v1/shipments", "id"), ("/api/v1/audit", "seq")] {
        let whole = keys(&app.get_ok(&format!("{path}?limit=200"), "hq").await, key);
        assert!(whole.len() >= 7, "{path}: {whole:?}");
        assert!(
            whole.windows(2).all(|w| w[0] > w[1]),
            "{path}: newest first"
        );
        for limit in [1, 2, 3, 5] {
            assert_eq!(
                walk(&app, path, key, "hq", limit).await,
                whole,
                "{path} by {limit}"
            );
        }
    }

    // Rows added after the first page do not shift the pages that follow it: the cursor is a
    // key, not an offset.
    let p1 = app.get_ok("/api/v1/shipments?limit=3", "hq").await;
    let first_keys = keys(&p1, "id");
    let before = p1["next_before"].as_i64().unwrap();
    let newer = ship(&app, 100).await;
    assert!(newer > first_keys[0]);
    let p2 = app
        .get_ok(&format!("/api/v1/shipments?limit=3&before={before}"), "hq")
        .await;
    let second = keys(&p2, "id");
    assert!(second.iter().all(|id| *id < before), "{second:?}");
    assert_eq!(second[0], before - 1, "the next older row, none skipped");
    // The new row heads the newest page.
    let fresh = app.get_ok("/api/v1/shipments?limit=1", "hq").await;
    assert_eq!(keys(&fresh, "id"), vec![newer]);

    // A status narrows the walk; every row of it is in that status.
    let in_transit = walk(&app, "/api/v1/shipments?status=in_transit", "id", "hq", 2).await;
    assert!(in_transit.contains(&newer));
    let all = app
        .get_ok("/api/v1/shipments?status=in_transit&limit=200", "hq")
        .await;
    assert!(all["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["status"] == "in_transit"));
    assert_eq!(keys(&all, "id"), in_transit);
}

#[tokio::test]
async fn every_list_answers_a_bounded_page_and_refuses_an_unknown_status() {
    let app = spawn_app().await;
    // Enough audit records for the bounds to bite.
    for n in 0..3 {
        ship(&app, n).await;
    }
    let token = app.token("hq").await;
    for (path, key) in LISTS {
        // A page is never empty for lack of a limit, and never longer than the maximum.
        let (s, one) = app.get_json(&format!("{path}?limit=0"), Some(&token)).await;
        assert_eq!(s, StatusCode::OK, "{path}: {one}");
        assert!(keys(&one, key).len() <= 1, "{path}: limit 0 reads one row");
        let (s, big) = app
            .get_json(&format!("{path}?limit=100000"), Some(&token))
            .await;
        assert_eq!(s, StatusCode::OK, "{path}: {big}");
        assert!(keys(&big, key).len() <= 200, "{path}");
        assert!(big.get("next_before").is_some(), "{path}: {big}");
        if path != "/api/v1/audit" && path != "/api/v1/delivery-lists" {
            let (s, b) = app
                .get_json(&format!("{path}?status=lost"), Some(&token))
                .await;
            assert_eq!(
                (s, b["code"].as_str()),
                (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_value")),
                "{path}: {b}"
            );
            assert_eq!(b["details"]["field"], "status", "{path}: {b}");
        }
    }
    // The audit walk counts every record the chain holds.
    let audit = walk(&app, "/api/v1/audit", "seq", "hq", 7).await;
    let head = app.get_ok("/api/v1/audit?limit=1", "hq").await;
    assert_eq!(audit.first(), keys(&head, "seq").first());
    assert_eq!(*audit.last().unwrap(), 1, "down to the first record");
    assert_eq!(audit.len() as i64, audit[0], "no sequence number skipped");
}

#[tokio::test]
async fn a_record_history_is_its_own_audit_records_and_the_page_links_follow_the_cursor() {
    let app = spawn_app().await;
    let id = ship(&app, 1).await;
    let history = app
        .get_ok(
            &format!("/api/v1/audit?entity=shipment&entity_id={id}"),
            "hq",
        )
        .await;
    let items = history["items"].as_array().unwrap();
    assert!(!items.is_empty());
    assert!(items
        .iter()
        .all(|a| a["entity"] == "shipment" && a["entity_id"] == *id.to_string()));
    let (s, b) = app
        .get_json(
            "/api/v1/audit?entity=shipment",
            Some(&app.token("hq").await),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");

    // The audit page links to older records while there are more, and back to the newest.
    let client = exam_pages::login(&app, "hq").await;
    let (html, _) = exam_pages::page(&app, &client, "/audit?limit=5").await;
    let older = html
        .split("rel=\"next\"")
        .next()
        .and_then(|h| h.rsplit("href=\"").next())
        .and_then(|h| h.split('"').next())
        .unwrap()
        .to_string();
    assert!(older.starts_with("/audit?before="), "{older}");
    let (deeper, _) = exam_pages::page(&app, &client, &older).await;
    assert!(
        deeper.contains("rel=\"first\""),
        "a way back to the newest page"
    );
}

#[tokio::test]
async fn one_search_box_finds_a_holder_by_national_code_serial_certificate_or_name() {
    let app = spawn_app().await;
    let issued = crate::printing::issued_certificates(&app).await;
    let (cert, cand) = issued[0];
    let card = crate::aftercare::registered_card(&app, cert, "search").await;
    let serial = card["serial"].as_i64().unwrap();
    let number = card["certificate_no"].as_str().unwrap().to_string();

    let find = |q: String| {
        let app = &app;
        async move {
            app.get_ok(&format!("/api/v1/search?q={}", urlencode(&q)), "clerk")
                .await
        }
    };
    let by_code = find(skillcard_core::text::persian_digits(
        card["national_id"].as_str().unwrap(),
    ))
    .await;
    let hit = &by_code["items"][0];
    assert_eq!(by_code["items"].as_array().unwrap().len(), 1, "{by_code}");
    assert_eq!(hit["candidate_id"], cand);
    assert_eq!(hit["serial"], serial);
    assert_eq!(hit["certificate_no"], number.as_str());
    assert_eq!(hit["card_state"], "bound");
    for q in [
        serial.to_string(),
        number.to_lowercase(),
        format!(
            "{} {}",
            hit["first_name"].as_str().unwrap(),
            hit["last_name"].as_str().unwrap()
        ),
    ] {
        let found = find(q.clone()).await;
        let ids: Vec<i64> = keys(&found, "candidate_id");
        assert!(ids.contains(&cand), "{q}: {found}");
    }
    // A family name alone finds every candidate of that name, each once.
    let family = find(hit["last_name"].as_str().unwrap().to_string()).await;
    let ids = keys(&family, "candidate_id");
    assert!(ids.contains(&cand));
    assert!(ids.windows(2).all(|w| w[0] > w[1]));

    // Another province's office sees none of it.
    app.create_user(
        "clerk1",
        skillcard_core::policy::Role::IssuanceClerk,
        Some(1),
    )
    .await;
    let other = app
        .get_ok(&format!("/api/v1/search?q={serial}"), "clerk1")
        .await;
    assert!(keys(&other, "candidate_id").is_empty(), "{other}");

    // Text that is no reading at all is refused with the field named.
    let (s, b) = app
        .get_json(
            &format!("/api/v1/search?q={}", urlencode("علی ۱۲")),
            Some(&app.token("clerk").await),
        )
        .await;
    assert_eq!(
        (s, b["details"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("q"))
    );

    // The page shows the holder with a link to their record.
    let web = exam_pages::login(&app, "clerk").await;
    let (html, _) = exam_pages::page(&app, &web, &format!("/search?q={serial}")).await;
    assert!(html.contains(&format!("/issuance/{cand}")), "{html}");
    assert!(html.contains(&skillcard_core::text::persian_digits(&serial.to_string())));
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn every_list_read_seeks_an_index_instead_of_reading_a_big_table_whole() {
    let app = spawn_app().await;
    let backend = app.store.backend();
    let mut problems = Vec::new();
    let mut checked = 0;
    for province in [Some(4), None] {
        for q in skillcard_db::plans::list_queries(province) {
            let (name, ordered, filtered) = (q.name.clone(), q.ordered_by_index, q.filtered);
            let plan = app.store.explain(q).await.unwrap();
            assert!(!plan.is_empty(), "{name}: no plan");
            let bad = skillcard_db::plans::full_reads(backend, &plan, ordered, filtered);
            if !bad.is_empty() {
                problems.push(format!("{name}: {bad:?}\n  {}", plan.join("\n  ")));
            }
            checked += 1;
        }
    }
    assert!(checked > 40, "{checked} reads");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[tokio::test]
async fn a_national_bulk_load_keeps_every_invariant_and_pages_like_the_rest() {
    let app = spawn_app().await;
    let hq = skillcard_db::demo::hq_actor(&app.store).await.unwrap();
    let r = skillcard_db::bulk::load(&app.store, 5000, &hq)
        .await
        .unwrap();
    assert_eq!((r.cards, r.shipments, r.requests), (5000, 310, 3720));
    assert_eq!(
        r.prints,
        r.certificates + r.spoiled,
        "one print per used card"
    );
    assert!(r.spoiled > 0 && r.undelivered > 0, "{r:?}");
    assert_eq!(
        r.logged, r.certificates as u64,
        "every registered card logged"
    );
    app.assert_check_ok().await;

    // A second load is refused and changes nothing.
    let before = db_fingerprint(&app.store).await;
    assert!(skillcard_db::bulk::load(&app.store, 5000, &hq)
        .await
        .is_err());
    assert_eq!(db_fingerprint(&app.store).await, before);

    // The loaded history pages like any other: every exam list once, newest first.
    let lists = walk(&app, "/api/v1/exam-lists", "id", "hq", 200).await;
    assert!(lists.len() as i64 >= r.exam_lists, "{} lists", lists.len());
    assert!(lists.windows(2).all(|w| w[0] > w[1]));
}
