//! The audit chain. Every change appends one record whose hash covers the previous record's
//! hash, so removing, reordering or editing any record breaks every hash after it;
//! [`verify_chain`] finds the first broken link.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The hash that precedes the first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub seq: i64,
    /// RFC 3339, UTC.
    pub at: String,
    pub actor_id: Option<i64>,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub province_id: Option<i64>,
    /// JSON of the state before and after.
    pub before: String,
    pub after: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The hash of a record given its predecessor's hash. Fields are length-prefixed so that no two
/// different records serialise to the same bytes.
pub fn record_hash(prev_hash: &str, r: &AuditRecord) -> String {
    let mut h = Sha256::new();
    let actor = r.actor_id.map(|a| a.to_string()).unwrap_or_default();
    let province = r.province_id.map(|p| p.to_string()).unwrap_or_default();
    let seq = r.seq.to_string();
    for part in [
        prev_hash,
        &seq,
        &r.at,
        &actor,
        &r.action,
        &r.entity,
        &r.entity_id,
        &province,
        &r.before,
        &r.after,
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum ChainError {
    #[error("audit record {seq}: expected sequence number {expected}")]
    Gap { seq: i64, expected: i64 },
    #[error("audit record {seq}: previous-hash link does not match record {prev}")]
    BrokenLink { seq: i64, prev: i64 },
    #[error("audit record {seq}: content does not match its hash (altered)")]
    Altered { seq: i64 },
    #[error("audit head says {head_seq} records but the log ends at {last_seq}")]
    Truncated { head_seq: i64, last_seq: i64 },
}

/// How far a chain has been verified: the last record's sequence number and hash (0 and
/// [`GENESIS`] before the first), so a long chain can be verified a page at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainCursor {
    pub last: i64,
    pub prev: String,
}

impl ChainCursor {
    pub fn genesis() -> Self {
        ChainCursor {
            last: 0,
            prev: GENESIS.to_string(),
        }
    }
}

/// Verifies records in sequence order, starting from the genesis hash.
pub fn verify_chain<'a>(
    records: impl IntoIterator<Item = &'a AuditRecord>,
) -> Result<(i64, String), ChainError> {
    let c = verify_chain_from(ChainCursor::genesis(), records)?;
    Ok((c.last, c.prev))
}

/// Verifies the records that follow `from`, in sequence order: [`verify_chain`] one page at a
/// time, each page starting where the last one ended.
pub fn verify_chain_from<'a>(
    from: ChainCursor,
    records: impl IntoIterator<Item = &'a AuditRecord>,
) -> Result<ChainCursor, ChainError> {
    let ChainCursor { mut last, mut prev } = from;
    for r in records {
        if r.seq != last + 1 {
            return Err(ChainError::Gap {
                seq: r.seq,
                expected: last + 1,
            });
        }
        if r.prev_hash != prev {
            return Err(ChainError::BrokenLink {
                seq: r.seq,
                prev: last,
            });
        }
        if record_hash(&prev, r) != r.hash {
            return Err(ChainError::Altered { seq: r.seq });
        }
        prev = r.hash.clone();
        last = r.seq;
    }
    Ok(ChainCursor { last, prev })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<AuditRecord> {
        let mut prev = GENESIS.to_string();
        (1..=n)
            .map(|seq| {
                let mut r = AuditRecord {
                    seq,
                    at: "2026-11-25T10:00:00Z".into(),
                    actor_id: Some(1),
                    action: "x".into(),
                    entity: "shipment".into(),
                    entity_id: seq.to_string(),
                    province_id: None,
                    before: "{}".into(),
                    after: format!("{{\"n\":{seq}}}"),
                    prev_hash: prev.clone(),
                    hash: String::new(),
                };
                r.hash = record_hash(&prev, &r);
                prev = r.hash.clone();
                r
            })
            .collect()
    }

    /// Page by page is the same verification as all at once, and a page is checked against
    /// where the one before ended.
    #[test]
    fn a_chain_verifies_page_by_page() {
        let c = chain(7);
        let whole = verify_chain(&c).unwrap();
        let mut cursor = ChainCursor::genesis();
        for page in c.chunks(3) {
            cursor = verify_chain_from(cursor, page).unwrap();
        }
        assert_eq!((cursor.last, cursor.prev), whole);
        let after_three = verify_chain_from(ChainCursor::genesis(), &c[..3]).unwrap();
        assert_eq!(
            verify_chain_from(after_three, &c[4..]),
            Err(ChainError::Gap {
                seq: 5,
                expected: 4
            })
        );
    }

    #[test]
    fn detects_tampering() {
        let mut c = chain(5);
        assert_eq!(verify_chain(&c).unwrap().0, 5);
        c[2].after = "{\"n\":99}".into();
        assert_eq!(verify_chain(&c), Err(ChainError::Altered { seq: 3 }));
        let mut c = chain(5);
        c.remove(1);
        assert_eq!(
            verify_chain(&c),
            Err(ChainError::Gap {
                seq: 3,
                expected: 2
            })
        );
    }
}
