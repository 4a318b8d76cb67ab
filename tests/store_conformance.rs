#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]
//! The conformance suite on the in-memory stores.

use std::sync::Arc;

use crm_privacy::store::{InMemoryChainStore, InMemoryKeyStore, InMemoryRecordStore, conformance};

#[tokio::test]
async fn in_memory_stores_conform() {
    conformance::run_all(
        Arc::new(InMemoryRecordStore::new()),
        Arc::new(InMemoryChainStore::new()),
        Arc::new(InMemoryKeyStore::new()),
    )
    .await;
}
