//! Part 3 delivery: registered cards grouped into handover lists (Form 5), each
//! handover confirmed in person or by post, the signed Form 5's scan kept with its list, and the
//! cards still waiting after R-5.4's week.
//!
//! The rules are `skillcard_core::delivery`; a handover moves the card `bound → delivered` and
//! stamps the print in one write transaction with its audit record. The print stays `bound`: a
//! delivered card is as valid as one waiting at the office.

use crate::moves::move_card;
use crate::tx::WriteTx;
use crate::views::{self, iso_fa, today};
use crate::{Result, Store};
use serde::Serialize;
use serde_json::json;
use skillcard_core::card::CardState;
use skillcard_core::delivery::{self as rules, DeliveryState, Handover};
use skillcard_core::policy::{authorize, Action, Actor};
use skillcard_core::printing::PrintStatus;
use skillcard_core::workflow::{self, NextActions};
use skillcard_core::{fa, DomainError};
use sqlx::AnyConnection;
use utoipa::ToSchema;

/// A registered card as the delivery pages and Form 5 see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeliveryCard {
    pub print_id: i64,
    pub province_id: i64,
    pub certificate_no: String,
    pub holder: String,
    pub national_id: String,
    pub serial: u64,
    /// `bound` while valid; `damaged` or `void` once taken out of service.
    #[schema(value_type = String)]
    pub status: PrintStatus,
    /// The day the serial was registered, which starts R-5.4's week.
    pub registered_on: String,
    pub registered_on_fa: String,
    pub centre: String,
    pub delivery_list_id: Option<i64>,
    pub delivered_at: Option<String>,
    /// `in_person` or `post`.
    pub delivery_method: Option<String>,
    pub delivery_method_fa: Option<String>,
    pub receiver: Option<String>,
    pub tracking_no: Option<String>,
    /// days past the week, for a card still undelivered; absent within the week.
    pub days_overdue: Option<i64>,
    /// What the reader can do with the card now (list it, hand it over).
    #[schema(value_type = Object)]
    pub next_actions: NextActions,
}

/// A handover list (Form 5) with its cards.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeliveryListView {
    pub id: i64,
    pub province_id: i64,
    pub province_name: String,
    pub label: String,
    pub created_at: String,
    pub created_by: String,
    /// The scan of the signed Form 5 is on file.
    pub has_scan: bool,
    pub delivered: usize,
    #[schema(value_type = Object)]
    pub next_actions: NextActions,
    pub cards: Vec<DeliveryCard>,
}

/// at HQ: one province's overdue cards.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProvinceOverdue {
    pub province_id: i64,
    pub province_name: String,
    pub overdue: i64,
    /// Registered and undelivered, overdue or not.
    pub undelivered: i64,
    /// The most days any of its cards is overdue.
    pub max_days_overdue: Option<i64>,
}

const CARD_SQL: &str = "SELECT p.id, p.province_id, c.number, k.first_name, k.last_name, k.national_id, p.serial, \
     p.status, p.registered_on, ce.name_fa, p.delivery_list_id, p.delivered_at, p.delivery_method, p.receiver, \
     p.tracking_no FROM card_prints p JOIN certificates c ON c.id = p.certificate_id \
     JOIN candidates k ON k.id = c.candidate_id JOIN centres ce ON ce.id = k.centre_id";

