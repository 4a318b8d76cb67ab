//! The storage conformance suite: one async function per property of the storage traits,
//! each with a message on every assertion. Every backend in this repository runs it, and a
//! host runs it on its own backend with one line, which expands to one `#[tokio::test]` per
//! property (so the first failure does not hide the rest):
//!
//! ```ignore
//! // tests/conformance.rs of the host (dev-dependencies: crm-privacy with `test-util`, and
//! // tokio with the `macros` and `rt-multi-thread` features).
//! crm_privacy::conformance_tests!(std::sync::Arc::new(MyStore::connect("...").await.unwrap()));
//! ```
//!
//! The expression is evaluated afresh inside each test (it may `.await`) and gives a
//! [`Fixture`]: an `Arc` of one type implementing all three store traits, a [`Stores`]
//! triple, a `(fixture, guard)` pair whose guard (a temporary directory, say) lives as long
//! as the test, or an `Option` of one of those, where `None` skips the test (a database
//! server that is not reachable outside CI).
//!
//! Each property panics with a description of the broken contract (it is test code).
//!
//! # Adding a property
//! Write `pub async fn name(stores: &Stores)` at the end of this file and add `name` to the
//! list in [`conformance_properties!`](crate::conformance_properties): `run_all` and every
//! backend's `conformance_tests!` pick it up.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "test suite"
)]

use std::sync::Arc;

use chrono::{TimeDelta, Utc};

use super::{
    ChainAppend, ChainHeads, ChainName, ChainStore, DynChainStore, DynKeyStore, DynRecordStore,
    KeyStore, RecordStore, SealedRecord, StoreError, VersionedRecord, Witness,
};
use crate::chain::{self, Anchor};
use crate::crypto::{KeyCheck, WrappedKey};
use crate::ids::{RecordId, SubjectId};

/// The list of every property, in the order [`run_all`] runs them. It calls back
/// `$callback!(@$mode ($($args)*) [names...])`, so a new property is added in one place.
#[doc(hidden)]
#[macro_export]
macro_rules! conformance_properties {
    ($callback:path, $mode:ident, $($args:tt)*) => {
        $callback!(@$mode ($($args)*) [
            records_read_after_write
            records_put_replaces
            records_lookup_by_blind_index
            records_missing_row_is_not_found
            records_delete_removes_one
            records_erasure_removes_subject
            records_paging_visits_each_once
            versioned_write_and_identical_retry
            versioned_stale_write_refused
            versioned_legacy_put_and_reads
            chains_read_after_write_and_independent
            chains_stale_anchor_refused
            chains_joint_append_all_or_nothing
            chains_identical_retry_is_idempotent
            chains_concurrent_appenders_lose_nothing
            keys_missing_is_not_found
            keys_rotation_replaces
            keys_deletion_is_final
            key_check_values_never_replaced
            chains_concurrent_append_bodies
            chains_checkpoints_tied_to_the_chain
            records_indexed_below_finds_older_versions
            records_replace_versioned_compare_and_swap
        ]);
    };
}

/// Expands to one `#[tokio::test]` per conformance property for a host's own store:
/// `conformance_tests!(make_fixture_expr)`. See [`store::conformance`](crate::store::conformance)
/// for what the expression may return; the test crate needs tokio (`macros`,
/// `rt-multi-thread`) as a dev-dependency.
#[macro_export]
macro_rules! conformance_tests {
    ($make:expr $(,)?) => {
        $crate::conformance_properties!($crate::__conformance_expand, tests, $make);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_expand {
    (@tests ($make:expr) [$($prop:ident)*]) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $prop() {
                let fixture = $make;
                match $crate::store::conformance::Fixture::stores(&fixture) {
                    Some(stores) => $crate::store::conformance::$prop(&stores).await,
                    None => {} // the fixture chose to skip (for example no database server)
                }
            }
        )*
    };
    (@run ($stores:expr) [$($prop:ident)*]) => {
        $( $crate::store::conformance::$prop($stores).await; )*
    };
}

/// The three stores a property runs on (often one value behind three `Arc`s).
#[derive(Debug, Clone)]
pub struct Stores {
    /// Sealed records.
    pub records: DynRecordStore,
    /// The ledger and audit chains.
    pub chains: DynChainStore,
    /// Wrapped subject keys and key check values.
    pub keys: DynKeyStore,
}

impl Stores {
    /// One backend implementing all three traits.
    pub fn of<S: RecordStore + ChainStore + KeyStore>(store: Arc<S>) -> Self {
        Self {
            records: store.clone(),
            chains: store.clone(),
            keys: store,
        }
    }
}

/// What a `conformance_tests!` expression evaluates to: the stores to test, or `None` to
/// skip.
pub trait Fixture {
    /// The stores, or `None` to skip the test.
    fn stores(&self) -> Option<Stores>;
}

impl<S: RecordStore + ChainStore + KeyStore> Fixture for Arc<S> {
    fn stores(&self) -> Option<Stores> {
        Some(Stores::of(self.clone()))
    }
}

impl Fixture for Stores {
    fn stores(&self) -> Option<Stores> {
        Some(self.clone())
    }
}

