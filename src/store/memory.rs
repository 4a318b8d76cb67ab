//! In-memory implementations of the storage traits (tests, demos, single-process hosts).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ring::digest;

use super::{
    AuthError, Authenticator, ChainAppend, ChainHeads, ChainName, ChainStore, KeyStore, RecordMeta,
    RecordStore, SealedRecord, StoreError, VersionedRecord, Witness,
};
use crate::chain::{Anchor, ChainEntry, Checkpoint};
use crate::crypto::{KeyCheck, WrappedKey};
use crate::grant::SessionClaims;
use crate::ids::{RecordId, SubjectId};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Records in a `BTreeMap` keyed by id.
#[derive(Debug, Default)]
pub struct InMemoryRecordStore {
    rows: Mutex<BTreeMap<RecordId, VersionedRecord>>,
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
    fn transport(&self) -> super::Transport {
        super::Transport::InProcess
    }
    async fn put(&self, record: SealedRecord) -> Result<(), StoreError> {
        let mut rows = lock(&self.rows);
        let version = rows.get(&record.record).map_or(0, |r| r.version) + 1;
        rows.insert(
            record.record,
            VersionedRecord {
                sealed: record,
                version,
            },
        );
        Ok(())
    }
    async fn put_versioned(&self, row: VersionedRecord) -> Result<(), StoreError> {
        let mut rows = lock(&self.rows);
        match rows.get(&row.sealed.record) {
            Some(old) if old.version > row.version => Err(StoreError::StaleVersion {
                record: row.sealed.record,
            }),
            Some(old) if old.version == row.version => {
                if old.sealed.ciphertext == row.sealed.ciphertext {
                    Ok(())
                } else {
                    Err(StoreError::StaleVersion {
                        record: row.sealed.record,
                    })
                }
            }
            _ => {
                rows.insert(row.sealed.record, row);
                Ok(())
            }
        }
    }
    async fn get(&self, record: RecordId) -> Result<SealedRecord, StoreError> {
        self.get_versioned(record).await.map(|r| r.sealed)
    }
    async fn get_versioned(&self, record: RecordId) -> Result<VersionedRecord, StoreError> {
        lock(&self.rows)
            .get(&record)
            .cloned()
            .ok_or_else(|| StoreError::NotFound {
                what: "record",
                id: record.to_string(),
            })
    }
    async fn list_subject(&self, subject: SubjectId) -> Result<Vec<SealedRecord>, StoreError> {
        let rows = self.list_subject_versioned(subject).await?;
        Ok(rows.into_iter().map(|r| r.sealed).collect())
    }
    async fn list_subject_versioned(
        &self,
        subject: SubjectId,
    ) -> Result<Vec<VersionedRecord>, StoreError> {
        Ok(lock(&self.rows)
            .values()
            .filter(|r| r.sealed.subject == subject)
            .cloned()
            .collect())
    }
    async fn find_by_index(&self, index: &[u8; 32]) -> Result<Vec<SealedRecord>, StoreError> {
        let rows = self.find_by_index_versioned(index).await?;
        Ok(rows.into_iter().map(|r| r.sealed).collect())
    }
    async fn find_by_index_versioned(
        &self,
        index: &[u8; 32],
    ) -> Result<Vec<VersionedRecord>, StoreError> {
        Ok(lock(&self.rows)
            .values()
            .filter(|r| r.sealed.blind_index.as_ref() == Some(index))
            .cloned()
            .collect())
    }
    async fn delete(&self, record: RecordId) -> Result<bool, StoreError> {
        Ok(lock(&self.rows).remove(&record).is_some())
    }
    async fn delete_subject(&self, subject: SubjectId) -> Result<u64, StoreError> {
        let mut rows = lock(&self.rows);
        let before = rows.len();
        rows.retain(|_, r| r.sealed.subject != subject);
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
                record: r.sealed.record,
                subject: r.sealed.subject,
                kind: r.sealed.kind.clone(),
                created_at: r.sealed.created_at,
                updated_at: r.sealed.updated_at,
            })
            .collect())
    }
    async fn indexed_below(
        &self,
        version: u32,
        after: Option<RecordId>,
        limit: usize,
    ) -> Result<Vec<VersionedRecord>, StoreError> {
        let rows = lock(&self.rows);
        let range = match after {
            Some(a) => rows.range((std::ops::Bound::Excluded(a), std::ops::Bound::Unbounded)),
            None => rows.range(..),
        };
        Ok(range
            .map(|(_, r)| r)
            .filter(|r| r.sealed.blind_index.is_some() && r.sealed.index_version < version)
            .take(limit)
            .cloned()
            .collect())
    }
    async fn count_indexed_below(&self, version: u32) -> Result<u64, StoreError> {
        Ok(lock(&self.rows)
            .values()
            .filter(|r| r.sealed.blind_index.is_some() && r.sealed.index_version < version)
            .count() as u64)
    }
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
        let mut rows = lock(&self.rows);
        match rows.get_mut(&row.sealed.record) {
            Some(old) if old.version == expected => {
                *old = row;
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}

/// Both chains in memory.
#[derive(Debug, Default)]
pub struct InMemoryChainStore {
    chains: Mutex<HashMap<ChainName, (Vec<ChainEntry>, Anchor)>>,
    checkpoints: Mutex<HashMap<ChainName, Checkpoint>>,
}

/// The retained entries of a chain from sequence `from` on (entries before a checkpoint may
/// have been pruned, so the vector does not start at sequence 0).
fn retained_from(all: &[ChainEntry], from: u64) -> &[ChainEntry] {
    let first = all.first().map_or(0, |e| e.seq);
    let skip = usize::try_from(from.saturating_sub(first)).unwrap_or(usize::MAX);
    all.get(skip..).unwrap_or_default()
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
    fn transport(&self) -> super::Transport {
        super::Transport::InProcess
    }
    fn is_exclusive(&self) -> bool {
        true
    }
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
                // A retry of appends that already landed succeeds without writing.
                let stored = |a: &ChainAppend| {
                    chains
                        .get(&a.chain)
                        .and_then(|c| retained_from(&c.0, a.entry.seq).first())
                        .is_some_and(|e| e.seq == a.entry.seq && e.hash == a.entry.hash)
                };
                if !appends.is_empty() && appends.iter().all(stored) {
                    return Ok(());
                }
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
        Ok(retained_from(all, from).to_vec())
    }
    async fn entries_range(
        &self,
        chain: ChainName,
        from: u64,
        limit: usize,
    ) -> Result<Vec<ChainEntry>, StoreError> {
        let chains = lock(&self.chains);
        let all = chains
            .get(&chain)
            .map(|c| c.0.as_slice())
            .unwrap_or_default();
        Ok(retained_from(all, from)
            .iter()
            .take(limit)
            .cloned()
            .collect())
    }
    async fn checkpoint(&self, chain: ChainName) -> Result<Option<Checkpoint>, StoreError> {
        Ok(lock(&self.checkpoints).get(&chain).copied())
    }
    async fn put_checkpoint(
        &self,
        chain: ChainName,
        checkpoint: &Checkpoint,
    ) -> Result<(), StoreError> {
        let chains = lock(&self.chains);
        let tied = chains
            .get(&chain)
            .and_then(|c| retained_from(&c.0, checkpoint.seq).first())
            .is_some_and(|e| e.seq == checkpoint.seq && e.hash == checkpoint.head);
        if !tied {
            return Err(StoreError::Misuse {
                what: "checkpoint does not match the chain",
            });
        }
        let mut cps = lock(&self.checkpoints);
        if cps.get(&chain).is_none_or(|c| c.seq < checkpoint.seq) {
            cps.insert(chain, *checkpoint);
        }
        Ok(())
    }
    async fn prune(&self, chain: ChainName, before: u64) -> Result<u64, StoreError> {
        let mut chains = lock(&self.chains);
        let Some(cp) = lock(&self.checkpoints).get(&chain).copied() else {
            return Err(StoreError::Misuse {
                what: "no checkpoint to prune before",
            });
        };
        if before > cp.seq {
            return Err(StoreError::Misuse {
                what: "pruning would pass the checkpoint",
            });
        }
        let Some(c) = chains.get_mut(&chain) else {
            return Ok(0);
        };
        let n = c.0.len();
        c.0.retain(|e| e.seq >= before);
        Ok((n - c.0.len()) as u64)
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
    check: Mutex<Option<KeyCheck>>,
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
    fn transport(&self) -> super::Transport {
        super::Transport::InProcess
    }
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
    async fn check_values(&self) -> Result<Option<KeyCheck>, StoreError> {
        Ok(lock(&self.check).clone())
    }
    async fn set_check_values_if_absent(&self, values: &KeyCheck) -> Result<KeyCheck, StoreError> {
        let mut c = lock(&self.check);
        let merged = c.take().unwrap_or_default().merged(values);
        *c = Some(merged.clone());
        Ok(merged)
    }
}

/// Chain heads published in memory (tests and demos; a real witness lives outside the
/// database). Refuses a publish that goes backwards.
#[derive(Debug, Default)]
pub struct InMemoryWitness {
    latest: Mutex<Option<ChainHeads>>,
    checkpoints: Mutex<HashMap<ChainName, Checkpoint>>,
}

impl InMemoryWitness {
    /// A witness that has seen nothing.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl Witness for InMemoryWitness {
    async fn publish(&self, heads: &ChainHeads) -> Result<(), StoreError> {
        let mut l = lock(&self.latest);
        if let Some(prev) = l.as_ref() {
            heads.check_reaches(prev)?;
        }
        *l = Some(*heads);
        Ok(())
    }
    async fn latest(&self) -> Result<Option<ChainHeads>, StoreError> {
        Ok(*lock(&self.latest))
    }
    async fn publish_checkpoint(
        &self,
        chain: ChainName,
        checkpoint: &Checkpoint,
    ) -> Result<(), StoreError> {
        let mut cps = lock(&self.checkpoints);
        match cps.get(&chain) {
            Some(prev) if prev.seq > checkpoint.seq => Err(StoreError::RolledBack {
                what: "audit checkpoint",
            }),
            Some(prev) if prev.seq == checkpoint.seq => Ok(()),
            _ => {
                cps.insert(chain, *checkpoint);
                Ok(())
            }
        }
    }
    async fn latest_checkpoint(&self, chain: ChainName) -> Result<Option<Checkpoint>, StoreError> {
        Ok(lock(&self.checkpoints).get(&chain).copied())
    }
}

#[cfg(all(test, feature = "test-util"))]
mod tests {
    use std::sync::Arc;

    use super::InMemoryWitness;
    use crate::store::conformance;

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        let mut f = std::pin::pin!(f);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        loop {
            if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
        }
    }

    /// `check_chains_reach` accepts a chain that grew past the witnessed head and refuses
    /// one that is shorter or does not pass through it.
    #[test]
    fn chains_must_pass_through_the_witnessed_heads() {
        use crate::chain;
        use crate::store::{
            ChainAppend, ChainName, ChainStore, InMemoryChainStore, StoreError, check_chains_reach,
        };
        let append = |s: &InMemoryChainStore, body: &[u8]| {
            let expected = block_on(s.anchor(ChainName::Ledger)).unwrap();
            let mut next = expected;
            let entry = chain::append(&mut next, body.to_vec());
            block_on(s.append(vec![ChainAppend {
                chain: ChainName::Ledger,
                expected,
                entry,
            }]))
            .unwrap();
        };
        let a = InMemoryChainStore::new();
        let b = InMemoryChainStore::new();
        for n in 0..3_u8 {
            append(&a, &[n]);
            append(&b, &[n + 10]);
        }
        let seen = block_on(a.heads()).unwrap();
        append(&a, b"later");
        block_on(check_chains_reach(&a, &seen)).unwrap();
        let rolled = |s: &InMemoryChainStore| block_on(check_chains_reach(s, &seen));
        assert_eq!(rolled(&b), Err(StoreError::RolledBack { what: "ledger" }));
        assert_eq!(
            rolled(&InMemoryChainStore::new()),
            Err(StoreError::RolledBack { what: "ledger" })
        );
    }

    #[test]
    fn in_memory_witness_conforms() {
        // The suite is runtime-agnostic and the witness never awaits: poll it to completion.
        let fut = std::pin::pin!(conformance::witness(Arc::new(InMemoryWitness::new())));
        let mut fut = fut;
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        assert!(fut.as_mut().poll(&mut cx).is_ready());
    }

    #[test]
    fn in_memory_checkpoints_conform() {
        use super::InMemoryChainStore;
        block_on(conformance::chain_checkpoints(Arc::new(
            InMemoryChainStore::new(),
        )));
        block_on(conformance::concurrent_append_bodies(Arc::new(
            InMemoryChainStore::new(),
        )));
        block_on(conformance::witness_checkpoints(Arc::new(
            InMemoryWitness::new(),
        )));
    }
}

