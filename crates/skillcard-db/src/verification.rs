//! Public verification (no account): what anyone shown a card may learn about it — whether the
//! certificate and that very card stand, with the holder's name, trade, score and issue date and
//! a masked national code. Lookups by certificate number need the national code too, so numbers
//! cannot be enumerated.

use crate::views::iso_fa;
use crate::{Result, Store};
use serde::Serialize;
use skillcard_core::national_id::NationalId;
use skillcard_core::printing::{public_standing, PrintStatus};
use utoipa::ToSchema;

/// The standing of a certificate and its card, as the public sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicStatus {
    /// `valid` (registered card of an issued certificate), `not_issued` (signed but never
    /// registered: a card still in printing) or `void` (spoiled at printing, never valid).
    pub standing: String,
    pub certificate_no: String,
    pub given_name: String,
    pub family_name: String,
    /// `04******99`.
    pub national_id_masked: String,
    pub trade_title: String,
    pub standard_code: String,
    pub final_score: String,
    pub issued_on_fa: String,
    /// The serial of the card that stands for the certificate, if any.
    pub card_serial: Option<u64>,
}

type Row = (
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    String,
);

impl Store {
    async fn public_row(&self, certificate_no: &str) -> Result<Option<Row>> {
        Ok(sqlx::query_as(
            "SELECT c.id, c.number, k.first_name, k.last_name, k.national_id, t.title_fa, t.standard_code, c.final_score, c.issued_on \
             FROM certificates c JOIN candidates k ON k.id = c.candidate_id JOIN trades t ON t.id = k.trade_id \
             WHERE c.number = $1 AND c.status = 'issued'",
        )
        .bind(certificate_no)
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn print_status_of(
        &self,
        certificate_id: i64,
        serial: Option<u64>,
    ) -> Result<(Option<PrintStatus>, Option<u64>, bool)> {
        let row: Option<(String, i64)> = match serial {
            Some(s) => sqlx::query_as("SELECT status, serial FROM card_prints WHERE certificate_id = $1 AND serial = $2")
                .bind(certificate_id)
                .bind(s as i64)
                .fetch_optional(&self.pool)
                .await?,
            None => sqlx::query_as("SELECT status, serial FROM card_prints WHERE certificate_id = $1 AND status = 'bound'")
                .bind(certificate_id)
                .fetch_optional(&self.pool)
                .await?,
        };
        let row = match row {
            Some(r) => Some(r),
            // No valid card: what became of the latest one.
            None if serial.is_none() => sqlx::query_as(
                "SELECT status, serial FROM card_prints WHERE certificate_id = $1 AND status <> 'printing' ORDER BY id DESC LIMIT 1",
            )
            .bind(certificate_id)
            .fetch_optional(&self.pool)
            .await?,
            None => None,
        };
        let (reissued,): (i64,) = sqlx::query_as(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM card_prints WHERE certificate_id = $1 AND status = 'bound'",
        )
        .bind(certificate_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(match row {
            Some((st, s)) => (PrintStatus::parse(&st), Some(s as u64), reissued > 0),
            None => (None, None, reissued > 0),
        })
    }

    fn public_status(
        row: Row,
        print: Option<PrintStatus>,
        serial: Option<u64>,
        reissued: bool,
    ) -> PublicStatus {
        let (_, number, first, last, nid, title, code, score, on) = row;
        PublicStatus {
            standing: public_standing(print, reissued).to_string(),
            certificate_no: number,
            given_name: first,
            family_name: last,
            national_id_masked: NationalId::parse(&nid)
                .map(|n| n.masked())
                .unwrap_or_default(),
            trade_title: title,
            standard_code: code,
            final_score: crate::exams::score_text(score),
            issued_on_fa: iso_fa(&on),
            card_serial: serial,
        }
    }

    /// The standing of the card a verified credential names (certificate number and serial).
    pub async fn public_card_status(
        &self,
        certificate_no: &str,
        serial: u64,
    ) -> Result<Option<PublicStatus>> {
        let Some(row) = self.public_row(certificate_no).await? else {
            return Ok(None);
        };
        let (print, serial, reissued) = self.print_status_of(row.0, Some(serial)).await?;
        Ok(Some(Self::public_status(row, print, serial, reissued)))
    }

    /// A lookup by certificate number and the holder's national code (both must match).
    pub async fn public_lookup(
        &self,
        certificate_no: &str,
        national_id: &NationalId,
    ) -> Result<Option<PublicStatus>> {
        let Some(row) = self.public_row(certificate_no).await? else {
            return Ok(None);
        };
        if row.4 != national_id.as_str() {
            return Ok(None);
        }
        let (print, serial, reissued) = self.print_status_of(row.0, None).await?;
        Ok(Some(Self::public_status(row, print, serial, reissued)))
    }
}
