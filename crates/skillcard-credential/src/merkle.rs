//! The Merkle tree of the transparency log, as RFC 9162 (Certificate Transparency 2.0) §2.1
//! defines it: SHA-256, leaves hashed as `H(0x00 || entry)`, interior nodes as
//! `H(0x01 || left || right)`, the tree over `n` leaves split at the largest power of two
//! below `n`.
//!
//! The store keeps only the hashes of *perfect* subtrees (size `2^level`, aligned at a multiple
//! of their size) as they complete, so an append writes about two rows and any root or proof
//! needs `O(log n)` of them. This module is the arithmetic on both sides:
//!
//! * the log's side plans which perfect nodes a root or proof needs ([`Plan`]) and assembles
//!   the answer from them — no I/O here, the store fetches the nodes;
//! * a verifier's side checks an inclusion proof ([`verify_inclusion`]) or a consistency
//!   proof ([`verify_consistency`]) with the algorithms of RFC 9162 §2.1.3.2 and §2.1.4.2.

use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// A SHA-256 hash.
pub type Hash = [u8; 32];

/// The hash of a leaf holding `entry`.
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(entry);
    h.finalize().into()
}

/// The hash of an interior node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root of the empty tree: `SHA-256("")`.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// A perfect subtree: leaves `[index·2^level, (index+1)·2^level)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    pub level: u32,
    pub index: u64,
}

/// The perfect subtrees completed by appending leaf `leaf_index` (its own leaf first, then each
/// parent it completes), for the store to write as the log grows. Each is the hash of the
/// previous one with its left sibling, which the store already holds.
pub fn completed_by(leaf_index: u64) -> Vec<NodeId> {
    let mut out = vec![NodeId {
        level: 0,
        index: leaf_index,
    }];
    let (mut level, mut index) = (0u32, leaf_index);
    while index % 2 == 1 {
        level += 1;
        index /= 2;
        out.push(NodeId { level, index });
    }
    out
}

/// Builds a tree leaf by leaf in memory, keeping only the left siblings still waiting for their
/// right half: what a bulk load or a monitor needs to get every perfect node of a log.
#[derive(Clone, Debug, Default)]
pub struct Builder {
    size: u64,
    /// Per level, the last completed node whose right sibling has not come yet.
    left: Vec<Option<Hash>>,
}

impl Builder {
    /// Continues a tree of `size` leaves from the perfect nodes it already holds (`node` reads
    /// one): a builder needs only the left siblings still waiting, one per set bit of `size`.
    /// `None` if one of them is missing.
    pub fn resume(size: u64, mut node: impl FnMut(NodeId) -> Option<Hash>) -> Option<Builder> {
        let mut left = Vec::new();
        let mut level = 0u32;
        while level < 64 && size >> level > 0 {
            let complete = size >> level;
            left.push(if complete % 2 == 1 {
                Some(node(NodeId {
                    level,
                    index: complete - 1,
                })?)
            } else {
                None
            });
            level += 1;
        }
        Some(Builder { size, left })
    }

    /// The leaves pushed so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends a leaf (its hash) and returns the perfect nodes it completes, its own first.
    pub fn push(&mut self, leaf: Hash) -> Vec<(NodeId, Hash)> {
        let completed = completed_by(self.size);
        self.size += 1;
        let mut acc = leaf;
        let mut out = Vec::with_capacity(completed.len());
        for id in completed {
            let level = id.level as usize;
            if self.left.len() <= level {
                self.left.resize(level + 1, None);
            }
            if level > 0 {
                if let Some(l) = self.left[level - 1].take() {
                    acc = node_hash(&l, &acc);
                }
            }
            if id.index % 2 == 0 {
                self.left[level] = Some(acc);
            }
            out.push((id, acc));
        }
        out
    }
}

/// The largest power of two strictly below `n` (`n >= 2`).
fn split(n: u64) -> u64 {
    1u64 << (63 - (n - 1).leading_zeros())
}

/// The perfect subtrees whose right fold is `MTH(D[start:start+size])`, left to right. `start`
/// must be a multiple of the largest power of two not above `size` (always so for the ranges
/// RFC 9162's recursions produce).
fn decompose(start: u64, size: u64) -> Vec<NodeId> {
    let mut out = Vec::new();
    let (mut at, mut left) = (start, size);
    while left > 0 {
        let level = 63 - left.leading_zeros();
        let width = 1u64 << level;
        out.push(NodeId {
            level,
            index: at >> level,
        });
        at += width;
        left -= width;
    }
    out
}

/// A root or proof to be assembled: the ranges whose hashes make it, and the perfect nodes
/// those ranges need from the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    ranges: Vec<(u64, u64)>,
}

