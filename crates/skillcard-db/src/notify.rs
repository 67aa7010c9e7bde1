//! The outbox of notices to applicants (fee due, card ready, pickup overdue).
//!
//! A notice is written in the same transaction as the change it announces, so it is sent if and
//! only if that change committed. A dispatcher then hands due notices to a [`Sender`] (an SMS or
//! e-mail gateway; [`LogSender`] for development) and records the outcome: sent, retried after
//! `skillcard_core::notice::retry_delay`, or failed for good. Each notice is claimed with a
//! guarded update first, so two nodes dispatching at once never send it twice.

use crate::counters::SendOutcome;
use crate::tx::WriteTx;
use crate::views;
use crate::{Result, Store};
use serde::Serialize;
use skillcard_core::notice::{Contact, Delivery, NoticeKind, NoticeStatus};
use skillcard_core::policy::{authorize, Action, Actor};
use skillcard_core::{fa, DomainError};
use std::future::Future;
use time::OffsetDateTime;
use utoipa::ToSchema;

/// One notice handed to a sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub id: i64,
    pub kind: String,
    pub recipient: String,
    pub body: String,
}

/// What a gateway said when it took a notice: its reference for the message (an SMS
/// provider's message id, an SMTP server's queue id), recorded with the notice.
pub type Receipt = Option<String>;

/// A gateway that delivers notices; an `Err` (what went wrong, in English for the operator) is
/// retried later.
pub trait Sender: Send + Sync {
    fn send(
        &self,
        n: &Outgoing,
    ) -> impl Future<Output = std::result::Result<Receipt, String>> + Send;
}

/// The development sender: writes each notice to the log and succeeds.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogSender;

impl Sender for LogSender {
    async fn send(&self, n: &Outgoing) -> std::result::Result<Receipt, String> {
        tracing::info!(id = n.id, kind = %n.kind, recipient = %n.recipient, body = %n.body, "notice sent (log sender)");
        Ok(None)
    }
}

/// Outbox times are compared as text, so they are written at a fixed width (whole seconds, UTC):
/// RFC 3339 with a trimmed fraction does not sort.
fn outbox_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// How long a claimed notice is left alone before another dispatcher may take it again (a node
/// that crashed mid-send).
const CLAIM_MINUTES: i64 = 5;

/// Queues a notice to the holder of a certificate, if the applicant left a contact; returns
/// whether one was queued.
pub(crate) async fn enqueue_for_certificate(
    w: &mut WriteTx,
    certificate_id: i64,
    kind: NoticeKind,
    amount: u64,
) -> Result<bool> {
    let row: Option<(i64, i64, Option<String>, String, String, String)> = sqlx::query_as(
        "SELECT c.province_id, k.id, k.contact, k.first_name, k.last_name, c.number FROM certificates c \
         JOIN candidates k ON k.id = c.candidate_id WHERE c.id = $1",
    )
    .bind(certificate_id)
    .fetch_optional(&mut *w.tx)
    .await?;
    let Some((province_id, candidate_id, Some(contact), first, last, number)) = row else {
        return Ok(false);
    };
    let body = fa::notice_body(kind.as_str(), &format!("{first} {last}"), &number, amount);
    sqlx::query(
        "INSERT INTO notifications (province_id, candidate_id, kind, recipient, body, status, attempts, next_attempt_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $6)",
    )
    .bind(province_id)
    .bind(candidate_id)
    .bind(kind.as_str())
    .bind(contact)
    .bind(body)
    .bind(outbox_time(w.now))
    .execute(&mut *w.tx)
    .await?;
    Ok(true)
}

/// A delivery report: the SMS provider says how the message it knows as `message_id` (the
/// receipt it gave when it took the notice) ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryReport {
    pub message_id: String,
    pub delivery: Delivery,
    /// The provider's own words (its status and any reason), for the office.
    pub detail: Option<String>,
}

/// What recording a delivery report did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct DeliveryRecorded {
    pub notice_id: i64,
    #[schema(value_type = String)]
    pub delivery: Delivery,
    /// False when the notice already had this outcome (providers repeat reports).
    pub new: bool,
}

