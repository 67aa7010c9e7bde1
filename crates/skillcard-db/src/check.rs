//! `skillcard check`: the audit chain and the custody invariants, verified from the data itself.

use crate::{Result, Store, StoreError};
use serde::Serialize;
use skillcard_core::audit::{verify_chain_from, AuditRecord, ChainCursor};
use skillcard_core::card::CardState;
use skillcard_core::custody::{check_province, ProvinceCounts, Violation};
use skillcard_core::printing::{card_state_fits, PrintStatus};
use skillcard_core::serial::{self, SerialRange};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    pub audit_records: i64,
    pub cards: u64,
    pub provinces: usize,
    /// The first broken link of the audit chain, if any.
    pub chain_error: Option<String>,
    pub violations: Vec<Violation>,
}

impl CheckReport {
    pub fn is_ok(&self) -> bool {
        self.chain_error.is_none() && self.violations.is_empty()
    }
}

/// Audit records read per page by `check`.
const AUDIT_PAGE: i64 = 10_000;

/// The audit records after `after` up to `upto`, in order, one page.
async fn audit_page(
    conn: &mut sqlx::AnyConnection,
    after: i64,
    upto: i64,
) -> Result<Vec<AuditRecord>> {
    #[allow(clippy::type_complexity)]
    let rows: Vec<(i64, String, Option<i64>, String, String, String, Option<i64>, String, String, String, String)> =
        sqlx::query_as(
            "SELECT seq, at, actor_id, action, entity, entity_id, province_id, before, after, prev_hash, hash \
             FROM audit_log WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3",
        )
        .bind(after)
        .bind(upto)
        .bind(AUDIT_PAGE)
        .fetch_all(&mut *conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(
            |(
                seq,
                at,
                actor_id,
                action,
                entity,
                entity_id,
                province_id,
                before,
                after,
                prev_hash,
                hash,
            )| {
                AuditRecord {
                    seq,
                    at,
                    actor_id,
                    action,
                    entity,
                    entity_id,
                    province_id,
                    before,
                    after,
                    prev_hash,
                    hash,
                }
            },
        )
        .collect())
}

/// a registered card's holder data cannot change after printing. The claims signed into
/// its credential (bound to the transparency log, so they cannot be swapped unseen) are what
/// was printed; each registered card's holder record must still say the same. Bulk-loaded
/// history carries a placeholder (zero bytes) instead of a credential and is not compared.
/// Read a page of prints at a time; returns one line per card that differs (at most 20).
async fn printed_data_changes(conn: &mut sqlx::AnyConnection) -> Result<Vec<String>> {
    const PAGE: i64 = 5_000;
    const NAMED: usize = 20;
    let mut problems = Vec::new();
    let mut unnamed = 0u64;
    let mut after = 0i64;
    loop {
        #[allow(clippy::type_complexity)]
        let rows: Vec<(i64, i64, Vec<u8>, String, String, String, String)> = sqlx::query_as(
            "SELECT p.id, p.serial, p.credential, k.first_name, k.last_name, k.father_name, k.national_id \
             FROM card_prints p JOIN certificates c ON c.id = p.certificate_id \
             JOIN candidates k ON k.id = c.candidate_id \
             WHERE p.status = 'bound' AND p.id > $1 ORDER BY p.id LIMIT $2",
        )
        .bind(after)
        .bind(PAGE)
        .fetch_all(&mut *conn)
        .await?;
        let Some(last) = rows.last() else { break };
        after = last.0;
        for (id, serial, credential, first, last_name, father, national_id) in rows {
            if credential.iter().all(|b| *b == 0) {
                continue;
            }
            let differs = match skillcard_credential::read_claims(&credential) {
                Err(e) => vec![format!("its credential cannot be read ({e})")],
                Ok(c) => [
                    ("first_name", first, c.given_name),
                    ("last_name", last_name, c.family_name),
                    ("father_name", father, c.father_name),
                    ("national_id", national_id, c.national_id),
                ]
                .into_iter()
                .filter(|(_, now, printed)| now != printed)
                .map(|(field, now, printed)| {
                    format!("{field} is {now:?}, the card says {printed:?}")
                })
                .collect(),
            };
            if differs.is_empty() {
                continue;
            }
            if problems.len() < NAMED {
                problems.push(format!(
                    "card print {id} (serial {serial}): {}",
                    differs.join(", ")
                ));
            } else {
                unnamed += 1;
            }
        }
    }
    if unnamed > 0 {
        problems.push(format!("and {unnamed} more registered cards"));
    }
    Ok(problems)
}