impl Plan {
    /// The perfect nodes to fetch.
    pub fn nodes(&self) -> Vec<NodeId> {
        let mut all: Vec<NodeId> = self
            .ranges
            .iter()
            .flat_map(|&(s, n)| decompose(s, n))
            .collect();
        all.sort();
        all.dedup();
        all
    }

    /// The hashes, in order, given the fetched nodes; `None` if one is missing.
    pub fn assemble(&self, nodes: &HashMap<NodeId, Hash>) -> Option<Vec<Hash>> {
        self.ranges
            .iter()
            .map(|&(s, n)| {
                let parts = decompose(s, n);
                let mut it = parts.iter().rev();
                let mut acc = *nodes.get(it.next()?)?;
                for id in it {
                    acc = node_hash(nodes.get(id)?, &acc);
                }
                Some(acc)
            })
            .collect()
    }
}

/// The root of the tree of the first `size` leaves (`size >= 1`): one hash.
pub fn root_plan(size: u64) -> Plan {
    Plan {
        ranges: vec![(0, size)],
    }
}

/// The inclusion proof of leaf `index` in the tree of `size` leaves (RFC 9162 §2.1.3.1,
/// `PATH(m, D[0:n])`), bottom up. `index < size`.
pub fn inclusion_plan(index: u64, size: u64) -> Plan {
    let mut ranges = Vec::new();
    let (mut start, mut n, mut m) = (0u64, size, index);
    while n > 1 {
        let k = split(n);
        if m < k {
            ranges.push((start + k, n - k));
            n = k;
        } else {
            ranges.push((start, k));
            start += k;
            m -= k;
            n -= k;
        }
    }
    ranges.reverse();
    Plan { ranges }
}

/// The consistency proof between the trees of `old` and `new` leaves (RFC 9162 §2.1.4.1,
/// `PROOF(m, D[0:n])`). `0 < old <= new`; empty when they are equal.
pub fn consistency_plan(old: u64, new: u64) -> Plan {
    let mut ranges = Vec::new();
    let (mut start, mut n, mut m, mut whole) = (0u64, new, old, true);
    while m != n {
        let k = split(n);
        if m <= k {
            ranges.push((start + k, n - k));
            n = k;
        } else {
            ranges.push((start, k));
            start += k;
            m -= k;
            n -= k;
            whole = false;
        }
    }
    if !whole {
        ranges.push((start, m));
    }
    ranges.reverse();
    Plan { ranges }
}

/// Why a proof does not hold.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("leaf index {index} is not below the tree size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("the proof has the wrong number of hashes")]
    WrongLength,
    #[error("the proof leads to another root")]
    RootMismatch,
    #[error("the old tree is larger than the new one")]
    Shrunk,
}

/// Checks that `leaf` is leaf `index` of the tree of `size` leaves whose root is `root`
/// (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    path: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf;
    for p in path {
        if sn == 0 {
            return Err(ProofError::WrongLength);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(ProofError::WrongLength);
    }
    if &r == root {
        Ok(())
    } else {
        Err(ProofError::RootMismatch)
    }
}

