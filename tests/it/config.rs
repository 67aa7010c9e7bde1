//! The server as operators run it, a process of its own: the configuration file (settings by
//! the environment's names, the environment winning, a malformed line named), stopping on
//! SIGTERM without losing a request in flight, and JSON logs that name each request's id.

use crate::helpers::{tempdir, ServeProcess};

fn sqlite(path: &std::path::Path) -> String {
    format!("sqlite:{}", path.display())
}

fn skillcard(args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_skillcard"));
    cmd.args(args)
        .env_remove("DATABASE_URL")
        .env_remove("SKILLCARD_CONFIG")
        .env("RUST_LOG", "warn")
        .env("RUST_BACKTRACE", "0");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn a_configuration_file_sets_what_the_environment_does_not() {
    let dir = tempdir();
    let (from_file, from_env) = (dir.join("from-file.db"), dir.join("from-env.db"));
    let conf = dir.join("skillcard.conf");
    std::fs::write(
        &conf,
        format!(
            "# the database\nDATABASE_URL = \"sqlite:{}\"\n",
            from_file.display()
        ),
    )
    .unwrap();
    let conf_s = conf.display().to_string();

    let (ok, out) = skillcard(&["--config", &conf_s, "migrate"], &[]);
    assert!(ok, "{out}");
    assert!(
        from_file.exists(),
        "the file's DATABASE_URL was not used: {out}"
    );

    // Named through the environment, and overridden by it.
    let env_url = format!("sqlite:{}", from_env.display());
    let (ok, out) = skillcard(
        &["migrate"],
        &[("SKILLCARD_CONFIG", &conf_s), ("DATABASE_URL", &env_url)],
    );
    assert!(ok, "{out}");
    assert!(from_env.exists(), "the environment did not win: {out}");

    std::fs::write(&conf, "DATABASE_URL sqlite:x.db\n").unwrap();
    let (ok, out) = skillcard(&["--config", &conf_s, "migrate"], &[]);
    assert!(!ok);
    assert!(out.contains("line 1") && out.contains("KEY=value"), "{out}");
    let (ok, out) = skillcard(&["--config", "/nonexistent/skillcard.conf", "migrate"], &[]);
    assert!(!ok && out.contains("/nonexistent/skillcard.conf"), "{out}");
}

#[tokio::test]
async fn sigterm_stops_the_server_cleanly() {
    let dir = tempdir();
    let server =
        ServeProcess::start(&sqlite(&dir.join("serve.db")), &dir.join("keys"), &[], &[]).await;
    server.sigterm();
    let (ok, log) = server.finish().await;
    assert!(ok, "{log}");
    assert!(log.contains("skillcard stopped"), "{log}");
}

/// A request the server has begun to read when SIGTERM arrives is finished and answered, and
/// what it wrote is there when the server comes back.
#[tokio::test]
async fn sigterm_finishes_a_request_in_flight_and_keeps_its_write() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let dir = tempdir();
    let (db, keys) = (dir.join("serve.db"), dir.join("keys"));
    let server = ServeProcess::start(&sqlite(&db), &keys, &["--demo"], &[]).await;

    // A sign-in (it writes a token) whose body is only half sent when the signal comes.
    let body = serde_json::json!({ "username": "clerk", "password": "skillcard-demo" }).to_string();
    let (first, rest) = body.as_bytes().split_at(body.len() / 2);
    let mut conn = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    let head = format!(
        "POST /api/v1/tokens HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        server.addr(),
        body.len()
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    conn.write_all(first).await.unwrap();
    conn.flush().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    server.sigterm();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    conn.write_all(rest).await.unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let json = &answer[answer.find("\r\n\r\n").unwrap() + 4..];
    let token = serde_json::from_str::<serde_json::Value>(json).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (ok, log) = server.finish().await;
    assert!(ok && log.contains("skillcard stopped"), "{log}");

    // The token it acknowledged opens the API of the restarted server.
    let server = ServeProcess::start(&sqlite(&db), &keys, &[], &[]).await;
    let me = reqwest::Client::new()
        .get(format!("{}/api/v1/me", server.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), reqwest::StatusCode::OK);
    server.sigterm();
    assert!(server.finish().await.0);
}

/// `--log-format json`: one JSON object a line, each request's lines in a span naming the id
/// the response carried.
#[tokio::test]
async fn json_logs_carry_each_requests_id() {
    let dir = tempdir();
    let server = ServeProcess::start(
        &sqlite(&dir.join("serve.db")),
        &dir.join("keys"),
        &["--log-format", "json"],
        &[],
    )
    .await;
    let client = reqwest::Client::new();
    let mut ids = Vec::new();
    for path in ["/health", "/no-such-page"] {
        let r = client
            .get(format!("{}{path}", server.base))
            // From a peer that is no trusted proxy: ignored.
            .header("x-request-id", "chosen-by-the-client")
            .send()
            .await
            .unwrap();
        let id = r.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert_eq!(id.len(), 32, "{id}");
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
        ids.push((path, id, r.status().as_u16()));
    }
    assert_ne!(ids[0].1, ids[1].1);
    server.sigterm();
    let (ok, log) = server.finish().await;
    assert!(ok, "{log}");
    let lines: Vec<serde_json::Value> = log
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(lines.iter().any(|l| l["level"] == "INFO"), "{log}");
    for (path, id, status) in &ids {
        let finished = lines
            .iter()
            .find(|l| {
                l["span"]["id"] == id.as_str()
                    && l["fields"]["message"] == "finished processing request"
            })
            .unwrap_or_else(|| panic!("no log line for request {id}: {log}"));
        assert_eq!(finished["span"]["path"], *path, "{finished}");
        assert_eq!(finished["fields"]["status"], *status, "{finished}");
    }
    assert!(!log.contains("chosen-by-the-client"), "{log}");
    assert!(
        !lines.iter().any(|l| l["target"] == "sqlx::query"),
        "statement timing must not add log lines at RUST_LOG=info"
    );
}

/// The server process times its database statements for `/metrics` (from sqlx's statement
/// events): the counts grow with the work.
#[tokio::test]
async fn the_server_process_exports_its_database_time() {
    let dir = tempdir();
    let server = ServeProcess::start(
        &sqlite(&dir.join("serve.db")),
        &dir.join("keys"),
        &["--metrics-token", "ops-token"],
        &[],
    )
    .await;
    let client = reqwest::Client::new();
    let scrape = || async {
        let r = client
            .get(format!("{}/metrics", server.base))
            .bearer_auth("ops-token")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), reqwest::StatusCode::OK);
        r.text().await.unwrap()
    };
    let count = |text: &str, kind: &str| -> f64 {
        let series = format!(r#"skillcard_db_query_duration_seconds_count{{kind="{kind}"}} "#);
        text.lines()
            .find_map(|l| l.strip_prefix(series.as_str()))
            .map_or(0.0, |v| v.trim().parse().unwrap())
    };
    let first = scrape().await;
    assert!(count(&first, "select") >= 1.0, "{first}");
    let second = scrape().await;
    assert!(
        count(&second, "select") > count(&first, "select"),
        "a scrape's own reads are timed: {second}"
    );
    server.sigterm();
    assert!(server.finish().await.0);
}
