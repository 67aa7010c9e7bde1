//! A national decade of data in minutes, for benchmarks and for trying the pages at scale
//! (`skillcard demo --scale CARDS`). The store's write paths take a transaction and an audit
//! record per change — right for users, hours for ten million cards — so this writes the same
//! rows set-based, straight in SQL, in one transaction that ends with one audit record naming
//! what it loaded.
//!
//! The shape, per province (Tehran ~15 % of the cards, the other provinces sharing the rest):
//! one shipment a year for ten years, received with Form 1 and its letter, into the vault
//! (`vault_movements` in); one monthly request a month, handed over in full from the vault
//! (`handovers`, `vault_movements` out) but for the newest month's, which stays open with its
//! cards in the vault; of each handover, most cards printed and the rest left with the office.
//! A printed card is a candidate on an exam list of about a hundred (checked, approved), a
//! fee, a certificate, a bound print and its card-ready notice; about 2 % of printed cards are
//! spoiled at printing (their certificate took the next card); most cards are delivered within
//! a week, some late, a few never collected (overdue), and the newest days' not yet.
//!
//! Every registered card gets its transparency log entry, as the write paths give it. What it
//! does not write: signed credentials (the prints carry a placeholder a verifier refuses, so a
//! bulk card does not verify); damage cases, vault inspections and handover lists (Form 5). `skillcard check` passes on the
//! result: every serial in one state, the ledger equal to the vault, the office stock equal to
//! handovers less use, one print per used card, the maintained counts equal to the cards.

use crate::tx::WriteTx;
use crate::{Backend, Result, Store, StoreError};
use serde_json::json;
use skillcard_core::date::{JalaliDate, JalaliMonth};
use skillcard_core::policy::Actor;
use std::time::{Duration, Instant};

/// The first serial the loader uses: far above the demo's and the tests'.
pub const FIRST_SERIAL: i64 = 100_000_001;
/// Years of history.
pub const YEARS: i64 = 10;
/// Candidates on one exam list.
pub const LIST_SIZE: i64 = 100;
/// Centres per province, and trades in the reference data.
const CENTRES: i64 = 5;
const TRADES: i64 = 20;

/// The tables whose ids the load gives itself (from each table's largest id), so that rows can
/// refer to each other set-based; on PostgreSQL their sequences are moved past them after.
const EXPLICIT_IDS: [&str; 13] = [
    "shipments",
    "monthly_requests",
    "handovers",
    "vault_movements",
    "candidates",
    "exam_lists",
    "exam_entries",
    "certificates",
    "card_prints",
    "payments",
    "notifications",
    "trades",
    "centres",
];

/// What a load wrote.
#[derive(Debug, Clone, Default)]
pub struct BulkReport {
    pub cards: i64,
    pub shipments: i64,
    pub requests: i64,
    pub exam_lists: i64,
    pub certificates: i64,
    pub prints: i64,
    pub spoiled: i64,
    pub undelivered: i64,
    pub notices: i64,
    /// Transparency log entries written.
    pub logged: u64,
    pub elapsed: Duration,
}

/// The SQL that differs between the backends.
struct Dialect {
    int: &'static str,
    /// The numbers `0..n` as `nums(k)`.
    numbers: fn(i64) -> String,
    /// The ISO date `days` (an SQL integer expression) after `iso` (an SQL text expression).
    add_days: fn(&str, &str) -> String,
    /// `i` as a zero-padded decimal of `width` digits.
    padded: fn(&str, usize) -> String,
    chip_uid: &'static str,
    credential: &'static str,
}

fn dialect(backend: Backend) -> Dialect {
    match backend {
        Backend::Sqlite => Dialect {
            int: "INTEGER",
            numbers: |n| {
                format!(
                    "WITH RECURSIVE nums(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM nums WHERE k + 1 < {n}) \
                     SELECT k FROM nums"
                )
            },
            add_days: |iso, days| format!("date({iso}, ({days}) || ' days')"),
            padded: |i, width| format!("printf('%0{width}d', {i})"),
            chip_uid: "x'04b1c2d3e4f5a6'",
            credential: "zeroblob(160)",
        },
        Backend::Postgres => Dialect {
            int: "BIGINT",
            numbers: |n| {
                format!("SELECT k FROM generate_series(CAST(0 AS BIGINT), {n} - 1) AS g(k)")
            },
            add_days: |iso, days| {
                format!("to_char(CAST({iso} AS DATE) + CAST({days} AS INTEGER), 'YYYY-MM-DD')")
            },
            padded: |i, width| format!("lpad(CAST({i} AS TEXT), {width}, '0')"),
            chip_uid: "decode('04b1c2d3e4f5a6', 'hex')",
            credential: "decode(repeat('00', 160), 'hex')",
        },
    }
}

