//! Core costs against their raw primitives, in one run:
//! - typed `Personal::expose` vs a raw `secrecy` read (target ≤ 1.1× plus ≤ 50 ns of checks),
//! - signed token open vs raw ring HMAC-SHA256 verify over the same bytes (target ≤ 1.2×).
//!
//! `cargo bench --bench core`
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "benchmark"
)]

use std::hint::black_box;

use base64::Engine as _;
use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};
use crm_privacy::{Email, GrantIssuer, Notification, Personal, SubjectId, TokenKey};
use ring::hmac;
use secrecy::{ExposeSecret, SecretString};

fn expose(c: &mut Criterion) {
    let mut g = c.benchmark_group("expose");
    let raw = SecretString::from("alice@example.com");
    g.bench_function("raw_secrecy_expose_secret", |b| {
        b.iter(|| black_box(black_box(&raw).expose_secret().len()));
    });
    let issuer = GrantIssuer::builder().build().unwrap();
    let s = SubjectId::new_random();
    let email = Personal::new(s, Email::parse("alice@example.com").unwrap());
    let now = Utc::now();
    let grant = issuer.issue::<Notification>(s, "mailer", now).unwrap();
    g.bench_function("typed_expose_fast_path", |b| {
        b.iter(|| {
            black_box(
                black_box(&email)
                    .expose(black_box(&grant), now)
                    .unwrap()
                    .as_str()
                    .len(),
            )
        });
    });
    // After any revocation in the process, grants issued before it take the slow path
    // (revocation list lookup).
    let old = issuer.issue::<Notification>(s, "mailer", now).unwrap();
    let other = issuer.issue::<Notification>(s, "mailer", now).unwrap();
    issuer.revoke(other.id());
    g.bench_function("typed_expose_slow_path", |b| {
        b.iter(|| {
            black_box(
                black_box(&email)
                    .expose(black_box(&old), now)
                    .unwrap()
                    .as_str()
                    .len(),
            )
        });
    });
    g.finish();
}

fn token(c: &mut Criterion) {
    let mut g = c.benchmark_group("token_open");
    let secret = [5_u8; 32];
    let issuer = GrantIssuer::builder()
        .signing_key(TokenKey::from_secret(1, &secret).unwrap())
        .build()
        .unwrap();
    let s = SubjectId::new_random();
    let now = Utc::now();
    let grant = issuer.issue::<Notification>(s, "mailer", now).unwrap();
    let token = issuer.seal(&grant);
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
    g.bench_function("grant_token_open", |b| {
        b.iter(|| issuer.open::<Notification>(black_box(&token), now).unwrap());
    });
    g.bench_function("grant_token_seal", |b| {
        b.iter(|| issuer.seal(black_box(&grant)))
    });
    g.finish();
}

criterion_group!(benches, expose, token);
criterion_main!(benches);
