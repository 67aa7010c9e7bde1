//! Every page and API list at national scale: a fresh database per backend, the demo plus a
//! decade of national history (`skillcard_db::bulk`, `BENCH_SCALE` cards, default 10,000,000),
//! the real server binary over it, and each role signed in. For each list: the first page,
//! a deep page by cursor, and a filtered page where the list has a filter — p50, p95 and body
//! size over `BENCH_ITERS` sequential requests (default 30) on one keep-alive connection.
//!
//! Baselines measured in the same run, since these machines are noisy: `GET /health` (the
//! server's floor: routing, no database) and one indexed `SELECT` through the store
//! (`print_id_by_serial`, in-process). Report a list as its p95 over the health p95 with the
//! absolute figures beside it. The server's peak resident memory (VmHWM) is reported at the end.
//!
//! `cargo bench --bench pages`; `BENCH_SCALE=1000000` for a shorter run; `SKILLCARD_BENCH_PG=off`
//! for SQLite only; `BENCH_KEEP=1` keeps the databases (their URLs are printed).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use anyhow::{bail, Context, Result};
use common::Kind;
use skillcard_core::policy::Actor;
use skillcard_db::Store;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PASSWORD: &str = skillcard_db::demo::DEMO_PASSWORD;
const TARGET_P95_MS: f64 = 100.0;
const TARGET_BODY: usize = 200 * 1024;

/// The server binary over `url`, until dropped.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// (current, peak) resident memory in MiB.
    fn rss_mib(&self) -> Result<(f64, f64)> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let field = |name: &str| -> Result<f64> {
            let kib: f64 = status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                .context("no such field in /proc status")?;
            Ok(kib / 1024.0)
        };
        Ok((field("VmRSS:")?, field("VmHWM:")?))
    }
}

async fn start_server(url: &str, key_dir: &Path) -> Result<Server> {
    // A port of our own: bound, read and released just before the server takes it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let child = Command::new(env!("CARGO_BIN_EXE_skillcard"))
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--secure-cookies",
            "false",
        ])
        .env("DATABASE_URL", url)
        .env("SKILLCARD_KEY_DIR", key_dir)
        .env("SKILLCARD_PUBLIC_RATE", "0")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .context("starting skillcard serve")?;
    let server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    let probe = reqwest::Client::new();
    for _ in 0..300 {
        if probe
            .get(format!("{}/health", server.base))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return Ok(server);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("the server did not answer /health")
}

fn csrf(html: &str) -> Option<String> {
    let at = html.find("name=\"_csrf\" value=\"")? + "name=\"_csrf\" value=\"".len();
    Some(html[at..].split('"').next()?.to_string())
}

/// A browser-like client signed in as `user` (pages), and a bearer token (API).
async fn sign_in(base: &str, user: &str) -> Result<(reqwest::Client, String)> {
    let web = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let login = web
        .get(format!("{base}/login"))
        .send()
        .await?
        .text()
        .await?;
    let token = csrf(&login).context("no form token on /login")?;
    let r = web
        .post(format!("{base}/login"))
        .form(&[
            ("username", user),
            ("password", PASSWORD),
            ("_csrf", &token),
        ])
        .send()
        .await?;
    if !r.status().is_redirection() {
        bail!("login {user}: {}", r.status());
    }
    let t: serde_json::Value = reqwest::Client::new()
        .post(format!("{base}/api/v1/tokens"))
        .json(&serde_json::json!({ "username": user, "password": PASSWORD }))
        .send()
        .await?
        .json()
        .await?;
    let bearer = t["token"].as_str().context("no token")?.to_string();
    Ok((web, bearer))
}

