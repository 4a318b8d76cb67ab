//! Issue 16, blind-index key rotation: two live index-key versions during a re-index,
//! lookups that never miss, a re-index that resumes, the old secret retired for good —
//! tested from outside the crate on shared in-memory stores (each `build` is another
//! process on the same stores).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use async_trait::async_trait;
use crm_privacy::crypto::{CryptoError, IndexKey, Kek, Keyring, test_secret};
use crm_privacy::custodian::{Custodian, CustodianError};
use crm_privacy::ledger::AuditKind;
use crm_privacy::store::{
    InMemoryAuthenticator, InMemoryChainStore, InMemoryKeyStore, InMemoryRecordStore, RecordMeta,
    RecordStore, SealedRecord, StoreError, VersionedRecord,
};
use crm_privacy::{
    Category, Email, Notification, Phone, RecordId, SessionClaims, SessionId, SubjectId,
};

/// Seeds of the index secrets: the first, the one rotated to, a third.
const OLD: u8 = 10;
const NEW: u8 = 11;
const THIRD: u8 = 12;

#[derive(Clone)]
struct Stores {
    records: Arc<dyn RecordStore>,
    chains: Arc<InMemoryChainStore>,
    keys: Arc<InMemoryKeyStore>,
    logins: Arc<InMemoryAuthenticator>,
}

fn stores() -> Stores {
    Stores {
        records: Arc::new(InMemoryRecordStore::new()),
        chains: Arc::new(InMemoryChainStore::new()),
        keys: Arc::new(InMemoryKeyStore::new()),
        logins: Arc::new(InMemoryAuthenticator::new()),
    }
}

fn index(seed: u8) -> IndexKey {
    IndexKey::from_bytes(&test_secret(seed)).unwrap()
}

/// A build with index secret `current` and optionally `previous` (same KEK every time).
async fn build_on(
    s: &Stores,
    records: Arc<dyn RecordStore>,
    current: u8,
    previous: Option<u8>,
) -> Result<Custodian, CustodianError> {
    let mut kr = Keyring::new(
        Kek::from_bytes(1, &test_secret(1)).unwrap(),
        &test_secret(current),
    )
    .unwrap();
    if let Some(p) = previous {
        kr = kr.with_previous_index(index(p));
    }
    Custodian::builder(kr)
        .records(records)
        .chains(s.chains.clone())
        .keys(s.keys.clone())
        .authenticator(s.logins.clone())
        .build()
        .await
}

async fn build(s: &Stores, current: u8, previous: Option<u8>) -> Result<Custodian, CustodianError> {
    build_on(s, s.records.clone(), current, previous).await
}

fn email(i: usize) -> Email {
    Email::parse(&format!("Person.{i}@Example.com")).unwrap()
}

fn phone(i: usize) -> Phone {
    Phone::parse(&format!("+4144668{i:04}")).unwrap()
}

/// `n` subjects with an email each (and a phone for every third), plus one ledger entry
/// (a restriction lifted again) so the ledger holds entries tagged under this key.
async fn populate(c: &Custodian, n: usize) -> Vec<SubjectId> {
    let mut out = Vec::new();
    for i in 0..n {
        let s = c.register_subject().await.unwrap();
        c.store(s, email(i)).await.unwrap();
        if i % 3 == 0 {
            c.store(s, phone(i)).await.unwrap();
        }
        out.push(s);
    }
    if let Some(first) = out.first() {
        c.restrict(*first).await.unwrap();
        c.lift_restriction(*first).await.unwrap();
    }
    out
}

/// Every subject is found by its email (exactly once) and, where it has one, its phone.
async fn assert_all_found(c: &Custodian, subjects: &[SubjectId]) {
    let g = c.grant_lookup::<Notification>("recovery").await.unwrap();
    for (i, s) in subjects.iter().enumerate() {
        assert_eq!(
            c.find_by_email(&g, &email(i)).await.unwrap(),
            vec![*s],
            "email of subject {i} found once"
        );
    }
    let g = c
        .grant_lookup::<crm_privacy::IdentityVerification>("otp")
        .await
        .unwrap();
    for (i, s) in subjects.iter().enumerate().filter(|(i, _)| i % 3 == 0) {
        assert_eq!(
            c.find_by_phone(&g, &phone(i)).await.unwrap(),
            vec![*s],
            "phone of subject {i} found once"
        );
    }
}

