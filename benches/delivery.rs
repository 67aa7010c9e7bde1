//! R-5.4's overdue view at scale: 1,000,000 registered cards in a fresh, migrated database, on
//! SQLite and on PostgreSQL, read through the real `Store` operations. Target: under 100 ms each.
//!
//! Measured (each `BENCH_ITERS` times after `WARMUP` untimed runs; median and min are reported):
//! - HQ's per-province view, `Store::overdue_by_province_on` with a national scope (31 rows);
//! - one province's line, `Store::overdue_by_province` as that province's Assessment Head;
//! - the office's overdue list, `Store::undelivered_cards(head, overdue_only, …, 2000)`, first page.
//!
//! The data is loaded with set-based SQL straight into the tables (a recursive CTE on SQLite,
//! `generate_series` on PostgreSQL), foreign keys checked (SQLite runs with `foreign_keys = ON`):
//! HQ and the province's Assessment Head (through `Store::create_user`), a trade, a centre per
//! province, one received shipment with its range, and per card its `cards` row, candidate,
//! certificate and `card_prints` row (status `bound`, a 160-byte credential). The cards are
//! spread evenly over every province the migrations create and over the last 60 days
//! (`registered_on`); about 97 % are delivered (`delivered_at` set, card `delivered`) and 3 %
//! are not (a scrambled pick), of which those registered more than 7 days ago are overdue
//! . Loading is timed and shown, but it is set-up, not a measured operation. After
//! loading: `ANALYZE` (SQLite) or `VACUUM ANALYZE` (PostgreSQL, as autovacuum would after a
//! bulk load). Every read's answer is checked against raw counts of the same data.
//!
//! Stress case, on the same database afterwards: every one of the 1,000,000 cards undelivered
//! (an `UPDATE` clears `delivered_at` and the cards go back to `bound`), so the partial index of
//! undelivered cards holds them all. It shows how the view degrades; the target is for the
//! normal case.
//!
//! The machine it runs on is noisy, so every figure is also given as a ratio to two baselines
//! measured in the same run on the same database: a raw `SELECT COUNT(*) FROM card_prints` (a
//! full count of the 1,000,000 rows) and a raw per-province count of the undelivered cards
//! (`… WHERE status = 'bound' AND delivered_at IS NULL GROUP BY province_id`), through sqlx.
//!
//! Run with `cargo bench --bench delivery` (or `--profile dev`, whose dependencies are
//! optimised too, while no release build is at hand). Environment:
//! - `BENCH_REPS` (default 1, as loading a million cards takes minutes): fresh databases per
//!   backend; the samples of all repetitions are pooled.
//! - `SKILLCARD_BENCH_PG` (default `postgres://postgres@127.0.0.1:5432/test`): an admin URL
//!   with the right to create databases; `skillcard_bench_delivery_<n>` databases are created
//!   and dropped. `SKILLCARD_BENCH_PG=off` skips PostgreSQL.
//! - `BENCH_ITERS` (default 20): timed runs of each read per case and database.
//! - `BENCH_KEEP=1` keeps the databases (their URLs are printed) to look at plans afterwards;
//!   the stress case is then skipped, so they hold the normal data.
//! - `RUST_LOG=sqlx::query=debug` prints every statement the store runs, with its duration.

mod common;

use anyhow::{bail, Context, Result};
use common::million::{load, CARDS, DAYS};
use common::{ms, stats, timed, user, Fresh, Kind};
use skillcard_core::policy::{Actor, Role};
use skillcard_db::Store;
use std::collections::BTreeMap;
use std::time::Duration;

/// The Assessment Head's province (Tehran).
const PROVINCE: i64 = 8;
/// The office's list page.
const PAGE: i64 = skillcard_db::views::PAGE_MAX;
const WARMUP: usize = 2;
const TARGET: Duration = Duration::from_millis(100);

