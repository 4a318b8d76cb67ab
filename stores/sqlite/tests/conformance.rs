#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]
//! The conformance suite on SQLite: one test per property, each on a fresh database file
//! (the temporary directory is the fixture's guard), and the whole suite in turn on one file,
//! which is then reopened.

use std::sync::Arc;

use crm_privacy::store::conformance;
use crm_privacy::store::{ChainName, ChainStore};
use crm_privacy_sqlite::SqliteStore;

fn fresh() -> (Arc<SqliteStore>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path().join("crm.db")).unwrap());
    (store, dir)
}

crm_privacy::conformance_tests!(fresh());

#[tokio::test]
async fn whole_suite_on_one_file_then_reopen() {
    let (store, dir) = fresh();
    conformance::run_all(store.clone(), store.clone(), store).await;
    // Reopening runs no migration twice and keeps the data.
    let again = SqliteStore::open(dir.path().join("crm.db")).unwrap();
    assert!(
        again.anchor(ChainName::Audit).await.unwrap().len >= 40,
        "reopening keeps the chains"
    );
}

/// Issue 18: checkpoints, pruning, paging and group-committed appends.
#[tokio::test]
async fn sqlite_checkpoints_and_group_commit_conform() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path().join("crm.db")).unwrap());
    conformance::chain_checkpoints(store.clone()).await;
    conformance::concurrent_append_bodies(store).await;
}
