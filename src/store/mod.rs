//! Storage and authentication traits, with in-memory implementations.
//!
//! Every backend implements the same async traits (`async-trait`, `Debug + Send + Sync +
//! 'static`) and runs the same conformance suite (`store::conformance`, feature `test-util`).
//! The core crate depends on no async runtime: the traits are runtime-agnostic.
//!
//! What a store holds is never plaintext personal data: field values arrive sealed
//! ([`crate::crypto`]), lookups use blind indexes, data keys arrive wrapped, and the two
//! hash chains (consent ledger and audit log) carry ids and codes only.
//!
//! Design note: the consent ledger and the audit log live behind one [`ChainStore`] with
//! named chains, because a consent change and its audit event must commit together
//! (issue 5); [`ChainStore::append`] takes several appends and commits all or none.

#[cfg(feature = "test-util")]
pub mod conformance;
mod group;
mod memory;

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

pub use group::{GroupCommit, PendingBodies};
pub use memory::{
    InMemoryAuthenticator, InMemoryChainStore, InMemoryKeyStore, InMemoryRecordStore,
    InMemoryWitness,
};

use crate::chain::{Anchor, ChainEntry, Checkpoint};
use crate::crypto::{KeyCheck, RowHeader, WrappedKey};
use crate::grant::SessionClaims;
use crate::ids::{RecordId, SubjectId};

/// A storage failure. Messages name ids, tables and causes, never values.
///
/// Backends map their native codes (SQLite result codes, PostgreSQL SQLSTATEs) to these
/// variants; [`StoreError::Backend`] is left for failures nothing else describes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// No such row.
    #[error("{what} {id} not found")]
    NotFound {
        /// What was looked up (`record`, `key`).
        what: &'static str,
        /// Its id.
        id: String,
    },
    /// The chain moved since the caller read its anchor; re-read and retry.
    #[error("chain {0} changed concurrently")]
    Conflict(ChainName),
    /// The subject's key was deleted (crypto-shredded); it can never be stored again.
    #[error("key of {0} was destroyed")]
    Shredded(SubjectId),
    /// A row, page or file is truncated, malformed or fails the database's integrity check.
    #[error("stored {what} is corrupt")]
    Corrupt {
        /// What was corrupt.
        what: &'static str,
    },
    /// The backend is temporarily unable to serve (busy, locked, connection refused or
    /// lost *before* a commit was sent, serialization failure): nothing was written, and the
    /// same call may be retried ([`StoreError::is_retryable`]).
    #[error("storage temporarily unavailable: {cause}")]
    Unavailable {
        /// Why (a fixed phrase, e.g. `database busy`).
        cause: &'static str,
    },
    /// The connection was lost while a commit was in flight: the write may or may not have
    /// been applied. Retry only an idempotent write (every write of this crate's stores is:
    /// chain appends are keyed by position, records and keys by id), or re-read first.
    #[error("storage outcome unknown: {cause}")]
    OutcomeUnknown {
        /// Why (a fixed phrase).
        cause: &'static str,
    },
    /// The disk (or a quota) is full: writes fail closed until space returns.
    #[error("storage is full")]
    DiskFull,
    /// Another process holds the store exclusively (single-process mode).
    #[error("store is held exclusively by another process")]
    InUse,
    /// The store is behind what a witness (the other file, another table, or a published
    /// [`Witness`]) saw it reach: it was rolled back (restored from an old copy, or lost its
    /// write-ahead log).
    #[error("{what} was rolled back behind its witness")]
    RolledBack {
        /// Which file or chain (`data file`, `key file`, `ledger`, ...).
        what: &'static str,
    },
    /// A versioned write would replace a newer version of the record with an older one, or
    /// a different row with the same version.
    #[error("record {record} has a newer version")]
    StaleVersion {
        /// The record.
        record: RecordId,
    },
    /// The call cannot be served as asked (an empty or temporary database path, a value the
    /// store refuses): a fault of the calling code, not of the storage.
    #[error("store misuse: {what}")]
    Misuse {
        /// What was wrong (a fixed phrase).
        what: &'static str,
    },
    /// The store refused to talk to its server without the transport security its
    /// configuration requires (clause 8.1): the server's certificate did not verify (unknown
    /// issuer, wrong host name, expired), the server offered no TLS, or the configuration
    /// would send data in plaintext to a remote host. Not retryable: the configuration or the
    /// server must change.
    #[error("insecure transport refused: {cause}")]
    InsecureTransport {
        /// Why (a fixed phrase; never the address, user or password).
        cause: &'static str,
    },
    /// The backend failed in a way no other variant describes (message without personal
    /// data).
    #[error("storage backend failed: {0}")]
    Backend(String),
}

