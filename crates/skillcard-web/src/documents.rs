//! Builds the printable documents from what the store returns, and renders them off the async
//! runtime (typst is CPU-bound).

use crate::error::AppError;
use crate::AppState;
use skillcard_core::date::JalaliDate;
use skillcard_core::policy::Actor;
use skillcard_core::printing::PrintStatus;
use skillcard_core::DomainError;
use skillcard_db::printing::PrintView;
use skillcard_db::views::*;
use skillcard_docs::{
    CardBatch, CardFace, Document, ExamSheet, ExamSheetRow, Form1, Form2, Form3, Form4,
    HandoverLetter, LedgerRow, Person, ReceiptNotice, SerialRangeRow,
};

/// `2026-11-24` → `1405/09/03` (the templates print Persian digits).
fn jalali(iso: &str) -> String {
    time::Date::parse(iso, &time::format_description::well_known::Iso8601::DATE)
        .ok()
        .and_then(|d| JalaliDate::from_gregorian(d).ok())
        .map(|j| j.to_string())
        .unwrap_or_else(|| iso.to_string())
}

fn rows(rs: &[RangeView]) -> Vec<SerialRangeRow> {
    rs.iter()
        .map(|r| SerialRangeRow {
            from: r.first,
            to: r.last,
            count: r.count,
        })
        .collect()
}

fn person(name: &str, title: &str) -> Person {
    Person {
        name: name.to_string(),
        title: title.to_string(),
    }
}

pub async fn render(state: &AppState, doc: Document) -> Result<Vec<u8>, AppError> {
    let renderer = state.docs.clone().ok_or(AppError::NoFonts)?;
    tokio::task::spawn_blocking(move || renderer.render(&doc))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(AppError::from)
}

fn received(s: &ShipmentView) -> Result<&ReceiptView, AppError> {
    s.receipt
        .as_ref()
        .ok_or(AppError::Domain(DomainError::NotFound { what: "document" }))
}

pub fn form1(s: &ShipmentView) -> Result<Document, AppError> {
    let r = received(s)?;
    Ok(Document::Form1(Form1 {
        province: s.province_name.clone(),
        shipment_ref: s.ref_no.clone(),
        date: jalali(&r.received_on),
        declared_count: s.declared_count,
        received_count: r.received_count,
        ranges: rows(&s.ranges),
        missing: rows(&r.missing),
        damaged: rows(&r.damaged),
        remarks: r.remarks.clone(),
        deliverer: person(&r.deliverer_name, &r.deliverer_title),
        receiver: person(&r.receiver_name, &r.receiver_title),
    }))
}

pub fn receipt_notice(s: &ShipmentView) -> Result<Document, AppError> {
    let r = received(s)?;
    let n = s
        .receipt_notice
        .as_ref()
        .ok_or(AppError::Domain(DomainError::NotFound {
            what: "receipt_notice",
        }))?;
    Ok(Document::ReceiptNotice(ReceiptNotice {
        province: s.province_name.clone(),
        letter_no: n.letter_no.clone(),
        date: jalali(&n.letter_date),
        shipment_ref: s.ref_no.clone(),
        declared_count: s.declared_count,
        received_count: r.received_count,
        missing_count: r.missing_count,
        damaged_count: r.damaged_count,
        ranges: rows(&s.ranges),
        signer: person(&n.signer_name, &n.signer_title),
    }))
}

pub fn form2(l: &LedgerView) -> Document {
    Document::Form2(Form2 {
        province: l.province_name.clone(),
        from_date: l.from.as_deref().map(jalali).unwrap_or_default(),
        to_date: l.to.as_deref().map(jalali).unwrap_or_default(),
        opening_balance: l.opening_balance.max(0) as u64,
        rows: l
            .rows
            .iter()
            .map(|r| {
                let inbound = r.direction == skillcard_core::ledger::Direction::In;
                let pick = |yes: bool, v: u64| if yes { Some(v) } else { None };
                LedgerRow {
                    date: jalali(&r.date),
                    in_from: pick(inbound, r.first),
                    in_to: pick(inbound, r.last),
                    in_count: pick(inbound, r.count),
                    out_from: pick(!inbound, r.first),
                    out_to: pick(!inbound, r.last),
                    out_count: pick(!inbound, r.count),
                    balance: r.balance.max(0) as u64,
                }
            })
            .collect(),
        closing_balance: l.closing_balance.max(0) as u64,
    })
}

pub fn form3(r: &RequestView) -> Document {
    Document::Form3(Form3 {
        province: r.province_name.clone(),
        request_no: r.id.to_string(),
        date: jalali(&r.requested_on),
        month_label: r.month_label.clone(),
        count: r.count,
        cap: r.cap,
        representative: r.representative.clone(),
        head: person(&r.requested_by_name, &r.requested_by_title),
    })
}

