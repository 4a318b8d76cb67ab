//! Issue 16: wrapped keys kept in another schema than the data. A custodian takes its
//! records and chains from one `PostgresStore` and its keys from another: a dump of the data
//! schema holds no wrapped key, every operation works, erasure reaches the key schema, and a
//! second process with the same two stores sees the same state.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

mod common;

use std::sync::Arc;

use crm_privacy::custodian::Custodian;
use crm_privacy::{Email, Notification};

async fn custodian(
    data: &crm_privacy_postgres::PostgresStore,
    keys: &crm_privacy_postgres::PostgresStore,
) -> Custodian {
    Custodian::builder(common::keyring())
        .records(Arc::new(data.clone()))
        .chains(Arc::new(data.clone()))
        .keys(Arc::new(keys.clone()))
        .token_key(
            crm_privacy::TokenKey::from_secret(1, &crm_privacy::crypto::test_secret(106)).unwrap(),
        )
        .build()
        .await
        .unwrap()
}

async fn count(schema: &str, table: &str) -> i64 {
    let mut conn = sqlx::PgConnection::connect(&common::url()).await.unwrap();
    sqlx::query_scalar::<_, i64>(&format!("SELECT count(*) FROM {schema}.{table}"))
        .fetch_one(&mut conn)
        .await
        .unwrap()
}

use sqlx::Connection;

#[tokio::test]
async fn keys_in_another_schema_than_the_data() {
    let (data_schema, key_schema) = (common::fresh_schema(), common::fresh_schema());
    let Some(data) = common::connect(&data_schema, 2).await else {
        return;
    };
    let Some(keys) = common::connect(&key_schema, 2).await else {
        return;
    };
    let c = custodian(&data, &keys).await;
    let alice = c.register_subject().await.unwrap();
    let rec = c
        .store(alice, Email::parse("apart@example.com").unwrap())
        .await
        .unwrap();
    let g = c.grant::<Notification>(alice, "mailer").await.unwrap();
    let read = c
        .with::<Email, _, _>(&g, rec, |e| e.as_str().to_owned())
        .await
        .unwrap();
    assert_eq!(read, "apart@example.com");
    // The data schema holds no wrapped key; the key schema holds Alice's.
    assert_eq!(count(&data_schema, "crm_data_keys").await, 0);
    assert_eq!(count(&key_schema, "crm_data_keys").await, 1);
    // Another process on the same two stores sees the same deployment.
    let peer = custodian(&data, &keys).await;
    let g2 = peer.grant::<Notification>(alice, "mailer").await.unwrap();
    assert!(peer.with::<Email, _, _>(&g2, rec, |_| ()).await.is_ok());
    // Erasure destroys the key in the key schema; neither process reads again.
    c.erase(alice).await.unwrap();
    assert!(peer.with::<Email, _, _>(&g2, rec, |_| ()).await.is_err());
    let rebuilt = custodian(&data, &keys).await;
    assert!(
        rebuilt
            .grant::<Notification>(alice, "mailer")
            .await
            .is_err()
    );
}
