//! Part 2 printing: a card of the office stock taken for an issued certificate,
//! its face printed and inspected, its chip written and read back, and its serial registered.
//!
//! The rules are `skillcard_core::printing`; this module keeps the `card_prints` row and the card's
//! state in step inside one write transaction per step. The credential is signed here, when the
//! print opens, because it names the chip's UID and the card serial; the face's QR and the chip
//! then carry the very bytes stored on the row, and R-6.8's read-back is compared against them.

use crate::exams::score_text;
use crate::moves::move_card;
use crate::queues::refresh_card_due;
use crate::tx::WriteTx;
use crate::views::{self, iso_fa, Cursor, Page, Terms, PAGE_MAX};
use crate::{Result, Store, StoreError};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use skillcard_core::card::CardState;
use skillcard_core::policy::{authorize, Action, Actor};
use skillcard_core::printing::{
    self as rules, CardHistory, Inspection, PrintProgress, PrintStatus,
};
use skillcard_core::workflow::{self, NextActions};
use skillcard_core::DomainError;
use skillcard_credential::transparency::LogEvent;
use skillcard_credential::{sign, to_qr_text, Claims, IssuerKey};
use sqlx::AnyConnection;
use utoipa::ToSchema;

/// One card print, with what the face shows.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PrintView {
    pub id: i64,
    pub certificate_id: i64,
    pub certificate_no: String,
    pub candidate_id: i64,
    pub province_id: i64,
    pub province_name: String,
    pub serial: u64,
    /// `printing`, `bound` (registered, R-6.9), `spoiled`, `damaged` or `void`.
    #[schema(value_type = String)]
    pub status: PrintStatus,
    pub status_fa: String,
    /// The chip UID the credential names, hex.
    pub chip_uid: String,
    /// The signing key's id.
    pub kid: String,
    /// The signed credential (COSE_Sign1) to write to the chip, hex.
    pub credential_hex: String,
    /// The same bytes as QR text (`SC1:` + base45(zlib)).
    pub qr_text: String,
    /// inspected and found sound.
    pub inspected: bool,
    /// the chip was written and read back identical.
    pub chip_verified: bool,
    pub spoil_reason: Option<String>,
    pub created_at: String,
    pub given_name: String,
    pub family_name: String,
    pub father_name: String,
    pub national_id: String,
    pub birth_date: String,
    pub trade_title: String,
    pub standard_code: String,
    pub final_score: String,
    pub issued_on: String,
    pub issued_on_fa: String,
    /// A damage case or replacement request (not rejected) holds this card.
    pub in_case: bool,
    /// What the reader can do with the print now, and what it waits for from others.
    #[schema(value_type = Object)]
    pub next_actions: NextActions,
}

impl PrintView {
    /// The print's steps, for the rules of `skillcard_core::printing`.
    pub fn progress(&self) -> PrintProgress {
        PrintProgress {
            print_id: self.id,
            status: self.status,
            inspected_sound: self.inspected,
            chip_verified: self.chip_verified,
        }
    }
}

/// The view of a print that has just ended, as its row now reads.
fn finished(v: PrintView, status: PrintStatus, spoil_reason: Option<String>) -> PrintView {
    PrintView {
        status,
        status_fa: status.label_fa().to_string(),
        spoil_reason,
        ..v
    }
}

/// What the certificate and its holder say, for the claims and the face.
struct Holder {
    certificate_no: String,
    candidate_id: i64,
    province_id: i64,
    province_code: String,
    province_name: String,
    score_tenths: i64,
    issued_on: String,
    given_name: String,
    family_name: String,
    father_name: String,
    national_id: String,
    birth_date: String,
    standard_code: String,
    trade_title: String,
}

const HOLDER_SQL: &str = "SELECT c.number, c.candidate_id, c.province_id, p.code, p.name_fa, c.final_score, c.issued_on, \
     k.first_name, k.last_name, k.father_name, k.national_id, k.birth_date, t.standard_code, t.title_fa \
     FROM certificates c JOIN candidates k ON k.id = c.candidate_id JOIN trades t ON t.id = k.trade_id \
     JOIN provinces p ON p.id = c.province_id WHERE c.id = $1";

