//! Core costs against their raw primitives, in one run:
//! - reading an in-memory `Personal` value through the custodian's gate
//!   (`Custodian::expose`: catch-up with the ledger, authority, expiry, revocation, consent,
//!   restriction and erasure checks, and one audit-chain entry per read) vs a raw `secrecy`
//!   read, both driven through the same `block_on`. The old ≤ 1.1× + 50 ns target was set
//!   for the standalone, unaudited `Personal::expose`, which no longer exists: every read now
//!   writes an audit entry, so this pair measures what the audited gate costs;
//! - signed token open (`Custodian::open_grant`, which also runs the gate) vs raw ring
//!   HMAC-SHA256 verify over the same bytes (target ≤ 1.2× for the token work).
//!
//! `cargo bench --bench core`
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "benchmark"
)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use criterion::{Criterion, criterion_group, criterion_main};
use crm_privacy::crypto::Keyring;
use crm_privacy::custodian::Custodian;
use crm_privacy::store::{InMemoryChainStore, InMemoryKeyStore, InMemoryRecordStore};
use crm_privacy::{Email, Notification, Personal, TokenKey};
use ring::hmac;
use secrecy::{ExposeSecret, SecretString};
use tokio::runtime::Runtime;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

fn custodian(rt: &Runtime, token_key: TokenKey) -> Custodian {
    rt.block_on(
        Custodian::builder(Keyring::generate().unwrap())
            .records(Arc::new(InMemoryRecordStore::new()))
            .chains(Arc::new(InMemoryChainStore::new()))
            .keys(Arc::new(InMemoryKeyStore::new()))
            .token_key(token_key)
            .grant_ttl(chrono::TimeDelta::days(1))
            .build(),
    )
    .unwrap()
}

fn expose(c: &mut Criterion) {
    let rt = runtime();
    let mut g = c.benchmark_group("expose");
    // Every audited read adds an entry to the in-memory audit chain: bound the run.
    g.sample_size(20).measurement_time(Duration::from_secs(3));
    let raw = SecretString::from("alice@example.com");
    g.bench_function("raw_secrecy_expose_secret", |b| {
        b.iter(|| black_box(black_box(&raw).expose_secret().len()));
    });
    g.bench_function("raw_secrecy_expose_secret_in_block_on", |b| {
        b.iter(|| rt.block_on(async { black_box(black_box(&raw).expose_secret().len()) }));
    });
    let crm = custodian(&rt, TokenKey::generate(1).unwrap());
    let s = rt.block_on(crm.register_subject()).unwrap();
    let email = Personal::new(s, Email::parse("alice@example.com").unwrap());
    let grant = rt.block_on(crm.grant::<Notification>(s, "mailer")).unwrap();
    g.bench_function("custodian_expose_fast_path", |b| {
        b.iter(|| {
            rt.block_on(async {
                black_box(
                    crm.expose(black_box(&email), black_box(&grant))
                        .await
                        .unwrap()
                        .as_str()
                        .len(),
                )
            })
        });
    });
    // After any revocation, grants issued before it take the slow path (state lookups).
    let old = rt.block_on(crm.grant::<Notification>(s, "mailer")).unwrap();
    let other = rt.block_on(crm.grant::<Notification>(s, "mailer")).unwrap();
    rt.block_on(crm.revoke(&other)).unwrap();
    g.bench_function("custodian_expose_slow_path", |b| {
        b.iter(|| {
            rt.block_on(async {
                black_box(
                    crm.expose(black_box(&email), black_box(&old))
                        .await
                        .unwrap()
                        .as_str()
                        .len(),
                )
            })
        });
    });
    g.finish();
}

fn token(c: &mut Criterion) {
    let rt = runtime();
    let mut g = c.benchmark_group("token_open");
    let secret = [5_u8; 32];
    let crm = custodian(&rt, TokenKey::from_secret(1, &secret).unwrap());
    let s = rt.block_on(crm.register_subject()).unwrap();
    let grant = rt.block_on(crm.grant::<Notification>(s, "mailer")).unwrap();
    let token = crm.seal_grant(&grant).unwrap();
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(&token[3..])
        .unwrap();
    let (payload, tag) = raw.split_at(raw.len() - 32);
    let key = hmac::Key::new(hmac::HMAC_SHA256, &secret);
    g.bench_function("raw_ring_hmac_verify", |b| {
        b.iter(|| hmac::verify(&key, black_box(payload), black_box(tag)).unwrap());
    });
    g.bench_function("raw_base64_decode_then_hmac_verify", |b| {
        b.iter(|| {
            let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(black_box(&token[3..]))
                .unwrap();
            let (p, t) = raw.split_at(raw.len() - 32);
            hmac::verify(&key, p, t).unwrap();
        });
    });
    g.bench_function("raw_base64_decode_then_hmac_verify_in_block_on", |b| {
        b.iter(|| {
            rt.block_on(async {
                let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(black_box(&token[3..]))
                    .unwrap();
                let (p, t) = raw.split_at(raw.len() - 32);
                hmac::verify(&key, p, t).unwrap();
            })
        });
    });
    g.bench_function("custodian_open_grant", |b| {
        b.iter(|| {
            rt.block_on(crm.open_grant::<Notification>(black_box(&token)))
                .unwrap()
        });
    });
    g.bench_function("custodian_seal_grant", |b| {
        b.iter(|| crm.seal_grant(black_box(&grant)).unwrap())
    });
    g.finish();
}

criterion_group!(benches, expose, token);
criterion_main!(benches);
