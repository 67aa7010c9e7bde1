//! `/metrics` opens only to its token, and its values move with what the server does: requests
//! per route and status, sign-ins by outcome and lockouts, the verification cache, card counts
//! per province and state, the outbox's depth and sends by channel, the audit head and the
//! transparency log.

use crate::aftercare::{registered_card, verify_standing};
use crate::helpers::*;
use crate::printing::issued_certificates;
use reqwest::StatusCode;
use serde_json::json;

async fn scrape(app: &TestApp) -> String {
    let r = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let kind = r.headers()["content-type"].to_str().unwrap().to_string();
    assert!(kind.starts_with("application/openmetrics-text"), "{kind}");
    let text = r.text().await.unwrap();
    assert!(text.trim_end().ends_with("# EOF"), "{text}");
    text
}

/// The value of the series `series` (name and labels exactly as exported), 0 if absent.
fn value(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| {
            l.strip_prefix(series)
                .and_then(|rest| rest.strip_prefix(' '))
        })
        .map(|v| v.trim().parse().unwrap())
        .unwrap_or(0.0)
}

fn requests(text: &str, route: &str, method: &str, status: u16) -> f64 {
    value(
        text,
        &format!(
            r#"skillcard_http_requests_total{{route="{route}",method="{method}",status="{status}"}}"#
        ),
    )
}

