//! Public verification answers kept in memory, so that a card verified again costs no database
//! round trip (verification is the busiest public read, and the same cards are shown again and
//! again).
//!
//! Only answers about a **registered** card (`valid`) are kept. Such an answer changes only when
//! that card leaves service — damaged or voided for a replacement (Note 4) — and each of
//! those appends a log entry naming the card in the same transaction (`skillcard_db::transparency`).
//! Personal data is corrected only after the card has left service, and a certificate
//! never changes once issued. So following the transparency log is enough to evict every answer
//! that went stale:
//! - this process's own writes are seen at the next verification, before the cache is read
//!   (`Store::local_log_writes` says the log grew; one query reads what changed);
//! - other servers' writes over the same database are seen by [`follow`], every
//!   [`FOLLOW_EVERY`].
//!
//! A miss reads the database after taking a [`Ticket`]; its answer is stored only if no eviction
//! happened in between, so an answer read just before a card left service cannot outlive it.
//! Keys are SHA-256 digests of the request (QR text, or certificate number with national code),
//! so the national codes asked about are not held in memory.

use crate::verification::VerifyOutcome;
use hashlink::LruCache;
use sha2::{Digest, Sha256};
use skillcard_db::Store;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// How often [`follow`] reads the log for other servers' changes: the longest a change made on
/// another server can go unseen here.
pub const FOLLOW_EVERY: Duration = Duration::from_secs(1);

/// The default number of answers kept (about 1 KiB each).
pub const DEFAULT_CAPACITY: usize = 100_000;

/// The digest a request is kept under.
pub type Key = [u8; 32];

/// The key of a QR text.
pub fn qr_key(qr: &str) -> Key {
    digest(&[b"qr", qr.as_bytes()])
}

/// The key of a lookup by certificate number and national code (both already normalised).
pub fn number_key(number: &str, national_id: &str) -> Key {
    digest(&[b"no", number.as_bytes(), national_id.as_bytes()])
}

fn digest(parts: &[&[u8]]) -> Key {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p);
    }
    h.finalize().into()
}

/// Taken before a miss reads the database: the evictions seen so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket(u64);

/// The answers and, per card serial, the keys whose answer is about that card.
#[derive(Debug)]
struct Entries {
    answers: LruCache<Key, (u64, VerifyOutcome)>,
    by_serial: HashMap<u64, Vec<Key>>,
    /// Bumped by every eviction pass that saw a card leave service.
    evictions: u64,
}

impl Entries {
    fn new(capacity: usize) -> Self {
        Entries {
            answers: LruCache::new(capacity),
            by_serial: HashMap::new(),
            evictions: 0,
        }
    }

    fn get(&mut self, key: &Key) -> Option<VerifyOutcome> {
        self.answers.get(key).map(|(_, o)| o.clone())
    }

    /// Keeps `outcome` (about the card `serial`) unless an eviction pass ran since `ticket`.
    fn insert(&mut self, ticket: Ticket, key: Key, serial: u64, outcome: VerifyOutcome) -> bool {
        if ticket.0 != self.evictions || self.answers.capacity() == 0 {
            return false;
        }
        if self.answers.contains_key(&key) {
            return true;
        }
        if self.answers.len() >= self.answers.capacity() {
            if let Some((old_key, (old_serial, _))) = self.answers.remove_lru() {
                self.forget(old_serial, &old_key);
            }
        }
        self.answers.insert(key, (serial, outcome));
        self.by_serial.entry(serial).or_default().push(key);
        true
    }

    fn forget(&mut self, serial: u64, key: &Key) {
        if let Some(keys) = self.by_serial.get_mut(&serial) {
            keys.retain(|k| k != key);
            if keys.is_empty() {
                self.by_serial.remove(&serial);
            }
        }
    }

    /// Drops every answer about the cards `serials`; returns how many.
    fn evict(&mut self, serials: &[u64]) -> usize {
        if serials.is_empty() {
            return 0;
        }
        self.evictions += 1;
        let mut dropped = 0;
        for serial in serials {
            for key in self.by_serial.remove(serial).unwrap_or_default() {
                dropped += usize::from(self.answers.remove(&key).is_some());
            }
        }
        dropped
    }
}

/// The cache of verification answers. `capacity` 0 keeps nothing: every request reads the
/// database.
#[derive(Debug)]
pub struct VerifyCache {
    capacity: usize,
    entries: Mutex<Entries>,
    /// The next log index to read; `None` until the first look. Held while catching up, so
    /// that looks happen one at a time.
    next: tokio::sync::Mutex<Option<u64>>,
    /// `Store::local_log_writes` as of the last look; `u64::MAX` before the first.
    local_seen: AtomicU64,
    hits: AtomicU64,
    misses: AtomicU64,
    evicted: AtomicU64,
}

/// What the cache has done since the server started, for the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
    pub evictions: u64,
    pub entries: usize,
}