const BASE_COUNT: &str = "baseline: COUNT(*) card_prints";
const BASE_GROUP: &str = "baseline: undelivered by province";
const HQ_VIEW: &str = "HQ overdue_by_province_on";
const HEAD_VIEW: &str = "head overdue_by_province";
const HEAD_LIST: &str = "head undelivered_cards overdue 2000";
const STEPS: [&str; 5] = [BASE_COUNT, BASE_GROUP, HQ_VIEW, HEAD_VIEW, HEAD_LIST];
const TARGETED: [&str; 3] = [HQ_VIEW, HEAD_VIEW, HEAD_LIST];

const NORMAL: &str = "normal";
const STRESS: &str = "STRESS";
const SETUP: &str = "set-up";
const LOAD: &str = "load 1M cards (set-based SQL)";
const ANALYZE: &str = "ANALYZE after load (PG: +VACUUM)";
const STRESS_UPDATE: &str = "stress: UPDATE all undelivered";
const STRESS_ANALYZE: &str = "stress: ANALYZE (PG: +VACUUM)";
const SETUP_STEPS: [&str; 4] = [LOAD, ANALYZE, STRESS_UPDATE, STRESS_ANALYZE];

/// Samples per (case, step).
type Samples = BTreeMap<(&'static str, &'static str), Vec<Duration>>;

fn push(samples: &mut Samples, case: &'static str, step: &'static str, d: Duration) {
    samples.entry((case, step)).or_default().push(d);
}

/// What a case's data looks like, read back with raw SQL (and checked against the store).
#[derive(Clone, Copy, Default)]
struct Shape {
    provinces: i64,
    undelivered: i64,
    overdue: i64,
    head_overdue: i64,
}

#[derive(Default)]
struct Outcome {
    iters: usize,
    samples: Samples,
    shapes: BTreeMap<&'static str, Shape>,
    kept: Vec<String>,
}

/// Fresh statistics (and on PostgreSQL a vacuum, as autovacuum would do after a bulk write).
async fn analyze(store: &Store, kind: Kind) -> Result<()> {
    let sql = match kind {
        Kind::Sqlite => "ANALYZE",
        Kind::Postgres => "VACUUM ANALYZE",
    };
    sqlx::query(sql).execute(store.pool()).await?;
    Ok(())
}

