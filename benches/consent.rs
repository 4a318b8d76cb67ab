//! Consent costs against raw primitives, in one run:
//! - ledger append and verify of 1 M entries vs raw SHA-256 over the same event bytes
//!   (target: verify ≥ 0.8× raw throughput);
//! - how verify grows from 1 K to 10 M entries, next to raw SHA-256 over the same bytes;
//! - issue + check of a consent-gated grant, in memory (target ≤ 100 ns).
//!
//! `cargo bench --bench consent`
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "benchmark"
)]

use std::hint::black_box;
use std::time::Duration;

use chrono::Utc;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use crm_privacy::chain::{self, Anchor};
use crm_privacy::consent::{CollectionMethod, ConsentRegistry, ConsentScope};
use crm_privacy::{Authentication, SubjectId};
use ring::digest;

const N: usize = 1_000_000;

fn bodies() -> Vec<Vec<u8>> {
    bodies_n(N)
}

fn bodies_n(n: usize) -> Vec<Vec<u8>> {
    // The size of a real ledger event (JSON of a consent change, ~230 bytes).
    (0..n).map(|i| format!("{{\"at\":\"2026-11-24T12:00:00Z\",\"subject\":\"0c8f2f3e-8d5b-4f0e-9a41-{i:012}\",\"change\":{{\"type\":\"consent_given\",\"consent\":\"5b1d3c55-0f0e-4a6e-8c3d-{i:012}\",\"scope\":{{\"scope\":\"cookies\"}},\"method\":\"ui_action\",\"policy_version\":1,\"evidence\":null}}}}").into_bytes()).collect()
}

fn ledger(c: &mut Criterion) {
    let bodies = bodies();
    let bytes: u64 = bodies.iter().map(|b| b.len() as u64).sum();
    let mut g = c.benchmark_group("ledger_1m");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(8))
        .throughput(Throughput::Bytes(bytes));
    g.bench_function("raw_sha256_each_entry", |b| {
        b.iter(|| {
            for body in &bodies {
                black_box(digest::digest(&digest::SHA256, body));
            }
        });
    });
    // The same bytes the chain hashes: domain tag, sequence, previous hash, length, body.
    let chained: Vec<Vec<u8>> = bodies
        .iter()
        .enumerate()
        .map(|(i, body)| {
            let mut v = b"crm-privacy/chain/v1".to_vec();
            v.extend_from_slice(&(i as u64).to_be_bytes());
            v.extend_from_slice(&[7; 32]);
            v.extend_from_slice(&(body.len() as u64).to_be_bytes());
            v.extend_from_slice(body);
            v
        })
        .collect();
    g.bench_function("raw_sha256_chained_bytes", |b| {
        b.iter(|| {
            for v in &chained {
                black_box(digest::digest(&digest::SHA256, v));
            }
        });
    });
    g.bench_function("append", |b| {
        b.iter(|| {
            let mut a = Anchor::default();
            let v: Vec<_> = bodies
                .iter()
                .map(|body| chain::append(&mut a, body.clone()))
                .collect();
            black_box(v.len())
        });
    });
    let mut a = Anchor::default();
    let entries: Vec<_> = bodies
        .iter()
        .map(|body| chain::append(&mut a, body.clone()))
        .collect();
    g.bench_function("verify", |b| {
        b.iter(|| chain::verify_anchored(black_box(&entries), &a).unwrap())
    });
    g.finish();
}

/// Verify cost from 1 K to 10 M entries. The baseline hashes exactly what the chain hashes
/// (the 68-byte link header, then the body, in two updates), so the ratio isolates the chain's
/// own work: link comparison and iteration.
fn ledger_scaling(c: &mut Criterion) {
    for n in [1_000_usize, 10_000, 100_000, 1_000_000, 10_000_000] {
        let bodies = bodies_n(n);
        let bytes: u64 = bodies.iter().map(|b| b.len() as u64).sum();
        let mut a = Anchor::default();
        let entries: Vec<_> = bodies
            .into_iter()
            .map(|body| chain::append(&mut a, body))
            .collect();
        let mut g = c.benchmark_group(format!("ledger_verify_{n}"));
        g.sample_size(10)
            .measurement_time(Duration::from_secs(if n >= 1_000_000 { 20 } else { 3 }))
            .throughput(Throughput::Bytes(bytes));
        g.bench_function("raw_sha256_same_bytes", |b| {
            b.iter(|| {
                let mut header = [0_u8; 20 + 8 + 32 + 8];
                header[..20].copy_from_slice(b"crm-privacy/chain/v1");
                for e in &entries {
                    header[20..28].copy_from_slice(&e.seq.to_be_bytes());
                    header[28..60].copy_from_slice(&e.prev);
                    header[60..].copy_from_slice(&(e.body.len() as u64).to_be_bytes());
                    let mut ctx = digest::Context::new(&digest::SHA256);
                    ctx.update(&header);
                    ctx.update(&e.body);
                    black_box(ctx.finish());
                }
            });
        });
        g.bench_function("verify", |b| {
            b.iter(|| chain::verify_anchored(black_box(&entries), &a).unwrap())
        });
        g.finish();
    }
}

fn gated_grant(c: &mut Criterion) {
    let reg = ConsentRegistry::new();
    let issuer = reg.issuer_builder().build().unwrap();
    let s = SubjectId::new_random();
    let now = Utc::now();
    reg.give(s, ConsentScope::GoogleLink, CollectionMethod::Api, 1, now);
    let mut g = c.benchmark_group("consent_gated_grant");
    g.bench_function("issue_and_check", |b| {
        b.iter(|| {
            let grant = issuer
                .issue::<Authentication>(black_box(s), "login", now)
                .unwrap();
            grant.check(s, now).unwrap();
        });
    });
    let grant = issuer.issue::<Authentication>(s, "login", now).unwrap();
    g.bench_function("check_only", |b| {
        b.iter(|| black_box(&grant).check(s, now).unwrap())
    });
    g.finish();
}

fn audit_append(c: &mut Criterion) {
    use crm_privacy::custodian::{AuditEvent, AuditKind};
    let ev = AuditEvent {
        at: Utc::now(),
        kind: AuditKind::Exposed,
        subject: SubjectId::new_random(),
        grant: Some(crm_privacy::GrantId::new_random()),
        record: Some(crm_privacy::RecordId::new_random()),
        data_kind: Some("email".into()),
        purpose: Some("notification".into()),
        actor: Some(crm_privacy::Actor::Service {
            component: "mailer".into(),
        }),
        reference: None,
    };
    let body = serde_json::to_vec(&ev).unwrap();
    let mut g = c.benchmark_group("audit_append");
    g.bench_function("raw_sha256_of_event_bytes", |b| {
        b.iter(|| black_box(digest::digest(&digest::SHA256, black_box(&body))))
    });
    let mut anchor = Anchor::default();
    g.bench_function("encode_and_chain_append", |b| {
        b.iter(|| {
            let bytes = serde_json::to_vec(black_box(&ev)).unwrap();
            black_box(chain::append(&mut anchor, bytes))
        });
    });
    g.finish();
}

criterion_group!(benches, gated_grant, audit_append, ledger, ledger_scaling);
criterion_main!(benches);
