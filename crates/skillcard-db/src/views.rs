//! What reads return: plain serialisable records for the API, the pages and the documents.
//! Dates are given both as ISO (for machines) and as Solar Hijri with Persian digits (`*_fa`).

use crate::{Result, StoreError};
use serde::Serialize;
use skillcard_core::custody::{CapBasis, RequestStatus, ShipmentStatus};
use skillcard_core::date::fa_date;
use skillcard_core::ledger::Direction;
use skillcard_core::serial::SerialRange;
use skillcard_core::workflow::NextActions;
use utoipa::ToSchema;

/// A state word read from a column, as the core's enum: the decoding layer, the one place
/// above SQL where a status is a string. The schema guards the columns (`crate::guards`), so
/// an unknown word means the database was changed behind the store's back.
pub(crate) fn state<T>(column: &str, word: &str, parse: impl Fn(&str) -> Option<T>) -> Result<T> {
    parse(word).ok_or_else(|| StoreError::Corrupt(format!("{column} {word:?}")))
}

/// The most rows one page of a list holds.
pub const PAGE_MAX: i64 = 200;

/// One page of a list, newest first, and where the next one starts (keyset paging: the cursor
/// is the last row's id, so a page costs the same however deep it is).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    pub next_before: Option<i64>,
}

impl<T> Page<T> {
    /// A page from up to `limit + 1` rows read newest first: the extra row only says there is
    /// more.
    pub fn from_rows(mut rows: Vec<T>, limit: i64, id: impl Fn(&T) -> i64) -> Self {
        let more = rows.len() as i64 > limit;
        rows.truncate(limit.max(0) as usize);
        let next_before = if more { rows.last().map(&id) } else { None };
        Page {
            items: rows,
            next_before,
        }
    }
}

/// Where a page starts and how long it is: the previous page's `next_before` (none for the
/// newest page) and at most `limit` rows (clamped to `1..=PAGE_MAX`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub before: Option<i64>,
    pub limit: i64,
}

impl Cursor {
    /// The newest `limit` rows.
    pub fn first(limit: i64) -> Self {
        Cursor {
            before: None,
            limit,
        }
    }

    pub(crate) fn clamped(self) -> i64 {
        self.limit.clamp(1, PAGE_MAX)
    }
}

impl Default for Cursor {
    fn default() -> Self {
        Cursor::first(50)
    }
}

/// A value bound to one term of a list read.
enum Param {
    Int(i64),
    Text(String),
}

/// The WHERE clause of a list read, built term by term: each query names only the columns it
/// filters on, so it can seek the index that leads with them (a `($1 IS NULL OR col = $1)`
/// term makes the planner give that up). Placeholders are numbered in order, as PostgreSQL
/// wants every parameter it is sent to appear.
#[derive(Default)]
pub(crate) struct Terms {
    sql: Vec<String>,
    params: Vec<Param>,
}

impl Terms {
    pub fn new() -> Self {
        Terms::default()
    }

    /// `sql` holds one `?`, bound to `value` when there is one; no value, no term.
    pub fn int(mut self, sql: &str, value: Option<i64>) -> Self {
        if let Some(v) = value {
            self.push(sql, Param::Int(v));
        }
        self
    }

    pub fn text(mut self, sql: &str, value: Option<&str>) -> Self {
        if let Some(v) = value {
            self.push(sql, Param::Text(v.to_string()));
        }
        self
    }

    /// `(a OR b)`: one text and one integer reading of the same input.
    pub fn text_or_int(mut self, a: &str, text: &str, b: &str, int: i64) -> Self {
        self.params.push(Param::Text(text.to_string()));
        let a = a.replace('?', &format!("${}", self.params.len()));
        self.params.push(Param::Int(int));
        let b = b.replace('?', &format!("${}", self.params.len()));
        self.sql.push(format!("({a} OR {b})"));
        self
    }

    pub fn is_empty(&self) -> bool {
        self.sql.is_empty()
    }

    /// A term without a parameter.
    pub fn when(mut self, sql: &str, on: bool) -> Self {
        if on {
            self.sql.push(sql.to_string());
        }
        self
    }

    fn push(&mut self, sql: &str, param: Param) {
        self.params.push(param);
        self.sql
            .push(sql.replace('?', &format!("${}", self.params.len())));
    }

