//! What an offline verifier downloads besides the key set: the transparency log's signed tree
//! head with an inclusion proof for a card, and the signed status list of cards taken out of
//! service.
//!
//! * **Log entries** are small JSON documents ([`LogEntry`]) naming a card by the SHA-256 of
//!   its credential — never the holder or the certificate number, so the public log cannot be
//!   used to enumerate certificates. The entry's exact bytes are the Merkle leaf
//!   ([`crate::merkle`]).
//! * The **signed tree head** ([`TreeHead`]) is a COSE_Sign1 by the issuer key over a CBOR map
//!   `{1: tree_size, 2: root_hash, 3: timestamp}`, content type `application/skillcard-sth+cbor`.
//! * The **status list** ([`StatusList`]) is a COSE_Sign1 over `{1: issued_at, 2: tree_size,
//!   3: records}`, content type `application/skillcard-status+cbor`; `records` is one byte
//!   string of 17-byte records, sorted: the first 16 bytes of the credential's SHA-256, then the
//!   reason (1 void, 2 damaged). Like the EU digital certificates' revocation lists it carries
//!   hashes, not numbers.
//!
//! Verification functions here return a [`Verdict`] for the signature (the same one credentials
//! get) or a [`LogError`]; none panics on any input.

use crate::merkle::{self, Hash};
use crate::{open_signed, sign_payload, IssuerKey, PublicKeySet, SignError, Verdict};
use base64::Engine as _;
use ciborium::Value;
use coset::ContentType;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

const STH_CONTENT_TYPE: &str = "application/skillcard-sth+cbor";
const STATUS_CONTENT_TYPE: &str = "application/skillcard-status+cbor";
const CHECKPOINT_CONTENT_TYPE: &str = "application/skillcard-audit-checkpoint+cbor";
/// The largest tree head accepted.
const MAX_TREE_HEAD_BYTES: usize = 1024;
/// The largest status list accepted (about 3.9 million records).
pub const MAX_STATUS_LIST_BYTES: usize = 64 << 20;
const RECORD: usize = 17;

/// The SHA-256 of a credential's bytes: how the log and the status list name a card.
pub fn credential_digest(credential: &[u8]) -> Hash {
    Sha256::digest(credential).into()
}

/// What happened to a card.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogEvent {
    /// The first card of a certificate was registered.
    Issued,
    /// A later card of the same certificate was registered (R-8.1.2 reprint, R-9 replacement).
    Reissued,
    /// The card was reported damaged after registration.
    Damaged,
    /// The card was voided for a replacement (Note 4).
    Void,
}

impl LogEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            LogEvent::Issued => "issued",
            LogEvent::Reissued => "reissued",
            LogEvent::Damaged => "damaged",
            LogEvent::Void => "void",
        }
    }
}

/// One leaf of the transparency log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogEntry {
    /// Format version, 1.
    pub v: u8,
    pub event: LogEvent,
    /// Hex SHA-256 of the card's credential bytes.
    pub credential_sha256: String,
    /// The issuing province's code.
    pub province: String,
    /// RFC 3339 time of the change.
    pub logged_at: String,
}

impl LogEntry {
    pub fn new(event: LogEvent, credential: &[u8], province: &str, logged_at: &str) -> Self {
        LogEntry {
            v: 1,
            event,
            credential_sha256: hex::encode(credential_digest(credential)),
            province: province.to_owned(),
            logged_at: logged_at.to_owned(),
        }
    }

    /// The leaf's bytes: compact JSON in field order.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// A signed statement of the log's size and root.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TreeHead {
    pub tree_size: u64,
    #[serde(with = "hex_hash")]
    pub root_hash: Hash,
    /// RFC 3339: when the last entry was appended (so the same tree always has the same head).
    pub timestamp: String,
}

fn content_type(s: &str) -> ContentType {
    ContentType::Text(s.to_owned())
}

fn to_cbor(v: &Value) -> Result<Vec<u8>, SignError> {
    let mut out = Vec::new();
    ciborium::into_writer(v, &mut out).map_err(|e| SignError::Cose(e.to_string()))?;
    Ok(out)
}

