//! The real senders behind the outbox, against real servers on loopback started here: an SMS
//! gateway over HTTP (refusing, then accepting, then too slow, then gone) and an SMTP server
//! (a temporary refusal, then a delivery). Each outcome lands on the notice: retried with the
//! gateway's words, or sent with the gateway's receipt.

use crate::aftercare::registered_card;
use crate::helpers::*;
use crate::printing::issued_certificates;
use axum::http::HeaderMap;
use base64::Engine;
use serde_json::{json, Value};
use skillcard_senders::{Senders, SmsGateway, Smtp};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// What the gateway was sent: the `apikey` header and the JSON body.
type Seen = Arc<Mutex<Vec<(Option<String>, Value)>>>;

/// A notice as the outbox holds it: id, recipient, status, attempts, last error, receipt, body.
type NoticeRow = (
    i64,
    String,
    String,
    i64,
    Option<String>,
    Option<String>,
    String,
);

/// An SMS provider: answers 503 to the first `refuse` requests, waits `delay_ms` before each
/// answer, and records every request it accepts.
#[derive(Clone, Default)]
struct Gateway {
    refuse: Arc<AtomicU64>,
    delay_ms: Arc<AtomicU64>,
    seen: Seen,
}

async fn sms_gateway(g: Gateway) -> String {
    let app = axum::Router::new().route(
        "/v1/send",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let g = g.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(g.delay_ms.load(Ordering::SeqCst))).await;
                if g.refuse
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok()
                {
                    return (
                        axum::http::StatusCode::SERVICE_UNAVAILABLE,
                        "busy, try later".to_string(),
                    );
                }
                let auth = headers
                    .get("apikey")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                let v: Value = serde_json::from_str(&body).unwrap();
                let mut seen = g.seen.lock().unwrap();
                seen.push((auth, v));
                (
                    axum::http::StatusCode::OK,
                    json!({ "messageid": 9000 + seen.len() }).to_string(),
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/v1/send")
}

/// An SMTP server speaking enough of RFC 5321 for a client: it refuses the first `refuse`
/// recipients with a temporary 451 and keeps the messages it takes.
#[derive(Clone, Default)]
struct MailServer {
    refuse: Arc<AtomicU64>,
    messages: Arc<Mutex<Vec<(String, String)>>>,
}

async fn smtp_server(m: MailServer) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (socket, _) = listener.accept().await.unwrap();
            let m = m.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 mail.test ESMTP\r\n").await.unwrap();
                let mut rcpt = String::new();
                while let Ok(Some(line)) = lines.next_line().await {
                    let upper = line.to_ascii_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                        b"250-mail.test\r\n250 8BITMIME\r\n"
                    } else if upper.starts_with("MAIL FROM") || upper.starts_with("RSET") {
                        b"250 2.1.0 Ok\r\n"
                    } else if upper.starts_with("RCPT TO") {
                        if m.refuse
                            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                            .is_ok()
                        {
                            b"451 4.3.0 mailbox busy, try later\r\n"
                        } else {
                            rcpt = line[8..].trim().to_string();
                            b"250 2.1.5 Ok\r\n"
                        }
                    } else if upper == "DATA" {
                        write.write_all(b"354 go ahead\r\n").await.unwrap();
                        let mut data = String::new();
                        while let Ok(Some(l)) = lines.next_line().await {
                            if l == "." {
                                break;
                            }
                            data.push_str(&l);
                            data.push('\n');
                        }
                        m.messages.lock().unwrap().push((rcpt.clone(), data));
                        b"250 2.0.0 Ok: queued as ABC123\r\n"
                    } else if upper == "QUIT" {
                        let _ = write.write_all(b"221 2.0.0 Bye\r\n").await;
                        break;
                    } else {
                        b"250 Ok\r\n"
                    };
                    write.write_all(reply).await.unwrap();
                }
            });
        }
    });
    format!("smtp://{addr}")
}

/// The text of a message's single body part, decoded.
fn mail_body(data: &str) -> String {
    let (headers, body) = data.split_once("\n\n").unwrap();
    assert!(
        headers
            .to_ascii_lowercase()
            .contains("content-transfer-encoding: base64"),
        "{headers}"
    );
    let b64: String = body.split_whitespace().collect();
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap(),
    )
    .unwrap()
}