impl<F: Fixture> Fixture for Option<F> {
    fn stores(&self) -> Option<Stores> {
        self.as_ref().and_then(Fixture::stores)
    }
}

/// A fixture with a guard (a temporary directory, a schema to drop) kept alive as long as
/// the test runs.
impl<F: Fixture, G> Fixture for (F, G) {
    fn stores(&self) -> Option<Stores> {
        self.0.stores()
    }
}

/// Runs every property in turn on the same stores (which must be fresh: the key check
/// values start absent).
pub async fn run_all(records: DynRecordStore, chains: DynChainStore, keys: DynKeyStore) {
    let stores = Stores {
        records,
        chains,
        keys,
    };
    crate::conformance_properties!(crate::__conformance_expand, run, &stores);
}

fn record(subject: SubjectId, kind: &str, index: Option<[u8; 32]>) -> SealedRecord {
    let now = Utc::now();
    SealedRecord {
        record: RecordId::new_random(),
        subject,
        kind: kind.to_owned(),
        ciphertext: vec![1, 2, 3, 4, 5],
        blind_index: index,
        index_version: 1,
        created_at: now - TimeDelta::days(3),
        updated_at: now,
    }
}

/// A blind index no other property (or earlier run on the same store) uses.
fn fresh_index() -> [u8; 32] {
    let mut idx = [0_u8; 32];
    idx[..16].copy_from_slice(&SubjectId::new_random().to_bytes());
    idx[16..].copy_from_slice(&SubjectId::new_random().to_bytes());
    idx
}

async fn put_all(store: &dyn RecordStore, rows: &[&SealedRecord]) {
    for r in rows {
        store
            .put((*r).clone())
            .await
            .unwrap_or_else(|e| panic!("put of a new record failed: {e}"));
    }
}

// ---- records ------------------------------------------------------------------------------

/// A record reads back as written: subject, kind, ciphertext, blind index, and timestamps to
/// the microsecond.
pub async fn records_read_after_write(stores: &Stores) {
    let store = &*stores.records;
    let idx = fresh_index();
    let r = record(SubjectId::new_random(), "email", Some(idx));
    put_all(store, &[&r]).await;
    let got = store.get(r.record).await.expect("get after put");
    assert_eq!(got.subject, r.subject, "read after write: subject");
    assert_eq!(got.ciphertext, r.ciphertext, "read after write: ciphertext");
    assert_eq!(got.kind, "email", "read after write: kind");
    assert_eq!(got.blind_index, Some(idx), "read after write: blind index");
    assert_eq!(
        got.created_at.timestamp_micros(),
        r.created_at.timestamp_micros(),
        "timestamps keep microseconds (created_at)"
    );
    assert_eq!(
        got.updated_at.timestamp_micros(),
        r.updated_at.timestamp_micros(),
        "timestamps keep microseconds (updated_at)"
    );
    store.delete_subject(r.subject).await.expect("clean-up");
}

/// `put` of an existing record id replaces the row.
pub async fn records_put_replaces(stores: &Stores) {
    let store = &*stores.records;
    let r = record(SubjectId::new_random(), "email", None);
    put_all(store, &[&r]).await;
    let mut replaced = r.clone();
    replaced.ciphertext = vec![9; 40];
    store.put(replaced).await.expect("put over an existing row");
    assert_eq!(
        store.get(r.record).await.expect("get").ciphertext,
        vec![9; 40],
        "put replaces the row"
    );
    assert_eq!(
        store.list_subject(r.subject).await.expect("list").len(),
        1,
        "a replaced row is not duplicated"
    );
    store.delete_subject(r.subject).await.expect("clean-up");
}

/// Lookup by blind index finds exactly the rows carrying it, and nothing for an unknown one.
pub async fn records_lookup_by_blind_index(stores: &Stores) {
    let store = &*stores.records;
    let (a, idx) = (SubjectId::new_random(), fresh_index());
    let with = record(a, "email", Some(idx));
    let without = record(a, "phone", None);
    put_all(store, &[&with, &without]).await;
    let found = store.find_by_index(&idx).await.expect("find_by_index");
    assert_eq!(found.len(), 1, "one row carries the index");
    assert_eq!(
        found[0].record, with.record,
        "the row that carries the index"
    );
    assert!(
        store
            .find_by_index(&fresh_index())
            .await
            .expect("find_by_index")
            .is_empty(),
        "an unknown index finds nothing"
    );
    store.delete_subject(a).await.expect("clean-up");
}

/// A missing row is `NotFound`, not an empty value or another error.
pub async fn records_missing_row_is_not_found(stores: &Stores) {
    let store = &*stores.records;
    let r = store.get(RecordId::new_random()).await;
    assert!(
        matches!(r, Err(StoreError::NotFound { .. })),
        "missing row is NotFound: {r:?}"
    );
    assert!(
        !store
            .delete(RecordId::new_random())
            .await
            .expect("delete of a missing row"),
        "deleting a missing row reports false"
    );
}

