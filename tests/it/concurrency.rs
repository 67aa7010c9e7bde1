//! under contention: two server nodes over one database, many clients racing to create the
//! month's request and to hand over the same request. Exactly one of each wins; the rest get a
//! clear conflict, and the invariants hold.
//!
//! PostgreSQL: two real `skillcard serve` processes. SQLite: two in-process servers, each with
//! its own connection pool over the same database file.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

async fn wait_healthy(client: &reqwest::Client, base: &str) {
    for _ in 0..600 {
        if let Ok(r) = client.get(format!("{base}/health")).send().await {
            if r.status() == StatusCode::OK {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{base} never became healthy");
}

async fn post(
    client: &reqwest::Client,
    url: String,
    token: &str,
    body: &Value,
) -> (StatusCode, Value) {
    let r = client
        .post(url)
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    let s = r.status();
    let text = r.text().await.unwrap();
    (
        s,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn r4_3_concurrent_handovers_across_two_nodes() {
    let app = spawn_app().await;
    app.setup_province(5, 600, 500_001).await;
    let head = app.token("head5").await;
    let sec = app.token("sec5").await;

    // Two nodes.
    let mut children = Vec::new();
    let mut servers = Vec::new();
    let bases: Vec<String> = match backend() {
        TestBackend::Postgres => {
            let mut bases = Vec::new();
            for _ in 0..2 {
                let port = free_port();
                let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_skillcard"))
                    .args([
                        "serve",
                        "--listen",
                        &format!("127.0.0.1:{port}"),
                        "--secure-cookies",
                        "false",
                    ])
                    .env("DATABASE_URL", &app.db_url)
                    .env("RUST_LOG", "warn")
                    .stdout(std::process::Stdio::null())
                    .kill_on_drop(true)
                    .spawn()
                    .unwrap();
                children.push(child);
                bases.push(format!("http://127.0.0.1:{port}"));
            }
            bases
        }
        TestBackend::Sqlite => {
            let other = skillcard_db::Store::connect(&app.db_url).await.unwrap();
            let server = serve_store(other).await;
            let base = format!("http://{}", server.addr);
            servers.push(server);
            vec![app.base.clone(), base]
        }
    };
    let client = reqwest::Client::new();
    for b in &bases {
        wait_healthy(&client, b).await;
    }

    // Race 1: eight clients create this month's request at once.
    let mut tasks = Vec::new();
    for i in 0..8 {
        let (client, head) = (client.clone(), head.clone());
        let url = format!("{}/api/v1/requests", bases[i % 2]);
        tasks.push(tokio::spawn(async move {
            post(
                &client,
                url,
                &head,
                &json!({ "count": 300, "representative": format!("نماینده {i}") }),
            )
            .await
        }));
    }
    let mut created = Vec::new();
    for t in tasks {
        let (s, b) = t.await.unwrap();
        if s == StatusCode::OK {
            created.push(b);
        } else {
            assert_eq!(s, StatusCode::CONFLICT, "{b}");
            assert_eq!(b["code"], "request_exists", "{b}");
        }
    }
    assert_eq!(created.len(), 1, "exactly one request must be created");
    let rid = created[0]["id"].as_i64().unwrap();

    // Race 2: eight handovers of the whole request.
    let before_with_office = app.stock(5).await["with_office"].as_u64().unwrap();
    assert_eq!(before_with_office, 0);
    let mut tasks = Vec::new();
    for i in 0..8 {
        let (client, sec) = (client.clone(), sec.clone());
        let url = format!("{}/api/v1/requests/{rid}/handovers", bases[i % 2]);
        let body = handover_body(if i % 2 == 0 { Some(300) } else { None }, &[]);
        tasks.push(tokio::spawn(async move {
            post(&client, url, &sec, &body).await
        }));
    }
    let mut wins = Vec::new();
    for t in tasks {
        let (s, b) = t.await.unwrap();
        if s == StatusCode::OK {
            wins.push(b);
        } else {
            assert!(
                s == StatusCode::CONFLICT || s == StatusCode::UNPROCESSABLE_ENTITY,
                "{s} {b}"
            );
            let code = b["code"].as_str().unwrap_or("");
            assert!(
                code == "request_not_open" || code == "handover_exceeds_request",
                "unclear refusal: {s} {b}"
            );
        }
    }
    assert_eq!(wins.len(), 1, "exactly one handover must win");
    assert_eq!(wins[0]["count"], 300);
    let report = app.store.check().await.unwrap();
    assert!(report.is_ok(), "{report:?}");
    let stock = app.stock(5).await;
    assert_eq!(stock["with_office"], 300);
    let r = app
        .get_ok(&format!("/api/v1/requests/{rid}"), "head5")
        .await;
    assert_eq!(r["status"], "fulfilled");
    assert_eq!(r["handed_count"], stock["with_office"]);
    assert_eq!(r["handover_ids"].as_array().unwrap().len(), 1);

    for mut c in children {
        let _ = c.kill().await;
    }
}
