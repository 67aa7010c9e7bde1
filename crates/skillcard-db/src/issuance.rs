//! Part 2 issuance: the fee, by a verified gateway callback or a clerk's entry of a bank
//! receipt, and the certificate once the clerk has matched the candidate's data against
//! the approved exam record. Rules come from `skillcard_core::issuance`.

use crate::error::unique_to;
use crate::exams::EntryView;
use crate::queues;
use crate::tx::WriteTx;
use crate::views::{self, iso_fa};
use crate::{Result, Store, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::json;
use skillcard_core::date::JalaliDate;
use skillcard_core::exam::Score;
use skillcard_core::issuance::{self as rules, FeeKind, PaymentSource};
use skillcard_core::policy::{authorize, Action, Actor};
use skillcard_core::workflow::{self, NextActions};
use skillcard_core::{text, DomainError};
use sqlx::AnyConnection;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PaymentView {
    pub id: i64,
    pub candidate_id: i64,
    #[schema(value_type = String)]
    pub kind: FeeKind,
    pub amount_rial: i64,
    pub reference: String,
    /// `gateway` or `bank_receipt`.
    #[schema(value_type = String)]
    pub source: PaymentSource,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CertificateView {
    pub id: i64,
    pub number: String,
    pub final_score: String,
    pub issued_on: String,
    pub issued_on_fa: String,
    pub status: String,
}

/// What the issuance clerk sees for: the candidate's record beside the approved exam
/// record, the fee and its payments, and the certificate once issued.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IssuanceView {
    pub candidate_id: i64,
    pub province_id: i64,
    pub exam_list_id: i64,
    pub centre_name: String,
    pub standard_code: String,
    pub trade_title: String,
    pub exam_date_fa: String,
    pub entry: EntryView,
    pub fee_rial: Option<i64>,
    pub payments: Vec<PaymentView>,
    pub paid: bool,
    pub certificate: Option<CertificateView>,
    /// What the reader can do for this candidate now (the fee, the certificate, a print), and
    /// what the issuance waits for from others.
    #[schema(value_type = Object)]
    pub next_actions: NextActions,
}

/// The body the payment gateway posts to the callback, signed with HMAC-SHA256.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct GatewayCallback {
    pub candidate_id: i64,
    pub reference: String,
    pub amount_rial: i64,
}

pub(crate) async fn fee_in(conn: &mut AnyConnection, kind: FeeKind) -> Result<Option<i64>> {
    let row: Option<(i64,)> =
        sqlx::query_as("SELECT amount_rial FROM fees WHERE kind = $1 ORDER BY id DESC LIMIT 1")
            .bind(kind.as_str())
            .fetch_optional(&mut *conn)
            .await?;
    Ok(row.map(|(a,)| a))
}

