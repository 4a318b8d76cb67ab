#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]
//! PostgreSQL faults at the store level: concurrent schema creation, terminated backends
//! give typed errors only, and retries after an unknown outcome never duplicate.
//! `CRM_FAULT_LONG=1` (`scripts/fault-long.sh`) repeats and lengthens them.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use crm_privacy::chain::{self, ChainEntry};
use crm_privacy::store::{
    ChainAppend, ChainName, ChainStore, KeyStore, RecordStore, SealedRecord, StoreError,
    VersionedRecord,
};
use crm_privacy::{RecordId, SubjectId};
use crm_privacy_postgres::PostgresStore;

fn long_mode() -> bool {
    std::env::var("CRM_FAULT_LONG").is_ok_and(|v| v == "1")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_creating_one_schema_at_once_both_succeed() {
    let probe = common::fresh_schema();
    let Some(first) = common::connect(&probe, 1).await else {
        return;
    };
    first.drop_schema(&probe).await.unwrap();
    let rounds = if long_mode() { 40 } else { 8 };
    for round in 0..rounds {
        let schema = common::fresh_schema();
        let url = common::url();
        let (a, b) = tokio::join!(
            PostgresStore::connect(&url, Some(&schema), 2),
            PostgresStore::connect(&url, Some(&schema), 2),
        );
        let (a, b) = (
            a.unwrap_or_else(|e| panic!("round {round}: first connect: {e:?}")),
            b.unwrap_or_else(|e| panic!("round {round}: second connect: {e:?}")),
        );
        // One schema, migrated once: both see the same anchors.
        assert_eq!(
            a.anchor(ChainName::Ledger).await.unwrap(),
            b.anchor(ChainName::Ledger).await.unwrap()
        );
        let versions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM crm_schema_version")
            .fetch_one(a.pool())
            .await
            .unwrap();
        assert_eq!(
            versions, 4,
            "round {round}: each of the four migrations recorded once"
        );
        a.drop_schema(&schema).await.unwrap();
    }
}

fn typed(e: &StoreError) -> bool {
    matches!(
        e,
        StoreError::Unavailable { .. } | StoreError::OutcomeUnknown { .. }
    )
}

/// Terminates every non-idle backend of the schema's application name until `stop`.
fn killer(
    admin: PostgresStore,
    schema: &str,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<u64> {
    let app_name: String = format!("crm-privacy:{schema}").chars().take(63).collect();
    tokio::spawn(async move {
        let mut killed = 0_u64;
        while !stop.load(Ordering::SeqCst) {
            let r: Result<Vec<bool>, _> = sqlx::query_scalar(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                 WHERE application_name = $1 AND pid <> pg_backend_pid()
                   AND datname = current_database() AND state <> 'idle'",
            )
            .bind(&app_name)
            .fetch_all(admin.pool())
            .await;
            killed += r
                .map(|v| v.iter().filter(|b| **b).count() as u64)
                .unwrap_or(0);
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        killed
    })
}

/// Retries `f` while the error is retryable or the outcome unknown (the store's writes are
/// idempotent). Returns the errors seen on the way.
async fn until_done<F, Fut, T>(mut f: F, errors: &mut Vec<StoreError>) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, StoreError>>,
{
    loop {
        match f().await {
            Ok(v) => return Ok(v),
            Err(e) if typed(&e) => errors.push(e),
            Err(e) => return Err(e),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminated_backends_give_typed_errors_and_retries_never_duplicate() {
    let schema = common::fresh_schema();
    let Some(store) = common::connect(&schema, 2).await else {
        return;
    };
    let admin = common::connect(&schema, 1).await.unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let k = killer(admin, &schema, stop.clone());
    let subject = SubjectId::new_random();
    let mut errors = Vec::new();
    let mut acked_entries: Vec<ChainEntry> = Vec::new();
    let mut acked_rows: Vec<VersionedRecord> = Vec::new();
    let secs = if long_mode() { 30 } else { 4 };
    let end = Instant::now() + Duration::from_secs(secs);
    let mut n = 0_u64;
    while Instant::now() < end {
        n += 1;
        // A record written at version 1 then 2, each retried until it lands.
        let mut row = VersionedRecord {
            sealed: SealedRecord {
                record: RecordId::new_random(),
                subject,
                kind: "note".into(),
                ciphertext: n.to_be_bytes().to_vec(),
                blind_index: None,
                index_version: 1,
                created_at: Utc::now(),
                updated_at: Utc::now(),
            },
            version: 1,
        };
        let s = &store;
        let r = row.clone();
        until_done(|| s.put_versioned(r.clone()), &mut errors)
            .await
            .unwrap();
        row.version = 2;
        row.sealed.ciphertext.push(2);
        let r = row.clone();
        until_done(|| s.put_versioned(r.clone()), &mut errors)
            .await
            .unwrap();
        acked_rows.push(row);
        // A chain entry built by the caller, sent again after an unknown outcome: lands once.
        let entry = loop {
            let expected = match store.anchor(ChainName::Audit).await {
                Ok(a) => a,
                Err(e) => {
                    assert!(typed(&e), "untyped: {e:?}");
                    errors.push(e);
                    continue;
                }
            };
            let mut next = expected;
            let entry = chain::append(&mut next, format!("event {n}").into_bytes());
            let append = vec![ChainAppend {
                chain: ChainName::Audit,
                expected,
                entry: entry.clone(),
            }];
            match until_done(|| s.append(append.clone()), &mut errors).await {
                Ok(()) => break entry,
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => panic!("untyped: {e:?}"),
            }
        };
        acked_entries.push(entry);
        // Key writes are upserts: a retry is harmless.
        let key = crm_privacy::crypto::WrappedKey::from_bytes(vec![1; 60]);
        until_done(|| KeyStore::put(s, subject, key.clone()), &mut errors)
            .await
            .unwrap();
    }
    stop.store(true, Ordering::SeqCst);
    let killed = k.await.unwrap();
    let fresh = common::connect(&schema, 1).await.unwrap();
    let entries = fresh.entries(ChainName::Audit).await.unwrap();
    let anchor = fresh.anchor(ChainName::Audit).await.unwrap();
    chain::verify_anchored(&entries, &anchor).unwrap();
    for e in &acked_entries {
        assert_eq!(
            entries.iter().filter(|x| x.body == e.body).count(),
            1,
            "acknowledged entry {} present exactly once",
            e.seq
        );
    }
    assert_eq!(entries.len(), acked_entries.len(), "no entry written twice");
    for r in &acked_rows {
        let got = fresh.get_versioned(r.sealed.record).await.unwrap();
        assert_eq!(
            (got.version, &got.sealed.ciphertext),
            (2, &r.sealed.ciphertext)
        );
    }
    let unknown = errors
        .iter()
        .filter(|e| matches!(e, StoreError::OutcomeUnknown { .. }))
        .count();
    eprintln!(
        "{killed} backends terminated, {} writes acknowledged, {} typed errors ({unknown} outcome unknown), 0 untyped, 0 duplicates",
        acked_rows.len() + acked_entries.len(),
        errors.len()
    );
    assert!(killed > 0, "the fault injector never hit a statement");
    assert!(errors.iter().all(typed));
    fresh.drop_schema(&schema).await.unwrap();
}
