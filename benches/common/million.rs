//! A million registered cards, loaded with set-based SQL straight into a migrated database (a
//! recursive CTE on SQLite, `generate_series` on PostgreSQL), foreign keys checked: a trade, a
//! centre per province, one received shipment with its range, and per card its `cards` row,
//! candidate, certificate and `card_prints` row (status `bound`, a 160-byte placeholder
//! credential). The cards are spread evenly over every province and over the last `DAYS`
//! days; `UNDELIVERED_PCT` % of them (a scrambled pick) are not yet delivered. Shared by the
//! delivery and verification benches.

#![allow(dead_code)]

use super::Kind;
use anyhow::{bail, Result};
use skillcard_core::policy::Actor;
use skillcard_db::Store;

/// Registered cards loaded.
pub const CARDS: i64 = 1_000_000;
/// The first card serial.
pub const FIRST: i64 = 10_000_001;
/// Registrations spread over this many days, up to today.
pub const DAYS: i64 = 60;
/// Per cent of the cards left undelivered.
pub const UNDELIVERED_PCT: i64 = 3;

/// The SQL that differs between the backends.
pub struct Dialect {
    int: &'static str,
    /// The numbers 1..=CARDS as `n(i)`, ahead of an `INSERT … SELECT … FROM n`.
    numbers: String,
    /// The ISO date `days` (an SQL expression) before `today`.
    days_before: fn(&str, &str) -> String,
    /// `i` (an SQL expression) as a zero-padded decimal of `width` digits.
    padded: fn(&str, usize) -> String,
    chip_uid: &'static str,
    credential: &'static str,
}

pub fn dialect(kind: Kind) -> Dialect {
    match kind {
        Kind::Sqlite => Dialect {
            int: "INTEGER",
            numbers: format!(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {CARDS})"
            ),
            days_before: |today, days| format!("date('{today}', '-' || ({days}) || ' days')"),
            padded: |i, width| format!("printf('%0{width}d', {i})"),
            chip_uid: "x'04a1b2c3d4e5f6'",
            credential: "zeroblob(160)",
        },
        Kind::Postgres => Dialect {
            int: "BIGINT",
            numbers: format!(
                "WITH n(i) AS (SELECT * FROM generate_series(CAST(1 AS BIGINT), {CARDS}))"
            ),
            days_before: |today, days| {
                format!("to_char(DATE '{today}' - CAST({days} AS INTEGER), 'YYYY-MM-DD')")
            },
            padded: |i, width| format!("lpad(CAST({i} AS TEXT), {width}, '0')"),
            chip_uid: "decode('04a1b2c3d4e5f6', 'hex')",
            credential: "decode(repeat('00', 160), 'hex')",
        },
    }
}