async fn candidate_province(conn: &mut AnyConnection, candidate_id: i64) -> Result<i64> {
    let (p,): (i64,) = sqlx::query_as("SELECT province_id FROM candidates WHERE id = $1")
        .bind(candidate_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(DomainError::NotFound { what: "candidate" })?;
    Ok(p)
}

async fn payments_of(conn: &mut AnyConnection, candidate_id: i64) -> Result<Vec<PaymentView>> {
    let rows: Vec<(i64, String, i64, String, String, String)> = sqlx::query_as(
        "SELECT id, kind, amount_rial, reference, source, created_at FROM payments WHERE candidate_id = $1 ORDER BY id",
    )
    .bind(candidate_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(|(id, kind, amount_rial, reference, source, created_at)| {
            Ok(PaymentView {
                id,
                candidate_id,
                kind: views::state("fee kind", &kind, FeeKind::parse)?,
                amount_rial,
                reference,
                source: views::state("payment source", &source, PaymentSource::parse)?,
                created_at,
            })
        })
        .collect()
}

/// Inserts a payment unless its reference is already recorded: the same reference again is the
/// same payment (a repeated callback) and changes nothing; a different payment under a used
/// reference is a conflict.
async fn insert_payment(
    w: &mut WriteTx,
    by: Option<&Actor>,
    province_id: i64,
    candidate_id: i64,
    reference: &str,
    amount: i64,
    source: PaymentSource,
) -> Result<(PaymentView, bool)> {
    let existing: Option<(i64, i64, String)> = sqlx::query_as(
        "SELECT id, candidate_id, source FROM payments WHERE reference = $1 AND amount_rial = $2",
    )
    .bind(reference)
    .bind(amount)
    .fetch_optional(&mut *w.tx)
    .await?;
    if let Some((id, cid, _)) = existing {
        if cid == candidate_id {
            let p = payments_of(&mut w.tx, candidate_id)
                .await?
                .into_iter()
                .find(|p| p.id == id);
            return Ok((
                p.ok_or_else(|| StoreError::Corrupt("payment vanished".into()))?,
                false,
            ));
        }
    }
    let fee = fee_in(&mut w.tx, FeeKind::Issuance)
        .await?
        .ok_or(DomainError::NotFound { what: "fee" })?;
    rules::r6_5_check_amount(amount, fee)?;
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO payments (candidate_id, kind, amount_rial, reference, source, recorded_by, created_at) \
         VALUES ($1, 'issuance', $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(candidate_id)
    .bind(amount)
    .bind(reference)
    .bind(source.as_str())
    .bind(by.map(|a| a.user_id))
    .bind(w.now_str())
    .fetch_one(&mut *w.tx)
    .await
    .map_err(|e| unique_to(e, DomainError::AlreadyRecorded { what: "reference" }))?;
    w.audit(
        by,
        "payment.record",
        "payment",
        id,
        Some(province_id),
        json!(null),
        json!({ "candidate_id": candidate_id, "reference": reference, "amount_rial": amount, "source": source }),
    )
    .await?;
    let p = payments_of(&mut w.tx, candidate_id)
        .await?
        .into_iter()
        .find(|p| p.id == id);
    Ok((
        p.ok_or_else(|| StoreError::Corrupt("payment vanished".into()))?,
        true,
    ))
}

impl Store {
    /// the clerk records a bank receipt for the issuance fee.
    pub async fn record_bank_payment(
        &self,
        actor: &Actor,
        candidate_id: i64,
        reference: &str,
        amount_rial: i64,
    ) -> Result<IssuanceView> {
        let reference = text::required("reference", reference, 64)?;
        let mut w = WriteTx::begin(self).await?;
        let province_id = candidate_province(&mut w.tx, candidate_id).await?;
        authorize(actor, Action::RecordPayment, Some(province_id))?;
        let (decision, passes) = crate::exams::outcome_in(&mut w.tx, candidate_id).await?;
        rules::r6_5_check_payable(decision, passes)?;
        insert_payment(
            &mut w,
            Some(actor),
            province_id,
            candidate_id,
            &reference,
            amount_rial,
            PaymentSource::BankReceipt,
        )
        .await?;
        w.commit().await?;
        self.issuance(actor, candidate_id).await
    }

    /// the gateway's callback. The signature is checked over the exact body bytes before
    /// anything is parsed; a repeated callback records nothing new. Returns the payment and
    /// whether it was new.
    pub async fn gateway_payment(
        &self,
        secret: &[u8],
        body: &[u8],
        signature: &str,
    ) -> Result<(PaymentView, bool)> {
        rules::verify_gateway_signature(secret, body, signature)?;
        let cb: GatewayCallback = serde_json::from_slice(body)
            .map_err(|_| DomainError::InvalidValue { field: "body" })?;
        let reference = text::required("reference", &cb.reference, 64)?;
        let mut w = WriteTx::begin(self).await?;
        let province_id = candidate_province(&mut w.tx, cb.candidate_id).await?;
        let (decision, passes) = crate::exams::outcome_in(&mut w.tx, cb.candidate_id).await?;
        rules::r6_5_check_payable(decision, passes)?;
        let (payment, new) = insert_payment(
            &mut w,
            None,
            province_id,
            cb.candidate_id,
            &reference,
            cb.amount_rial,
            PaymentSource::Gateway,
        )
        .await?;
        w.commit().await?;
        Ok((payment, new))
    }

    /// the clerk confirms the data match and issues the certificate.
    pub async fn issue_certificate(
        &self,
        actor: &Actor,
        candidate_id: i64,
        data_confirmed: bool,
    ) -> Result<IssuanceView> {
        let view = self.issuance(actor, candidate_id).await?;
        authorize(actor, Action::IssueCertificate, Some(view.province_id))?;
        if view.certificate.is_some() {
            return Err(DomainError::AlreadyRecorded {
                what: "certificate",
            }
            .into());
        }
        rules::r6_6_check_issuable(
            view.entry.decision,
            view.entry.passes == Some(true),
            view.paid,
            data_confirmed,
        )?;
        let final_score = Score::parse(view.entry.final_score.as_deref().unwrap_or(""))?;
        let mut w = WriteTx::begin(self).await?;
        // Re-read inside the transaction: a concurrent issuance may have won.
        let taken: Option<(i64,)> =
            sqlx::query_as("SELECT id FROM certificates WHERE candidate_id = $1")
                .bind(candidate_id)
                .fetch_optional(&mut *w.tx)
                .await?;
        if taken.is_some() {
            return Err(DomainError::AlreadyRecorded {
                what: "certificate",
            }
            .into());
        }
        let today = w.today();
        let year = JalaliDate::from_gregorian(today)?.year;
        let (code,): (String,) = sqlx::query_as("SELECT code FROM provinces WHERE id = $1")
            .bind(view.province_id)
            .fetch_one(&mut *w.tx)
            .await?;
        let (n,): (i64,) = sqlx::query_as("SELECT CAST(COUNT(*) AS BIGINT) FROM certificates WHERE province_id = $1 AND issued_year = $2")
            .bind(view.province_id)
            .bind(i64::from(year))
            .fetch_one(&mut *w.tx)
            .await?;
        let number = rules::certificate_number(&code, year, n + 1);
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO certificates (candidate_id, number, province_id, issued_year, final_score, issued_on, issued_by, status) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'issued') RETURNING id",
        )
        .bind(candidate_id)
        .bind(&number)
        .bind(view.province_id)
        .bind(i64::from(year))
        .bind(i64::from(final_score.tenths()))
        .bind(today.to_string())
        .bind(actor.user_id)
        .fetch_one(&mut *w.tx)
        .await
        .map_err(|e| unique_to(e, DomainError::AlreadyRecorded { what: "certificate" }))?;
        queues::refresh_certificate_due(&mut w.tx, candidate_id).await?;
        queues::refresh_card_due(&mut w.tx, id).await?;
        w.audit(
            Some(actor),
            "certificate.issue",
            "certificate",
            id,
            Some(view.province_id),
            json!(null),
            json!({ "number": number, "candidate_id": candidate_id, "national_id": view.entry.national_id, "final_score": final_score.to_string(), "status": "issued" }),
        )
        .await?;
        w.commit().await?;
        // The view as it now stands, with the steps the certificate opens (a print).
        self.issuance(actor, candidate_id).await
    }

    /// R-6.6's side-by-side view for one candidate.
    pub async fn issuance(&self, actor: &Actor, candidate_id: i64) -> Result<IssuanceView> {
        let mut conn = self.pool.acquire().await?;
        let (province_id, list_id): (i64, i64) = sqlx::query_as(
            "SELECT c.province_id, e.list_id FROM candidates c JOIN exam_entries e ON e.candidate_id = c.id \
             WHERE c.id = $1",
        )
        .bind(candidate_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(DomainError::NotFound { what: "candidate" })?;
        authorize(actor, Action::ViewExams, Some(province_id))?;
        drop(conn);
        let list = self
            .exam_list_entries(actor, list_id, Some(candidate_id))
            .await?;
        let entry = list
            .entries
            .into_iter()
            .find(|e| e.candidate_id == candidate_id)
            .ok_or_else(|| {
                StoreError::Corrupt(format!("candidate {candidate_id} not on list {list_id}"))
            })?;
        let mut conn = self.pool.acquire().await?;
        let fee = fee_in(&mut conn, FeeKind::Issuance).await?;
        let payments = payments_of(&mut conn, candidate_id).await?;
        let paid = payments.iter().any(|p| p.kind == FeeKind::Issuance);
        let cert: Option<(i64, String, i64, String, String)> =
            sqlx::query_as("SELECT id, number, final_score, issued_on, status FROM certificates WHERE candidate_id = $1")
                .bind(candidate_id)
                .fetch_optional(&mut *conn)
                .await?;
        let history = match &cert {
            Some((id, ..)) => Some(crate::printing::card_history(&mut conn, *id).await?),
            None => None,
        };
        let next_actions = NextActions::for_actor(
            actor,
            Some(province_id),
            workflow::issuance(&workflow::Issuance {
                decision: entry.decision,
                passes: entry.passes,
                paid,
                certificate: history,
            }),
        );
        let certificate = cert.map(|(id, number, score, on, status)| CertificateView {
            id,
            number,
            final_score: crate::exams::score_text(score),
            issued_on_fa: iso_fa(&on),
            issued_on: on,
            status,
        });
        Ok(IssuanceView {
            candidate_id,
            province_id,
            exam_list_id: list_id,
            centre_name: list.centre_name,
            standard_code: list.standard_code,
            trade_title: list.trade_title,
            exam_date_fa: list.exam_date_fa,
            entry,
            fee_rial: fee,
            payments,
            paid,
            certificate,
            next_actions,
        })
    }
}
