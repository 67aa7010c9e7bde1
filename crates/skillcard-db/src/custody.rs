//! Part 1 operations: shipments, receipt notices, the vault and its ledger (R-3,
//! Note 1, Form 2), monthly requests (R-4.1, Note 2) and handovers, with their reads.
//! Rules come from `skillcard_core::custody`; this module only loads, stores and audits.

use crate::error::unique_to;
use crate::moves::{count_new, move_range, Within};
use crate::tx::WriteTx;
use crate::views::{self, *};
use crate::{Result, Store, StoreError};
use serde_json::json;
use skillcard_core::card::CardState;
use skillcard_core::custody::{
    self as rules, Baseline, RequestStatus, ShipmentStatus, VaultChecklist, VaultInspection,
};
use skillcard_core::date::{JalaliDate, JalaliMonth};
use skillcard_core::ledger::Direction;
use skillcard_core::policy::{authorize, Action, Actor};
use skillcard_core::serial::{self, SerialRange};
use skillcard_core::workflow::{self, NextActions};
use skillcard_core::{text, DomainError};
use sqlx::AnyConnection;

const NAME_MAX: usize = 200;
const NOTE_MAX: usize = 2000;

#[derive(Debug, Clone)]
pub struct NewShipment {
    pub province_id: i64,
    pub ref_no: String,
    pub carrier: String,
    pub declared_count: u64,
    pub ranges: Vec<SerialRange>,
}

#[derive(Debug, Clone, Default)]
pub struct ReceiptInput {
    pub counted: u64,
    pub missing: Vec<SerialRange>,
    pub damaged: Vec<SerialRange>,
    pub deliverer_name: String,
    pub deliverer_title: String,
    pub receiver_name: String,
    pub receiver_title: String,
    pub remarks: String,
}

#[derive(Debug, Clone)]
pub struct ReceiptNoticeInput {
    pub letter_no: String,
    pub signer_name: String,
    pub signer_title: String,
}

#[derive(Debug, Clone)]
pub struct InspectionInput {
    pub temperature_c: f64,
    pub humidity_pct: f64,
    pub checklist: VaultChecklist,
    pub notes: String,
}

#[derive(Debug, Clone)]
pub struct NewRequest {
    pub province_id: i64,
    pub count: u64,
    pub representative: String,
}

#[derive(Debug, Clone, Default)]
pub struct HandoverInput {
    /// How many cards; defaults to what remains of the request.
    pub count: Option<u64>,
    /// Explicit ranges; by default the lowest serials in the vault.
    pub ranges: Option<Vec<SerialRange>>,
    pub letter_no: String,
    pub deliverer_name: String,
    pub deliverer_title: String,
    pub receiver_name: String,
    pub receiver_title: String,
    pub remarks: String,
}

fn to_range(first: i64, last: i64) -> Result<SerialRange> {
    SerialRange::new(first as u64, last as u64)
        .map_err(|e| StoreError::Corrupt(format!("stored range {first}–{last}: {e}")))
}

fn ranges_json(rs: &[SerialRange]) -> serde_json::Value {
    json!(rs.iter().map(|r| [r.first(), r.last()]).collect::<Vec<_>>())
}

