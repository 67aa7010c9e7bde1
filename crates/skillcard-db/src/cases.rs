//! Part 3 cases (R-8, R-9, Notes 3–4): damage cases (Form 6) and replacement requests, on their
//! common road to HQ and back with HQ's authorisation to reprint.
//!
//! The rules are `skillcard_core::cases`. Each step is one write transaction: the case's status,
//! the prints and cards it touches, and an audit record for the case and for every card moved.
//! A card leaves service (print `damaged`/`void`, card `damaged`/`void`) when a damage case opens
//! or the Assessment Office voids a replaced card; it goes `sent_to_hq` with the Director
//! General's letter and `at_hq` when HQ records it. The reprint itself is an ordinary print
//! (`crate::printing`), which HQ's authorisation unlocks once.

use crate::moves::move_card;
use crate::queues::refresh_card_due;
use crate::tx::WriteTx;
use crate::views;
use crate::{Result, Store, StoreError};
use serde::Serialize;
use serde_json::json;
use skillcard_core::card::CardState;
use skillcard_core::cases::{self as rules, CaseKind, CaseStatus, Corrections, DamagedCard};
use skillcard_core::notice::{Contact, NoticeKind};
use skillcard_core::policy::{authorize, Action, Actor};
use skillcard_core::printing::PrintStatus;
use skillcard_core::workflow::{self, NextActions};
use skillcard_core::{fa, DomainError};
use skillcard_credential::transparency::LogEvent;
use sqlx::AnyConnection;
use utoipa::ToSchema;

/// One card of a case.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseItemView {
    pub print_id: i64,
    pub certificate_id: i64,
    pub certificate_no: String,
    pub holder: String,
    pub national_id: String,
    pub serial: u64,
    pub issued_on: String,
    /// The print's status now: `bound` until the card leaves service, then `damaged` or `void`.
    #[schema(value_type = String)]
    pub print_status: PrintStatus,
    /// The card's custody state now.
    #[schema(value_type = String)]
    pub card_state: CardState,
    pub cause: Option<String>,
    pub cause_fa: Option<String>,
    pub cause_detail: Option<String>,
    pub outcome: Option<String>,
    /// The card registered on this case's authorisation, once there is one.
    pub reprint_print_id: Option<i64>,
}

/// A damage case or a replacement request, with its cards.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseView {
    pub id: i64,
    pub province_id: i64,
    pub province_name: String,
    /// `damage` or `replacement`.
    #[schema(value_type = String)]
    pub kind: CaseKind,
    pub kind_fa: String,
    #[schema(value_type = String)]
    pub status: CaseStatus,
    pub status_fa: String,
    /// What the reader can do with the case now, and what it waits for from others.
    #[schema(value_type = Object)]
    pub next_actions: NextActions,
    pub reason: Option<String>,
    /// The corrections a replacement asks for (`first_name`, `last_name`, `father_name`).
    #[schema(value_type = Option<Object>)]
    pub corrections: Option<Corrections>,
    pub decision_reason: Option<String>,
    pub fee_amount: Option<i64>,
    pub fee_reference: Option<String>,
    pub letter_no: Option<String>,
    pub letter_date: Option<String>,
    pub has_request_scan: bool,
    pub has_minutes_scan: bool,
    pub created_at: String,
    pub items: Vec<CaseItemView>,
}

impl CaseView {
    /// The case as `actor` sees it: with the steps they can take.
    fn for_actor(mut self, actor: &Actor) -> Self {
        self.next_actions = NextActions::for_actor(
            actor,
            Some(self.province_id),
            workflow::case(self.kind, self.status),
        );
        self
    }
}

type CaseRow = (
    i64,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
);

type ItemRow = (
    i64,
    i64,
    String,
    String,
    String,
    String,
    i64,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
);