type HolderRow = (
    String,
    i64,
    i64,
    String,
    String,
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
);

async fn holder(conn: &mut AnyConnection, certificate_id: i64) -> Result<Holder> {
    let r: HolderRow = sqlx::query_as(HOLDER_SQL)
        .bind(certificate_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(DomainError::NotFound {
            what: "certificate",
        })?;
    Ok(Holder {
        certificate_no: r.0,
        candidate_id: r.1,
        province_id: r.2,
        province_code: r.3,
        province_name: r.4,
        score_tenths: r.5,
        issued_on: r.6,
        given_name: r.7,
        family_name: r.8,
        father_name: r.9,
        national_id: r.10,
        birth_date: r.11,
        standard_code: r.12,
        trade_title: r.13,
    })
}

type PrintRow = (
    i64,
    i64,
    i64,
    String,
    Vec<u8>,
    Vec<u8>,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    i64,
);

/// A column: how many live cases (not rejected) hold the print `id` (an SQL expression).
fn open_cases(id: &str) -> String {
    format!(
        "(SELECT COUNT(*) FROM case_items i JOIN cases ca ON ca.id = i.case_id \
         WHERE i.print_id = {id} AND ca.status <> 'rejected') AS open_cases"
    )
}

/// One print with its holder, read in one statement: every print step starts with it.
#[derive(sqlx::FromRow)]
struct PrintAndHolder {
    id: i64,
    certificate_id: i64,
    serial: i64,
    status: String,
    chip_uid: Vec<u8>,
    credential: Vec<u8>,
    kid: String,
    inspected_at: Option<String>,
    chip_verified_at: Option<String>,
    spoil_reason: Option<String>,
    created_at: String,
    open_cases: i64,
    number: String,
    candidate_id: i64,
    province_id: i64,
    province_code: String,
    province_name: String,
    final_score: i64,
    issued_on: String,
    first_name: String,
    last_name: String,
    father_name: String,
    national_id: String,
    birth_date: String,
    standard_code: String,
    title_fa: String,
}

/// Prints with their holders, in one statement: `filter` is the `WHERE …` (and `ORDER BY …`)
/// over `cp` (the print) and `c` (its certificate).
/// One page of prints in a status (see `Store::print_page`), for the store and `plans`.
pub(crate) fn print_page_query(
    province: Option<i64>,
    status: PrintStatus,
    cursor: Cursor,
) -> (String, Terms) {
    let terms = Terms::new()
        .int("cp.province_id = ?", province)
        .text("cp.status = ?", Some(status.as_str()));
    (prints_with_holders(&terms.page_sql("cp.id", cursor)), terms)
}

fn prints_with_holders(filter: &str) -> String {
    format!(
        "SELECT cp.id, cp.certificate_id, cp.serial, cp.status, cp.chip_uid, cp.credential, cp.kid, \
         cp.inspected_at, cp.chip_verified_at, cp.spoil_reason, cp.created_at, {}, \
         c.number, c.candidate_id, c.province_id, p.code AS province_code, p.name_fa AS province_name, \
         c.final_score, c.issued_on, k.first_name, k.last_name, k.father_name, k.national_id, k.birth_date, \
         t.standard_code, t.title_fa \
         FROM card_prints cp JOIN certificates c ON c.id = cp.certificate_id \
         JOIN candidates k ON k.id = c.candidate_id JOIN trades t ON t.id = k.trade_id \
         JOIN provinces p ON p.id = c.province_id {filter}",
        open_cases("cp.id")
    )
}

impl PrintAndHolder {
    fn view(self) -> Result<PrintView> {
        let r = self;
        let row: PrintRow = (
            r.id,
            r.certificate_id,
            r.serial,
            r.status,
            r.chip_uid,
            r.credential,
            r.kid,
            r.inspected_at,
            r.chip_verified_at,
            r.spoil_reason,
            r.created_at,
            r.open_cases,
        );
        let h = Holder {
            certificate_no: r.number,
            candidate_id: r.candidate_id,
            province_id: r.province_id,
            province_code: r.province_code,
            province_name: r.province_name,
            score_tenths: r.final_score,
            issued_on: r.issued_on,
            given_name: r.first_name,
            family_name: r.last_name,
            father_name: r.father_name,
            national_id: r.national_id,
            birth_date: r.birth_date,
            standard_code: r.standard_code,
            trade_title: r.title_fa,
        };
        assemble(row, h)
    }
}

async fn print_in(conn: &mut AnyConnection, print_id: i64) -> Result<PrintView> {
    let r: PrintAndHolder = sqlx::query_as(&prints_with_holders("WHERE cp.id = $1"))
        .bind(print_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(DomainError::NotFound { what: "print" })?;
    r.view()
}

/// the signed credential (for the chip and the face's QR) is the printer's material; a
/// reader who may not print the card sees the print without it.
///
/// Every print the store returns passes here, which also gives it the actor's next steps.
fn for_actor(mut v: PrintView, actor: &Actor) -> PrintView {
    if authorize(actor, Action::PrintCard, Some(v.province_id)).is_err() {
        v.credential_hex.clear();
        v.qr_text.clear();
    }
    v.next_actions = NextActions::for_actor(
        actor,
        Some(v.province_id),
        workflow::print(&v.progress(), v.in_case),
    );
    v
}

fn assemble(r: PrintRow, h: Holder) -> Result<PrintView> {
    let status = views::state("print status", &r.3, PrintStatus::parse)?;
    Ok(PrintView {
        id: r.0,
        certificate_id: r.1,
        certificate_no: h.certificate_no,
        candidate_id: h.candidate_id,
        province_id: h.province_id,
        province_name: h.province_name,
        serial: r.2 as u64,
        status_fa: status.label_fa().to_string(),
        status,
        chip_uid: hex::encode(&r.4),
        kid: r.6,
        qr_text: to_qr_text(&r.5),
        credential_hex: hex::encode(&r.5),
        inspected: r.7.is_some(),
        chip_verified: r.8.is_some(),
        spoil_reason: r.9,
        created_at: r.10,
        given_name: h.given_name,
        family_name: h.family_name,
        father_name: h.father_name,
        national_id: h.national_id,
        birth_date: h.birth_date,
        trade_title: h.trade_title,
        standard_code: h.standard_code,
        final_score: score_text(h.score_tenths),
        issued_on_fa: iso_fa(&h.issued_on),
        issued_on: h.issued_on,
        in_case: r.11 > 0,
        next_actions: NextActions::default(),
    })
}

/// Takes the card for a print: the named serial if it is in this province's office stock, else
/// the lowest serial there (the office uses its stock in order, as Security hands it over).
async fn take_card(w: &mut WriteTx, province_id: i64, serial: Option<u64>) -> Result<u64> {
    let serial = match serial {
        Some(s) => {
            let row: Option<(i64, String)> =
                sqlx::query_as("SELECT province_id, state FROM cards WHERE serial = $1")
                    .bind(s as i64)
                    .fetch_optional(&mut *w.tx)
                    .await?;
            match row {
                Some((p, state)) if p == province_id && state == CardState::WithOffice.as_str() => {
                }
                _ => return Err(DomainError::CardNotInOfficeStock { serial: s }.into()),
            }
            s
        }
        None => {
            let (lowest,): (Option<i64>,) = sqlx::query_as(
                "SELECT MIN(serial) FROM cards WHERE province_id = $1 AND state = 'with_office'",
            )
            .bind(province_id)
            .fetch_one(&mut *w.tx)
            .await?;
            lowest.ok_or(DomainError::NoOfficeStock)? as u64
        }
    };
    move_card(w, serial, CardState::WithOffice, CardState::Printing).await?;
    Ok(serial)
}

fn check_uid(uid: &[u8]) -> Result<()> {
    if !(4..=16).contains(&uid.len()) {
        return Err(DomainError::InvalidValue { field: "chip_uid" }.into());
    }
    Ok(())
}

/// A subquery: HQ's reprint authorisation for `certificate` (an SQL expression) not yet used by
/// a registered card, if any.
fn open_authorisation(certificate: &str) -> String {
    format!(
        "(SELECT i.case_id FROM case_items i JOIN cases ca ON ca.id = i.case_id \
         WHERE i.certificate_id = {certificate} AND ca.status = 'authorized' AND i.reprint_print_id IS NULL \
         ORDER BY i.case_id LIMIT 1)"
    )
}

/// What the certificate's earlier cards say about a new print.
pub(crate) async fn card_history(
    conn: &mut AnyConnection,
    certificate_id: i64,
) -> Result<CardHistory> {
    // One statement: the certificate's prints (none: one row of NULLs) and, on every row, HQ's
    // unused reprint authorisation if there is one.
    let rows: Vec<(Option<i64>, Option<String>, Option<i64>)> = sqlx::query_as(&format!(
        "SELECT p.id, p.status, {} \
         FROM (SELECT 1 AS one) x LEFT JOIN card_prints p ON p.certificate_id = $1",
        open_authorisation("$1")
    ))
    .bind(certificate_id)
    .fetch_all(&mut *conn)
    .await?;
    let with = |s: PrintStatus| {
        rows.iter()
            .find(|(_, st, _)| st.as_deref() == Some(s.as_str()))
            .and_then(|(id, _, _)| *id)
    };
    Ok(CardHistory {
        open_print: with(PrintStatus::Printing),
        bound_print: with(PrintStatus::Bound),
        had_registered_card: with(PrintStatus::Damaged).is_some()
            || with(PrintStatus::Void).is_some(),
        open_authorisation: rows.first().and_then(|(_, _, case)| *case),
    })
}

/// A card in service and the key that signed it (see [`Store::cards_signed_by`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCard {
    pub print_id: i64,
    pub serial: i64,
    pub certificate_no: String,
    pub province_code: String,
    pub registered_on: String,
}

impl Store {
    /// The registered cards whose credential `kid` signed, 1,000 after print `after` in print
    /// order: the cards to call back and reprint when that key is revoked. For the operator's
    /// command line, which reads the whole database as `check` does.
    pub async fn cards_signed_by(&self, kid: &str, after: i64) -> Result<Vec<SignedCard>> {
        let rows: Vec<(i64, i64, String, String, Option<String>)> = sqlx::query_as(
            "SELECT p.id, p.serial, c.number, v.code, p.registered_on FROM card_prints p \
             JOIN certificates c ON c.id = p.certificate_id JOIN provinces v ON v.id = p.province_id \
             WHERE p.kid = $1 AND p.status = 'bound' AND p.id > $2 ORDER BY p.id LIMIT 1000",
        )
        .bind(kid)
        .bind(after)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(print_id, serial, certificate_no, province_code, registered_on)| SignedCard {
                    print_id,
                    serial,
                    certificate_no,
                    province_code,
                    registered_on: registered_on.unwrap_or_default(),
                },
            )
            .collect())
    }

    /// Opens a print for an issued certificate (R-6.8's first half): takes a card from the
    /// office stock, signs the credential for it and the chip whose UID the workstation read,
    /// and keeps the signed bytes for the face's QR and the chip.
    pub async fn start_print(
        &self,
        actor: &Actor,
        certificate_id: i64,
        chip_uid: &[u8],
        serial: Option<u64>,
        key: Option<&IssuerKey>,
    ) -> Result<PrintView> {
        check_uid(chip_uid)?;
        let mut w = WriteTx::begin(self).await?;
        let h = holder(&mut w.tx, certificate_id).await?;
        authorize(actor, Action::PrintCard, Some(h.province_id))?;
        let key = key.ok_or(DomainError::NoSigningKey)?;
        let history = card_history(&mut w.tx, certificate_id).await?;
        rules::r6_8_check_can_start(&history)?;
        let serial = take_card(&mut w, h.province_id, serial).await?;
        let claims = Claims {
            certificate_no: h.certificate_no.clone(),
            given_name: h.given_name.clone(),
            family_name: h.family_name.clone(),
            father_name: h.father_name.clone(),
            national_id: h.national_id.clone(),
            trade_code: h.standard_code.clone(),
            trade_title: h.trade_title.clone(),
            score: u16::try_from(h.score_tenths)
                .map_err(|_| StoreError::Corrupt("score".into()))?,
            issued_on: h.issued_on.clone(),
            province_code: h.province_code.clone(),
            card_serial: serial,
            chip_uid: chip_uid.to_vec(),
        };
        let credential = crate::signing::with_key(key, |k| sign(&claims, k))
            .map_err(|e| StoreError::Corrupt(format!("signing: {e}")))?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO card_prints (certificate_id, province_id, serial, status, chip_uid, credential, kid, created_by, created_at) \
             VALUES ($1, $2, $3, 'printing', $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(certificate_id)
        .bind(h.province_id)
        .bind(serial as i64)
        .bind(chip_uid.to_vec())
        .bind(credential.clone())
        .bind(key.kid())
        .bind(actor.user_id)
        .bind(w.now_str())
        .fetch_one(&mut *w.tx)
        .await
        .map_err(|e| crate::error::unique_to(e, DomainError::Conflict))?;
        refresh_card_due(&mut w.tx, certificate_id).await?;
        w.audit(
            Some(actor),
            "card.print.start",
            "card_print",
            id,
            Some(h.province_id),
            json!({ "serial": serial, "state": "with_office" }),
            json!({
                "certificate": h.certificate_no, "serial": serial, "state": "printing",
                "chip_uid": hex::encode(chip_uid), "kid": key.kid(),
                "credential_sha256": hex::encode(Sha256::digest(&credential)),
            }),
        )
        .await?;
        let v = print_in(&mut w.tx, id).await?;
        w.commit().await?;
        Ok(for_actor(v, actor))
    }

    /// Loads a print for a step, inside the step's transaction, and checks who may take it.
    async fn print_for_step(&self, w: &mut WriteTx, actor: &Actor, id: i64) -> Result<PrintView> {
        let v = print_in(&mut w.tx, id).await?;
        authorize(actor, Action::PrintCard, Some(v.province_id))?;
        rules::check_printing(&v.progress())?;
        Ok(v)
    }

    /// the clerk's inspection of the printed face. A damaged card is spoiled at once.
    pub async fn record_print_inspection(
        &self,
        actor: &Actor,
        print_id: i64,
        sound: bool,
        reason: &str,
    ) -> Result<PrintView> {
        match rules::r6_7_inspection(sound, reason)? {
            Inspection::Damaged { reason } => self.spoil_print(actor, print_id, &reason).await,
            Inspection::Sound => {
                let mut w = WriteTx::begin(self).await?;
                let v = self.print_for_step(&mut w, actor, print_id).await?;
                if v.inspected {
                    return Err(DomainError::AlreadyRecorded { what: "print" }.into());
                }
                sqlx::query("UPDATE card_prints SET inspected_at = $1 WHERE id = $2")
                    .bind(w.now_str())
                    .bind(print_id)
                    .execute(&mut *w.tx)
                    .await?;
                w.audit(
                    Some(actor),
                    "card.print.inspect",
                    "card_print",
                    print_id,
                    Some(v.province_id),
                    json!({ "inspected": false }),
                    json!({ "serial": v.serial, "inspected": true, "sound": true }),
                )
                .await?;
                w.commit().await?;
                let v = PrintView {
                    inspected: true,
                    ..v
                };
                Ok(for_actor(v, actor))
            }
        }
    }

    /// the workstation reports what it read back from the chip after writing it; it must
    /// be the credential signed for this print, from the chip the credential names.
    pub async fn confirm_chip(
        &self,
        actor: &Actor,
        print_id: i64,
        chip_uid: &[u8],
        read_back: &[u8],
    ) -> Result<PrintView> {
        let mut w = WriteTx::begin(self).await?;
        let v = self.print_for_step(&mut w, actor, print_id).await?;
        let stored = |h: &str| hex::decode(h).map_err(|e| StoreError::Corrupt(e.to_string()));
        let (uid, credential) = (stored(&v.chip_uid)?, stored(&v.credential_hex)?);
        rules::r6_8_check_read_back(&credential, &uid, read_back, chip_uid)?;
        if v.chip_verified {
            return Ok(for_actor(v, actor));
        }
        sqlx::query("UPDATE card_prints SET chip_verified_at = $1 WHERE id = $2")
            .bind(w.now_str())
            .bind(print_id)
            .execute(&mut *w.tx)
            .await?;
        w.audit(
            Some(actor),
            "card.print.chip",
            "card_print",
            print_id,
            Some(v.province_id),
            json!({ "chip_verified": false }),
            json!({ "serial": v.serial, "chip_verified": true, "chip_uid": hex::encode(chip_uid) }),
        )
        .await?;
        w.commit().await?;
        let v = PrintView {
            chip_verified: true,
            ..v
        };
        Ok(for_actor(v, actor))
    }

    /// R-6.7 (and any failure before registration): the card is spoiled, with its reason, and
    /// its serial is never used again; the certificate may be printed on another card.
    pub async fn spoil_print(
        &self,
        actor: &Actor,
        print_id: i64,
        reason: &str,
    ) -> Result<PrintView> {
        let reason = skillcard_core::text::required("reason", reason, 500)?;
        let mut w = WriteTx::begin(self).await?;
        let v = self.print_for_step(&mut w, actor, print_id).await?;
        move_card(&mut w, v.serial, CardState::Printing, CardState::Spoiled).await?;
        sqlx::query(
            "UPDATE card_prints SET status = 'spoiled', spoil_reason = $1, finished_at = $2 WHERE id = $3",
        )
        .bind(&reason)
        .bind(w.now_str())
        .bind(print_id)
        .execute(&mut *w.tx)
        .await?;
        refresh_card_due(&mut w.tx, v.certificate_id).await?;
        w.audit(
            Some(actor),
            "card.print.spoil",
            "card_print",
            print_id,
            Some(v.province_id),
            json!({ "serial": v.serial, "state": "printing" }),
            json!({ "serial": v.serial, "state": "spoiled", "reason": reason, "certificate": v.certificate_no }),
        )
        .await?;
        w.commit().await?;
        Ok(for_actor(
            finished(v, PrintStatus::Spoiled, Some(reason)),
            actor,
        ))
    }

    /// registers the card's serial against its certificate once printing, inspection and
    /// the chip write have all succeeded. The card leaves the office stock for good and counts as
    /// issued this month (Note 2's cap).
    pub async fn register_print(&self, actor: &Actor, print_id: i64) -> Result<PrintView> {
        let mut w = WriteTx::begin(self).await?;
        let v = print_in(&mut w.tx, print_id).await?;
        authorize(actor, Action::PrintCard, Some(v.province_id))?;
        rules::r6_9_check_registrable(&v.progress())?;
        // a reprint after a damaged or voided card uses up HQ's authorisation, once.
        let history = card_history(&mut w.tx, v.certificate_id).await?;
        rules::r6_8_check_can_start(&CardHistory {
            open_print: None,
            ..history
        })?;
        if let (true, Some(case_id)) = (history.had_registered_card, history.open_authorisation) {
            let used = sqlx::query(
                "UPDATE case_items SET reprint_print_id = $1 WHERE case_id = $2 AND certificate_id = $3 \
                 AND reprint_print_id IS NULL",
            )
            .bind(print_id)
            .bind(case_id)
            .bind(v.certificate_id)
            .execute(&mut *w.tx)
            .await?;
            if used.rows_affected() != 1 {
                return Err(DomainError::ReprintNotAuthorized.into());
            }
        }
        move_card(&mut w, v.serial, CardState::Printing, CardState::Bound).await?;
        sqlx::query(
            "UPDATE card_prints SET status = 'bound', finished_at = $1, registered_on = $2 WHERE id = $3",
        )
        .bind(w.now_str())
        .bind(w.today().to_string())
        .bind(print_id)
        .execute(&mut *w.tx)
        .await?;
        refresh_card_due(&mut w.tx, v.certificate_id).await?;
        w.audit(
            Some(actor),
            "card.register",
            "card_print",
            print_id,
            Some(v.province_id),
            json!({ "serial": v.serial, "state": "printing" }),
            json!({
                "serial": v.serial, "state": "bound", "certificate": v.certificate_no,
                "reprint_of_case": history.had_registered_card.then_some(history.open_authorisation).flatten(),
            }),
        )
        .await?;
        let event = if history.had_registered_card {
            LogEvent::Reissued
        } else {
            LogEvent::Issued
        };
        crate::transparency::append(&mut w, print_id, event).await?;
        crate::notify::enqueue_for_certificate(
            &mut w,
            v.certificate_id,
            skillcard_core::notice::NoticeKind::CardReady,
            0,
        )
        .await?;
        w.commit().await?;
        Ok(for_actor(finished(v, PrintStatus::Bound, None), actor))
    }

    /// One print, as the workstation and the pages see it.
    pub async fn card_print(&self, actor: &Actor, print_id: i64) -> Result<PrintView> {
        let mut conn = self.pool.acquire().await?;
        let v = print_in(&mut conn, print_id).await?;
        authorize(actor, Action::ViewExams, Some(v.province_id))?;
        Ok(for_actor(v, actor))
    }

    /// The print of a card serial, if the serial was ever taken for a certificate, within the
    /// actor's reach (a serial of another province reads as not found).
    pub async fn print_id_by_serial(&self, actor: &Actor, serial: u64) -> Result<Option<i64>> {
        authorize(actor, Action::ViewExams, None)?;
        let row: Option<(i64,)> = sqlx::query_as(
            "SELECT id FROM card_prints WHERE serial = $1 AND ($2 IS NULL OR province_id = $2)",
        )
        .bind(serial as i64)
        .bind(actor.scope().province_filter())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(id,)| id))
    }

    /// The prints of one certificate, oldest first (spoiled ones included).
    pub async fn certificate_prints(
        &self,
        actor: &Actor,
        certificate_id: i64,
    ) -> Result<Vec<PrintView>> {
        let mut conn = self.pool.acquire().await?;
        let h = holder(&mut conn, certificate_id).await?;
        authorize(actor, Action::ViewExams, Some(h.province_id))?;
        let rows: Vec<PrintAndHolder> = sqlx::query_as(&prints_with_holders(
            "WHERE cp.certificate_id = $1 ORDER BY cp.id",
        ))
        .bind(certificate_id)
        .fetch_all(&mut *conn)
        .await?;
        rows.into_iter()
            .map(|r| Ok(for_actor(r.view()?, actor)))
            .collect()
    }

    /// Prints in one status within the actor's reach (the clerk's queue: `printing`).
    pub async fn card_prints(&self, actor: &Actor, status: PrintStatus) -> Result<Vec<PrintView>> {
        authorize(actor, Action::ViewExams, None)?;
        let rows: Vec<PrintAndHolder> = sqlx::query_as(&prints_with_holders(
            "WHERE cp.status = $1 AND ($2 IS NULL OR cp.province_id = $2) ORDER BY cp.id LIMIT 500",
        ))
        .bind(status.as_str())
        .bind(actor.scope().province_filter())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| Ok(for_actor(r.view()?, actor)))
            .collect()
    }

    /// Prints in one status within the actor's reach, newest first, a page at a time (`before`:
    /// the previous page's `next_before`).
    pub async fn print_page(
        &self,
        actor: &Actor,
        status: PrintStatus,
        cursor: Cursor,
    ) -> Result<Page<PrintView>> {
        authorize(actor, Action::ViewExams, None)?;
        let (sql, terms) = print_page_query(actor.scope().province_filter(), status, cursor);
        let rows: Vec<PrintAndHolder> = terms
            .bind_page(sqlx::query_as(&sql), cursor)
            .fetch_all(&self.pool)
            .await?;
        let views = rows
            .into_iter()
            .map(|r| Ok(for_actor(r.view()?, actor)))
            .collect::<Result<Vec<_>>>()?;
        Ok(Page::from_rows(views, cursor.clamped(), |v| v.id))
    }

    /// Whether a new print of the certificate may start now, and if not, why:
    /// the core's `r6_8_check_can_start` over the certificate's card history.
    pub async fn print_start(
        &self,
        actor: &Actor,
        certificate_id: i64,
    ) -> Result<Result<(), DomainError>> {
        let mut conn = self.pool.acquire().await?;
        let h = holder(&mut conn, certificate_id).await?;
        authorize(actor, Action::ViewExams, Some(h.province_id))?;
        let history = card_history(&mut conn, certificate_id).await?;
        Ok(authorize(actor, Action::PrintCard, Some(h.province_id))
            .and_then(|()| rules::r6_8_check_can_start(&history)))
    }

    /// The holder's photo for the face of a print: the card printer's file, so only for the
    /// issuance staff of the print's province.
    pub async fn print_photo(&self, actor: &Actor, print_id: i64) -> Result<Option<Vec<u8>>> {
        let v = self.card_print(actor, print_id).await?;
        authorize(actor, Action::PrintCard, Some(v.province_id))?;
        let mut conn = self.pool.acquire().await?;
        let (photo,): (Option<Vec<u8>>,) =
            sqlx::query_as("SELECT photo FROM candidates WHERE id = $1")
                .bind(v.candidate_id)
                .fetch_one(&mut *conn)
                .await?;
        Ok(photo)
    }
}

