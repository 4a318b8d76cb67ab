//! In-memory implementations of the storage traits (tests, demos, single-process hosts).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ring::digest;

use super::{
    AuthError, Authenticator, ChainAppend, ChainName, ChainStore, KeyStore, RecordMeta,
    RecordStore, SealedRecord, StoreError,
};
use crate::chain::{Anchor, ChainEntry};
use crate::crypto::WrappedKey;
use crate::grant::SessionClaims;
use crate::ids::{RecordId, SubjectId};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Records in a `BTreeMap` keyed by id.
#[derive(Debug, Default)]
pub struct InMemoryRecordStore {
    rows: Mutex<BTreeMap<RecordId, SealedRecord>>,
}

impl InMemoryRecordStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl RecordStore for InMemoryRecordStore {
    async fn put(&self, record: SealedRecord) -> Result<(), StoreError> {
        lock(&self.rows).insert(record.record, record);
        Ok(())
    }
    async fn get(&self, record: RecordId) -> Result<SealedRecord, StoreError> {
        lock(&self.rows)
            .get(&record)
            .cloned()
            .ok_or_else(|| StoreError::NotFound {
                what: "record",
                id: record.to_string(),
            })
    }
    async fn list_subject(&self, subject: SubjectId) -> Result<Vec<SealedRecord>, StoreError> {
        Ok(lock(&self.rows)
            .values()
            .filter(|r| r.subject == subject)
            .cloned()
            .collect())
    }
    async fn find_by_index(&self, index: &[u8; 32]) -> Result<Vec<SealedRecord>, StoreError> {
        Ok(lock(&self.rows)
            .values()
            .filter(|r| r.blind_index.as_ref() == Some(index))
            .cloned()
            .collect())
    }
    async fn delete(&self, record: RecordId) -> Result<bool, StoreError> {
        Ok(lock(&self.rows).remove(&record).is_some())
    }
    async fn delete_subject(&self, subject: SubjectId) -> Result<u64, StoreError> {
        let mut rows = lock(&self.rows);
        let before = rows.len();
        rows.retain(|_, r| r.subject != subject);
        Ok((before - rows.len()) as u64)
    }
    async fn metadata_page(
        &self,
        after: Option<RecordId>,
        limit: usize,
    ) -> Result<Vec<RecordMeta>, StoreError> {
        let rows = lock(&self.rows);
        let range = match after {
            Some(a) => rows.range((std::ops::Bound::Excluded(a), std::ops::Bound::Unbounded)),
            None => rows.range(..),
        };
        Ok(range
            .take(limit)
            .map(|(_, r)| RecordMeta {
                record: r.record,
                subject: r.subject,
                kind: r.kind.clone(),
                created_at: r.created_at,
                updated_at: r.updated_at,
            })
            .collect())
    }
}

/// Both chains in memory.
#[derive(Debug, Default)]
pub struct InMemoryChainStore {
    chains: Mutex<HashMap<ChainName, (Vec<ChainEntry>, Anchor)>>,
}

