#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]
//! Issue 16, blind-index key rotation on the embedded store: a data file of the schema
//! before index versions (its rows count as version 1) is migrated, rotated, killed midway
//! through the re-index (the store closed between calls, as a process exit leaves it),
//! resumed, and finally opened with the new key alone.

use std::path::Path;
use std::sync::Arc;

use crm_privacy::crypto::{CryptoError, IndexKey, Kek, Keyring, test_secret};
use crm_privacy::custodian::{Custodian, CustodianError};
use crm_privacy::store::{KeyStore, RecordStore};
use crm_privacy::{Category, Email, Notification, SubjectId};
use crm_privacy_sqlite::SqliteStore;

const OLD: u8 = 20;
const NEW: u8 = 21;

async fn open(
    path: &Path,
    current: u8,
    previous: Option<u8>,
) -> (Arc<SqliteStore>, Result<Custodian, CustodianError>) {
    let store = Arc::new(SqliteStore::open(path).unwrap());
    let mut kr = Keyring::new(
        Kek::from_bytes(1, &test_secret(3)).unwrap(),
        &test_secret(current),
    )
    .unwrap();
    if let Some(p) = previous {
        kr = kr.with_previous_index(IndexKey::from_bytes(&test_secret(p)).unwrap());
    }
    let c = Custodian::builder(kr).store(store.clone()).build().await;
    (store, c)
}

fn email(i: usize) -> Email {
    Email::parse(&format!("user{i}@example.org")).unwrap()
}

async fn assert_all_found(c: &Custodian, subjects: &[SubjectId]) {
    let g = c.grant_lookup::<Notification>("recovery").await.unwrap();
    for (i, s) in subjects.iter().enumerate() {
        assert_eq!(
            c.find_by_email(&g, &email(i)).await.unwrap(),
            vec![*s],
            "subject {i}"
        );
    }
}

/// Takes the data file back to schema 3 (no `index_version` column), as a file written
/// before issue 16's last part.
fn downgrade_to_schema_3(path: &Path) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(
        "DROP INDEX records_index_version;
         ALTER TABLE records DROP COLUMN index_version;
         DELETE FROM schema_version WHERE version = 4;",
    )
    .unwrap();
}

#[tokio::test]
async fn rotation_on_sqlite_migrates_resumes_and_retires_the_old_secret() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crm.db");
    let subjects = {
        let (_, c) = open(&path, OLD, None).await;
        let c = c.unwrap();
        let mut out = Vec::new();
        for i in 0..10 {
            let s = c.register_subject().await.unwrap();
            c.store(s, email(i)).await.unwrap();
            out.push(s);
        }
        c.restrict(out[0]).await.unwrap();
        c.lift_restriction(out[0]).await.unwrap();
        out
    };
    downgrade_to_schema_3(&path);

    // Migration 4: the old rows count as version 1; the rotation starts.
    {
        let (store, c) = open(&path, NEW, Some(OLD)).await;
        let c = c.unwrap();
        assert_eq!(store.count_indexed_below(2).await.unwrap(), 10);
        assert_all_found(&c, &subjects).await;
        let step = c.reindex_step(4).await.unwrap();
        assert_eq!((step.reindexed, step.remaining), (4, 6));
        assert_all_found(&c, &subjects).await;
        // The new version's check value is recorded, beside the first one.
        let checks = store.check_values().await.unwrap().unwrap();
        assert_eq!(checks.index_rotations.len(), 1);
        assert_eq!(checks.index_rotations[0].0, 2);
        assert!(checks.index.is_some());
    } // killed here: the store closes with six rows still under version 1

    // The new key alone is refused while rows remain under the old one.
    {
        let (_, c) = open(&path, NEW, None).await;
        assert!(matches!(
            c,
            Err(CustodianError::IndexRotationUnfinished { remaining: 6 })
        ));
    }
    // Resumed by another process: only the rest is re-indexed.
    {
        let (_, c) = open(&path, NEW, Some(OLD)).await;
        let report = c.unwrap().finish_index_rotation().await.unwrap();
        assert_eq!((report.reindexed, report.remaining), (6, 0));
        assert!(report.finished);
    }
    // The new key alone: everything found; the old secret finds nothing in the file and
    // cannot be configured again.
    {
        let (store, c) = open(&path, NEW, None).await;
        let c = c.unwrap();
        assert_all_found(&c, &subjects).await;
        c.verify_chains().await.unwrap();
        let old = IndexKey::from_bytes(&test_secret(OLD)).unwrap();
        for i in 0..subjects.len() {
            let idx = old.blind_index(Category::Email, &email(i).lookup_key());
            assert!(store.find_by_index(&idx).await.unwrap().is_empty());
        }
        assert_eq!(store.count_indexed_below(2).await.unwrap(), 0);
    }
    let (_, c) = open(&path, OLD, None).await;
    assert!(matches!(
        c,
        Err(CustodianError::Crypto(CryptoError::WrongIndexSecret))
    ));
}
