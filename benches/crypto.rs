//! Encryption at rest against raw ring, in one run:
//! field seal/open vs raw AES-256-GCM on the same bytes (target ≤ 1.3×), blind index vs raw
//! HMAC-SHA256 (target ≤ 1.1×), data-key unwrap (on every read of a subject's field) and
//! KEK-rotation rewrap vs the raw ring operations on the same bytes (target ≤ 1.3×).
//!
//! `cargo bench --bench crypto`
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "benchmark"
)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use crm_privacy::crypto::Keyring;
use crm_privacy::{Category, KindRef, RecordId, SubjectId};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};

fn crypto(c: &mut Criterion) {
    let kr = Keyring::generate().unwrap();
    let s = SubjectId::new_random();
    let (dk, _) = kr.new_data_key(s).unwrap();
    let kind = KindRef::Builtin(Category::Email);
    let rec = RecordId::new_random();
    let plain = b"\x00\x00\x00\x1ealice.benchmark@example.com..".to_vec();
    let raw = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &[9; 32]).unwrap());
    let rng = SystemRandom::new();
    let aad = [0_u8; 41]; // same size as the field AAD for this kind

    let mut g = c.benchmark_group("field_seal");
    g.bench_function("raw_ring_aes256gcm_seal", |b| {
        b.iter(|| {
            let mut nonce = [0_u8; 12];
            rng.fill(&mut nonce).unwrap();
            let mut out = Vec::with_capacity(1 + 12 + plain.len() + 16);
            out.push(1);
            out.extend_from_slice(&nonce);
            out.extend_from_slice(&plain);
            let tag = raw
                .seal_in_place_separate_tag(
                    Nonce::assume_unique_for_key(nonce),
                    Aad::from(&aad),
                    &mut out[13..],
                )
                .unwrap();
            out.extend_from_slice(tag.as_ref());
            black_box(out)
        });
    });
    g.bench_function("data_key_seal", |b| {
        b.iter(|| black_box(dk.seal(kind, rec, black_box(&plain)).unwrap()))
    });
    g.finish();

    let sealed = dk.seal(kind, rec, &plain).unwrap();
    let mut raw_sealed = sealed.clone();
    {
        let nonce: [u8; 12] = raw_sealed[1..13].try_into().unwrap();
        let mut body = plain.clone();
        let tag = raw
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(&aad),
                &mut body,
            )
            .unwrap();
        raw_sealed.truncate(13);
        raw_sealed.extend_from_slice(&body);
        raw_sealed.extend_from_slice(tag.as_ref());
    }
    let mut g = c.benchmark_group("field_open");
    g.bench_function("raw_ring_aes256gcm_open", |b| {
        b.iter(|| {
            let nonce: [u8; 12] = raw_sealed[1..13].try_into().unwrap();
            let mut buf = raw_sealed[13..].to_vec();
            let n = raw
                .open_in_place(
                    Nonce::assume_unique_for_key(nonce),
                    Aad::from(&aad),
                    &mut buf,
                )
                .unwrap()
                .len();
            buf.truncate(n);
            black_box(buf)
        });
    });
    g.bench_function("data_key_open", |b| {
        b.iter(|| black_box(dk.open(kind, rec, black_box(&sealed)).unwrap()))
    });
    g.finish();

    let mut g = c.benchmark_group("blind_index");
    let key = hmac::Key::new(hmac::HMAC_SHA256, &[4; 32]);
    let email = "alice.benchmark@example.com";
    g.bench_function("raw_ring_hmac_sha256", |b| {
        b.iter(|| {
            let mut ctx = hmac::Context::with_key(&key);
            ctx.update(&[2]);
            ctx.update(black_box(email).as_bytes());
            black_box(ctx.sign())
        });
    });
    g.bench_function("keyring_blind_index", |b| {
        b.iter(|| black_box(kr.blind_index(Category::Email, black_box(email))))
    });
    g.finish();
}