impl VerifyCache {
    pub fn new(capacity: usize) -> Self {
        VerifyCache {
            capacity,
            entries: Mutex::new(Entries::new(capacity)),
            next: tokio::sync::Mutex::default(),
            local_seen: AtomicU64::new(u64::MAX),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            evicted: AtomicU64::new(0),
        }
    }

    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            evictions: self.evicted.load(Ordering::Relaxed),
            entries: self.lock().answers.len(),
        }
    }

    pub fn enabled(&self) -> bool {
        self.capacity > 0
    }

    fn lock(&self) -> MutexGuard<'_, Entries> {
        // A panic while holding the lock leaves a consistent map (no step can half-apply).
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The answer kept for `key`, after catching up with this process's own writes.
    pub async fn get(
        &self,
        store: &Store,
        key: &Key,
    ) -> skillcard_db::Result<Option<VerifyOutcome>> {
        if !self.enabled() {
            return Ok(None);
        }
        if self.local_seen.load(Ordering::Acquire) != store.local_log_writes() {
            self.catch_up(store).await?;
        }
        let found = self.lock().get(key);
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        Ok(found)
    }

    /// To be taken before reading the database for an answer that may be kept.
    pub fn ticket(&self) -> Ticket {
        Ticket(self.lock().evictions)
    }

    /// Keeps the answer about the registered card `serial`, unless a card left service since
    /// `ticket` was taken. Returns whether it was kept.
    pub fn insert(&self, ticket: Ticket, key: Key, serial: u64, outcome: VerifyOutcome) -> bool {
        self.lock().insert(ticket, key, serial, outcome)
    }

    /// Reads the log entries appended since the last look and drops the answers about cards
    /// that left service. Returns how many answers were dropped.
    pub async fn catch_up(&self, store: &Store) -> skillcard_db::Result<usize> {
        let mut next = self.next.lock().await;
        // Read the counter before the log, so a write committed meanwhile is looked at again.
        let local = store.local_log_writes();
        let changes = store.log_changes_since(*next).await?;
        let dropped = match *next {
            // The first look only finds where the log ends; nothing is kept yet to evict, but
            // answers read before it must not be stored.
            None => {
                let mut entries = self.lock();
                entries.evictions += 1;
                0
            }
            Some(_) => self.lock().evict(&changes.out_of_service),
        };
        self.evicted.fetch_add(dropped as u64, Ordering::Relaxed);
        *next = Some(changes.next);
        self.local_seen.store(local, Ordering::Release);
        Ok(dropped)
    }
}

/// Follows the log for changes made by other servers over the same database, every
/// [`FOLLOW_EVERY`], for as long as the server runs.
pub async fn follow(cache: std::sync::Arc<VerifyCache>, store: Store) {
    let mut tick = tokio::time::interval(FOLLOW_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = cache.catch_up(&store).await {
            tracing::warn!(error = %e, "verification cache: reading the transparency log failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An answer told apart from others by its message.
    fn answer(name: &str) -> VerifyOutcome {
        VerifyOutcome {
            result: "valid".into(),
            message: name.into(),
            signature: None,
            certificate: None,
        }
    }

    #[test]
    fn keys_of_different_requests_differ() {
        assert_ne!(qr_key("SC1:AB"), number_key("SC1:AB", ""));
        // Length-prefixed parts: moving a character between number and code changes the key.
        assert_ne!(number_key("12", "3"), number_key("1", "23"));
        assert_eq!(number_key("1", "23"), number_key("1", "23"));
    }

    #[test]
    fn an_answer_read_before_an_eviction_is_not_kept() {
        let mut e = Entries::new(10);
        let ticket = Ticket(e.evictions);
        e.evict(&[99]);
        assert!(!e.insert(ticket, qr_key("a"), 7, answer("a")));
        assert!(e.get(&qr_key("a")).is_none());
        let ticket = Ticket(e.evictions);
        assert!(e.insert(ticket, qr_key("a"), 7, answer("a")));
        assert_eq!(e.get(&qr_key("a")).map(|o| o.message), Some("a".into()));
    }

    #[test]
    fn evicting_a_card_drops_every_answer_about_it_and_no_other() {
        let mut e = Entries::new(10);
        let t = Ticket(0);
        assert!(e.insert(t, qr_key("card 7"), 7, answer("qr")));
        assert!(e.insert(t, number_key("n7", "c"), 7, answer("number")));
        assert!(e.insert(t, qr_key("card 8"), 8, answer("other")));
        assert_eq!(e.evict(&[7]), 2);
        assert!(e.get(&qr_key("card 7")).is_none());
        assert!(e.get(&number_key("n7", "c")).is_none());
        assert!(e.get(&qr_key("card 8")).is_some());
        assert!(!e.by_serial.contains_key(&7));
    }

    #[test]
    fn the_least_recently_used_answer_goes_first_and_its_index_with_it() {
        let mut e = Entries::new(2);
        let t = Ticket(0);
        e.insert(t, qr_key("1"), 1, answer("1"));
        e.insert(t, qr_key("2"), 2, answer("2"));
        assert!(e.get(&qr_key("1")).is_some());
        e.insert(Ticket(0), qr_key("3"), 3, answer("3"));
        assert!(
            e.get(&qr_key("2")).is_none(),
            "2 was the least recently used"
        );
        assert!(e.get(&qr_key("1")).is_some() && e.get(&qr_key("3")).is_some());
        assert_eq!(e.answers.len(), 2);
        assert_eq!(e.by_serial.len(), 2);
        assert!(!e.by_serial.contains_key(&2));
    }

    #[test]
    fn capacity_zero_keeps_nothing() {
        let mut e = Entries::new(0);
        assert!(!e.insert(Ticket(0), qr_key("1"), 1, answer("1")));
        assert!(e.get(&qr_key("1")).is_none());
    }
}