impl InMemoryChainStore {
    /// Empty chains.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl ChainStore for InMemoryChainStore {
    async fn append(&self, appends: Vec<ChainAppend>) -> Result<(), StoreError> {
        let mut chains = lock(&self.chains);
        // Check every precondition before changing anything: all or none.
        let mut heads: HashMap<ChainName, Anchor> = HashMap::new();
        for a in &appends {
            let current = heads
                .get(&a.chain)
                .copied()
                .unwrap_or_else(|| chains.get(&a.chain).map(|c| c.1).unwrap_or_default());
            if current != a.expected || a.entry.seq != current.len || a.entry.prev != current.head {
                return Err(StoreError::Conflict(a.chain));
            }
            heads.insert(
                a.chain,
                Anchor {
                    len: current.len + 1,
                    head: a.entry.hash,
                },
            );
        }
        for a in appends {
            let c = chains.entry(a.chain).or_default();
            c.0.push(a.entry);
        }
        for (name, anchor) in heads {
            chains.entry(name).or_default().1 = anchor;
        }
        Ok(())
    }
    async fn entries(&self, chain: ChainName) -> Result<Vec<ChainEntry>, StoreError> {
        Ok(lock(&self.chains)
            .get(&chain)
            .map(|c| c.0.clone())
            .unwrap_or_default())
    }
    async fn entries_from(
        &self,
        chain: ChainName,
        from: u64,
    ) -> Result<Vec<ChainEntry>, StoreError> {
        let chains = lock(&self.chains);
        let all = chains
            .get(&chain)
            .map(|c| c.0.as_slice())
            .unwrap_or_default();
        Ok(all
            .get(usize::try_from(from).unwrap_or(usize::MAX)..)
            .unwrap_or_default()
            .to_vec())
    }
    async fn anchor(&self, chain: ChainName) -> Result<Anchor, StoreError> {
        Ok(lock(&self.chains)
            .get(&chain)
            .map(|c| c.1)
            .unwrap_or_default())
    }
}

/// Wrapped keys in memory, with tombstones for destroyed ones.
#[derive(Debug, Default)]
pub struct InMemoryKeyStore {
    keys: Mutex<(HashMap<SubjectId, WrappedKey>, HashSet<SubjectId>)>,
}

impl InMemoryKeyStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl KeyStore for InMemoryKeyStore {
    async fn put(&self, subject: SubjectId, key: WrappedKey) -> Result<(), StoreError> {
        let mut k = lock(&self.keys);
        if k.1.contains(&subject) {
            return Err(StoreError::Shredded(subject));
        }
        k.0.insert(subject, key);
        Ok(())
    }
    async fn get(&self, subject: SubjectId) -> Result<WrappedKey, StoreError> {
        let k = lock(&self.keys);
        if k.1.contains(&subject) {
            return Err(StoreError::Shredded(subject));
        }
        k.0.get(&subject)
            .cloned()
            .ok_or_else(|| StoreError::NotFound {
                what: "key",
                id: subject.to_string(),
            })
    }
    async fn delete(&self, subject: SubjectId) -> Result<(), StoreError> {
        let mut k = lock(&self.keys);
        k.0.remove(&subject);
        k.1.insert(subject);
        Ok(())
    }
    async fn subjects(&self) -> Result<Vec<SubjectId>, StoreError> {
        Ok(lock(&self.keys).0.keys().copied().collect())
    }
}

/// Maps credential digests (SHA-256, so credentials are not held in clear) to sessions.
#[derive(Debug, Default)]
pub struct InMemoryAuthenticator {
    sessions: Mutex<HashMap<[u8; 32], SessionClaims>>,
}

fn credential_digest(credential: &str) -> [u8; 32] {
    let mut out = [0_u8; 32];
    out.copy_from_slice(digest::digest(&digest::SHA256, credential.as_bytes()).as_ref());
    out
}

impl InMemoryAuthenticator {
    /// No sessions.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
    /// Registers a session under a credential (what the host's login would do).
    pub fn insert(&self, credential: &str, session: SessionClaims) {
        lock(&self.sessions).insert(credential_digest(credential), session);
    }
    /// Logs a session out.
    pub fn remove(&self, credential: &str) {
        lock(&self.sessions).remove(&credential_digest(credential));
    }
}

#[async_trait]
impl Authenticator for InMemoryAuthenticator {
    async fn authenticate(
        &self,
        credential: &str,
        now: DateTime<Utc>,
    ) -> Result<SessionClaims, AuthError> {
        let s = lock(&self.sessions)
            .get(&credential_digest(credential))
            .cloned()
            .ok_or(AuthError::Rejected)?;
        if now >= s.expires_at {
            return Err(AuthError::Expired);
        }
        Ok(s)
    }
}
