//! Audit checkpoints: the chain's head signed and kept outside the database, and the question
//! `skillcard check --checkpoint` asks of the database later — does it still hold that record,
//! unchanged? The chain check proves every record links to the one before; only a checkpoint
//! from outside proves that the newest records were not cut off and the head set back.

use crate::{Result, Store, StoreError};
use serde::Serialize;
use skillcard_credential::transparency::AuditCheckpoint;

/// Where the database stands against a checkpoint taken earlier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "standing", rename_all = "snake_case")]
pub enum CheckpointStanding {
    /// The checkpoint's record is there, unchanged; `newest` is the chain's newest record now.
    Extends { newest: u64 },
    /// The chain ends before the checkpoint's record: records were removed.
    Truncated { checkpoint: u64, newest: u64 },
    /// The record at the checkpoint's sequence number has another hash: the chain was rewritten
    /// from there.
    Rewritten {
        seq: u64,
        expected: String,
        found: String,
    },
}

impl CheckpointStanding {
    pub fn holds(&self) -> bool {
        matches!(self, CheckpointStanding::Extends { .. })
    }
}

impl std::fmt::Display for CheckpointStanding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CheckpointStanding::Extends { newest } => {
                write!(f, "the database extends the checkpoint (newest audit record {newest})")
            }
            CheckpointStanding::Truncated { checkpoint, newest } => write!(
                f,
                "audit records were removed: the checkpoint names record {checkpoint}, the database ends at {newest}"
            ),
            CheckpointStanding::Rewritten {
                seq,
                expected,
                found,
            } => write!(
                f,
                "audit record {seq} was rewritten: the checkpoint says hash {expected}, the database holds {found}"
            ),
        }
    }
}

/// The hash an empty chain starts from (`audit_head`'s first row).
const GENESIS: [u8; 32] = [0; 32];

impl Store {
    /// The audit chain's head now, as a checkpoint taken `at` (RFC 3339): the newest record's
    /// sequence number and hash (0 and the zero hash for an empty chain).
    pub async fn audit_checkpoint(&self, at: &str) -> Result<AuditCheckpoint> {
        let (seq, hash) = match self.audit_tip().await? {
            Some((seq, hash)) => (seq, decode_hash(&hash)?),
            None => (0, GENESIS),
        };
        Ok(AuditCheckpoint {
            seq: u64::try_from(seq).map_err(|_| StoreError::Corrupt(format!("audit seq {seq}")))?,
            hash,
            at: at.to_owned(),
        })
    }

    /// Whether the database still holds the record `cp` names, unchanged.
    pub async fn standing_against(&self, cp: &AuditCheckpoint) -> Result<CheckpointStanding> {
        let newest = self.audit_checkpoint("").await?.seq;
        if cp.seq == 0 {
            return Ok(CheckpointStanding::Extends { newest });
        }
        let row: Option<(String,)> = sqlx::query_as("SELECT hash FROM audit_log WHERE seq = $1")
            .bind(i64::try_from(cp.seq).unwrap_or(i64::MAX))
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            None => CheckpointStanding::Truncated {
                checkpoint: cp.seq,
                newest,
            },
            Some((found,)) if decode_hash(&found)? == cp.hash => {
                CheckpointStanding::Extends { newest }
            }
            Some((found,)) => CheckpointStanding::Rewritten {
                seq: cp.seq,
                expected: hex::encode(cp.hash),
                found,
            },
        })
    }
}

fn decode_hash(h: &str) -> Result<[u8; 32]> {
    hex::decode(h)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| StoreError::Corrupt(format!("audit hash {h:?}")))
}