#[tokio::test]
async fn metrics_open_to_their_token_and_move_with_the_work() {
    let app = spawn_app().await;
    for auth in [None, Some("wrong-token")] {
        let mut r = app.client.get(app.url("/metrics"));
        if let Some(t) = auth {
            r = r.bearer_auth(t);
        }
        assert_eq!(r.send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    }

    let before = scrape(&app).await;
    app.get_ok("/api/v1/stock", "hq").await;
    app.get_ok("/api/v1/stock", "hq").await;
    let (s, _) = app
        .post_json(
            "/api/v1/tokens",
            None,
            &json!({ "username": "clerk", "password": "not-the-password" }),
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let after = scrape(&app).await;
    assert_eq!(
        requests(&after, "/api/v1/stock", "GET", 200)
            - requests(&before, "/api/v1/stock", "GET", 200),
        2.0
    );
    assert_eq!(
        requests(&after, "/api/v1/tokens", "POST", 401)
            - requests(&before, "/api/v1/tokens", "POST", 401),
        1.0
    );
    assert!(
        value(
            &after,
            r#"skillcard_http_request_duration_seconds_count{route="/api/v1/stock"}"#
        ) >= 2.0,
        "{after}"
    );
    // A path with an id is counted under its pattern, not once per id.
    assert!(!after.contains("route=\"/api/v1/exam-lists/1\""));

    // Card counts by province and state follow the stock; a registration moves one card.
    let stock = app.stock(4).await;
    let with_office = stock["with_office"].as_f64().unwrap();
    assert_eq!(
        value(
            &after,
            r#"skillcard_cards{province="ESF",state="with_office"}"#
        ),
        with_office,
        "{after}"
    );
    let certs = issued_certificates(&app).await;
    let clerk = app.token("clerk").await;
    app.put_json(
        &format!("/api/v1/candidates/{}/contact", certs[0].1),
        Some(&clerk),
        &json!({ "contact": "09121234567" }),
    )
    .await;
    let seq_before = value(&after, "skillcard_audit_sequence");
    let log_before = value(&after, "skillcard_transparency_log_size");
    let card = registered_card(&app, certs[0].0, "m1").await;
    let qr = card["qr_text"].as_str().unwrap();
    for _ in 0..3 {
        assert_eq!(verify_standing(&app, qr).await, "valid");
    }
    let last = scrape(&app).await;
    assert_eq!(
        value(
            &last,
            r#"skillcard_cards{province="ESF",state="with_office"}"#
        ),
        with_office - 1.0
    );
    assert_eq!(
        value(&last, r#"skillcard_cards{province="ESF",state="bound"}"#),
        value(&after, r#"skillcard_cards{province="ESF",state="bound"}"#) + 1.0
    );
    assert!(value(&last, "skillcard_audit_sequence") > seq_before);
    assert_eq!(
        value(&last, "skillcard_transparency_log_size"),
        log_before + 1.0
    );
    assert_eq!(
        value(
            &last,
            r#"skillcard_outbox_notices{channel="sms",status="pending"}"#
        ),
        1.0,
        "{last}"
    );
    let (hits, misses) = (
        value(&last, "skillcard_verify_cache_hits_total"),
        value(&last, "skillcard_verify_cache_misses_total"),
    );
    assert!(misses >= 1.0 && hits >= 2.0, "hits {hits}, misses {misses}");
    assert!(value(&last, "skillcard_verify_cache_entries") >= 1.0);

    // The outbox's sends by channel and outcome: a gateway failure is retried, then sent.
    let sends = |text: &str, outcome: &str| {
        value(
            text,
            &format!(r#"skillcard_outbox_sends_total{{channel="sms",outcome="{outcome}"}}"#),
        )
    };
    let now = time::OffsetDateTime::now_utc();
    let r = app
        .store
        .dispatch_notifications(&Refusing, now, 10)
        .await
        .unwrap();
    assert_eq!(r.retried, 1);
    let retried = scrape(&app).await;
    assert_eq!(sends(&retried, "retried") - sends(&last, "retried"), 1.0);
    assert_eq!(sends(&retried, "sent"), sends(&last, "sent"));
    let later = now + time::Duration::days(1);
    let r = app
        .store
        .dispatch_notifications(&skillcard_db::notify::LogSender, later, 10)
        .await
        .unwrap();
    assert_eq!(r.sent, 1);
    let sent = scrape(&app).await;
    assert_eq!(sends(&sent, "sent") - sends(&last, "sent"), 1.0);
    assert_eq!(
        value(
            &sent,
            r#"skillcard_outbox_notices{channel="sms",status="pending"}"#
        ),
        0.0,
        "{sent}"
    );
}

/// A gateway that is down.
struct Refusing;

impl skillcard_db::notify::Sender for Refusing {
    async fn send(
        &self,
        _: &skillcard_db::notify::Outgoing,
    ) -> Result<skillcard_db::notify::Receipt, String> {
        Err("gateway unreachable".into())
    }
}

/// Sign-ins by way in and outcome, and the lockout the failures cause.
#[tokio::test]
async fn sign_ins_and_lockouts_are_counted() {
    let app = spawn_app().await;
    let sign_ins = |text: &str, via: &str, outcome: &str| {
        value(
            text,
            &format!(r#"skillcard_sign_ins_total{{via="{via}",outcome="{outcome}"}}"#),
        )
    };
    let before = scrape(&app).await;
    app.token("clerk").await;
    // The account's allowance is five failures; the sixth locks it, the seventh is refused.
    for attempt in 1..=7 {
        let (s, _) = app
            .post_json(
                "/api/v1/tokens",
                None,
                &json!({ "username": "ghost", "password": "not-the-password" }),
            )
            .await;
        let expected = if attempt <= 6 {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::TOO_MANY_REQUESTS
        };
        assert_eq!(s, expected, "attempt {attempt}");
    }
    // The login page counts as its own way in.
    let r = page_sign_in(app.url("/login"), &browser(), "ghost2", "wrong-password").await;
    assert!(!r.status().is_redirection() && !r.status().is_server_error());
    let after = scrape(&app).await;
    for (via, outcome, n) in [
        ("api", "ok", 1.0),
        ("api", "invalid_credentials", 6.0),
        ("api", "throttled", 1.0),
        ("page", "invalid_credentials", 1.0),
    ] {
        assert_eq!(
            sign_ins(&after, via, outcome) - sign_ins(&before, via, outcome),
            n,
            "{via} {outcome}: {after}"
        );
    }
    assert_eq!(
        value(&after, "skillcard_login_lockouts_total")
            - value(&before, "skillcard_login_lockouts_total"),
        1.0
    );
}
