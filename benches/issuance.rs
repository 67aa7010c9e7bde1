//! Issuance at scale: 1,000 candidates with approved scores taken through the fee, the
//! certificate, the card print with its signed credential, the card faces as PDF
//! for the printer, the chip written and read back through the file back end, the inspection
//! and the serial registration, on SQLite and PostgreSQL, through the real
//! `Store` operations. Target: the whole pipeline under 10 s per backend.
//!
//! Baseline, measured in the same run on the same backend: 6,000 single-row INSERTs, each in its
//! own transaction — as many write transactions as the pipeline commits (six per candidate).
//!
//! Run with `cargo bench --bench issuance`. Environment as for the custody bench: `BENCH_REPS`
//! (default 3) and `SKILLCARD_BENCH_PG` (`off` skips PostgreSQL).

mod common;

use anyhow::{bail, Context, Result};
use common::{ms, stats, timed, user, Fresh, Kind};
use skillcard_chip::{CardWriter, FileWriter};
use skillcard_core::custody::Baseline;
use skillcard_core::date::JalaliDate;
use skillcard_core::policy::Role;
use skillcard_core::serial::SerialRange;
use skillcard_credential::IssuerKey;
use skillcard_db::exams::{NewCandidate, ScoreLine};
use skillcard_db::{HandoverInput, NewRequest, NewShipment, ReceiptInput, Store};
use std::collections::BTreeMap;
use std::time::Duration;

const PROVINCE: i64 = 8;
const CANDIDATES: usize = 1_000;
const FACE_BATCH: usize = 200;
const TARGET: Duration = Duration::from_secs(10);

const STEPS: [&str; 9] = [
    "baseline: 6,000 INSERT transactions",
    "R-6.5 bank payments",
    "R-6.6 certificates",
    "R-6.8 prints (take card + sign)",
    "card faces PDF (5 batches of 200)",
    "R-6.8 chip write + read-back + confirm",
    "R-6.7 inspections",
    "R-6.9 registrations",
    "pipeline total",
];

type Samples = BTreeMap<&'static str, Vec<Duration>>;

fn push(samples: &mut Samples, step: &'static str, d: Duration) {
    samples.entry(step).or_default().push(d);
}

/// A valid Iranian national code from nine digits (the published check-digit rule).
fn national_id(n: u64) -> String {
    let body = format!("{:09}", 100_000_000 + n);
    let sum: u32 = body
        .bytes()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * (10 - i as u32))
        .sum();
    let r = sum % 11;
    format!("{body}{}", if r < 2 { r } else { 11 - r })
}

/// A 300×400 JPEG, a typical passport photo's size in bytes (~20 KB).
fn photo() -> Result<Vec<u8>> {
    let img = image::RgbImage::from_fn(300, 400, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x * y) % 256) as u8])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Jpeg)?;
    Ok(out.into_inner())
}

async fn baseline(url: &str, kind: Kind, samples: &mut Samples) -> Result<()> {
    let store = Store::connect(url).await?;
    let pool = store.pool();
    let ddl = match kind {
        Kind::Sqlite => {
            "CREATE TABLE bench (id INTEGER PRIMARY KEY, a INTEGER NOT NULL, b TEXT NOT NULL)"
        }
        Kind::Postgres => {
            "CREATE TABLE bench (id BIGSERIAL PRIMARY KEY, a BIGINT NOT NULL, b TEXT NOT NULL)"
        }
    };
    sqlx::query(ddl).execute(pool).await?;
    let (r, d) = timed(async {
        for i in 0..(6 * CANDIDATES) as i64 {
            sqlx::query("INSERT INTO bench (a, b) VALUES ($1, $2)")
                .bind(i)
                .bind("row")
                .execute(pool)
                .await?;
        }
        anyhow::Ok(())
    })
    .await;
    r?;
    push(samples, STEPS[0], d);
    store.close().await;
    Ok(())
}