async fn indexed_under(s: &Stores, version: u32) -> usize {
    let mut n = 0;
    let mut after = None;
    loop {
        let page = s.records.metadata_page(after, 100).await.unwrap();
        let Some(last) = page.last() else {
            return n;
        };
        after = Some(last.record);
        for m in &page {
            let r = s.records.get_versioned(m.record).await.unwrap();
            if r.sealed.blind_index.is_some() && r.sealed.index_version == version {
                n += 1;
            }
        }
    }
}

#[tokio::test]
async fn lookups_find_everything_before_during_and_after_rotation() {
    let s = stores();
    let v1 = build(&s, OLD, None).await.unwrap();
    let subjects = populate(&v1, 12).await;
    assert_all_found(&v1, &subjects).await;
    let indexed = indexed_under(&s, 1).await;
    assert_eq!(
        indexed,
        12 + 4,
        "every email and phone indexed under version 1"
    );

    // Rotation starts: new + previous. Before any re-index, everything is found (old indexes).
    let both = build(&s, NEW, Some(OLD)).await.unwrap();
    assert_all_found(&both, &subjects).await;
    // A write during the rotation is indexed under the new version and found.
    let mut subjects = subjects;
    let late = both.register_subject().await.unwrap();
    both.store(late, email(12)).await.unwrap();
    both.store(late, phone(12)).await.unwrap();
    subjects.push(late);
    assert_eq!(
        indexed_under(&s, 2).await,
        2,
        "new writes use the new version"
    );
    // A process still on the old key only may not join once the rotation started.
    assert!(matches!(
        build(&s, OLD, None).await,
        Err(CustodianError::Crypto(CryptoError::WrongIndexSecret))
    ));
    assert_all_found(&both, &subjects).await;

    // Half re-indexed: both versions live, still nothing missed, nothing twice.
    let step = both.reindex_step(7).await.unwrap();
    assert_eq!(
        (step.version, step.reindexed, step.remaining),
        (2, 7, (indexed - 7) as u64)
    );
    assert!(!step.finished);
    assert_all_found(&both, &subjects).await;

    let done = both.finish_index_rotation().await.unwrap();
    assert_eq!(done.reindexed, (indexed - 7) as u64);
    assert_eq!((done.remaining, done.erased_skipped), (0, 0));
    assert!(done.finished);
    assert_eq!(indexed_under(&s, 1).await, 0, "no row left under version 1");
    assert_all_found(&both, &subjects).await;
    // Re-indexing is audited, one entry per record (no value in it), plus the finish.
    let audit = both.audit_events().await.unwrap();
    let reindexed = audit
        .iter()
        .filter(|e| e.kind == AuditKind::Reindexed)
        .count();
    assert_eq!(reindexed, indexed + 1);

    // Idempotent: nothing left to do.
    let again = both.finish_index_rotation().await.unwrap();
    assert_eq!((again.reindexed, again.remaining), (0, 0));
    assert!(again.finished);

    // The previous key dropped: the build works (ledger and audit checkpoints vouch for
    // the entries tagged under the old key) and lookups find everything.
    let only_new = build(&s, NEW, None).await.unwrap();
    assert_all_found(&only_new, &subjects).await;
    only_new.verify_chains().await.unwrap();
    // New ledger entries are tagged under the new key and verify at the next build.
    only_new.restrict(subjects[1]).await.unwrap();
    only_new.lift_restriction(subjects[1]).await.unwrap();
    let later = build(&s, NEW, None).await.unwrap();
    assert_all_found(&later, &subjects).await;
}

