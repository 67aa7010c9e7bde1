//! Public verification under load: requests/s and p99 latency of `GET /api/v1/public/verify`
//! with 1,000,000 certificates in the database, against the bare `GET /health` of the same
//! server in the same run. Target: verify ≥ 50 % of `/health`'s requests/s, p99 under 10 ms.
//!
//! Per backend (SQLite, then PostgreSQL): a fresh database with the million registered cards of
//! `common::million` (set-based SQL), then `BENCH_VERIFY_SAMPLE` of them (default 50,000: asked for
//! both ways, their answers fill the verification cache's default size), spread evenly, get a real signed credential (a fresh
//! issuer key made with `skillcard keys generate`) and a valid national code, and every card is
//! entered in the transparency log (`Store::backfill_log`). The real server binary
//! (`skillcard serve`, public rate limit off) is started over it three times, once per cache
//! setting:
//! - `off` (`SKILLCARD_VERIFY_CACHE=0`): every verification reads the database;
//! - `all`: a cache that holds every answer once primed (two per card: QR and number);
//! - `half`: a cache of half the sample, so that about half of a run's requests (all by QR,
//!   or all by number) miss and evict.
//!
//! The cached servers are primed first by one pass over every request path in order (wrk with
//! a script that walks the list), as a server that has verified those cards before would be.
//! Then `wrk` (Debian's package; 2 threads, 64 connections, `--latency`) is run against:
//! - `health`: `/health`, the baseline (no database);
//! - `health (script)`: `/health` again, through the same Lua script that picks the sample's
//!   paths: what wrk's own scripting costs on the shared cores;
//! - `ready SELECT 1` (cache `off` only): `/health/ready`, one `SELECT 1` through the store: the
//!   floor of any request that reads the database;
//! - `verify qr`: `/api/v1/public/verify?qr=…`, a random sampled card's QR text per request
//!   (signature check, then the card's standing);
//! - `verify number`: `/api/v1/public/verify?number=…&national_id=…`, a random sampled
//!   certificate per request.
//!
//! Each is run `BENCH_REPS` rounds (default 3) of `BENCH_SECS` seconds (default 10) after one
//! untimed warm-up round; medians are reported, with each server's resident memory after its
//! rounds. Before the load, one request of each kind is checked to answer `valid`, and any
//! non-2xx answer under load fails the bench. wrk shares the machine's cores with the server,
//! as it does with the baseline.
//!
//! Run with `cargo bench --bench verify` (or `--profile dev`). `SKILLCARD_BENCH_PG=off` skips
//! PostgreSQL; `SKILLCARD_BENCH_PG` is the admin URL otherwise (see `common::pg_admin`).

mod common;

use anyhow::{bail, ensure, Context, Result};
use common::million::{load, CARDS};
use common::{pg_admin, user, Fresh, Kind};
use skillcard_core::national_id::NationalId;
use skillcard_core::policy::Role;
use skillcard_credential::{sign, to_qr_text, Claims, IssuerKey};
use skillcard_db::Store;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Cards given a real credential and used as requests, by default: each is asked for both ways
/// (QR and number), so the default cache holds the answers of exactly this many.
const SAMPLE: u64 = skillcard_web::verify_cache::DEFAULT_CAPACITY as u64 / 2;
const CONNECTIONS: u32 = 64;
const P99_TARGET_MS: f64 = 10.0;
const RATIO_TARGET: f64 = 0.5;

const HEALTH: &str = "health";
const HEALTH_SCRIPTED: &str = "health (script)";
const READY: &str = "ready SELECT 1";
const VERIFY_QR: &str = "verify qr";
const VERIFY_NUMBER: &str = "verify number";

/// One wrk run's figures.
#[derive(Clone, Copy, Debug)]
struct Run {
    rps: f64,
    p99_ms: f64,
}

