//! Shared harness of the integration tests: a fresh database (SQLite by default, PostgreSQL with
//! `SKILLCARD_TEST_DATABASE=postgres`), migrated and seeded with the demo, behind the real server
//! running in-process on an ephemeral port.

use reqwest::StatusCode;
use serde_json::{json, Value};
use skillcard_core::policy::{Actor, Role};
use skillcard_db::{NewUser, Store};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

pub const PASSWORD: &str = skillcard_db::demo::DEMO_PASSWORD;
pub const ISFAHAN: i64 = skillcard_db::demo::DEMO_PROVINCE;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestBackend {
    Sqlite,
    Postgres,
}

pub fn backend() -> TestBackend {
    match std::env::var("SKILLCARD_TEST_DATABASE").as_deref() {
        Ok("postgres") | Ok("postgresql") | Ok("pg") => TestBackend::Postgres,
        _ => TestBackend::Sqlite,
    }
}

/// A name unique across processes and calls.
pub fn unique_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    format!("{}_{}_{}", std::process::id(), nanos % 1_000_000_000_000, n)
}

const PG_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A URL to a brand-new, empty database of the selected backend.
pub async fn fresh_database_url() -> String {
    match backend() {
        TestBackend::Sqlite => {
            let path = std::env::temp_dir().join(format!("skillcard-it-{}.db", unique_name()));
            format!("sqlite:{}", path.display())
        }
        TestBackend::Postgres => {
            use sqlx::Connection;
            sqlx::any::install_default_drivers();
            let name = format!("skillcard_it_{}", unique_name());
            let mut conn = sqlx::AnyConnection::connect(PG_ADMIN_URL).await.unwrap();
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await
                .unwrap();
            conn.close().await.unwrap();
            format!("postgres://postgres@127.0.0.1:5432/{name}")
        }
    }
}

/// Removes a database made by [`fresh_database_url`] (its pools must be closed).
pub async fn discard_database(url: &str) {
    if let Some(path) = url.strip_prefix("sqlite:") {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{path}{suffix}"));
        }
    } else if let Some(name) = url.rsplit('/').next() {
        use sqlx::Connection;
        if let Ok(mut conn) = sqlx::AnyConnection::connect(PG_ADMIN_URL).await {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn)
                .await;
            let _ = conn.close().await;
        }
    }
}

/// A connected, migrated store on a fresh database, and its URL.
pub async fn fresh_store() -> (Store, String) {
    let url = fresh_database_url().await;
    let store = Store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    (store, url)
}

pub struct TestApp {
    pub addr: SocketAddr,
    /// The in-process server, or none when the test drives a server process of its own.
    _server: Option<TestServer>,
    pub base: String,
    pub store: Store,
    pub db_url: String,
    pub client: reqwest::Client,
    tokens: Mutex<BTreeMap<String, String>>,
}

/// The bearer token that opens the test servers' `/metrics`.
pub const METRICS_TOKEN: &str = "test-metrics-token";

/// The payment gateway's HMAC secret the test servers use.
pub const GATEWAY_SECRET: &[u8] = b"test-gateway-secret";

/// A server started in-process; dropping it stops the server (and its background tasks), so
/// that its database connections are released when the test is done with it.
pub struct TestServer {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts the real server in-process over `store`.
pub async fn serve_store(store: Store) -> TestServer {
    serve_store_with(store, |state| state).await
}

/// Starts the real server in-process over `store`, its state adjusted by `adjust`.
pub async fn serve_store_with(
    store: Store,
    adjust: impl FnOnce(skillcard_web::AppState) -> skillcard_web::AppState,
) -> TestServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let docs = skillcard_docs::Renderer::discover().ok();
    let state = skillcard_web::AppState::new(
        store,
        skillcard_web::WebConfig {
            secure_cookies: false,
            metrics_token: Some(METRICS_TOKEN.into()),
            ..skillcard_web::WebConfig::default()
        },
        docs,
    )
    .with_gateway_secret(GATEWAY_SECRET)
    .with_signing_key(test_issuer_key())
    .with_public_keys(test_public_keys());
    let state = adjust(state);
    let task = tokio::spawn(async move {
        let _ = skillcard_web::serve(listener, state).await;
    });
    TestServer { addr, task }
}

/// Fresh database + migrations + demo data + server.
pub async fn spawn_app() -> TestApp {
    let app = spawn_empty_app().await;
    assert!(skillcard_db::demo::seed(&app.store).await.unwrap());
    app
}