/// One pass on a fresh database: set-up (untimed) to 1,000 approved scores, then the pipeline.
async fn issuance(
    url: &str,
    renderer: &skillcard_docs::Renderer,
    cards: &std::path::Path,
    samples: &mut Samples,
) -> Result<()> {
    let store = Store::connect(url).await?;
    store.migrate().await?;
    let hq = user(&store, "hq", Role::Hq, None).await?;
    let security = user(&store, "security", Role::Security, Some(PROVINCE)).await?;
    let head = user(&store, "head", Role::AssessmentHead, Some(PROVINCE)).await?;
    let officer = user(&store, "officer", Role::AssessmentOfficer, Some(PROVINCE)).await?;
    let examiner = user(&store, "examiner", Role::CenterExaminer, Some(PROVINCE)).await?;
    let clerk = user(&store, "clerk", Role::IssuanceClerk, Some(PROVINCE)).await?;
    let today = skillcard_core::date::tehran_date(time::OffsetDateTime::now_utc());
    let this_month = JalaliDate::from_gregorian(today)?.month_of();
    let n = CANDIDATES as u64;

    // Custody: 1,000 cards in the Assessment Office's stock.
    store
        .set_baseline(
            &hq,
            PROVINCE,
            Baseline {
                monthly: n,
                through: this_month,
            },
        )
        .await?;
    let shipment = store
        .record_shipment(
            &hq,
            NewShipment {
                province_id: PROVINCE,
                ref_no: "BENCH-1".into(),
                carrier: "bench".into(),
                declared_count: n,
                ranges: vec![SerialRange::new(5_000_001, 5_000_000 + n)?],
            },
        )
        .await?;
    store
        .receive_shipment(
            &security,
            shipment.id,
            ReceiptInput {
                counted: n,
                missing: vec![],
                damaged: vec![],
                deliverer_name: "deliverer".into(),
                deliverer_title: "carrier".into(),
                receiver_name: "security".into(),
                receiver_title: "security".into(),
                remarks: String::new(),
            },
        )
        .await?;
    let request = store
        .create_request(
            &head,
            NewRequest {
                province_id: PROVINCE,
                count: n,
                representative: "rep".into(),
            },
        )
        .await?;
    store
        .hand_over(
            &security,
            request.id,
            HandoverInput {
                count: Some(n),
                ranges: None,
                letter_no: "H-1".into(),
                deliverer_name: "security".into(),
                deliverer_title: "security".into(),
                receiver_name: "rep".into(),
                receiver_title: "officer".into(),
                remarks: String::new(),
            },
        )
        .await?;

    // Exams: 1,000 candidates with photos, scored, checked and approved.
    let trade = store.create_trade(&hq, "7421-10", "برق‌کار ساختمان").await?;
    let centre = store
        .create_centre(&head, PROVINCE, "C-01", "مرکز آزمون شماره ۱", "public")
        .await?;
    let list = store
        .create_exam_list(&examiner, centre.id, trade.id, "1405/09/10")
        .await?;
    let photo = photo()?;
    for i in 0..n {
        store
            .register_candidate(
                &examiner,
                list.id,
                NewCandidate {
                    national_id: national_id(i),
                    first_name: format!("نام{i}"),
                    last_name: "کریمی".into(),
                    father_name: "حسن".into(),
                    birth_date: "1380/01/15".into(),
                    written_score: "70".into(),
                    photo: Some(photo.clone()),
                },
            )
            .await?;
    }
    let lines = (0..n)
        .map(|i| ScoreLine {
            row: i as usize + 2,
            national_id: national_id(i),
            score: "85".into(),
        })
        .collect();
    store.record_scores(&examiner, list.id, lines).await?;
    store.submit_exam_list(&examiner, list.id).await?;
    let list = store.check_exam_list(&officer, list.id, true, "").await?;
    for e in &list.entries {
        store.decide_score(&head, e.id, true, "").await?;
    }
    store.set_fee(&hq, "issuance", 1_500_000).await?;
    let key = IssuerKey::generate("bench-1")?;
    let candidates: Vec<i64> = list.entries.iter().map(|e| e.candidate_id).collect();

    // The pipeline, step by step over all candidates (as a clerk works through a batch).
    let total = std::time::Instant::now();
    let (r, d) = timed(async {
        for (i, c) in candidates.iter().enumerate() {
            store
                .record_bank_payment(&clerk, *c, &format!("BANK-{i}"), 1_500_000)
                .await?;
        }
        anyhow::Ok(())
    })
    .await;
    r?;
    push(samples, STEPS[1], d);
    let (certs, d) = timed(async {
        let mut certs = Vec::with_capacity(candidates.len());
        for c in &candidates {
            let v = store.issue_certificate(&clerk, *c, true).await?;
            certs.push(v.certificate.context("no certificate")?.id);
        }
        anyhow::Ok(certs)
    })
    .await;
    let certs = certs?;
    push(samples, STEPS[2], d);
    let mut chips = Vec::with_capacity(certs.len());
    let (prints, d) = timed(async {
        let mut prints = Vec::with_capacity(certs.len());
        for (i, cert) in certs.iter().enumerate() {
            let mut chip = FileWriter::for_card(cards, &format!("card-{i}"))?;
            let uid = chip.uid()?;
            prints.push(
                store
                    .start_print(&clerk, *cert, &uid, None, Some(&key))
                    .await?,
            );
            chips.push(chip);
        }
        anyhow::Ok(prints)
    })
    .await;
    let prints = prints?;
    push(samples, STEPS[3], d);
    // The faces go to the printer as batch PDFs; like concurrent batch requests to the server,
    // the batches render side by side on the machine's cores.
    let (r, d) = timed(async {
        let mut batches = Vec::new();
        for batch in prints.chunks(FACE_BATCH) {
            let mut faces = Vec::with_capacity(batch.len());
            for p in batch {
                let photo = store.print_photo(&clerk, p.id).await?;
                faces.push(face(p, photo));
            }
            batches.push(skillcard_docs::Document::CardBatch(
                skillcard_docs::CardBatch { cards: faces },
            ));
        }
        let pdfs: Vec<Result<Vec<u8>, skillcard_docs::DocsError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = batches
                .iter()
                .map(|doc| scope.spawn(|| renderer.render(doc)))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(skillcard_docs::DocsError::Internal("render thread".into()))
                    })
                })
                .collect()
        });
        for pdf in pdfs {
            if !pdf?.starts_with(b"%PDF") {
                bail!("not a PDF");
            }
        }
        anyhow::Ok(())
    })
    .await;
    r?;
    push(samples, STEPS[4], d);
    let (r, d) = timed(async {
        for (p, chip) in prints.iter().zip(chips.iter_mut()) {
            chip.write(&hex::decode(&p.credential_hex)?)?;
            let read_back = chip.read()?;
            store
                .confirm_chip(&clerk, p.id, &chip.uid()?, &read_back)
                .await?;
        }
        anyhow::Ok(())
    })
    .await;
    r?;
    push(samples, STEPS[5], d);
    let (r, d) = timed(async {
        for p in &prints {
            store
                .record_print_inspection(&clerk, p.id, true, "")
                .await?;
        }
        anyhow::Ok(())
    })
    .await;
    r?;
    push(samples, STEPS[6], d);
    let (r, d) = timed(async {
        for p in &prints {
            store.register_print(&clerk, p.id).await?;
        }
        anyhow::Ok(())
    })
    .await;
    r?;
    push(samples, STEPS[7], d);
    push(samples, STEPS[8], total.elapsed());

    let report = store.check().await?;
    if !report.is_ok() {
        bail!(
            "check failed: {:?} {:?}",
            report.chain_error,
            report.violations
        );
    }
    let (bound,): (i64,) =
        sqlx::query_as("SELECT CAST(COUNT(*) AS BIGINT) FROM cards WHERE state = 'bound'")
            .fetch_one(store.pool())
            .await?;
    if bound != CANDIDATES as i64 {
        bail!("{bound} cards bound, not {CANDIDATES}");
    }
    store.close().await;
    Ok(())
}