fn env_num(name: &str, default: u64) -> Result<u64> {
    match std::env::var(name) {
        Ok(v) => v.parse().with_context(|| name.to_owned()),
        Err(_) => Ok(default),
    }
}

fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A valid national code unlike any the loader made: `9`, eight digits of `i`, check digit.
fn national_id_for(i: i64) -> Result<String> {
    (0..10)
        .map(|c| format!("9{:08}{c}", i % 100_000_000))
        .find(|s| NationalId::parse(s).is_ok())
        .context("no check digit fits")
}

/// Gives `sample` evenly spread cards a credential signed by `key` and a valid national code;
/// returns the request paths (QR ones, number ones).
async fn sample(store: &Store, key: &IssuerKey, sample: i64) -> Result<(Vec<String>, Vec<String>)> {
    let step = CARDS / sample;
    #[allow(clippy::type_complexity)]
    let cards: Vec<(i64, String, String, String, String, String, i64, Vec<u8>)> = sqlx::query_as(
        "SELECT p.id, c.number, k.first_name, k.last_name, c.issued_on, v.code, p.serial, p.chip_uid \
         FROM card_prints p JOIN certificates c ON c.id = p.certificate_id \
         JOIN candidates k ON k.id = c.candidate_id JOIN provinces v ON v.id = p.province_id \
         WHERE p.id <= $1 AND (p.id - 1) % $2 = 0 ORDER BY p.id",
    )
    .bind(sample * step)
    .bind(step)
    .fetch_all(store.pool())
    .await?;
    ensure!(
        cards.len() as i64 == sample,
        "sampled {} cards",
        cards.len()
    );
    let mut tx = store.pool().begin().await?;
    let (mut qr, mut number) = (Vec::new(), Vec::new());
    for (id, no, first, last, on, code, serial, uid) in cards {
        let nid = national_id_for(id)?;
        let claims = Claims {
            certificate_no: no.clone(),
            given_name: first,
            family_name: last,
            father_name: "حسن".into(),
            national_id: nid.clone(),
            trade_code: "7421-10".into(),
            trade_title: "برق‌کار ساختمان".into(),
            score: 850,
            issued_on: on,
            province_code: code,
            card_serial: serial as u64,
            chip_uid: uid,
        };
        let credential = sign(&claims, key)?;
        sqlx::query("UPDATE card_prints SET credential = $1, kid = $2 WHERE id = $3")
            .bind(credential.clone())
            .bind(key.kid())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE candidates SET national_id = $1 WHERE id = $2")
            .bind(&nid)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        qr.push(format!(
            "/api/v1/public/verify?qr={}",
            url_encode(&to_qr_text(&credential))
        ));
        number.push(format!(
            "/api/v1/public/verify?number={}&national_id={nid}",
            url_encode(&no)
        ));
    }
    tx.commit().await?;
    Ok((qr, number))
}

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

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

impl Server {
    /// The server's resident memory, in MiB.
    fn rss_mib(&self) -> Result<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let kib: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .context("no VmRSS")?;
        Ok(kib / 1024.0)
    }
}

