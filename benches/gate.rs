//! The complete gate in memory (issue 13): authority, expiry by the custodian's clock,
//! revocation, erasure, restriction, consent in force, the kind's collection consent and
//! the sharing choice — `Custodian::decide`, the decision every data path runs — against a
//! hand-written baseline of the same lookups (one `RwLock` read of a hash set per fact),
//! in one run. Cedar's prebuilt request is measured in `peers/` (same machine).
//!
//! `cargo bench --bench gate -- --warm-up-time 1 --measurement-time 3`
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "benchmark"
)]

use std::hint::black_box;
use std::sync::{Arc, RwLock};

use chrono::{TimeDelta, TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use crm_privacy::consent::{CollectionMethod, ConsentScope};
use crm_privacy::crypto::Keyring;
use crm_privacy::custodian::Custodian;
use crm_privacy::sharing::{Audience, SharingPolicy};
use crm_privacy::store::{
    InMemoryAuthenticator, InMemoryChainStore, InMemoryKeyStore, InMemoryRecordStore,
};
use crm_privacy::{
    Authentication, Category, ChatSharing, ManualClock, Notification, SessionClaims, SessionId,
    SubjectId,
};
use rustc_hash::FxHashSet;

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let t0 = Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap();
    let clock = Arc::new(ManualClock::new(t0));
    let auth = Arc::new(InMemoryAuthenticator::new());
    let (custodian, notify, signin, chat) = rt.block_on(async {
        let c = Custodian::builder(Keyring::generate().unwrap())
            .records(Arc::new(InMemoryRecordStore::new()))
            .chains(Arc::new(InMemoryChainStore::new()))
            .keys(Arc::new(InMemoryKeyStore::new()))
            .clock(clock.clone())
            .authenticator(auth.clone())
            .build()
            .await
            .unwrap();
        let alice = c.register_subject().await.unwrap();
        auth.insert(
            "cred",
            SessionClaims {
                subject: alice,
                session: SessionId::new_random(),
                authenticated_at: t0,
                expires_at: t0 + TimeDelta::hours(1),
            },
        );
        let s = c.authenticate("cred").await.unwrap();
        c.give_consent(
            &s,
            ConsentScope::GoogleLink,
            CollectionMethod::UiAction,
            None,
        )
        .await
        .unwrap();
        let owner = c.grant_owner(&s).await.unwrap();
        let mut p = SharingPolicy::new();
        p.allow(Audience::ExternalChat, Category::Phone).unwrap();
        c.set_sharing(&owner, p).await.unwrap();
        let notify = c.grant::<Notification>(alice, "mailer").await.unwrap();
        let signin = c.grant::<Authentication>(alice, "signin").await.unwrap();
        let chat = c.grant::<ChatSharing>(alice, "chat").await.unwrap();
        (c, notify, signin, chat)
    });
    let mut g = c.benchmark_group("gate");
    g.bench_function("decide_fast_path_email_notification", |b| {
        b.iter(|| {
            custodian
                .decide(black_box(&notify), Category::Email)
                .unwrap()
        });
    });
    g.bench_function("decide_fast_path_google_id_authentication", |b| {
        b.iter(|| {
            custodian
                .decide(black_box(&signin), Category::GoogleAccountId)
                .unwrap()
        });
    });
    g.bench_function("decide_fast_path_phone_chat_sharing", |b| {
        b.iter(|| custodian.decide(black_box(&chat), Category::Phone).unwrap());
    });
    // Something changed since issue (another subject restricted): every fact is looked up.
    rt.block_on(async {
        let bob = custodian.register_subject().await.unwrap();
        custodian.restrict(bob).await.unwrap();
    });
    g.bench_function("decide_slow_path_google_id_authentication", |b| {
        b.iter(|| {
            custodian
                .decide(black_box(&signin), Category::GoogleAccountId)
                .unwrap()
        });
    });
    g.bench_function("decide_slow_path_phone_chat_sharing", |b| {
        b.iter(|| custodian.decide(black_box(&chat), Category::Phone).unwrap());
    });
    // Baseline: the same five facts checked by hand, one RwLock read and one hash probe each.
    let facts: Vec<RwLock<FxHashSet<SubjectId>>> = (0..5)
        .map(|_| RwLock::new((0..1000).map(|_| SubjectId::new_random()).collect()))
        .collect();
    let who = notify.subject();
    g.bench_function("baseline_five_locked_set_probes", |b| {
        b.iter(|| {
            let mut n = 0;
            for f in &facts {
                n += usize::from(f.read().unwrap().contains(black_box(&who)));
            }
            black_box(n)
        });
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