/// The map `{1: …, 2: …, 3: …}` of a signed payload, with exactly these keys.
fn three_fields(payload: &[u8]) -> Result<[Value; 3], Verdict> {
    let bad = |why: &str| Verdict::Malformed(why.to_owned());
    let mut rest = payload;
    let value: Value = ciborium::de::from_reader_with_recursion_limit(&mut rest, 8)
        .map_err(|e| Verdict::Malformed(format!("payload is not CBOR: {e}")))?;
    if !rest.is_empty() {
        return Err(bad("bytes after the payload"));
    }
    let Value::Map(entries) = value else {
        return Err(bad("payload is not a map"));
    };
    let mut fields: [Option<Value>; 3] = [None, None, None];
    for (k, v) in entries {
        let slot = k
            .as_integer()
            .and_then(|i| usize::try_from(i128::from(i) - 1).ok())
            .filter(|i| *i < 3)
            .ok_or_else(|| bad("unknown key in the payload"))?;
        if fields[slot].replace(v).is_some() {
            return Err(bad("repeated key in the payload"));
        }
    }
    let [a, b, c] = fields;
    Ok([
        a.ok_or_else(|| bad("key 1 missing"))?,
        b.ok_or_else(|| bad("key 2 missing"))?,
        c.ok_or_else(|| bad("key 3 missing"))?,
    ])
}

fn uint_field(v: &Value, what: &str) -> Result<u64, Verdict> {
    v.as_integer()
        .and_then(|i| u64::try_from(i).ok())
        .ok_or_else(|| Verdict::Malformed(format!("{what} is not an unsigned integer")))
}

fn text_field(v: &Value, what: &str) -> Result<String, Verdict> {
    v.as_text()
        .filter(|t| t.len() <= 64)
        .map(str::to_owned)
        .ok_or_else(|| Verdict::Malformed(format!("{what} is not a short text")))
}

/// The `YYYY-MM-DD` part of an RFC 3339 time, checked.
fn date_part(ts: &str) -> Result<&str, Verdict> {
    ts.get(..10)
        .filter(|d| crate::claims::is_iso_date(d))
        .ok_or_else(|| Verdict::Malformed(format!("{ts:?} is not an RFC 3339 time")))
}

/// What a tree head and an audit checkpoint both sign: a count, a 32-byte hash and a time, as
/// the CBOR map `{1: count, 2: hash, 3: time}` under the statement's own content type (so one
/// kind never passes for the other).
fn sign_head(
    count: u64,
    hash: &Hash,
    time: &str,
    kind: &str,
    key: &IssuerKey,
) -> Result<Vec<u8>, SignError> {
    let map = Value::Map(vec![
        (Value::from(1), Value::from(count)),
        (Value::from(2), Value::Bytes(hash.to_vec())),
        (Value::from(3), Value::Text(time.to_owned())),
    ]);
    sign_payload(to_cbor(&map)?, content_type(kind), key)
}

/// Opens what [`sign_head`] signed: the count, hash and time, and the key id, once the
/// signature, the key and the key's `not_after` (against the time's date) check out.
fn open_head(
    bytes: &[u8],
    kind: &str,
    keys: &PublicKeySet,
) -> Result<(u64, Hash, String, String), Verdict> {
    let opened = open_signed(bytes, MAX_TREE_HEAD_BYTES, &content_type(kind), keys)?;
    let [count, hash, time] = three_fields(&opened.payload)?;
    let hash: Hash = hash
        .as_bytes()
        .and_then(|b| b.as_slice().try_into().ok())
        .ok_or_else(|| Verdict::Malformed("the hash is not 32 bytes".to_owned()))?;
    let count = uint_field(&count, "the count")?;
    let time = text_field(&time, "the time")?;
    opened.check_not_after(date_part(&time)?)?;
    Ok((count, hash, time, opened.kid))
}

impl TreeHead {
    pub fn sign(&self, key: &IssuerKey) -> Result<Vec<u8>, SignError> {
        sign_head(
            self.tree_size,
            &self.root_hash,
            &self.timestamp,
            STH_CONTENT_TYPE,
            key,
        )
    }

