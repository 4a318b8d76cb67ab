#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]
//! Issue 18 on PostgreSQL: the new `ChainStore` contracts (checkpoints, pruning, paging,
//! group-committed appends), and concurrent audited reads from two "processes" (two pools
//! on one schema) that keep one verified chain with an audit entry per returned read, with
//! a build that starts from the checkpoint.

mod common;

use std::sync::Arc;

use chrono::TimeDelta;
use crm_privacy::crypto::{Kek, Keyring};
use crm_privacy::custodian::Custodian;
use crm_privacy::ledger::AuditKind;
use crm_privacy::store::{ChainName, ChainStore, conformance};
use crm_privacy::{Email, Notification, TokenKey};
use crm_privacy_postgres::PostgresStore;

async fn custodian(store: &PostgresStore) -> Custodian {
    Custodian::builder(
        Keyring::new(
            Kek::from_bytes(1, &crm_privacy::crypto::test_secret(3)).unwrap(),
            &crm_privacy::crypto::test_secret(9),
        )
        .unwrap(),
    )
    .store(Arc::new(store.clone()))
    .token_key(TokenKey::from_secret(1, &crm_privacy::crypto::test_secret(105)).unwrap())
    .grant_ttl(TimeDelta::hours(1))
    .build()
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_checkpoints_and_group_commit_conform() {
    let schema = common::fresh_schema();
    let Some(store) = common::connect(&schema, 8).await else {
        return;
    };
    let s = Arc::new(store.clone());
    conformance::chain_checkpoints(s.clone()).await;
    conformance::concurrent_append_bodies(s).await;
    store.drop_schema(&schema).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_audited_reads_keep_one_chain_and_an_entry_per_read() {
    const CLIENTS: usize = 8;
    const READS: usize = 10;
    let schema = common::fresh_schema();
    let (Some(a), Some(b)) = (
        common::connect(&schema, 8).await,
        common::connect(&schema, 8).await,
    ) else {
        return;
    };
    let (ca, cb) = (custodian(&a).await, custodian(&b).await);
    let before = ca.audit_events().await.unwrap().len();
    let mut tasks = Vec::new();
    for i in 0..CLIENTS {
        let c = if i % 2 == 0 { ca.clone() } else { cb.clone() };
        let s = c.register_subject().await.unwrap();
        let r = c
            .store(s, Email::parse("pg@example.com").unwrap())
            .await
            .unwrap();
        let g = c.grant::<Notification>(s, "mailer").await.unwrap();
        tasks.push(tokio::spawn(async move {
            for _ in 0..READS {
                c.with::<Email, _, _>(&g, r, |e| e.as_str().len())
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    ca.verify_chains().await.unwrap();
    let exposed = ca
        .audit_events()
        .await
        .unwrap()
        .iter()
        .skip(before)
        .filter(|e| e.kind == AuditKind::Exposed)
        .count();
    assert_eq!(exposed, CLIENTS * READS);
    // A new build leaves a checkpoint at the head and starts from it next time.
    let c = custodian(&a).await;
    let cp = a.checkpoint(ChainName::Audit).await.unwrap().unwrap();
    assert_eq!(cp.entries, a.anchor(ChainName::Audit).await.unwrap().len);
    assert_eq!(c.prune_audit(TimeDelta::zero()).await.unwrap(), cp.seq);
    custodian(&b).await.verify_chains().await.unwrap();
    a.drop_schema(&schema).await.unwrap();
}