/// Maps credential digests (SHA-256, so credentials are not held in clear) to sessions.
/// [`remove`](Self::remove) of a session's last credential logs it out: grants issued to it
/// stop at their next use ([`Authenticator::session_live`]), and the session stays ended
/// until its expiry (a credential inserted later for the same session id is refused), so
/// a logout cannot be undone by logging in again on the same id.
#[derive(Debug, Default)]
pub struct InMemoryAuthenticator {
    sessions: Mutex<Sessions>,
}

#[derive(Debug, Default)]
struct Sessions {
    by_credential: HashMap<[u8; 32], SessionClaims>,
    /// The credentials (digests) leading to each session: it ends with its last one.
    credentials_of: HashMap<crate::ids::SessionId, Vec<[u8; 32]>>,
    /// The latest expiry any credential of each live session carried.
    until: HashMap<crate::ids::SessionId, DateTime<Utc>>,
    /// Sessions logged out, until their latest expiry (after it, their grants are expired
    /// anyway).
    ended: HashMap<crate::ids::SessionId, DateTime<Utc>>,
    /// Prune `ended` when it reaches this size (doubling, so pruning is amortized).
    prune_at: usize,
}

impl Sessions {
    /// Records `claims` under `digest`. Re-inserting a credential for its own session (a
    /// sliding expiry, an idempotent upsert) keeps the session live; moving it to another
    /// session detaches it from the first.
    fn attach(&mut self, digest: [u8; 32], claims: SessionClaims) {
        let session = claims.session;
        let expires_at = claims.expires_at;
        let old = self.by_credential.insert(digest, claims);
        let list = self.credentials_of.entry(session).or_default();
        if !list.contains(&digest) {
            list.push(digest);
        }
        let until = self.until.entry(session).or_insert(expires_at);
        *until = (*until).max(expires_at);
        if let Some(old) = old.filter(|o| o.session != session) {
            self.detach(&digest, &old);
        }
    }