struct Sample {
    label: String,
    p50: Duration,
    p95: Duration,
    body: usize,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

async fn measure(
    label: String,
    iters: usize,
    mut send: impl FnMut() -> reqwest::RequestBuilder,
) -> Result<Sample> {
    let mut times = Vec::with_capacity(iters);
    let mut body = 0;
    // One warm-up request: the first touch of a table pays for the page cache.
    let warm = send().send().await?;
    if !warm.status().is_success() {
        bail!("{label}: {}", warm.status());
    }
    warm.bytes().await?;
    for _ in 0..iters {
        let start = Instant::now();
        let r = send().send().await?;
        let status = r.status();
        let bytes = r.bytes().await?;
        times.push(start.elapsed());
        if !status.is_success() {
            bail!("{label}: {status}");
        }
        body = bytes.len();
    }
    times.sort();
    Ok(Sample {
        label,
        p50: percentile(&times, 0.5),
        p95: percentile(&times, 0.95),
        body,
    })
}

/// The store's floor: one indexed `SELECT` (a print by its serial), in-process.
async fn store_baseline(store: &Store, hq: &Actor, iters: usize) -> Result<Sample> {
    let mut times = Vec::with_capacity(iters);
    for i in 0..iters as u64 {
        let serial = skillcard_db::bulk::FIRST_SERIAL as u64 + 1000 * i;
        let start = Instant::now();
        store.print_id_by_serial(hq, serial).await?;
        times.push(start.elapsed());
    }
    times.sort();
    Ok(Sample {
        label: "baseline: indexed SELECT through the store".into(),
        p50: percentile(&times, 0.5),
        p95: percentile(&times, 0.95),
        body: 0,
    })
}

/// The deepest cursor worth asking for: the middle of the list's first page key range.
async fn deep_cursor(
    web: &reqwest::Client,
    base: &str,
    bearer: &str,
    api: &str,
) -> Result<Option<i64>> {
    let sep = if api.contains('?') { '&' } else { '?' };
    let page: serde_json::Value = web
        .get(format!("{base}{api}{sep}limit=1"))
        .bearer_auth(bearer)
        .send()
        .await?
        .json()
        .await?;
    let key = page["items"][0]["id"]
        .as_i64()
        .or_else(|| page["items"][0]["seq"].as_i64());
    Ok(key.map(|k| k / 2).filter(|k| *k > 1))
}

/// The pages each role opens, and the API lists (with a filter where one applies).
fn pages_of(role: &str) -> Vec<&'static str> {
    let mut pages = vec!["/"];
    match role {
        "hq" => pages.extend([
            "/shipments",
            "/requests",
            "/exams",
            "/deliveries",
            "/cases",
            "/audit",
        ]),
        "security" => pages.extend(["/shipments", "/requests", "/vault"]),
        "head" => pages.extend([
            "/requests",
            "/exams",
            "/deliveries",
            "/cases",
            "/notifications",
            "/audit",
        ]),
        "clerk" => pages.extend(["/exams", "/deliveries", "/cases", "/notifications"]),
        "examiner" => pages.extend(["/exams"]),
        "delivery" => pages.extend(["/deliveries"]),
        "dg" | "board" => pages.extend(["/cases"]),
        _ => {}
    }
    pages
}

const API_LISTS: [(&str, Option<&str>); 9] = [
    ("/api/v1/shipments", Some("status=received")),
    ("/api/v1/requests", Some("status=fulfilled")),
    ("/api/v1/exam-lists", Some("status=checked")),
    ("/api/v1/prints?status=bound", None),
    ("/api/v1/delivery-lists", None),
    ("/api/v1/cases", Some("status=sent_to_hq")),
    ("/api/v1/notifications", Some("status=sent")),
    ("/api/v1/audit", None),
    ("/api/v1/stock", None),
];

struct Run {
    kind: Kind,
    load: Duration,
    check: Duration,
    /// Reading what `check` reads most of (the prints' credentials, the audit log, the log
    /// entries) in plain scans: `check`'s baseline in the same run.
    scan: Duration,
    samples: Vec<Sample>,
    rss: (f64, f64),
    kept: Option<String>,
}