    /// Opens a signed tree head: the verdict is [`Verdict::Malformed`], a key problem or a bad
    /// signature when it cannot be trusted.
    pub fn verify(bytes: &[u8], keys: &PublicKeySet) -> Result<(TreeHead, String), Verdict> {
        let (tree_size, root_hash, timestamp, kid) = open_head(bytes, STH_CONTENT_TYPE, keys)?;
        Ok((
            TreeHead {
                tree_size,
                root_hash,
                timestamp,
            },
            kid,
        ))
    }
}

/// A signed statement of the audit chain's head: the newest record's sequence number and hash,
/// and when it was taken. Kept outside the database (an append-only file, a second store), it
/// proves later that the database still holds that record unchanged: a chain cut back below it,
/// or rewritten from it on, no longer extends it. It names no person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditCheckpoint {
    pub seq: u64,
    #[serde(with = "hex_hash")]
    pub hash: Hash,
    /// RFC 3339.
    pub at: String,
}

impl AuditCheckpoint {
    pub fn sign(&self, key: &IssuerKey) -> Result<Vec<u8>, SignError> {
        sign_head(self.seq, &self.hash, &self.at, CHECKPOINT_CONTENT_TYPE, key)
    }

    /// Opens a signed checkpoint: the verdict says why one cannot be trusted (not a checkpoint,
    /// an unknown or revoked key, a bad signature).
    pub fn verify(bytes: &[u8], keys: &PublicKeySet) -> Result<(AuditCheckpoint, String), Verdict> {
        let (seq, hash, at, kid) = open_head(bytes, CHECKPOINT_CONTENT_TYPE, keys)?;
        Ok((AuditCheckpoint { seq, hash, at }, kid))
    }
}

/// Why a card's log proof does not hold.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LogError {
    #[error("the tree head cannot be trusted: {0}")]
    TreeHead(Verdict),
    #[error("the proof is not readable: {0}")]
    Unreadable(String),
    #[error("the log entry names another credential")]
    OtherCredential,
    #[error("the log entry records {0:?}, not an issuance")]
    NotAnIssuance(LogEvent),
    #[error("the proof is for a tree of {proof} entries, the tree head has {head}")]
    SizeMismatch { proof: u64, head: u64 },
    #[error(transparent)]
    Proof(#[from] merkle::ProofError),
}

/// A card's inclusion proof as the public API serves it and `skillcard verify --log-proof`
/// reads it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InclusionBundle {
    pub leaf_index: u64,
    pub tree_size: u64,
    /// The leaf's exact bytes (a [`LogEntry`] as JSON).
    pub entry: String,
    /// Hex hashes, bottom up (RFC 9162 §2.1.3.1).
    pub audit_path: Vec<String>,
    /// The signed tree head, base64 (standard alphabet) of the COSE_Sign1 bytes.
    pub tree_head: String,
}

/// What a verified inclusion proof shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Included {
    pub leaf_index: u64,
    pub tree_size: u64,
    pub event: LogEvent,
    pub logged_at: String,
    pub tree_head_timestamp: String,
    pub kid: String,
}

/// Hex to a hash, for proofs read from JSON.
pub fn parse_hash(s: &str) -> Option<Hash> {
    hex::decode(s).ok()?.try_into().ok()
}

/// Checks that `credential` was logged as issued (or reissued) in the tree the signed head
/// describes: the head's signature, the entry naming this credential, and the audit path.
pub fn verify_inclusion(
    credential: &[u8],
    bundle: &InclusionBundle,
    keys: &PublicKeySet,
) -> Result<Included, LogError> {
    let head_bytes = base64::engine::general_purpose::STANDARD
        .decode(bundle.tree_head.trim())
        .map_err(|e| LogError::Unreadable(format!("tree head: {e}")))?;
    let (head, kid) = TreeHead::verify(&head_bytes, keys).map_err(LogError::TreeHead)?;
    if bundle.tree_size != head.tree_size {
        return Err(LogError::SizeMismatch {
            proof: bundle.tree_size,
            head: head.tree_size,
        });
    }
    let entry: LogEntry = serde_json::from_str(&bundle.entry)
        .map_err(|e| LogError::Unreadable(format!("entry: {e}")))?;
    if entry.credential_sha256 != hex::encode(credential_digest(credential)) {
        return Err(LogError::OtherCredential);
    }
    if !matches!(entry.event, LogEvent::Issued | LogEvent::Reissued) {
        return Err(LogError::NotAnIssuance(entry.event));
    }
    let path = bundle
        .audit_path
        .iter()
        .map(|h| parse_hash(h).ok_or_else(|| LogError::Unreadable(format!("hash {h:?}"))))
        .collect::<Result<Vec<_>, _>>()?;
    merkle::verify_inclusion(
        &merkle::leaf_hash(bundle.entry.as_bytes()),
        bundle.leaf_index,
        head.tree_size,
        &path,
        &head.root_hash,
    )?;
    Ok(Included {
        leaf_index: bundle.leaf_index,
        tree_size: head.tree_size,
        event: entry.event,
        logged_at: entry.logged_at,
        tree_head_timestamp: head.timestamp,
        kid,
    })
}