#[tokio::test]
async fn old_secret_alone_finds_nothing_after_rotation() {
    let s = stores();
    let v1 = build(&s, OLD, None).await.unwrap();
    let subjects = populate(&v1, 6).await;
    let old = index(OLD);
    let old_index = |i: usize| old.blind_index(Category::Email, &email(i).lookup_key());
    assert_eq!(
        s.records.find_by_index(&old_index(0)).await.unwrap().len(),
        1
    );

    let both = build(&s, NEW, Some(OLD)).await.unwrap();
    assert!(both.finish_index_rotation().await.unwrap().finished);
    // A dump of the live rows attacked with the old secret: no index matches any more.
    for i in 0..subjects.len() {
        assert!(
            s.records
                .find_by_index(&old_index(i))
                .await
                .unwrap()
                .is_empty(),
            "old-version index of subject {i} is gone from the live rows"
        );
    }
    // And the old secret cannot be configured again (retired version).
    assert!(matches!(
        build(&s, OLD, None).await,
        Err(CustodianError::Crypto(CryptoError::WrongIndexSecret))
    ));
    let new = index(NEW);
    assert_eq!(
        s.records
            .find_by_index(&new.blind_index(Category::Email, &email(0).lookup_key()))
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn new_secrets_are_accepted_only_through_the_rotation_path() {
    let s = stores();
    let v1 = build(&s, OLD, None).await.unwrap();
    let subjects = populate(&v1, 5).await;
    // A new secret alone (not a rotation) is a wrong secret, as before.
    assert!(matches!(
        build(&s, NEW, None).await,
        Err(CustodianError::Crypto(CryptoError::WrongIndexSecret))
    ));
    // A "previous" key the store does not know as its newest version: refused.
    assert!(matches!(
        build(&s, NEW, Some(THIRD)).await,
        Err(CustodianError::Crypto(CryptoError::WrongIndexSecret))
    ));
    let both = build(&s, NEW, Some(OLD)).await.unwrap();
    // A racing rotation to another secret under the same version: refused.
    assert!(matches!(
        build(&s, THIRD, Some(OLD)).await,
        Err(CustodianError::Crypto(CryptoError::WrongIndexSecret))
    ));
    // Without the previous key while records are still under it: refused, with the count.
    match build(&s, NEW, None).await {
        Err(CustodianError::IndexRotationUnfinished { remaining }) => {
            assert_eq!(remaining, 5 + 2);
        }
        other => panic!("expected IndexRotationUnfinished, got {other:?}"),
    }
    // A rotation to a third key before this one finished: refused the same way.
    assert!(matches!(
        build(&s, THIRD, Some(NEW)).await,
        Err(CustodianError::IndexRotationUnfinished { remaining: 7 })
    ));
    // Every record moved but the rotation not finished (no checkpoint under the new key):
    // the ledger still holds entries only the old key vouches for. Refused, not a bare
    // untagged-entry failure.
    let step = both.reindex_step(usize::MAX).await.unwrap();
    assert_eq!((step.reindexed, step.remaining), (7, 0));
    assert!(matches!(
        build(&s, NEW, None).await,
        Err(CustodianError::IndexRotationUnfinished { remaining: 0 })
    ));
    assert!(both.finish_index_rotation().await.unwrap().finished);
    let only_new = build(&s, NEW, None).await.unwrap();
    assert_all_found(&only_new, &subjects).await;
    // The next rotation works the same way (version 3), and the one before is retired.
    let next = build(&s, THIRD, Some(NEW)).await.unwrap();
    assert_all_found(&next, &subjects).await;
    assert_eq!(next.finish_index_rotation().await.unwrap().version, 3);
    let only_third = build(&s, THIRD, None).await.unwrap();
    assert_all_found(&only_third, &subjects).await;
    for retired in [OLD, NEW] {
        assert!(matches!(
            build(&s, retired, None).await,
            Err(CustodianError::Crypto(CryptoError::WrongIndexSecret))
        ));
    }
}

#[tokio::test]
async fn erased_subjects_are_never_reindexed() {
    let s = stores();
    let v1 = build(&s, OLD, None).await.unwrap();
    let subjects = populate(&v1, 4).await;
    let gone = subjects[2];
    let row = s.records.list_subject_versioned(gone).await.unwrap();
    assert_eq!(row.len(), 1);
    v1.erase(gone).await.unwrap();
    // A leftover row of the erased subject (an erasure's deletion lost, a racing writer):
    // it carries an old-version index.
    s.records.put_versioned(row[0].clone()).await.unwrap();

    let both = build(&s, NEW, Some(OLD)).await.unwrap();
    let done = both.finish_index_rotation().await.unwrap();
    assert_eq!(done.erased_skipped, 1);
    assert_eq!(
        done.reindexed,
        3 + 2,
        "three emails and two phones of live subjects"
    );
    assert!(done.finished);
    assert!(
        s.records.list_subject(gone).await.unwrap().is_empty(),
        "the erased subject's row is deleted, not re-sealed"
    );
    let audit = both.audit_events().await.unwrap();
    assert!(
        !audit
            .iter()
            .any(|e| e.kind == AuditKind::Reindexed && e.subject == gone),
        "nothing re-sealed for the erased subject"
    );
    let g = both.grant_lookup::<Notification>("recovery").await.unwrap();
    assert!(both.find_by_email(&g, &email(2)).await.unwrap().is_empty());
}

/// A record store that fails every compare-and-swap once `armed` and `budget` successful
/// ones have happened: a re-index killed midway.
#[derive(Debug)]
struct FailAfter {
    inner: Arc<dyn RecordStore>,
    budget: AtomicUsize,
}

#[async_trait]
impl RecordStore for FailAfter {
    async fn put(&self, record: SealedRecord) -> Result<(), StoreError> {
        self.inner.put(record).await
    }
    async fn put_versioned(&self, row: VersionedRecord) -> Result<(), StoreError> {
        self.inner.put_versioned(row).await
    }
    async fn get_versioned(&self, record: RecordId) -> Result<VersionedRecord, StoreError> {
        self.inner.get_versioned(record).await
    }
    async fn list_subject_versioned(
        &self,
        subject: SubjectId,
    ) -> Result<Vec<VersionedRecord>, StoreError> {
        self.inner.list_subject_versioned(subject).await
    }
    async fn find_by_index_versioned(
        &self,
        index: &[u8; 32],
    ) -> Result<Vec<VersionedRecord>, StoreError> {
        self.inner.find_by_index_versioned(index).await
    }
    async fn get(&self, record: RecordId) -> Result<SealedRecord, StoreError> {
        self.inner.get(record).await
    }
    async fn list_subject(&self, subject: SubjectId) -> Result<Vec<SealedRecord>, StoreError> {
        self.inner.list_subject(subject).await
    }
    async fn find_by_index(&self, index: &[u8; 32]) -> Result<Vec<SealedRecord>, StoreError> {
        self.inner.find_by_index(index).await
    }
    async fn delete(&self, record: RecordId) -> Result<bool, StoreError> {
        self.inner.delete(record).await
    }
    async fn delete_subject(&self, subject: SubjectId) -> Result<u64, StoreError> {
        self.inner.delete_subject(subject).await
    }
    async fn metadata_page(
        &self,
        after: Option<RecordId>,
        limit: usize,
    ) -> Result<Vec<RecordMeta>, StoreError> {
        self.inner.metadata_page(after, limit).await
    }
    async fn indexed_below(
        &self,
        version: u32,
        after: Option<RecordId>,
        limit: usize,
    ) -> Result<Vec<VersionedRecord>, StoreError> {
        self.inner.indexed_below(version, after, limit).await
    }
    async fn count_indexed_below(&self, version: u32) -> Result<u64, StoreError> {
        self.inner.count_indexed_below(version).await
    }
    async fn replace_versioned(
        &self,
        row: VersionedRecord,
        expected: u64,
    ) -> Result<bool, StoreError> {
        let left = self.budget.load(Ordering::SeqCst);
        if left == 0 {
            return Err(StoreError::Unavailable {
                cause: "injected failure",
            });
        }
        self.budget.store(left - 1, Ordering::SeqCst);
        self.inner.replace_versioned(row, expected).await
    }
}

#[tokio::test]
async fn interrupted_reindex_resumes_and_finishes() {
    let s = stores();
    let v1 = build(&s, OLD, None).await.unwrap();
    let subjects = populate(&v1, 15).await;
    let total = 15 + 5;
    let failing = Arc::new(FailAfter {
        inner: s.records.clone(),
        budget: AtomicUsize::new(8),
    });
    let crashing = build_on(&s, failing, NEW, Some(OLD)).await.unwrap();
    let err = crashing.finish_index_rotation().await.unwrap_err();
    assert!(matches!(
        err,
        CustodianError::Store(StoreError::Unavailable { .. })
    ));
    assert_eq!(
        indexed_under(&s, 2).await,
        8,
        "eight rows moved before the failure"
    );
    assert_eq!(indexed_under(&s, 1).await, total - 8);
    // Half-done: lookups through a healthy process still find everything, once.
    let both = build(&s, NEW, Some(OLD)).await.unwrap();
    assert_all_found(&both, &subjects).await;
    // Dropping the previous key now is refused.
    assert!(matches!(
        build(&s, NEW, None).await,
        Err(CustodianError::IndexRotationUnfinished { remaining }) if remaining == (total - 8) as u64
    ));
    // Running it again finishes the rest, and only the rest.
    let done = both.finish_index_rotation().await.unwrap();
    assert_eq!(done.reindexed, (total - 8) as u64);
    assert!(done.finished);
    let again = both.finish_index_rotation().await.unwrap();
    assert_eq!(again.reindexed, 0);
    let only_new = build(&s, NEW, None).await.unwrap();
    assert_all_found(&only_new, &subjects).await;
}

async fn owner_grant(
    c: &Custodian,
    logins: &InMemoryAuthenticator,
    subject: SubjectId,
) -> crm_privacy::Grant<crm_privacy::OwnerAccess> {
    let credential = format!("cred-{subject}-{}", SessionId::new_random());
    let now = c.now();
    logins.insert(
        &credential,
        SessionClaims {
            subject,
            session: SessionId::new_random(),
            authenticated_at: now,
            expires_at: now + chrono::TimeDelta::hours(1),
        },
    );
    let session = c.authenticate(&credential).await.unwrap();
    c.grant_owner(&session).await.unwrap()
}

/// The id of `subject`'s email record (read from the store: ids are not personal data).
async fn own_email_record(records: &dyn RecordStore, subject: SubjectId) -> RecordId {
    records
        .list_subject(subject)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.kind == "email")
        .map(|r| r.record)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rotation_under_load_has_no_errors_and_no_misses() {
    // Every round must be free of errors and misses. The test is only meaningful if
    // lookups actually ran while the re-index did, which the OS scheduler decides: on a
    // saturated machine a short re-index can finish before a lookup thread gets a core, so
    // a round without overlap is run again (fresh stores), up to ten times.
    for _ in 0..10 {
        if rotation_round().await {
            return;
        }
    }
    panic!("in ten rounds, no lookup ran while the re-index did");
}

/// One round of [`rotation_under_load_has_no_errors_and_no_misses`]: asserts no error and no
/// miss, and returns whether lookups ran while the re-index did.
async fn rotation_round() -> bool {
    let s = stores();
    let v1 = build(&s, OLD, None).await.unwrap();
    let n = 60;
    let subjects = Arc::new(populate(&v1, n).await);
    // Two processes during the rotation: one re-indexes, the other serves.
    let server = build(&s, NEW, Some(OLD)).await.unwrap();
    let reindexer = build(&s, NEW, Some(OLD)).await.unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let lookups = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for t in 0..3 {
        let (c, subjects, stop, lookups) = (
            server.clone(),
            subjects.clone(),
            stop.clone(),
            lookups.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let g = c.grant_lookup::<Notification>("recovery").await.unwrap();
            let mut i = t;
            let mut failures = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                let k = i % subjects.len();
                match c.find_by_email(&g, &email(k)).await {
                    Ok(found) if found == vec![subjects[k]] => {}
                    Ok(found) => {
                        failures.push(format!("subject {k}: found {} results", found.len()))
                    }
                    Err(e) => failures.push(format!("subject {k}: {e}")),
                }
                lookups.fetch_add(1, Ordering::SeqCst);
                i += 7;
                tokio::task::yield_now().await;
            }
            failures
        }));
    }
    // A writer registering and immediately looking up new subjects, and rectifying old
    // ones (a concurrent rewrite of rows the re-index is moving).
    let writer = {
        let (c, stop, subjects) = (server.clone(), stop.clone(), subjects.clone());
        let (logins, records) = (s.logins.clone(), s.records.clone());
        tokio::spawn(async move {
            let g = c.grant_lookup::<Notification>("recovery").await.unwrap();
            let mut failures = Vec::new();
            let mut i = 1000;
            while !stop.load(Ordering::SeqCst) {
                let sub = c.register_subject().await.unwrap();
                c.store(sub, email(i)).await.unwrap();
                match c.find_by_email(&g, &email(i)).await {
                    Ok(found) if found == vec![sub] => {}
                    other => failures.push(format!("new subject {i}: {other:?}")),
                }
                // The owner rewrites an old subject's email (same value): the row the
                // re-index may be moving at this moment. A rewrite that loses the race to
                // the re-index gets `StaleVersion`, like any two concurrent rewrites of one
                // row, and is retried.
                let k = i % subjects.len();
                let own = owner_grant(&c, &logins, subjects[k]).await;
                let rec = own_email_record(&*records, subjects[k]).await;
                let mut done = false;
                for _ in 0..5 {
                    match c.rectify(&own, rec, email(k)).await {
                        Ok(()) => {
                            done = true;
                            break;
                        }
                        Err(CustodianError::Store(StoreError::StaleVersion { .. })) => {}
                        Err(e) => {
                            failures.push(format!("rectify {k}: {e}"));
                            break;
                        }
                    }
                }
                if !done {
                    failures.push(format!("rectify {k} never landed"));
                }
                i += 1;
                tokio::task::yield_now().await;
            }
            failures
        })
    };
    let during = lookups.load(Ordering::SeqCst);
    let report = reindexer.finish_index_rotation().await.unwrap();
    assert!(report.finished, "{report:?}");
    // Rows the owner rectified meanwhile were moved by the rewrite itself.
    assert!(report.reindexed > 0 && report.remaining == 0, "{report:?}");
    let overlapped = lookups.load(Ordering::SeqCst) > during;
    // Keep the load a little longer after the switch, then stop.
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    stop.store(true, Ordering::SeqCst);
    let mut failures = Vec::new();
    for t in tasks {
        failures.extend(t.await.unwrap());
    }
    failures.extend(writer.await.unwrap());
    assert!(
        failures.is_empty(),
        "errors or misses under load: {failures:?}"
    );
    assert!(lookups.load(Ordering::SeqCst) > 0);
    // Whatever the writer added during the rotation is under the new version too.
    let rest = reindexer.finish_index_rotation().await.unwrap();
    assert_eq!(rest.remaining, 0);
    let only_new = build(&s, NEW, None).await.unwrap();
    assert_all_found(&only_new, &subjects).await;
    overlapped
}

