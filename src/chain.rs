//! The hash chain shared by the consent ledger and the audit log.
//!
//! Entry `n` stores `hash = SHA-256("crm-privacy/chain/v1" ‖ n ‖ prev ‖ len(body) ‖ body)`
//! where `prev` is the hash of entry `n − 1` (all zeros for the first). Changing, deleting,
//! reordering or inserting an entry breaks a link that [`verify`] reports; deleting entries
//! at the *end* is caught by [`verify_anchored`] against a separately kept [`Anchor`].
//! Bodies are canonical encodings chosen by the caller and must not contain personal data.

use ring::digest;
use serde::{Deserialize, Serialize};

const DOMAIN: &[u8] = b"crm-privacy/chain/v1";

/// A SHA-256 hash.
pub type Hash = [u8; 32];

/// The hash before the first entry.
pub const GENESIS: Hash = [0; 32];

/// One entry of a hash chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainEntry {
    /// Position in the chain, from 0.
    pub seq: u64,
    /// Hash of the previous entry ([`GENESIS`] for the first).
    pub prev: Hash,
    /// Canonical encoding of the event (no personal data).
    pub body: Vec<u8>,
    /// Hash of this entry.
    pub hash: Hash,
}

/// Length and head hash of a chain, kept apart from it so truncation is detected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anchor {
    /// Number of entries.
    pub len: u64,
    /// Hash of the last entry.
    pub head: Hash,
}

impl Default for Anchor {
    fn default() -> Self {
        Self {
            len: 0,
            head: GENESIS,
        }
    }
}

/// What is wrong with a chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChainError {
    /// The entry at this position has the wrong sequence number (deleted, inserted or reordered).
    #[error("chain entry {position} is out of sequence")]
    Sequence {
        /// Position in the slice.
        position: u64,
    },
    /// The entry does not link to the hash of the one before it.
    #[error("chain entry {position} does not link to the previous entry")]
    BrokenLink {
        /// Position.
        position: u64,
    },
    /// The entry's content does not match its hash (changed).
    #[error("chain entry {position} does not match its hash")]
    BadHash {
        /// Position.
        position: u64,
    },
    /// The chain is shorter or its head differs from the anchor (entries removed at the end).
    #[error("chain does not reach its anchor: expected {expected} entries, found {found}")]
    AnchorMismatch {
        /// Entries the anchor records.
        expected: u64,
        /// Entries found.
        found: u64,
    },
    /// Serialized bytes end early or are malformed at this entry.
    #[error("serialized chain is truncated or malformed at entry {position}")]
    Truncated {
        /// Position.
        position: u64,
    },
    /// A checkpoint is not tied to the chain: the entry at its sequence is missing or has
    /// another hash, or the checkpoint's own fields disagree.
    #[error("checkpoint at entry {seq} does not match the chain")]
    CheckpointMismatch {
        /// The checkpoint's sequence.
        seq: u64,
    },
    /// A checkpoint's tag does not verify under this deployment's keyring (forged or
    /// altered): it is never trusted.
    #[error("checkpoint at entry {seq} is not tagged by this deployment's keyring")]
    CheckpointUntrusted {
        /// The checkpoint's sequence.
        seq: u64,
    },
}

