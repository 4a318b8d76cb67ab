#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]
//! The conformance suite on the in-memory stores: one test per property (from the
//! `conformance_tests!` macro a host uses for its own store), and the whole suite in turn on
//! one set of stores.

use std::sync::Arc;

use crm_privacy::store::conformance::{self, Stores};
use crm_privacy::store::{InMemoryChainStore, InMemoryKeyStore, InMemoryRecordStore};

fn in_memory() -> Stores {
    Stores {
        records: Arc::new(InMemoryRecordStore::new()),
        chains: Arc::new(InMemoryChainStore::new()),
        keys: Arc::new(InMemoryKeyStore::new()),
    }
}

crm_privacy::conformance_tests!(in_memory());

#[tokio::test]
async fn every_property_in_turn_on_one_set_of_stores() {
    let s = in_memory();
    conformance::run_all(s.records, s.chains, s.keys).await;
}