/// An issued certificate that has no card in progress or registered yet.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AwaitingCard {
    pub certificate_id: i64,
    pub certificate_no: String,
    pub candidate_id: i64,
    pub holder: String,
}

impl Store {
    /// The clerk's queue of certificates to print a card for (a spoiled card puts its
    /// certificate back here; a damaged or voided one only with HQ's authorisation), oldest
    /// first: a seek on the kept marker (db/queues.rs).
    pub async fn awaiting_card(&self, actor: &Actor, limit: i64) -> Result<Vec<AwaitingCard>> {
        authorize(actor, Action::ViewExams, None)?;
        let (sql, terms) =
            awaiting_card_query(actor.scope().province_filter(), limit.clamp(1, PAGE_MAX));
        let rows: Vec<(i64, String, i64, String, String)> = terms
            .bind(sqlx::query_as(&sql))
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(id, no, cand, first, last)| AwaitingCard {
                certificate_id: id,
                certificate_no: no,
                candidate_id: cand,
                holder: format!("{first} {last}"),
            })
            .collect())
    }
}

/// The oldest `limit` certificates that may start a print (see `Store::awaiting_card`), for the
/// store and `plans`.
pub(crate) fn awaiting_card_query(province: Option<i64>, limit: i64) -> (String, Terms) {
    // The marker is the partial index's own condition: walking it reads only what is due.
    let terms = Terms::new().int("c.province_id = ?", province);
    let sql = format!(
        "SELECT c.id, c.number, c.candidate_id, k.first_name, k.last_name \
         FROM certificates c JOIN candidates k ON k.id = c.candidate_id {} ORDER BY c.id LIMIT {limit}",
        terms.where_sql_and("c.card_due = 1")
    );
    (sql, terms)
}
