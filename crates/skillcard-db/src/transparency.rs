//! The transparency log in the store: an append-only Merkle tree (RFC 9162 hashing) with one
//! leaf per issuance, reissue, damage or void of a card.
//!
//! [`append`] runs inside the write transaction of the change it records, so the log and the
//! cards never disagree; writers are serialised by the audit head, so leaf indexes have no
//! gaps. The arithmetic (which perfect subtrees a root or proof needs, how they fold) is
//! `skillcard_credential::merkle`; this module only stores and fetches `log_nodes` rows.
//!
//! Reads are public: entries name cards by their credential's SHA-256 only.

use crate::tx::WriteTx;
use crate::{Result, Store, StoreError};
use serde::Serialize;
use skillcard_core::DomainError;
use skillcard_credential::merkle::{self, Hash, NodeId, Plan};
use skillcard_credential::transparency::{LogEntry, LogEvent, Revocation};
use sqlx::AnyConnection;
use std::collections::HashMap;
use utoipa::ToSchema;

/// The most entries one page of [`Store::log_entries`] returns.
pub const MAX_ENTRIES_PAGE: u64 = 1000;

fn hash_from(hex_text: &str) -> Result<Hash> {
    skillcard_credential::transparency::parse_hash(hex_text)
        .ok_or_else(|| StoreError::Corrupt(format!("log hash {hex_text:?}")))
}

async fn fetch(conn: &mut AnyConnection, plan: &Plan) -> Result<Vec<Hash>> {
    let nodes = fetch_nodes(conn, &plan.nodes()).await?;
    plan.assemble(&nodes)
        .ok_or_else(|| StoreError::Corrupt("log node missing".to_owned()))
}

async fn size_in(conn: &mut AnyConnection) -> Result<u64> {
    let (n,): (i64,) =
        sqlx::query_as("SELECT CAST(COALESCE(MAX(idx) + 1, 0) AS BIGINT) FROM log_entries")
            .fetch_one(&mut *conn)
            .await?;
    Ok(n as u64)
}

/// The head of the tree of the first `size` entries: perfect nodes and entries never change
/// once written, so it is the same whenever it is read.
async fn head_at(conn: &mut AnyConnection, size: u64) -> Result<LogHead> {
    if size == 0 {
        return Ok(LogHead {
            tree_size: 0,
            root_hash: merkle::empty_root(),
            timestamp: crate::tx::rfc3339(time::OffsetDateTime::now_utc()),
        });
    }
    let (timestamp,): (String,) =
        sqlx::query_as("SELECT logged_at FROM log_entries WHERE idx = $1")
            .bind(size as i64 - 1)
            .fetch_one(&mut *conn)
            .await?;
    let root = fetch(conn, &merkle::root_plan(size)).await?;
    Ok(LogHead {
        tree_size: size,
        root_hash: root[0],
        timestamp,
    })
}

/// Appends the leaf recording `event` for the card of `print_id`, and the perfect subtrees it
/// completes, in the caller's transaction: four statements whatever the tree's size.
pub(crate) async fn append(w: &mut WriteTx, print_id: i64, event: LogEvent) -> Result<()> {
    let (credential, province, size): (Vec<u8>, String, i64) = sqlx::query_as(
        "SELECT p.credential, v.code, (SELECT CAST(COALESCE(MAX(idx) + 1, 0) AS BIGINT) FROM log_entries) \
         FROM card_prints p JOIN provinces v ON v.id = p.province_id WHERE p.id = $1",
    )
    .bind(print_id)
    .fetch_one(&mut *w.tx)
    .await?;
    let index = size as u64;
    let now = w.now_str();
    let entry = LogEntry::new(event, &credential, &province, &now);
    let text =
        String::from_utf8(entry.to_bytes()).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    sqlx::query(
        "INSERT INTO log_entries (idx, event, credential_sha256, print_id, entry, logged_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(size)
    .bind(event.as_str())
    .bind(&entry.credential_sha256)
    .bind(print_id)
    .bind(&text)
    .bind(&now)
    .execute(&mut *w.tx)
    .await?;
    let completed = merkle::completed_by(index);
    // The left siblings the new nodes are hashed with, fetched at once.
    let siblings: Vec<NodeId> = completed
        .iter()
        .filter(|id| id.level > 0)
        .map(|id| NodeId {
            level: id.level - 1,
            index: id.index * 2,
        })
        .collect();
    let left = fetch_nodes(&mut w.tx, &siblings).await?;
    let mut acc = merkle::leaf_hash(text.as_bytes());
    let mut rows = Vec::with_capacity(completed.len());
    for (i, id) in completed.iter().enumerate() {
        if id.level > 0 {
            let sibling = left.get(&siblings[i - 1]).ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "log node {}/{} missing",
                    id.level - 1,
                    id.index * 2
                ))
            })?;
            acc = merkle::node_hash(sibling, &acc);
        }
        rows.push((*id, acc));
    }
    insert_nodes(&mut w.tx, &rows).await?;
    w.logged = true;
    Ok(())
}

