//! Public verification (no account): what anyone shown a card may learn about it — whether the
//! certificate and that very card stand, with the holder's name, trade, score and issue date and
//! a masked national code. Lookups by certificate number need the national code too, so numbers
//! cannot be enumerated.

use crate::views::iso_fa;
use crate::{Result, Store};
use serde::Serialize;
use skillcard_core::national_id::NationalId;
use skillcard_core::printing::{public_standing, PrintStatus, Standing};
use skillcard_credential::transparency::LogEvent;
use std::sync::LazyLock;
use utoipa::ToSchema;

/// The standing of a certificate and its card, as the public sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicStatus {
    /// `valid` (registered card of an issued certificate), `not_issued` (signed but never
    /// registered: a card still in printing) or `void` (spoiled at printing, never valid).
    #[schema(value_type = String)]
    pub standing: Standing,
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

/// One certificate with the card that answers for it: the certificate's fields, that card's
/// print status and serial (if any), and how many of its cards are registered and in service.
type Row = (
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    String,
    Option<String>,
    Option<i64>,
    i64,
);

/// The certificate, its holder and trade; `{print}` picks the card that answers. One statement,
/// so that a verification costs one round trip (it is the busiest public read).
const PUBLIC_SQL: &str = "SELECT c.number, k.first_name, k.last_name, k.national_id, t.title_fa, t.standard_code, \
     c.final_score, c.issued_on, p.status, p.serial, \
     (SELECT CAST(COUNT(*) AS BIGINT) FROM card_prints b WHERE b.certificate_id = c.id AND b.status = 'bound') \
     FROM certificates c JOIN candidates k ON k.id = c.candidate_id JOIN trades t ON t.id = k.trade_id \
     LEFT JOIN card_prints p ON {print} \
     WHERE c.number = $1 AND c.status = 'issued'";

fn public_status(row: Row) -> PublicStatus {
    let (number, first, last, nid, title, code, score, on, print, serial, bound) = row;
    let print = print.as_deref().and_then(PrintStatus::parse);
    PublicStatus {
        standing: public_standing(print, bound > 0),
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
        card_serial: serial.map(|s| s as u64),
    }
}

impl Store {
    /// The standing of the card a verified credential names (certificate number and serial).
    pub async fn public_card_status(
        &self,
        certificate_no: &str,
        serial: u64,
    ) -> Result<Option<PublicStatus>> {
        static SQL: LazyLock<String> = LazyLock::new(|| {
            PUBLIC_SQL.replace("{print}", "p.certificate_id = c.id AND p.serial = $2")
        });
        let row: Option<Row> = sqlx::query_as(SQL.as_str())
            .bind(certificate_no)
            .bind(serial as i64)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(public_status))
    }

    /// A lookup by certificate number and the holder's national code (both must match). The
    /// card that answers is the registered one, or else the latest that left printing.
    pub async fn public_lookup(
        &self,
        certificate_no: &str,
        national_id: &NationalId,
    ) -> Result<Option<PublicStatus>> {
        static SQL: LazyLock<String> = LazyLock::new(|| {
            PUBLIC_SQL.replace(
                "{print}",
                "p.id = (SELECT x.id FROM card_prints x WHERE x.certificate_id = c.id AND x.status <> 'printing' \
                 ORDER BY CASE WHEN x.status = 'bound' THEN 0 ELSE 1 END, x.id DESC LIMIT 1)",
            ) + " AND k.national_id = $2"
        });
        let row: Option<Row> = sqlx::query_as(SQL.as_str())
            .bind(certificate_no)
            .bind(national_id.as_str())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(public_status))
    }
}

/// What the transparency log says changed since a reader last looked: the index to look from
/// next, and the serials of the cards that left service (damaged or voided) in between.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogChanges {
    pub next: u64,
    pub out_of_service: Vec<u64>,
}

/// Entries read per statement when catching up.
const CHANGES_PAGE: i64 = 5000;

impl Store {
    /// The cards taken out of service by log entries from index `from` on (every change of a
    /// registered card's standing appends one, in the change's own transaction); `None` starts
    /// at the log's current end. Readers that keep public answers in memory follow the log with
    /// this, whichever server made the change.
    pub async fn log_changes_since(&self, from: Option<u64>) -> Result<LogChanges> {
        let Some(mut next) = from else {
            return Ok(LogChanges {
                next: self.log_size().await?,
                out_of_service: Vec::new(),
            });
        };
        let mut out_of_service = Vec::new();
        loop {
            let rows: Vec<(i64, String, i64)> = sqlx::query_as(
                "SELECT e.idx, e.event, p.serial FROM log_entries e JOIN card_prints p ON p.id = e.print_id \
                 WHERE e.idx >= $1 ORDER BY e.idx LIMIT $2",
            )
            .bind(next as i64)
            .bind(CHANGES_PAGE)
            .fetch_all(&self.pool)
            .await?;
            let full = rows.len() as i64 == CHANGES_PAGE;
            for (idx, event, serial) in rows {
                next = idx as u64 + 1;
                if event == LogEvent::Damaged.as_str() || event == LogEvent::Void.as_str() {
                    out_of_service.push(serial as u64);
                }
            }
            if !full {
                return Ok(LogChanges {
                    next,
                    out_of_service,
                });
            }
        }
    }
}