/// `delete` removes one row and reports it; the subject's other rows stay.
pub async fn records_delete_removes_one(stores: &Stores) {
    let store = &*stores.records;
    let a = SubjectId::new_random();
    let (r1, r2) = (record(a, "email", None), record(a, "phone", None));
    put_all(store, &[&r1, &r2]).await;
    assert!(
        store.delete(r2.record).await.expect("delete"),
        "delete reports the removed row"
    );
    assert!(
        matches!(store.get(r2.record).await, Err(StoreError::NotFound { .. })),
        "a deleted row is NotFound"
    );
    assert_eq!(
        store.list_subject(a).await.expect("list").len(),
        1,
        "the subject's other row stays"
    );
    store.delete_subject(a).await.expect("clean-up");
}

/// Erasure removes every row and index entry of the subject and nothing of others.
pub async fn records_erasure_removes_subject(stores: &Stores) {
    let store = &*stores.records;
    let (a, b, idx) = (
        SubjectId::new_random(),
        SubjectId::new_random(),
        fresh_index(),
    );
    let (r1, r2, r3) = (
        record(a, "email", Some(idx)),
        record(a, "phone", None),
        record(b, "email", None),
    );
    put_all(store, &[&r1, &r2, &r3]).await;
    assert_eq!(
        store.delete_subject(a).await.expect("delete_subject"),
        2,
        "erasure reports the rows removed"
    );
    assert!(
        store.list_subject(a).await.expect("list").is_empty(),
        "erasure removes every record"
    );
    assert!(
        store.find_by_index(&idx).await.expect("find").is_empty(),
        "erasure removes index entries"
    );
    assert_eq!(
        store.list_subject(b).await.expect("list").len(),
        1,
        "other subjects untouched"
    );
    store.delete_subject(b).await.expect("clean-up");
}

/// Paging by record id visits each record exactly once and respects the page size.
pub async fn records_paging_visits_each_once(stores: &Stores) {
    let store = &*stores.records;
    let c = SubjectId::new_random();
    let mut ids = Vec::new();
    for _ in 0..25 {
        let r = record(c, "ip_address", None);
        ids.push(r.record);
        store.put(r).await.expect("put");
    }
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store.metadata_page(after, 7).await.expect("metadata_page");
        if page.is_empty() {
            break;
        }
        assert!(
            page.len() <= 7,
            "a page holds at most the limit ({})",
            page.len()
        );
        let next = page.last().map(|m| m.record);
        assert!(next > after, "pages move forward");
        after = next;
        seen.extend(
            page.into_iter()
                .filter(|m| m.subject == c)
                .map(|m| m.record),
        );
    }
    seen.sort();
    ids.sort();
    assert_eq!(seen, ids, "paging visits every record once");
    store.delete_subject(c).await.expect("clean-up");
}

// ---- versioned records --------------------------------------------------------------------

/// A versioned write keeps its version; an identical retry is a no-op that succeeds.
pub async fn versioned_write_and_identical_retry(stores: &Stores) {
    let store = &*stores.records;
    let s = SubjectId::new_random();
    let row = VersionedRecord {
        sealed: record(s, "email", Some(fresh_index())),
        version: 1,
    };
    let id = row.sealed.record;
    store
        .put_versioned(row.clone())
        .await
        .expect("put_versioned");
    let got = store.get_versioned(id).await.expect("get_versioned");
    assert_eq!(got.version, 1, "the version is kept");
    assert_eq!(
        got.header().created_at.timestamp_micros(),
        row.sealed.created_at.timestamp_micros(),
        "timestamps keep microseconds"
    );
    store
        .put_versioned(row.clone())
        .await
        .expect("an identical retry succeeds (idempotent)");
    assert_eq!(
        store.get_versioned(id).await.expect("get").version,
        1,
        "an identical retry writes nothing"
    );
    assert!(
        matches!(
            store.get_versioned(RecordId::new_random()).await,
            Err(StoreError::NotFound { .. })
        ),
        "a missing versioned row is NotFound"
    );
    store.delete_subject(s).await.expect("clean-up");
}

/// Another row at the same version, or an older version, is refused as `StaleVersion`.
pub async fn versioned_stale_write_refused(stores: &Stores) {
    let store = &*stores.records;
    let s = SubjectId::new_random();
    let row = VersionedRecord {
        sealed: record(s, "email", None),
        version: 1,
    };
    let id = row.sealed.record;
    store
        .put_versioned(row.clone())
        .await
        .expect("put_versioned");
    let mut other = row.clone();
    other.sealed.ciphertext = vec![7; 9];
    assert_eq!(
        store.put_versioned(other.clone()).await,
        Err(StoreError::StaleVersion { record: id }),
        "another row at the same version is refused"
    );
    let mut v2 = other;
    v2.version = 2;
    store
        .put_versioned(v2)
        .await
        .expect("the next version is written");
    assert_eq!(
        store.put_versioned(row).await,
        Err(StoreError::StaleVersion { record: id }),
        "an older version never replaces a newer one"
    );
    let got = store.get_versioned(id).await.expect("get");
    assert_eq!(
        (got.version, got.sealed.ciphertext),
        (2, vec![7; 9]),
        "the newest version stays"
    );
    store.delete_subject(s).await.expect("clean-up");
}