pub fn form4(h: &HandoverView) -> Document {
    Document::Form4(Form4 {
        province: h.province_name.clone(),
        handover_no: h.letter_no.clone(),
        date: jalali(&h.handed_on),
        request_date: jalali(&h.request_date),
        count: h.count,
        ranges: rows(&h.ranges),
        remarks: h.remarks.clone(),
        deliverer: person(&h.deliverer_name, &h.deliverer_title),
        receiver: person(&h.receiver_name, &h.receiver_title),
    })
}

pub fn handover_letter(h: &HandoverView, r: &RequestView) -> Document {
    Document::HandoverLetter(HandoverLetter {
        province: h.province_name.clone(),
        letter_no: h.letter_no.clone(),
        date: jalali(&h.handed_on),
        request_no: r.id.to_string(),
        count: h.count,
        ranges: rows(&h.ranges),
        signer: person(&h.deliverer_name, &h.deliverer_title),
    })
}

/// The most card faces one batch PDF holds (a card printer's hopper is smaller still).
pub const MAX_BATCH: usize = 200;

/// Print ids from `1,2,3` (any digits), or every print in progress within the actor's reach.
pub async fn print_ids(
    state: &AppState,
    actor: &Actor,
    ids: Option<&str>,
) -> Result<Vec<i64>, AppError> {
    let ids: Vec<i64> = match ids.map(str::trim).filter(|s| !s.is_empty()) {
        Some(list) => list
            .split([',', '،', ' '])
            .filter(|s| !s.is_empty())
            .map(|s| {
                skillcard_core::text::parse_u64(s)
                    .and_then(|n| i64::try_from(n).ok())
                    .ok_or(DomainError::InvalidValue { field: "print" })
            })
            .collect::<Result<_, _>>()?,
        None => state
            .store
            .card_prints(actor, PrintStatus::Printing)
            .await?
            .into_iter()
            .map(|p| p.id)
            .collect(),
    };
    if ids.is_empty() {
        return Err(DomainError::Required { field: "print" }.into());
    }
    if ids.len() > MAX_BATCH {
        return Err(DomainError::TooManyCards {
            count: ids.len() as u64,
            max: MAX_BATCH as u64,
        }
        .into());
    }
    Ok(ids)
}

/// The faces of the given prints: only prints still in progress are printed (a registered or
/// spoiled card is never printed again), and only by the issuance staff.
pub async fn card_batch(
    state: &AppState,
    actor: &Actor,
    ids: &[i64],
) -> Result<Document, AppError> {
    let mut cards = Vec::with_capacity(ids.len());
    for &id in ids {
        let p = state.store.card_print(actor, id).await?;
        skillcard_core::printing::check_printing(&p.progress())?;
        let photo = state.store.print_photo(actor, id).await?;
        // A photo stored before uploads were bounded is refused here with a clear error
        // rather than handed to the typesetter (which allocates what the image declares).
        if let Some(bytes) = &photo {
            skillcard_media::check_renderable(bytes).map_err(|e| e.for_field("photo"))?;
        }
        cards.push(card_face(&p, photo));
    }
    Ok(Document::CardBatch(CardBatch { cards }))
}

pub fn card_face(p: &PrintView, photo: Option<Vec<u8>>) -> CardFace {
    CardFace {
        certificate_no: p.certificate_no.clone(),
        given_name: p.given_name.clone(),
        family_name: p.family_name.clone(),
        father_name: p.father_name.clone(),
        national_id: p.national_id.clone(),
        birth_date: jalali(&p.birth_date),
        trade_title: p.trade_title.clone(),
        standard_code: p.standard_code.clone(),
        final_score: p.final_score.clone(),
        issue_date: jalali(&p.issued_on),
        province: p.province_name.clone(),
        card_serial: p.serial,
        photo,
        qr_text: p.qr_text.clone(),
    }
}

/// The exam list as the "special exam form".
pub fn exam_sheet(l: &skillcard_db::exams::ExamListView, province: String) -> Document {
    Document::ExamSheet(ExamSheet {
        province,
        list_no: l.id.to_string(),
        centre: l.centre_name.clone(),
        trade_title: l.trade_title.clone(),
        standard_code: l.standard_code.clone(),
        exam_date: jalali(&l.exam_date),
        status: l.status.label_fa().to_string(),
        rows: l
            .entries
            .iter()
            .map(|e| ExamSheetRow {
                national_id: e.national_id.clone(),
                first_name: e.first_name.clone(),
                last_name: e.last_name.clone(),
                father_name: e.father_name.clone(),
                written: e.written_score.clone(),
                practical: e.practical_score.clone().unwrap_or_default(),
                final_score: e.final_score.clone().unwrap_or_default(),
                result: skillcard_core::fa::pass_result(e.passes).to_string(),
                decision: e.decision.label_fa().to_string(),
            })
            .collect(),
    })
}

