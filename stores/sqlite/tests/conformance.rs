#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]
//! The conformance suite on SQLite.

use std::sync::Arc;

use crm_privacy::store::conformance;
use crm_privacy_sqlite::SqliteStore;

#[tokio::test]
async fn sqlite_store_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path().join("crm.db")).unwrap());
    conformance::run_all(store.clone(), store.clone(), store).await;
    // Reopening runs no migration twice and keeps the data.
    let again = SqliteStore::open(dir.path().join("crm.db")).unwrap();
    use crm_privacy::store::{ChainName, ChainStore};
    assert!(again.anchor(ChainName::Audit).await.unwrap().len >= 40);
}

/// Issue 18: checkpoints, pruning, paging and group-committed appends.
#[tokio::test]
async fn sqlite_checkpoints_and_group_commit_conform() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path().join("crm.db")).unwrap());
    conformance::chain_checkpoints(store.clone()).await;
    conformance::concurrent_append_bodies(store).await;
}
