//! The query plans of every list read, so a test (and the `pages` bench) can prove that each
//! seeks an index instead of reading a big table whole. The SQL comes from the same builders the
//! store runs (`*_query` beside each list read), with a cursor bound, for a province reader and
//! a national one, with and without a status.

use crate::views::{Cursor, Terms};
use crate::{Backend, Result, Store};
use skillcard_core::cases::CaseStatus;
use skillcard_core::custody::{RequestStatus, ShipmentStatus};
use skillcard_core::exam::ListStatus;
use skillcard_core::notice::NoticeStatus;
use skillcard_core::printing::PrintStatus;
use skillcard_core::search::SearchQuery;

/// One list read, ready to explain.
pub struct ListQuery {
    pub name: String,
    pub sql: String,
    terms: Terms,
    /// Bound as a keyset page (`bind_page`); otherwise the limit is in the SQL.
    cursor: Option<Cursor>,
    /// The rows come in index order (no sort of the matches); false where the matches are few
    /// by construction (exact-match searches).
    pub ordered_by_index: bool,
    /// The read has a filter, so it must seek, not walk, its first table.
    pub filtered: bool,
}

/// Tables small enough to read whole (reference data).
const SMALL: [&str; 5] = ["provinces", "trades", "centres", "pass_policies", "fees"];

/// Every list read in its variants for a reader of `province` (`None`: national).
pub fn list_queries(province: Option<i64>) -> Vec<ListQuery> {
    let cursor = Cursor {
        before: Some(1_000_000_000),
        limit: 50,
    };
    let mut out = Vec::new();
    let mut add = |name: String, (sql, terms): (String, Terms), ordered: bool, paged: bool| {
        out.push(ListQuery {
            filtered: !terms.is_empty() || paged,
            name,
            sql,
            terms,
            cursor: paged.then_some(cursor),
            ordered_by_index: ordered,
        });
    };
    let who = if province.is_some() {
        "province"
    } else {
        "national"
    };
    for (table, status) in [
        ("shipments", Some(ShipmentStatus::InTransit.as_str())),
        ("shipments", None),
        ("monthly_requests", Some(RequestStatus::Open.as_str())),
        ("monthly_requests", None),
        ("cases", Some(CaseStatus::SentToHq.as_str())),
        ("cases", None),
        ("delivery_lists", None),
    ] {
        add(
            format!("{who} {table} {status:?}"),
            crate::scoped_query(table, province, status, cursor),
            true,
            true,
        );
    }
    for status in ShipmentStatus::ALL {
        add(
            format!("{who} shipment summaries {status:?}"),
            crate::custody::shipment_summary_query(province, status, cursor),
            true,
            true,
        );
    }
    for status in [None, Some(ListStatus::Checked)] {
        add(
            format!("{who} exam lists {status:?}"),
            crate::exams::exam_list_query(province, status, cursor),
            true,
            true,
        );
    }
    for status in [PrintStatus::Printing, PrintStatus::Bound] {
        add(
            format!("{who} prints {status:?}"),
            crate::printing::print_page_query(province, status, cursor),
            true,
            true,
        );
    }
    for status in [None, Some(NoticeStatus::Failed)] {
        add(
            format!("{who} notices {status:?}"),
            crate::notify::notification_query(province, status, cursor),
            true,
            true,
        );
    }
    add(
        format!("{who} audit"),
        crate::custody::audit_query(province, None, cursor),
        true,
        true,
    );
    add(
        format!("{who} audit of one record"),
        crate::custody::audit_query(province, Some(("shipment", "1")), cursor),
        true,
        true,
    );
    for (overdue, unlisted, after) in [
        (false, false, None),
        (true, false, None),
        (false, true, Some(1)),
    ] {
        add(
            format!("{who} undelivered overdue={overdue} unlisted={unlisted}"),
            crate::delivery::undelivered_query(
                province,
                overdue.then_some("2026-01-01"),
                unlisted,
                after,
                50,
            ),
            true,
            false,
        );
    }
    add(
        format!("{who} certificates due"),
        crate::exams::certificates_due_query(province, 50),
        true,
        false,
    );
    add(
        format!("{who} certificates awaiting a card"),
        crate::printing::awaiting_card_query(province, 50),
        true,
        false,
    );
    for (text, ordered) in [
        ("0012345678", false),
        ("100000123", false),
        ("THR-1405-000123", false),
        ("محمدی", true),
        ("علی محمدی", true),
    ] {
        if let Ok(q) = SearchQuery::parse(text) {
            if let Some(built) = crate::search::search_query(province, &q, cursor) {
                add(format!("{who} search {text}"), built, ordered, true);
            }
        }
    }
    out
}