async fn notices(app: &TestApp) -> Vec<NoticeRow> {
    sqlx::query_as(
        "SELECT id, recipient, status, attempts, last_error, receipt, body FROM notifications ORDER BY id",
    )
    .fetch_all(app.store.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn sms_over_http_and_mail_over_smtp_retry_a_refusal_then_deliver_with_a_receipt() {
    let app = spawn_app().await;
    let certs = issued_certificates(&app).await;
    let clerk = app.token("clerk").await;
    for ((_, cand), contact) in certs.iter().zip(["۰۹۱۲ ۱۲۳ ۴۵۶۷", "Ali@Example.ir"]) {
        let (s, b) = app
            .put_json(
                &format!("/api/v1/candidates/{cand}/contact"),
                Some(&clerk),
                &json!({ "contact": contact }),
            )
            .await;
        assert!(s.is_success(), "{b}");
    }
    registered_card(&app, certs[0].0, "s1").await;
    registered_card(&app, certs[1].0, "s2").await;
    let queued = notices(&app).await;
    let sms_row = queued
        .iter()
        .find(|n| n.1 == "09121234567")
        .unwrap()
        .clone();
    let mail_row = queued
        .iter()
        .find(|n| n.1 == "ali@example.ir")
        .unwrap()
        .clone();

    let gateway = Gateway::default();
    gateway.refuse.store(1, Ordering::SeqCst);
    let mail = MailServer::default();
    mail.refuse.store(1, Ordering::SeqCst);
    let timeout = Duration::from_secs(1);
    let senders = Senders {
        sms: Some(
            SmsGateway::new(
                &sms_gateway(gateway.clone()).await,
                Some("apikey: s3cret"),
                Some(r#"{"receptor": "{to}", "message": "{text}", "ref": {id}}"#),
                timeout,
            )
            .unwrap(),
        ),
        email: Some(
            Smtp::new(
                &smtp_server(mail.clone()).await,
                "اداره کل <no-reply@tvto.test>",
                timeout,
            )
            .unwrap(),
        ),
    };

    // First round: both gateways refuse for now; the notices wait with the gateway's words.
    let now = time::OffsetDateTime::now_utc();
    let r = app
        .store
        .dispatch_notifications(&senders, now, 10)
        .await
        .unwrap();
    assert_eq!((r.sent, r.retried, r.failed), (0, 2, 0));
    let after = notices(&app).await;
    let sms = after.iter().find(|n| n.0 == sms_row.0).unwrap();
    let email = after.iter().find(|n| n.0 == mail_row.0).unwrap();
    assert_eq!((sms.2.as_str(), sms.3), ("pending", 1));
    assert!(sms.4.as_deref().unwrap().contains("503"), "{sms:?}");
    assert!(email.4.as_deref().unwrap().contains("451"), "{email:?}");

    // After the back-off both go out, once, with the providers' receipts.
    let later = now + time::Duration::minutes(1);
    let r = app
        .store
        .dispatch_notifications(&senders, later, 10)
        .await
        .unwrap();
    assert_eq!((r.sent, r.retried, r.failed), (2, 0, 0));
    let after = notices(&app).await;
    let sms = after.iter().find(|n| n.0 == sms_row.0).unwrap();
    let email = after.iter().find(|n| n.0 == mail_row.0).unwrap();
    assert_eq!((sms.2.as_str(), sms.4.as_deref()), ("sent", None));
    assert_eq!(sms.5.as_deref(), Some(r#"{"messageid":9001}"#));
    assert!(
        email.5.as_deref().unwrap().contains("queued as ABC123"),
        "{email:?}"
    );
    let seen = gateway.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].0.as_deref(), Some("s3cret"));
    assert_eq!(seen[0].1["receptor"], "09121234567");
    assert_eq!(seen[0].1["message"], sms_row.6.as_str());
    assert_eq!(seen[0].1["ref"], sms_row.0);
    let messages = mail.messages.lock().unwrap().clone();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].0, "<ali@example.ir>");
    assert_eq!(mail_body(&messages[0].1).trim_end(), mail_row.6.as_str());
    let r = app
        .store
        .dispatch_notifications(&senders, later + time::Duration::hours(1), 10)
        .await
        .unwrap();
    assert_eq!(r, Default::default(), "a sent notice went out again");

    // A gateway slower than the timeout, then one that is gone: retried, each said so.
    sqlx::query(
        "UPDATE notifications SET status = 'pending', attempts = 0, receipt = NULL WHERE id = $1",
    )
    .bind(sms_row.0)
    .execute(app.store.pool())
    .await
    .unwrap();
    gateway.delay_ms.store(3_000, Ordering::SeqCst);
    let started = std::time::Instant::now();
    let at = later + time::Duration::hours(2);
    let r = app
        .store
        .dispatch_notifications(&senders, at, 10)
        .await
        .unwrap();
    assert_eq!(r.retried, 1);
    assert!(
        started.elapsed() < Duration::from_millis(2_900),
        "the timeout did not cut the wait"
    );
    let slow = notices(&app)
        .await
        .into_iter()
        .find(|n| n.0 == sms_row.0)
        .unwrap();
    assert!(slow.4.as_deref().unwrap().contains("in time"), "{slow:?}");

    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gone = format!("http://{}/v1/send", closed.local_addr().unwrap());
    drop(closed);
    let dead = Senders {
        sms: Some(SmsGateway::new(&gone, None, None, timeout).unwrap()),
        email: None,
    };
    let r = app
        .store
        .dispatch_notifications(&dead, at + time::Duration::hours(1), 10)
        .await
        .unwrap();
    assert_eq!(r.retried, 1);
    let gone = notices(&app)
        .await
        .into_iter()
        .find(|n| n.0 == sms_row.0)
        .unwrap();
    assert!(
        gone.4.as_deref().unwrap().contains("could not be reached"),
        "{gone:?}"
    );
    app.assert_check_ok().await;
}

/// The provider's delivery reports: the gateway's message id kept as the receipt, a report
/// naming it recorded on that notice with its audit record (a repeat changing nothing, a later
/// outcome replacing it), and every report without the secret, for an unknown message or with
/// a state that is not final refused with nothing changed.
#[tokio::test]
async fn delivery_reports_land_on_the_notice_they_name() {
    const SECRET: &str = "report-s3cret";
    let app = spawn_app_with(true, |s| s.with_delivery_report_token(SECRET)).await;
    let certs = issued_certificates(&app).await;
    let clerk = app.token("clerk").await;
    let (s, b) = app
        .put_json(
            &format!("/api/v1/candidates/{}/contact", certs[0].1),
            Some(&clerk),
            &json!({ "contact": "09121234567" }),
        )
        .await;
    assert!(s.is_success(), "{b}");
    registered_card(&app, certs[0].0, "d1").await;
    let gateway = Gateway::default();
    let senders = Senders {
        sms: Some(
            SmsGateway::new(
                &sms_gateway(gateway.clone()).await,
                None,
                None,
                Duration::from_secs(2),
            )
            .unwrap()
            .with_message_id("/messageid")
            .unwrap(),
        ),
        email: None,
    };
    let now = time::OffsetDateTime::now_utc();
    let r = app
        .store
        .dispatch_notifications(&senders, now, 10)
        .await
        .unwrap();
    assert_eq!(r.sent, 1);
    let sent = notices(&app).await;
    let notice = sent.iter().find(|n| n.1 == "09121234567").unwrap().clone();
    assert_eq!(
        notice.5.as_deref(),
        Some("9001"),
        "the receipt is the message id"
    );

    let url = app.url("/api/v1/notices/delivery-reports");
    let report = |token: Option<&str>, body: Value| {
        let mut rb = app.client.post(&url).json(&body);
        if let Some(t) = token {
            rb = rb.header("x-report-token", t);
        }
        async move {
            let r = rb.send().await.unwrap();
            (r.status(), r.json::<Value>().await.unwrap())
        }
    };
    let delivered = json!({ "messageid": 9001, "status": "DELIVRD" });

    // Refused, with nothing changed: no secret, a wrong one, an unknown message, a state that
    // is not final.
    let before = db_fingerprint(&app.store).await;
    for (token, body, status, code) in [
        (None, delivered.clone(), 401, "unauthenticated"),
        (Some("guess"), delivered.clone(), 401, "unauthenticated"),
        (
            Some(SECRET),
            json!({ "message_id": "77", "status": "delivered" }),
            404,
            "not_found",
        ),
        (
            Some(SECRET),
            json!({ "message_id": 9001, "status": "ENROUTE" }),
            422,
            "invalid_value",
        ),
        (
            Some(SECRET),
            json!({ "status": "delivered" }),
            400,
            "bad_request",
        ),
    ] {
        let (s, b) = report(token, body).await;
        assert_eq!(s.as_u16(), status, "{b}");
        assert_eq!(b["code"], code, "{b}");
    }
    assert_eq!(before, db_fingerprint(&app.store).await);

    let (s, b) = report(Some(SECRET), delivered.clone()).await;
    assert_eq!(s, reqwest::StatusCode::OK, "{b}");
    assert_eq!(
        b,
        json!({ "notice_id": notice.0, "delivery": "delivered", "new": true })
    );
    let once = db_fingerprint(&app.store).await;
    let (_, b) = report(Some(SECRET), delivered).await;
    assert_eq!(b["new"], false, "{b}");
    assert_eq!(
        once,
        db_fingerprint(&app.store).await,
        "a repeat changes nothing"
    );

    // A form with the secret in the URL, as many providers call back: the last word wins.
    let r = app
        .client
        .post(format!("{url}?token={SECRET}"))
        .form(&[
            ("message_id", "9001"),
            ("status", "UNDELIV"),
            ("detail", "phone off"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["delivery"], "undelivered");

    let page = app.get_ok("/api/v1/notifications", "clerk").await;
    let item = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["id"] == notice.0)
        .unwrap()
        .clone();
    assert_eq!(item["delivery"], "undelivered", "{item}");
    let audits: Vec<(String,)> = sqlx::query_as(
        "SELECT action FROM audit_log WHERE entity = 'notification' AND entity_id = $1 ORDER BY seq",
    )
    .bind(notice.0.to_string())
    .fetch_all(app.store.pool())
    .await
    .unwrap();
    assert_eq!(
        audits.len(),
        2,
        "one audit record per recorded report: {audits:?}"
    );
    let web = crate::exam_pages::login(&app, "clerk").await;
    let (html, _) = crate::exam_pages::page(&app, &web, "/notifications").await;
    assert!(html.contains("به گوشی نرسید"), "{html}");
    app.assert_check_ok().await;
}
