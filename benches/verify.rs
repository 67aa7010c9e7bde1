//! Public verification under load: requests/s and p99 latency of `GET /api/v1/public/verify`
//! with 1,000,000 certificates in the database, against the bare `GET /health` of the same
//! server in the same run. Target: verify ≥ 50 % of `/health`'s requests/s, p99 under 10 ms.
//!
//! Per backend (SQLite, then PostgreSQL): a fresh database with the million registered cards of
//! `common::million` (set-based SQL), then `SAMPLE` of them, spread evenly, get a real signed
//! credential (a fresh issuer key made with `skillcard keys generate`) and a valid national
//! code, and every card is entered in the transparency log (`Store::backfill_log`). The real server binary (`skillcard serve`, public rate limit off) is started over it,
//! and `wrk` (Debian's package; 2 threads, 64 connections, `--latency`) is run against:
//! - `health`: `/health`, the baseline (no database);
//! - `ready SELECT 1`: `/health/ready`, one `SELECT 1` through the store: the floor of any
//!   request that reads the database;
//! - `verify qr`: `/api/v1/public/verify?qr=…`, a random sampled card's QR text per request
//!   (signature check, then the card's standing);
//! - `verify number`: `/api/v1/public/verify?number=…&national_id=…`, a random sampled
//!   certificate per request.
//!
//! The four are run in turn, `BENCH_REPS` rounds (default 3) of `BENCH_SECS` seconds (default
//! 10) each after one untimed warm-up round; medians are reported. Before the load, one request
//! of each kind is checked to answer `valid`, and any non-2xx answer under load fails the bench.
//! wrk shares the machine's cores with the server, as it does with the baseline.
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

/// Cards given a real credential and used as requests.
const SAMPLE: i64 = 1000;
const CONNECTIONS: u32 = 64;
const P99_TARGET_MS: f64 = 10.0;
const RATIO_TARGET: f64 = 0.5;

const HEALTH: &str = "health";
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

/// Gives `SAMPLE` evenly spread cards a credential signed by `key` and a valid national code;
/// returns the request paths (QR ones, number ones).
async fn sample(store: &Store, key: &IssuerKey) -> Result<(Vec<String>, Vec<String>)> {
    let step = CARDS / SAMPLE;
    let ids: Vec<i64> = (0..SAMPLE).map(|k| 1 + k * step).collect();
    let mut tx = store.pool().begin().await?;
    let (mut qr, mut number) = (Vec::new(), Vec::new());
    for id in ids {
        #[allow(clippy::type_complexity)]
        let (no, first, last, on, code, serial, uid): (String, String, String, String, String, i64, Vec<u8>) =
            sqlx::query_as(
                "SELECT c.number, k.first_name, k.last_name, c.issued_on, v.code, p.serial, p.chip_uid \
                 FROM card_prints p JOIN certificates c ON c.id = p.certificate_id \
                 JOIN candidates k ON k.id = c.candidate_id JOIN provinces v ON v.id = p.province_id \
                 WHERE p.id = $1",
            )
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
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

async fn start_server(url: &str, key_dir: &Path) -> Result<Server> {
    let port = free_port()?;
    let child = Command::new(env!("CARGO_BIN_EXE_skillcard"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
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

const ROTATE_LUA: &str = r#"
local paths = {}
init = function(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
end
request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end
"#;

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

/// Runs wrk once; `paths` is a file of request paths (one picked at random per request).
fn wrk(base: &str, path_or_file: Result<&str, &Path>, dir: &Path, secs: u64) -> Result<Run> {
    let mut cmd = Command::new("wrk");
    cmd.args([
        "-t2",
        &format!("-c{CONNECTIONS}"),
        &format!("-d{secs}s"),
        "--latency",
    ]);
    match path_or_file {
        Ok(path) => {
            cmd.arg(format!("{base}{path}"));
        }
        Err(file) => {
            let script = dir.join("rotate.lua");
            std::fs::write(&script, ROTATE_LUA)?;
            cmd.arg("-s").arg(&script).arg(base).arg("--").arg(file);
        }
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

type Results = Vec<(&'static str, Vec<Run>)>;

async fn run_backend(kind: Kind, admin: String, dir: &Path) -> Result<Results> {
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

async fn measure(kind: Kind, url: &str, dir: &Path) -> Result<Results> {
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
    let (qr, number) = sample(&store, &key).await?;
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

    let server = start_server(url, &key_dir).await?;
    for path in [&qr[0], &number[0]] {
        let (status, body) = get(&format!("{}{path}", server.base)).await?;
        ensure!(
            status == 200 && body.contains("\"result\":\"valid\""),
            "{path} answered {status}: {body}"
        );
    }
    let qr_file = dir.join("qr.paths");
    std::fs::write(&qr_file, qr.join("\n"))?;
    let number_file = dir.join("number.paths");
    std::fs::write(&number_file, number.join("\n"))?;

    let reps = common::reps(3)? as u64;
    let secs = env_num("BENCH_SECS", 10)?;
    let mut results: Results = vec![
        (HEALTH, Vec::new()),
        (READY, Vec::new()),
        (VERIFY_QR, Vec::new()),
        (VERIFY_NUMBER, Vec::new()),
    ];
    for round in 0..=reps {
        // Round 0 warms caches and connection pools and is not kept.
        let secs = if round == 0 { 3 } else { secs };
        let runs = [
            wrk(&server.base, Ok("/health"), dir, secs)?,
            wrk(&server.base, Ok("/health/ready"), dir, secs)?,
            wrk(&server.base, Err(&qr_file), dir, secs)?,
            wrk(&server.base, Err(&number_file), dir, secs)?,
        ];
        if round > 0 {
            for (slot, run) in results.iter_mut().zip(runs) {
                slot.1.push(run);
            }
        }
    }
    drop(server);
    Ok(results)
}

fn report(kind: Kind, results: &Results) {
    let health = results
        .iter()
        .find(|(n, _)| *n == HEALTH)
        .map(|(_, r)| median(r.iter().map(|x| x.rps).collect()))
        .unwrap_or(f64::NAN);
    for (name, runs) in results {
        let rps = median(runs.iter().map(|r| r.rps).collect());
        let p99 = median(runs.iter().map(|r| r.p99_ms).collect());
        let ratio = rps / health;
        let verdict = if *name == HEALTH {
            "baseline".to_owned()
        } else if *name == READY {
            "second baseline: one database round trip".to_owned()
        } else if ratio >= RATIO_TARGET && p99 < P99_TARGET_MS {
            "target met".to_owned()
        } else {
            format!("target MISSED (need ratio ≥ {RATIO_TARGET} and p99 < {P99_TARGET_MS} ms)")
        };
        let all: Vec<String> = runs
            .iter()
            .map(|r| format!("{:.0}/{:.2}", r.rps, r.p99_ms))
            .collect();
        println!(
            "| {:<10} | {name:<13} | {rps:>9.0} | {p99:>7.2} | {ratio:>5.2} | {verdict} | {} |",
            kind.name(),
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
        "\nverify bench: {CARDS} certificates, {SAMPLE} sampled cards, wrk -t2 -c{CONNECTIONS}; \
         medians of the rounds (each round: req/s / p99 ms)\n"
    );
    println!("| backend | endpoint | req/s | p99 ms | ratio to /health | verdict | rounds |");
    println!("|---|---|---|---|---|---|---|");
    for (kind, results) in &all {
        report(*kind, results);
    }
    Ok(())
}