    /// Drops one credential of a session; the session ends with its last one, and stays
    /// ended until the latest expiry any of its credentials carried.
    fn detach(&mut self, digest: &[u8; 32], claims: &SessionClaims) {
        let Some(list) = self.credentials_of.get_mut(&claims.session) else {
            return;
        };
        list.retain(|d| d != digest);
        if list.is_empty() {
            self.credentials_of.remove(&claims.session);
            let latest = self
                .until
                .remove(&claims.session)
                .map_or(claims.expires_at, |u| u.max(claims.expires_at));
            let ended = self.ended.entry(claims.session).or_insert(latest);
            *ended = (*ended).max(latest);
        }
    }

    /// Whether `session` was logged out (pruning sessions past their expiry first).
    fn has_ended(&mut self, session: crate::ids::SessionId, now: DateTime<Utc>) -> bool {
        if self.ended.len() >= self.prune_at.max(64) {
            self.ended.retain(|_, until| *until > now);
            self.prune_at = self.ended.len() * 2;
        }
        self.ended.contains_key(&session)
    }
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
        lock(&self.sessions).attach(credential_digest(credential), session);
    }
    /// Logs a session out (the credential's; the session ends with its last credential).
    pub fn remove(&self, credential: &str) {
        let digest = credential_digest(credential);
        let mut s = lock(&self.sessions);
        if let Some(old) = s.by_credential.remove(&digest) {
            s.detach(&digest, &old);
        }
    }
}

#[async_trait]
impl Authenticator for InMemoryAuthenticator {
    async fn authenticate(
        &self,
        credential: &str,
        now: DateTime<Utc>,
    ) -> Result<SessionClaims, AuthError> {
        let mut sessions = lock(&self.sessions);
        let s = sessions
            .by_credential
            .get(&credential_digest(credential))
            .cloned()
            .ok_or(AuthError::Rejected)?;
        if sessions.has_ended(s.session, now) {
            return Err(AuthError::Rejected);
        }
        if now >= s.expires_at {
            return Err(AuthError::Expired);
        }
        Ok(s)
    }

    async fn session_live(
        &self,
        subject: SubjectId,
        session: crate::ids::SessionId,
        now: DateTime<Utc>,
    ) -> Result<bool, AuthError> {
        let mut s = lock(&self.sessions);
        if s.has_ended(session, now) {
            return Ok(false);
        }
        let credentials = s
            .credentials_of
            .get(&session)
            .map_or(&[][..], Vec::as_slice);
        Ok(credentials.iter().any(|d| {
            s.by_credential
                .get(d)
                .is_some_and(|c| c.subject == subject && now < c.expires_at)
        }))
    }
}
