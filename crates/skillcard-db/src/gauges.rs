//! What the metrics endpoint reads from the database at each scrape. Only cheap reads: the
//! maintained card counts, the audit head, the log's size, index seeks on the outbox's small
//! statuses — never a count over a big table.

use crate::counters::Channel;
use crate::{Result, Store};
use skillcard_core::notice::NoticeStatus;

/// The database's side of the metrics.
#[derive(Debug, Clone, Default)]
pub struct Gauges {
    /// The newest audit record's sequence number (0 when there is none).
    pub audit_seq: i64,
    pub log_size: u64,
    /// Notices waiting (`pending`) or given up (`failed`), by channel and status.
    pub notices: Vec<(Channel, NoticeStatus, i64)>,
    /// Cards per province (code) and state, from `card_counts`.
    pub cards: Vec<(String, String, i64)>,
    /// Connections the pool holds, and how many of them are idle.
    pub pool_size: u32,
    pub pool_idle: usize,
}

impl Store {
    pub async fn gauges(&self) -> Result<Gauges> {
        let audit_seq = self.audit_tip().await?.map(|(seq, _)| seq).unwrap_or(0);
        let log_size = self.log_size().await?;
        let mut notices = Vec::new();
        for status in [NoticeStatus::Pending, NoticeStatus::Failed] {
            // Recipients are stored as `parse_contact` normalised them: an e-mail address is
            // the one kind with an `@` (as `Channel::of` decides).
            let rows: Vec<(i64, i64)> = sqlx::query_as(
                "SELECT CAST(CASE WHEN recipient LIKE '%@%' THEN 1 ELSE 0 END AS BIGINT), \
                 CAST(COUNT(*) AS BIGINT) FROM notifications WHERE status = $1 \
                 GROUP BY CASE WHEN recipient LIKE '%@%' THEN 1 ELSE 0 END",
            )
            .bind(status.as_str())
            .fetch_all(&self.pool)
            .await?;
            for (email, n) in rows {
                let channel = if email == 1 {
                    Channel::Email
                } else {
                    Channel::Sms
                };
                notices.push((channel, status, n));
            }
        }
        let cards = sqlx::query_as(
            "SELECT p.code, c.state, c.n FROM card_counts c JOIN provinces p ON p.id = c.province_id \
             WHERE c.n <> 0 ORDER BY p.code, c.state",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(Gauges {
            audit_seq,
            log_size,
            notices,
            cards,
            pool_size: self.pool.size(),
            pool_idle: self.pool.num_idle(),
        })
    }
}