/// The legacy `put` bumps the version; reads by subject and by index return versions.
pub async fn versioned_legacy_put_and_reads(stores: &Stores) {
    let store = &*stores.records;
    let (s, idx) = (SubjectId::new_random(), fresh_index());
    let row = VersionedRecord {
        sealed: record(s, "email", Some(idx)),
        version: 2,
    };
    let id = row.sealed.record;
    store
        .put_versioned(row.clone())
        .await
        .expect("put_versioned");
    store.put(row.sealed.clone()).await.expect("legacy put");
    assert_eq!(
        store.get_versioned(id).await.expect("get").version,
        3,
        "the legacy put bumps the version"
    );
    let by_subject = store.list_subject_versioned(s).await.expect("list");
    assert_eq!(by_subject.len(), 1, "one row by subject");
    assert_eq!(
        by_subject[0].version, 3,
        "reads by subject return the version"
    );
    let by_index = store.find_by_index_versioned(&idx).await.expect("find");
    assert_eq!(by_index.len(), 1, "one row by index");
    assert_eq!(by_index[0].version, 3, "reads by index return the version");
    store.delete_subject(s).await.expect("clean-up");
}

// ---- chains -------------------------------------------------------------------------------

async fn append_one(
    store: &dyn ChainStore,
    chain: ChainName,
    body: &[u8],
) -> Result<Anchor, StoreError> {
    let expected = store.anchor(chain).await?;
    let mut next = expected;
    let entry = chain::append(&mut next, body.to_vec());
    store
        .append(vec![ChainAppend {
            chain,
            expected,
            entry,
        }])
        .await?;
    Ok(next)
}

/// An append is visible at once, and the ledger and audit chains are independent.
pub async fn chains_read_after_write_and_independent(stores: &Stores) {
    let store = &*stores.chains;
    let base_ledger = store.anchor(ChainName::Ledger).await.expect("anchor");
    let base_audit = store.anchor(ChainName::Audit).await.expect("anchor");
    let a1 = append_one(store, ChainName::Ledger, b"given")
        .await
        .expect("append");
    assert_eq!(a1.len, base_ledger.len + 1, "an append adds one entry");
    assert_eq!(
        store.anchor(ChainName::Ledger).await.expect("anchor"),
        a1,
        "read after write"
    );
    assert_eq!(
        store.anchor(ChainName::Audit).await.expect("anchor"),
        base_audit,
        "chains are independent"
    );
    let entries = store.entries(ChainName::Ledger).await.expect("entries");
    assert_eq!(
        chain::verify(&entries).expect("the chain verifies"),
        a1,
        "the entries verify to the anchor"
    );
}

/// A stale anchor (overwriting entry n) is refused as `Conflict`: append-only really is.
pub async fn chains_stale_anchor_refused(stores: &Stores) {
    let store = &*stores.chains;
    let base = store.anchor(ChainName::Ledger).await.expect("anchor");
    let now = append_one(store, ChainName::Ledger, b"first")
        .await
        .expect("append");
    let mut stale = base;
    let entry = chain::append(&mut stale, b"rewrite history".to_vec());
    let r = store
        .append(vec![ChainAppend {
            chain: ChainName::Ledger,
            expected: base,
            entry,
        }])
        .await;
    assert!(
        matches!(r, Err(StoreError::Conflict(ChainName::Ledger))),
        "stale append refused as Conflict: {r:?}"
    );
    assert_eq!(
        store.anchor(ChainName::Ledger).await.expect("anchor"),
        now,
        "a refused append writes nothing"
    );
}

/// A joint append with one stale anchor writes nothing; a good one writes both.
pub async fn chains_joint_append_all_or_nothing(stores: &Stores) {
    let store = &*stores.chains;
    let la = store.anchor(ChainName::Ledger).await.expect("anchor");
    let aa = store.anchor(ChainName::Audit).await.expect("anchor");
    let (mut ln, mut an) = (la, aa);
    let le = chain::append(&mut ln, b"withdrawn".to_vec());
    let ae = chain::append(&mut an, b"audit: withdrawn".to_vec());
    let mut bad = aa;
    bad.len += 5;
    let r = store
        .append(vec![
            ChainAppend {
                chain: ChainName::Ledger,
                expected: la,
                entry: le.clone(),
            },
            ChainAppend {
                chain: ChainName::Audit,
                expected: bad,
                entry: ae.clone(),
            },
        ])
        .await;
    assert!(r.is_err(), "a joint append with one stale anchor fails");
    assert_eq!(
        store.anchor(ChainName::Ledger).await.expect("anchor"),
        la,
        "…and writes nothing on the other chain"
    );
    store
        .append(vec![
            ChainAppend {
                chain: ChainName::Ledger,
                expected: la,
                entry: le,
            },
            ChainAppend {
                chain: ChainName::Audit,
                expected: aa,
                entry: ae,
            },
        ])
        .await
        .expect("a good joint append");
    assert_eq!(
        store.anchor(ChainName::Ledger).await.expect("anchor"),
        ln,
        "joint append: ledger written"
    );
    assert_eq!(
        store.anchor(ChainName::Audit).await.expect("anchor"),
        an,
        "joint append: audit written"
    );
}