async fn case_in(conn: &mut AnyConnection, case_id: i64) -> Result<CaseView> {
    let r: CaseRow = sqlx::query_as(
        "SELECT c.province_id, p.name_fa, c.kind, c.status, c.reason, c.corrections, c.decision_reason, \
         c.fee_amount, c.fee_reference, c.letter_no, c.letter_date, c.request_scan_type, c.minutes_scan_type, c.created_at \
         FROM cases c JOIN provinces p ON p.id = c.province_id WHERE c.id = $1",
    )
    .bind(case_id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(DomainError::NotFound { what: "case" })?;
    let items: Vec<ItemRow> = sqlx::query_as(
        "SELECT i.print_id, i.certificate_id, c.number, k.first_name, k.last_name, k.national_id, p.serial, \
         c.issued_on, p.status, cd.state, i.cause, i.cause_detail, i.outcome, i.reprint_print_id \
         FROM case_items i JOIN card_prints p ON p.id = i.print_id JOIN cards cd ON cd.serial = p.serial \
         JOIN certificates c ON c.id = i.certificate_id JOIN candidates k ON k.id = c.candidate_id \
         WHERE i.case_id = $1 ORDER BY p.serial",
    )
    .bind(case_id)
    .fetch_all(&mut *conn)
    .await?;
    let corrections = match r.5 {
        Some(j) => Some(
            serde_json::from_str(&j)
                .map_err(|e| StoreError::Corrupt(format!("corrections: {e}")))?,
        ),
        None => None,
    };
    let kind = views::state("case kind", &r.2, CaseKind::parse)?;
    let status = views::state("case status", &r.3, CaseStatus::parse)?;
    let items = items
        .into_iter()
        .map(|i| {
            Ok(CaseItemView {
                print_id: i.0,
                certificate_id: i.1,
                certificate_no: i.2,
                holder: format!("{} {}", i.3, i.4),
                national_id: i.5,
                serial: i.6 as u64,
                issued_on: i.7,
                print_status: views::state("print status", &i.8, PrintStatus::parse)?,
                card_state: views::state("card state", &i.9, CardState::parse)?,
                cause_fa: i.10.as_deref().map(|c| fa::damage_cause(c).to_string()),
                cause: i.10,
                cause_detail: i.11,
                outcome: i.12,
                reprint_print_id: i.13,
            })
        })
        .collect::<Result<_>>()?;
    Ok(CaseView {
        id: case_id,
        province_id: r.0,
        province_name: r.1,
        kind_fa: kind.label_fa().to_string(),
        kind,
        status_fa: status.label_fa().to_string(),
        status,
        next_actions: NextActions::default(),
        reason: r.4,
        corrections,
        decision_reason: r.6,
        fee_amount: r.7,
        fee_reference: r.8,
        letter_no: r.9,
        letter_date: r.10,
        has_request_scan: r.11.is_some(),
        has_minutes_scan: r.12.is_some(),
        created_at: r.13,
        items,
    })
}

/// A print about to leave service: its province, certificate, serial and status, and the
/// card's state.
async fn print_for_case(
    conn: &mut AnyConnection,
    print_id: i64,
) -> Result<(i64, i64, u64, PrintStatus, CardState)> {
    let r: (i64, i64, i64, String, String) = sqlx::query_as(
        "SELECT p.province_id, p.certificate_id, p.serial, p.status, c.state FROM card_prints p \
         JOIN cards c ON c.serial = p.serial WHERE p.id = $1",
    )
    .bind(print_id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(DomainError::NotFound { what: "print" })?;
    let status = views::state("print status", &r.3, PrintStatus::parse)?;
    let state = views::state("card state", &r.4, CardState::parse)?;
    Ok((r.0, r.1, r.2 as u64, status, state))
}

/// Ends a case's step: the case as the step left it, read inside the transaction, then commit.
async fn committed(mut w: WriteTx, actor: &Actor, case_id: i64) -> Result<CaseView> {
    let case = case_in(&mut w.tx, case_id).await?;
    w.commit().await?;
    Ok(case.for_actor(actor))
}

/// A card may be in one live case at a time (a rejected request is over).
async fn check_no_open_case(conn: &mut AnyConnection, print_id: i64) -> Result<()> {
    let open: Option<(i64,)> = sqlx::query_as(
        "SELECT i.case_id FROM case_items i JOIN cases c ON c.id = i.case_id \
         WHERE i.print_id = $1 AND c.status <> 'rejected' LIMIT 1",
    )
    .bind(print_id)
    .fetch_optional(&mut *conn)
    .await?;
    match open {
        Some(_) => Err(DomainError::AlreadyRecorded { what: "case" }.into()),
        None => Ok(()),
    }
}

impl Store {
    /// Moves a case to `next` if it is still in `from` (a guarded update against races) and
    /// audits it with `extra` details.
    #[allow(clippy::too_many_arguments)]
    async fn advance_case(
        w: &mut WriteTx,
        actor: &Actor,
        case: &CaseView,
        from: CaseStatus,
        next: CaseStatus,
        action: &str,
        extra: serde_json::Value,
    ) -> Result<()> {
        let done = sqlx::query("UPDATE cases SET status = $1 WHERE id = $2 AND status = $3")
            .bind(next.as_str())
            .bind(case.id)
            .bind(from.as_str())
            .execute(&mut *w.tx)
            .await?;
        if done.rows_affected() != 1 {
            return Err(DomainError::Conflict.into());
        }
        for item in &case.items {
            refresh_card_due(&mut w.tx, item.certificate_id).await?;
        }
        w.audit(
            Some(actor),
            action,
            "case",
            case.id,
            Some(case.province_id),
            json!({ "status": from.as_str() }),
            json!({ "status": next.as_str(), "kind": case.kind, "details": extra }),
        )
        .await
    }

    /// Moves every card of a case from whichever of `from` it is in to `to`, auditing each.
    async fn move_case_cards(
        w: &mut WriteTx,
        actor: &Actor,
        case: &CaseView,
        from: &[CardState],
        to: CardState,
        action: &str,
    ) -> Result<()> {
        for item in &case.items {
            let state = item.card_state;
            if !from.contains(&state) {
                return Err(DomainError::Conflict.into());
            }
            move_card(w, item.serial, state, to).await?;
            w.audit(
                Some(actor),
                action,
                "card",
                item.serial,
                Some(case.province_id),
                json!({ "serial": item.serial, "state": state.as_str() }),
                json!({ "serial": item.serial, "state": to.as_str(), "case": case.id }),
            )
            .await?;
        }
        Ok(())
    }

    /// Takes a case's card out of service: print `bound → damaged|void`, card
    /// `bound|delivered → damaged|void`.
    async fn take_out_of_service(
        w: &mut WriteTx,
        actor: &Actor,
        case: &CaseView,
        print: PrintStatus,
        card: CardState,
        action: &str,
    ) -> Result<()> {
        for item in &case.items {
            let done = sqlx::query(
                "UPDATE card_prints SET status = $1 WHERE id = $2 AND status = 'bound'",
            )
            .bind(print.as_str())
            .bind(item.print_id)
            .execute(&mut *w.tx)
            .await?;
            if done.rows_affected() != 1 {
                return Err(DomainError::Conflict.into());
            }
            let event = if print == PrintStatus::Void {
                LogEvent::Void
            } else {
                LogEvent::Damaged
            };
            crate::transparency::append(w, item.print_id, event).await?;
            refresh_card_due(&mut w.tx, item.certificate_id).await?;
        }
        Self::move_case_cards(
            w,
            actor,
            case,
            &[CardState::Bound, CardState::Delivered],
            card,
            action,
        )
        .await
    }

    async fn case_for_step(
        &self,
        w: &mut WriteTx,
        actor: &Actor,
        action: Action,
        case_id: i64,
    ) -> Result<CaseView> {
        let case = case_in(&mut w.tx, case_id).await?;
        authorize(actor, action, Some(case.province_id))?;
        Ok(case)
    }

    /// R-8.1 / Note 3: the clerk opens a damage case for registered cards found damaged (each
    /// with its cause); the cards leave service at once and wait for the minutes (Form 6).
    pub async fn open_damage_case(&self, actor: &Actor, cards: &[DamagedCard]) -> Result<CaseView> {
        rules::r8_1_check_cards(cards)?;
        authorize(actor, Action::OpenDamageCase, None)?;
        let mut w = WriteTx::begin(self).await?;
        let mut province = None;
        let mut items = Vec::with_capacity(cards.len());
        for c in cards {
            let (p, certificate_id, _, status, _) = print_for_case(&mut w.tx, c.print_id).await?;
            authorize(actor, Action::OpenDamageCase, Some(p))?;
            rules::check_in_service(c.print_id, status)?;
            check_no_open_case(&mut w.tx, c.print_id).await?;
            if province.is_some_and(|q| q != p) {
                return Err(DomainError::WrongProvince.into());
            }
            province = Some(p);
            items.push((c, certificate_id));
        }
        let province_id = province.ok_or(DomainError::Required { field: "cards" })?;
        let (case_id,): (i64,) = sqlx::query_as(
            "INSERT INTO cases (province_id, kind, status, created_by, created_at) VALUES ($1, 'damage', 'open', $2, $3) RETURNING id",
        )
        .bind(province_id)
        .bind(actor.user_id)
        .bind(w.now_str())
        .fetch_one(&mut *w.tx)
        .await?;
        for (c, certificate_id) in &items {
            sqlx::query(
                "INSERT INTO case_items (case_id, print_id, certificate_id, cause, cause_detail) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(case_id)
            .bind(c.print_id)
            .bind(certificate_id)
            .bind(c.cause.as_str())
            .bind(&c.detail)
            .execute(&mut *w.tx)
            .await?;
        }
        w.audit(
            Some(actor),
            "case.damage.open",
            "case",
            case_id,
            Some(province_id),
            json!(null),
            json!({
                "kind": "damage", "status": "open",
                "cards": cards.iter().map(|c| json!({ "print": c.print_id, "cause": c.cause.as_str(), "detail": c.detail })).collect::<Vec<_>>(),
            }),
        )
        .await?;
        let case = case_in(&mut w.tx, case_id).await?;
        Self::take_out_of_service(
            &mut w,
            actor,
            &case,
            PrintStatus::Damaged,
            CardState::Damaged,
            "card.damage",
        )
        .await?;
        committed(w, actor, case_id).await
    }

    /// the review's outcome is written on the minutes (Form 6), ready for the clerk's,
    /// the officer's and the head's signatures.
    pub async fn review_damage(
        &self,
        actor: &Actor,
        case_id: i64,
        outcome: &str,
    ) -> Result<CaseView> {
        let outcome = skillcard_core::text::required("outcome", outcome, 1000)?;
        let mut w = WriteTx::begin(self).await?;
        let case = self
            .case_for_step(&mut w, actor, Action::ReviewDamage, case_id)
            .await?;
        let next = rules::r8_1_review(case.kind, case.status)?;
        sqlx::query("UPDATE case_items SET outcome = $1 WHERE case_id = $2")
            .bind(&outcome)
            .bind(case_id)
            .execute(&mut *w.tx)
            .await?;
        sqlx::query("UPDATE cases SET reviewed_by = $1, reviewed_at = $2 WHERE id = $3")
            .bind(actor.user_id)
            .bind(w.now_str())
            .bind(case_id)
            .execute(&mut *w.tx)
            .await?;
        Self::advance_case(
            &mut w,
            actor,
            &case,
            case.status,
            next,
            "case.damage.review",
            json!({ "outcome": outcome }),
        )
        .await?;
        committed(w, actor, case_id).await
    }

    /// R-9 / Note 4: the holder's request to replace a registered card, with the reason, the
    /// corrections asked for, the supporting scan and optionally a contact for notices.
    pub async fn request_replacement(
        &self,
        actor: &Actor,
        print_id: i64,
        reason: &str,
        corrections: &Corrections,
        scan: Option<&[u8]>,
        contact: Option<&Contact>,
    ) -> Result<CaseView> {
        let reason = rules::note4_request(reason)?;
        let scan_type = match scan {
            Some(bytes) => Some(crate::media::scan(bytes).await?),
            None => None,
        };
        let mut w = WriteTx::begin(self).await?;
        let (province_id, certificate_id, _, status, _) =
            print_for_case(&mut w.tx, print_id).await?;
        authorize(actor, Action::RequestReplacement, Some(province_id))?;
        rules::check_in_service(print_id, status)?;
        check_no_open_case(&mut w.tx, print_id).await?;
        let corrections_json = (!corrections.is_empty())
            .then(|| serde_json::to_string(corrections))
            .transpose()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let (case_id,): (i64,) = sqlx::query_as(
            "INSERT INTO cases (province_id, kind, status, reason, corrections, request_scan, request_scan_type, created_by, created_at) \
             VALUES ($1, 'replacement', 'requested', $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(province_id)
        .bind(&reason)
        .bind(&corrections_json)
        .bind(scan.map(<[u8]>::to_vec))
        .bind(scan_type)
        .bind(actor.user_id)
        .bind(w.now_str())
        .fetch_one(&mut *w.tx)
        .await?;
        sqlx::query(
            "INSERT INTO case_items (case_id, print_id, certificate_id) VALUES ($1, $2, $3)",
        )
        .bind(case_id)
        .bind(print_id)
        .bind(certificate_id)
        .execute(&mut *w.tx)
        .await?;
        if let Some(c) = contact {
            sqlx::query(
                "UPDATE candidates SET contact = $1 WHERE id = (SELECT candidate_id FROM certificates WHERE id = $2)",
            )
            .bind(c.as_str())
            .bind(certificate_id)
            .execute(&mut *w.tx)
            .await?;
        }
        w.audit(
            Some(actor),
            "case.replacement.request",
            "case",
            case_id,
            Some(province_id),
            json!(null),
            json!({
                "kind": "replacement", "status": "requested", "print": print_id, "reason": reason,
                "corrections": corrections, "scan": scan_type, "contact": contact.map(Contact::as_str),
            }),
        )
        .await?;
        committed(w, actor, case_id).await
    }

    /// Note 4: the provincial assessment board approves or rejects a replacement (a rejection
    /// needs its reason, which the applicant then sees; the old card stays valid).
    pub async fn decide_replacement(
        &self,
        actor: &Actor,
        case_id: i64,
        approve: bool,
        reason: &str,
    ) -> Result<CaseView> {
        let reason = rules::note4_decision_reason(approve, reason)?;
        let mut w = WriteTx::begin(self).await?;
        let case = self
            .case_for_step(&mut w, actor, Action::DecideReplacement, case_id)
            .await?;
        let next = rules::note4_decide(case.kind, case.status, approve)?;
        sqlx::query(
            "UPDATE cases SET decision_reason = $1, decided_by = $2, decided_at = $3 WHERE id = $4",
        )
        .bind((!reason.is_empty()).then_some(&reason))
        .bind(actor.user_id)
        .bind(w.now_str())
        .bind(case_id)
        .execute(&mut *w.tx)
        .await?;
        Self::advance_case(
            &mut w,
            actor,
            &case,
            case.status,
            next,
            "case.replacement.decide",
            json!({ "approve": approve, "reason": reason }),
        )
        .await?;
        committed(w, actor, case_id).await
    }

    /// Note 4: after approval the Assessment Office voids the old card (verification then says
    /// replaced) and the applicant is told to pay the replacement fee.
    pub async fn void_for_replacement(&self, actor: &Actor, case_id: i64) -> Result<CaseView> {
        let mut w = WriteTx::begin(self).await?;
        let case = self
            .case_for_step(&mut w, actor, Action::VoidCard, case_id)
            .await?;
        let next = rules::note4_void(case.kind, case.status)?;
        let fee =
            crate::issuance::fee_in(&mut w.tx, skillcard_core::issuance::FeeKind::Replacement)
                .await?
                .ok_or(DomainError::NotFound { what: "fee" })?;
        sqlx::query("UPDATE cases SET fee_amount = $1 WHERE id = $2")
            .bind(fee)
            .bind(case_id)
            .execute(&mut *w.tx)
            .await?;
        Self::take_out_of_service(
            &mut w,
            actor,
            &case,
            PrintStatus::Void,
            CardState::Void,
            "card.void",
        )
        .await?;
        Self::advance_case(
            &mut w,
            actor,
            &case,
            case.status,
            next,
            "case.replacement.void",
            json!({ "fee": fee }),
        )
        .await?;
        for item in &case.items {
            crate::notify::enqueue_for_certificate(
                &mut w,
                item.certificate_id,
                NoticeKind::FeeDue,
                fee.max(0) as u64,
            )
            .await?;
        }
        committed(w, actor, case_id).await
    }

    /// Note 4: the replacement fee, paid (a bank receipt's reference and the amount in force
    /// when the card was voided).
    pub async fn record_replacement_fee(
        &self,
        actor: &Actor,
        case_id: i64,
        reference: &str,
        amount: i64,
    ) -> Result<CaseView> {
        let reference = skillcard_core::text::required("reference", reference, 64)?;
        let mut w = WriteTx::begin(self).await?;
        let case = self
            .case_for_step(&mut w, actor, Action::RecordPayment, case_id)
            .await?;
        let next = rules::note4_pay(case.kind, case.status)?;
        let fee = case
            .fee_amount
            .ok_or_else(|| StoreError::Corrupt("voided case without fee".into()))?;
        skillcard_core::issuance::r6_5_check_amount(amount, fee)?;
        let item = case
            .items
            .first()
            .ok_or_else(|| StoreError::Corrupt("case without card".into()))?;
        let (candidate_id,): (i64,) =
            sqlx::query_as("SELECT candidate_id FROM certificates WHERE id = $1")
                .bind(item.certificate_id)
                .fetch_one(&mut *w.tx)
                .await?;
        sqlx::query(
            "INSERT INTO payments (candidate_id, kind, amount_rial, reference, source, recorded_by, created_at) \
             VALUES ($1, 'replacement', $2, $3, 'bank_receipt', $4, $5)",
        )
        .bind(candidate_id)
        .bind(amount)
        .bind(&reference)
        .bind(actor.user_id)
        .bind(w.now_str())
        .execute(&mut *w.tx)
        .await
        .map_err(|e| crate::error::unique_to(e, DomainError::AlreadyRecorded { what: "reference" }))?;
        sqlx::query("UPDATE cases SET fee_reference = $1, paid_at = $2 WHERE id = $3")
            .bind(&reference)
            .bind(w.now_str())
            .bind(case_id)
            .execute(&mut *w.tx)
            .await?;
        Self::advance_case(
            &mut w,
            actor,
            &case,
            case.status,
            next,
            "case.replacement.pay",
            json!({ "reference": reference, "amount_rial": amount }),
        )
        .await?;
        committed(w, actor, case_id).await
    }

    /// the Director General's letter (number, date) sends the signed minutes and the
    /// original cards to HQ; the scan of the minutes is kept with the case.
    pub async fn send_case_to_hq(
        &self,
        actor: &Actor,
        case_id: i64,
        letter_no: &str,
        letter_date: time::Date,
        minutes_scan: &[u8],
    ) -> Result<CaseView> {
        let letter_no = skillcard_core::text::required("letter_no", letter_no, 100)?;
        let scan_type = crate::media::scan(minutes_scan).await?;
        let mut w = WriteTx::begin(self).await?;
        let case = self
            .case_for_step(&mut w, actor, Action::SendToHq, case_id)
            .await?;
        let next = rules::r8_1_1_send(case.kind, case.status)?;
        sqlx::query(
            "UPDATE cases SET letter_no = $1, letter_date = $2, minutes_scan = $3, minutes_scan_type = $4, \
             sent_by = $5, sent_at = $6 WHERE id = $7",
        )
        .bind(&letter_no)
        .bind(letter_date.to_string())
        .bind(minutes_scan.to_vec())
        .bind(scan_type)
        .bind(actor.user_id)
        .bind(w.now_str())
        .bind(case_id)
        .execute(&mut *w.tx)
        .await?;
        Self::move_case_cards(
            &mut w,
            actor,
            &case,
            &[CardState::Damaged, CardState::Void],
            CardState::SentToHq,
            "card.send_to_hq",
        )
        .await?;
        Self::advance_case(
            &mut w,
            actor,
            &case,
            case.status,
            next,
            "case.send_to_hq",
            json!({ "letter_no": letter_no, "letter_date": letter_date.to_string() }),
        )
        .await?;
        committed(w, actor, case_id).await
    }

    /// HQ records that the letter and the cards arrived.
    pub async fn receive_case_at_hq(&self, actor: &Actor, case_id: i64) -> Result<CaseView> {
        let mut w = WriteTx::begin(self).await?;
        let case = self
            .case_for_step(&mut w, actor, Action::AuthorizeReprint, case_id)
            .await?;
        let next = rules::r8_1_1_receive(case.status)?;
        sqlx::query("UPDATE cases SET received_by = $1, received_at = $2 WHERE id = $3")
            .bind(actor.user_id)
            .bind(w.now_str())
            .bind(case_id)
            .execute(&mut *w.tx)
            .await?;
        Self::move_case_cards(
            &mut w,
            actor,
            &case,
            &[CardState::SentToHq],
            CardState::AtHq,
            "card.at_hq",
        )
        .await?;
        Self::advance_case(
            &mut w,
            actor,
            &case,
            case.status,
            next,
            "case.at_hq",
            json!(null),
        )
        .await?;
        committed(w, actor, case_id).await
    }

    /// HQ enables the reprint. For a replacement the holder's corrected data is applied
    /// now — the only way personal data changes after printing — so the new card
    /// carries it.
    pub async fn authorize_reprint(&self, actor: &Actor, case_id: i64) -> Result<CaseView> {
        let mut w = WriteTx::begin(self).await?;
        let case = self
            .case_for_step(&mut w, actor, Action::AuthorizeReprint, case_id)
            .await?;
        let next = rules::r8_1_2_authorize(case.status)?;
        sqlx::query("UPDATE cases SET authorized_by = $1, authorized_at = $2 WHERE id = $3")
            .bind(actor.user_id)
            .bind(w.now_str())
            .bind(case_id)
            .execute(&mut *w.tx)
            .await?;
        if let (CaseKind::Replacement, Some(c)) = (case.kind, &case.corrections) {
            for item in &case.items {
                apply_corrections(&mut w, actor, case.province_id, item.certificate_id, c).await?;
            }
        }
        Self::advance_case(
            &mut w,
            actor,
            &case,
            case.status,
            next,
            "case.authorize_reprint",
            json!(null),
        )
        .await?;
        committed(w, actor, case_id).await
    }

    pub async fn case(&self, actor: &Actor, case_id: i64) -> Result<CaseView> {
        let mut conn = self.pool.acquire().await?;
        let case = case_in(&mut conn, case_id).await?;
        authorize(actor, Action::ViewExams, Some(case.province_id))?;
        Ok(case.for_actor(actor))
    }

    /// Cases in the actor's reach, newest first, a page at a time; `status` narrows them
    /// (HQ's queue: `sent_to_hq`, `at_hq`).
    pub async fn case_page(
        &self,
        actor: &Actor,
        status: Option<CaseStatus>,
        cursor: views::Cursor,
    ) -> Result<views::Page<CaseView>> {
        authorize(actor, Action::ViewExams, None)?;
        let ids = self
            .scoped_ids("cases", actor, status.map(CaseStatus::as_str), cursor)
            .await?;
        let mut conn = self.pool.acquire().await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.push(case_in(&mut conn, id).await?.for_actor(actor));
        }
        Ok(views::Page::from_rows(out, cursor.clamped(), |c| c.id))
    }

    /// A scan kept with a case: `request` (the replacement request) or `minutes`.
    pub async fn case_scan(
        &self,
        actor: &Actor,
        case_id: i64,
        which: &str,
    ) -> Result<(Vec<u8>, String)> {
        let case = self.case(actor, case_id).await?;
        let sql = match which {
            "request" => "SELECT request_scan, request_scan_type FROM cases WHERE id = $1",
            "minutes" => "SELECT minutes_scan, minutes_scan_type FROM cases WHERE id = $1",
            _ => return Err(DomainError::NotFound { what: "scan" }.into()),
        };
        let (scan, media): (Option<Vec<u8>>, Option<String>) = sqlx::query_as(sql)
            .bind(case.id)
            .fetch_one(&self.pool)
            .await?;
        match (scan, media) {
            (Some(s), Some(m)) => Ok((s, m)),
            _ => Err(DomainError::NotFound { what: "scan" }.into()),
        }
    }
}

/// Writes a replacement's corrections to the holder's record, auditing before and after.
async fn apply_corrections(
    w: &mut WriteTx,
    actor: &Actor,
    province_id: i64,
    certificate_id: i64,
    c: &Corrections,
) -> Result<()> {
    let (candidate_id, first, last, father): (i64, String, String, String) = sqlx::query_as(
        "SELECT k.id, k.first_name, k.last_name, k.father_name FROM certificates c \
         JOIN candidates k ON k.id = c.candidate_id WHERE c.id = $1",
    )
    .bind(certificate_id)
    .fetch_one(&mut *w.tx)
    .await?;
    let new_first = c.first_name.clone().unwrap_or_else(|| first.clone());
    let new_last = c.last_name.clone().unwrap_or_else(|| last.clone());
    let new_father = c.father_name.clone().unwrap_or_else(|| father.clone());
    sqlx::query(
        "UPDATE candidates SET first_name = $1, last_name = $2, father_name = $3 WHERE id = $4",
    )
    .bind(&new_first)
    .bind(&new_last)
    .bind(&new_father)
    .bind(candidate_id)
    .execute(&mut *w.tx)
    .await?;
    w.audit(
        Some(actor),
        "candidate.correct",
        "candidate",
        candidate_id,
        Some(province_id),
        json!({ "first_name": first, "last_name": last, "father_name": father }),
        json!({ "first_name": new_first, "last_name": new_last, "father_name": new_father }),
    )
    .await
}
