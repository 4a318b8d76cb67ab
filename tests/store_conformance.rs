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

/// Rows serialize like `ChainEntry` (a host backend may store or ship them as JSON).
#[test]
fn sealed_rows_round_trip_through_serde() {
    use crm_privacy::chrono::Utc;
    use crm_privacy::store::{RecordMeta, SealedRecord, VersionedRecord};
    use crm_privacy::{RecordId, SubjectId};
    let now = Utc::now();
    let sealed = SealedRecord {
        record: RecordId::new_random(),
        subject: SubjectId::new_random(),
        kind: "email".into(),
        ciphertext: vec![1, 2, 3],
        blind_index: Some([7; 32]),
        index_version: 1,
        created_at: now,
        updated_at: now,
    };
    let json = serde_json::to_string(&sealed).unwrap();
    assert_eq!(serde_json::from_str::<SealedRecord>(&json).unwrap(), sealed);
    let versioned = VersionedRecord {
        sealed: sealed.clone(),
        version: 3,
    };
    let json = serde_json::to_string(&versioned).unwrap();
    assert_eq!(
        serde_json::from_str::<VersionedRecord>(&json).unwrap(),
        versioned
    );
    let meta = RecordMeta {
        record: sealed.record,
        subject: sealed.subject,
        kind: sealed.kind,
        created_at: now,
        updated_at: now,
    };
    let json = serde_json::to_string(&meta).unwrap();
    assert_eq!(serde_json::from_str::<RecordMeta>(&json).unwrap(), meta);
}