impl Store {
    /// The plan the database chooses for `q`, one line per step. On PostgreSQL sequential scans
    /// and sorts are priced out first, so what remains is what no index can serve.
    pub async fn explain(&self, q: ListQuery) -> Result<Vec<String>> {
        let mut tx = self.pool.begin().await?;
        let lines = match self.backend() {
            Backend::Sqlite => {
                let sql = format!("EXPLAIN QUERY PLAN {}", q.sql);
                let query = sqlx::query_as::<_, (i64, i64, i64, String)>(&sql);
                let query = match q.cursor {
                    Some(c) => q.terms.bind_page(query, c),
                    None => q.terms.bind(query),
                };
                query
                    .fetch_all(&mut *tx)
                    .await?
                    .into_iter()
                    .map(|r| r.3)
                    .collect()
            }
            Backend::Postgres => {
                for set in [
                    "SET LOCAL enable_seqscan = off",
                    "SET LOCAL enable_sort = off",
                ] {
                    sqlx::query(set).execute(&mut *tx).await?;
                }
                let sql = format!("EXPLAIN {}", q.sql);
                let query = sqlx::query_as::<_, (String,)>(&sql);
                let query = match q.cursor {
                    Some(c) => q.terms.bind_page(query, c),
                    None => q.terms.bind(query),
                };
                query
                    .fetch_all(&mut *tx)
                    .await?
                    .into_iter()
                    .map(|r| r.0)
                    .collect()
            }
        };
        tx.rollback().await?;
        Ok(lines)
    }
}

/// What in a plan reads a big table whole or sorts every match: empty when the read seeks its
/// indexes. `ordered_by_index` and `filtered` are the query's (`ListQuery`).
pub fn full_reads(
    backend: Backend,
    plan: &[String],
    ordered_by_index: bool,
    filtered: bool,
) -> Vec<String> {
    let small = |line: &str| {
        SMALL
            .iter()
            .any(|t| line.contains(&format!(" {t} ")) || line.ends_with(&format!(" {t}")))
    };
    let mut bad = Vec::new();
    match backend {
        Backend::Sqlite => {
            let mut first = true;
            for line in plan {
                let l = line.trim();
                if l.contains("TEMP B-TREE") && ordered_by_index {
                    bad.push(l.to_string());
                }
                if l.starts_with("SCAN ") && !small(l) && (filtered || !first) {
                    bad.push(l.to_string());
                }
                if l.starts_with("SCAN ") || l.starts_with("SEARCH ") {
                    first = false;
                }
            }
        }
        Backend::Postgres => {
            for line in plan {
                let l = line.trim();
                let node = l.trim_start_matches("->").trim();
                if node.starts_with("Seq Scan on ") && !small(node) {
                    bad.push(l.to_string());
                }
                if ordered_by_index
                    && (node.starts_with("Sort") || node.starts_with("Incremental Sort"))
                {
                    bad.push(l.to_string());
                }
            }
        }
    }
    bad
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_scan_of_a_big_table_or_a_sort_of_every_match_is_named() {
        let seek = lines(&[
            "SEARCH l USING INDEX exam_lists_province (province_id=? AND rowid<?)",
            "SEARCH c USING INTEGER PRIMARY KEY (rowid=?)",
            "SCAN provinces",
        ]);
        assert!(full_reads(Backend::Sqlite, &seek, true, true).is_empty());
        let walk = lines(&["SCAN cards", "USE TEMP B-TREE FOR ORDER BY"]);
        assert_eq!(full_reads(Backend::Sqlite, &walk, true, true).len(), 2);
        assert_eq!(full_reads(Backend::Sqlite, &walk, false, true).len(), 1);
        // Unfiltered, the first table may be walked in index order: LIMIT stops it.
        let newest = lines(&["SCAN s", "SEARCH r USING INDEX x (shipment_id=?)"]);
        assert!(full_reads(Backend::Sqlite, &newest, true, false).is_empty());
        let inner = lines(&["SEARCH s USING INDEX x (province_id=?)", "SCAN r"]);
        assert_eq!(full_reads(Backend::Sqlite, &inner, true, true).len(), 1);

        let pg = lines(&[
            "Limit  (cost=0.29..8.31 rows=1 width=8)",
            "  ->  Sort  (cost=1.1..1.2 rows=1 width=8)",
            "        ->  Seq Scan on cards c  (cost=0.00..1.01 rows=1 width=8)",
            "        ->  Seq Scan on provinces p  (cost=0.00..1.01 rows=1 width=8)",
        ]);
        assert_eq!(full_reads(Backend::Postgres, &pg, true, true).len(), 2);
        assert_eq!(full_reads(Backend::Postgres, &pg, false, true).len(), 1);
    }
}
