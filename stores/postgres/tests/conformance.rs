#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]
//! The conformance suite on PostgreSQL, one test per property, each in a fresh schema
//! (dropped when the test ends). Skipped with a message when no server is reachable,
//! except under `CI=true`.

mod common;

use std::sync::Arc;

use crm_privacy_postgres::PostgresStore;

/// Drops the test's schema when the test ends (on a blocking helper thread, since `Drop`
/// cannot await).
struct DropSchema(PostgresStore, String);

impl Drop for DropSchema {
    fn drop(&mut self) {
        let (store, schema) = (self.0.clone(), self.1.clone());
        let handle = tokio::runtime::Handle::current();
        let _ = std::thread::spawn(move || {
            handle.block_on(async move {
                let _ = store.drop_schema(&schema).await;
            })
        })
        .join();
    }
}

async fn fresh() -> Option<(Arc<PostgresStore>, DropSchema)> {
    let schema = common::fresh_schema();
    let store = common::connect(&schema, 8).await?;
    Some((Arc::new(store.clone()), DropSchema(store, schema)))
}

crm_privacy::conformance_tests!(fresh().await);