type CardRow = (
    i64,
    i64,
    String,
    String,
    String,
    String,
    i64,
    String,
    Option<String>,
    String,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn card(r: CardRow, today: time::Date, actor: &Actor) -> Result<DeliveryCard> {
    let status = views::state("print status", &r.7, PrintStatus::parse)?;
    let registered = r.8.as_deref().and_then(views::iso_date);
    let undelivered = r.11.is_none() && status == PrintStatus::Bound;
    let days_overdue = registered
        .filter(|_| undelivered)
        .and_then(|d| rules::r5_4_days_overdue(d, today));
    let registered_on = r.8.unwrap_or_default();
    let next_actions = NextActions::for_actor(
        actor,
        Some(r.1),
        workflow::delivery(&DeliveryState {
            print_id: r.0,
            status,
            delivered: r.11.is_some(),
            list_id: r.10,
        }),
    );
    Ok(DeliveryCard {
        print_id: r.0,
        province_id: r.1,
        certificate_no: r.2,
        holder: format!("{} {}", r.3, r.4),
        national_id: r.5,
        serial: r.6 as u64,
        status,
        registered_on_fa: iso_fa(&registered_on),
        registered_on,
        centre: r.9,
        delivery_list_id: r.10,
        delivered_at: r.11,
        delivery_method_fa: r.12.as_deref().map(|m| fa::delivery_method(m).to_string()),
        delivery_method: r.12,
        receiver: r.13,
        tracking_no: r.14,
        days_overdue,
        next_actions,
    })
}

async fn card_in(
    conn: &mut AnyConnection,
    print_id: i64,
    today: time::Date,
    actor: &Actor,
) -> Result<DeliveryCard> {
    let r: CardRow = sqlx::query_as(&format!("{CARD_SQL} WHERE p.id = $1"))
        .bind(print_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(DomainError::NotFound { what: "print" })?;
    card(r, today, actor)
}

fn state_of(c: &DeliveryCard) -> DeliveryState {
    DeliveryState {
        print_id: c.print_id,
        status: c.status,
        delivered: c.delivered_at.is_some(),
        list_id: c.delivery_list_id,
    }
}

async fn list_in(
    conn: &mut AnyConnection,
    list_id: i64,
    actor: &Actor,
) -> Result<DeliveryListView> {
    let row: Option<(i64, String, String, String, String, Option<String>)> = sqlx::query_as(
        "SELECT l.province_id, p.name_fa, l.label, l.created_at, u.full_name, l.scan_type FROM delivery_lists l \
         JOIN provinces p ON p.id = l.province_id JOIN users u ON u.id = l.created_by WHERE l.id = $1",
    )
    .bind(list_id)
    .fetch_optional(&mut *conn)
    .await?;
    let (province_id, province_name, label, created_at, created_by, scan_type) =
        row.ok_or(DomainError::NotFound {
            what: "delivery_list",
        })?;
    let rows: Vec<CardRow> = sqlx::query_as(&format!(
        "{CARD_SQL} WHERE p.delivery_list_id = $1 ORDER BY p.serial"
    ))
    .bind(list_id)
    .fetch_all(&mut *conn)
    .await?;
    let day = today();
    let cards = rows
        .into_iter()
        .map(|r| card(r, day, actor))
        .collect::<Result<Vec<_>>>()?;
    Ok(DeliveryListView {
        id: list_id,
        province_id,
        province_name,
        label,
        created_at,
        created_by,
        has_scan: scan_type.is_some(),
        delivered: cards.iter().filter(|c| c.delivered_at.is_some()).count(),
        next_actions: NextActions::for_actor(actor, Some(province_id), workflow::delivery_list()),
        cards,
    })
}

impl Store {
    /// groups registered, undelivered cards of one province into a handover list, from
    /// which Form 5 is printed. Each card joins one list at most.
    pub async fn create_delivery_list(
        &self,
        actor: &Actor,
        label: &str,
        print_ids: &[i64],
    ) -> Result<DeliveryListView> {
        let label = skillcard_core::text::required("title", label, 200)?;
        if print_ids.is_empty() {
            return Err(DomainError::Required { field: "cards" }.into());
        }
        if print_ids.len() > 1000 {
            return Err(DomainError::TooManyCards {
                count: print_ids.len() as u64,
                max: 1000,
            }
            .into());
        }
        let province_id = actor.province_id.ok_or(DomainError::Forbidden {
            action: "deliver_cards",
        })?;
        authorize(actor, Action::DeliverCards, Some(province_id))?;
        let mut w = WriteTx::begin(self).await?;
        let day = w.today();
        let mut cards = Vec::with_capacity(print_ids.len());
        for id in print_ids {
            let c = card_in(&mut w.tx, *id, day, actor).await?;
            authorize(actor, Action::DeliverCards, Some(c.province_id))?;
            rules::r7_check_listable(&state_of(&c))?;
            cards.push(c);
        }
        let (list_id,): (i64,) = sqlx::query_as(
            "INSERT INTO delivery_lists (province_id, label, created_by, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(province_id)
        .bind(&label)
        .bind(actor.user_id)
        .bind(w.now_str())
        .fetch_one(&mut *w.tx)
        .await?;
        for c in &cards {
            let done = sqlx::query(
                "UPDATE card_prints SET delivery_list_id = $1 WHERE id = $2 AND delivery_list_id IS NULL",
            )
            .bind(list_id)
            .bind(c.print_id)
            .execute(&mut *w.tx)
            .await?;
            if done.rows_affected() != 1 {
                return Err(DomainError::InvalidValue { field: "cards" }.into());
            }
        }
        let serials: Vec<u64> = cards.iter().map(|c| c.serial).collect();
        w.audit(
            Some(actor),
            "delivery.list.create",
            "delivery_list",
            list_id,
            Some(province_id),
            json!(null),
            json!({ "label": label, "serials": serials }),
        )
        .await?;
        let v = list_in(&mut w.tx, list_id, actor).await?;
        w.commit().await?;
        Ok(v)
    }

    /// confirms one card's handover, in person (with the receiver's name) or by
    /// post (with the tracking number). The card leaves the office for its holder.
    pub async fn confirm_delivery(
        &self,
        actor: &Actor,
        print_id: i64,
        handover: &Handover,
    ) -> Result<DeliveryCard> {
        let mut w = WriteTx::begin(self).await?;
        let day = w.today();
        let c = card_in(&mut w.tx, print_id, day, actor).await?;
        authorize(actor, Action::DeliverCards, Some(c.province_id))?;
        rules::r7_check_deliverable(&state_of(&c))?;
        move_card(&mut w, c.serial, CardState::Bound, CardState::Delivered).await?;
        let (receiver, tracking) = match handover {
            Handover::InPerson { receiver } => (Some(receiver.as_str()), None),
            Handover::Post { tracking_no } => (None, Some(tracking_no.as_str())),
        };
        sqlx::query(
            "UPDATE card_prints SET delivered_at = $1, delivery_method = $2, receiver = $3, tracking_no = $4, \
             delivered_by = $5 WHERE id = $6 AND delivered_at IS NULL",
        )
        .bind(w.now_str())
        .bind(handover.method())
        .bind(receiver)
        .bind(tracking)
        .bind(actor.user_id)
        .bind(print_id)
        .execute(&mut *w.tx)
        .await?;
        w.audit(
            Some(actor),
            "card.deliver",
            "card_print",
            print_id,
            Some(c.province_id),
            json!({ "serial": c.serial, "state": "bound" }),
            json!({
                "serial": c.serial, "state": "delivered", "method": handover.method(),
                "receiver": receiver, "tracking_no": tracking, "certificate": c.certificate_no,
            }),
        )
        .await?;
        let v = card_in(&mut w.tx, print_id, day, actor).await?;
        w.commit().await?;
        Ok(v)
    }

    /// keeps the scan of the signed Form 5 with its list (a new scan replaces the old,
    /// both audited).
    pub async fn attach_delivery_scan(
        &self,
        actor: &Actor,
        list_id: i64,
        scan: &[u8],
    ) -> Result<DeliveryListView> {
        let media = crate::media::scan(scan).await?;
        let mut w = WriteTx::begin(self).await?;
        let v = list_in(&mut w.tx, list_id, actor).await?;
        authorize(actor, Action::DeliverCards, Some(v.province_id))?;
        sqlx::query(
            "UPDATE delivery_lists SET scan = $1, scan_type = $2, scan_at = $3 WHERE id = $4",
        )
        .bind(scan.to_vec())
        .bind(media)
        .bind(w.now_str())
        .bind(list_id)
        .execute(&mut *w.tx)
        .await?;
        w.audit(
            Some(actor),
            "delivery.list.scan",
            "delivery_list",
            list_id,
            Some(v.province_id),
            json!({ "has_scan": v.has_scan }),
            json!({ "has_scan": true, "type": media, "bytes": scan.len() }),
        )
        .await?;
        w.commit().await?;
        Ok(DeliveryListView {
            has_scan: true,
            ..v
        })
    }

    /// The scan of a list's signed Form 5 and its media type.
    pub async fn delivery_scan(&self, actor: &Actor, list_id: i64) -> Result<(Vec<u8>, String)> {
        let v = self.delivery_list(actor, list_id).await?;
        let (scan, media): (Option<Vec<u8>>, Option<String>) =
            sqlx::query_as("SELECT scan, scan_type FROM delivery_lists WHERE id = $1")
                .bind(v.id)
                .fetch_one(&self.pool)
                .await?;
        match (scan, media) {
            (Some(s), Some(m)) => Ok((s, m)),
            _ => Err(DomainError::NotFound { what: "scan" }.into()),
        }
    }

    pub async fn delivery_list(&self, actor: &Actor, list_id: i64) -> Result<DeliveryListView> {
        let mut conn = self.pool.acquire().await?;
        let v = list_in(&mut conn, list_id, actor).await?;
        authorize(actor, Action::ViewExams, Some(v.province_id))?;
        Ok(v)
    }

    /// Handover lists in the actor's reach, newest first, a page at a time.
    pub async fn delivery_list_page(
        &self,
        actor: &Actor,
        cursor: views::Cursor,
    ) -> Result<views::Page<DeliveryListView>> {
        authorize(actor, Action::ViewExams, None)?;
        let ids = self
            .scoped_ids("delivery_lists", actor, None, cursor)
            .await?;
        let mut conn = self.pool.acquire().await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.push(list_in(&mut conn, id, actor).await?);
        }
        Ok(views::Page::from_rows(out, cursor.clamped(), |l| l.id))
    }

    /// Registered cards still at the office (undelivered), oldest first (the most overdue
    /// first), with R-5.4's days overdue, a page at a time (`after`: the previous page's
    /// `next_after`); `overdue_only` keeps the cards past the week, `unlisted_only` those on no
    /// handover list yet (what the office groups into a new Form 5).
    pub async fn undelivered_cards(
        &self,
        actor: &Actor,
        overdue_only: bool,
        unlisted_only: bool,
        after: Option<i64>,
        limit: i64,
    ) -> Result<views::Queue<DeliveryCard>> {
        authorize(actor, Action::ViewExams, None)?;
        let day = today();
        let limit = limit.clamp(1, views::PAGE_MAX);
        let cutoff = overdue_only.then(|| rules::r5_4_overdue_cutoff(day).to_string());
        let (sql, terms) = undelivered_query(
            actor.scope().province_filter(),
            cutoff.as_deref(),
            unlisted_only,
            after,
            limit,
        );
        let rows: Vec<CardRow> = terms
            .bind(sqlx::query_as(&sql))
            .fetch_all(&self.pool)
            .await?;
        let cards = rows
            .into_iter()
            .map(|r| card(r, day, actor))
            .collect::<Result<Vec<_>>>()?;
        Ok(views::Queue::from_rows(cards, limit, |c| c.print_id))
    }

    /// for HQ (and a province's own line): per province, the cards past the week, the
    /// cards undelivered, and the worst delay. Reads only the partial index of undelivered cards
    /// (as a covering index: the aggregate runs on `card_prints` alone, under the index's own
    /// condition, before the provinces are joined to it).
    pub async fn overdue_by_province(&self, actor: &Actor) -> Result<Vec<ProvinceOverdue>> {
        self.overdue_by_province_on(actor, today()).await
    }

    /// [`Store::overdue_by_province`] as it reads on `day` (benchmarks and tests).
    pub async fn overdue_by_province_on(
        &self,
        actor: &Actor,
        day: time::Date,
    ) -> Result<Vec<ProvinceOverdue>> {
        authorize(actor, Action::ViewExams, None)?;
        let cutoff = rules::r5_4_overdue_cutoff(day).to_string();
        let province = actor.scope().province_filter();
        let (in_province, province_only) = if province.is_some() {
            ("AND province_id = $2", "WHERE pr.id = $2")
        } else {
            ("", "")
        };
        let sql = format!(
            "SELECT pr.id, pr.name_fa, CAST(COALESCE(u.overdue, 0) AS BIGINT), \
             CAST(COALESCE(u.undelivered, 0) AS BIGINT), u.oldest \
             FROM provinces pr LEFT JOIN (SELECT province_id, \
             SUM(CASE WHEN registered_on <= $1 THEN 1 ELSE 0 END) AS overdue, \
             COUNT(*) AS undelivered, MIN(registered_on) AS oldest FROM card_prints \
             WHERE status = 'bound' AND delivered_at IS NULL {in_province} GROUP BY province_id) u \
             ON u.province_id = pr.id {province_only} ORDER BY pr.id"
        );
        let mut query = sqlx::query_as(&sql).bind(cutoff);
        if let Some(p) = province {
            query = query.bind(p);
        }
        let rows: Vec<(i64, String, i64, i64, Option<String>)> =
            query.fetch_all(&self.pool).await?;
        let mut out: Vec<ProvinceOverdue> = rows
            .into_iter()
            .map(|(id, name, overdue, undelivered, oldest)| ProvinceOverdue {
                province_id: id,
                province_name: name,
                overdue,
                undelivered,
                max_days_overdue: oldest
                    .as_deref()
                    .and_then(views::iso_date)
                    .and_then(|d| rules::r5_4_days_overdue(d, day)),
            })
            .collect();
        // The provinces that owe holders their cards first, the longest delay first.
        out.sort_by_key(|p| {
            (
                std::cmp::Reverse(p.overdue),
                std::cmp::Reverse(p.max_days_overdue),
                p.province_id,
            )
        });
        Ok(out)
    }
}

/// One page of the queue of undelivered cards (see `Store::undelivered_cards`), for the store
/// and `plans`. Terms are spelled out only when given, so that both backends seek a partial
/// index of undelivered cards (a `$n IS NULL OR …` term cannot be seeked). The queue is in
/// (day of registration, id) order; the cursor is the last card's id.
pub(crate) fn undelivered_query(
    province: Option<i64>,
    cutoff: Option<&str>,
    unlisted_only: bool,
    after: Option<i64>,
    limit: i64,
) -> (String, views::Terms) {
    let terms = views::Terms::new()
        .int("p.province_id = ?", province)
        .text("p.registered_on <= ?", cutoff)
        .when("p.delivery_list_id IS NULL", unlisted_only)
        .int(
            "(p.registered_on, p.id) > (SELECT a.registered_on, a.id FROM card_prints a WHERE a.id = ?)",
            after,
        );
    let sql = format!(
        "{CARD_SQL} {} ORDER BY p.registered_on, p.id LIMIT {}",
        terms.where_sql_and("p.status = 'bound' AND p.delivered_at IS NULL"),
        limit + 1
    );
    (sql, terms)
}