/// Sending the same joint append again (a retry after an unknown outcome) succeeds and
/// writes nothing: appends are keyed by (chain, position, hash).
pub async fn chains_identical_retry_is_idempotent(stores: &Stores) {
    let store = &*stores.chains;
    let la = store.anchor(ChainName::Ledger).await.expect("anchor");
    let aa = store.anchor(ChainName::Audit).await.expect("anchor");
    let (mut ln, mut an) = (la, aa);
    let joint = vec![
        ChainAppend {
            chain: ChainName::Ledger,
            expected: la,
            entry: chain::append(&mut ln, b"given".to_vec()),
        },
        ChainAppend {
            chain: ChainName::Audit,
            expected: aa,
            entry: chain::append(&mut an, b"audit: given".to_vec()),
        },
    ];
    store.append(joint.clone()).await.expect("first append");
    store
        .append(joint)
        .await
        .expect("an identical retry is idempotent");
    assert_eq!(
        store.anchor(ChainName::Ledger).await.expect("anchor"),
        ln,
        "the retry wrote nothing (ledger)"
    );
    assert_eq!(
        store.anchor(ChainName::Audit).await.expect("anchor"),
        an,
        "the retry wrote nothing (audit)"
    );
}

/// Concurrent appenders with retry keep one valid chain and lose nothing; reading from a
/// position returns the tail, which verifies from the anchor before it.
pub async fn chains_concurrent_appenders_lose_nothing(stores: &Stores) {
    let store = &stores.chains;
    let before = store.anchor(ChainName::Audit).await.expect("anchor").len;
    let mut tasks = Vec::new();
    for t in 0..4_u8 {
        let s = Arc::clone(store);
        tasks.push(async move {
            for i in 0..10_u8 {
                loop {
                    match append_one(&*s, ChainName::Audit, &[t, i]).await {
                        Ok(_) => break,
                        Err(StoreError::Conflict(_)) => continue,
                        Err(e) => {
                            panic!("a concurrent append failed with other than Conflict: {e}")
                        }
                    }
                }
            }
        });
    }
    futures_join_all(tasks).await;
    let entries = store.entries(ChainName::Audit).await.expect("entries");
    let anchor = chain::verify(&entries).expect("chain stays valid under concurrent appends");
    assert_eq!(
        anchor,
        store.anchor(ChainName::Audit).await.expect("anchor"),
        "the stored anchor matches the entries"
    );
    assert_eq!(anchor.len, before + 40, "no append lost");
    let tail = store
        .entries_from(ChainName::Audit, before)
        .await
        .expect("entries_from");
    assert_eq!(tail.len(), 40, "entries_from returns the tail");
    let from = if before == 0 {
        Anchor::default()
    } else {
        Anchor {
            len: before,
            head: entries[usize::try_from(before).expect("small") - 1].hash,
        }
    };
    assert_eq!(
        chain::verify_from(from, &tail).expect("the tail verifies"),
        anchor,
        "the tail verifies from the anchor before it"
    );
}