async fn run_backend(kind: Kind, admin: &str, cards: i64, iters: usize, keep: bool) -> Result<Run> {
    let mut fresh = common::Fresh {
        kind,
        admin: admin.to_string(),
        names: Vec::new(),
    };
    let url = fresh.create("pages", 0).await?;
    let store = Store::connect(&url).await?;
    store.migrate().await?;
    skillcard_db::demo::seed(&store).await?;
    let hq = skillcard_db::demo::hq_actor(&store).await?;
    eprintln!("{}: loading {cards} cards …", kind.name());
    let report = skillcard_db::bulk::load(&store, cards, &hq).await?;
    eprintln!(
        "{}: {} cards, {} exam lists, {} certificates, {} prints in {:.0} s",
        kind.name(),
        report.cards,
        report.exam_lists,
        report.certificates,
        report.prints,
        report.elapsed.as_secs_f64()
    );
    let analyze = match kind {
        Kind::Sqlite => "ANALYZE",
        Kind::Postgres => "VACUUM ANALYZE",
    };
    sqlx::raw_sql(analyze).execute(store.pool()).await?;
    let started = Instant::now();
    for sql in [
        "SELECT CAST(COUNT(*) AS BIGINT), CAST(SUM(LENGTH(credential)) AS BIGINT) FROM card_prints",
        "SELECT CAST(COUNT(*) AS BIGINT), CAST(SUM(LENGTH(after)) AS BIGINT) FROM audit_log",
        "SELECT CAST(COUNT(*) AS BIGINT), CAST(SUM(LENGTH(entry)) AS BIGINT) FROM log_entries",
    ] {
        let _: (i64, Option<i64>) = sqlx::query_as(sql).fetch_one(store.pool()).await?;
    }
    let scan = started.elapsed();
    let started = Instant::now();
    let checked = store.check().await?;
    let check = started.elapsed();
    if !checked.is_ok() {
        bail!(
            "check fails on the loaded data: {:?} {:?}",
            checked.chain_error,
            checked.violations
        );
    }

    let key_dir =
        std::env::temp_dir().join(format!("skillcard-bench-pages-keys-{}", std::process::id()));
    std::fs::create_dir_all(&key_dir)?;
    let server = start_server(&url, &key_dir).await?;
    let base = server.base.clone();
    let mut samples = Vec::new();
    let health = reqwest::Client::new();
    samples.push(
        measure("baseline: GET /health".into(), iters, || {
            health.get(format!("{base}/health"))
        })
        .await?,
    );
    samples.push(store_baseline(&store, &hq, iters).await?);
    for role in [
        "hq", "security", "head", "officer", "clerk", "examiner", "delivery", "dg", "board",
    ] {
        let (web, bearer) = sign_in(&base, role).await?;
        for page in pages_of(role) {
            samples.push(
                measure(format!("{role} {page}"), iters, || {
                    web.get(format!("{base}{page}"))
                })
                .await?,
            );
        }
        if !matches!(role, "hq" | "head" | "clerk") {
            continue;
        }
        // The search box: a national code, a serial, a certificate number, a common family name
        // (a deep walk by name: thousands of holders share it).
        let holder = skillcard_db::bulk::FIRST_SERIAL + 4321;
        let probe: serde_json::Value = web
            .get(format!("{base}/api/v1/search?q={holder}"))
            .bearer_auth(&bearer)
            .send()
            .await?
            .json()
            .await?;
        let found = &probe["items"][0];
        let mut searches = vec![
            format!("q={holder}"),
            format!(
                "q={}",
                found["national_id"].as_str().unwrap_or("0012345678")
            ),
            "q=%D9%85%D8%AD%D9%85%D8%AF%DB%8C".to_string(), // محمدی
        ];
        if let Some(n) = found["certificate_no"].as_str() {
            searches.push(format!("q={n}"));
        }
        for q in searches {
            samples.push(
                measure(format!("{role} GET /api/v1/search?{q}"), iters, || {
                    web.get(format!("{base}/api/v1/search?{q}"))
                        .bearer_auth(&bearer)
                })
                .await?,
            );
        }
        samples.push(
            measure(format!("{role} /search?q=محمدی"), iters, || {
                web.get(format!("{base}/search?q=%D9%85%D8%AD%D9%85%D8%AF%DB%8C"))
            })
            .await?,
        );
        for (api, filter) in API_LISTS {
            let probe = web
                .get(format!("{base}{api}"))
                .bearer_auth(&bearer)
                .send()
                .await?;
            if !probe.status().is_success() {
                continue; // not this role's list
            }
            samples.push(
                measure(format!("{role} GET {api}"), iters, || {
                    web.get(format!("{base}{api}")).bearer_auth(&bearer)
                })
                .await?,
            );
            let sep = if api.contains('?') { '&' } else { '?' };
            if api != "/api/v1/stock" {
                if let Some(deep) = deep_cursor(&web, &base, &bearer, api).await? {
                    samples.push(
                        measure(format!("{role} GET {api} (deep page)"), iters, || {
                            web.get(format!("{base}{api}{sep}before={deep}"))
                                .bearer_auth(&bearer)
                        })
                        .await?,
                    );
                }
            }
            if let Some(f) = filter {
                samples.push(
                    measure(format!("{role} GET {api}{sep}{f}"), iters, || {
                        web.get(format!("{base}{api}{sep}{f}")).bearer_auth(&bearer)
                    })
                    .await?,
                );
            }
        }
    }
    let rss = server.rss_mib()?;
    drop(server);
    store.close().await;
    let _ = std::fs::remove_dir_all(&key_dir);
    let kept = if keep {
        fresh.names.clear();
        Some(url)
    } else {
        fresh.drop_all().await?;
        None
    };
    Ok(Run {
        kind,
        load: report.elapsed,
        check,
        scan,
        samples,
        rss,
        kept,
    })
}