impl StoreError {
    /// Whether the same call may simply be made again: [`StoreError::Unavailable`] (nothing
    /// was written) and [`StoreError::Conflict`] (re-read the anchor first). Not
    /// [`StoreError::OutcomeUnknown`]: retry that only for idempotent writes.
    #[must_use]
    pub const fn is_retryable(&self) -> bool {
        matches!(self, Self::Unavailable { .. } | Self::Conflict(_))
    }
}

/// How a store's traffic travels between the application's process and the stored data,
/// as the store's configuration *guarantees* it (not as one connection happened to
/// negotiate). The custodian's register ([`Custodian::register`]) states it as the
/// "encryption in transit" measure of clause 8.1.
///
/// [`Custodian::register`]: crate::custodian::Custodian::register
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Transport {
    /// No network: the store runs inside the process (in-memory, embedded SQLite).
    InProcess,
    /// Every connection is TLS.
    Tls {
        /// The server's certificate chain is verified against the configured roots.
        verified_chain: bool,
        /// The certificate is verified to name the host connected to.
        verified_host: bool,
    },
    /// TLS is not required: connections may run in plaintext.
    Plaintext {
        /// The server is on the same machine (a loopback address or a local socket).
        loopback: bool,
    },
    /// The store does not say (the default of the storage traits; a store reached over a
    /// network overrides it).
    Undeclared,
}

impl Transport {
    /// The register's line for this transport (a fixed phrase).
    #[must_use]
    pub const fn measure(self) -> &'static str {
        match self {
            Self::InProcess => {
                "no data in transit: the store runs inside the application's process"
            }
            Self::Tls {
                verified_chain: true,
                verified_host: true,
            } => "encryption in transit (tls; server certificate and host name verified)",
            Self::Tls {
                verified_chain: true,
                verified_host: false,
            } => "encryption in transit (tls; server certificate verified, host name not checked)",
            Self::Tls {
                verified_chain: false,
                ..
            } => "encryption in transit (tls; server not authenticated)",
            Self::Plaintext { loopback: true } => {
                "no encryption in transit guaranteed: database on the same machine (loopback)"
            }
            Self::Plaintext { loopback: false } => {
                "no encryption in transit: plaintext to a remote database (insecure opt-in)"
            }
            Self::Undeclared => "encryption in transit: not declared by the store",
        }
    }
}

/// One sealed field value as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SealedRecord {
    /// Record id.
    pub record: RecordId,
    /// Owner.
    pub subject: SubjectId,
    /// Data kind name (`KindRef::name`).
    pub kind: String,
    /// `DataKey::seal` output.
    pub ciphertext: Vec<u8>,
    /// Blind index for lookups (email, phone), if any.
    pub blind_index: Option<[u8; 32]>,
    /// Version of the blind-index key `blind_index` was computed under (1 for the first
    /// key and for rows written before key versions existed; meaningless without an
    /// index). Not bound into the row's associated data: it tells which rows a re-index
    /// still has to visit, and a changed value can only make a lookup miss, as deleting
    /// the row could (docs/keys.md).
    #[serde(default = "first_index_version")]
    pub index_version: u32,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last updated at.
    pub updated_at: DateTime<Utc>,
}

const fn first_index_version() -> u32 {
    1
}

/// Page size of the default implementations that walk the store.
const DEFAULT_PAGE: usize = 256;

/// A sealed record with its version, the unit of [`RecordStore::put_versioned`]. The version
/// starts at 1 and is bumped on every rewrite. Sealed with
/// `DataKey::seal_row` over [`header`](Self::header),
/// any change to a header column (version included) fails to open; an older copy of the
/// whole row is caught where the expected version is known (see `docs/durability.md`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct VersionedRecord {
    /// The row.
    pub sealed: SealedRecord,
    /// Its version (1 for a new record).
    pub version: u64,
}