/// Polls the futures round-robin on the current task (keeps the suite runtime-agnostic).
async fn futures_join_all<F: std::future::Future<Output = ()>>(futs: Vec<F>) {
    let mut futs: Vec<_> = futs.into_iter().map(Box::pin).map(Some).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for slot in &mut futs {
            if let Some(f) = slot {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(()) => *slot = None,
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
}

// ---- keys ---------------------------------------------------------------------------------

/// A subject without a key is `NotFound`.
pub async fn keys_missing_is_not_found(stores: &Stores) {
    let r = stores.keys.get(SubjectId::new_random()).await;
    assert!(
        matches!(r, Err(StoreError::NotFound { .. })),
        "a missing key is NotFound: {r:?}"
    );
}

/// `put` of a live key replaces it (rotation); the subject is listed.
pub async fn keys_rotation_replaces(stores: &Stores) {
    let store = &*stores.keys;
    let s = SubjectId::new_random();
    store
        .put(s, WrappedKey::from_bytes(vec![1; 60]))
        .await
        .expect("put");
    assert_eq!(
        store.get(s).await.expect("get").as_bytes(),
        &[1; 60][..],
        "read after write"
    );
    store
        .put(s, WrappedKey::from_bytes(vec![2; 60]))
        .await
        .expect("put over a live key");
    assert_eq!(
        store.get(s).await.expect("get").as_bytes(),
        &[2; 60][..],
        "rotation replaces"
    );
    assert!(
        store.subjects().await.expect("subjects").contains(&s),
        "a subject with a key is listed"
    );
    store.delete(s).await.expect("clean-up");
}

/// Key deletion is final: the key is `Shredded`, can never come back, and the subject is
/// no longer listed.
pub async fn keys_deletion_is_final(stores: &Stores) {
    let store = &*stores.keys;
    let s = SubjectId::new_random();
    store
        .put(s, WrappedKey::from_bytes(vec![1; 60]))
        .await
        .expect("put");
    store.delete(s).await.expect("delete");
    assert_eq!(
        store.get(s).await.err(),
        Some(StoreError::Shredded(s)),
        "a deleted key is gone (Shredded)"
    );
    assert_eq!(
        store
            .put(s, WrappedKey::from_bytes(vec![3; 60]))
            .await
            .err(),
        Some(StoreError::Shredded(s)),
        "and can never come back"
    );
    assert!(
        !store.subjects().await.expect("subjects").contains(&s),
        "a shredded subject is not listed"
    );
}

/// Key check values: absent at first, recorded once, never replaced, new KEK ids added.
/// Needs a fresh store.
pub async fn key_check_values_never_replaced(stores: &Stores) {
    let store = &*stores.keys;
    let first = KeyCheck {
        keks: vec![(1, [1; 16])],
        index: Some([9; 16]),
        index_rotations: Vec::new(),
    };
    let before = store.check_values().await.expect("check_values");
    assert!(before.is_none(), "no check values before the first build");
    let stored = store
        .set_check_values_if_absent(&first)
        .await
        .expect("set_check_values_if_absent");
    assert_eq!(stored, first, "the first values are recorded");
    assert_eq!(
        store.check_values().await.expect("check_values"),
        Some(first.clone()),
        "read after write"
    );
    let other = KeyCheck {
        keks: vec![(1, [2; 16]), (2, [3; 16])],
        index: Some([8; 16]),
        index_rotations: vec![(2, [4; 16])],
    };
    let stored = store
        .set_check_values_if_absent(&other)
        .await
        .expect("set_check_values_if_absent");
    assert_eq!(
        stored,
        KeyCheck {
            keks: vec![(1, [1; 16]), (2, [3; 16])],
            index: Some([9; 16]),
            index_rotations: vec![(2, [4; 16])],
        },
        "existing values are never replaced, new KEK ids and index versions are added"
    );
    assert_eq!(
        store.check_values().await.expect("check_values"),
        Some(stored),
        "the merged values are what is stored"
    );
    // A rotation racing with another to the same blind-index version: the first wins.
    let racing = KeyCheck {
        keks: Vec::new(),
        index: None,
        index_rotations: vec![(2, [5; 16]), (3, [6; 16])],
    };
    let stored = store
        .set_check_values_if_absent(&racing)
        .await
        .expect("set_check_values_if_absent");
    assert_eq!(
        stored.index_rotations,
        vec![(2, [4; 16]), (3, [6; 16])],
        "a recorded index version is never replaced, a new one is added"
    );
}

// ---- witness (not part of the store triple) -----------------------------------------------

/// A witness returns what was published last and refuses a publish that goes backwards.
pub async fn witness(w: Arc<dyn Witness>) {
    assert_eq!(
        w.latest().await.expect("latest"),
        None,
        "nothing published yet"
    );
    let mut a = Anchor::default();
    chain::append(&mut a, b"x".to_vec());
    let heads = ChainHeads {
        ledger: a,
        audit: Anchor::default(),
        keys: None,
    };
    w.publish(&heads).await.expect("publish");
    assert_eq!(
        w.latest().await.expect("latest"),
        Some(heads),
        "read after publish"
    );
    assert!(
        matches!(
            w.publish(&ChainHeads::default()).await,
            Err(StoreError::RolledBack { .. })
        ),
        "a publish that goes backwards is RolledBack"
    );
    assert_eq!(
        w.latest().await.expect("latest"),
        Some(heads),
        "a refused publish changes nothing"
    );
}

// ---- properties added later go below; add each name to `conformance_properties!` ---------

/// Checkpoints and pruning (issue 18) on the fixture's chain store; see [`chain_checkpoints`].
pub async fn chains_checkpoints_tied_to_the_chain(stores: &Stores) {
    chain_checkpoints(stores.chains.clone()).await;
}

/// Concurrent `append_bodies` (group commit, issue 18); see [`concurrent_append_bodies`].
pub async fn chains_concurrent_append_bodies(stores: &Stores) {
    concurrent_append_bodies(stores.chains.clone()).await;
}

// ---- Issue 18: checkpoints, pruning, paging and group-committed appends ----

/// Checkpoints and pruning (issue 18): a checkpoint must be tied to the chain (the entry at
/// its sequence has its head), only a newer one replaces it, `entries_range` pages, and
/// `prune` deletes only entries before the checkpoint — never the checkpoint's own entry
/// nor anything after it — and refuses to pass it. Appends after pruning still link.
pub async fn chain_checkpoints(store: Arc<dyn ChainStore>) {
    use crate::chain::Checkpoint;
    let c = ChainName::Audit;
    let start = store.anchor(c).await.unwrap();
    let written = store
        .append_bodies(
            (0..6)
                .map(|i| (c, format!("cp {i}").into_bytes()))
                .collect(),
        )
        .await
        .unwrap();
    let page = store.entries_range(c, start.len + 1, 2).await.unwrap();
    assert_eq!(page.len(), 2, "entries_range must honour its limit");
    assert_eq!(page[0], written[1], "entries_range must start at `from`");
    let at = store.anchor(c).await.unwrap();
    let mut cp = Checkpoint::at(at, 0).unwrap();
    cp.tag = [7; 32];
    let mut forged = cp;
    forged.head = [9; 32];
    assert!(
        matches!(
            store.put_checkpoint(c, &forged).await,
            Err(StoreError::Misuse { .. })
        ),
        "a checkpoint not tied to the chain must be refused"
    );
    store.put_checkpoint(c, &cp).await.unwrap();
    assert_eq!(store.checkpoint(c).await.unwrap(), Some(cp));
    // An older checkpoint does not replace a newer one.
    let older = Checkpoint::at(
        Anchor {
            len: at.len - 1,
            head: written[4].hash,
        },
        0,
    )
    .unwrap();
    store.put_checkpoint(c, &older).await.unwrap();
    assert_eq!(
        store.checkpoint(c).await.unwrap(),
        Some(cp),
        "a checkpoint went back"
    );
    assert!(
        matches!(
            store.prune(c, cp.seq + 1).await,
            Err(StoreError::Misuse { .. })
        ),
        "pruning past the checkpoint must be refused"
    );
    let pruned = store.prune(c, cp.seq).await.unwrap();
    assert_eq!(
        pruned, cp.seq,
        "prune must delete exactly the entries before it"
    );
    let left = store.entries(c).await.unwrap();
    assert_eq!(left.first().map(|e| e.seq), Some(cp.seq));
    assert_eq!(left.first().map(|e| e.hash), Some(cp.head));
    assert_eq!(
        store.anchor(c).await.unwrap(),
        at,
        "pruning moved the anchor"
    );
    let more = store
        .append_bodies(vec![(c, b"after prune".to_vec())])
        .await
        .unwrap();
    assert_eq!(more[0].seq, at.len);
    assert_eq!(more[0].prev, at.head);
    let all = store.entries_from(c, cp.seq).await.unwrap();
    crate::chain::verify_checkpointed(&cp, &all, &store.anchor(c).await.unwrap()).unwrap();
}

/// Group commit (issue 18): many concurrent `append_bodies` calls each get their own
/// entries back, every one of them lands once, in one correctly linked chain, and each
/// caller's entries for one call are consecutive and in order.
pub async fn concurrent_append_bodies(store: Arc<dyn ChainStore>) {
    let c = ChainName::Audit;
    let start = store.anchor(c).await.unwrap();
    let futs: Vec<_> = (0..16_u8)
        .map(|i| {
            let store = store.clone();
            async move {
                let got = store
                    .append_bodies(vec![(c, vec![b'g', i, 0]), (c, vec![b'g', i, 1])])
                    .await
                    .unwrap();
                assert_eq!(got.len(), 2);
                assert_eq!(got[0].body, vec![b'g', i, 0]);
                assert_eq!(got[1].body, vec![b'g', i, 1]);
                assert_eq!(
                    got[1].seq,
                    got[0].seq + 1,
                    "one call's entries must be consecutive"
                );
                assert_eq!(got[1].prev, got[0].hash);
            }
        })
        .collect();
    futures_join_all(futs).await;
    let end = store.anchor(c).await.unwrap();
    assert_eq!(end.len, start.len + 32);
    let entries = store.entries_from(c, start.len).await.unwrap();
    crate::chain::verify_from(start, &entries).unwrap();
}

/// Witness checkpoints (issue 18): the newest is kept and one going back is refused.
pub async fn witness_checkpoints(w: Arc<dyn Witness>) {
    use crate::chain::Checkpoint;
    let a = Checkpoint::at(
        Anchor {
            len: 5,
            head: [1; 32],
        },
        1,
    )
    .unwrap();
    let b = Checkpoint::at(
        Anchor {
            len: 9,
            head: [2; 32],
        },
        1,
    )
    .unwrap();
    w.publish_checkpoint(ChainName::Audit, &a).await.unwrap();
    w.publish_checkpoint(ChainName::Audit, &b).await.unwrap();
    assert_eq!(
        w.latest_checkpoint(ChainName::Audit).await.unwrap(),
        Some(b)
    );
    assert!(matches!(
        w.publish_checkpoint(ChainName::Audit, &a).await,
        Err(StoreError::RolledBack { .. })
    ));
}

// ---- blind-index key versions ---------------------------------------------------------------

/// `r` with its timestamps cut to microseconds (what persistent stores keep; compare both
/// sides through it).
fn at_micros(mut r: VersionedRecord) -> VersionedRecord {
    let cut = |t: chrono::DateTime<Utc>| {
        chrono::DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap()
    };
    r.sealed.created_at = cut(r.sealed.created_at);
    r.sealed.updated_at = cut(r.sealed.updated_at);
    r
}

/// `indexed_below(v)` returns exactly the rows that carry a blind index computed under a
/// version below `v`, in id order and paged by `after`; `count_indexed_below` counts them; a
/// row's index version reads back as written and changes with a new version of the row. (The
/// rows here use version 0, which no other property writes, so a shared store does not
/// disturb the counts.)
pub async fn records_indexed_below_finds_older_versions(stores: &Stores) {
    let store = &*stores.records;
    let s = SubjectId::new_random();
    let old = |index: Option<[u8; 32]>, version: u32| VersionedRecord {
        sealed: SealedRecord {
            index_version: version,
            ..record(s, "email", index)
        },
        version: 1,
    };
    let (a, b) = (old(Some(fresh_index()), 0), old(Some(fresh_index()), 0));
    let current = old(Some(fresh_index()), 1);
    let unindexed = old(None, 0);
    for r in [&a, &b, &current, &unindexed] {
        store.put_versioned(r.clone()).await.expect("put_versioned");
    }
    assert_eq!(
        store
            .get_versioned(current.sealed.record)
            .await
            .expect("get")
            .sealed
            .index_version,
        1,
        "the index version reads back as written"
    );
    let mut expected = vec![a.sealed.record, b.sealed.record];
    expected.sort();
    let found: Vec<RecordId> = store
        .indexed_below(1, None, 100)
        .await
        .expect("indexed_below")
        .into_iter()
        .map(|r| r.sealed.record)
        .collect();
    assert_eq!(
        found, expected,
        "exactly the indexed rows under an older version, in id order"
    );
    let first = store.indexed_below(1, None, 1).await.expect("page 1");
    assert_eq!(first.len(), 1, "limit is honoured");
    assert_eq!(
        first[0].sealed.record, expected[0],
        "the first page starts at the lowest id"
    );
    assert_eq!(
        at_micros(first[0].clone()),
        at_micros(if a.sealed.record == expected[0] {
            a.clone()
        } else {
            b.clone()
        }),
        "the row comes back whole"
    );
    let rest = store
        .indexed_below(1, Some(expected[0]), 100)
        .await
        .expect("page 2");
    assert_eq!(
        rest.iter().map(|r| r.sealed.record).collect::<Vec<_>>(),
        vec![expected[1]],
        "paging after an id visits the rest once"
    );
    assert_eq!(
        store.count_indexed_below(1).await.expect("count"),
        2,
        "the count matches the rows"
    );
    let mut moved = a.clone();
    moved.sealed.index_version = 1;
    moved.version = 2;
    store.put_versioned(moved).await.expect("next version");
    assert_eq!(
        store.count_indexed_below(1).await.expect("count"),
        1,
        "a row rewritten under a newer index version is no longer counted"
    );
    store.delete_subject(s).await.expect("clean-up");
    assert_eq!(
        store.count_indexed_below(1).await.expect("count"),
        0,
        "deleted rows are not counted"
    );
}

/// `replace_versioned` writes only over the expected version: never over another version,
/// never into an absent row (a deleted record stays deleted), and refuses a version that
/// does not go up.
pub async fn records_replace_versioned_compare_and_swap(stores: &Stores) {
    let store = &*stores.records;
    let s = SubjectId::new_random();
    let row = VersionedRecord {
        sealed: record(s, "email", Some(fresh_index())),
        version: 1,
    };
    let id = row.sealed.record;
    store
        .put_versioned(row.clone())
        .await
        .expect("put_versioned");
    let mut next = row.clone();
    next.version = 2;
    next.sealed.ciphertext = vec![6; 12];
    next.sealed.blind_index = Some(fresh_index());
    next.sealed.index_version = 2;
    assert!(
        !store
            .replace_versioned(next.clone(), 0)
            .await
            .expect("replace"),
        "another expected version does not replace"
    );
    assert_eq!(
        at_micros(store.get_versioned(id).await.expect("get")),
        at_micros(row.clone()),
        "a refused replacement leaves the row as it was"
    );
    assert!(
        store
            .replace_versioned(next.clone(), 1)
            .await
            .expect("replace"),
        "the expected version is replaced"
    );
    assert_eq!(
        at_micros(store.get_versioned(id).await.expect("get")),
        at_micros(next.clone()),
        "the replacement is stored whole (version, ciphertext, index, index version)"
    );
    assert_eq!(
        store
            .find_by_index_versioned(&next.sealed.blind_index.unwrap())
            .await
            .expect("find")
            .len(),
        1,
        "the new index finds the row"
    );
    assert!(
        store
            .find_by_index(&row.sealed.blind_index.unwrap())
            .await
            .expect("find")
            .is_empty(),
        "the old index no longer finds it"
    );
    let mut third = next.clone();
    third.version = 3;
    assert!(
        !store.replace_versioned(third, 1).await.expect("replace"),
        "a replacement over a version already replaced is refused"
    );
    assert!(
        matches!(
            store.replace_versioned(next.clone(), 2).await,
            Err(StoreError::Misuse { .. })
        ),
        "a version that does not go up is misuse"
    );
    store.delete_subject(s).await.expect("clean-up");
    let mut gone = next;
    gone.version = 3;
    assert!(
        !store.replace_versioned(gone, 2).await.expect("replace"),
        "an absent record is not replaced"
    );
    assert!(
        matches!(
            store.get_versioned(id).await,
            Err(StoreError::NotFound { .. })
        ),
        "an absent record is never inserted by a replacement"
    );
}