fn print_run(run: &Run, cards: i64, iters: usize) {
    let ms = common::ms;
    let health = run.samples[0].p95;
    println!(
        "\n## {} — {cards} cards (load {:.0} s, `check` {:.1} s = {:.1}× a plain scan of what it reads, {:.2} s), {iters} requests each\n",
        run.kind.name(),
        run.load.as_secs_f64(),
        run.check.as_secs_f64(),
        run.check.as_secs_f64() / run.scan.as_secs_f64().max(1e-6),
        run.scan.as_secs_f64()
    );
    println!("| page / API | p50 ms | p95 ms | p95 / health p95 | body KB | within target |");
    println!("|---|---|---|---|---|---|");
    let mut misses = 0;
    for s in &run.samples {
        let ok = ms(s.p95) < TARGET_P95_MS && s.body < TARGET_BODY;
        if !ok {
            misses += 1;
        }
        println!(
            "| {} | {:.1} | {:.1} | {:.1} | {:.1} | {} |",
            s.label,
            ms(s.p50),
            ms(s.p95),
            s.p95.as_secs_f64() / health.as_secs_f64().max(1e-9),
            s.body as f64 / 1024.0,
            if ok { "yes" } else { "NO" }
        );
    }
    println!(
        "\nserver resident memory: {:.0} MiB at the end, {:.0} MiB at its peak; {misses} of {} over target (p95 < {TARGET_P95_MS} ms, body < {} KB)",
        run.rss.0,
        run.rss.1,
        run.samples.len(),
        TARGET_BODY / 1024
    );
    if let Some(url) = &run.kept {
        println!("database kept (BENCH_KEEP): {url}");
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    if !common::selected("pages") {
        return Ok(());
    }
    let cards: i64 = match std::env::var("BENCH_SCALE") {
        Ok(v) => v.replace('_', "").parse().context("BENCH_SCALE")?,
        Err(_) => 10_000_000,
    };
    let iters = match std::env::var("BENCH_ITERS") {
        Ok(v) => v.parse().context("BENCH_ITERS")?,
        Err(_) => 30,
    };
    let keep = std::env::var("BENCH_KEEP").is_ok_and(|v| v == "1");
    let mut runs = vec![run_backend(Kind::Sqlite, "", cards, iters, keep).await?];
    if let Some(pg) = common::pg_admin().await {
        runs.push(run_backend(Kind::Postgres, &pg, cards, iters, keep).await?);
    }
    for run in &runs {
        print_run(run, cards, iters);
    }
    Ok(())
}