/// Checks that the tree of `old` leaves with root `old_root` is a prefix of the tree of `new`
/// leaves with root `new_root` (RFC 9162 §2.1.4.2): nothing was removed or changed.
pub fn verify_consistency(
    old: u64,
    new: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if old > new {
        return Err(ProofError::Shrunk);
    }
    if old == new {
        return match (proof.is_empty(), old_root == new_root) {
            (true, true) => Ok(()),
            (false, _) => Err(ProofError::WrongLength),
            (true, false) => Err(ProofError::RootMismatch),
        };
    }
    if old == 0 {
        // Every tree extends the empty one; RFC 9162 sends no proof for it.
        return if proof.is_empty() {
            Ok(())
        } else {
            Err(ProofError::WrongLength)
        };
    }
    let mut path: Vec<Hash> = proof.to_vec();
    if old.is_power_of_two() {
        path.insert(0, *old_root);
    }
    let Some((first, rest)) = path.split_first() else {
        return Err(ProofError::WrongLength);
    };
    let (mut fn_, mut sn) = (old - 1, new - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if sn == 0 {
            return Err(ProofError::WrongLength);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(ProofError::WrongLength);
    }
    if &fr == old_root && &sr == new_root {
        Ok(())
    } else {
        Err(ProofError::RootMismatch)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn a_resumed_builder_completes_the_same_nodes_as_one_that_saw_every_leaf() {
        let leaf = |i: u64| leaf_hash(&i.to_le_bytes());
        for at in 0..40u64 {
            let mut whole = Builder::default();
            let mut stored = std::collections::HashMap::new();
            for i in 0..at {
                stored.extend(whole.push(leaf(i)));
            }
            let mut resumed = Builder::resume(at, |id| stored.get(&id).copied()).unwrap();
            assert_eq!(resumed.size(), at);
            for i in at..at + 40 {
                assert_eq!(
                    resumed.push(leaf(i)),
                    whole.push(leaf(i)),
                    "resumed at {at}, leaf {i}"
                );
            }
        }
        // A frontier node that is not stored cannot be resumed from.
        assert!(Builder::resume(3, |_| None).is_none());
    }

    /// RFC 9162's definitions, verbatim and slow, to check the planned versions against.
    fn mth(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaves[0],
            n => {
                let k = split(n as u64) as usize;
                node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }

    fn path(m: usize, leaves: &[Hash]) -> Vec<Hash> {
        let n = leaves.len();
        if n <= 1 {
            return vec![];
        }
        let k = split(n as u64) as usize;
        if m < k {
            let mut p = path(m, &leaves[..k]);
            p.push(mth(&leaves[k..]));
            p
        } else {
            let mut p = path(m - k, &leaves[k..]);
            p.push(mth(&leaves[..k]));
            p
        }
    }

    fn subproof(m: usize, leaves: &[Hash], b: bool) -> Vec<Hash> {
        let n = leaves.len();
        if m == n {
            return if b { vec![] } else { vec![mth(leaves)] };
        }
        let k = split(n as u64) as usize;
        if m <= k {
            let mut p = subproof(m, &leaves[..k], b);
            p.push(mth(&leaves[k..]));
            p
        } else {
            let mut p = subproof(m - k, &leaves[k..], false);
            p.push(mth(&leaves[..k]));
            p
        }
    }

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n)
            .map(|i| leaf_hash(format!("entry {i}").as_bytes()))
            .collect()
    }

    /// The perfect nodes a store would hold after appending `leaves`.
    fn store(leaves: &[Hash]) -> HashMap<NodeId, Hash> {
        let mut b = Builder::default();
        leaves.iter().flat_map(|l| b.push(*l)).collect()
    }

    #[test]
    fn planned_roots_and_proofs_equal_the_rfc_definitions() {
        let all = leaves(70);
        let nodes = store(&all);
        for n in 1..=all.len() {
            let d = &all[..n];
            let root = root_plan(n as u64).assemble(&nodes).unwrap();
            assert_eq!(root, vec![mth(d)], "root of {n}");
            for m in 0..n {
                let p = inclusion_plan(m as u64, n as u64).assemble(&nodes).unwrap();
                assert_eq!(p, path(m, d), "PATH({m}, {n})");
                verify_inclusion(&d[m], m as u64, n as u64, &p, &mth(d)).unwrap();
            }
            for m in 1..=n {
                let p = consistency_plan(m as u64, n as u64)
                    .assemble(&nodes)
                    .unwrap();
                assert_eq!(p, subproof(m, d, true), "PROOF({m}, {n})");
                verify_consistency(m as u64, n as u64, &mth(&d[..m]), &mth(d), &p).unwrap();
            }
        }
    }

    #[test]
    fn forged_proofs_fail() {
        let all = leaves(13);
        let nodes = store(&all);
        let root = mth(&all);
        let p = inclusion_plan(5, 13).assemble(&nodes).unwrap();
        assert_eq!(
            verify_inclusion(&all[6], 5, 13, &p, &root),
            Err(ProofError::RootMismatch)
        );
        assert_eq!(
            verify_inclusion(&all[5], 5, 13, &p[1..], &root),
            Err(ProofError::WrongLength)
        );
        assert_eq!(
            verify_inclusion(&all[5], 13, 13, &p, &root),
            Err(ProofError::IndexOutOfRange {
                index: 13,
                size: 13
            })
        );
        let mut bent = p.clone();
        bent[2][0] ^= 1;
        assert!(verify_inclusion(&all[5], 5, 13, &bent, &root).is_err());

        // A log that rewrote leaf 3 after the tree of 7 was published.
        let mut rewritten = all.clone();
        rewritten[3] = leaf_hash(b"changed");
        let proof = consistency_plan(7, 13)
            .assemble(&store(&rewritten))
            .unwrap();
        assert_eq!(
            verify_consistency(7, 13, &mth(&all[..7]), &mth(&rewritten), &proof),
            Err(ProofError::RootMismatch)
        );
        assert_eq!(
            verify_consistency(13, 7, &root, &root, &[]),
            Err(ProofError::Shrunk)
        );
    }

    #[test]
    fn appends_complete_their_parents() {
        assert_eq!(completed_by(0), vec![NodeId { level: 0, index: 0 }]);
        assert_eq!(
            completed_by(7),
            vec![
                NodeId { level: 0, index: 7 },
                NodeId { level: 1, index: 3 },
                NodeId { level: 2, index: 1 },
                NodeId { level: 3, index: 0 },
            ]
        );
    }
}
