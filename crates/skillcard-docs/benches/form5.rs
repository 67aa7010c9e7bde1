//! Form 5 at scale: the minutes of delivery of certificates to beneficiaries for one list of
//! 1,000 certificates, rendered to PDF. Target: under 1 s per render.
//!
//! Baseline, measured in the same run with the same renderer: the one-page Form 4.
//!
//! Each repetition renders a list it has not rendered before (other names, codes and serials) with
//! typst's memoisation cache emptied first, so nothing from an earlier render is reused; one
//! warm-up render of each document comes first (fonts, templates).
//!
//! Run with `cargo bench -p skillcard-docs --bench form5`; `BENCH_REPS` sets the repetitions
//! (default 5).

use std::time::{Duration, Instant};

use skillcard_docs::{Document, Form4, Form5, Form5Row, Person, Renderer, SerialRangeRow};

type BoxError = Box<dyn std::error::Error>;

const ROWS: usize = 1_000;
const TARGET: Duration = Duration::from_secs(1);

const GIVEN: [&str; 8] = [
    "مریم",
    "علی",
    "زهرا",
    "حسین",
    "فاطمه",
    "محمدرضا",
    "نرگس",
    "امیر",
];
const FAMILY: [&str; 7] = [
    "احمدی",
    "کریمی",
    "موسوی",
    "رضایی",
    "حسینی",
    "جعفری",
    "نوروزی",
];
const CENTRES: [&str; 3] = [
    "مرکز شماره 2 اصفهان",
    "آموزشگاه آزاد فن آوران",
    "آموزشگاه آزاد مهارت نوین 14",
];

/// A valid Iranian national code from a number (nine digits and the published check digit).
fn national_id(n: u64) -> String {
    let body = format!("{:09}", 100_000_000 + n % 900_000_000);
    let sum: u64 = body
        .bytes()
        .enumerate()
        .map(|(i, b)| u64::from(b - b'0') * (10 - i as u64))
        .sum();
    let r = sum % 11;
    format!("{body}{}", if r < 2 { r } else { 11 - r })
}

fn person(name: &str, title: &str) -> Person {
    Person {
        name: name.into(),
        title: title.into(),
    }
}

/// Repetition `rep`'s list: 1,000 certificates, a third handed over in person, some by post, the
/// rest to be filled in by hand.
fn form5(rep: usize) -> Document {
    let base = (rep * ROWS) as u64;
    let rows = (0..ROWS)
        .map(|i| {
            let k = i + rep;
            let full_name = format!("{} {}", GIVEN[k % GIVEN.len()], FAMILY[k % FAMILY.len()]);
            let (receiver, note) = if i % 3 == 0 {
                (
                    full_name.clone(),
                    format!("حضوری 1405/09/{:02}", 10 + rep % 10),
                )
            } else if i % 5 == 1 {
                (
                    full_name.clone(),
                    format!("پست: {}", 681_234_500_000 + base + i as u64),
                )
            } else {
                (String::new(), String::new())
            };
            Form5Row {
                full_name,
                national_id: national_id(base + i as u64),
                card_serial: 300_001 + base + i as u64,
                issue_date: format!("1405/09/{:02}", 1 + k % 7),
                centre: CENTRES[k % CENTRES.len()].into(),
                receiver,
                note,
            }
        })
        .collect();
    Document::Form5(Form5 {
        province: "اصفهان".into(),
        list_no: format!("1405/D/{}", 17 + rep),
        date: "1405/09/12".into(),
        group: String::new(),
        rows,
        deliverer: person("سعید نوری", "مسئول تحویل گواهینامه"),
    })
}

/// Repetition `rep`'s Form 4: one range of 250 blank cards.
fn form4(rep: usize) -> Document {
    let from = 100_001 + 250 * rep as u64;
    Document::Form4(Form4 {
        province: "اصفهان".into(),
        handover_no: format!("{}", 88 + rep),
        date: "1405/09/05".into(),
        request_date: "1405/09/03".into(),
        count: 250,
        ranges: vec![SerialRangeRow::new(from, from + 249)],
        remarks: String::new(),
        deliverer: person("زهرا موسوی", "مسئول حراست استان"),
        receiver: person("مریم احمدی", "نماینده اداره سنجش"),
    })
}