/// Fresh database + migrations + server, no data.
pub async fn spawn_empty_app() -> TestApp {
    spawn_app_with(false, |s| s).await
}

/// A fresh database (with the demo when `demo`) served with the state `adjust` makes.
pub async fn spawn_app_with(
    demo: bool,
    adjust: impl FnOnce(skillcard_web::AppState) -> skillcard_web::AppState,
) -> TestApp {
    let (store, db_url) = fresh_store().await;
    if demo {
        assert!(skillcard_db::demo::seed(&store).await.unwrap());
    }
    let server = serve_store_with(store.clone(), adjust).await;
    TestApp::new(server.addr, Some(server), store, db_url)
}

/// A server the test started as a process of its own (`skillcard serve`), listening on `addr`
/// over the database at `db_url`: the same helpers drive it.
pub async fn attach_app(addr: SocketAddr, db_url: &str) -> TestApp {
    let store = Store::connect(db_url).await.unwrap();
    TestApp::new(addr, None, store, db_url.to_owned())
}

impl TestApp {
    fn new(addr: SocketAddr, server: Option<TestServer>, store: Store, db_url: String) -> TestApp {
        TestApp {
            addr,
            base: format!("http://{addr}"),
            _server: server,
            store,
            db_url,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            tokens: Mutex::new(BTreeMap::new()),
        }
    }
}

