//! What the metrics endpoint reads from the database at each scrape. Only cheap reads: the
//! maintained card counts, the audit head, the log's size, index seeks on the outbox's small
//! statuses — never a count over a big table.

use crate::{Result, Store};

/// The database's side of the metrics.
#[derive(Debug, Clone, Default)]
pub struct Gauges {
    /// The newest audit record's sequence number (0 when there is none).
    pub audit_seq: i64,
    pub log_size: u64,
    pub notices_pending: i64,
    pub notices_failed: i64,
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
        let mut pending = [0i64; 2];
        for (slot, status) in pending.iter_mut().zip(["pending", "failed"]) {
            (*slot,) = sqlx::query_as(
                "SELECT CAST(COUNT(*) AS BIGINT) FROM notifications WHERE status = $1",
            )
            .bind(status)
            .fetch_one(&self.pool)
            .await?;
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
            notices_pending: pending[0],
            notices_failed: pending[1],
            cards,
            pool_size: self.pool.size(),
            pool_idle: self.pool.num_idle(),
        })
    }
}