/// Form 5: the minutes of a handover list, a row per card; receivers already recorded are
/// printed, the others left for the hand.
pub fn form5(l: &skillcard_db::delivery::DeliveryListView, deliverer: &str) -> Document {
    use skillcard_docs::{Form5, Form5Row};
    let note = |c: &skillcard_db::delivery::DeliveryCard| match (
        c.delivery_method.as_deref(),
        &c.tracking_no,
    ) {
        (Some("post"), Some(t)) => format!("پست: {t}"),
        (Some(_), _) => c
            .delivered_at
            .as_deref()
            .map(|d| format!("حضوری {}", jalali(d.get(..10).unwrap_or(d))))
            .unwrap_or_default(),
        _ => String::new(),
    };
    Document::Form5(Form5 {
        province: l.province_name.clone(),
        list_no: l.id.to_string(),
        date: jalali(l.created_at.get(..10).unwrap_or(&l.created_at)),
        group: l.label.clone(),
        rows: l
            .cards
            .iter()
            .map(|c| Form5Row {
                full_name: c.holder.clone(),
                national_id: c.national_id.clone(),
                card_serial: c.serial,
                issue_date: jalali(&c.registered_on),
                centre: c.centre.clone(),
                receiver: c.receiver.clone().unwrap_or_default(),
                note: note(c),
            })
            .collect(),
        deliverer: person(
            deliverer,
            skillcard_core::policy::Role::DeliveryAgent.label_fa(),
        ),
    })
}

fn case_date(c: &skillcard_db::cases::CaseView) -> String {
    jalali(c.created_at.get(..10).unwrap_or(&c.created_at))
}

/// Form 6 (R-8.1, Note 3): the damaged-card minutes of a case, with the clerk's, the officer's
/// and the head's signature blocks.
pub fn form6(c: &skillcard_db::cases::CaseView) -> Document {
    use skillcard_core::policy::Role;
    use skillcard_docs::{Form6, Form6Row};
    Document::Form6(Form6 {
        province: c.province_name.clone(),
        minutes_no: c.id.to_string(),
        date: case_date(c),
        rows: c
            .items
            .iter()
            .map(|i| Form6Row {
                full_name: i.holder.clone(),
                national_id: i.national_id.clone(),
                card_serial: i.serial,
                issue_date: jalali(&i.issued_on),
                cause: match (
                    &i.cause_fa,
                    i.cause_detail.as_deref().filter(|d| !d.is_empty()),
                ) {
                    (Some(c), Some(d)) => format!("{c} — {d}"),
                    (Some(c), None) => c.clone(),
                    (None, _) => String::new(),
                },
                outcome: i.outcome.clone().unwrap_or_default(),
            })
            .collect(),
        clerk: person("", Role::IssuanceClerk.label_fa()),
        officer: person("", Role::AssessmentOfficer.label_fa()),
        head: person("", Role::AssessmentHead.label_fa()),
    })
}

/// the Director General's letter to HQ sending a case's minutes and cards.
pub fn damage_letter(c: &skillcard_db::cases::CaseView) -> Result<Document, AppError> {
    use skillcard_docs::{DamageLetter, DamageLetterRow};
    let letter_no = c
        .letter_no
        .clone()
        .ok_or(AppError::Domain(DomainError::NotFound { what: "letter" }))?;
    Ok(Document::DamageLetter(DamageLetter {
        province: c.province_name.clone(),
        letter_no,
        date: c.letter_date.as_deref().map(jalali).unwrap_or_default(),
        minutes_no: c.id.to_string(),
        minutes_date: case_date(c),
        replacement: c.kind == skillcard_core::cases::CaseKind::Replacement,
        rows: c
            .items
            .iter()
            .map(|i| DamageLetterRow {
                full_name: i.holder.clone(),
                national_id: i.national_id.clone(),
                certificate_no: i.certificate_no.clone(),
                card_serial: i.serial,
            })
            .collect(),
        signer: person("", ""),
    }))
}

/// Note 4: the notice telling the applicant to pay the replacement fee (once the card is void).
pub fn fee_notice(c: &skillcard_db::cases::CaseView) -> Result<Document, AppError> {
    use skillcard_docs::ReplacementFeeNotice;
    let missing = || AppError::Domain(DomainError::NotFound { what: "document" });
    let item = c.items.first().ok_or_else(missing)?;
    let amount = c.fee_amount.ok_or_else(missing)?;
    Ok(Document::ReplacementFeeNotice(ReplacementFeeNotice {
        province: c.province_name.clone(),
        notice_no: c.id.to_string(),
        date: jalali(
            &skillcard_core::date::tehran_date(time::OffsetDateTime::now_utc()).to_string(),
        ),
        full_name: item.holder.clone(),
        national_id: item.national_id.clone(),
        certificate_no: item.certificate_no.clone(),
        card_serial: item.serial,
        amount: amount.max(0) as u64,
        reason: c.reason.clone().unwrap_or_default(),
        signer: person("", ""),
    }))
}
