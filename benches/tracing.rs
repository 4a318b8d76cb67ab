//! What the `tracing` feature costs a read (`Custodian::with` on the in-memory stores, the
//! audit write included): with no subscriber installed (the default for a host that does not
//! use tracing: each span is one disabled-callsite check) against the same read under a
//! subscriber that records every span at INFO and above (a host that turned tracing on),
//! in one run.
//!
//! `cargo bench --bench tracing -- --warm-up-time 1 --measurement-time 3`
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "benchmark"
)]

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use crm_privacy::crypto::{Kek, Keyring};
use crm_privacy::custodian::Custodian;
use crm_privacy::store::{InMemoryChainStore, InMemoryKeyStore, InMemoryRecordStore};
use crm_privacy::{Email, Notification};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt as _;

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let (custodian, grant, record) = rt.block_on(async {
        let c = Custodian::builder(
            Keyring::new(
                Kek::from_bytes(1, &crm_privacy::crypto::test_secret(3)).unwrap(),
                &crm_privacy::crypto::test_secret(9),
            )
            .unwrap(),
        )
        .records(Arc::new(InMemoryRecordStore::new()))
        .chains(Arc::new(InMemoryChainStore::new()))
        .keys(Arc::new(InMemoryKeyStore::new()))
        .build()
        .await
        .unwrap();
        let s = c.register_subject().await.unwrap();
        let r = c
            .store(s, Email::parse("a@example.com").unwrap())
            .await
            .unwrap();
        let g = c.grant::<Notification>(s, "mailer").await.unwrap();
        (c, g, r)
    });
    let read = || {
        rt.block_on(custodian.with(&grant, record, |e: &Email| e.domain().len()))
            .unwrap()
    };
    let mut g = c.benchmark_group("tracing/with");
    g.bench_function("no_subscriber", |b| b.iter(|| black_box(read())));
    let subscriber = tracing_subscriber::registry().with(LevelFilter::INFO);
    tracing::subscriber::with_default(subscriber, || {
        g.bench_function("registry_at_info", |b| b.iter(|| black_box(read())));
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
