//! The storage conformance suite: one async function per trait contract. Every backend in
//! this repository runs it, and a host runs it on its own backend:
//!
//! ```ignore
//! #[tokio::test]
//! async fn my_store_conforms() {
//!     let store = Arc::new(MyStore::connect(...).await.unwrap());
//!     crm_privacy::store::conformance::run_all(store.clone(), store.clone(), store).await;
//! }
//! ```
//!
//! Each function panics with a description of the broken contract (it is test code).
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
    ChainAppend, ChainHeads, ChainName, ChainStore, KeyStore, RecordStore, SealedRecord,
    StoreError, VersionedRecord, Witness,
};
use crate::chain::{self, Anchor};
use crate::crypto::{KeyCheck, WrappedKey};
use crate::ids::{RecordId, SubjectId};

fn record(subject: SubjectId, kind: &str, index: Option<[u8; 32]>) -> SealedRecord {
    let now = Utc::now();
    SealedRecord {
        record: RecordId::new_random(),
        subject,
        kind: kind.to_owned(),
        ciphertext: vec![1, 2, 3, 4, 5],
        blind_index: index,
        created_at: now - TimeDelta::days(3),
        updated_at: now,
    }
}

/// Reads after writes, replace, lookup by blind index, errors on missing rows, erasure
/// removes, paging visits every record once.
pub async fn record_store(store: Arc<dyn RecordStore>) {
    let (a, b) = (SubjectId::new_random(), SubjectId::new_random());
    let idx = [7_u8; 32];
    let r1 = record(a, "email", Some(idx));
    let r2 = record(a, "phone", None);
    let r3 = record(b, "email", None);
    for r in [&r1, &r2, &r3] {
        store.put(r.clone()).await.unwrap();
    }
    let got = store.get(r1.record).await.unwrap();
    assert_eq!(got.subject, a);
    assert_eq!(got.ciphertext, r1.ciphertext);
    assert_eq!(got.kind, "email");
    assert_eq!(got.blind_index, Some(idx));
    assert_eq!(
        got.created_at.timestamp_micros(),
        r1.created_at.timestamp_micros(),
        "timestamps keep microseconds"
    );
    let mut replaced = r1.clone();
    replaced.ciphertext = vec![9; 40];
    store.put(replaced.clone()).await.unwrap();
    assert_eq!(
        store.get(r1.record).await.unwrap().ciphertext,
        vec![9; 40],
        "put replaces"
    );
    assert_eq!(store.list_subject(a).await.unwrap().len(), 2);
    let found = store.find_by_index(&idx).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].record, r1.record);
    assert!(store.find_by_index(&[8; 32]).await.unwrap().is_empty());
    let missing = RecordId::new_random();
    assert!(
        matches!(store.get(missing).await, Err(StoreError::NotFound { .. })),
        "missing row is NotFound"
    );
    assert!(!store.delete(missing).await.unwrap());
    assert!(store.delete(r2.record).await.unwrap());
    assert!(matches!(
        store.get(r2.record).await,
        Err(StoreError::NotFound { .. })
    ));
    assert_eq!(store.delete_subject(a).await.unwrap(), 1);
    assert!(
        store.list_subject(a).await.unwrap().is_empty(),
        "erasure removes every record"
    );
    assert!(
        store.find_by_index(&idx).await.unwrap().is_empty(),
        "erasure removes index entries"
    );
    assert_eq!(
        store.list_subject(b).await.unwrap().len(),
        1,
        "other subjects untouched"
    );

    // Paging visits each record exactly once.
    let c = SubjectId::new_random();
    let mut ids = Vec::new();
    for _ in 0..25 {
        let r = record(c, "ip_address", None);
        ids.push(r.record);
        store.put(r).await.unwrap();
    }
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store.metadata_page(after, 7).await.unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 7);
        after = page.last().map(|m| m.record);
        seen.extend(
            page.into_iter()
                .filter(|m| m.subject == c)
                .map(|m| m.record),
        );
    }
    seen.sort();
    ids.sort();
    assert_eq!(seen, ids, "paging visits every record once");
    store.delete_subject(c).await.unwrap();
    store.delete_subject(b).await.unwrap();
}

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