/// A record store that, right after the first blind-index query it answers, lets `mover`
/// re-index every row: the worst moment for a lookup that queries two versions.
#[derive(Debug)]
struct MoveBetweenQueries {
    inner: Arc<dyn RecordStore>,
    mover: std::sync::OnceLock<Custodian>,
    armed: AtomicBool,
}

#[async_trait]
impl RecordStore for MoveBetweenQueries {
    async fn put(&self, record: SealedRecord) -> Result<(), StoreError> {
        self.inner.put(record).await
    }
    async fn put_versioned(&self, row: VersionedRecord) -> Result<(), StoreError> {
        self.inner.put_versioned(row).await
    }
    async fn get_versioned(&self, record: RecordId) -> Result<VersionedRecord, StoreError> {
        self.inner.get_versioned(record).await
    }
    async fn list_subject_versioned(
        &self,
        subject: SubjectId,
    ) -> Result<Vec<VersionedRecord>, StoreError> {
        self.inner.list_subject_versioned(subject).await
    }
    async fn find_by_index_versioned(
        &self,
        index: &[u8; 32],
    ) -> Result<Vec<VersionedRecord>, StoreError> {
        self.inner.find_by_index_versioned(index).await
    }
    async fn get(&self, record: RecordId) -> Result<SealedRecord, StoreError> {
        self.inner.get(record).await
    }
    async fn list_subject(&self, subject: SubjectId) -> Result<Vec<SealedRecord>, StoreError> {
        self.inner.list_subject(subject).await
    }
    async fn find_by_index(&self, index: &[u8; 32]) -> Result<Vec<SealedRecord>, StoreError> {
        let found = self.inner.find_by_index(index).await?;
        if self.armed.swap(false, Ordering::SeqCst) {
            let report = self
                .mover
                .get()
                .unwrap()
                .reindex_step(usize::MAX)
                .await
                .unwrap();
            assert!(report.reindexed > 0, "the mover moved the rows");
        }
        Ok(found)
    }
    async fn delete(&self, record: RecordId) -> Result<bool, StoreError> {
        self.inner.delete(record).await
    }
    async fn delete_subject(&self, subject: SubjectId) -> Result<u64, StoreError> {
        self.inner.delete_subject(subject).await
    }
    async fn metadata_page(
        &self,
        after: Option<RecordId>,
        limit: usize,
    ) -> Result<Vec<RecordMeta>, StoreError> {
        self.inner.metadata_page(after, limit).await
    }
}