async fn province_name(conn: &mut AnyConnection, id: i64) -> Result<String> {
    let row: Option<(String,)> = sqlx::query_as("SELECT name_fa FROM provinces WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    Ok(row.ok_or(DomainError::NotFound { what: "province" })?.0)
}

async fn load_ranges(conn: &mut AnyConnection, sql: &str, id: i64) -> Result<Vec<SerialRange>> {
    let rows: Vec<(i64, i64)> = sqlx::query_as(sql).bind(id).fetch_all(conn).await?;
    rows.into_iter().map(|(f, l)| to_range(f, l)).collect()
}

async fn shipment_ranges(
    conn: &mut AnyConnection,
    id: i64,
    kind: &str,
) -> Result<Vec<SerialRange>> {
    let rows: Vec<(i64, i64)> =
        sqlx::query_as("SELECT first, last FROM shipment_ranges WHERE shipment_id = $1 AND kind = $2 ORDER BY first")
            .bind(id)
            .bind(kind)
            .fetch_all(conn)
            .await?;
    rows.into_iter().map(|(f, l)| to_range(f, l)).collect()
}

async fn add_movement(
    conn: &mut AnyConnection,
    province_id: i64,
    on: &str,
    direction: Direction,
    range: SerialRange,
    source: (&str, i64),
) -> Result<()> {
    sqlx::query(
        "INSERT INTO vault_movements (province_id, moved_on, direction, first, last, source, source_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(province_id)
    .bind(on)
    .bind(direction.as_str())
    .bind(range.first() as i64)
    .bind(range.last() as i64)
    .bind(source.0)
    .bind(source.1)
    .execute(conn)
    .await?;
    Ok(())
}

fn current_month(w: &WriteTx) -> Result<JalaliMonth> {
    Ok(JalaliDate::from_gregorian(w.today())?.month_of())
}

impl Store {
    /// HQ dispatches blank cards to a province by serial range. Every serial must be new to
    /// the system; the cards are created in transit.
    pub async fn record_shipment(&self, actor: &Actor, new: NewShipment) -> Result<ShipmentView> {
        authorize(actor, Action::RecordShipment, Some(new.province_id))?;
        let ranges = rules::r1_validate_shipment(new.ranges, new.declared_count)?;
        let ref_no = text::required("ref_no", &new.ref_no, 64)?;
        let carrier = text::required("carrier", &new.carrier, NAME_MAX)?;
        let mut w = WriteTx::begin(self).await?;
        province_name(&mut w.tx, new.province_id).await?;
        for r in &ranges {
            let clash: Option<(i64, i64)> = sqlx::query_as(
                "SELECT first, last FROM shipment_ranges WHERE kind = 'shipped' AND first <= $1 AND last >= $2 LIMIT 1",
            )
            .bind(r.last() as i64)
            .bind(r.first() as i64)
            .fetch_optional(&mut *w.tx)
            .await?;
            if let Some((f, l)) = clash {
                let overlap = SerialRange::new(r.first().max(f as u64), r.last().min(l as u64))?;
                return Err(DomainError::SerialsAlreadyKnown {
                    range: overlap.to_string(),
                }
                .into());
            }
        }
        let today = w.today().to_string();
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO shipments (province_id, ref_no, declared_count, carrier, sent_on, sent_by, status) \
             VALUES ($1, $2, $3, $4, $5, $6, 'in_transit') RETURNING id",
        )
        .bind(new.province_id)
        .bind(&ref_no)
        .bind(new.declared_count as i64)
        .bind(&carrier)
        .bind(&today)
        .bind(actor.user_id)
        .fetch_one(&mut *w.tx)
        .await?;
        for r in &ranges {
            sqlx::query("INSERT INTO shipment_ranges (shipment_id, kind, first, last) VALUES ($1, 'shipped', $2, $3)")
                .bind(id)
                .bind(r.first() as i64)
                .bind(r.last() as i64)
                .execute(&mut *w.tx)
                .await?;
            sqlx::query(
                "WITH RECURSIVE s(n) AS (SELECT CAST($1 AS BIGINT) UNION ALL SELECT n + 1 FROM s WHERE n < $2) \
                 INSERT INTO cards (serial, province_id, shipment_id, state) SELECT n, $3, $4, 'in_transit' FROM s",
            )
            .bind(r.first() as i64)
            .bind(r.last() as i64)
            .bind(new.province_id)
            .bind(id)
            .execute(&mut *w.tx)
            .await
            .map_err(|e| unique_to(e, DomainError::SerialsAlreadyKnown { range: r.to_string() }))?;
            count_new(&mut w.tx, new.province_id, r.len()).await?;
        }
        w.audit(
            Some(actor),
            "shipment.dispatch",
            "shipment",
            id,
            Some(new.province_id),
            json!(null),
            json!({ "ref_no": ref_no, "carrier": carrier, "declared_count": new.declared_count, "ranges": ranges_json(&ranges), "state": "in_transit" }),
        )
        .await?;
        w.commit().await?;
        self.shipment(actor, id).await
    }

    /// R-1 / Form 1 and R-3: the province receives a shipment. Missing and damaged serials are
    /// recorded; every other card enters the vault and the ledger.
    pub async fn receive_shipment(
        &self,
        actor: &Actor,
        shipment_id: i64,
        input: ReceiptInput,
    ) -> Result<ShipmentView> {
        let deliverer_name = text::required("deliverer_name", &input.deliverer_name, NAME_MAX)?;
        let deliverer_title = text::required("deliverer_title", &input.deliverer_title, NAME_MAX)?;
        let receiver_name = text::required("receiver_name", &input.receiver_name, NAME_MAX)?;
        let receiver_title = text::required("receiver_title", &input.receiver_title, NAME_MAX)?;
        let remarks = text::optional("remarks", &input.remarks, NOTE_MAX)?;
        let mut w = WriteTx::begin(self).await?;
        let (province_id, status): (i64, String) =
            sqlx::query_as("SELECT province_id, status FROM shipments WHERE id = $1")
                .bind(shipment_id)
                .fetch_optional(&mut *w.tx)
                .await?
                .ok_or(DomainError::NotFound { what: "shipment" })?;
        authorize(actor, Action::ReceiveShipment, Some(province_id))?;
        rules::r1_check_receivable(
            shipment_id,
            views::state("shipment status", &status, ShipmentStatus::parse)?,
        )?;
        let shipped = shipment_ranges(&mut w.tx, shipment_id, "shipped").await?;
        let plan = rules::r1_plan_receipt(&shipped, input.missing, input.damaged)?;
        if input.counted != plan.received_count {
            return Err(DomainError::ReceivedCountMismatch {
                counted: input.counted,
                expected: plan.received_count,
            }
            .into());
        }
        let today = w.today().to_string();
        let moves = [
            (CardState::InVault, &plan.to_vault),
            (CardState::MissingOnArrival, &plan.missing),
            (CardState::DamagedOnArrival, &plan.damaged),
        ];
        for (state, rs) in moves {
            for r in rs.iter() {
                if !move_range(
                    &mut w.tx,
                    *r,
                    Within::Shipment {
                        shipment_id,
                        province_id,
                    },
                    CardState::InTransit,
                    state,
                    None,
                )
                .await?
                {
                    return Err(StoreError::Corrupt(format!(
                        "shipment {shipment_id}: cards {r} were not all in transit"
                    )));
                }
            }
        }
        for (kind, rs) in [("missing", &plan.missing), ("damaged", &plan.damaged)] {
            for r in rs.iter() {
                sqlx::query("INSERT INTO shipment_ranges (shipment_id, kind, first, last) VALUES ($1, $2, $3, $4)")
                    .bind(shipment_id)
                    .bind(kind)
                    .bind(r.first() as i64)
                    .bind(r.last() as i64)
                    .execute(&mut *w.tx)
                    .await?;
            }
        }
        for r in &plan.to_vault {
            add_movement(
                &mut w.tx,
                province_id,
                &today,
                Direction::In,
                *r,
                ("shipment", shipment_id),
            )
            .await?;
        }
        sqlx::query(
            "UPDATE shipments SET status = 'received', received_on = $1, received_by = $2, received_count = $3, \
             missing_count = $4, damaged_count = $5, deliverer_name = $6, deliverer_title = $7, receiver_name = $8, \
             receiver_title = $9, remarks = $10 WHERE id = $11",
        )
        .bind(&today)
        .bind(actor.user_id)
        .bind(plan.received_count as i64)
        .bind(serial::total(&plan.missing) as i64)
        .bind(serial::total(&plan.damaged) as i64)
        .bind(&deliverer_name)
        .bind(&deliverer_title)
        .bind(&receiver_name)
        .bind(&receiver_title)
        .bind(&remarks)
        .bind(shipment_id)
        .execute(&mut *w.tx)
        .await?;
        w.audit(
            Some(actor),
            "shipment.receive",
            "shipment",
            shipment_id,
            Some(province_id),
            json!({ "state": "in_transit" }),
            json!({
                "state": "received",
                "to_vault": ranges_json(&plan.to_vault),
                "missing": ranges_json(&plan.missing),
                "damaged": ranges_json(&plan.damaged),
                "received_count": plan.received_count,
                "deliverer": [deliverer_name, deliverer_title],
                "receiver": [receiver_name, receiver_title],
            }),
        )
        .await?;
        w.commit().await?;
        self.shipment(actor, shipment_id).await
    }

    /// the letter reporting the receipt to HQ's Skill Assessment Office.
    pub async fn record_receipt_notice(
        &self,
        actor: &Actor,
        shipment_id: i64,
        input: ReceiptNoticeInput,
    ) -> Result<ShipmentView> {
        let letter_no = text::required("letter_no", &input.letter_no, 64)?;
        let signer_name = text::required("full_name", &input.signer_name, NAME_MAX)?;
        let signer_title = text::optional("title", &input.signer_title, NAME_MAX)?;
        let mut w = WriteTx::begin(self).await?;
        let (province_id, status): (i64, String) =
            sqlx::query_as("SELECT province_id, status FROM shipments WHERE id = $1")
                .bind(shipment_id)
                .fetch_optional(&mut *w.tx)
                .await?
                .ok_or(DomainError::NotFound { what: "shipment" })?;
        authorize(actor, Action::SendReceiptNotice, Some(province_id))?;
        if status != "received" {
            return Err(DomainError::InvalidValue { field: "shipment" }.into());
        }
        let today = w.today().to_string();
        sqlx::query(
            "INSERT INTO receipt_notices (shipment_id, letter_no, letter_date, signer_name, signer_title, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(shipment_id)
        .bind(&letter_no)
        .bind(&today)
        .bind(&signer_name)
        .bind(&signer_title)
        .bind(actor.user_id)
        .bind(w.now_str())
        .execute(&mut *w.tx)
        .await
        .map_err(|e| unique_to(e, DomainError::AlreadyRecorded { what: "receipt_notice" }))?;
        w.audit(
            Some(actor),
            "shipment.receipt_notice",
            "shipment",
            shipment_id,
            Some(province_id),
            json!(null),
            json!({ "letter_no": letter_no, "letter_date": today, "signer": [signer_name, signer_title] }),
        )
        .await?;
        w.commit().await?;
        self.shipment(actor, shipment_id).await
    }

    /// Note 1: one inspection of the vault's conditions; departures are flagged.
    pub async fn record_inspection(
        &self,
        actor: &Actor,
        province_id: i64,
        input: InspectionInput,
    ) -> Result<InspectionView> {
        authorize(actor, Action::RecordVaultInspection, Some(province_id))?;
        let inspection = VaultInspection {
            temperature_c: input.temperature_c,
            humidity_pct: input.humidity_pct,
            checklist: input.checklist,
        };
        let flags = rules::note1_assess(&inspection)?;
        let notes = text::optional("notes", &input.notes, NOTE_MAX)?;
        let checklist = serde_json::to_string(&inspection.checklist)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let flags_json =
            serde_json::to_string(&flags).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut w = WriteTx::begin(self).await?;
        province_name(&mut w.tx, province_id).await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO vault_inspections (province_id, inspected_at, temperature_c, humidity_pct, checklist, flags, flagged, notes, inspector_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(province_id)
        .bind(w.now_str())
        .bind(inspection.temperature_c)
        .bind(inspection.humidity_pct)
        .bind(&checklist)
        .bind(&flags_json)
        .bind(i64::from(!flags.is_empty()))
        .bind(&notes)
        .bind(actor.user_id)
        .fetch_one(&mut *w.tx)
        .await?;
        w.audit(
            Some(actor),
            "vault.inspect",
            "vault_inspection",
            id,
            Some(province_id),
            json!(null),
            json!({ "temperature_c": inspection.temperature_c, "humidity_pct": inspection.humidity_pct, "flags": flags }),
        )
        .await?;
        w.commit().await?;
        self.inspections(actor, province_id, 1)
            .await?
            .into_iter()
            .next()
            .ok_or(StoreError::Corrupt("inspection vanished".into()))
    }

    /// Note 2: HQ's start-up baseline for a province's first months.
    pub async fn set_baseline(
        &self,
        actor: &Actor,
        province_id: i64,
        baseline: Baseline,
    ) -> Result<()> {
        authorize(actor, Action::SetRequestCap, Some(province_id))?;
        if baseline.monthly == 0 || baseline.monthly > rules::MAX_SHIPMENT_CARDS {
            return Err(DomainError::InvalidValue { field: "baseline" }.into());
        }
        let mut w = WriteTx::begin(self).await?;
        province_name(&mut w.tx, province_id).await?;
        let before: Option<(i64, i64)> = sqlx::query_as(
            "SELECT monthly, through_month FROM request_baselines WHERE province_id = $1",
        )
        .bind(province_id)
        .fetch_optional(&mut *w.tx)
        .await?;
        sqlx::query("DELETE FROM request_baselines WHERE province_id = $1")
            .bind(province_id)
            .execute(&mut *w.tx)
            .await?;
        sqlx::query("INSERT INTO request_baselines (province_id, monthly, through_month, set_by, set_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(province_id)
            .bind(baseline.monthly as i64)
            .bind(baseline.through.key())
            .bind(actor.user_id)
            .bind(w.now_str())
            .execute(&mut *w.tx)
            .await?;
        w.audit(
            Some(actor),
            "request.baseline",
            "province",
            province_id,
            Some(province_id),
            json!(before.map(|(m, t)| json!({ "monthly": m, "through": t }))),
            json!({ "monthly": baseline.monthly, "through": baseline.through.key() }),
        )
        .await?;
        w.commit().await
    }

    /// Note 2: HQ allows one province to request more than its cap for one month, with a reason.
    pub async fn record_override(
        &self,
        actor: &Actor,
        province_id: i64,
        month: JalaliMonth,
        max_count: u64,
        reason: &str,
    ) -> Result<()> {
        authorize(actor, Action::SetRequestCap, Some(province_id))?;
        let reason = text::required("reason", reason, NOTE_MAX)?;
        if max_count == 0 || max_count > rules::MAX_SHIPMENT_CARDS {
            return Err(DomainError::InvalidValue { field: "count" }.into());
        }
        let mut w = WriteTx::begin(self).await?;
        province_name(&mut w.tx, province_id).await?;
        sqlx::query(
            "INSERT INTO request_overrides (province_id, month, max_count, reason, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(province_id)
        .bind(month.key())
        .bind(max_count as i64)
        .bind(&reason)
        .bind(actor.user_id)
        .bind(w.now_str())
        .execute(&mut *w.tx)
        .await
        .map_err(|e| unique_to(e, DomainError::AlreadyRecorded { what: "override" }))?;
        w.audit(
            Some(actor),
            "request.override",
            "province",
            province_id,
            Some(province_id),
            json!(null),
            json!({ "month": month.key(), "max_count": max_count, "reason": reason }),
        )
        .await?;
        w.commit().await
    }

    /// Note 2: this month's cap for a province and where it comes from.
    pub async fn cap(
        &self,
        actor: &Actor,
        province_id: i64,
        month: Option<JalaliMonth>,
    ) -> Result<CapView> {
        authorize(actor, Action::ViewCustody, Some(province_id))?;
        let mut conn = self.pool.acquire().await?;
        let month = match month {
            Some(m) => m,
            None => JalaliDate::from_gregorian(skillcard_core::date::tehran_date(
                time::OffsetDateTime::now_utc(),
            ))?
            .month_of(),
        };
        cap_in(&mut conn, province_id, month).await
    }

    /// R-4.1 / Form 3: the head of the Assessment Office asks Security for this month's cards.
    pub async fn create_request(&self, actor: &Actor, new: NewRequest) -> Result<RequestView> {
        authorize(actor, Action::CreateMonthlyRequest, Some(new.province_id))?;
        let representative = text::required("representative", &new.representative, NAME_MAX)?;
        let mut w = WriteTx::begin(self).await?;
        province_name(&mut w.tx, new.province_id).await?;
        let month = current_month(&w)?;
        let cap = cap_in(&mut w.tx, new.province_id, month).await?;
        if cap.existing_request_id.is_some() {
            return Err(DomainError::RequestExists { month: month.key() }.into());
        }
        rules::r4_1_check_request(
            new.count,
            rules::Cap {
                value: cap.cap,
                basis: cap.basis,
            },
            cap.override_max,
        )?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO monthly_requests (province_id, month, count, cap, cap_basis, representative, requested_on, requested_by, handed_count, status) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, 'open') RETURNING id",
        )
        .bind(new.province_id)
        .bind(month.key())
        .bind(new.count as i64)
        .bind(cap.effective as i64)
        .bind(cap.basis.as_str())
        .bind(&representative)
        .bind(w.today().to_string())
        .bind(actor.user_id)
        .fetch_one(&mut *w.tx)
        .await
        .map_err(|e| unique_to(e, DomainError::RequestExists { month: month.key() }))?;
        w.audit(
            Some(actor),
            "request.create",
            "monthly_request",
            id,
            Some(new.province_id),
            json!(null),
            json!({ "month": month.key(), "count": new.count, "cap": cap.effective, "cap_basis": cap.basis, "representative": representative, "status": "open" }),
        )
        .await?;
        w.commit().await?;
        self.request(actor, id).await
    }

    /// R-4.3 / Form 4: Security hands cards from the vault to the Assessment Office against a
    /// request, lowest serials first unless ranges are named.
    pub async fn hand_over(
        &self,
        actor: &Actor,
        request_id: i64,
        input: HandoverInput,
    ) -> Result<HandoverView> {
        let letter_no = text::required("letter_no", &input.letter_no, 64)?;
        let deliverer_name = text::required("deliverer_name", &input.deliverer_name, NAME_MAX)?;
        let deliverer_title = text::required("deliverer_title", &input.deliverer_title, NAME_MAX)?;
        let receiver_name = text::required("receiver_name", &input.receiver_name, NAME_MAX)?;
        let receiver_title = text::required("receiver_title", &input.receiver_title, NAME_MAX)?;
        let remarks = text::optional("remarks", &input.remarks, NOTE_MAX)?;
        let explicit = match input.ranges {
            Some(rs) if !rs.is_empty() => Some(serial::sorted_disjoint(rs)?),
            _ => None,
        };
        let mut w = WriteTx::begin(self).await?;
        let (province_id, requested, handed, status): (i64, i64, i64, String) = sqlx::query_as(
            "SELECT province_id, count, handed_count, status FROM monthly_requests WHERE id = $1",
        )
        .bind(request_id)
        .fetch_optional(&mut *w.tx)
        .await?
        .ok_or(DomainError::NotFound { what: "request" })?;
        authorize(actor, Action::HandOver, Some(province_id))?;
        rules::r4_3_check_open(
            request_id,
            views::state("request status", &status, RequestStatus::parse)?,
        )?;
        let remaining = (requested - handed) as u64;
        let count = match (&explicit, input.count) {
            (Some(rs), Some(c)) if serial::total(rs) != c => {
                return Err(DomainError::DeclaredCountMismatch {
                    declared: c,
                    actual: serial::total(rs),
                }
                .into())
            }
            (Some(rs), _) => serial::total(rs),
            (None, c) => c.unwrap_or(remaining),
        };
        rules::r4_3_check_handover_count(requested as u64, handed as u64, count)?;
        let ranges = match explicit {
            Some(rs) => rs,
            None => {
                let lowest: Vec<(i64,)> =
                    sqlx::query_as("SELECT serial FROM cards WHERE province_id = $1 AND state = 'in_vault' ORDER BY serial LIMIT $2")
                        .bind(province_id)
                        .bind(count as i64)
                        .fetch_all(&mut *w.tx)
                        .await?;
                let serials: Vec<u64> = lowest.into_iter().map(|(s,)| s as u64).collect();
                rules::r4_3_pick_lowest(&serials, count)?
            }
        };
        let today = w.today().to_string();
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO handovers (request_id, province_id, letter_no, handed_on, count, deliverer_name, deliverer_title, \
             receiver_name, receiver_title, remarks, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(request_id)
        .bind(province_id)
        .bind(&letter_no)
        .bind(&today)
        .bind(count as i64)
        .bind(&deliverer_name)
        .bind(&deliverer_title)
        .bind(&receiver_name)
        .bind(&receiver_title)
        .bind(&remarks)
        .bind(actor.user_id)
        .fetch_one(&mut *w.tx)
        .await?;
        for r in &ranges {
            if !move_range(
                &mut w.tx,
                *r,
                Within::Province(province_id),
                CardState::InVault,
                CardState::WithOffice,
                Some(id),
            )
            .await?
            {
                return Err(DomainError::CardsNotInVault {
                    range: r.to_string(),
                }
                .into());
            }
            sqlx::query(
                "INSERT INTO handover_ranges (handover_id, first, last) VALUES ($1, $2, $3)",
            )
            .bind(id)
            .bind(r.first() as i64)
            .bind(r.last() as i64)
            .execute(&mut *w.tx)
            .await?;
            add_movement(
                &mut w.tx,
                province_id,
                &today,
                Direction::Out,
                *r,
                ("handover", id),
            )
            .await?;
        }
        let handed_now = handed + count as i64;
        let new_status = rules::r4_3_status_after(requested as u64, handed_now as u64).as_str();
        sqlx::query("UPDATE monthly_requests SET handed_count = $1, status = $2 WHERE id = $3")
            .bind(handed_now)
            .bind(new_status)
            .bind(request_id)
            .execute(&mut *w.tx)
            .await?;
        w.audit(
            Some(actor),
            "handover.create",
            "handover",
            id,
            Some(province_id),
            json!({ "request": request_id, "handed_count": handed, "status": status, "cards_state": "in_vault" }),
            json!({
                "request": request_id, "handed_count": handed_now, "status": new_status, "cards_state": "with_office",
                "letter_no": letter_no, "count": count, "ranges": ranges_json(&ranges),
            }),
        )
        .await?;
        w.commit().await?;
        self.handover(actor, id).await
    }

    // ---- reads ----

    pub async fn provinces(&self) -> Result<Vec<ProvinceView>> {
        let rows: Vec<(i64, String, String)> =
            sqlx::query_as("SELECT id, code, name_fa FROM provinces ORDER BY id")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(id, code, name_fa)| ProvinceView { id, code, name_fa })
            .collect())
    }

    /// Shipments in the actor's reach, newest first, a page at a time; `status` narrows them
    /// (the province's queue: `in_transit`).
    pub async fn shipment_page(
        &self,
        actor: &Actor,
        status: Option<ShipmentStatus>,
        cursor: Cursor,
    ) -> Result<Page<ShipmentView>> {
        authorize(actor, Action::ViewCustody, None)?;
        let ids = self
            .scoped_ids(
                "shipments",
                actor,
                status.map(ShipmentStatus::as_str),
                cursor,
            )
            .await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.push(self.shipment(actor, id).await?);
        }
        Ok(Page::from_rows(out, cursor.clamped(), |v| v.id))
    }

    /// The newest `limit` shipments in `status` as a dashboard lists them, in one statement
    /// (the full [`ShipmentView`] reads ranges and minutes per shipment).
    pub async fn shipment_summaries(
        &self,
        actor: &Actor,
        status: ShipmentStatus,
        limit: i64,
    ) -> Result<Vec<ShipmentSummary>> {
        authorize(actor, Action::ViewCustody, None)?;
        let cursor = Cursor::first(limit);
        let (sql, terms) = shipment_summary_query(actor.scope().province_filter(), status, cursor);
        #[allow(clippy::type_complexity)]
        let rows: Vec<(
            i64,
            i64,
            String,
            String,
            i64,
            String,
            Option<i64>,
            Option<i64>,
            i64,
        )> = terms
            .bind_page(sqlx::query_as(&sql), cursor)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .take(cursor.clamped() as usize)
            .map(|r| {
                let status = views::state("shipment status", &r.5, ShipmentStatus::parse)?;
                Ok(ShipmentSummary {
                    id: r.0,
                    province_id: r.1,
                    province_name: r.2,
                    ref_no: r.3,
                    declared_count: r.4 as u64,
                    status,
                    discrepancy: (r.6.unwrap_or(0) + r.7.unwrap_or(0)) as u64,
                    next_actions: NextActions::for_actor(
                        actor,
                        Some(r.1),
                        workflow::shipment(status, r.8 != 0),
                    ),
                })
            })
            .collect()
    }

    pub async fn shipment(&self, actor: &Actor, id: i64) -> Result<ShipmentView> {
        let mut conn = self.pool.acquire().await?;
        #[derive(sqlx::FromRow)]
        struct Row {
            province_id: i64,
            ref_no: String,
            declared_count: i64,
            carrier: String,
            sent_on: String,
            status: String,
            received_on: Option<String>,
            received_count: Option<i64>,
            missing_count: Option<i64>,
            damaged_count: Option<i64>,
            deliverer_name: Option<String>,
            deliverer_title: Option<String>,
            receiver_name: Option<String>,
            receiver_title: Option<String>,
            remarks: Option<String>,
        }
        let s: Row = sqlx::query_as(
            "SELECT province_id, ref_no, declared_count, carrier, sent_on, status, received_on, received_count, missing_count, \
             damaged_count, deliverer_name, deliverer_title, receiver_name, receiver_title, remarks FROM shipments WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(DomainError::NotFound { what: "shipment" })?;
        authorize(actor, Action::ViewCustody, Some(s.province_id))?;
        let status = views::state("shipment status", &s.status, ShipmentStatus::parse)?;
        let shipped = shipment_ranges(&mut conn, id, "shipped").await?;
        let receipt = match s.received_on {
            Some(on) => Some(ReceiptView {
                received_on_fa: views::iso_fa(&on),
                received_on: on,
                received_count: s.received_count.unwrap_or(0) as u64,
                missing_count: s.missing_count.unwrap_or(0) as u64,
                damaged_count: s.damaged_count.unwrap_or(0) as u64,
                missing: views::ranges(&shipment_ranges(&mut conn, id, "missing").await?),
                damaged: views::ranges(&shipment_ranges(&mut conn, id, "damaged").await?),
                deliverer_name: s.deliverer_name.unwrap_or_default(),
                deliverer_title: s.deliverer_title.unwrap_or_default(),
                receiver_name: s.receiver_name.unwrap_or_default(),
                receiver_title: s.receiver_title.unwrap_or_default(),
                remarks: s.remarks.unwrap_or_default(),
            }),
            None => None,
        };
        let notice: Option<(String, String, String, String)> = sqlx::query_as(
            "SELECT letter_no, letter_date, signer_name, signer_title FROM receipt_notices WHERE shipment_id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
        Ok(ShipmentView {
            id,
            province_id: s.province_id,
            province_name: province_name(&mut conn, s.province_id).await?,
            ref_no: s.ref_no,
            declared_count: s.declared_count as u64,
            carrier: s.carrier,
            sent_on_fa: views::iso_fa(&s.sent_on),
            sent_on: s.sent_on,
            status,
            next_actions: NextActions::for_actor(
                actor,
                Some(s.province_id),
                workflow::shipment(status, notice.is_some()),
            ),
            ranges: views::ranges(&shipped),
            receipt,
            receipt_notice: notice.map(|(letter_no, letter_date, signer_name, signer_title)| {
                ReceiptNoticeView {
                    letter_no,
                    letter_date_fa: views::iso_fa(&letter_date),
                    letter_date,
                    signer_name,
                    signer_title,
                }
            }),
        })
    }

    /// Form 2: the vault ledger between two dates (inclusive), with its opening balance.
    pub async fn ledger(
        &self,
        actor: &Actor,
        province_id: i64,
        from: Option<time::Date>,
        to: Option<time::Date>,
    ) -> Result<LedgerView> {
        authorize(actor, Action::ViewCustody, Some(province_id))?;
        let mut conn = self.pool.acquire().await?;
        let province_name = province_name(&mut conn, province_id).await?;
        let from_s = from.map(|d| d.to_string());
        let to_s = to.map(|d| d.to_string());
        let (opening,): (i64,) = sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(CASE WHEN direction = 'in' THEN last - first + 1 ELSE first - last - 1 END), 0) AS BIGINT) \
             FROM vault_movements WHERE province_id = $1 AND $2 IS NOT NULL AND moved_on < $2",
        )
        .bind(province_id)
        .bind(&from_s)
        .fetch_one(&mut *conn)
        .await?;
        let rows: Vec<(String, String, i64, i64, String, i64)> = sqlx::query_as(
            "SELECT moved_on, direction, first, last, source, source_id FROM vault_movements \
             WHERE province_id = $1 AND ($2 IS NULL OR moved_on >= $2) AND ($3 IS NULL OR moved_on <= $3) ORDER BY id",
        )
        .bind(province_id)
        .bind(&from_s)
        .bind(&to_s)
        .fetch_all(&mut *conn)
        .await?;
        let mut movements = Vec::with_capacity(rows.len());
        for (on, dir, f, l, _, _) in &rows {
            let date = time::Date::parse(on, &time::format_description::well_known::Iso8601::DATE)
                .map_err(|e| StoreError::Corrupt(format!("movement date {on}: {e}")))?;
            let direction = Direction::parse(dir)
                .ok_or_else(|| StoreError::Corrupt(format!("direction {dir}")))?;
            movements.push(skillcard_core::ledger::Movement {
                date,
                direction,
                range: to_range(*f, *l)?,
            });
        }
        let ledger = skillcard_core::ledger::ledger_rows(opening, &movements);
        let rows: Vec<LedgerRowView> = ledger
            .into_iter()
            .zip(rows)
            .map(|(r, (on, _, _, _, source, source_id))| LedgerRowView {
                date_fa: views::iso_fa(&on),
                date: on,
                direction: r.direction,
                first: r.range.first(),
                last: r.range.last(),
                count: r.count,
                balance: r.balance,
                source,
                source_id,
            })
            .collect();
        let closing = rows.last().map(|r| r.balance).unwrap_or(opening);
        Ok(LedgerView {
            province_id,
            province_name,
            from: from_s,
            to: to_s,
            opening_balance: opening,
            rows,
            closing_balance: closing,
        })
    }

    pub async fn inspections(
        &self,
        actor: &Actor,
        province_id: i64,
        limit: i64,
    ) -> Result<Vec<InspectionView>> {
        authorize(actor, Action::ViewCustody, Some(province_id))?;
        #[allow(clippy::type_complexity)]
        let rows: Vec<(i64, String, f64, f64, String, String, i64, String, String)> = sqlx::query_as(
            "SELECT i.id, i.inspected_at, i.temperature_c, i.humidity_pct, i.checklist, i.flags, i.flagged, i.notes, u.full_name \
             FROM vault_inspections i JOIN users u ON u.id = i.inspector_id WHERE i.province_id = $1 ORDER BY i.id DESC LIMIT $2",
        )
        .bind(province_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(
                |(id, at, t, h, checklist, flags, flagged, notes, inspector_name)| {
                    let flags: Vec<rules::ConditionFlag> = serde_json::from_str(&flags)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    Ok(InspectionView {
                        id,
                        province_id,
                        inspected_on_fa: views::iso_fa(at.get(..10).unwrap_or(&at)),
                        inspected_at: at,
                        temperature_c: t,
                        humidity_pct: h,
                        checklist: serde_json::from_str(&checklist)
                            .unwrap_or(serde_json::Value::Null),
                        flag_labels_fa: flags.iter().map(|f| f.label_fa().to_string()).collect(),
                        flags: flags
                            .iter()
                            .map(|f| {
                                serde_json::to_value(f)
                                    .ok()
                                    .and_then(|v| v.as_str().map(String::from))
                                    .unwrap_or_default()
                            })
                            .collect(),
                        flagged: flagged != 0,
                        notes,
                        inspector_name,
                    })
                },
            )
            .collect()
    }

    /// Monthly requests in the actor's reach, newest first, a page at a time; `status`
    /// narrows them (Security's queue: `open`).
    pub async fn request_page(
        &self,
        actor: &Actor,
        status: Option<RequestStatus>,
        cursor: Cursor,
    ) -> Result<Page<RequestView>> {
        authorize(actor, Action::ViewCustody, None)?;
        let ids = self
            .scoped_ids(
                "monthly_requests",
                actor,
                status.map(RequestStatus::as_str),
                cursor,
            )
            .await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.push(self.request(actor, id).await?);
        }
        Ok(Page::from_rows(out, cursor.clamped(), |v| v.id))
    }

    pub async fn request(&self, actor: &Actor, id: i64) -> Result<RequestView> {
        let mut conn = self.pool.acquire().await?;
        #[allow(clippy::type_complexity)]
        let row: Option<(i64, i64, i64, i64, String, String, String, String, String, i64, String)> = sqlx::query_as(
            "SELECT r.province_id, r.month, r.count, r.cap, r.cap_basis, r.representative, r.requested_on, u.full_name, u.title, \
             r.handed_count, r.status FROM monthly_requests r JOIN users u ON u.id = r.requested_by WHERE r.id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
        let (
            province_id,
            month,
            count,
            cap,
            cap_basis,
            representative,
            requested_on,
            by_name,
            by_title,
            handed,
            status,
        ) = row.ok_or(DomainError::NotFound { what: "request" })?;
        authorize(actor, Action::ViewCustody, Some(province_id))?;
        let status = views::state("request status", &status, RequestStatus::parse)?;
        let cap_basis = views::state("cap basis", &cap_basis, rules::CapBasis::parse)?;
        let handovers: Vec<(i64,)> =
            sqlx::query_as("SELECT id FROM handovers WHERE request_id = $1 ORDER BY id")
                .bind(id)
                .fetch_all(&mut *conn)
                .await?;
        Ok(RequestView {
            id,
            province_id,
            province_name: province_name(&mut conn, province_id).await?,
            month,
            month_label: JalaliMonth::from_key(month)
                .map(|m| m.label())
                .unwrap_or_default(),
            count: count as u64,
            cap: cap as u64,
            cap_basis,
            representative,
            requested_on_fa: views::iso_fa(&requested_on),
            requested_on,
            requested_by_name: by_name,
            requested_by_title: by_title,
            handed_count: handed as u64,
            next_actions: NextActions::for_actor(
                actor,
                Some(province_id),
                workflow::request(status),
            ),
            status,
            handover_ids: handovers.into_iter().map(|(h,)| h).collect(),
        })
    }

    pub async fn handover(&self, actor: &Actor, id: i64) -> Result<HandoverView> {
        let mut conn = self.pool.acquire().await?;
        #[allow(clippy::type_complexity)]
        let row: Option<(i64, i64, String, String, String, i64, String, String, String, String, String)> = sqlx::query_as(
            "SELECT h.request_id, h.province_id, h.letter_no, h.handed_on, r.requested_on, h.count, h.deliverer_name, \
             h.deliverer_title, h.receiver_name, h.receiver_title, h.remarks FROM handovers h \
             JOIN monthly_requests r ON r.id = h.request_id WHERE h.id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
        let (
            request_id,
            province_id,
            letter_no,
            handed_on,
            requested_on,
            count,
            dn,
            dt,
            rn,
            rt,
            remarks,
        ) = row.ok_or(DomainError::NotFound { what: "handover" })?;
        authorize(actor, Action::ViewCustody, Some(province_id))?;
        let ranges = load_ranges(
            &mut conn,
            "SELECT first, last FROM handover_ranges WHERE handover_id = $1 ORDER BY first",
            id,
        )
        .await?;
        Ok(HandoverView {
            id,
            request_id,
            province_id,
            province_name: province_name(&mut conn, province_id).await?,
            letter_no,
            handed_on_fa: views::iso_fa(&handed_on),
            handed_on,
            request_date_fa: views::iso_fa(&requested_on),
            request_date: requested_on,
            count: count as u64,
            ranges: views::ranges(&ranges),
            deliverer_name: dn,
            deliverer_title: dt,
            receiver_name: rn,
            receiver_title: rt,
            remarks,
        })
    }

    /// Card counts per state for every province the actor may see.
    pub async fn stock(&self, actor: &Actor) -> Result<Vec<StockView>> {
        authorize(actor, Action::ViewCustody, None)?;
        let filter = actor.scope().province_filter();
        let provinces: Vec<(i64, String)> = sqlx::query_as(
            "SELECT id, name_fa FROM provinces WHERE ($1 IS NULL OR id = $1) ORDER BY id",
        )
        .bind(filter)
        .fetch_all(&self.pool)
        .await?;
        // Maintained with every move (`moves.rs`): a few rows per province, never a count.
        let counts: Vec<(i64, String, i64)> = sqlx::query_as(
            "SELECT province_id, state, n FROM card_counts WHERE ($1 IS NULL OR province_id = $1)",
        )
        .bind(filter)
        .fetch_all(&self.pool)
        .await?;
        provinces
            .into_iter()
            .map(|(id, name)| {
                let mut s = StockView {
                    province_id: id,
                    province_name: name,
                    ..Default::default()
                };
                for (_, state, n) in counts.iter().filter(|c| c.0 == id) {
                    let n = *n as u64;
                    let slot = match views::state("card state", state, CardState::parse)? {
                        CardState::InTransit => &mut s.in_transit,
                        CardState::InVault => &mut s.in_vault,
                        CardState::WithOffice => &mut s.with_office,
                        CardState::MissingOnArrival => &mut s.missing_on_arrival,
                        CardState::DamagedOnArrival => &mut s.damaged_on_arrival,
                        CardState::Printing => &mut s.printing,
                        CardState::Bound | CardState::Delivered => &mut s.issued,
                        CardState::Spoiled => &mut s.spoiled,
                        CardState::Damaged => &mut s.damaged,
                        CardState::Void => &mut s.void,
                        CardState::SentToHq => &mut s.sent_to_hq,
                        CardState::AtHq => &mut s.at_hq,
                    };
                    *slot += n;
                }
                Ok(s)
            })
            .collect()
    }

    /// The audit chain in the actor's reach, newest first, a page at a time (the cursor is the
    /// sequence number); `record` narrows it to one record's history (entity, id).
    pub async fn audit_page(
        &self,
        actor: &Actor,
        record: Option<(&str, &str)>,
        cursor: Cursor,
    ) -> Result<Page<AuditView>> {
        authorize(actor, Action::ViewAudit, None)?;
        let (sql, terms) = audit_query(actor.scope().province_filter(), record, cursor);
        #[allow(clippy::type_complexity)]
        let rows: Vec<(
            i64,
            String,
            Option<String>,
            String,
            String,
            String,
            Option<i64>,
            String,
            String,
        )> = terms
            .bind_page(sqlx::query_as(&sql), cursor)
            .fetch_all(&self.pool)
            .await?;
        let items = rows
            .into_iter()
            .map(
                |(seq, at, actor_name, action, entity, entity_id, province_id, before, after)| {
                    AuditView {
                        seq,
                        at,
                        actor_name,
                        action,
                        entity,
                        entity_id,
                        province_id,
                        before: serde_json::from_str(&before).unwrap_or(serde_json::Value::Null),
                        after: serde_json::from_str(&after).unwrap_or(serde_json::Value::Null),
                    }
                },
            )
            .collect::<Vec<_>>();
        Ok(Page::from_rows(items, cursor.clamped(), |a| a.seq))
    }
}

/// One page of the audit chain (see `Store::audit_page`), for the store and `plans`.
pub(crate) fn audit_query(
    province: Option<i64>,
    record: Option<(&str, &str)>,
    cursor: Cursor,
) -> (String, Terms) {
    let terms = Terms::new()
        .int("a.province_id = ?", province)
        .text("a.entity = ?", record.map(|r| r.0))
        .text("a.entity_id = ?", record.map(|r| r.1));
    let sql = format!(
        "SELECT a.seq, a.at, u.full_name, a.action, a.entity, a.entity_id, a.province_id, a.before, a.after \
         FROM audit_log a LEFT JOIN users u ON u.id = a.actor_id {}",
        terms.page_sql("a.seq", cursor)
    );
    (sql, terms)
}

/// The cap for a province and month, read inside the caller's transaction.
async fn cap_in(conn: &mut AnyConnection, province_id: i64, month: JalaliMonth) -> Result<CapView> {
    let prev = month.previous();
    let start = prev.first_day().to_gregorian()?.to_string();
    let end = month.first_day().to_gregorian()?.to_string();
    let (issued,): (i64,) = sqlx::query_as(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM cards WHERE province_id = $1 AND issued_at IS NOT NULL AND issued_at >= $2 AND issued_at < $3",
    )
    .bind(province_id)
    .bind(&start)
    .bind(&end)
    .fetch_one(&mut *conn)
    .await?;
    let baseline: Option<(i64, i64)> = sqlx::query_as(
        "SELECT monthly, through_month FROM request_baselines WHERE province_id = $1",
    )
    .bind(province_id)
    .fetch_optional(&mut *conn)
    .await?;
    let baseline = match baseline {
        Some((monthly, through)) => Some(Baseline {
            monthly: monthly as u64,
            through: JalaliMonth::from_key(through)?,
        }),
        None => None,
    };
    let cap = rules::note2_monthly_cap(month, issued as u64, baseline);
    let over: Option<(i64, String)> = sqlx::query_as(
        "SELECT max_count, reason FROM request_overrides WHERE province_id = $1 AND month = $2",
    )
    .bind(province_id)
    .bind(month.key())
    .fetch_optional(&mut *conn)
    .await?;
    let existing: Option<(i64,)> =
        sqlx::query_as("SELECT id FROM monthly_requests WHERE province_id = $1 AND month = $2")
            .bind(province_id)
            .bind(month.key())
            .fetch_optional(&mut *conn)
            .await?;
    let override_max = over.as_ref().map(|(m, _)| *m as u64);
    Ok(CapView {
        province_id,
        month: month.key(),
        month_label: month.label(),
        cap: cap.value,
        basis: cap.basis,
        issued_previous_month: issued as u64,
        override_max,
        override_reason: over.map(|(_, r)| r),
        effective: override_max.unwrap_or(cap.value),
        existing_request_id: existing.map(|(id,)| id),
    })
}

/// One page of shipment summaries (see `Store::shipment_summaries`), for the store and `plans`.
pub(crate) fn shipment_summary_query(
    province: Option<i64>,
    status: ShipmentStatus,
    cursor: Cursor,
) -> (String, Terms) {
    let terms = Terms::new()
        .int("s.province_id = ?", province)
        .text("s.status = ?", Some(status.as_str()));
    let sql = format!(
        "SELECT s.id, s.province_id, p.name_fa, s.ref_no, s.declared_count, s.status, s.missing_count, s.damaged_count, \
         CAST(CASE WHEN EXISTS (SELECT 1 FROM receipt_notices n WHERE n.shipment_id = s.id) THEN 1 ELSE 0 END AS BIGINT) \
         FROM shipments s JOIN provinces p ON p.id = s.province_id {}",
        terms.page_sql("s.id", cursor)
    );
    (sql, terms)
}