async fn start_server(url: &str, key_dir: &Path, cache: u64) -> Result<Server> {
    let port = free_port()?;
    let child = Command::new(env!("CARGO_BIN_EXE_skillcard"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("DATABASE_URL", url)
        .env("SKILLCARD_KEY_DIR", key_dir)
        .env("SKILLCARD_PUBLIC_RATE", "0")
        .env("SKILLCARD_VERIFY_CACHE", cache.to_string())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .context("starting skillcard serve")?;
    let server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    for _ in 0..200 {
        if get(&format!("{}/health", server.base)).await.is_ok() {
            return Ok(server);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("the server did not answer /health")
}

/// A GET on a fresh connection: (status, body).
async fn get(url: &str) -> Result<(u16, String)> {
    let out = Command::new("curl")
        .args(["-s", "-w", "\n%{http_code}", url])
        .output()
        .context("curl")?;
    ensure!(out.status.success(), "curl failed");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').context("no status")?;
    Ok((code.trim().parse()?, body.to_owned()))
}

/// A random path of the list per request.
const ROTATE_LUA: &str = r#"
local paths = {}
init = function(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
end
request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end
"#;

/// The list in order: each of wrk's two threads walks every other path, once, then again.
const WALK_LUA: &str = r#"
local threads = 0
setup = function(thread)
  thread:set("first", threads)
  threads = threads + 1
end
local paths = {}
local at = 0
init = function(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  at = first
end
request = function()
  local path = paths[at % #paths + 1]
  at = at + 2
  return wrk.format("GET", path)
end
"#;

/// How wrk picks the path of each request.
#[derive(Clone, Copy)]
enum Paths<'a> {
    One(&'a str),
    Random(&'a Path),
    Walk(&'a Path),
}

fn millis(value: &str) -> Option<f64> {
    let (num, factor) = if let Some(v) = value.strip_suffix("us") {
        (v, 0.001)
    } else if let Some(v) = value.strip_suffix("ms") {
        (v, 1.0)
    } else if let Some(v) = value.strip_suffix('s') {
        (v, 1000.0)
    } else {
        return None;
    };
    num.parse::<f64>().ok().map(|n| n * factor)
}

/// Runs wrk once.
fn wrk(base: &str, paths: Paths, dir: &Path, secs: u64) -> Result<Run> {
    let mut cmd = Command::new("wrk");
    cmd.args([
        "-t2",
        &format!("-c{CONNECTIONS}"),
        &format!("-d{secs}s"),
        "--latency",
    ]);
    let (file, lua, name) = match paths {
        Paths::One(path) => {
            cmd.arg(format!("{base}{path}"));
            (None, "", "")
        }
        Paths::Random(file) => (Some(file), ROTATE_LUA, "rotate.lua"),
        Paths::Walk(file) => (Some(file), WALK_LUA, "walk.lua"),
    };
    if let Some(file) = file {
        let script = dir.join(name);
        std::fs::write(&script, lua)?;
        cmd.arg("-s").arg(&script).arg(base).arg("--").arg(file);
    }
    let out = cmd.output().context("running wrk (apt-get install wrk)")?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    ensure!(out.status.success(), "wrk failed: {text}");
    ensure!(
        !text.contains("Non-2xx") && !text.contains("Socket errors"),
        "errors under load:\n{text}"
    );
    let rps = text
        .lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .with_context(|| format!("no Requests/sec in:\n{text}"))?;
    let p99_ms = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("99%"))
        .and_then(|v| millis(v.trim()))
        .with_context(|| format!("no 99% latency in:\n{text}"))?;
    Ok(Run { rps, p99_ms })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The rounds of one endpoint on one server.
struct Measured {
    cache: &'static str,
    endpoint: &'static str,
    runs: Vec<Run>,
}

/// A server's figures: its endpoints' rounds and its memory after them.
struct ServerResults {
    cache: &'static str,
    capacity: u64,
    rss_mib: f64,
    endpoints: Vec<Measured>,
}

async fn run_backend(kind: Kind, admin: String, dir: &Path) -> Result<Vec<ServerResults>> {
    let mut fresh = Fresh {
        kind,
        admin,
        names: Vec::new(),
    };
    let url = fresh.create("verify", 0).await?;
    let outcome = measure(kind, &url, dir).await;
    fresh.drop_all().await?;
    outcome
}

async fn measure(kind: Kind, url: &str, dir: &Path) -> Result<Vec<ServerResults>> {
    let store = Store::connect(url).await?;
    store.migrate().await?;
    let hq = user(&store, "hq", Role::Hq, None).await?;
    let today = skillcard_core::date::tehran_date(time::OffsetDateTime::now_utc());
    let t = std::time::Instant::now();
    load(&store, kind, &hq, today).await?;
    sqlx::query(match kind {
        Kind::Sqlite => "ANALYZE",
        Kind::Postgres => "VACUUM ANALYZE",
    })
    .execute(store.pool())
    .await?;
    eprintln!(
        "{}: loaded {CARDS} certificates in {:.1} s",
        kind.name(),
        t.elapsed().as_secs_f64()
    );

    let key_dir = dir.join(format!("keys-{}", kind.name()));
    let made = Command::new(env!("CARGO_BIN_EXE_skillcard"))
        .args(["keys", "generate", "--kid", "bench-1", "--key-dir"])
        .arg(&key_dir)
        .env("RUST_LOG", "warn")
        .output()?;
    ensure!(
        made.status.success(),
        "keys generate: {}",
        String::from_utf8_lossy(&made.stderr)
    );
    let key = IssuerKey::load(&key_dir.join("issuer-bench-1.key"))?;
    let sample_size = env_num("BENCH_VERIFY_SAMPLE", SAMPLE)?;
    let t = std::time::Instant::now();
    let (qr, number) = sample(&store, &key, sample_size as i64).await?;
    eprintln!(
        "{}: signed {sample_size} credentials in {:.1} s",
        kind.name(),
        t.elapsed().as_secs_f64()
    );
    // The cards were loaded behind the application's back: log them as the server would have
    // (the same bulk backfill a database from before the log gets at start-up).
    let t = std::time::Instant::now();
    let logged = store.backfill_log().await?;
    eprintln!(
        "{}: logged {logged} cards in the transparency log in {:.1} s",
        kind.name(),
        t.elapsed().as_secs_f64()
    );
    store.pool().close().await;

    let qr_file = dir.join("qr.paths");
    std::fs::write(&qr_file, qr.join("\n"))?;
    let number_file = dir.join("number.paths");
    std::fs::write(&number_file, number.join("\n"))?;
    let health_file = dir.join("health.paths");
    std::fs::write(&health_file, "/health")?;
    let files = Files {
        health: &health_file,
        qr: &qr_file,
        number: &number_file,
        first: [&qr[0], &number[0]],
    };
    let mut all = Vec::new();
    // Each card is asked for by QR and by number: two answers. A run asks one way only, so
    // `half` holds half of one run's answers.
    for (cache, capacity) in [
        ("off", 0),
        ("all", 2 * sample_size),
        ("half", sample_size / 2),
    ] {
        all.push(measure_server(url, &key_dir, dir, cache, capacity, &files).await?);
    }
    Ok(all)
}

/// The request paths of the sample.
struct Files<'a> {
    /// `/health` alone, for the baseline driven through the same script as the sample.
    health: &'a Path,
    qr: &'a Path,
    number: &'a Path,
    first: [&'a str; 2],
}

async fn measure_server(
    url: &str,
    key_dir: &Path,
    dir: &Path,
    cache: &'static str,
    capacity: u64,
    files: &Files<'_>,
) -> Result<ServerResults> {
    let server = start_server(url, key_dir, capacity).await?;
    for path in files.first {
        let (status, body) = get(&format!("{}{path}", server.base)).await?;
        ensure!(
            status == 200 && body.contains("\"result\":\"valid\""),
            "{path} answered {status}: {body}"
        );
    }
    if capacity > 0 {
        // One pass over every path, as a server that has verified these cards before; wrk
        // cannot stop after a count, so the walk runs for long enough at the uncached rate.
        let samples = std::fs::read_to_string(files.qr)?.lines().count() as u64;
        let secs = (samples / 3000).max(3);
        for file in [files.qr, files.number] {
            wrk(&server.base, Paths::Walk(file), dir, secs)?;
        }
    }
    let reps = common::reps(3)? as u64;
    let secs = env_num("BENCH_SECS", 10)?;
    let mut plan = vec![
        (HEALTH, Paths::One("/health")),
        (HEALTH_SCRIPTED, Paths::Random(files.health)),
    ];
    if capacity == 0 {
        plan.push((READY, Paths::One("/health/ready")));
    }
    plan.push((VERIFY_QR, Paths::Random(files.qr)));
    plan.push((VERIFY_NUMBER, Paths::Random(files.number)));
    let mut endpoints: Vec<Measured> = plan
        .iter()
        .map(|(endpoint, _)| Measured {
            cache,
            endpoint,
            runs: Vec::new(),
        })
        .collect();
    for round in 0..=reps {
        // Round 0 warms connection pools and is not kept.
        let secs = if round == 0 { 3 } else { secs };
        for (slot, (_, paths)) in endpoints.iter_mut().zip(&plan) {
            let run = wrk(&server.base, *paths, dir, secs)?;
            if round > 0 {
                slot.runs.push(run);
            }
        }
    }
    let rss_mib = server.rss_mib()?;
    Ok(ServerResults {
        cache,
        capacity,
        rss_mib,
        endpoints,
    })
}

fn report(kind: Kind, server: &ServerResults) {
    let health = server
        .endpoints
        .iter()
        .find(|m| m.endpoint == HEALTH)
        .map(|m| median(m.runs.iter().map(|x| x.rps).collect()))
        .unwrap_or(f64::NAN);
    for m in &server.endpoints {
        let name = m.endpoint;
        let rps = median(m.runs.iter().map(|r| r.rps).collect());
        let p99 = median(m.runs.iter().map(|r| r.p99_ms).collect());
        let ratio = rps / health;
        let verdict = if name == HEALTH {
            "baseline".to_owned()
        } else if name == READY {
            "second baseline: one database round trip".to_owned()
        } else if name == HEALTH_SCRIPTED {
            "third baseline: /health through wrk's path-picking script".to_owned()
        } else if ratio >= RATIO_TARGET && p99 < P99_TARGET_MS {
            "target met".to_owned()
        } else {
            format!("target MISSED (need ratio ≥ {RATIO_TARGET} and p99 < {P99_TARGET_MS} ms)")
        };
        let all: Vec<String> = m
            .runs
            .iter()
            .map(|r| format!("{:.0}/{:.2}", r.rps, r.p99_ms))
            .collect();
        println!(
            "| {:<10} | {} ({}) | {name:<13} | {rps:>9.0} | {p99:>7.2} | {ratio:>5.2} | {verdict} | {} |",
            kind.name(),
            m.cache,
            server.capacity,
            all.join(" ")
        );
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    if !common::selected("verify") {
        return Ok(());
    }
    let dir: PathBuf =
        std::env::temp_dir().join(format!("skillcard-bench-verify-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mut all = Vec::new();
    all.push((
        Kind::Sqlite,
        run_backend(Kind::Sqlite, String::new(), &dir).await?,
    ));
    if let Some(admin) = pg_admin().await {
        all.push((
            Kind::Postgres,
            run_backend(Kind::Postgres, admin, &dir).await?,
        ));
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "\nverify bench: {CARDS} certificates, {} sampled cards, wrk -t2 -c{CONNECTIONS}; \
         medians of the rounds (each round: req/s / p99 ms)\n",
        env_num("BENCH_VERIFY_SAMPLE", SAMPLE)?
    );
    println!("| backend | cache (answers) | endpoint | req/s | p99 ms | ratio to /health | verdict | rounds |");
    println!("|---|---|---|---|---|---|---|---|");
    for (kind, servers) in &all {
        for server in servers {
            report(*kind, server);
        }
    }
    println!();
    for (kind, servers) in &all {
        for server in servers {
            println!(
                "{}: cache {} ({} answers): server resident memory {:.0} MiB after its rounds",
                kind.name(),
                server.cache,
                server.capacity,
                server.rss_mib
            );
        }
    }
    Ok(())
}