/// Fills a migrated database with `CARDS` registered cards, in one transaction.
pub async fn load(store: &Store, kind: Kind, hq: &Actor, today: time::Date) -> Result<()> {
    let d = dialect(kind);
    let int = d.int;
    let hq_id = hq.user_id;
    let trade = store
        .create_trade(hq, "7421-10", "برق‌کار ساختمان")
        .await?
        .id;
    let mut tx = store.pool().begin().await?;
    if kind == Kind::Sqlite {
        sqlx::query("PRAGMA cache_size = -262144")
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query(
        "INSERT INTO centres (province_id, code, name_fa, kind) \
         SELECT id, 'BENCH-' || code, 'مرکز ' || name_fa, 'public' FROM provinces",
    )
    .execute(&mut *tx)
    .await?;
    let (shipment,): (i64,) = sqlx::query_as(&format!(
        "INSERT INTO shipments (province_id, ref_no, declared_count, carrier, sent_on, sent_by, status, \
         received_on, received_by, received_count, missing_count, damaged_count) \
         VALUES ((SELECT MIN(id) FROM provinces), 'BENCH-DELIVERY', {CARDS}, 'bench', '{today}', {hq_id}, \
         'received', '{today}', {hq_id}, {CARDS}, 0, 0) RETURNING id"
    ))
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query(&format!(
        "INSERT INTO shipment_ranges (shipment_id, kind, first, last) \
         VALUES ({shipment}, 'shipped', {FIRST}, {})",
        FIRST + CARDS - 1
    ))
    .execute(&mut *tx)
    .await?;

    // Card i (1-based) goes to the (i mod P)-th province, registered ((i / P) mod DAYS) days
    // ago, and stays undelivered for UNDELIVERED_PCT out of 100 values of a scrambled i.
    sqlx::query(&format!(
        "CREATE TEMP TABLE bench_map (k {int} PRIMARY KEY, province_id {int} NOT NULL, \
         code TEXT NOT NULL, centre_id {int} NOT NULL)"
    ))
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO bench_map (k, province_id, code, centre_id) \
         SELECT ROW_NUMBER() OVER (ORDER BY p.id) - 1, p.id, p.code, c.id \
         FROM provinces p JOIN centres c ON c.province_id = p.id AND c.code = 'BENCH-' || p.code",
    )
    .execute(&mut *tx)
    .await?;
    let (provinces,): (i64,) = sqlx::query_as("SELECT CAST(COUNT(*) AS BIGINT) FROM bench_map")
        .fetch_one(&mut *tx)
        .await?;
    if provinces == 0 {
        bail!("no provinces after migration");
    }
    let registered = (d.days_before)(&today.to_string(), &format!("(n.i / {provinces}) % {DAYS}"));
    sqlx::query(&format!(
        "CREATE TEMP TABLE bench_rows (i {int} PRIMARY KEY, province_id {int} NOT NULL, code TEXT NOT NULL, \
         centre_id {int} NOT NULL, registered_on TEXT NOT NULL, delivered_at TEXT)"
    ))
    .execute(&mut *tx)
    .await?;
    sqlx::query(&format!(
        "{numbers} INSERT INTO bench_rows (i, province_id, code, centre_id, registered_on, delivered_at) \
         SELECT n.i, m.province_id, m.code, m.centre_id, {registered}, \
         CASE WHEN ((n.i * 7919) % 10007) % 100 < {UNDELIVERED_PCT} THEN NULL \
         ELSE {registered} || 'T10:30:00Z' END \
         FROM n JOIN bench_map m ON m.k = n.i % {provinces}",
        numbers = d.numbers,
    ))
    .execute(&mut *tx)
    .await?;
    sqlx::query(&format!(
        "INSERT INTO cards (serial, province_id, shipment_id, state, handover_id, issued_at) \
         SELECT {FIRST} - 1 + i, province_id, {shipment}, \
         CASE WHEN delivered_at IS NULL THEN 'bound' ELSE 'delivered' END, NULL, registered_on \
         FROM bench_rows ORDER BY i"
    ))
    .execute(&mut *tx)
    .await?;
    skillcard_db::bulk::count_cards(&mut tx).await?;
    sqlx::query(&format!(
        "INSERT INTO candidates (id, province_id, centre_id, trade_id, national_id, first_name, last_name, \
         father_name, birth_date, written_score, created_by, created_at) \
         SELECT i, province_id, centre_id, {trade}, {national_id}, 'نام' || i, 'کریمی', 'حسن', '2001-04-04', \
         700, {hq_id}, registered_on || 'T06:00:00Z' FROM bench_rows ORDER BY i",
        national_id = (d.padded)("i", 10),
    ))
    .execute(&mut *tx)
    .await?;
    sqlx::query(&format!(
        "INSERT INTO certificates (id, candidate_id, number, province_id, issued_year, final_score, issued_on, \
         issued_by, status) \
         SELECT i, i, code || '-1405-' || {seq}, province_id, 1405, 850, registered_on, {hq_id}, 'issued' \
         FROM bench_rows ORDER BY i",
        seq = (d.padded)(&format!("i / {provinces} + 1"), 6),
    ))
    .execute(&mut *tx)
    .await?;
    sqlx::query(&format!(
        "INSERT INTO card_prints (id, certificate_id, province_id, serial, status, chip_uid, credential, kid, \
         inspected_at, chip_verified_at, created_by, created_at, finished_at, registered_on, delivered_at, \
         delivery_method, receiver, delivered_by) \
         SELECT i, i, province_id, {FIRST} - 1 + i, 'bound', {uid}, {credential}, 'bench-1', \
         registered_on || 'T09:00:00Z', registered_on || 'T09:00:00Z', {hq_id}, registered_on || 'T08:00:00Z', \
         registered_on || 'T09:05:00Z', registered_on, delivered_at, \
         CASE WHEN delivered_at IS NULL THEN NULL ELSE 'in_person' END, \
         CASE WHEN delivered_at IS NULL THEN NULL ELSE 'holder' END, \
         CASE WHEN delivered_at IS NULL THEN NULL ELSE {hq_id} END \
         FROM bench_rows ORDER BY i",
        uid = d.chip_uid,
        credential = d.credential,
    ))
    .execute(&mut *tx)
    .await?;
    if kind == Kind::Postgres {
        // The ids were given explicitly: move the sequences past them.
        for table in ["candidates", "certificates", "card_prints"] {
            sqlx::query(&format!(
                "SELECT CAST(setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table})) AS BIGINT)"
            ))
            .fetch_one(&mut *tx)
            .await?;
        }
    }
    sqlx::query("DROP TABLE bench_rows")
        .execute(&mut *tx)
        .await?;
    sqlx::query("DROP TABLE bench_map")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}