/// The stored hashes of `ids` (those that exist), in one statement.
async fn fetch_nodes(conn: &mut AnyConnection, ids: &[NodeId]) -> Result<HashMap<NodeId, Hash>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let terms: Vec<String> = (0..ids.len())
        .map(|i| format!("(level = ${} AND idx = ${})", 2 * i + 1, 2 * i + 2))
        .collect();
    let sql = format!(
        "SELECT level, idx, hash FROM log_nodes WHERE {}",
        terms.join(" OR ")
    );
    let mut q = sqlx::query_as::<_, (i64, i64, String)>(&sql);
    for id in ids {
        q = q.bind(i64::from(id.level)).bind(id.index as i64);
    }
    let mut out = HashMap::with_capacity(ids.len());
    for (level, idx, hash) in q.fetch_all(&mut *conn).await? {
        let id = NodeId {
            level: u32::try_from(level).map_err(|_| StoreError::Corrupt("log level".into()))?,
            index: idx as u64,
        };
        out.insert(id, hash_from(&hash)?);
    }
    Ok(out)
}

async fn insert_nodes(conn: &mut AnyConnection, rows: &[(NodeId, Hash)]) -> Result<()> {
    for chunk in rows.chunks(800) {
        let sql = format!(
            "INSERT INTO log_nodes (level, idx, hash) VALUES {}",
            placeholders(chunk.len(), 3)
        );
        let mut q = sqlx::query(&sql);
        for (id, hash) in chunk {
            q = q
                .bind(i64::from(id.level))
                .bind(id.index as i64)
                .bind(hex::encode(hash));
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Logs, in print order, the cards registered, damaged or voided whose print id is above
/// `after` and that the log does not hold yet, continuing the log from its current size (for
/// [`Store::backfill_log`] and `crate::bulk`). Built in memory and inserted in batches. Returns
/// the entries written.
pub(crate) async fn log_registered_after(w: &mut WriteTx, after: i64) -> Result<u64> {
    let (size,): (i64,) =
        sqlx::query_as("SELECT CAST(COALESCE(MAX(idx) + 1, 0) AS BIGINT) FROM log_entries")
            .fetch_one(&mut *w.tx)
            .await?;
    let size = size as u64;
    // The frontier: one waiting left sibling per set bit of the size.
    let frontier: Vec<NodeId> = (0..64u32)
        .take_while(|l| size >> l > 0)
        .filter(|l| (size >> l) % 2 == 1)
        .map(|level| NodeId {
            level,
            index: (size >> level) - 1,
        })
        .collect();
    let stored = fetch_nodes(&mut w.tx, &frontier).await?;
    let tree = merkle::Builder::resume(size, |id| stored.get(&id).copied())
        .ok_or_else(|| StoreError::Corrupt("a transparency log node is missing".into()))?;
    let mut builder = Backfill {
        tree,
        ..Backfill::default()
    };
    let now = w.now_str();
    let mut seen = std::collections::HashSet::new();
    let mut after = after;
    loop {
        #[allow(clippy::type_complexity)]
        let page: Vec<(i64, i64, String, Vec<u8>, String)> = sqlx::query_as(
            "SELECT p.id, p.certificate_id, p.status, p.credential, v.code FROM card_prints p \
             JOIN provinces v ON v.id = p.province_id \
             WHERE p.status IN ('bound', 'damaged', 'void') AND p.id > $1 \
             AND NOT EXISTS (SELECT 1 FROM log_entries e WHERE e.print_id = p.id) ORDER BY p.id LIMIT 5000",
        )
        .bind(after)
        .fetch_all(&mut *w.tx)
        .await?;
        let Some(last) = page.last() else { break };
        after = last.0;
        for (id, certificate, status, credential, province) in &page {
            let first = if seen.insert(*certificate) {
                LogEvent::Issued
            } else {
                LogEvent::Reissued
            };
            builder.push(*id, LogEntry::new(first, credential, province, &now));
            let out = match status.as_str() {
                "damaged" => Some(LogEvent::Damaged),
                "void" => Some(LogEvent::Void),
                _ => None,
            };
            if let Some(event) = out {
                builder.push(*id, LogEntry::new(event, credential, province, &now));
            }
        }
        builder.flush(&mut w.tx).await?;
    }
    w.logged = true;
    Ok(builder.tree.size() - size)
}

/// Leaves and perfect nodes built in memory for [`log_registered_after`], written in batches.
#[derive(Default)]
struct Backfill {
    tree: merkle::Builder,
    entries: Vec<(u64, &'static str, String, i64, String, String)>,
    nodes: Vec<(NodeId, Hash)>,
}

impl Backfill {
    fn push(&mut self, print_id: i64, entry: LogEntry) {
        let index = self.tree.size();
        let text = String::from_utf8(entry.to_bytes()).unwrap_or_default();
        self.nodes
            .extend(self.tree.push(merkle::leaf_hash(text.as_bytes())));
        self.entries.push((
            index,
            entry.event.as_str(),
            entry.credential_sha256,
            print_id,
            text,
            entry.logged_at,
        ));
    }

    async fn flush(&mut self, conn: &mut AnyConnection) -> Result<()> {
        for chunk in std::mem::take(&mut self.entries).chunks(400) {
            let values = placeholders(chunk.len(), 6);
            let sql = format!(
                "INSERT INTO log_entries (idx, event, credential_sha256, print_id, entry, logged_at) VALUES {values}"
            );
            let mut q = sqlx::query(&sql);
            for (idx, event, digest, print, entry, at) in chunk {
                q = q
                    .bind(*idx as i64)
                    .bind(*event)
                    .bind(digest.as_str())
                    .bind(*print)
                    .bind(entry.as_str())
                    .bind(at.as_str());
            }
            q.execute(&mut *conn).await?;
        }
        insert_nodes(conn, &std::mem::take(&mut self.nodes)).await
    }
}

/// `($1, $2, …), (…)` for `rows` rows of `cols` values.
fn placeholders(rows: usize, cols: usize) -> String {
    (0..rows)
        .map(|r| {
            let row: Vec<String> = (1..=cols).map(|c| format!("${}", r * cols + c)).collect();
            format!("({})", row.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The log's state at one size: what a tree head signs.
#[derive(Debug, Clone)]
pub struct LogHead {
    pub tree_size: u64,
    pub root_hash: Hash,
    /// When the last entry was appended (the empty log: now).
    pub timestamp: String,
}

/// A leaf's inclusion proof in a tree of a given size.
#[derive(Debug, Clone)]
pub struct LogInclusion {
    pub leaf_index: u64,
    pub entry: String,
    pub audit_path: Vec<Hash>,
    /// The tree the path leads to (entries appended since do not change it).
    pub head: LogHead,
}

/// One published entry.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicLogEntry {
    pub index: u64,
    /// The leaf's exact bytes (JSON).
    pub entry: String,
}

fn bad(field: &'static str) -> StoreError {
    DomainError::InvalidValue { field }.into()
}

impl Store {
    /// The number of entries in the log.
    pub async fn log_size(&self) -> Result<u64> {
        let mut conn = self.pool.acquire().await?;
        size_in(&mut conn).await
    }

    /// The current head: size, root and the time of the last entry.
    pub async fn log_head(&self) -> Result<LogHead> {
        let mut conn = self.pool.acquire().await?;
        let size = size_in(&mut conn).await?;
        head_at(&mut conn, size).await
    }

    /// The inclusion proof of the card whose credential has this SHA-256 (hex), as issued or
    /// reissued, in the current tree.
    pub async fn log_inclusion(&self, credential_sha256: &str) -> Result<LogInclusion> {
        let digest = credential_sha256.trim().to_ascii_lowercase();
        if skillcard_credential::transparency::parse_hash(&digest).is_none() {
            return Err(bad("digest"));
        }
        let mut conn = self.pool.acquire().await?;
        let row: Option<(i64, String)> = sqlx::query_as(
            "SELECT idx, entry FROM log_entries WHERE credential_sha256 = $1 AND event IN ('issued', 'reissued') \
             ORDER BY idx LIMIT 1",
        )
        .bind(&digest)
        .fetch_optional(&mut *conn)
        .await?;
        let Some((index, entry)) = row else {
            return Err(DomainError::NotFound { what: "log_entry" }.into());
        };
        let size = size_in(&mut conn).await?;
        let index = index as u64;
        let audit_path = fetch(&mut conn, &merkle::inclusion_plan(index, size)).await?;
        Ok(LogInclusion {
            leaf_index: index,
            entry,
            audit_path,
            head: head_at(&mut conn, size).await?,
        })
    }

    /// The consistency proof between two sizes of the log (RFC 9162 §2.1.4.1).
    pub async fn log_consistency(&self, first: u64, second: u64) -> Result<Vec<Hash>> {
        let mut conn = self.pool.acquire().await?;
        let size = size_in(&mut conn).await?;
        if first == 0 || first > second {
            return Err(bad("first"));
        }
        if second > size {
            return Err(bad("second"));
        }
        fetch(&mut conn, &merkle::consistency_plan(first, second)).await
    }

    /// Entries `[start, end)` of the log, at most [`MAX_ENTRIES_PAGE`], for monitors that
    /// rebuild the tree.
    pub async fn log_entries(&self, start: u64, end: u64) -> Result<Vec<PublicLogEntry>> {
        if end < start || end - start > MAX_ENTRIES_PAGE {
            return Err(bad("end"));
        }
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT idx, entry FROM log_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx",
        )
        .bind(start as i64)
        .bind(end as i64)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(i, entry)| PublicLogEntry {
                index: i as u64,
                entry,
            })
            .collect())
    }

    /// The cards out of service, by their credential's SHA-256, with the log size they reflect.
    pub async fn revoked_credentials(&self) -> Result<(u64, Vec<(Hash, Revocation)>)> {
        let mut tx = self.pool.begin().await?;
        let size = size_in(&mut tx).await?;
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT credential_sha256, event FROM log_entries WHERE event IN ('damaged', 'void') AND idx < $1",
        )
        .bind(size as i64)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let mut out = Vec::with_capacity(rows.len());
        for (digest, event) in rows {
            let reason = if event == "void" {
                Revocation::Void
            } else {
                Revocation::Damaged
            };
            out.push((hash_from(&digest)?, reason));
        }
        Ok((size, out))
    }

    /// Logs the cards registered, damaged or voided before the log existed (databases created
    /// before migration 0007, or loaded in bulk), in print order, in one transaction. A no-op
    /// on any log that has entries. Returns the entries written.
    ///
    /// Built in memory and inserted in batches: a million cards take seconds, not the hours
    /// one [`append`] per card would.
    pub async fn backfill_log(&self) -> Result<u64> {
        let (pending,): (i64,) = sqlx::query_as(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM card_prints WHERE status IN ('bound', 'damaged', 'void') \
             AND NOT EXISTS (SELECT 1 FROM log_entries)",
        )
        .fetch_one(&self.pool)
        .await?;
        if pending == 0 {
            return Ok(0);
        }
        let mut w = WriteTx::begin(self).await?;
        let written = log_registered_after(&mut w, 0).await?;
        w.audit(
            None,
            "log.backfill",
            "log",
            0,
            None,
            serde_json::json!(null),
            serde_json::json!({ "entries": written }),
        )
        .await?;
        w.commit().await?;
        Ok(written)
    }

    /// `skillcard check`'s part: every stored node is the hash the entries give, and the log
    /// and the cards agree. Returns the problems found.
    pub(crate) async fn check_log(&self, conn: &mut AnyConnection) -> Result<Vec<String>> {
        let mut problems = Vec::new();
        let entries: Vec<(i64, String, String, i64, String)> = sqlx::query_as(
            "SELECT idx, event, credential_sha256, print_id, entry FROM log_entries ORDER BY idx",
        )
        .fetch_all(&mut *conn)
        .await?;
        let stored: Vec<(i64, i64, String)> =
            sqlx::query_as("SELECT level, idx, hash FROM log_nodes")
                .fetch_all(&mut *conn)
                .await?;
        let mut expected: HashMap<NodeId, Hash> = HashMap::new();
        let mut tree = merkle::Builder::default();
        for (i, (idx, _, digest, _, entry)) in entries.iter().enumerate() {
            if *idx != i as i64 {
                problems.push(format!("log entry {idx} out of sequence (expected {i})"));
                break;
            }
            let parsed: std::result::Result<LogEntry, _> = serde_json::from_str(entry);
            if !parsed.is_ok_and(|e| &e.credential_sha256 == digest) {
                problems.push(format!("log entry {idx} does not name its credential"));
            }
            expected.extend(tree.push(merkle::leaf_hash(entry.as_bytes())));
        }
        if stored.len() != expected.len() {
            problems.push(format!(
                "{} log nodes stored, the entries make {}",
                stored.len(),
                expected.len()
            ));
        }
        for (level, idx, hash) in stored {
            let id = NodeId {
                level: level as u32,
                index: idx as u64,
            };
            if expected.get(&id).map(hex::encode).as_deref() != Some(hash.as_str()) {
                problems.push(format!(
                    "log node {level}/{idx} is not the hash of its leaves"
                ));
            }
        }
        // Each card registered, damaged or voided has its entries, naming its credential.
        let prints: Vec<(i64, String, Vec<u8>)> = sqlx::query_as(
            "SELECT id, status, credential FROM card_prints WHERE status IN ('bound', 'damaged', 'void')",
        )
        .fetch_all(&mut *conn)
        .await?;
        let mut by_print: HashMap<i64, Vec<(&str, &str)>> = HashMap::new();
        for (_, event, digest, print, _) in &entries {
            by_print
                .entry(*print)
                .or_default()
                .push((event.as_str(), digest.as_str()));
        }
        for (id, status, credential) in &prints {
            let digest = hex::encode(skillcard_credential::transparency::credential_digest(
                credential,
            ));
            let logged = by_print.remove(id).unwrap_or_default();
            let mut want = vec!["issued"];
            if status != "bound" {
                want.push(status);
            }
            let got: Vec<&str> = logged
                .iter()
                .map(|(e, _)| if *e == "reissued" { "issued" } else { e })
                .collect();
            if got != want || logged.iter().any(|(_, d)| *d != digest) {
                problems.push(format!(
                    "card print {id} ({status}) is logged as {got:?}, expected {want:?}"
                ));
            }
        }
        for print in by_print.keys() {
            problems.push(format!(
                "log entries for card print {print}, which is not registered"
            ));
        }
        Ok(problems)
    }
}