/// What one dispatch round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct DispatchReport {
    pub sent: u64,
    pub retried: u64,
    pub failed: u64,
}

/// A notice in the outbox, for the office's page and the API.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NotificationView {
    pub id: i64,
    pub province_id: i64,
    pub candidate_id: i64,
    #[schema(value_type = String)]
    pub kind: NoticeKind,
    pub recipient: String,
    pub body: String,
    /// `pending`, `sent` or `failed`.
    #[schema(value_type = String)]
    pub status: NoticeStatus,
    pub attempts: i64,
    pub next_attempt_at: String,
    pub last_error: Option<String>,
    pub created_at: String,
    pub sent_at: Option<String>,
    /// What the provider's delivery report said, once one came.
    #[schema(value_type = Option<String>)]
    pub delivery: Option<Delivery>,
    pub delivery_reported_at: Option<String>,
}

type NoticeRow = (
    i64,
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
    Option<String>,
    Option<String>,
    Option<String>,
);

impl Store {
    /// Records a delivery report on the notice whose receipt is the report's message id, with
    /// its audit record. A repeated report changes nothing; a later one with another outcome
    /// replaces it (the provider's last word). An unknown id is refused with nothing changed.
    pub async fn record_delivery_report(&self, r: &DeliveryReport) -> Result<DeliveryRecorded> {
        let mut w = WriteTx::begin(self).await?;
        let row: Option<(i64, i64, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT id, province_id, delivery, delivery_detail FROM notifications \
             WHERE receipt = $1 ORDER BY id DESC LIMIT 1",
        )
        .bind(&r.message_id)
        .fetch_optional(&mut *w.tx)
        .await?;
        let (id, province_id, before, before_detail) =
            row.ok_or(DomainError::NotFound { what: "notice" })?;
        let before = before
            .map(|b| views::state("notice delivery", &b, Delivery::parse))
            .transpose()?;
        if before == Some(r.delivery) {
            return Ok(DeliveryRecorded {
                notice_id: id,
                delivery: r.delivery,
                new: false,
            });
        }
        sqlx::query(
            "UPDATE notifications SET delivery = $1, delivery_detail = $2, delivery_reported_at = $3 \
             WHERE id = $4",
        )
        .bind(r.delivery.as_str())
        .bind(&r.detail)
        .bind(w.now_str())
        .bind(id)
        .execute(&mut *w.tx)
        .await?;
        w.audit(
            None,
            "notice.delivery",
            "notification",
            id,
            Some(province_id),
            serde_json::json!({ "delivery": before.map(Delivery::as_str), "detail": before_detail }),
            serde_json::json!({ "delivery": r.delivery.as_str(), "detail": r.detail, "message_id": r.message_id }),
        )
        .await?;
        w.commit().await?;
        self.counters().delivery_report(r.delivery);
        Ok(DeliveryRecorded {
            notice_id: id,
            delivery: r.delivery,
            new: true,
        })
    }