/// One province's share of `cards`: Tehran about 15 %, the others equal parts of the rest.
fn shares(provinces: &[(i64, String)], cards: i64) -> Vec<i64> {
    let others = provinces.len().saturating_sub(1).max(1) as i64;
    let tehran = cards * 15 / 100;
    let mut out: Vec<i64> = provinces
        .iter()
        .map(|(_, code)| {
            if code == "THR" {
                tehran
            } else {
                (cards - tehran) / others
            }
        })
        .collect();
    let given: i64 = out.iter().sum();
    if let Some(first) = out.first_mut() {
        *first += cards - given;
    }
    out
}

/// A handover segment: cards `first..first + count` of one request, the first `used` printed.
struct Segment {
    id: i64,
    province_id: i64,
    handover_id: i64,
    first: i64,
    count: i64,
    used: i64,
    month_start: time::Date,
    jalali_year: i64,
}

/// A range into or out of a province's vault: the ledger's source row (Form 2).
struct Movement {
    id: i64,
    province_id: i64,
    on: time::Date,
    first: i64,
    last: i64,
}

impl Movement {
    async fn record(
        &self,
        w: &mut WriteTx,
        direction: &str,
        source: &str,
        source_id: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO vault_movements (id, province_id, moved_on, direction, first, last, source, source_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(self.id)
        .bind(self.province_id)
        .bind(iso(self.on))
        .bind(direction)
        .bind(self.first)
        .bind(self.last)
        .bind(source)
        .bind(source_id)
        .execute(&mut *w.tx)
        .await?;
        Ok(())
    }
}

fn iso(d: time::Date) -> String {
    d.to_string()
}

fn jalali(d: time::Date) -> Result<JalaliDate> {
    Ok(JalaliDate::from_gregorian(d)?)
}

fn gregorian(m: JalaliMonth) -> Result<time::Date> {
    Ok(m.first_day().to_gregorian()?)
}

/// Loads about `cards` cards of national history, up to today, into a database that holds the
/// demo (its users sign the records). Refuses a database that already holds a bulk load.
pub async fn load(store: &Store, cards: i64, by: &Actor) -> Result<BulkReport> {
    let started = Instant::now();
    if cards < 31 * YEARS * 12 {
        return Err(StoreError::Corrupt(format!(
            "a national load needs at least {} cards",
            31 * YEARS * 12
        )));
    }
    let d = dialect(store.backend());
    let int = d.int;
    let mut w = WriteTx::begin(store).await?;
    let today = w.today();
    let (loaded,): (i64,) =
        sqlx::query_as("SELECT CAST(COUNT(*) AS BIGINT) FROM cards WHERE serial >= $1")
            .bind(FIRST_SERIAL)
            .fetch_one(&mut *w.tx)
            .await?;
    if loaded > 0 {
        return Err(StoreError::Corrupt("a bulk load is already present".into()));
    }
    if store.backend() == Backend::Sqlite {
        sqlx::query("PRAGMA cache_size = -524288")
            .execute(&mut *w.tx)
            .await?;
    }
    let by_id = by.user_id;
    let now = w.now_str();
    let provinces: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, code FROM provinces ORDER BY id")
            .fetch_all(&mut *w.tx)
            .await?;
    let max_id =
        |table: &'static str| format!("SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM {table}");
    let mut next_id = std::collections::BTreeMap::new();
    for table in EXPLICIT_IDS {
        let (n,): (i64,) = sqlx::query_as(&max_id(table)).fetch_one(&mut *w.tx).await?;
        next_id.insert(table, n);
    }
    let mut take = |table: &'static str| -> i64 {
        let n = next_id.entry(table).or_insert(0);
        *n += 1;
        *n
    };