    /// `WHERE …` (or nothing), then the keyset order and limit: `id` is the cursor column,
    /// newest first.
    pub fn page_sql(&self, id: &str, cursor: Cursor) -> String {
        let mut sql = self.sql.clone();
        let mut n = self.params.len();
        if cursor.before.is_some() {
            n += 1;
            sql.push(format!("{id} < ${n}"));
        }
        let filter = if sql.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", sql.join(" AND "))
        };
        format!("{filter} ORDER BY {id} DESC LIMIT ${}", n + 1)
    }

    /// `WHERE …` (or nothing), for counts and unpaged reads.
    pub fn where_sql(&self) -> String {
        if self.sql.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.sql.join(" AND "))
        }
    }

    /// `WHERE …` with `fixed`, a condition without parameters every row must meet, after the
    /// terms (a partial index's own condition, say).
    pub fn where_sql_and(&self, fixed: &str) -> String {
        if self.sql.is_empty() {
            format!("WHERE {fixed}")
        } else {
            format!("WHERE {} AND {fixed}", self.sql.join(" AND "))
        }
    }

    /// Binds the terms' values in order; for a page, then the cursor and `limit + 1` (the
    /// extra row says there is more: `Page::from_rows`).
    pub fn bind<'q, O>(
        self,
        mut query: sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>> {
        for p in self.params {
            query = match p {
                Param::Int(v) => query.bind(v),
                Param::Text(v) => query.bind(v),
            };
        }
        query
    }

    pub fn bind_page<'q, O>(
        self,
        query: sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>>,
        cursor: Cursor,
    ) -> sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>> {
        let mut query = self.bind(query);
        if let Some(b) = cursor.before {
            query = query.bind(b);
        }
        query.bind(cursor.clamped() + 1)
    }
}

/// One page of a list read oldest first (a work queue), and where the next one starts.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Queue<T> {
    pub items: Vec<T>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next_after: Option<i64>,
}