/// Data-key unwrap (every read opens the subject's wrapped key) and KEK rotation (unwrap +
/// wrap), each against the raw ring work on the same bytes: AES-256-GCM open of the 32-byte
/// key with the 28-byte wrap AAD, then building the AES key from it (and, for rewrap, a random
/// nonce and a seal).
fn key_wrapping(c: &mut Criterion) {
    let kr = Keyring::generate().unwrap();
    let s = SubjectId::new_random();
    let (_, wrapped) = kr.new_data_key(s).unwrap();
    let kek = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &[7; 32]).unwrap());
    let rng = SystemRandom::new();
    let aad = [0_u8; 28];
    let raw_seal = |key: &[u8]| {
        let mut nonce = [0_u8; 12];
        rng.fill(&mut nonce).unwrap();
        let mut out = Vec::with_capacity(1 + 4 + 12 + 32 + 16);
        out.push(1);
        out.extend_from_slice(&1_u32.to_be_bytes());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(key);
        let tag = kek
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(&aad),
                &mut out[17..],
            )
            .unwrap();
        out.extend_from_slice(tag.as_ref());
        out
    };
    let raw_wrapped = raw_seal(&[5; 32]);
    let raw_unwrap = |w: &[u8]| {
        let nonce = Nonce::try_assume_unique_for_key(&w[5..17]).unwrap();
        let mut buf = w[17..].to_vec();
        kek.open_in_place(nonce, Aad::from(&aad), &mut buf)
            .unwrap()
            .to_vec()
    };

    let mut g = c.benchmark_group("key_unwrap");
    g.bench_function("raw_ring_aes256gcm_open_and_key_setup", |b| {
        b.iter(|| {
            let key = raw_unwrap(black_box(&raw_wrapped));
            black_box(LessSafeKey::new(
                UnboundKey::new(&AES_256_GCM, &key).unwrap(),
            ))
        });
    });
    g.bench_function("keyring_unwrap", |b| {
        b.iter(|| black_box(kr.unwrap(s, black_box(&wrapped)).unwrap()))
    });
    g.finish();

    let mut g = c.benchmark_group("key_rewrap");
    g.bench_function("raw_ring_open_then_seal", |b| {
        b.iter(|| black_box(raw_seal(&raw_unwrap(black_box(&raw_wrapped)))));
    });
    g.bench_function("keyring_rewrap", |b| {
        b.iter(|| black_box(kr.rewrap(s, black_box(&wrapped)).unwrap()))
    });
    g.finish();
}

/// Issue 16: unwrapping a data key through the KMS boundary (`&dyn KeyEncryptionKeys`,
/// `LocalKeks`: async-trait box, lock, AAD, AES-256-GCM open, key copy) vs raw ring
/// AES-256-GCM open of the same 32-byte key with same-size AAD (target ≤ 1.3×).
fn kek_unwrap(c: &mut Criterion) {
    use core::pin::pin;
    use core::task::{Context, Poll, Waker};
    use crm_privacy::crypto::{KeyEncryptionKeys, KeyMaterial, LocalKeks};

    let keks = LocalKeks::generate("main", chrono::Utc::now()).unwrap();
    let dynkeks: &dyn KeyEncryptionKeys = &keks;
    let s = SubjectId::new_random();
    let material = KeyMaterial::generate().unwrap();
    // LocalKeks never waits: poll once with a no-op waker instead of a runtime.
    fn ready<F: core::future::Future>(fut: F) -> F::Output {
        let mut cx = Context::from_waker(Waker::noop());
        match pin!(fut).poll(&mut cx) {
            Poll::Ready(v) => v,
            Poll::Pending => unreachable!("LocalKeks does not wait"),
        }
    }
    let wrapped = ready(dynkeks.wrap(s, &material)).unwrap();

    let raw = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, material.expose_secret()).unwrap());
    let nonce = [3_u8; 12];
    let aad = [0_u8; 32]; // "crm-dk2\0" ‖ subject ‖ version ‖ "main"
    let mut sealed = material.expose_secret().to_vec();
    let tag = raw
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(&aad),
            &mut sealed,
        )
        .unwrap();
    sealed.extend_from_slice(tag.as_ref());

    let mut g = c.benchmark_group("kek_unwrap");
    g.bench_function("raw_ring_aes256gcm_open", |b| {
        b.iter(|| {
            let mut buf = zeroize::Zeroizing::new(black_box(&sealed).clone());
            let n = raw
                .open_in_place(
                    Nonce::assume_unique_for_key(nonce),
                    Aad::from(&aad),
                    &mut buf[..],
                )
                .unwrap()
                .len();
            black_box(n)
        })
    });
    g.bench_function("local_keks_unwrap_through_trait", |b| {
        b.iter(|| black_box(ready(dynkeks.unwrap(s, black_box(&wrapped))).unwrap()))
    });
    // The path the custodian takes on every read: the trait's synchronous unwrap, which an
    // in-process implementation answers without the async call's boxed future.
    g.bench_function("local_keks_unwrap_in_process_through_trait", |b| {
        b.iter(|| {
            black_box(
                dynkeks
                    .unwrap_in_process(s, black_box(&wrapped))
                    .unwrap()
                    .unwrap(),
            )
        })
    });
    g.finish();
}

criterion_group!(benches, crypto, key_wrapping, kek_unwrap);
criterion_main!(benches);