/// Checks a monitor's two signed tree heads (COSE bytes) and the consistency proof between them
/// (hex hashes, RFC 9162 §2.1.4.1): both heads signed by a published key, and the older tree a
/// prefix of the newer — nothing logged was removed or changed. Returns the two heads.
pub fn verify_log_consistency(
    old_head: &[u8],
    new_head: &[u8],
    proof: &[String],
    keys: &PublicKeySet,
) -> Result<(TreeHead, TreeHead), LogError> {
    let (old, _) = TreeHead::verify(old_head, keys).map_err(LogError::TreeHead)?;
    let (new, _) = TreeHead::verify(new_head, keys).map_err(LogError::TreeHead)?;
    let path = proof
        .iter()
        .map(|h| parse_hash(h).ok_or_else(|| LogError::Unreadable(format!("hash {h:?}"))))
        .collect::<Result<Vec<_>, _>>()?;
    merkle::verify_consistency(
        old.tree_size,
        new.tree_size,
        &old.root_hash,
        &new.root_hash,
        &path,
    )?;
    Ok((old, new))
}

/// Why a card is out of service, in the status list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Revocation {
    /// Voided for a replacement (Note 4).
    Void = 1,
    /// Reported damaged.
    Damaged = 2,
}

impl Revocation {
    fn from_byte(b: u8) -> Option<Self> {
        match b {
            1 => Some(Revocation::Void),
            2 => Some(Revocation::Damaged),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Revocation::Void => "void",
            Revocation::Damaged => "damaged",
        }
    }
}

/// The cards taken out of service, as of a moment of the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusList {
    /// RFC 3339.
    pub issued_at: String,
    /// The log's size the list reflects.
    pub tree_size: u64,
    records: Vec<([u8; 16], Revocation)>,
}

fn prefix(credential: &[u8]) -> [u8; 16] {
    let d = credential_digest(credential);
    let mut p = [0u8; 16];
    p.copy_from_slice(&d[..16]);
    p
}