impl<T> Queue<T> {
    /// A page from up to `limit + 1` rows read in queue order.
    pub fn from_rows(mut rows: Vec<T>, limit: i64, id: impl Fn(&T) -> i64) -> Self {
        let more = rows.len() as i64 > limit;
        rows.truncate(limit.max(0) as usize);
        let next_after = if more { rows.last().map(&id) } else { None };
        Queue {
            items: rows,
            next_after,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct RangeView {
    pub first: u64,
    pub last: u64,
    pub count: u64,
}

impl From<SerialRange> for RangeView {
    fn from(r: SerialRange) -> Self {
        RangeView {
            first: r.first(),
            last: r.last(),
            count: r.len(),
        }
    }
}

pub(crate) fn ranges(rs: &[SerialRange]) -> Vec<RangeView> {
    rs.iter().copied().map(RangeView::from).collect()
}

pub(crate) fn iso_fa(iso: &str) -> String {
    iso_date(iso).map_or_else(|| iso.to_string(), fa_date)
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProvinceView {
    pub id: i64,
    pub code: String,
    pub name_fa: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ShipmentView {
    pub id: i64,
    pub province_id: i64,
    pub province_name: String,
    pub ref_no: String,
    pub declared_count: u64,
    pub carrier: String,
    pub sent_on: String,
    pub sent_on_fa: String,
    /// `in_transit` or `received`.
    #[schema(value_type = String)]
    pub status: ShipmentStatus,
    /// What the reader can do with it now, and what it waits for from others.
    #[schema(value_type = Object)]
    pub next_actions: NextActions,
    pub ranges: Vec<RangeView>,
    pub receipt: Option<ReceiptView>,
    pub receipt_notice: Option<ReceiptNoticeView>,
}

/// A shipment as a work queue lists it: no ranges, no minutes (see `Store::shipment_summaries`).
#[derive(Debug, Clone, Serialize)]
pub struct ShipmentSummary {
    pub id: i64,
    pub province_id: i64,
    pub province_name: String,
    pub ref_no: String,
    pub declared_count: u64,
    pub status: ShipmentStatus,
    /// Cards missing or damaged on arrival, once received.
    pub discrepancy: u64,
    pub next_actions: NextActions,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReceiptView {
    pub received_on: String,
    pub received_on_fa: String,
    pub received_count: u64,
    pub missing_count: u64,
    pub damaged_count: u64,
    pub missing: Vec<RangeView>,
    pub damaged: Vec<RangeView>,
    pub deliverer_name: String,
    pub deliverer_title: String,
    pub receiver_name: String,
    pub receiver_title: String,
    pub remarks: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReceiptNoticeView {
    pub letter_no: String,
    pub letter_date: String,
    pub letter_date_fa: String,
    pub signer_name: String,
    pub signer_title: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LedgerRowView {
    pub date: String,
    pub date_fa: String,
    /// `in` or `out`.
    #[schema(value_type = String)]
    pub direction: Direction,
    pub first: u64,
    pub last: u64,
    pub count: u64,
    pub balance: i64,
    /// `shipment` or `handover`, with its id.
    pub source: String,
    pub source_id: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LedgerView {
    pub province_id: i64,
    pub province_name: String,
    pub from: Option<String>,
    pub to: Option<String>,
    pub opening_balance: i64,
    pub rows: Vec<LedgerRowView>,
    pub closing_balance: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InspectionView {
    pub id: i64,
    pub province_id: i64,
    pub inspected_at: String,
    pub inspected_on_fa: String,
    pub temperature_c: f64,
    pub humidity_pct: f64,
    /// The Note 1 checklist as recorded.
    #[schema(value_type = Object)]
    pub checklist: serde_json::Value,
    /// Codes of the departures from Note 1; empty when all is well.
    pub flags: Vec<String>,
    pub flag_labels_fa: Vec<String>,
    pub flagged: bool,
    pub notes: String,
    pub inspector_name: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CapView {
    pub province_id: i64,
    pub month: i64,
    pub month_label: String,
    pub cap: u64,
    /// `previous_month` or `baseline`.
    #[schema(value_type = String)]
    pub basis: CapBasis,
    pub issued_previous_month: u64,
    pub override_max: Option<u64>,
    pub override_reason: Option<String>,
    /// What a request may ask for this month.
    pub effective: u64,
    pub existing_request_id: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RequestView {
    pub id: i64,
    pub province_id: i64,
    pub province_name: String,
    pub month: i64,
    pub month_label: String,
    pub count: u64,
    pub cap: u64,
    #[schema(value_type = String)]
    pub cap_basis: CapBasis,
    pub representative: String,
    pub requested_on: String,
    pub requested_on_fa: String,
    pub requested_by_name: String,
    pub requested_by_title: String,
    pub handed_count: u64,
    /// `open` or `fulfilled`.
    #[schema(value_type = String)]
    pub status: RequestStatus,
    #[schema(value_type = Object)]
    pub next_actions: NextActions,
    pub handover_ids: Vec<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HandoverView {
    pub id: i64,
    pub request_id: i64,
    pub province_id: i64,
    pub province_name: String,
    pub letter_no: String,
    pub handed_on: String,
    pub handed_on_fa: String,
    pub request_date: String,
    pub request_date_fa: String,
    pub count: u64,
    pub ranges: Vec<RangeView>,
    pub deliverer_name: String,
    pub deliverer_title: String,
    pub receiver_name: String,
    pub receiver_title: String,
    pub remarks: String,
}

/// Card counts per state for one province.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct StockView {
    pub province_id: i64,
    pub province_name: String,
    pub in_transit: u64,
    pub in_vault: u64,
    pub with_office: u64,
    pub missing_on_arrival: u64,
    pub damaged_on_arrival: u64,
    /// Taken for a print not yet registered.
    pub printing: u64,
    /// Registered, with the office or handed to the holder.
    pub issued: u64,
    /// Damaged at printing.
    pub spoiled: u64,
    /// Registered, then damaged and held under a case.
    pub damaged: u64,
    /// Voided for a replacement (Note 4).
    pub void: u64,
    /// On their way back to HQ with the minutes.
    pub sent_to_hq: u64,
    /// Recorded by HQ as arrived.
    pub at_hq: u64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditView {
    pub seq: i64,
    pub at: String,
    pub actor_name: Option<String>,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub province_id: Option<i64>,
    /// `null` for a record that created something.
    #[schema(value_type = Object, nullable)]
    pub before: serde_json::Value,
    #[schema(value_type = Object)]
    pub after: serde_json::Value,
}

/// A date stored as ISO text (`2026-12-10`), if it is one.
pub(crate) fn iso_date(s: &str) -> Option<time::Date> {
    time::Date::parse(s, &time::format_description::well_known::Iso8601::DATE).ok()
}

/// Today in Tehran, the day an office works in.
pub(crate) fn today() -> time::Date {
    skillcard_core::date::tehran_date(time::OffsetDateTime::now_utc())
}
