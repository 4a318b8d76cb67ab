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
