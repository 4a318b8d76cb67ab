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
mod memory;

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

pub use memory::{
    InMemoryAuthenticator, InMemoryChainStore, InMemoryKeyStore, InMemoryRecordStore,
};

use crate::chain::{Anchor, ChainEntry};
use crate::crypto::WrappedKey;
use crate::grant::SessionClaims;
use crate::ids::{RecordId, SubjectId};

/// A storage failure. Messages name ids and tables, never values.
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
    /// A row is truncated or malformed.
    #[error("stored {what} is corrupt")]
    Corrupt {
        /// What was corrupt.
        what: &'static str,
    },
    /// The backend failed (message without personal data).
    #[error("storage backend failed: {0}")]
    Backend(String),
}

/// One sealed field value as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last updated at.
    pub updated_at: DateTime<Utc>,
}

/// What a retention sweep needs about a record: no ciphertext.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// Inserts or replaces a record.
    async fn put(&self, record: SealedRecord) -> Result<(), StoreError>;
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
    /// Every entry of a chain, in order.
    async fn entries(&self, chain: ChainName) -> Result<Vec<ChainEntry>, StoreError>;
    /// Entries from sequence `from` on.
    async fn entries_from(
        &self,
        chain: ChainName,
        from: u64,
    ) -> Result<Vec<ChainEntry>, StoreError>;
    /// Length and head of a chain.
    async fn anchor(&self, chain: ChainName) -> Result<Anchor, StoreError>;
}

/// Wrapped per-subject data keys. Deleting a key is final (crypto-shredding).
#[async_trait]
pub trait KeyStore: Debug + Send + Sync + 'static {
    /// Stores the first key of a subject; refuses a subject whose key was destroyed
    /// ([`StoreError::Shredded`]). Replacing an existing key is allowed (KEK rotation).
    async fn put(&self, subject: SubjectId, key: WrappedKey) -> Result<(), StoreError>;
    /// The wrapped key ([`StoreError::Shredded`] after deletion, `NotFound` if never stored).
    async fn get(&self, subject: SubjectId) -> Result<WrappedKey, StoreError>;
    /// Destroys the key, for good.
    async fn delete(&self, subject: SubjectId) -> Result<(), StoreError>;
    /// Every subject with a live key (for KEK rotation).
    async fn subjects(&self) -> Result<Vec<SubjectId>, StoreError>;
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
}

/// Shared trait objects.
pub type DynRecordStore = Arc<dyn RecordStore>;
/// Shared trait object.
pub type DynChainStore = Arc<dyn ChainStore>;
/// Shared trait object.
pub type DynKeyStore = Arc<dyn KeyStore>;
/// Shared trait object.
pub type DynAuthenticator = Arc<dyn Authenticator>;