impl VersionedRecord {
    /// The columns bound into the row's associated data.
    #[must_use]
    pub fn header(&self) -> RowHeader<'_> {
        RowHeader {
            subject: self.sealed.subject,
            record: self.sealed.record,
            kind: &self.sealed.kind,
            created_at: self.sealed.created_at,
            updated_at: self.sealed.updated_at,
            version: self.version,
            blind_index: self.sealed.blind_index,
        }
    }
}

/// What a retention sweep needs about a record: no ciphertext.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RecordMeta {
    /// Record id.
    pub record: RecordId,
    /// Owner.
    pub subject: SubjectId,
    /// Kind name.
    pub kind: String,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last updated at.
    pub updated_at: DateTime<Utc>,
}

/// Sealed field values.
#[async_trait]
pub trait RecordStore: Debug + Send + Sync + 'static {
    /// How this store's traffic travels ([`Transport`]), stated in the custodian's register.
    /// The default claims nothing ([`Transport::Undeclared`]); a store reached over a network
    /// reports what its configuration guarantees.
    fn transport(&self) -> Transport {
        Transport::Undeclared
    }
    /// Inserts or replaces a record; the stored version becomes one more than the replaced
    /// row's (1 for a new record). Kept for values sealed with `DataKey::seal`; new code
    /// writes [`put_versioned`](Self::put_versioned).
    async fn put(&self, record: SealedRecord) -> Result<(), StoreError>;
    /// Writes a record at `row.version` if the id is absent or stored at a lower version.
    /// Idempotent: writing the same version with the same ciphertext again (a retry after
    /// [`StoreError::OutcomeUnknown`]) succeeds without change.
    ///
    /// # Errors
    /// [`StoreError::StaleVersion`] if a version at least as high is stored with another
    /// ciphertext.
    async fn put_versioned(&self, row: VersionedRecord) -> Result<(), StoreError>;
    /// Reads one record with its version ([`StoreError::NotFound`] if absent).
    async fn get_versioned(&self, record: RecordId) -> Result<VersionedRecord, StoreError>;
    /// Every record of a subject, with versions, in id order.
    async fn list_subject_versioned(
        &self,
        subject: SubjectId,
    ) -> Result<Vec<VersionedRecord>, StoreError>;
    /// Records whose blind index equals `index`, with versions, in id order.
    async fn find_by_index_versioned(
        &self,
        index: &[u8; 32],
    ) -> Result<Vec<VersionedRecord>, StoreError>;
    /// Reads one record ([`StoreError::NotFound`] if absent).
    async fn get(&self, record: RecordId) -> Result<SealedRecord, StoreError>;
    /// Every record of a subject.
    async fn list_subject(&self, subject: SubjectId) -> Result<Vec<SealedRecord>, StoreError>;
    /// Records whose blind index equals `index`.
    async fn find_by_index(&self, index: &[u8; 32]) -> Result<Vec<SealedRecord>, StoreError>;
    /// Deletes one record; `false` if it did not exist.
    async fn delete(&self, record: RecordId) -> Result<bool, StoreError>;
    /// Deletes every record of a subject; returns how many.
    async fn delete_subject(&self, subject: SubjectId) -> Result<u64, StoreError>;
    /// Metadata of up to `limit` records with ids greater than `after`, in id order (paging
    /// for retention sweeps).
    async fn metadata_page(
        &self,
        after: Option<RecordId>,
        limit: usize,
    ) -> Result<Vec<RecordMeta>, StoreError>;
    /// Up to `limit` records that carry a blind index computed under a key version below
    /// `version` (`index_version < version`), with ids greater than `after`, in id order:
    /// what a blind-index re-index still has to visit. The default walks
    /// [`metadata_page`](Self::metadata_page) and reads each row; backends override it with
    /// one indexed query.
    async fn indexed_below(
        &self,
        version: u32,
        after: Option<RecordId>,
        limit: usize,
    ) -> Result<Vec<VersionedRecord>, StoreError> {
        let mut out = Vec::new();
        let mut cursor = after;
        while out.len() < limit {
            let page = self.metadata_page(cursor, DEFAULT_PAGE).await?;
            let Some(last) = page.last() else {
                break;
            };
            cursor = Some(last.record);
            for m in &page {
                match self.get_versioned(m.record).await {
                    Ok(r) if r.sealed.blind_index.is_some() && r.sealed.index_version < version => {
                        out.push(r);
                        if out.len() >= limit {
                            break;
                        }
                    }
                    Ok(_) | Err(StoreError::NotFound { .. }) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(out)
    }
    /// How many records carry a blind index computed under a key version below `version`.
    /// The default counts through [`indexed_below`](Self::indexed_below).
    async fn count_indexed_below(&self, version: u32) -> Result<u64, StoreError> {
        let mut n = 0_u64;
        let mut after = None;
        loop {
            let page = self.indexed_below(version, after, DEFAULT_PAGE).await?;
            let Some(last) = page.last() else {
                return Ok(n);
            };
            after = Some(last.sealed.record);
            n = n.saturating_add(page.len() as u64);
        }
    }
    /// Replaces the record `row.sealed.record` with `row` only if it is stored at version
    /// `expected` (compare and swap); returns whether it did. An absent record is never
    /// inserted: a maintenance rewrite (the blind-index re-index) must not bring back a row
    /// that an erasure, a withdrawal or the retention sweep deleted meanwhile. `row.version`
    /// must be greater than `expected` ([`StoreError::Misuse`] otherwise).
    ///
    /// The default reads and then writes with [`put_versioned`](Self::put_versioned): it is
    /// not atomic against a concurrent delete; backends override it with one conditional
    /// update.
    ///
    /// # Errors
    /// [`StoreError::Misuse`] for a version not above `expected`; backend failures.
    async fn replace_versioned(
        &self,
        row: VersionedRecord,
        expected: u64,
    ) -> Result<bool, StoreError> {
        if row.version <= expected {
            return Err(StoreError::Misuse {
                what: "a replacement must raise the record version",
            });
        }
        match self.get_versioned(row.sealed.record).await {
            Ok(r) if r.version == expected => {}
            Ok(_) | Err(StoreError::NotFound { .. }) => return Ok(false),
            Err(e) => return Err(e),
        }
        match self.put_versioned(row).await {
            Ok(()) => Ok(true),
            Err(StoreError::StaleVersion { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

/// The two hash chains the SDK keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChainName {
    /// Consent, restriction and erasure events (the ledger grants are checked against).
    Ledger,
    /// The audit log of every grant, exposure and rights action.
    Audit,
}

impl ChainName {
    /// Lowercase name, used as a table key.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Ledger => "ledger",
            Self::Audit => "audit",
        }
    }
}

impl core::fmt::Display for ChainName {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One entry to append to a chain, valid only if the chain is still at `expected`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainAppend {
    /// Which chain.
    pub chain: ChainName,
    /// The anchor the entry was built on (`chain::append(&mut expected, body)`).
    pub expected: Anchor,
    /// The entry.
    pub entry: ChainEntry,
}

/// Append-only hash chains (the consent ledger and the audit log).
#[async_trait]
pub trait ChainStore: Debug + Send + Sync + 'static {
    /// How this store's traffic travels ([`Transport`]), stated in the custodian's register.
    /// The default claims nothing ([`Transport::Undeclared`]); a store reached over a network
    /// reports what its configuration guarantees.
    fn transport(&self) -> Transport {
        Transport::Undeclared
    }
    /// Appends every entry, all or none: each chain must still be at its `expected` anchor
    /// ([`StoreError::Conflict`] otherwise). Returns once the appends are durable.
    async fn append(&self, appends: Vec<ChainAppend>) -> Result<(), StoreError>;
    /// Appends event bodies, all or none, the store choosing their position: it builds each
    /// entry on the chain's current head (with [`chain::append`](crate::chain::append)) and
    /// returns the entries written. The default reads the anchors and retries on
    /// [`StoreError::Conflict`]; backends shared by many writers override it to build the
    /// entries under their own lock, so contended writers queue instead of retrying.
    async fn append_bodies(
        &self,
        bodies: Vec<(ChainName, Vec<u8>)>,
    ) -> Result<Vec<ChainEntry>, StoreError> {
        let mut last = StoreError::Conflict(bodies.first().map_or(ChainName::Ledger, |b| b.0));
        for _ in 0..64 {
            let mut heads: Vec<(ChainName, Anchor)> = Vec::new();
            let mut appends = Vec::with_capacity(bodies.len());
            for (chain, body) in &bodies {
                let expected = match heads.iter().find(|(c, _)| c == chain) {
                    Some((_, a)) => *a,
                    None => self.anchor(*chain).await?,
                };
                let mut next = expected;
                let entry = crate::chain::append(&mut next, body.clone());
                heads.retain(|(c, _)| c != chain);
                heads.push((*chain, next));
                appends.push(ChainAppend {
                    chain: *chain,
                    expected,
                    entry,
                });
            }
            let entries = appends.iter().map(|a| a.entry.clone()).collect();
            match self.append(appends).await {
                Ok(()) => return Ok(entries),
                Err(e @ StoreError::Conflict(_)) => last = e,
                Err(e) => return Err(e),
            }
        }
        Err(last)
    }
    /// Every retained entry of a chain, in order (entries pruned before a checkpoint are
    /// gone).
    async fn entries(&self, chain: ChainName) -> Result<Vec<ChainEntry>, StoreError>;
    /// At most `limit` entries from sequence `from` on, in order (paging through a long
    /// chain without loading it). The default reads [`entries_from`](Self::entries_from)
    /// and cuts; backends override it with a bounded query.
    async fn entries_range(
        &self,
        chain: ChainName,
        from: u64,
        limit: usize,
    ) -> Result<Vec<ChainEntry>, StoreError> {
        let mut v = self.entries_from(chain, from).await?;
        v.truncate(limit);
        Ok(v)
    }
    /// The newest checkpoint stored for `chain`, if any. The default keeps none, so the
    /// custodian verifies such a store's chains from the start at every build.
    async fn checkpoint(&self, chain: ChainName) -> Result<Option<Checkpoint>, StoreError> {
        let _ = chain;
        Ok(None)
    }
    /// Stores `checkpoint` for `chain` unless a checkpoint at the same or a later sequence
    /// is stored already (concurrent builds may race; the newest wins). The store checks
    /// that the checkpoint is tied to the chain: the entry at its sequence exists and has
    /// its head ([`StoreError::Misuse`] otherwise). It does not check the tag (it holds no
    /// key); the custodian does, every time it reads one.
    ///
    /// # Errors
    /// [`StoreError::Misuse`] if the store keeps no checkpoints (the default) or the
    /// checkpoint is not tied to the chain; backend failures.
    async fn put_checkpoint(
        &self,
        chain: ChainName,
        checkpoint: &Checkpoint,
    ) -> Result<(), StoreError> {
        let _ = (chain, checkpoint);
        Err(StoreError::Misuse {
            what: "this store keeps no checkpoints",
        })
    }
    /// Deletes the entries of `chain` with a sequence below `before`, which must not pass
    /// the stored checkpoint's sequence (the checkpoint's own entry is always kept).
    /// Returns how many entries were deleted.
    ///
    /// # Errors
    /// [`StoreError::Misuse`] if the store keeps no checkpoints (the default), there is no
    /// checkpoint, or `before` passes it; backend failures.
    async fn prune(&self, chain: ChainName, before: u64) -> Result<u64, StoreError> {
        let _ = (chain, before);
        Err(StoreError::Misuse {
            what: "this store keeps no checkpoints",
        })
    }
    /// Entries from sequence `from` on.
    async fn entries_from(
        &self,
        chain: ChainName,
        from: u64,
    ) -> Result<Vec<ChainEntry>, StoreError>;
    /// Length and head of a chain.
    async fn anchor(&self, chain: ChainName) -> Result<Anchor, StoreError>;
    /// The heads of both chains (what a [`Witness`] publishes). The default reads the two
    /// anchors one after the other; `keys` is `None` (stores with a key log fill it in).
    async fn heads(&self) -> Result<ChainHeads, StoreError> {
        Ok(ChainHeads {
            ledger: self.anchor(ChainName::Ledger).await?,
            audit: self.anchor(ChainName::Audit).await?,
            keys: None,
        })
    }
    /// Checks, at build, that no part of the store was rolled back behind what another part
    /// witnessed ([`StoreError::RolledBack`]). The default has nothing to compare.
    async fn cross_check(&self) -> Result<(), StoreError> {
        Ok(())
    }
    /// Whether this store guarantees that no other process writes to it (an in-process
    /// store, or a file held under an exclusive lock). Only then may a custodian skip the
    /// catch-up with the ledger before each decision.
    fn is_exclusive(&self) -> bool {
        false
    }
}

/// The heads a store reached: both chains and, where the store keeps one, the log of key
/// changes. Published to a [`Witness`] and compared at the next build so that a store
/// restored from an older copy is refused.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChainHeads {
    /// The consent ledger's anchor.
    pub ledger: Anchor,
    /// The audit log's anchor.
    pub audit: Anchor,
    /// The key log's anchor (one entry per key written or destroyed), if kept.
    pub keys: Option<Anchor>,
}

fn reaches(actual: Anchor, witnessed: Anchor, what: &'static str) -> Result<(), StoreError> {
    if actual.len < witnessed.len || (actual.len == witnessed.len && actual.head != witnessed.head)
    {
        return Err(StoreError::RolledBack { what });
    }
    Ok(())
}

impl ChainHeads {
    /// Checks that these (current) heads are not behind `witnessed`: no chain shorter than
    /// the witness saw, none with another head at the same length. A longer chain passes
    /// here; [`check_chains_reach`] also checks that it passes through the witnessed head.
    ///
    /// # Errors
    /// [`StoreError::RolledBack`] naming the first chain that is behind.
    pub fn check_reaches(&self, witnessed: &Self) -> Result<(), StoreError> {
        reaches(self.ledger, witnessed.ledger, "ledger")?;
        reaches(self.audit, witnessed.audit, "audit log")?;
        if let (Some(a), Some(w)) = (self.keys, witnessed.keys) {
            reaches(a, w, "key log")?;
        }
        Ok(())
    }
}

/// Checks that the chains of `store` reach `witnessed`: each is at least as long and its
/// entry at the witnessed position has the witnessed hash (so a chain that was rolled back
/// and then grew again is refused too).
///
/// # Errors
/// [`StoreError::RolledBack`], or the store's error.
pub async fn check_chains_reach(
    store: &dyn ChainStore,
    witnessed: &ChainHeads,
) -> Result<(), StoreError> {
    for (chain, w, what) in [
        (ChainName::Ledger, witnessed.ledger, "ledger"),
        (ChainName::Audit, witnessed.audit, "audit log"),
    ] {
        let Some(last) = w.len.checked_sub(1) else {
            continue;
        };
        let entry = store.entries_range(chain, last, 1).await?;
        match entry.first() {
            Some(e) if e.seq == last && e.hash == w.head => {}
            // Pruned: the witnessed entry lies before the store's checkpoint, which the
            // custodian checks against the witness's own checkpoint and its tag.
            Some(e) if e.seq > last => match store.checkpoint(chain).await? {
                Some(cp) if cp.seq >= last && e.seq <= cp.seq => {}
                _ => return Err(StoreError::RolledBack { what }),
            },
            _ => return Err(StoreError::RolledBack { what }),
        }
    }
    Ok(())
}

/// Checks that the store's checkpoint of `chain` is not behind the one a witness published:
/// none missing, none older, none different at the same sequence.
///
/// # Errors
/// [`StoreError::RolledBack`] naming the checkpoint.
pub fn check_checkpoint_reaches(
    stored: Option<&Checkpoint>,
    witnessed: Option<&Checkpoint>,
) -> Result<(), StoreError> {
    let Some(w) = witnessed else {
        return Ok(());
    };
    match stored {
        Some(s) if s.seq > w.seq || s == w => Ok(()),
        _ => Err(StoreError::RolledBack {
            what: "audit checkpoint",
        }),
    }
}

/// A place outside the database where a host publishes the store's chain heads (another
/// database, a transparency log, an object store with versioning): a rollback of the whole
/// database (both files restored from one backup) is then caught too.
///
/// The custodian publishes after its writes and compares [`latest`](Self::latest) with the
/// store's heads at build ([`check_chains_reach`]).
#[async_trait]
pub trait Witness: Debug + Send + Sync + 'static {
    /// Records `heads` as the latest the store reached.
    ///
    /// # Errors
    /// [`StoreError::RolledBack`] if `heads` are behind what was published before; the
    /// witness's own failures.
    async fn publish(&self, heads: &ChainHeads) -> Result<(), StoreError>;
    /// The latest published heads, if any.
    ///
    /// # Errors
    /// The witness's own failures.
    async fn latest(&self) -> Result<Option<ChainHeads>, StoreError>;
    /// Records `checkpoint` as the newest of `chain`. The default records nothing (a
    /// witness that predates checkpoints); the build then trusts the stored checkpoint on
    /// its tag alone.
    ///
    /// # Errors
    /// [`StoreError::RolledBack`] if it is older than one published before; the witness's
    /// own failures.
    async fn publish_checkpoint(
        &self,
        chain: ChainName,
        checkpoint: &Checkpoint,
    ) -> Result<(), StoreError> {
        let _ = (chain, checkpoint);
        Ok(())
    }
    /// The newest checkpoint published for `chain`, if any.
    ///
    /// # Errors
    /// The witness's own failures.
    async fn latest_checkpoint(&self, chain: ChainName) -> Result<Option<Checkpoint>, StoreError> {
        let _ = chain;
        Ok(None)
    }
}

/// Wrapped per-subject data keys. Deleting a key is final (crypto-shredding).
#[async_trait]
pub trait KeyStore: Debug + Send + Sync + 'static {
    /// How this store's traffic travels ([`Transport`]), stated in the custodian's register.
    /// The default claims nothing ([`Transport::Undeclared`]); a store reached over a network
    /// reports what its configuration guarantees.
    fn transport(&self) -> Transport {
        Transport::Undeclared
    }
    /// Stores the first key of a subject; refuses a subject whose key was destroyed
    /// ([`StoreError::Shredded`]). Replacing an existing key is allowed (KEK rotation).
    async fn put(&self, subject: SubjectId, key: WrappedKey) -> Result<(), StoreError>;
    /// The wrapped key ([`StoreError::Shredded`] after deletion, `NotFound` if never stored).
    async fn get(&self, subject: SubjectId) -> Result<WrappedKey, StoreError>;
    /// Destroys the key, for good.
    async fn delete(&self, subject: SubjectId) -> Result<(), StoreError>;
    /// Every subject with a live key (for KEK rotation).
    async fn subjects(&self) -> Result<Vec<SubjectId>, StoreError>;
    /// The key check values recorded so far (`None` before the first build).
    async fn check_values(&self) -> Result<Option<KeyCheck>, StoreError>;
    /// Records every entry of `values` the store does not hold yet (a KEK id or the index
    /// value), never replacing one, atomically; returns what is stored afterwards. The
    /// caller then verifies its keyring against the result
    /// ([`Keyring::verify_check_values`](crate::crypto::Keyring::verify_check_values)), so
    /// of two processes racing with different keys, the second is refused.
    async fn set_check_values_if_absent(&self, values: &KeyCheck) -> Result<KeyCheck, StoreError>;
}

/// Why a credential was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// Unknown, forged or revoked credential.
    #[error("credential not accepted")]
    Rejected,
    /// The session has expired.
    #[error("session has expired")]
    Expired,
}