/// The re-index moves a row between a lookup's two queries: the lookup still finds it,
/// once (the previous version is queried first, rows only move from it to the current).
#[tokio::test]
async fn a_row_moved_between_the_two_queries_of_a_lookup_is_found() {
    let s = stores();
    let v1 = build(&s, OLD, None).await.unwrap();
    let subjects = populate(&v1, 3).await;
    let racing = Arc::new(MoveBetweenQueries {
        inner: s.records.clone(),
        mover: std::sync::OnceLock::new(),
        armed: AtomicBool::new(false),
    });
    let reader = build_on(&s, racing.clone(), NEW, Some(OLD)).await.unwrap();
    racing
        .mover
        .set(build(&s, NEW, Some(OLD)).await.unwrap())
        .unwrap();
    let g = reader
        .grant_lookup::<Notification>("recovery")
        .await
        .unwrap();
    racing.armed.store(true, Ordering::SeqCst);
    assert_eq!(
        reader.find_by_email(&g, &email(1)).await.unwrap(),
        vec![subjects[1]]
    );
    assert!(
        !racing.armed.load(Ordering::SeqCst),
        "the move happened mid-lookup"
    );
    assert_eq!(indexed_under(&s, 1).await, 0);
}

/// Forges a ledger entry as the holder of index secret `seed` can: the event tagged with
/// HMAC-SHA256 under that secret (the documented tag: label ‖ the event without its tag),
/// appended to the shared chain store.
async fn forge_ledger_entry(s: &Stores, seed: u8, subject: SubjectId) {
    use crm_privacy::ledger::{LedgerChange, LedgerEvent};
    use crm_privacy::store::{ChainName, ChainStore};
    let mut ev = LedgerEvent {
        at: chrono::Utc::now(),
        subject,
        change: LedgerChange::RestrictionLifted,
        tag: None,
    };
    let bare = serde_json::to_vec(&ev).unwrap();
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &test_secret(seed));
    let mut msg = b"crm-privacy ledger entry v1\0".to_vec();
    msg.extend_from_slice(&bare);
    let tag = ring::hmac::sign(&key, &msg);
    ev.tag = Some(tag.as_ref().iter().map(|b| format!("{b:02x}")).collect());
    s.chains
        .append_bodies(vec![(ChainName::Ledger, serde_json::to_vec(&ev).unwrap())])
        .await
        .unwrap();
}

/// Outside review: a host that keeps configuring the previous index key after the rotation
/// finished must not let the old secret's holder write ledger entries that are accepted:
/// after `IndexKeyRotated`, entries verify under the current key alone, whatever is
/// configured. (During the rotation an old-key entry is accepted: both keys are live.)
#[tokio::test]
async fn after_the_rotation_finished_old_key_entries_are_refused_even_with_the_previous_key_configured()
 {
    let s = stores();
    let old = build(&s, OLD, None).await.unwrap();
    let alice = old.register_subject().await.unwrap();
    old.restrict(alice).await.unwrap();
    let both = build(&s, NEW, Some(OLD)).await.unwrap();
    // The forging works while both keys are live (the documented transition window) ...
    forge_ledger_entry(&s, OLD, alice).await;
    assert!(both.consents(alice).await.is_ok());
    both.finish_index_rotation().await.unwrap();
    // ... and not once the rotation finished.
    forge_ledger_entry(&s, OLD, alice).await;
    assert!(matches!(
        both.consents(alice).await,
        Err(CustodianError::UntaggedLedgerEntry { .. })
    ));
    assert!(matches!(
        build(&s, NEW, Some(OLD)).await,
        Err(CustodianError::UntaggedLedgerEntry { .. })
    ));
}