/// The stress case: every card undelivered.
async fn undeliver_all(store: &Store) -> Result<()> {
    let mut tx = store.pool().begin().await?;
    sqlx::query(
        "UPDATE card_prints SET delivered_at = NULL, delivery_method = NULL, receiver = NULL, \
         delivered_by = NULL WHERE delivered_at IS NOT NULL",
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE cards SET state = 'bound' WHERE state = 'delivered'")
        .execute(&mut *tx)
        .await?;
    skillcard_db::bulk::count_cards(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}

/// The data as raw SQL sees it.
async fn shape(store: &Store, cutoff: &str) -> Result<Shape> {
    let pool = store.pool();
    let (provinces,): (i64,) = sqlx::query_as("SELECT CAST(COUNT(*) AS BIGINT) FROM provinces")
        .fetch_one(pool)
        .await?;
    let (cards,): (i64,) = sqlx::query_as("SELECT CAST(COUNT(*) AS BIGINT) FROM card_prints")
        .fetch_one(pool)
        .await?;
    if cards != CARDS {
        bail!("{cards} card prints, not {CARDS}");
    }
    let (undelivered, overdue): (i64, i64) = sqlx::query_as(
        "SELECT CAST(COUNT(*) AS BIGINT), \
         CAST(COALESCE(SUM(CASE WHEN registered_on <= $1 THEN 1 ELSE 0 END), 0) AS BIGINT) \
         FROM card_prints WHERE status = 'bound' AND delivered_at IS NULL",
    )
    .bind(cutoff)
    .fetch_one(pool)
    .await?;
    let (head_overdue,): (i64,) = sqlx::query_as(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM card_prints \
         WHERE status = 'bound' AND delivered_at IS NULL AND province_id = $1 AND registered_on <= $2",
    )
    .bind(PROVINCE)
    .bind(cutoff)
    .fetch_one(pool)
    .await?;
    Ok(Shape {
        provinces,
        undelivered,
        overdue,
        head_overdue,
    })
}

/// Runs `op` `WARMUP` times untimed, then `iters` times timed; returns the last result.
async fn measure<T, E, F, Fut>(
    iters: usize,
    samples: &mut Samples,
    case: &'static str,
    step: &'static str,
    mut op: F,
) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
    E: Into<anyhow::Error>,
{
    for _ in 0..WARMUP {
        op().await.map_err(Into::into)?;
    }
    let mut last = None;
    for _ in 0..iters {
        let (out, d) = timed(op()).await;
        last = Some(out.map_err(Into::into)?);
        push(samples, case, step, d);
    }
    last.context("no iterations")
}

/// Who reads, and on which day.
struct Readers<'a> {
    hq: &'a Actor,
    head: &'a Actor,
    today: time::Date,
}

/// The baselines and the three store reads, checked against the raw counts.
async fn measure_case(
    store: &Store,
    readers: &Readers<'_>,
    case: &'static str,
    expected: Shape,
    iters: usize,
    samples: &mut Samples,
) -> Result<()> {
    let Readers { hq, head, today } = *readers;
    let pool = store.pool();
    let (count,): (i64,) = measure(iters, samples, case, BASE_COUNT, move || {
        sqlx::query_as::<_, (i64,)>("SELECT CAST(COUNT(*) AS BIGINT) FROM card_prints")
            .fetch_one(pool)
    })
    .await?;
    if count != CARDS {
        bail!("COUNT(*) = {count}");
    }
    let groups: Vec<(i64, i64)> = measure(iters, samples, case, BASE_GROUP, move || {
        sqlx::query_as::<_, (i64, i64)>(
            "SELECT province_id, CAST(COUNT(*) AS BIGINT) FROM card_prints \
             WHERE status = 'bound' AND delivered_at IS NULL GROUP BY province_id",
        )
        .fetch_all(pool)
    })
    .await?;
    if groups.iter().map(|g| g.1).sum::<i64>() != expected.undelivered {
        bail!(
            "{case}: the baseline's groups do not add up to {}",
            expected.undelivered
        );
    }

    let rows = measure(iters, samples, case, HQ_VIEW, move || {
        store.overdue_by_province_on(hq, today)
    })
    .await?;
    let overdue: i64 = rows.iter().map(|r| r.overdue).sum();
    let undelivered: i64 = rows.iter().map(|r| r.undelivered).sum();
    if rows.len() as i64 != expected.provinces
        || overdue != expected.overdue
        || undelivered != expected.undelivered
    {
        bail!(
            "{case}: HQ view has {} provinces, {overdue} overdue, {undelivered} undelivered; expected {}, {}, {}",
            rows.len(),
            expected.provinces,
            expected.overdue,
            expected.undelivered
        );
    }

    let rows = measure(iters, samples, case, HEAD_VIEW, move || {
        store.overdue_by_province(head)
    })
    .await?;
    if rows.len() != 1
        || rows[0].province_id != PROVINCE
        || rows[0].overdue != expected.head_overdue
    {
        bail!(
            "{case}: head view {:?}, expected province {PROVINCE} with {} overdue",
            rows.iter()
                .map(|r| (r.province_id, r.overdue))
                .collect::<Vec<_>>(),
            expected.head_overdue
        );
    }

    let cards = measure(iters, samples, case, HEAD_LIST, move || {
        store.undelivered_cards(head, true, false, None, PAGE)
    })
    .await?
    .items;
    let want = expected.head_overdue.min(PAGE);
    if cards.len() as i64 != want
        || cards
            .iter()
            .any(|c| c.province_id != PROVINCE || c.days_overdue.is_none())
    {
        bail!(
            "{case}: office list has {} cards (expected {want}, all of province {PROVINCE} and overdue)",
            cards.len()
        );
    }
    Ok(())
}

/// One repetition on a fresh database: load, the normal case, then (unless kept) the stress case.
async fn delivery(url: &str, kind: Kind, keep: bool, out: &mut Outcome) -> Result<()> {
    let today = skillcard_core::date::tehran_date(time::OffsetDateTime::now_utc());
    let cutoff = skillcard_core::delivery::r5_4_overdue_cutoff(today).to_string();
    let store = Store::connect(url).await?;
    store.migrate().await?;
    let hq = user(&store, "hq", Role::Hq, None).await?;
    let head = user(&store, "head", Role::AssessmentHead, Some(PROVINCE)).await?;
    let readers = Readers {
        hq: &hq,
        head: &head,
        today,
    };
    let (r, d) = timed(load(&store, kind, &hq, today)).await;
    r?;
    push(&mut out.samples, SETUP, LOAD, d);
    eprintln!(
        "{}: loaded {CARDS} cards in {:.1} s",
        kind.name(),
        d.as_secs_f64()
    );
    let (r, d) = timed(analyze(&store, kind)).await;
    r?;
    push(&mut out.samples, SETUP, ANALYZE, d);
    // A fresh pool: every connection sees the new statistics.
    store.close().await;
    let store = Store::connect(url).await?;

    let normal = shape(&store, &cutoff).await?;
    out.shapes.insert(NORMAL, normal);
    measure_case(
        &store,
        &readers,
        NORMAL,
        normal,
        out.iters,
        &mut out.samples,
    )
    .await?;
    if keep {
        store.close().await;
        return Ok(());
    }

    let (r, d) = timed(undeliver_all(&store)).await;
    r?;
    push(&mut out.samples, SETUP, STRESS_UPDATE, d);
    let (r, d) = timed(analyze(&store, kind)).await;
    r?;
    push(&mut out.samples, SETUP, STRESS_ANALYZE, d);
    store.close().await;
    let store = Store::connect(url).await?;
    let stress = shape(&store, &cutoff).await?;
    if stress.undelivered != CARDS {
        bail!(
            "stress case: {} undelivered, not {CARDS}",
            stress.undelivered
        );
    }
    out.shapes.insert(STRESS, stress);
    measure_case(
        &store,
        &readers,
        STRESS,
        stress,
        out.iters,
        &mut out.samples,
    )
    .await?;
    store.close().await;
    Ok(())
}

async fn run_backend(
    kind: Kind,
    admin: &str,
    reps: usize,
    iters: usize,
    keep: bool,
) -> Result<Outcome> {
    let mut out = Outcome {
        iters,
        ..Outcome::default()
    };
    let mut fresh = Fresh {
        kind,
        admin: admin.to_string(),
        names: vec![],
    };
    for n in 1..=reps {
        let outcome = async {
            let url = fresh.create("delivery", n).await?;
            if keep {
                out.kept.push(url.clone());
            }
            delivery(&url, kind, keep, &mut out).await
        }
        .await;
        if !keep {
            fresh.drop_all().await?;
        }
        outcome.with_context(|| format!("{} repetition {n}", kind.name()))?;
        eprintln!("{}: repetition {n}/{reps} done", kind.name());
    }
    Ok(out)
}

fn print_table(results: &[(Kind, Outcome)], reps: usize, iters: usize) {
    println!();
    println!(
        "delivery bench (R-5.4 overdue view): {CARDS} registered cards over {DAYS} days; \
         {reps} fresh database(s) per backend, {iters} timed runs per step after {WARMUP} warm-up runs"
    );
    for (kind, out) in results {
        for (case, s) in [NORMAL, STRESS]
            .iter()
            .filter_map(|c| out.shapes.get(c).map(|s| (c, s)))
        {
            println!(
                "{:<11} {case:<6}: {} provinces, {} undelivered, {} overdue, {} overdue in province {PROVINCE}",
                kind.name(),
                s.provinces,
                s.undelivered,
                s.overdue,
                s.head_overdue
            );
        }
    }
    println!();
    println!(
        "{:<11} | {:<6} | {:<36} | {:>10} | {:>10} | {:>8} | {:>8} |",
        "backend", "case", "step", "median ms", "min ms", "÷count", "÷group"
    );
    println!("{}", "-".repeat(11 + 6 + 36 + 10 + 10 + 8 + 8 + 20));
    let mut over = vec![];
    for (kind, out) in results {
        for case in [NORMAL, STRESS] {
            let base = |step| out.samples.get(&(case, step)).and_then(|v| stats(v));
            let (count, group) = (base(BASE_COUNT), base(BASE_GROUP));
            for step in STEPS {
                let Some((median, min)) = out.samples.get(&(case, step)).and_then(|v| stats(v))
                else {
                    continue;
                };
                let ratio = |b: Option<(Duration, Duration)>| {
                    b.map(|(b, _)| format!("{:.2}", median.as_secs_f64() / b.as_secs_f64()))
                        .unwrap_or_else(|| "-".into())
                };
                let flag = if TARGETED.contains(&step) {
                    if median < TARGET {
                        "ok"
                    } else {
                        over.push(format!("{} {case} {step}", kind.name()));
                        "SLOW"
                    }
                } else {
                    ""
                };
                println!(
                    "{:<11} | {:<6} | {:<36} | {:>10.2} | {:>10.2} | {:>8} | {:>8} | {flag}",
                    kind.name(),
                    case,
                    step,
                    ms(median),
                    ms(min),
                    ratio(count),
                    ratio(group)
                );
            }
        }
        for step in SETUP_STEPS {
            if let Some((median, min)) = out.samples.get(&(SETUP, step)).and_then(|v| stats(v)) {
                println!(
                    "{:<11} | {:<6} | {:<36} | {:>10.0} | {:>10.0} | {:>8} | {:>8} |",
                    kind.name(),
                    SETUP,
                    step,
                    ms(median),
                    ms(min),
                    "",
                    ""
                );
            }
        }
    }
    println!();
    println!(
        "÷count, ÷group = median / median of the raw COUNT(*) over card_prints, and of the raw \
         per-province count of undelivered cards, on the same backend and data, same run."
    );
    println!(
        "STRESS = all {CARDS} cards undelivered (worst case; the target is for the normal case)."
    );
    let normal_over: Vec<&String> = over.iter().filter(|o| !o.contains(STRESS)).collect();
    if normal_over.is_empty() {
        println!("target (< 100 ms per read, normal case): met on every backend measured");
    } else {
        println!(
            "target (< 100 ms per read, normal case) missed by: {}",
            normal_over
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let stress_over: Vec<&String> = over.iter().filter(|o| o.contains(STRESS)).collect();
    if stress_over.is_empty() {
        println!("stress case: every read under 100 ms too");
    } else {
        println!(
            "stress case over 100 ms: {}",
            stress_over
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    for (kind, out) in results {
        for url in &out.kept {
            println!("{} database kept (BENCH_KEEP): {url}", kind.name());
        }
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .init();
    }
    if !common::selected("delivery") {
        return Ok(());
    }
    let reps = common::reps(1)?;
    let iters = match std::env::var("BENCH_ITERS") {
        Ok(v) => v.parse().context("BENCH_ITERS")?,
        Err(_) => 20,
    };
    let keep = std::env::var("BENCH_KEEP").is_ok_and(|v| v == "1");
    let mut results = vec![(
        Kind::Sqlite,
        run_backend(Kind::Sqlite, "", reps, iters, keep).await?,
    )];
    if let Some(pg) = common::pg_admin().await {
        results.push((
            Kind::Postgres,
            run_backend(Kind::Postgres, &pg, reps, iters, keep).await?,
        ));
    }
    print_table(&results, reps, iters);
    Ok(())
}