    /// Sends the notices due at `now`, at most `limit` of them.
    pub async fn dispatch_notifications<S: Sender>(
        &self,
        sender: &S,
        now: OffsetDateTime,
        limit: i64,
    ) -> Result<DispatchReport> {
        let now_s = outbox_time(now);
        let due: Vec<(i64, String, String, String, i64)> = sqlx::query_as(
            "SELECT id, kind, recipient, body, attempts FROM notifications \
             WHERE status = 'pending' AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2",
        )
        .bind(&now_s)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut report = DispatchReport::default();
        for (id, kind, recipient, body, attempts) in due {
            let claimed = sqlx::query(
                "UPDATE notifications SET attempts = attempts + 1, next_attempt_at = $1 \
                 WHERE id = $2 AND status = 'pending' AND attempts = $3",
            )
            .bind(outbox_time(now + time::Duration::minutes(CLAIM_MINUTES)))
            .bind(id)
            .bind(attempts)
            .execute(&self.pool)
            .await?;
            if claimed.rows_affected() != 1 {
                continue;
            }
            let attempts = attempts + 1;
            let n = Outgoing {
                id,
                kind,
                recipient,
                body,
            };
            let channel = crate::counters::Channel::of(&n.recipient);
            let outcome = match sender.send(&n).await {
                Ok(receipt) => {
                    sqlx::query("UPDATE notifications SET status = 'sent', sent_at = $1, last_error = NULL, receipt = $2 WHERE id = $3")
                        .bind(&now_s)
                        .bind(receipt.map(|r| r.chars().take(200).collect::<String>()))
                        .bind(id)
                        .execute(&self.pool)
                        .await?;
                    report.sent += 1;
                    SendOutcome::Sent
                }
                Err(e) => {
                    let (status, delay) = NoticeStatus::after_failure(attempts);
                    let next = match delay {
                        Some(d) => outbox_time(now + d),
                        None => now_s.clone(),
                    };
                    sqlx::query(
                        "UPDATE notifications SET status = $1, next_attempt_at = $2, last_error = $3 WHERE id = $4",
                    )
                    .bind(status.as_str())
                    .bind(next)
                    .bind(e.chars().take(500).collect::<String>())
                    .bind(id)
                    .execute(&self.pool)
                    .await?;
                    if status == NoticeStatus::Failed {
                        report.failed += 1;
                        SendOutcome::Failed
                    } else {
                        report.retried += 1;
                        SendOutcome::Retried
                    }
                }
            };
            self.counters().send(channel, outcome);
        }
        Ok(report)
    }