fn face(p: &skillcard_db::printing::PrintView, photo: Option<Vec<u8>>) -> skillcard_docs::CardFace {
    skillcard_docs::CardFace {
        certificate_no: p.certificate_no.clone(),
        given_name: p.given_name.clone(),
        family_name: p.family_name.clone(),
        father_name: p.father_name.clone(),
        national_id: p.national_id.clone(),
        birth_date: "1380/01/15".into(),
        trade_title: p.trade_title.clone(),
        standard_code: p.standard_code.clone(),
        final_score: p.final_score.clone(),
        issue_date: p.issued_on_fa.clone(),
        province: p.province_name.clone(),
        card_serial: p.serial,
        photo,
        qr_text: p.qr_text.clone(),
    }
}

async fn run_backend(
    kind: Kind,
    admin: &str,
    reps: usize,
    renderer: &skillcard_docs::Renderer,
) -> Result<Samples> {
    let mut samples = Samples::new();
    let mut fresh = Fresh {
        kind,
        admin: admin.to_string(),
        names: vec![],
    };
    for n in 1..=reps {
        let cards =
            std::env::temp_dir().join(format!("skillcard-bench-cards-{}-{n}", std::process::id()));
        let outcome = async {
            let base = fresh.create("ibase", n).await?;
            baseline(&base, kind, &mut samples).await?;
            let url = fresh.create("issue", n).await?;
            issuance(&url, renderer, &cards, &mut samples).await
        }
        .await;
        fresh.drop_all().await?;
        let _ = std::fs::remove_dir_all(&cards);
        outcome.with_context(|| format!("{} repetition {n}", kind.name()))?;
        eprintln!("{}: repetition {n}/{reps} done", kind.name());
    }
    Ok(samples)
}