fn global(invariant: &'static str, detail: String) -> Violation {
    Violation {
        invariant,
        province_id: None,
        detail,
    }
}

impl Store {
    /// Verifies everything that must hold at every moment. Runs read-only; safe on a live system.
    pub async fn check(&self) -> Result<CheckReport> {
        let mut conn = self.pool.acquire().await?;
        let mut violations = Vec::new();

        // The chain up to the head as it is now (later writes are the next check's), a page at
        // a time so memory stays flat however long the chain.
        let (head_seq, head_hash): (i64, String) =
            sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1")
                .fetch_one(&mut *conn)
                .await?;
        let mut cursor = ChainCursor::genesis();
        let mut chain_error = None;
        loop {
            let page = audit_page(&mut conn, cursor.last, head_seq).await?;
            if page.is_empty() {
                break;
            }
            match verify_chain_from(cursor.clone(), &page) {
                Ok(next) => cursor = next,
                Err(e) => {
                    chain_error = Some(e.to_string());
                    break;
                }
            }
        }
        if chain_error.is_none() {
            if cursor.last != head_seq {
                chain_error = Some(
                    skillcard_core::audit::ChainError::Truncated {
                        head_seq,
                        last_seq: cursor.last,
                    }
                    .to_string(),
                );
            } else if cursor.prev != head_hash {
                chain_error = Some(format!("audit head hash does not match record {head_seq}"));
            }
        }
        // Records past the head: every write moves the head in the transaction that adds its
        // record, so (read after the head again) there are none unless written behind its back.
        let (max_seq,): (Option<i64>,) = sqlx::query_as("SELECT MAX(seq) FROM audit_log")
            .fetch_one(&mut *conn)
            .await?;
        let (head_now,): (i64,) = sqlx::query_as("SELECT seq FROM audit_head WHERE id = 1")
            .fetch_one(&mut *conn)
            .await?;
        if chain_error.is_none() && max_seq.unwrap_or(0) > head_now {
            chain_error = Some(format!(
                "audit records up to {} lie past the audit head ({head_now})",
                max_seq.unwrap_or(0)
            ));
        }

        // Every state stored is one the model knows.
        let states: Vec<(String, i64)> =
            sqlx::query_as("SELECT state, CAST(COUNT(*) AS BIGINT) FROM cards GROUP BY state")
                .fetch_all(&mut *conn)
                .await?;
        for (s, n) in &states {
            if CardState::parse(s).is_none() {
                violations.push(global(
                    "known_states",
                    format!("{n} cards in unknown state {s:?}"),
                ));
            }
        }
        let cards: u64 = states.iter().map(|(_, n)| *n as u64).sum();

        // Shipped ranges never overlap; every card lies in a range of its own shipment.
        let shipped: Vec<(i64, i64)> =
            sqlx::query_as("SELECT first, last FROM shipment_ranges WHERE kind = 'shipped'")
                .fetch_all(&mut *conn)
                .await?;
        let ranges: Vec<SerialRange> = shipped
            .iter()
            .map(|(f, l)| SerialRange::new(*f as u64, *l as u64))
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        if let Err(e) = serial::sorted_disjoint(ranges) {
            violations.push(global("ranges_disjoint", e.to_string()));
        }
        let (stray,): (i64,) = sqlx::query_as(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM cards c WHERE NOT EXISTS (SELECT 1 FROM shipment_ranges r \
             WHERE r.shipment_id = c.shipment_id AND r.kind = 'shipped' AND c.serial >= r.first AND c.serial <= r.last)",
        )
        .fetch_one(&mut *conn)
        .await?;
        if stray > 0 {
            violations.push(global(
                "cards_in_shipped_ranges",
                format!("{stray} cards outside their shipment's ranges"),
            ));
        }

        let mut per: BTreeMap<i64, ProvinceCounts> = BTreeMap::new();
        let by_state: Vec<(i64, String, i64)> =
            sqlx::query_as("SELECT province_id, state, CAST(COUNT(*) AS BIGINT) FROM cards GROUP BY province_id, state")
                .fetch_all(&mut *conn)
                .await?;
        // The maintained counts (what the stock view shows) equal the cards.
        let kept: Vec<(i64, String, i64)> =
            sqlx::query_as("SELECT province_id, state, n FROM card_counts WHERE n <> 0")
                .fetch_all(&mut *conn)
                .await?;
        let counted: BTreeMap<(i64, String), i64> = by_state
            .iter()
            .map(|(p, s, n)| ((*p, s.clone()), *n))
            .collect();
        let kept: BTreeMap<(i64, String), i64> =
            kept.into_iter().map(|(p, s, n)| ((p, s), n)).collect();
        if counted != kept {
            let differ: Vec<String> = counted
                .keys()
                .chain(kept.keys())
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .filter(|k| counted.get(k) != kept.get(k))
                .map(|(p, s)| {
                    format!(
                        "province {p} {s}: {} cards, {} counted",
                        counted.get(&(*p, s.clone())).unwrap_or(&0),
                        kept.get(&(*p, s.clone())).unwrap_or(&0)
                    )
                })
                .collect();
            violations.push(global("card_counts", differ.join("; ")));
        }
        // The clerk's queues (db/queues.rs) equal what the facts say is due.
        let wrong = crate::queues::marker_mismatches(&mut conn, 20).await?;
        if !wrong.is_empty() {
            let named: Vec<String> = wrong
                .iter()
                .map(|(column, id, kept)| format!("{column} of {id} is {kept}"))
                .collect();
            violations.push(global("work_queues", named.join("; ")));
        }
        for (p, state, n) in by_state {
            let c = per.entry(p).or_insert_with(|| ProvinceCounts {
                province_id: p,
                ..Default::default()
            });
            let n = n as u64;
            match CardState::parse(&state) {
                Some(CardState::InTransit) => c.in_transit = n,
                Some(CardState::InVault) => c.in_vault = n,
                Some(CardState::WithOffice) => c.with_office = n,
                Some(CardState::MissingOnArrival) => c.missing_on_arrival = n,
                Some(CardState::DamagedOnArrival) => c.damaged_on_arrival = n,
                Some(s) if s.is_used() => c.used += n,
                _ => {}
            }
        }
        type Setter = fn(&mut ProvinceCounts, i64);
        let sums: [(&str, Setter); 4] = [
            (
                "SELECT s.province_id, CAST(SUM(r.last - r.first + 1) AS BIGINT) FROM shipment_ranges r \
                 JOIN shipments s ON s.id = r.shipment_id WHERE r.kind = 'shipped' GROUP BY s.province_id",
                |c, n| c.shipped = n as u64,
            ),
            (
                "SELECT s.province_id, CAST(SUM(r.last - r.first + 1) AS BIGINT) FROM shipment_ranges r \
                 JOIN shipments s ON s.id = r.shipment_id WHERE r.kind = 'shipped' AND s.status = 'in_transit' GROUP BY s.province_id",
                |c, n| c.shipped_in_transit = n as u64,
            ),
            (
                "SELECT province_id, CAST(SUM(CASE WHEN direction = 'in' THEN last - first + 1 ELSE first - last - 1 END) AS BIGINT) \
                 FROM vault_movements GROUP BY province_id",
                |c, n| c.ledger_balance = n,
            ),
            (
                "SELECT h.province_id, CAST(SUM(r.last - r.first + 1) AS BIGINT) FROM handover_ranges r \
                 JOIN handovers h ON h.id = r.handover_id GROUP BY h.province_id",
                |c, n| c.handed_over = n as u64,
            ),
        ];
        for (sql, set) in sums {
            let rows: Vec<(i64, i64)> = sqlx::query_as(sql).fetch_all(&mut *conn).await?;
            for (p, n) in rows {
                set(
                    per.entry(p).or_insert_with(|| ProvinceCounts {
                        province_id: p,
                        ..Default::default()
                    }),
                    n,
                );
            }
        }
        let prints: Vec<(i64, String, i64)> = sqlx::query_as(
            "SELECT province_id, status, CAST(COUNT(*) AS BIGINT) FROM card_prints GROUP BY province_id, status",
        )
        .fetch_all(&mut *conn)
        .await?;
        for (p, status, n) in prints {
            let c = per.entry(p).or_insert_with(|| ProvinceCounts {
                province_id: p,
                ..Default::default()
            });
            match PrintStatus::parse(&status) {
                Some(_) => c.prints += n as u64,
                None => violations.push(global(
                    "known_states",
                    format!("{n} card prints in unknown status {status:?}"),
                )),
            }
        }
        // Each print's card is in a state that fits the print, in the print's province.
        let pairs: Vec<(String, i64, String, i64)> = sqlx::query_as(
            "SELECT p.status, CAST(CASE WHEN p.delivered_at IS NULL THEN 0 ELSE 1 END AS BIGINT), c.state, \
             CAST(COUNT(*) AS BIGINT) FROM card_prints p JOIN cards c ON c.serial = p.serial \
             GROUP BY p.status, CASE WHEN p.delivered_at IS NULL THEN 0 ELSE 1 END, c.state",
        )
        .fetch_all(&mut *conn)
        .await?;
        for (status, delivered, state, n) in pairs {
            let fits = match (PrintStatus::parse(&status), CardState::parse(&state)) {
                (Some(p), Some(c)) => card_state_fits(p, delivered == 1, c),
                _ => false,
            };
            if !fits {
                let handed = if delivered == 1 {
                    "delivered"
                } else {
                    "not delivered"
                };
                violations.push(global(
                    "print_card_state",
                    format!("{n} card prints {status:?} ({handed}) whose card is {state:?}"),
                ));
            }
        }
        let (astray,): (i64,) = sqlx::query_as(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM card_prints p JOIN cards c ON c.serial = p.serial \
             WHERE c.province_id <> p.province_id",
        )
        .fetch_one(&mut *conn)
        .await?;
        if astray > 0 {
            violations.push(global(
                "print_card_state",
                format!("{astray} card prints whose card is in another province"),
            ));
        }
        // One live card per certificate (the partial unique index enforces it; this proves it).
        let (doubled,): (i64,) = sqlx::query_as(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM (SELECT certificate_id FROM card_prints \
             WHERE status IN ('printing', 'bound') GROUP BY certificate_id HAVING COUNT(*) > 1) d",
        )
        .fetch_one(&mut *conn)
        .await?;
        if doubled > 0 {
            violations.push(global(
                "one_card_per_certificate",
                format!("{doubled} certificates with more than one live card"),
            ));
        }
        // Handover records agree with the requests they fulfil.
        let (bad_requests,): (i64,) = sqlx::query_as(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM monthly_requests m WHERE m.handed_count <> \
             (SELECT CAST(COALESCE(SUM(h.count), 0) AS BIGINT) FROM handovers h WHERE h.request_id = m.id) OR m.handed_count > m.count",
        )
        .fetch_one(&mut *conn)
        .await?;
        if bad_requests > 0 {
            violations.push(global(
                "requests_match_handovers",
                format!("{bad_requests} requests disagree with their handovers"),
            ));
        }
        for c in per.values() {
            violations.extend(check_province(c));
        }
        for problem in printed_data_changes(&mut conn).await? {
            violations.push(global("printed_data_unchanged", problem));
        }
        for problem in self.check_log(&mut conn).await? {
            violations.push(global("transparency_log", problem));
        }
        Ok(CheckReport {
            audit_records: cursor.last,
            cards,
            provinces: per.len(),
            chain_error,
            violations,
        })
    }
}