    /// Notices in the actor's reach, newest first, a page at a time; `status` narrows them.
    pub async fn notification_page(
        &self,
        actor: &Actor,
        status: Option<NoticeStatus>,
        cursor: views::Cursor,
    ) -> Result<views::Page<NotificationView>> {
        authorize(actor, Action::ViewExams, None)?;
        let (sql, terms) = notification_query(actor.scope().province_filter(), status, cursor);
        let rows: Vec<NoticeRow> = terms
            .bind_page(sqlx::query_as(&sql), cursor)
            .fetch_all(&self.pool)
            .await?;
        let items = rows
            .into_iter()
            .map(|r| {
                Ok(NotificationView {
                    id: r.0,
                    province_id: r.1,
                    candidate_id: r.2,
                    kind: views::state("notice kind", &r.3, NoticeKind::parse)?,
                    recipient: r.4,
                    body: r.5,
                    status: views::state("notice status", &r.6, NoticeStatus::parse)?,
                    attempts: r.7,
                    next_attempt_at: r.8,
                    last_error: r.9,
                    created_at: r.10,
                    sent_at: r.11,
                    delivery: r
                        .12
                        .map(|d| views::state("notice delivery", &d, Delivery::parse))
                        .transpose()?,
                    delivery_reported_at: r.13,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(views::Page::from_rows(items, cursor.clamped(), |n| n.id))
    }

    /// How many of the actor's notices wait for an attempt and how many failed for good: the
    /// office's outbox figures, counted on the (province, status) index.
    pub async fn notice_counts(&self, actor: &Actor) -> Result<(u64, u64)> {
        authorize(actor, Action::ViewExams, None)?;
        let mut counts = [0u64; 2];
        for (i, status) in [NoticeStatus::Pending, NoticeStatus::Failed]
            .into_iter()
            .enumerate()
        {
            let terms = views::Terms::new()
                .int("province_id = ?", actor.scope().province_filter())
                .text("status = ?", Some(status.as_str()));
            let sql = format!(
                "SELECT CAST(COUNT(*) AS BIGINT) FROM notifications {}",
                terms.where_sql()
            );
            let (n,): (i64,) = terms
                .bind(sqlx::query_as(&sql))
                .fetch_one(&self.pool)
                .await?;
            counts[i] = n as u64;
        }
        Ok((counts[0], counts[1]))
    }

    /// Records how to reach an applicant (not personal data printed on the card, so it stays
    /// editable after printing).
    pub async fn set_candidate_contact(
        &self,
        actor: &Actor,
        candidate_id: i64,
        contact: &Contact,
    ) -> Result<()> {
        let mut w = WriteTx::begin(self).await?;
        let row: Option<(i64, Option<String>)> =
            sqlx::query_as("SELECT province_id, contact FROM candidates WHERE id = $1")
                .bind(candidate_id)
                .fetch_optional(&mut *w.tx)
                .await?;
        let (province_id, before) = row.ok_or(DomainError::NotFound { what: "candidate" })?;
        authorize(actor, Action::EditContact, Some(province_id))?;
        sqlx::query("UPDATE candidates SET contact = $1 WHERE id = $2")
            .bind(contact.as_str())
            .bind(candidate_id)
            .execute(&mut *w.tx)
            .await?;
        w.audit(
            Some(actor),
            "candidate.contact",
            "candidate",
            candidate_id,
            Some(province_id),
            serde_json::json!({ "contact": before }),
            serde_json::json!({ "contact": contact.as_str() }),
        )
        .await?;
        w.commit().await
    }

    /// queues one overdue-pickup notice per card past the week that has none yet;
    /// returns how many were queued.
    pub async fn notify_overdue(&self, day: time::Date) -> Result<u64> {
        let cutoff = skillcard_core::delivery::r5_4_overdue_cutoff(day).to_string();
        let mut w = WriteTx::begin(self).await?;
        let due: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT id, certificate_id FROM card_prints WHERE status = 'bound' AND delivered_at IS NULL \
             AND registered_on <= $1 AND overdue_notified_at IS NULL ORDER BY id LIMIT 1000",
        )
        .bind(cutoff)
        .fetch_all(&mut *w.tx)
        .await?;
        let mut queued = 0;
        for (print_id, certificate_id) in due {
            if enqueue_for_certificate(&mut w, certificate_id, NoticeKind::OverduePickup, 0).await?
            {
                queued += 1;
            }
            sqlx::query("UPDATE card_prints SET overdue_notified_at = $1 WHERE id = $2")
                .bind(w.now_str())
                .bind(print_id)
                .execute(&mut *w.tx)
                .await?;
        }
        w.commit().await?;
        Ok(queued)
    }
}

/// The outbox worker of a serving node: every `every`, queues R-5.4's overdue-pickup notices and
/// sends what is due. Errors are logged and the loop goes on (a database blip must not stop
/// notices for good).
/// Runs until `stop` says so (or its sender is gone); a round of dispatch in progress is
/// finished first, so no notice is left claimed but unrecorded by a clean shutdown.
pub async fn run_outbox<S: Sender>(
    store: Store,
    sender: S,
    every: std::time::Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(every);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        let now = OffsetDateTime::now_utc();
        if let Err(e) = store
            .notify_overdue(skillcard_core::date::tehran_date(now))
            .await
        {
            tracing::warn!(error = %e, "queueing overdue notices failed");
        }
        match store.dispatch_notifications(&sender, now, 200).await {
            Ok(r) if r != DispatchReport::default() => {
                tracing::info!(
                    sent = r.sent,
                    retried = r.retried,
                    failed = r.failed,
                    "notices dispatched"
                )
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "dispatching notices failed"),
        }
    }
}

/// One page of the outbox (see `Store::notification_page`), for the store and `plans`.
pub(crate) fn notification_query(
    province: Option<i64>,
    status: Option<NoticeStatus>,
    cursor: views::Cursor,
) -> (String, views::Terms) {
    let terms = views::Terms::new()
        .int("province_id = ?", province)
        .text("status = ?", status.map(NoticeStatus::as_str));
    let sql = format!(
        "SELECT id, province_id, candidate_id, kind, recipient, body, status, attempts, next_attempt_at, \
         last_error, created_at, sent_at, delivery, delivery_reported_at FROM notifications {}",
        terms.page_sql("id", cursor)
    );
    (sql, terms)
}