impl StatusList {
    /// A list of the given cards (full SHA-256 digests of their credentials).
    pub fn new(issued_at: &str, tree_size: u64, revoked: &[(Hash, Revocation)]) -> Self {
        let mut records: Vec<([u8; 16], Revocation)> = revoked
            .iter()
            .map(|(d, r)| {
                let mut p = [0u8; 16];
                p.copy_from_slice(&d[..16]);
                (p, *r)
            })
            .collect();
        records.sort_by_key(|r| r.0);
        records.dedup_by(|a, b| a.0 == b.0);
        StatusList {
            issued_at: issued_at.to_owned(),
            tree_size,
            records,
        }
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Whether the card with this credential is out of service.
    pub fn status_of(&self, credential: &[u8]) -> Option<Revocation> {
        let p = prefix(credential);
        self.records
            .binary_search_by(|r| r.0.cmp(&p))
            .ok()
            .map(|i| self.records[i].1)
    }

    pub fn sign(&self, key: &IssuerKey) -> Result<Vec<u8>, SignError> {
        let mut packed = Vec::with_capacity(self.records.len() * RECORD);
        for (p, r) in &self.records {
            packed.extend_from_slice(p);
            packed.push(*r as u8);
        }
        let map = Value::Map(vec![
            (Value::from(1), Value::Text(self.issued_at.clone())),
            (Value::from(2), Value::from(self.tree_size)),
            (Value::from(3), Value::Bytes(packed)),
        ]);
        sign_payload(to_cbor(&map)?, content_type(STATUS_CONTENT_TYPE), key)
    }

    /// Opens a signed status list; the records must be whole, sorted and known reasons.
    pub fn verify(bytes: &[u8], keys: &PublicKeySet) -> Result<(StatusList, String), Verdict> {
        let opened = open_signed(
            bytes,
            MAX_STATUS_LIST_BYTES,
            &content_type(STATUS_CONTENT_TYPE),
            keys,
        )?;
        let [at, size, packed] = three_fields(&opened.payload)?;
        let issued_at = text_field(&at, "issued_at")?;
        opened.check_not_after(date_part(&issued_at)?)?;
        let packed = packed
            .as_bytes()
            .ok_or_else(|| Verdict::Malformed("records are not a byte string".to_owned()))?;
        if packed.len() % RECORD != 0 {
            return Err(Verdict::Malformed("records are truncated".to_owned()));
        }
        let mut records = Vec::with_capacity(packed.len() / RECORD);
        for chunk in packed.chunks_exact(RECORD) {
            let mut p = [0u8; 16];
            p.copy_from_slice(&chunk[..16]);
            let r = Revocation::from_byte(chunk[16])
                .ok_or_else(|| Verdict::Malformed(format!("unknown reason {}", chunk[16])))?;
            if records.last().is_some_and(|(q, _)| q >= &p) {
                return Err(Verdict::Malformed("records are not sorted".to_owned()));
            }
            records.push((p, r));
        }
        Ok((
            StatusList {
                issued_at,
                tree_size: uint_field(&size, "tree size")?,
                records,
            },
            opened.kid,
        ))
    }
}

mod hex_hash {
    pub fn serialize<S: serde::Serializer>(h: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(h))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::merkle::{inclusion_plan, leaf_hash, root_plan, NodeId};
    use crate::KeyStatus;
    use std::collections::HashMap;

    fn keys() -> (IssuerKey, PublicKeySet) {
        let key = IssuerKey::from_seed("hq-2026", [7; 32]).unwrap();
        let mut set = PublicKeySet::new();
        set.insert(key.public_key(KeyStatus::Active, None)).unwrap();
        (key, set)
    }

    /// A log of `n` issuances, its perfect nodes, and the entries' bytes.
    fn log(n: u64) -> (Vec<String>, HashMap<NodeId, Hash>) {
        let mut entries = Vec::new();
        let mut nodes = HashMap::new();
        let mut b = merkle::Builder::default();
        for i in 0..n {
            let e = LogEntry::new(
                LogEvent::Issued,
                format!("credential {i}").as_bytes(),
                "23",
                "2026-11-26T08:00:00Z",
            );
            let text = String::from_utf8(e.to_bytes()).unwrap();
            nodes.extend(b.push(leaf_hash(text.as_bytes())));
            entries.push(text);
        }
        (entries, nodes)
    }

    fn bundle(i: u64, n: u64, key: &IssuerKey) -> InclusionBundle {
        let (entries, nodes) = log(n);
        let root = root_plan(n).assemble(&nodes).unwrap()[0];
        let head = TreeHead {
            tree_size: n,
            root_hash: root,
            timestamp: "2026-11-26T08:00:00Z".into(),
        };
        InclusionBundle {
            leaf_index: i,
            tree_size: n,
            entry: entries[i as usize].clone(),
            audit_path: inclusion_plan(i, n)
                .assemble(&nodes)
                .unwrap()
                .iter()
                .map(hex::encode)
                .collect(),
            tree_head: base64::engine::general_purpose::STANDARD.encode(head.sign(key).unwrap()),
        }
    }

