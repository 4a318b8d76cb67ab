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

/// Outside a tokio runtime (here: polled by hand on a plain thread) `connect` is a typed
/// error, not a panic inside sqlx.
#[test]
fn connect_outside_a_tokio_runtime_is_a_typed_error() {
    let url = common::url();
    let mut fut = std::pin::pin!(PostgresStore::connect(&url, None, 1));
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match fut.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(Err(crm_privacy::store::StoreError::Backend(why))) => {
            assert!(why.contains("tokio runtime"), "{why}");
        }
        other => panic!("expected a typed error at once, got {other:?}"),
    }
}
