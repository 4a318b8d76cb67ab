#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]
//! Issue 18, group commit on SQLite, from outside the crate: concurrent readers in two
//! "processes" (two stores with their own connections on one file) keep one correct chain
//! with an audit entry per returned read; a failing commit fails every read of the group
//! with a typed error and hands out no data.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::TimeDelta;
use crm_privacy::crypto::{Kek, Keyring};
use crm_privacy::custodian::{Custodian, CustodianError};
use crm_privacy::ledger::AuditKind;
use crm_privacy::store::StoreError;
use crm_privacy::{Email, Grant, Notification, RecordId, TokenKey};
use crm_privacy_sqlite::SqliteStore;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

async fn process(path: &std::path::Path) -> Custodian {
    Custodian::builder(
        Keyring::new(
            Kek::from_bytes(1, &crm_privacy::crypto::test_secret(3)).unwrap(),
            &crm_privacy::crypto::test_secret(9),
        )
        .unwrap(),
    )
    .store(Arc::new(SqliteStore::open(path).unwrap()))
    .token_key(TokenKey::from_secret(1, &crm_privacy::crypto::test_secret(105)).unwrap())
    .grant_ttl(TimeDelta::hours(1))
    .build()
    .await
    .unwrap()
}

async fn readers(c: &Custodian, n: usize) -> Vec<(RecordId, Grant<Notification>)> {
    let mut v = Vec::new();
    for _ in 0..n {
        let s = c.register_subject().await.unwrap();
        let r = c
            .store(s, Email::parse("reader@example.com").unwrap())
            .await
            .unwrap();
        v.push((r, c.grant::<Notification>(s, "mailer").await.unwrap()));
    }
    v
}

fn exposed(c: &Custodian) -> usize {
    rt().block_on(c.audit_events())
        .unwrap()
        .iter()
        .filter(|e| e.kind == AuditKind::Exposed)
        .count()
}

#[test]
fn concurrent_reads_in_two_processes_keep_one_chain_and_an_entry_per_read() {
    const THREADS: usize = 8;
    const READS: usize = 20;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crm.db");
    let (a, b) = rt().block_on(async { (process(&path).await, process(&path).await) });
    let ra = rt().block_on(readers(&a, THREADS));
    let rb = rt().block_on(readers(&b, THREADS));
    let before = exposed(&a);
    let returned = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for (c, rs) in [(&a, &ra), (&b, &rb)] {
            for (record, grant) in rs {
                let returned = &returned;
                s.spawn(move || {
                    let rt = rt();
                    for _ in 0..READS {
                        let n = rt
                            .block_on(c.with::<Email, _, _>(grant, *record, |e| e.as_str().len()))
                            .unwrap();
                        assert_eq!(n, "reader@example.com".len());
                        returned.fetch_add(1, Ordering::SeqCst);
                    }
                });
            }
        }
    });
    let returned = returned.load(Ordering::SeqCst);
    assert_eq!(returned, 2 * THREADS * READS);
    // Both chains verify end to end (order and links intact under concurrency), and every
    // returned read has its audit entry.
    rt().block_on(a.verify_chains()).unwrap();
    rt().block_on(process(&path)); // a fresh build verifies too
    assert_eq!(exposed(&a) - before, returned);
}

#[test]
fn a_failed_group_commit_fails_every_read_of_the_group_and_returns_no_data() {
    const THREADS: usize = 8;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crm.db");
    let c = rt().block_on(process(&path));
    let rs = rt().block_on(readers(&c, THREADS));
    let before = exposed(&c);
    // Every chain insert now fails inside the group's transaction.
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute_batch(
        "CREATE TRIGGER injected_failure BEFORE INSERT ON chain_entries
         BEGIN SELECT RAISE(ABORT, 'injected'); END;",
    )
    .unwrap();
    let handed_out = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for (record, grant) in &rs {
            let (c, handed_out) = (&c, &handed_out);
            s.spawn(move || {
                let r = rt().block_on(c.with::<Email, _, _>(grant, *record, |e| {
                    handed_out.fetch_add(1, Ordering::SeqCst);
                    e.as_str().len()
                }));
                match r {
                    Err(CustodianError::Store(e)) => assert!(
                        !matches!(e, StoreError::NotFound { .. }),
                        "unexpected store error {e:?}"
                    ),
                    other => panic!("a read without its audit record: {other:?}"),
                }
            });
        }
    });
    assert_eq!(handed_out.load(Ordering::SeqCst), 0, "data handed out");
    raw.execute_batch("DROP TRIGGER injected_failure").unwrap();
    assert_eq!(exposed(&c), before, "a failed group left audit entries");
    // The store recovers: the next reads commit and return.
    let (record, grant) = &rs[0];
    rt().block_on(c.with::<Email, _, _>(grant, *record, |_| ()))
        .unwrap();
    assert_eq!(exposed(&c), before + 1);
    rt().block_on(c.verify_chains()).unwrap();
}