/// Append-only really is append-only (stale anchors refused), joint appends are all or
/// none, and concurrent appenders keep each chain valid.
pub async fn chain_store(store: Arc<dyn ChainStore>) {
    let base_ledger = store.anchor(ChainName::Ledger).await.unwrap();
    let base_audit = store.anchor(ChainName::Audit).await.unwrap();
    let a1 = append_one(&*store, ChainName::Ledger, b"given")
        .await
        .unwrap();
    assert_eq!(a1.len, base_ledger.len + 1);
    assert_eq!(
        store.anchor(ChainName::Ledger).await.unwrap(),
        a1,
        "read after write"
    );
    assert_eq!(
        store.anchor(ChainName::Audit).await.unwrap(),
        base_audit,
        "chains are independent"
    );

    // A stale anchor (overwriting entry n) is refused.
    let mut stale = base_ledger;
    let entry = chain::append(&mut stale, b"rewrite history".to_vec());
    let r = store
        .append(vec![ChainAppend {
            chain: ChainName::Ledger,
            expected: base_ledger,
            entry,
        }])
        .await;
    assert!(
        matches!(r, Err(StoreError::Conflict(ChainName::Ledger))),
        "stale append refused: {r:?}"
    );

    // Joint append: both or neither.
    let la = store.anchor(ChainName::Ledger).await.unwrap();
    let aa = store.anchor(ChainName::Audit).await.unwrap();
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
        store.anchor(ChainName::Ledger).await.unwrap(),
        la,
        "…and writes nothing"
    );
    let joint = vec![
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
    ];
    store.append(joint.clone()).await.unwrap();
    assert_eq!(store.anchor(ChainName::Ledger).await.unwrap(), ln);
    assert_eq!(store.anchor(ChainName::Audit).await.unwrap(), an);
    // Sending the same joint append again (a retry after an unknown outcome) succeeds and
    // writes nothing: appends are keyed by (chain, position, hash).
    store
        .append(joint.clone())
        .await
        .expect("an identical retry is idempotent");
    assert_eq!(store.anchor(ChainName::Ledger).await.unwrap(), ln);
    assert_eq!(store.anchor(ChainName::Audit).await.unwrap(), an);

    // Concurrent appenders with retry keep one valid chain and lose nothing.
    let before = store.anchor(ChainName::Audit).await.unwrap().len;
    let mut tasks = Vec::new();
    for t in 0..4_u8 {
        let s = Arc::clone(&store);
        tasks.push(async move {
            for i in 0..10_u8 {
                loop {
                    match append_one(&*s, ChainName::Audit, &[t, i]).await {
                        Ok(_) => break,
                        Err(StoreError::Conflict(_)) => continue,
                        Err(e) => panic!("append failed: {e}"),
                    }
                }
            }
        });
    }
    futures_join_all(tasks).await;
    let entries = store.entries(ChainName::Audit).await.unwrap();
    let anchor = chain::verify(&entries).expect("chain stays valid under concurrent appends");
    assert_eq!(anchor, store.anchor(ChainName::Audit).await.unwrap());
    assert_eq!(anchor.len, before + 40, "no append lost");
    let tail = store.entries_from(ChainName::Audit, before).await.unwrap();
    assert_eq!(tail.len(), 40);
    assert_eq!(
        chain::verify_from(
            Anchor {
                len: before,
                head: entries[usize::try_from(before).unwrap() - 1].hash
            },
            &tail
        )
        .unwrap(),
        anchor
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

/// Key deletion is final; missing keys are errors; rotation may replace a live key.
pub async fn key_store(store: Arc<dyn KeyStore>) {
    let s = SubjectId::new_random();
    assert!(matches!(
        store.get(s).await,
        Err(StoreError::NotFound { .. })
    ));
    store
        .put(s, WrappedKey::from_bytes(vec![1; 60]))
        .await
        .unwrap();
    assert_eq!(store.get(s).await.unwrap().as_bytes(), &[1; 60][..]);
    store
        .put(s, WrappedKey::from_bytes(vec![2; 60]))
        .await
        .unwrap();
    assert_eq!(
        store.get(s).await.unwrap().as_bytes(),
        &[2; 60][..],
        "rotation replaces"
    );
    assert!(store.subjects().await.unwrap().contains(&s));
    store.delete(s).await.unwrap();
    assert_eq!(
        store.get(s).await.unwrap_err(),
        StoreError::Shredded(s),
        "deleted key is gone"
    );
    assert_eq!(
        store
            .put(s, WrappedKey::from_bytes(vec![3; 60]))
            .await
            .unwrap_err(),
        StoreError::Shredded(s),
        "and can never come back"
    );
    assert!(!store.subjects().await.unwrap().contains(&s));
}

/// Versions: a versioned write keeps its version, an identical retry is a no-op, an older
/// or different row at the same version is refused, the legacy `put` bumps the version, and
/// reads by subject and by index return versions.
pub async fn versioned_records(store: Arc<dyn RecordStore>) {
    let s = SubjectId::new_random();
    let idx = [0x5a_u8; 32];
    let row = VersionedRecord {
        sealed: record(s, "email", Some(idx)),
        version: 1,
    };
    let id = row.sealed.record;
    store.put_versioned(row.clone()).await.unwrap();
    let got = store.get_versioned(id).await.unwrap();
    assert_eq!(got.version, 1);
    assert_eq!(
        got.header().created_at.timestamp_micros(),
        row.sealed.created_at.timestamp_micros()
    );
    store
        .put_versioned(row.clone())
        .await
        .expect("an identical retry succeeds (idempotent)");
    let mut other = row.clone();
    other.sealed.ciphertext = vec![7; 9];
    assert_eq!(
        store.put_versioned(other.clone()).await,
        Err(StoreError::StaleVersion { record: id }),
        "another row at the same version is refused"
    );
    let mut v2 = other.clone();
    v2.version = 2;
    store.put_versioned(v2.clone()).await.unwrap();
    assert_eq!(
        store.put_versioned(row.clone()).await,
        Err(StoreError::StaleVersion { record: id }),
        "an older version never replaces a newer one"
    );
    let got = store.get_versioned(id).await.unwrap();
    assert_eq!((got.version, got.sealed.ciphertext), (2, vec![7; 9]));
    store.put(row.sealed.clone()).await.unwrap();
    assert_eq!(
        store.get_versioned(id).await.unwrap().version,
        3,
        "the legacy put bumps the version"
    );
    let by_subject = store.list_subject_versioned(s).await.unwrap();
    assert_eq!(by_subject.len(), 1);
    assert_eq!(by_subject[0].version, 3);
    let by_index = store.find_by_index_versioned(&idx).await.unwrap();
    assert_eq!(by_index.len(), 1);
    assert_eq!(by_index[0].version, 3);
    assert!(matches!(
        store.get_versioned(RecordId::new_random()).await,
        Err(StoreError::NotFound { .. })
    ));
    store.delete_subject(s).await.unwrap();
}

/// Key check values: absent at first, recorded once, never replaced, new KEK ids added.
pub async fn key_check_values(store: Arc<dyn KeyStore>) {
    let first = KeyCheck {
        keks: vec![(1, [1; 16])],
        index: Some([9; 16]),
    };
    let before = store.check_values().await.unwrap();
    assert!(before.is_none(), "no check values before the first build");
    let stored = store.set_check_values_if_absent(&first).await.unwrap();
    assert_eq!(stored, first);
    assert_eq!(store.check_values().await.unwrap(), Some(first.clone()));
    let other = KeyCheck {
        keks: vec![(1, [2; 16]), (2, [3; 16])],
        index: Some([8; 16]),
    };
    let stored = store.set_check_values_if_absent(&other).await.unwrap();
    assert_eq!(
        stored,
        KeyCheck {
            keks: vec![(1, [1; 16]), (2, [3; 16])],
            index: Some([9; 16]),
        },
        "existing values are never replaced, new KEK ids are added"
    );
    assert_eq!(store.check_values().await.unwrap(), Some(stored));
}

/// A witness returns what was published last and refuses a publish that goes backwards.
pub async fn witness(w: Arc<dyn Witness>) {
    assert_eq!(w.latest().await.unwrap(), None);
    let mut a = Anchor::default();
    chain::append(&mut a, b"x".to_vec());
    let heads = ChainHeads {
        ledger: a,
        audit: Anchor::default(),
        keys: None,
    };
    w.publish(&heads).await.unwrap();
    assert_eq!(w.latest().await.unwrap(), Some(heads));
    assert!(matches!(
        w.publish(&ChainHeads::default()).await,
        Err(StoreError::RolledBack { .. })
    ));
    assert_eq!(w.latest().await.unwrap(), Some(heads));
}

/// Runs every contract.
pub async fn run_all(
    records: Arc<dyn RecordStore>,
    chains: Arc<dyn ChainStore>,
    keys: Arc<dyn KeyStore>,
) {
    record_store(records.clone()).await;
    versioned_records(records).await;
    chain_store(chains).await;
    key_store(keys.clone()).await;
    key_check_values(keys).await;
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
