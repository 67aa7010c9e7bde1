//! Custody at scale: receiving a 100,000-card shipment and handing 10,000 cards over, on SQLite
//! and on PostgreSQL, through the real `Store` operations. Target: under 1 s each.
//!
//! The machine it runs on is noisy, so every figure is also given as a ratio to a baseline
//! measured in the same run on the same backend: raw SQL inserting 100,000 rows one statement
//! at a time into a fresh table in one transaction, through sqlx (the same pool settings and
//! SQLite pragmas as the store). A set-based insert of the same rows is shown for reference.
//!
//! Run with `cargo bench --bench custody`. Environment:
//! - `BENCH_REPS` (default 5): fresh databases per backend; min and median are reported.
//! - `SKILLCARD_BENCH_PG` (default `postgres://postgres@127.0.0.1:5432/test`): an admin URL
//!   with the right to create databases; `skillcard_bench_<n>` databases are created and
//!   dropped. `SKILLCARD_BENCH_PG=off` skips PostgreSQL.
//! - `RUST_LOG=sqlx::query=debug` prints every statement the store runs, with its duration.

mod common;

use anyhow::{bail, Context, Result};
use common::{ms, stats, timed, user, Fresh, Kind};
use skillcard_core::custody::Baseline;
use skillcard_core::date::JalaliDate;
use skillcard_core::policy::Role;
use skillcard_core::serial::SerialRange;
use skillcard_db::{HandoverInput, NewRequest, NewShipment, ReceiptInput, Store};
use std::collections::BTreeMap;
use std::time::Duration;

const PROVINCE: i64 = 8;
const FIRST: u64 = 1_000_001;
const SHIPMENT: u64 = 100_000;
const HANDOVER: u64 = 10_000;
const TARGET: Duration = Duration::from_secs(1);

const STEPS: [&str; 7] = [
    "baseline: 100k row INSERTs, 1 tx",
    "baseline (ref): 100k set INSERT",
    "record_shipment 100k",
    "receive_shipment 100k",
    "create_request 10k",
    "hand_over 10k",
    "check (100k cards)",
];
const PRIMARY_BASELINE: &str = STEPS[0];
const TARGETED: [&str; 2] = ["receive_shipment 100k", "hand_over 10k"];

type Samples = BTreeMap<&'static str, Vec<Duration>>;