/// The hash of entry `seq` with predecessor `prev` and `body`.
#[must_use]
pub fn entry_hash(seq: u64, prev: &Hash, body: &[u8]) -> Hash {
    // One contiguous header (domain ‖ seq ‖ prev ‖ len) then the body: two updates instead
    // of five keeps SHA-256 on whole blocks (measured in benches/consent.rs).
    let mut header = [0_u8; DOMAIN.len() + 8 + 32 + 8];
    let (d, rest) = header.split_at_mut(DOMAIN.len());
    d.copy_from_slice(DOMAIN);
    let (s, rest) = rest.split_at_mut(8);
    s.copy_from_slice(&seq.to_be_bytes());
    let (p, l) = rest.split_at_mut(32);
    p.copy_from_slice(prev);
    l.copy_from_slice(&(body.len() as u64).to_be_bytes());
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(&header);
    ctx.update(body);
    let mut out = [0; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// Builds the entry that follows `anchor`, and advances the anchor.
pub fn append(anchor: &mut Anchor, body: Vec<u8>) -> ChainEntry {
    let seq = anchor.len;
    let prev = anchor.head;
    let hash = entry_hash(seq, &prev, &body);
    anchor.len += 1;
    anchor.head = hash;
    ChainEntry {
        seq,
        prev,
        body,
        hash,
    }
}

/// Checks every link of `entries`, which must start at sequence 0. Returns the anchor.
///
/// # Errors
/// The first broken link.
pub fn verify(entries: &[ChainEntry]) -> Result<Anchor, ChainError> {
    verify_from(Anchor::default(), entries)
}

/// Checks `entries` as the continuation of a chain that ended at `start`.
///
/// # Errors
/// The first broken link.
pub fn verify_from(start: Anchor, entries: &[ChainEntry]) -> Result<Anchor, ChainError> {
    let mut anchor = start;
    for e in entries {
        let position = anchor.len;
        if e.seq != position {
            return Err(ChainError::Sequence { position });
        }
        if e.prev != anchor.head {
            return Err(ChainError::BrokenLink { position });
        }
        let h = entry_hash(e.seq, &e.prev, &e.body);
        if h != e.hash {
            return Err(ChainError::BadHash { position });
        }
        anchor = Anchor {
            len: position + 1,
            head: h,
        };
    }
    Ok(anchor)
}

/// [`verify`], and checks the result equals `anchor`.
///
/// # Errors
/// The first broken link, or [`ChainError::AnchorMismatch`].
pub fn verify_anchored(entries: &[ChainEntry], anchor: &Anchor) -> Result<(), ChainError> {
    let got = verify(entries)?;
    if got != *anchor {
        return Err(ChainError::AnchorMismatch {
            expected: anchor.len,
            found: got.len,
        });
    }
    Ok(())
}

/// [`verify`], and checks that the chain reaches `anchor` — an anchor read *before* the
/// entries, so concurrent appends after it are allowed but removed entries are not.
///
/// # Errors
/// The first broken link, or [`ChainError::AnchorMismatch`] when the chain is shorter than
/// the anchor or passes its length with another head.
pub fn verify_reaches(entries: &[ChainEntry], anchor: &Anchor) -> Result<Anchor, ChainError> {
    let got = verify(entries)?;
    let at = usize::try_from(anchor.len).unwrap_or(usize::MAX);
    let head = if at == 0 {
        Some(GENESIS)
    } else {
        entries.get(at - 1).map(|e| e.hash)
    };
    if head != Some(anchor.head) {
        return Err(ChainError::AnchorMismatch {
            expected: anchor.len,
            found: got.len,
        });
    }
    Ok(got)
}

/// A verified point of a chain: entry `seq` has hash `head`, and everything up to it was
/// checked. Start-up verifies only from the newest checkpoint on, and entries before it may
/// be exported and pruned (the entry at `seq` itself is always kept, so the checkpoint stays
/// tied to the chain).
///
/// `tag` is an HMAC over [`message`](Self::message) under the deployment's keyring (the
/// custodian computes and checks it): a process with write access to the database but not
/// the keyring cannot forge one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Sequence of the last entry covered.
    pub seq: u64,
    /// Hash of that entry.
    pub head: Hash,
    /// Entries of this chain up to and including `seq` (`seq + 1`).
    pub entries: u64,
    /// Entries of the consent ledger when the checkpoint was taken.
    pub ledger_entries: u64,
    /// Keyed tag over [`message`](Self::message).
    pub tag: Hash,
}

const CHECKPOINT_DOMAIN: &[u8] = b"crm-privacy/checkpoint/v1";

impl Checkpoint {
    /// The untagged checkpoint at the end of a chain that reached `anchor`, or `None` for an
    /// empty chain.
    #[must_use]
    pub fn at(anchor: Anchor, ledger_entries: u64) -> Option<Self> {
        let seq = anchor.len.checked_sub(1)?;
        Some(Self {
            seq,
            head: anchor.head,
            entries: anchor.len,
            ledger_entries,
            tag: [0; 32],
        })
    }

    /// The bytes the tag covers: a domain label, the chain's name, then the fields. Never a
    /// valid event encoding (those are JSON objects), so a tag of one cannot pass for the
    /// other.
    #[must_use]
    pub fn message(&self, chain: &str) -> Vec<u8> {
        let mut m = Vec::with_capacity(CHECKPOINT_DOMAIN.len() + chain.len() + 64);
        m.extend_from_slice(CHECKPOINT_DOMAIN);
        m.push(0);
        m.extend_from_slice(chain.as_bytes());
        m.push(0);
        m.extend_from_slice(&self.seq.to_be_bytes());
        m.extend_from_slice(&self.head);
        m.extend_from_slice(&self.entries.to_be_bytes());
        m.extend_from_slice(&self.ledger_entries.to_be_bytes());
        m
    }

    /// The anchor of the chain as it stood at the checkpoint.
    #[must_use]
    pub const fn anchor(&self) -> Anchor {
        Anchor {
            len: self.entries,
            head: self.head,
        }
    }
}

/// Checks `entries` — the retained part of a chain, starting at or before `checkpoint.seq`
/// (entries before it may have been pruned) — against `checkpoint` (whose tag the caller
/// has checked): every link among them, the entry at the checkpoint's sequence carries its
/// head (so the hash links authenticate every retained entry before it too), and the chain
/// reaches `anchor` (read before the entries). Returns the anchor reached.
///
/// # Errors
/// [`ChainError::CheckpointMismatch`] if the checkpoint is not tied to the chain, the first
/// broken link, or [`ChainError::AnchorMismatch`].
pub fn verify_checkpointed(
    checkpoint: &Checkpoint,
    entries: &[ChainEntry],
    anchor: &Anchor,
) -> Result<Anchor, ChainError> {
    let mismatch = ChainError::CheckpointMismatch {
        seq: checkpoint.seq,
    };
    if checkpoint.entries != checkpoint.seq.saturating_add(1) {
        return Err(mismatch);
    }
    let first = entries.first().ok_or(mismatch)?;
    if first.seq > checkpoint.seq {
        return Err(mismatch);
    }
    if first.seq == 0 && first.prev != GENESIS {
        return Err(ChainError::BrokenLink { position: 0 });
    }
    let start = Anchor {
        len: first.seq,
        head: first.prev,
    };
    let got = verify_from(start, entries)?;
    let at = usize::try_from(checkpoint.seq - first.seq).unwrap_or(usize::MAX);
    if entries.get(at).map(|e| e.hash) != Some(checkpoint.head) {
        return Err(mismatch);
    }
    // The chain reaches the anchor read before the entries: not shorter, and passing
    // through the anchor's head.
    let reached = match anchor.len.checked_sub(1) {
        None => true,
        Some(last) if last < first.seq => last == checkpoint.seq && anchor.head == checkpoint.head,
        Some(last) => usize::try_from(last - first.seq)
            .ok()
            .and_then(|i| entries.get(i))
            .is_some_and(|e| e.hash == anchor.head),
    };
    if !reached || got.len < checkpoint.entries {
        return Err(ChainError::AnchorMismatch {
            expected: anchor.len,
            found: got.len,
        });
    }
    Ok(got)
}

/// Serializes entries: per entry `seq (8) ‖ prev (32) ‖ len (4) ‖ body ‖ hash (32)`.
#[must_use]
pub fn to_bytes(entries: &[ChainEntry]) -> Vec<u8> {
    let mut out = Vec::with_capacity(entries.iter().map(|e| 76 + e.body.len()).sum());
    for e in entries {
        out.extend_from_slice(&e.seq.to_be_bytes());
        out.extend_from_slice(&e.prev);
        out.extend_from_slice(
            &u32::try_from(e.body.len())
                .unwrap_or(u32::MAX)
                .to_be_bytes(),
        );
        out.extend_from_slice(&e.body);
        out.extend_from_slice(&e.hash);
    }
    out
}

/// Parses what [`to_bytes`] wrote (does not verify; call [`verify`]).
///
/// # Errors
/// [`ChainError::Truncated`] at the first entry that does not parse.
pub fn from_bytes(mut bytes: &[u8]) -> Result<Vec<ChainEntry>, ChainError> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let position = out.len() as u64;
        let err = ChainError::Truncated { position };
        let (seq, rest) = bytes.split_first_chunk::<8>().ok_or(err)?;
        let (prev, rest) = rest.split_first_chunk::<32>().ok_or(err)?;
        let (len, rest) = rest.split_first_chunk::<4>().ok_or(err)?;
        let (body, rest) = rest
            .split_at_checked(u32::from_be_bytes(*len) as usize)
            .ok_or(err)?;
        let (hash, rest) = rest.split_first_chunk::<32>().ok_or(err)?;
        out.push(ChainEntry {
            seq: u64::from_be_bytes(*seq),
            prev: *prev,
            body: body.to_vec(),
            hash: *hash,
        });
        bytes = rest;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: usize) -> (Vec<ChainEntry>, Anchor) {
        let mut a = Anchor::default();
        let v = (0..n)
            .map(|i| append(&mut a, format!("event {i}").into_bytes()))
            .collect();
        (v, a)
    }

    #[test]
    #[cfg_attr(
        miri,
        ignore = "ring's C and assembly primitives cannot run under Miri"
    )]
    fn tamper_is_detected() {
        let (v, a) = chain(6);
        verify_anchored(&v, &a).unwrap();
        let mut changed = v.clone();
        changed[2].body[0] ^= 1;
        assert_eq!(verify(&changed), Err(ChainError::BadHash { position: 2 }));
        let mut deleted = v.clone();
        deleted.remove(3);
        assert_eq!(verify(&deleted), Err(ChainError::Sequence { position: 3 }));
        let mut swapped = v.clone();
        swapped.swap(1, 4);
        assert!(verify(&swapped).is_err());
        let mut inserted = v.clone();
        inserted.insert(2, v[2].clone());
        assert!(verify(&inserted).is_err());
        let truncated = &v[..5];
        assert!(matches!(
            verify_anchored(truncated, &a),
            Err(ChainError::AnchorMismatch { .. })
        ));
    }

    #[test]
    #[cfg_attr(
        miri,
        ignore = "ring's C and assembly primitives cannot run under Miri"
    )]
    fn every_bit_flip_of_serialized_chain_is_detected() {
        let (v, a) = chain(4);
        let bytes = to_bytes(&v);
        assert_eq!(from_bytes(&bytes).unwrap(), v);
        for bit in 0..bytes.len() * 8 {
            let mut b = bytes.clone();
            b[bit / 8] ^= 1 << (bit % 8);
            let ok = from_bytes(&b)
                .ok()
                .and_then(|e| verify_anchored(&e, &a).ok());
            assert!(ok.is_none(), "flip of bit {bit} went unnoticed");
        }
    }
}