fn print_table(results: &[(Kind, Samples)], reps: usize) {
    println!();
    println!("issuance bench: {CANDIDATES} candidates from approved scores to registered cards; {reps} fresh databases per backend");
    println!(
        "{:<11} | {:<40} | {:>10} | {:>10} | {:>7} |",
        "backend", "step", "median ms", "min ms", "ratio"
    );
    println!("{}", "-".repeat(11 + 40 + 10 + 10 + 7 + 14));
    let mut over = vec![];
    for (kind, samples) in results {
        let base = samples.get(STEPS[0]).and_then(|v| stats(v));
        for step in STEPS {
            let Some((median, min)) = samples.get(step).and_then(|v| stats(v)) else {
                continue;
            };
            let ratio = base
                .map(|(b, _)| format!("{:.2}", median.as_secs_f64() / b.as_secs_f64()))
                .unwrap_or_else(|| "-".into());
            let flag = if step == STEPS[8] {
                if median < TARGET {
                    "ok"
                } else {
                    over.push(kind.name());
                    "SLOW"
                }
            } else {
                ""
            };
            println!(
                "{:<11} | {:<40} | {:>10.1} | {:>10.1} | {:>7} | {flag}",
                kind.name(),
                step,
                ms(median),
                ms(min),
                ratio
            );
        }
    }
    println!();
    println!("ratio = median / median of the baseline (6,000 one-row INSERT transactions) on the same backend, same run.");
    if over.is_empty() {
        println!("target (< 10 s for {CANDIDATES} candidates): met on every backend measured");
    } else {
        println!("target (< 10 s) missed by: {}", over.join(", "));
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    if !common::selected("issuance") {
        return Ok(());
    }
    let reps = common::reps(3)?;
    let renderer =
        skillcard_docs::Renderer::discover().context("fonts (run scripts/fetch-fonts)")?;
    let mut results = vec![(
        Kind::Sqlite,
        run_backend(Kind::Sqlite, "", reps, &renderer).await?,
    )];
    if let Some(pg) = common::pg_admin().await {
        results.push((
            Kind::Postgres,
            run_backend(Kind::Postgres, &pg, reps, &renderer).await?,
        ));
    }
    print_table(&results, reps);
    Ok(())
}