    #[test]
    fn a_logged_credential_verifies_and_others_do_not() {
        let (key, set) = keys();
        let b = bundle(5, 11, &key);
        let ok = verify_inclusion(b"credential 5", &b, &set).unwrap();
        assert_eq!((ok.leaf_index, ok.tree_size), (5, 11));
        assert_eq!(
            verify_inclusion(b"credential 6", &b, &set),
            Err(LogError::OtherCredential)
        );
        let mut wrong_index = b.clone();
        wrong_index.leaf_index = 4;
        assert!(matches!(
            verify_inclusion(b"credential 5", &wrong_index, &set),
            Err(LogError::Proof(_))
        ));
        let other = IssuerKey::from_seed("hq-2026", [8; 32]).unwrap();
        let mut forged = b.clone();
        forged.tree_head = bundle(5, 11, &other).tree_head;
        assert!(matches!(
            verify_inclusion(b"credential 5", &forged, &set),
            Err(LogError::TreeHead(Verdict::BadSignature(_)))
        ));
        let mut garbled = b;
        garbled.tree_head = "%%%".into();
        assert!(matches!(
            verify_inclusion(b"credential 5", &garbled, &set),
            Err(LogError::Unreadable(_))
        ));
    }

    #[test]
    fn an_audit_checkpoint_round_trips_and_is_no_tree_head() {
        let (key, set) = keys();
        let cp = AuditCheckpoint {
            seq: 41,
            hash: [9; 32],
            at: "2026-12-04T01:02:03Z".into(),
        };
        let bytes = cp.sign(&key).unwrap();
        assert_eq!(
            AuditCheckpoint::verify(&bytes, &set).unwrap(),
            (cp.clone(), "hq-2026".into())
        );
        assert!(TreeHead::verify(&bytes, &set).is_err());
        let head = TreeHead {
            tree_size: 41,
            root_hash: [9; 32],
            timestamp: cp.at.clone(),
        };
        assert!(AuditCheckpoint::verify(&head.sign(&key).unwrap(), &set).is_err());
        let other = IssuerKey::from_seed("hq-2026", [8; 32]).unwrap();
        assert!(matches!(
            AuditCheckpoint::verify(&cp.sign(&other).unwrap(), &set),
            Err(Verdict::BadSignature(_))
        ));
    }

    #[test]
    fn a_tree_head_is_not_a_credential_nor_a_status_list() {
        let (key, set) = keys();
        let head = TreeHead {
            tree_size: 3,
            root_hash: [9; 32],
            timestamp: "2026-11-26T08:00:00Z".into(),
        };
        let signed = head.sign(&key).unwrap();
        assert_eq!(TreeHead::verify(&signed, &set).unwrap().0, head);
        assert!(matches!(
            crate::verify(&signed, &set, None),
            Verdict::Malformed(_)
        ));
        assert!(matches!(
            StatusList::verify(&signed, &set),
            Err(Verdict::Malformed(_))
        ));
    }

    #[test]
    fn a_long_status_list_round_trips() {
        let (key, set) = keys();
        let revoked: Vec<_> = (0u32..50_000)
            .map(|i| (credential_digest(&i.to_be_bytes()), Revocation::Damaged))
            .collect();
        let signed = StatusList::new("2026-11-26T08:00:00Z", 7, &revoked)
            .sign(&key)
            .unwrap();
        let (back, _) = StatusList::verify(&signed, &set).unwrap();
        assert_eq!(back.len(), 50_000);
        assert_eq!(
            back.status_of(&49_999u32.to_be_bytes()),
            Some(Revocation::Damaged)
        );
    }

    #[test]
    fn status_list_round_trips_and_rejects_tampering() {
        let (key, set) = keys();
        let list = StatusList::new(
            "2026-11-26T08:00:00Z",
            42,
            &[
                (credential_digest(b"a"), Revocation::Void),
                (credential_digest(b"b"), Revocation::Damaged),
            ],
        );
        let signed = list.sign(&key).unwrap();
        let (back, kid) = StatusList::verify(&signed, &set).unwrap();
        assert_eq!(
            (back.len(), back.tree_size, kid.as_str()),
            (2, 42, "hq-2026")
        );
        assert_eq!(back.status_of(b"a"), Some(Revocation::Void));
        assert_eq!(back.status_of(b"b"), Some(Revocation::Damaged));
        assert_eq!(back.status_of(b"c"), None);
        let mut tampered = signed.clone();
        let last = tampered.len() - 70;
        tampered[last] ^= 1;
        assert!(StatusList::verify(&tampered, &set).is_err());
        for cut in [0, 1, signed.len() / 2, signed.len() - 1] {
            assert!(StatusList::verify(&signed[..cut], &set).is_err());
        }
    }
}