/// One cold render: typst's memoisation cache emptied first. Returns the time and page count.
fn timed(renderer: &Renderer, doc: &Document) -> Result<(Duration, usize), BoxError> {
    typst::comemo::evict(0);
    let start = Instant::now();
    let rendered = renderer.render_with_info(doc)?;
    let took = start.elapsed();
    if !rendered.pdf.starts_with(b"%PDF-") {
        return Err(format!("{}: not a PDF", doc.slug()).into());
    }
    Ok((took, rendered.pages))
}

/// (median, min) of the samples.
fn stats(v: &[Duration]) -> Option<(Duration, Duration)> {
    let mut v = v.to_vec();
    v.sort();
    let min = *v.first()?;
    let mid = v.len() / 2;
    let median = if v.len() % 2 == 1 {
        *v.get(mid)?
    } else {
        (*v.get(mid - 1)? + *v.get(mid)?) / 2
    };
    Some((median, min))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// `cargo bench` passes `--bench` and any name filter: is this bench selected?
fn selected(name: &str) -> bool {
    std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .all(|a| name.contains(a.as_str()))
}

fn main() -> Result<(), BoxError> {
    if !selected("form5") {
        return Ok(());
    }
    let reps: usize = match std::env::var("BENCH_REPS") {
        Ok(v) => v.parse().map_err(|e| format!("BENCH_REPS={v}: {e}"))?,
        Err(_) => 5,
    };
    if reps == 0 {
        return Err("BENCH_REPS must be at least 1".into());
    }
    let renderer = Renderer::discover()?;

    // Warm-up: one render of each (its own data, not reused below).
    timed(&renderer, &form4(reps))?;
    let (warm, _) = timed(&renderer, &form5(reps))?;
    eprintln!("warm-up: Form 5 with {ROWS} rows in {:.1} ms", ms(warm));

    let mut base = Vec::with_capacity(reps);
    let mut big = Vec::with_capacity(reps);
    let (mut base_pages, mut big_pages) = (0, 0);
    for rep in 0..reps {
        let (took, pages) = timed(&renderer, &form4(rep))?;
        base.push(took);
        base_pages = pages;
        let (took, pages) = timed(&renderer, &form5(rep))?;
        big.push(took);
        big_pages = pages;
        eprintln!(
            "repetition {}/{reps}: Form 5 in {:.1} ms",
            rep + 1,
            ms(took)
        );
    }

    let (Some((base_median, base_min)), Some((median, min))) = (stats(&base), stats(&big)) else {
        return Err("no samples".into());
    };
    let ratio = |d: Duration| d.as_secs_f64() / base_median.as_secs_f64();
    println!();
    println!(
        "form5 bench: Form 5 with {ROWS} rows vs the one-page Form 4; {reps} repetitions, \
         each a new list rendered cold (memoisation cache emptied)"
    );
    println!();
    println!("| document | pages | median ms | min ms | ratio |");
    println!("|---|---:|---:|---:|---:|");
    println!(
        "| baseline: Form 4 (one range) | {base_pages} | {:.1} | {:.1} | {:.2} |",
        ms(base_median),
        ms(base_min),
        ratio(base_median)
    );
    println!(
        "| Form 5, {ROWS} rows | {big_pages} | {:.1} | {:.1} | {:.2} |",
        ms(median),
        ms(min),
        ratio(median)
    );
    println!();
    println!("ratio = median / median of the baseline (Form 4), same run, same renderer.");
    if median < TARGET {
        println!(
            "target (Form 5 with {ROWS} rows < 1 s): met (median {:.1} ms)",
            ms(median)
        );
    } else {
        println!(
            "target (Form 5 with {ROWS} rows < 1 s): MISSED (median {:.1} ms)",
            ms(median)
        );
    }
    Ok(())
}