/// The baselines: a fresh table shaped like `cards`, filled in one transaction.
async fn baseline(url: &str, kind: Kind, samples: &mut Samples) -> Result<()> {
    let store = Store::connect(url).await?;
    let pool = store.pool();
    let key = match kind {
        Kind::Sqlite => "INTEGER PRIMARY KEY",
        Kind::Postgres => "BIGINT PRIMARY KEY",
    };
    for table in ["base_rows", "base_set"] {
        sqlx::query(&format!(
            "CREATE TABLE {table} (serial {key}, province_id BIGINT NOT NULL, \
             shipment_id BIGINT NOT NULL, state TEXT NOT NULL)"
        ))
        .execute(pool)
        .await?;
    }

    let (res, d) = timed(async {
        let mut tx = pool.begin().await?;
        for serial in FIRST..FIRST + SHIPMENT {
            sqlx::query(
                "INSERT INTO base_rows (serial, province_id, shipment_id, state) VALUES ($1, $2, $3, $4)",
            )
            .bind(serial as i64)
            .bind(PROVINCE)
            .bind(1_i64)
            .bind("in_transit")
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        anyhow::Ok(())
    })
    .await;
    res?;
    push(samples, STEPS[0], d);

    let (res, d) = timed(async {
        let mut tx = pool.begin().await?;
        sqlx::query(
            "WITH RECURSIVE s(n) AS (SELECT CAST($1 AS BIGINT) UNION ALL SELECT n + 1 FROM s WHERE n < $2) \
             INSERT INTO base_set (serial, province_id, shipment_id, state) SELECT n, $3, 1, 'in_transit' FROM s",
        )
        .bind(FIRST as i64)
        .bind((FIRST + SHIPMENT - 1) as i64)
        .bind(PROVINCE)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        anyhow::Ok(())
    })
    .await;
    res?;
    push(samples, STEPS[1], d);

    for table in ["base_rows", "base_set"] {
        let (n,): (i64,) = sqlx::query_as(&format!("SELECT CAST(COUNT(*) AS BIGINT) FROM {table}"))
            .fetch_one(pool)
            .await?;
        if n != SHIPMENT as i64 {
            bail!("{table} holds {n} rows, not {SHIPMENT}");
        }
    }
    store.close().await;
    Ok(())
}

/// One pass of the custody workload on a fresh database.
async fn custody(url: &str, samples: &mut Samples) -> Result<()> {
    let store = Store::connect(url).await?;
    store.migrate().await?;
    let hq = user(&store, "hq", Role::Hq, None).await?;
    let security = user(&store, "security", Role::Security, Some(PROVINCE)).await?;
    let head = user(&store, "head", Role::AssessmentHead, Some(PROVINCE)).await?;
    let today = skillcard_core::date::tehran_date(time::OffsetDateTime::now_utc());
    let this_month = JalaliDate::from_gregorian(today)?.month_of();
    store
        .set_baseline(
            &hq,
            PROVINCE,
            Baseline {
                monthly: 20_000,
                through: this_month,
            },
        )
        .await?;

    let (shipment, d) = timed(store.record_shipment(
        &hq,
        NewShipment {
            province_id: PROVINCE,
            ref_no: "BENCH-1".into(),
            carrier: "bench carrier".into(),
            declared_count: SHIPMENT,
            ranges: vec![SerialRange::new(FIRST, FIRST + SHIPMENT - 1)?],
        },
    ))
    .await;
    let shipment = shipment?;
    push(samples, STEPS[2], d);

    let (received, d) = timed(store.receive_shipment(
        &security,
        shipment.id,
        ReceiptInput {
            counted: SHIPMENT,
            missing: vec![],
            damaged: vec![],
            deliverer_name: "deliverer".into(),
            deliverer_title: "carrier agent".into(),
            receiver_name: security.full_name.clone(),
            receiver_title: "security".into(),
            remarks: String::new(),
        },
    ))
    .await;
    let received = received?;
    push(samples, STEPS[3], d);
    if received.status != skillcard_core::custody::ShipmentStatus::Received {
        bail!("shipment status after receipt: {}", received.status);
    }

    let (request, d) = timed(store.create_request(
        &head,
        NewRequest {
            province_id: PROVINCE,
            count: HANDOVER,
            representative: "representative".into(),
        },
    ))
    .await;
    let request = request?;
    push(samples, STEPS[4], d);

    let (handover, d) = timed(store.hand_over(
        &security,
        request.id,
        HandoverInput {
            count: Some(HANDOVER),
            ranges: None,
            letter_no: "H-1".into(),
            deliverer_name: security.full_name.clone(),
            deliverer_title: "security".into(),
            receiver_name: "representative".into(),
            receiver_title: "assessment officer".into(),
            remarks: String::new(),
        },
    ))
    .await;
    let handover = handover?;
    push(samples, STEPS[5], d);
    if handover.count != HANDOVER {
        bail!("handed over {} cards, not {HANDOVER}", handover.count);
    }

    let (report, d) = timed(store.check()).await;
    let report = report?;
    push(samples, STEPS[6], d);
    if !report.is_ok() || report.cards != SHIPMENT {
        bail!(
            "check failed: {} cards, chain {:?}, violations {:?}",
            report.cards,
            report.chain_error,
            report.violations
        );
    }
    store.close().await;
    Ok(())
}

fn push(samples: &mut Samples, step: &'static str, d: Duration) {
    samples.entry(step).or_default().push(d);
}

async fn run_backend(kind: Kind, admin: &str, reps: usize) -> Result<Samples> {
    let mut samples = Samples::new();
    let mut fresh = Fresh {
        kind,
        admin: admin.to_string(),
        names: vec![],
    };
    for n in 1..=reps {
        let outcome = async {
            let base = fresh.create("base", n).await?;
            baseline(&base, kind, &mut samples).await?;
            let url = fresh.create("store", n).await?;
            custody(&url, &mut samples).await
        }
        .await;
        fresh.drop_all().await?;
        outcome.with_context(|| format!("{} repetition {n}", kind.name()))?;
        eprintln!("{}: repetition {n}/{reps} done", kind.name());
    }
    Ok(samples)
}

fn print_table(results: &[(Kind, Samples)], reps: usize) {
    println!();
    println!("custody bench: {SHIPMENT} cards received, {HANDOVER} handed over; {reps} fresh databases per backend");
    println!(
        "{:<11} | {:<34} | {:>10} | {:>10} | {:>8} |",
        "backend", "step", "median ms", "min ms", "ratio"
    );
    println!("{}", "-".repeat(11 + 34 + 10 + 10 + 8 + 14));
    let mut over = vec![];
    for (kind, samples) in results {
        let base = samples.get(PRIMARY_BASELINE).and_then(|v| stats(v));
        for step in STEPS {
            let Some((median, min)) = samples.get(step).and_then(|v| stats(v)) else {
                continue;
            };
            let ratio = base
                .map(|(b, _)| format!("{:.2}", median.as_secs_f64() / b.as_secs_f64()))
                .unwrap_or_else(|| "-".into());
            let flag = if TARGETED.contains(&step) {
                if median < TARGET {
                    "ok"
                } else {
                    over.push(format!("{} {step}", kind.name()));
                    "SLOW"
                }
            } else {
                ""
            };
            println!(
                "{:<11} | {:<34} | {:>10.1} | {:>10.1} | {:>8} | {flag}",
                kind.name(),
                step,
                ms(median),
                ms(min),
                ratio
            );
        }
    }
    println!();
    println!("ratio = median / median of the row-by-row baseline on the same backend, same run.");
    if over.is_empty() {
        println!("target (< 1 s for receiving and handing over): met on every backend measured");
    } else {
        println!("target (< 1 s) missed by: {}", over.join(", "));
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
    if !common::selected("custody") {
        return Ok(());
    }
    let reps = common::reps(5)?;
    let mut results = vec![(Kind::Sqlite, run_backend(Kind::Sqlite, "", reps).await?)];
    if let Some(pg) = common::pg_admin().await {
        results.push((
            Kind::Postgres,
            run_backend(Kind::Postgres, &pg, reps).await?,
        ));
    }
    print_table(&results, reps);
    Ok(())
}
