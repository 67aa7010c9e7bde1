//! The office's search: one box, every reading of what was typed (`skillcard_core::search`),
//! each an exact match on an indexed column (national code, card serial, certificate number,
//! family and given name), newest candidate first, a page at a time, within the reader's
//! province.

use crate::views::{self, Cursor, Page, Terms};
use crate::{Result, Store};
use serde::Serialize;
use skillcard_core::card::CardState;
use skillcard_core::policy::{authorize, Action, Actor};
use skillcard_core::search::SearchQuery;
use utoipa::ToSchema;

/// A candidate found, with their certificate and newest card, if any.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SearchHit {
    pub candidate_id: i64,
    pub province_id: i64,
    pub province_name: String,
    pub first_name: String,
    pub last_name: String,
    pub national_id: String,
    pub trade_title: String,
    pub standard_code: String,
    pub certificate_no: Option<String>,
    /// The newest card printed for the certificate.
    pub serial: Option<i64>,
    #[schema(value_type = Option<String>)]
    pub card_state: Option<CardState>,
}

type HitRow = (
    i64,
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<i64>,
    Option<String>,
);

/// The candidate whose certificate took a card serial.
const BY_SERIAL: &str = "SELECT c2.candidate_id FROM card_prints p2 JOIN certificates c2 \
                         ON c2.id = p2.certificate_id WHERE p2.serial = ?";

impl Store {
    pub async fn search(
        &self,
        actor: &Actor,
        query: &SearchQuery,
        cursor: Cursor,
    ) -> Result<Page<SearchHit>> {
        authorize(actor, Action::ViewExams, None)?;
        let Some((sql, terms)) = search_query(actor.scope().province_filter(), query, cursor)
        else {
            return Ok(Page::from_rows(Vec::new(), 1, |h: &SearchHit| {
                h.candidate_id
            }));
        };
        let rows: Vec<HitRow> = terms
            .bind_page(sqlx::query_as(&sql), cursor)
            .fetch_all(&self.pool)
            .await?;
        let hits = rows
            .into_iter()
            .map(|r| {
                Ok(SearchHit {
                    candidate_id: r.0,
                    province_id: r.1,
                    province_name: r.2,
                    first_name: r.3,
                    last_name: r.4,
                    national_id: r.5,
                    trade_title: r.6,
                    standard_code: r.7,
                    certificate_no: r.8,
                    serial: r.9,
                    card_state: match r.10 {
                        Some(s) => Some(views::state("card state", &s, CardState::parse)?),
                        None => None,
                    },
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Page::from_rows(hits, cursor.clamped(), |h| h.candidate_id))
    }
}

/// One page of the search (see `Store::search`), for the store and `plans`; `None` when the
/// text has no reading to look up.
pub(crate) fn search_query(
    province: Option<i64>,
    query: &SearchQuery,
    cursor: Cursor,
) -> Option<(String, Terms)> {
    let terms = Terms::new().int("k.province_id = ?", province);
    let terms = match query {
        SearchQuery::Digits {
            national_id,
            serial,
        } => match (national_id, serial) {
            (Some(n), Some(s)) => terms.text_or_int(
                "k.national_id = ?",
                n,
                &format!("k.id IN ({BY_SERIAL})"),
                *s as i64,
            ),
            (Some(n), None) => terms.text("k.national_id = ?", Some(n)),
            (None, Some(s)) => terms.int(&format!("k.id IN ({BY_SERIAL})"), Some(*s as i64)),
            (None, None) => return None,
        },
        SearchQuery::Certificate(number) => terms.text(
            "k.id IN (SELECT c2.candidate_id FROM certificates c2 WHERE c2.number = ?)",
            Some(number),
        ),
        SearchQuery::Name { last, first } => terms
            .text("k.last_name = ?", Some(last))
            .text("k.first_name = ?", first.as_deref()),
    };
    let sql = format!(
        "SELECT k.id, k.province_id, p.name_fa, k.first_name, k.last_name, k.national_id, t.title_fa, \
         t.standard_code, c.number, cp.serial, cd.state \
         FROM candidates k JOIN provinces p ON p.id = k.province_id JOIN trades t ON t.id = k.trade_id \
         LEFT JOIN certificates c ON c.candidate_id = k.id \
         LEFT JOIN card_prints cp ON cp.id = (SELECT MAX(p3.id) FROM card_prints p3 WHERE p3.certificate_id = c.id) \
         LEFT JOIN cards cd ON cd.serial = cp.serial {}",
        terms.page_sql("k.id", cursor)
    );
    Some((sql, terms))
}