/// Verifies a host session credential and says whose it is: the trust boundary between
/// the host's login and this library. Part of the composition root: the custodian is
/// built with one and turns its [`SessionClaims`] into a
/// [`UserSession`](crate::UserSession); nothing else can.
#[async_trait]
pub trait Authenticator: Debug + Send + Sync + 'static {
    /// Verifies `credential` at `now`.
    async fn authenticate(
        &self,
        credential: &str,
        now: DateTime<Utc>,
    ) -> Result<SessionClaims, AuthError>;

    /// Whether `subject`'s session `session` is still live at `now`: not logged out, not
    /// expired. The custodian asks at **every use** of a grant issued to a session (owner
    /// access, conference creation, service grants for the session), so a logout ends
    /// them in every process at their next call; calls presenting a
    /// [`UserSession`](crate::UserSession) ask too. An error counts as "not live" (fail
    /// closed). A session that ended must stay ended: a later login must get a new session
    /// id, or the logout would be undone for every grant issued before it.
    ///
    /// There is no default: every authenticator says how its sessions end. One whose
    /// sessions cannot end before their expiry (no logout) answers `Ok(true)` while
    /// `now` is before the expiry its [`SessionClaims`] gave — and its grants then outlive
    /// a logout the host may add later, which is why the compiler makes the choice explicit.
    async fn session_live(
        &self,
        subject: SubjectId,
        session: crate::ids::SessionId,
        now: DateTime<Utc>,
    ) -> Result<bool, AuthError>;
}

/// Shared trait objects.
pub type DynRecordStore = Arc<dyn RecordStore>;
/// Shared trait object.
pub type DynChainStore = Arc<dyn ChainStore>;
/// Shared trait object.
pub type DynKeyStore = Arc<dyn KeyStore>;
/// Shared trait object.
pub type DynWitness = Arc<dyn Witness>;
/// Shared trait object.
pub type DynAuthenticator = Arc<dyn Authenticator>;
