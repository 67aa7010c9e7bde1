//! The write transaction: takes the audit head first, appends one audit record per change.

use crate::Result;
use serde_json::Value;
use skillcard_core::audit::{record_hash, AuditRecord};
use skillcard_core::policy::Actor;
use sqlx::{Any, Transaction};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub(crate) struct WriteTx {
    pub tx: Transaction<'static, Any>,
    pub now: OffsetDateTime,
    /// The chain's head as this transaction sees it: taken at `begin`, advanced by `audit`,
    /// written back at `commit`.
    head: (i64, String),
    dirty: bool,
    /// Set when the transaction appended to the transparency log; `commit` then counts it in
    /// the store's [`Store::local_log_writes`](crate::Store::local_log_writes).
    pub(crate) logged: bool,
    log_writes: Arc<AtomicU64>,
}

pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

impl WriteTx {
    pub async fn begin(store: &crate::Store) -> Result<Self> {
        let mut tx = store.pool.begin().await?;
        // Take the head row's lock before reading anything: writers run one after another.
        let head: (i64, String) =
            sqlx::query_as("UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, hash")
                .fetch_one(&mut *tx)
                .await?;
        Ok(WriteTx {
            tx,
            now: OffsetDateTime::now_utc(),
            head,
            dirty: false,
            logged: false,
            log_writes: store.log_writes.clone(),
        })
    }

    pub fn today(&self) -> time::Date {
        skillcard_core::date::tehran_date(self.now)
    }

    pub fn now_str(&self) -> String {
        rfc3339(self.now)
    }

    /// Appends the audit record of one change to the chain.
    #[allow(clippy::too_many_arguments)]
    pub async fn audit(
        &mut self,
        actor: Option<&Actor>,
        action: &str,
        entity: &str,
        entity_id: impl ToString,
        province_id: Option<i64>,
        before: Value,
        after: Value,
    ) -> Result<()> {
        let (seq, prev) = self.head.clone();
        let mut r = AuditRecord {
            seq: seq + 1,
            at: self.now_str(),
            actor_id: actor.map(|a| a.user_id),
            action: action.to_string(),
            entity: entity.to_string(),
            entity_id: entity_id.to_string(),
            province_id,
            before: before.to_string(),
            after: after.to_string(),
            prev_hash: prev.clone(),
            hash: String::new(),
        };
        r.hash = record_hash(&prev, &r);
        sqlx::query(
            "INSERT INTO audit_log (seq, at, actor_id, action, entity, entity_id, province_id, before, after, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(r.seq)
        .bind(&r.at)
        .bind(r.actor_id)
        .bind(&r.action)
        .bind(&r.entity)
        .bind(&r.entity_id)
        .bind(r.province_id)
        .bind(&r.before)
        .bind(&r.after)
        .bind(&r.prev_hash)
        .bind(&r.hash)
        .execute(&mut *self.tx)
        .await?;
        self.head = (r.seq, r.hash);
        self.dirty = true;
        Ok(())
    }

    /// Writes the chain's new head (if anything was audited) and commits.
    pub async fn commit(mut self) -> Result<()> {
        if self.dirty {
            sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
                .bind(self.head.0)
                .bind(&self.head.1)
                .execute(&mut *self.tx)
                .await?;
        }
        self.tx.commit().await?;
        if self.logged {
            self.log_writes.fetch_add(1, Ordering::Release);
        }
        Ok(())
    }
}