    // Reference data: trades, and centres in every province.
    let trade_base = take("trades");
    for t in 0..TRADES {
        sqlx::query(
            "INSERT INTO trades (id, standard_code, title_fa, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(trade_base + t)
        .bind(format!("BULK-{:04}", 7000 + t))
        .bind(format!(
            "حرفه {}",
            skillcard_core::text::fa_num(t as u64 + 1)
        ))
        .bind(&now)
        .execute(&mut *w.tx)
        .await?;
    }
    sqlx::query(&format!(
        "CREATE TEMP TABLE bulk_centres (province_id {int} NOT NULL, c {int} NOT NULL, id {int} NOT NULL, \
         PRIMARY KEY (province_id, c))"
    ))
    .execute(&mut *w.tx)
    .await?;
    let centre_base = take("centres");
    for (i, (pid, code)) in provinces.iter().enumerate() {
        for c in 0..CENTRES {
            let id = centre_base + i as i64 * CENTRES + c;
            sqlx::query("INSERT INTO centres (id, province_id, code, name_fa, kind) VALUES ($1, $2, $3, $4, $5)")
                .bind(id)
                .bind(*pid)
                .bind(format!("BULK-{code}-{c}"))
                .bind(format!("مرکز آموزش فنی و حرفه‌ای شماره {}", skillcard_core::text::fa_num(c as u64 + 1)))
                .bind(if c == 0 { "public" } else { "private" })
                .execute(&mut *w.tx)
                .await?;
            sqlx::query("INSERT INTO bulk_centres (province_id, c, id) VALUES ($1, $2, $3)")
                .bind(*pid)
                .bind(c)
                .bind(id)
                .execute(&mut *w.tx)
                .await?;
        }
    }

    // Custody, from Rust: a shipment a year, a request a month, a handover per request.
    let last_month = jalali(today)?.month_of().previous();
    let months = YEARS * 12;
    let mut first_month = last_month;
    for _ in 1..months {
        first_month = first_month.previous();
    }
    let mut serial = FIRST_SERIAL;
    let mut segments = Vec::new();
    let mut report = BulkReport::default();
    for ((pid, code), share) in provinces.iter().zip(shares(&provinces, cards)) {
        let mut month = first_month;
        for y in 0..YEARS {
            let size = if y == YEARS - 1 {
                share - share / YEARS * (YEARS - 1)
            } else {
                share / YEARS
            };
            let month_of_year = month;
            let arrive = gregorian(month_of_year)? - time::Duration::days(9);
            let sent = arrive - time::Duration::days(1);
            let shipment = take("shipments");
            sqlx::query(
                "INSERT INTO shipments (id, province_id, ref_no, declared_count, carrier, sent_on, sent_by, status, \
                 received_on, received_by, received_count, missing_count, damaged_count, deliverer_name, deliverer_title, \
                 receiver_name, receiver_title, remarks) \
                 VALUES ($1, $2, $3, $4, 'پست پیشتاز', $5, $6, 'received', $7, $6, $4, 0, 0, 'نماینده دفتر مرکزی', \
                 'کارشناس', 'مسئول حراست', 'حراست استان', '')",
            )
            .bind(shipment)
            .bind(*pid)
            .bind(format!("HQ-{code}-{}", month_of_year.label()))
            .bind(size)
            .bind(iso(sent))
            .bind(by_id)
            .bind(iso(arrive))
            .execute(&mut *w.tx)
            .await?;
            sqlx::query("INSERT INTO shipment_ranges (shipment_id, kind, first, last) VALUES ($1, 'shipped', $2, $3)")
                .bind(shipment)
                .bind(serial)
                .bind(serial + size - 1)
                .execute(&mut *w.tx)
                .await?;
            sqlx::query(
                "INSERT INTO receipt_notices (shipment_id, letter_no, letter_date, signer_name, signer_title, created_by, created_at) \
                 VALUES ($1, $2, $3, 'مدیرکل', 'مدیرکل استان', $4, $5)",
            )
            .bind(shipment)
            .bind(format!("{code}/{shipment}"))
            .bind(iso(arrive))
            .bind(by_id)
            .bind(format!("{}T09:00:00Z", iso(arrive)))
            .execute(&mut *w.tx)
            .await?;
            let m = Movement {
                id: take("vault_movements"),
                province_id: *pid,
                on: arrive,
                first: serial,
                last: serial + size - 1,
            };
            m.record(&mut w, "in", "shipment", shipment).await?;
            sqlx::query(&format!(
                "INSERT INTO cards (serial, province_id, shipment_id, state) \
                 SELECT {serial} + k, {pid}, {shipment}, 'in_vault' FROM ({}) n",
                (d.numbers)(size)
            ))
            .execute(&mut *w.tx)
            .await?;
            report.shipments += 1;
            report.cards += size;

            let per_month = size / 12;
            let mut offset = 0;
            for m in 0..12 {
                let count = if m == 11 {
                    size - per_month * 11
                } else {
                    per_month
                };
                let index = y * 12 + m;
                let start = gregorian(month)?;
                let request = take("monthly_requests");
                let newest = index == months - 1;
                sqlx::query(
                    "INSERT INTO monthly_requests (id, province_id, month, count, cap, cap_basis, representative, \
                     requested_on, requested_by, handed_count, status) \
                     VALUES ($1, $2, $3, $4, $5, 'previous_month', 'نماینده اداره سنجش', $6, $7, $8, $9)",
                )
                .bind(request)
                .bind(*pid)
                .bind(month.key())
                .bind(count)
                .bind(count + count / 10)
                .bind(iso(start))
                .bind(by_id)
                .bind(if newest { 0 } else { count })
                .bind(if newest { "open" } else { "fulfilled" })
                .execute(&mut *w.tx)
                .await?;
                report.requests += 1;
                let first = serial + offset;
                offset += count;
                if newest {
                    month = month.next();
                    continue;
                }
                let handover = take("handovers");
                sqlx::query(
                    "INSERT INTO handovers (id, request_id, province_id, letter_no, handed_on, count, deliverer_name, \
                     deliverer_title, receiver_name, receiver_title, remarks, created_by) \
                     VALUES ($1, $2, $3, $4, $5, $6, 'مسئول حراست', 'حراست استان', 'کارشناس صدور', 'اداره سنجش', '', $7)",
                )
                .bind(handover)
                .bind(request)
                .bind(*pid)
                .bind(format!("{code}/H/{handover}"))
                .bind(iso(start))
                .bind(count)
                .bind(by_id)
                .execute(&mut *w.tx)
                .await?;
                sqlx::query(
                    "INSERT INTO handover_ranges (handover_id, first, last) VALUES ($1, $2, $3)",
                )
                .bind(handover)
                .bind(first)
                .bind(first + count - 1)
                .execute(&mut *w.tx)
                .await?;
                let m = Movement {
                    id: take("vault_movements"),
                    province_id: *pid,
                    on: start,
                    first,
                    last: first + count - 1,
                };
                m.record(&mut w, "out", "handover", handover).await?;
                // The office prints nearly all it received; the newest months' stock is still
                // partly on its shelf.
                let used = if index >= months - 3 {
                    count * 6 / 10
                } else {
                    count * 98 / 100
                };
                segments.push(Segment {
                    id: segments.len() as i64 + 1,
                    province_id: *pid,
                    handover_id: handover,
                    first,
                    count,
                    used,
                    month_start: start,
                    jalali_year: i64::from(month.year),
                });
                month = month.next();
            }
            serial += size;
        }
    }

    // The handed-over cards: with the office, then the used ones (below) on top.
    for s in &segments {
        sqlx::query("UPDATE cards SET state = 'with_office', handover_id = $1 WHERE serial >= $2 AND serial <= $3")
            .bind(s.handover_id)
            .bind(s.first)
            .bind(s.first + s.count - 1)
            .execute(&mut *w.tx)
            .await?;
    }

    // Per used card: its day, whether it was spoiled, when it was delivered.
    sqlx::query(&format!(
        "CREATE TEMP TABLE bulk_used (serial {int} PRIMARY KEY, province_id {int} NOT NULL, seg {int} NOT NULL, \
         k {int} NOT NULL, day TEXT NOT NULL, jyear {int} NOT NULL, spoiled {int} NOT NULL, delivered_on TEXT)"
    ))
    .execute(&mut *w.tx)
    .await?;
    let cutoff = iso(today - time::Duration::days(5));
    let today_iso = iso(today);
    for s in &segments {
        let start = format!("'{}'", iso(s.month_start));
        let day = (d.add_days)(&start, "k % 28");
        // h scrambles k: 2 % spoiled (never the segment's last card, whose certificate would
        // have no next card), 0.3 % never collected, ~5 % collected late, the rest within days;
        // a card registered in the last five days, or due back after today, is still here.
        let h = format!("((k * 7919 + {}) % 1000)", s.id * 31);
        let late = (d.add_days)(&start, &format!("k % 28 + 8 + {h} % 10"));
        let soon = (d.add_days)(&start, &format!("k % 28 + {h} % 6"));
        let spoiled = format!("({h} < 20 AND k < {})", s.used - 1);
        sqlx::query(&format!(
            "INSERT INTO bulk_used (serial, province_id, seg, k, day, jyear, spoiled, delivered_on) \
             SELECT {first} + k, {pid}, {seg}, k, {day}, {jy}, CASE WHEN {spoiled} THEN 1 ELSE 0 END, \
             CASE WHEN {spoiled} OR {day} > '{cutoff}' OR ({h} >= 20 AND {h} < 23) THEN NULL \
             WHEN {h} < 70 THEN (CASE WHEN {late} > '{today_iso}' THEN NULL ELSE {late} END) \
             ELSE {soon} END FROM ({nums}) n",
            first = s.first,
            pid = s.province_id,
            seg = s.id,
            jy = s.jalali_year,
            nums = (d.numbers)(s.used),
        ))
        .execute(&mut *w.tx)
        .await?;
    }

    // Candidates in lists of LIST_SIZE per segment, numbered in serial order.
    let cand_base = next_id["candidates"];
    let list_base = next_id["exam_lists"];
    sqlx::query(&format!(
        "CREATE TEMP TABLE bulk_cand (cand {int} PRIMARY KEY, serial {int} NOT NULL UNIQUE, province_id {int} NOT NULL, \
         seg {int} NOT NULL, lk {int} NOT NULL, day TEXT NOT NULL, jyear {int} NOT NULL, delivered_on TEXT)"
    ))
    .execute(&mut *w.tx)
    .await?;
    sqlx::query(&format!(
        "INSERT INTO bulk_cand (cand, serial, province_id, seg, lk, day, jyear, delivered_on) \
         SELECT {cand_base} + ROW_NUMBER() OVER (ORDER BY serial), serial, province_id, seg, \
         seg * 100000 + (ROW_NUMBER() OVER (PARTITION BY seg ORDER BY serial) - 1) / {LIST_SIZE}, day, jyear, delivered_on \
         FROM bulk_used WHERE spoiled = 0"
    ))
    .execute(&mut *w.tx)
    .await?;
    sqlx::query(&format!(
        "CREATE TEMP TABLE bulk_lists (lk {int} PRIMARY KEY, id {int} NOT NULL, province_id {int} NOT NULL, \
         day TEXT NOT NULL)"
    ))
    .execute(&mut *w.tx)
    .await?;
    sqlx::query(&format!(
        "INSERT INTO bulk_lists (lk, id, province_id, day) \
         SELECT lk, {list_base} + ROW_NUMBER() OVER (ORDER BY lk), MIN(province_id), MIN(day) FROM bulk_cand GROUP BY lk"
    ))
    .execute(&mut *w.tx)
    .await?;
    let exam_date = (d.add_days)("l.day", "-20");
    sqlx::query(&format!(
        "INSERT INTO exam_lists (id, province_id, centre_id, trade_id, exam_date, status, remarks, created_by, created_at) \
         SELECT l.id, l.province_id, bc.id, {trade_base} + l.lk % {TRADES}, {exam_date}, 'checked', '', {by_id}, \
         {exam_date} || 'T07:00:00Z' \
         FROM bulk_lists l JOIN bulk_centres bc ON bc.province_id = l.province_id AND bc.c = l.lk % {CENTRES}"
    ))
    .execute(&mut *w.tx)
    .await?;
    let first_names = "CASE c.cand % 8 WHEN 0 THEN 'علی' WHEN 1 THEN 'زهرا' WHEN 2 THEN 'محمد' WHEN 3 THEN 'فاطمه' \
                       WHEN 4 THEN 'حسین' WHEN 5 THEN 'مریم' WHEN 6 THEN 'رضا' ELSE 'سارا' END";
    let last_names = "CASE c.cand % 7 WHEN 0 THEN 'محمدی' WHEN 1 THEN 'حسینی' WHEN 2 THEN 'کریمی' WHEN 3 THEN 'رضایی' \
                      WHEN 4 THEN 'احمدی' WHEN 5 THEN 'موسوی' ELSE 'جعفری' END";
    sqlx::query(&format!(
        "INSERT INTO candidates (id, province_id, centre_id, trade_id, national_id, first_name, last_name, father_name, \
         birth_date, written_score, created_by, created_at, contact) \
         SELECT c.cand, c.province_id, e.centre_id, e.trade_id, {nid}, {first_names}, {last_names}, 'حسن', \
         '1998-03-21', 600 + c.cand % 400, {by_id}, e.created_at, '0912' || {phone} \
         FROM bulk_cand c JOIN bulk_lists l ON l.lk = c.lk JOIN exam_lists e ON e.id = l.id",
        nid = (d.padded)("c.cand", 10),
        phone = (d.padded)("c.cand % 10000000", 7),
    ))
    .execute(&mut *w.tx)
    .await?;
    let entry_base = next_id["exam_entries"];
    let cert_base = next_id["certificates"];
    sqlx::query(&format!(
        "INSERT INTO exam_entries (id, list_id, candidate_id, practical_score, decision, reason, decided_by, decided_at) \
         SELECT {entry_base} + c.cand - {cand_base}, l.id, c.cand, 700 + c.cand % 300, 'approved', '', {by_id}, l.day || 'T06:00:00Z' \
         FROM bulk_cand c JOIN bulk_lists l ON l.lk = c.lk"
    ))
    .execute(&mut *w.tx)
    .await?;
    let pay_base = next_id["payments"];
    sqlx::query(&format!(
        "INSERT INTO payments (id, candidate_id, kind, amount_rial, reference, source, recorded_by, created_at) \
         SELECT {pay_base} + c.cand - {cand_base}, c.cand, 'issuance', 3500000, 'BULK-' || {refn}, \
         CASE WHEN c.cand % 5 = 0 THEN 'bank_receipt' ELSE 'gateway' END, \
         CASE WHEN c.cand % 5 = 0 THEN {by_id} ELSE NULL END, c.day || 'T06:30:00Z' FROM bulk_cand c",
        refn = (d.padded)("c.cand", 10),
    ))
    .execute(&mut *w.tx)
    .await?;
    // Certificate numbers run per province and Solar Hijri year.
    sqlx::query(&format!(
        "INSERT INTO certificates (id, candidate_id, number, province_id, issued_year, final_score, issued_on, issued_by, status) \
         SELECT {cert_base} + c.cand - {cand_base}, c.cand, p.code || '-' || CAST(c.jyear AS TEXT) || '-B' || {seq}, c.province_id, c.jyear, \
         700 + c.cand % 300, c.day, {by_id}, 'issued' \
         FROM bulk_cand c JOIN provinces p ON p.id = c.province_id",
        seq = (d.padded)("c.cand", 8),
    ))
    .execute(&mut *w.tx)
    .await?;
    // One print per used card: a spoiled card's certificate took the segment's next card.
    let print_base = next_id["card_prints"];
    let at = |h: &str| format!("u.day || 'T{h}Z'");
    sqlx::query(&format!(
        "INSERT INTO card_prints (id, certificate_id, province_id, serial, status, chip_uid, credential, kid, inspected_at, \
         chip_verified_at, spoil_reason, created_by, created_at, finished_at, registered_on, delivered_at, delivery_method, \
         receiver, delivered_by) \
         SELECT {print_base} + 1 + u.serial - {FIRST_SERIAL}, \
         CASE WHEN u.spoiled = 1 \
         THEN {cert_base} - {cand_base} + (SELECT c2.cand FROM bulk_cand c2 WHERE c2.serial > u.serial ORDER BY c2.serial LIMIT 1) \
         ELSE {cert_base} - {cand_base} + c.cand END, \
         u.province_id, u.serial, CASE WHEN u.spoiled = 1 THEN 'spoiled' ELSE 'bound' END, {uid}, {cred}, 'bulk-1', \
         CASE WHEN u.spoiled = 1 THEN NULL ELSE {inspected} END, CASE WHEN u.spoiled = 1 THEN NULL ELSE {verified} END, \
         CASE WHEN u.spoiled = 1 THEN 'لکه جوهر روی چهره کارت' ELSE NULL END, {by_id}, {created}, {finished}, \
         CASE WHEN u.spoiled = 1 THEN NULL ELSE u.day END, \
         CASE WHEN u.delivered_on IS NULL THEN NULL ELSE u.delivered_on || 'T10:30:00Z' END, \
         CASE WHEN u.delivered_on IS NULL THEN NULL ELSE 'in_person' END, \
         CASE WHEN u.delivered_on IS NULL THEN NULL ELSE 'holder' END, \
         CASE WHEN u.delivered_on IS NULL THEN NULL ELSE {by_id} END \
         FROM bulk_used u LEFT JOIN bulk_cand c ON c.serial = u.serial",
        uid = d.chip_uid,
        cred = d.credential,
        inspected = at("08:10:00"),
        verified = at("08:12:00"),
        created = at("08:00:00"),
        finished = at("08:15:00"),
    ))
    .execute(&mut *w.tx)
    .await?;
    sqlx::query(
        "UPDATE cards SET state = CASE WHEN u.spoiled = 1 THEN 'spoiled' WHEN u.delivered_on IS NULL THEN 'bound' \
         ELSE 'delivered' END, issued_at = u.day FROM bulk_used u WHERE u.serial = cards.serial",
    )
    .execute(&mut *w.tx)
    .await?;
    let note_base = next_id["notifications"];
    sqlx::query(&format!(
        "INSERT INTO notifications (id, province_id, candidate_id, kind, recipient, body, status, attempts, next_attempt_at, \
         created_at, sent_at) \
         SELECT {note_base} + c.cand - {cand_base}, c.province_id, c.cand, 'card_ready', k.contact, \
         'کارت مهارت شما صادر شد و در اداره کل استان آماده تحویل است.', 'sent', 1, c.day || 'T08:16:00Z', \
         c.day || 'T08:16:00Z', c.day || 'T08:17:00Z' FROM bulk_cand c JOIN candidates k ON k.id = c.cand"
    ))
    .execute(&mut *w.tx)
    .await?;

    let counted = [
        "SELECT CAST(COUNT(*) AS BIGINT) FROM bulk_lists",
        "SELECT CAST(COUNT(*) AS BIGINT) FROM bulk_cand",
        "SELECT CAST(COUNT(*) AS BIGINT) FROM bulk_used",
        "SELECT CAST(COUNT(*) AS BIGINT) FROM bulk_used WHERE spoiled = 1",
        "SELECT CAST(COUNT(*) AS BIGINT) FROM bulk_used WHERE spoiled = 0 AND delivered_on IS NULL",
    ];
    let mut n = [0i64; 5];
    for (slot, sql) in n.iter_mut().zip(counted) {
        (*slot,) = sqlx::query_as(sql).fetch_one(&mut *w.tx).await?;
    }
    report.exam_lists = n[0];
    report.certificates = n[1];
    report.notices = n[1];
    report.prints = n[2];
    report.spoiled = n[3];
    report.undelivered = n[4];
    for table in ["bulk_used", "bulk_cand", "bulk_lists", "bulk_centres"] {
        sqlx::query(&format!("DROP TABLE {table}"))
            .execute(&mut *w.tx)
            .await?;
    }
    count_cards(&mut w.tx).await?;
    // Every registered card is in the transparency log, as the write paths leave it.
    report.logged = crate::transparency::log_registered_after(&mut w, print_base).await?;
    if store.backend() == Backend::Postgres {
        // The ids were given explicitly: move the sequences past them.
        for table in EXPLICIT_IDS {
            sqlx::query(&format!(
                "SELECT CAST(setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table})) AS BIGINT)"
            ))
            .fetch_one(&mut *w.tx)
            .await?;
        }
    }
    w.audit(
        Some(by),
        "bulk.load",
        "dataset",
        FIRST_SERIAL,
        None,
        json!(null),
        json!({
            "cards": report.cards, "shipments": report.shipments, "requests": report.requests,
            "exam_lists": report.exam_lists, "certificates": report.certificates, "prints": report.prints,
            "first_serial": FIRST_SERIAL, "years": YEARS,
        }),
    )
    .await?;
    w.commit().await?;
    report.elapsed = started.elapsed();
    Ok(report)
}

/// Counts every card again into `card_counts`: for cards written set-based, behind the moves
/// that keep the counts (this load, and the benches' own loaders).
pub async fn count_cards(conn: &mut sqlx::AnyConnection) -> Result<()> {
    sqlx::query("DELETE FROM card_counts")
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO card_counts (province_id, state, n) \
         SELECT province_id, state, COUNT(*) FROM cards GROUP BY province_id, state",
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}