/// Signs in through the login page at `login` as a browser does: the form's CSRF token first,
/// then the form. The answer is the page's (a redirect on success).
pub async fn page_sign_in(
    login: String,
    web: &reqwest::Client,
    username: &str,
    password: &str,
) -> reqwest::Response {
    let page = web.get(&login).send().await.unwrap();
    let csrf = extract_csrf(&page.text().await.unwrap()).unwrap();
    web.post(&login)
        .form(&[
            ("username", username),
            ("password", password),
            ("_csrf", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap()
}

/// A browser-like client: keeps cookies, does not follow redirects (so tests can see them).
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The value of the first hidden `_csrf` field of an HTML page.
pub fn extract_csrf(html: &str) -> Option<String> {
    let at = html.find("name=\"_csrf\"")?;
    let tail = &html[at..];
    let v = tail.find("value=\"")? + "value=\"".len();
    let end = tail[v..].find('"')?;
    Some(tail[v..v + end].to_string())
}

/// The `data-code` of an error page.
pub fn extract_data_code(html: &str) -> Option<String> {
    let at = html.find("data-code=\"")? + "data-code=\"".len();
    let end = html[at..].find('"')?;
    Some(html[at..at + end].to_string())
}

/// A Solar Hijri month key (`140509`) as the API's `1405/09`.
pub fn month_text(key: i64) -> String {
    format!("{}/{:02}", key / 100, key % 100)
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A bearer token for a user whose password is the demo's (cached per username).
    pub async fn token(&self, username: &str) -> String {
        if let Some(t) = self.tokens.lock().unwrap().get(username) {
            return t.clone();
        }
        let (status, body) = self
            .post_json(
                "/api/v1/tokens",
                None,
                &json!({ "username": username, "password": PASSWORD }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "token for {username}: {body}");
        let t = body["token"].as_str().unwrap().to_string();
        self.tokens
            .lock()
            .unwrap()
            .insert(username.to_string(), t.clone());
        t
    }

    async fn send(&self, rb: reqwest::RequestBuilder, token: Option<&str>) -> (StatusCode, Value) {
        let rb = match token {
            Some(t) => rb.bearer_auth(t),
            None => rb,
        };
        let resp = rb.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, body)
    }

    pub async fn get_json(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        self.send(self.client.get(self.url(path)), token).await
    }

    pub async fn post_json(
        &self,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> (StatusCode, Value) {
        self.send(self.client.post(self.url(path)).json(body), token)
            .await
    }

    pub async fn put_json(
        &self,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> (StatusCode, Value) {
        self.send(self.client.put(self.url(path)).json(body), token)
            .await
    }

    pub async fn send_delete(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.send(self.client.delete(self.url(path)), Some(token))
            .await
    }

    /// GET as `username` and expect 200.
    pub async fn get_ok(&self, path: &str, username: &str) -> Value {
        let t = self.token(username).await;
        let (s, b) = self.get_json(path, Some(&t)).await;
        assert_eq!(s, StatusCode::OK, "GET {path} as {username}: {b}");
        b
    }

    /// POST as `username` and expect 200.
    pub async fn post_ok(&self, path: &str, username: &str, body: &Value) -> Value {
        let t = self.token(username).await;
        let (s, b) = self.post_json(path, Some(&t), body).await;
        assert_eq!(s, StatusCode::OK, "POST {path} as {username}: {b}");
        b
    }

    /// POST as `username`, expect the error `code` (with status `status`) and an unchanged
    /// database. Returns the error body.
    pub async fn post_rejected(
        &self,
        path: &str,
        username: &str,
        body: &Value,
        status: StatusCode,
        code: &str,
    ) -> Value {
        let t = self.token(username).await;
        let before = db_fingerprint(&self.store).await;
        let (s, b) = self.post_json(path, Some(&t), body).await;
        assert_eq!(
            s, status,
            "POST {path} as {username}: expected {code}, got {b}"
        );
        assert_eq!(b["code"], code, "POST {path} as {username}: {b}");
        assert!(
            b["message"].as_str().is_some_and(|m| !m.is_empty()),
            "error without message: {b}"
        );
        let after = db_fingerprint(&self.store).await;
        assert_eq!(
            before, after,
            "rejected POST {path} ({code}) changed the database"
        );
        b
    }

    /// Card counts of one province as GET /api/v1/stock reports them to HQ.
    pub async fn stock(&self, province_id: i64) -> Value {
        let all = self.get_ok("/api/v1/stock", "hq").await;
        all.as_array()
            .unwrap()
            .iter()
            .find(|s| s["province_id"] == province_id)
            .cloned()
            .unwrap()
    }

    /// Creates a user of another province (or any role) with the demo password.
    pub async fn create_user(&self, username: &str, role: Role, province_id: Option<i64>) -> Actor {
        create_user(&self.store, username, role, province_id).await
    }

    pub async fn assert_check_ok(&self) {
        let report = self.store.check().await.unwrap();
        assert!(report.is_ok(), "check failed: {report:?}");
    }

    /// This month (Solar Hijri, Tehran) as the server computes it, as its key `140509`.
    pub async fn this_month_key(&self) -> i64 {
        let cap = self.get_ok("/api/v1/provinces/1/cap", "hq").await;
        cap["month"].as_i64().unwrap()
    }

    /// A province ready for requests and handovers: a baseline of `baseline` cards a month, a
    /// security user `sec{p}` and an assessment head `head{p}`, and (if `first` > 0) a received
    /// shipment of 1000 cards from `first`, with `first..first+2` missing on arrival.
    pub async fn setup_province(&self, p: i64, baseline: u64, first: u64) {
        self.create_user(&format!("sec{p}"), Role::Security, Some(p))
            .await;
        self.create_user(&format!("head{p}"), Role::AssessmentHead, Some(p))
            .await;
        let month = self.this_month_key().await;
        let t = self.token("hq").await;
        let (s, b) = self
            .put_json(
                &format!("/api/v1/provinces/{p}/baseline"),
                Some(&t),
                &json!({ "monthly": baseline, "through": month_text(month) }),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "baseline: {b}");
        assert_eq!(b["cap"], baseline);
        if first > 0 {
            let sh = self
                .post_ok(
                    "/api/v1/shipments",
                    "hq",
                    &json!({ "province_id": p, "ref_no": format!("P{p}"), "carrier": "پست",
                             "declared_count": 1000, "ranges": [{ "first": first, "last": first + 999 }] }),
                )
                .await;
            let id = sh["id"].as_i64().unwrap();
            self.post_ok(
                &format!("/api/v1/shipments/{id}/receipt"),
                &format!("sec{p}"),
                &receipt_body(997, &[(first, first + 2)], &[]),
            )
            .await;
        }
    }
}

pub async fn create_user(
    store: &Store,
    username: &str,
    role: Role,
    province_id: Option<i64>,
) -> Actor {
    let id = store
        .create_user(
            None,
            NewUser {
                username: username.into(),
                password: PASSWORD.into(),
                full_name: format!("کاربر {username}"),
                title: "کارشناس".into(),
                role,
                province_id,
            },
        )
        .await
        .unwrap();
    store.actor(id).await.unwrap()
}

pub fn receipt_body(counted: u64, missing: &[(u64, u64)], damaged: &[(u64, u64)]) -> Value {
    let rs = |v: &[(u64, u64)]| -> Vec<Value> {
        v.iter()
            .map(|(f, l)| json!({ "first": f, "last": l }))
            .collect()
    };
    json!({
        "counted": counted,
        "missing": rs(missing),
        "damaged": rs(damaged),
        "deliverer_name": "کامران یزدانی",
        "deliverer_title": "مأمور حمل ستاد",
        "receiver_name": "رضا کریمی",
        "receiver_title": "مسئول حراست استان",
        "remarks": "",
    })
}

pub fn handover_body(count: Option<u64>, ranges: &[(u64, u64)]) -> Value {
    let mut b = json!({
        "ranges": ranges.iter().map(|(f, l)| json!({ "first": f, "last": l })).collect::<Vec<_>>(),
        "letter_no": "ح/۱",
        "deliverer_name": "رضا کریمی",
        "deliverer_title": "مسئول حراست استان",
        "receiver_name": "علی رضایی",
        "receiver_title": "کارشناس مسئول سنجش",
    });
    if let Some(c) = count {
        b["count"] = json!(c);
    }
    b
}

pub const TABLES: [&str; 35] = [
    "provinces",
    "users",
    "sessions",
    "api_tokens",
    "login_throttle",
    "shipments",
    "shipment_ranges",
    "cards",
    "card_counts",
    "receipt_notices",
    "vault_movements",
    "vault_inspections",
    "request_baselines",
    "request_overrides",
    "monthly_requests",
    "handovers",
    "handover_ranges",
    "audit_log",
    "audit_head",
    "trades",
    "centres",
    "pass_policies",
    "fees",
    "candidates",
    "exam_lists",
    "exam_entries",
    "payments",
    "certificates",
    "card_prints",
    "delivery_lists",
    "cases",
    "case_items",
    "notifications",
    "log_entries",
    "log_nodes",
];

/// Row counts of every table, cards per state, requests' handed counts and the audit head: equal
/// fingerprints before and after a request mean the request changed nothing.
pub async fn db_fingerprint(store: &Store) -> BTreeMap<String, String> {
    let pool = store.pool();
    let mut fp = BTreeMap::new();
    for t in TABLES {
        let (n,): (i64,) = sqlx::query_as(&format!("SELECT CAST(COUNT(*) AS BIGINT) FROM {t}"))
            .fetch_one(pool)
            .await
            .unwrap();
        fp.insert(format!("count.{t}"), n.to_string());
    }
    let states: Vec<(String, i64)> = sqlx::query_as(
        "SELECT state, CAST(COUNT(*) AS BIGINT) FROM cards GROUP BY state ORDER BY state",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for (s, n) in states {
        fp.insert(format!("cards.{s}"), n.to_string());
    }
    let reqs: Vec<(i64, i64, String)> =
        sqlx::query_as("SELECT id, handed_count, status FROM monthly_requests ORDER BY id")
            .fetch_all(pool)
            .await
            .unwrap();
    for (id, h, s) in reqs {
        fp.insert(format!("request.{id}"), format!("{h}/{s}"));
    }
    let ships: Vec<(i64, String)> = sqlx::query_as("SELECT id, status FROM shipments ORDER BY id")
        .fetch_all(pool)
        .await
        .unwrap();
    for (id, s) in ships {
        fp.insert(format!("shipment.{id}"), s);
    }
    let lists: Vec<(i64, String)> = sqlx::query_as("SELECT id, status FROM exam_lists ORDER BY id")
        .fetch_all(pool)
        .await
        .unwrap();
    for (id, s) in lists {
        fp.insert(format!("exam_list.{id}"), s);
    }
    let entries: Vec<(i64, Option<i64>, String)> =
        sqlx::query_as("SELECT id, practical_score, decision FROM exam_entries ORDER BY id")
            .fetch_all(pool)
            .await
            .unwrap();
    for (id, score, d) in entries {
        fp.insert(format!("exam_entry.{id}"), format!("{score:?}/{d}"));
    }
    #[allow(clippy::type_complexity)]
    let prints: Vec<(
        i64,
        String,
        Option<String>,
        Option<String>,
        Option<i64>,
        Option<String>,
    )> = sqlx::query_as(
        "SELECT id, status, inspected_at, chip_verified_at, delivery_list_id, delivered_at \
             FROM card_prints ORDER BY id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for (id, s, i, c, l, d) in prints {
        fp.insert(
            format!("card_print.{id}"),
            format!("{s}/{i:?}/{c:?}/{l:?}/{d:?}"),
        );
    }
    let cases: Vec<(i64, String)> = sqlx::query_as("SELECT id, status FROM cases ORDER BY id")
        .fetch_all(pool)
        .await
        .unwrap();
    for (id, s) in cases {
        fp.insert(format!("case.{id}"), s);
    }
    let scans: Vec<(i64, Option<String>)> =
        sqlx::query_as("SELECT id, scan_at FROM delivery_lists ORDER BY id")
            .fetch_all(pool)
            .await
            .unwrap();
    for (id, s) in scans {
        fp.insert(format!("delivery_list.{id}"), format!("{s:?}"));
    }
    let (seq, hash): (i64, String) =
        sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_one(pool)
            .await
            .unwrap();
    fp.insert("audit_head".into(), format!("{seq}:{hash}"));
    fp
}

/// Runs `pdftotext file -` on PDF bytes and returns the text.
pub fn pdf_text(bytes: &[u8]) -> String {
    let path = std::env::temp_dir().join(format!("skillcard-it-{}.pdf", unique_name()));
    std::fs::write(&path, bytes).unwrap();
    let out = std::process::Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    assert!(
        out.status.success(),
        "pdftotext failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A fresh scratch directory under the system's temp directory.
pub fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("skillcard-it-{}", unique_name()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The issuer key the test servers sign cards with (fixed, so tests can verify offline).
pub fn test_issuer_key() -> skillcard_credential::IssuerKey {
    skillcard_credential::IssuerKey::from_seed("test-1", [7; 32]).unwrap()
}

/// The public key set a verifier of the test servers' cards holds.
pub fn test_public_keys() -> skillcard_credential::PublicKeySet {
    let mut set = skillcard_credential::PublicKeySet::new();
    set.insert(test_issuer_key().public_key(skillcard_credential::KeyStatus::Active, None))
        .unwrap();
    set
}

/// The QR codes on every page of a PDF, as `zbarimg` (Debian's zbar-tools) reads them from a
/// 300 dpi rendering.
pub fn qr_codes(pdf: &[u8]) -> Vec<String> {
    let dir = tempdir();
    let path = dir.join("doc.pdf");
    std::fs::write(&path, pdf).unwrap();
    let ok = std::process::Command::new("pdftoppm")
        .args(["-r", "300", "-png"])
        .arg(&path)
        .arg(dir.join("page"))
        .status()
        .expect("pdftoppm (poppler-utils) is needed");
    assert!(ok.success(), "pdftoppm failed");
    let mut pages: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "png"))
        .collect();
    pages.sort();
    let mut codes = Vec::new();
    for page in pages {
        let out = std::process::Command::new("zbarimg")
            .args(["--quiet", "--raw", "-Sdisable", "-Sqrcode.enable"])
            .arg(&page)
            .output()
            .expect("zbarimg (zbar-tools) is needed");
        codes.extend(
            String::from_utf8(out.stdout)
                .unwrap()
                .lines()
                .filter(|l| !l.is_empty())
                .map(str::to_owned),
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    codes
}

/// `skillcard serve` as a process of its own, its output collected.
pub struct ServeProcess {
    child: tokio::process::Child,
    pub base: String,
}

impl ServeProcess {
    /// Starts the server over `db_url` with `extra` arguments and environment, and waits until
    /// `/health` answers.
    pub async fn start(
        db_url: &str,
        keys: &std::path::Path,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> ServeProcess {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_skillcard"))
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .args(extra)
            .arg("--key-dir")
            .arg(keys)
            .env("DATABASE_URL", db_url)
            .env("RUST_LOG", "info")
            .env_remove("SKILLCARD_CONFIG")
            .env_remove("SKILLCARD_LOG_FORMAT")
            .envs(env.iter().copied())
            .kill_on_drop(true)
            .stderr(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        for _ in 0..400 {
            if client
                .get(format!("{base}/health"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return ServeProcess { child, base };
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("the server did not come up");
    }

    pub fn addr(&self) -> &str {
        self.base.trim_start_matches("http://")
    }

    pub fn sigterm(&self) {
        let pid = self.child.id().unwrap().to_string();
        assert!(std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success());
    }

    /// Waits for the process to end (after [`sigterm`](Self::sigterm)): success and its log.
    pub async fn finish(self) -> (bool, String) {
        let out = tokio::time::timeout(
            std::time::Duration::from_secs(25),
            self.child.wait_with_output(),
        )
        .await
        .expect("the server did not stop within 25 s after SIGTERM")
        .unwrap();
        let log = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        (out.status.success(), log)
    }
}
