//! A grant + read round trip through the C ABI vs the same calls in Rust, in one run
//! (target ≤ 1.5×): the full custodian path from SQLite (token open, the whole gate, the
//! audited read). The standalone grant check of earlier versions is gone with the
//! standalone issuer: only the custodian checks grants now.
//!
//! `cargo bench -p crm-privacy-ffi --bench ffi`
#![allow(
    missing_docs,
    unsafe_code,
    clippy::unwrap_used,
    clippy::undocumented_unsafe_blocks,
    reason = "benchmark"
)]

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use crm_privacy::crypto::{Kek, Keyring};
use crm_privacy::custodian::Custodian;
use crm_privacy::{Email, Notification, TokenKey};
use crm_privacy_ffi::*;

fn grant_read(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    // Test-only keys that pass the low-entropy rule (never constants).
    let kek = *b"k3Qz9!Lm#Vp2Xr7Tb0Yw5Nc8Hd1Jf4Gs";
    let idx = *b"i8Wq2@Ne$Ru6Zt1Ya4Kc9Mf0Lh3Pj7Ds";
    let tok = *b"t5Gh8#Kp1Zq4Wm7!Rv0Xb3Nd6Lc9Fs2J";
    // Rust side: its own database.
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let store =
        Arc::new(crm_privacy_sqlite::SqliteStore::open(dir.path().join("rust.db")).unwrap());
    let keyring = Keyring::new(Kek::from_bytes(1, &kek).unwrap(), &idx).unwrap();
    let crm = rt
        .block_on(
            Custodian::builder(keyring)
                .store(store)
                .token_key(TokenKey::from_secret(1, &tok).unwrap())
                .build(),
        )
        .unwrap();
    let (rec, token) = rt.block_on(async {
        let s = crm.register_subject().await.unwrap();
        let r = crm
            .store(s, Email::parse("bench@example.com").unwrap())
            .await
            .unwrap();
        let g = crm.grant::<Notification>(s, "mailer").await.unwrap();
        (r, crm.seal_grant(&g).unwrap())
    });
    // C side: a database of its own through the ABI.
    let path = dir.path().join("c.db");
    let p = path.to_str().unwrap();
    let mut h: *mut crm_custodian = std::ptr::null_mut();
    unsafe {
        assert_eq!(
            crm_custodian_open(
                p.as_ptr(),
                p.len(),
                kek.as_ptr(),
                32,
                idx.as_ptr(),
                32,
                tok.as_ptr(),
                32,
                std::ptr::null(),
                &mut h
            ),
            crm_result::CRM_OK
        );
    }
    let mut subject = [0_u8; 16];
    let mut record = [0_u8; 16];
    let mut ctoken = vec![0_u8; 512];
    let mut n = 0_usize;
    let email = b"bench@example.com";
    unsafe {
        assert_eq!(
            crm_subject_register(h, subject.as_mut_ptr(), 16),
            crm_result::CRM_OK
        );
        assert_eq!(
            crm_field_store(
                h,
                subject.as_ptr(),
                CRM_CATEGORY_EMAIL,
                email.as_ptr(),
                email.len(),
                record.as_mut_ptr(),
                16
            ),
            crm_result::CRM_OK
        );
        assert_eq!(
            crm_custodian_grant(
                h,
                subject.as_ptr(),
                CRM_PURPOSE_NOTIFICATION,
                b"mailer".as_ptr(),
                6,
                ctoken.as_mut_ptr(),
                512,
                &mut n
            ),
            crm_result::CRM_OK
        );
    }
    ctoken.truncate(n);
    let mut g = c.benchmark_group("grant_read_round_trip");
    g.bench_function("rust_open_grant_and_with", |b| {
        b.iter(|| {
            rt.block_on(async {
                let g = crm.open_grant::<Notification>(&token).await.unwrap();
                crm.with::<Email, _, _>(&g, rec, |e| e.as_str().len())
                    .await
                    .unwrap()
            })
        });
    });
    let mut out = [0_u8; 256];
    g.bench_function("c_abi_crm_field_read", |b| {
        b.iter(|| {
            let mut len = 0;
            let r = unsafe {
                crm_field_read(
                    h,
                    ctoken.as_ptr(),
                    ctoken.len(),
                    CRM_PURPOSE_NOTIFICATION,
                    record.as_ptr(),
                    out.as_mut_ptr(),
                    out.len(),
                    &mut len,
                )
            };
            assert_eq!(r, crm_result::CRM_OK);
            black_box(len)
        });
    });
    g.finish();
    crm_custodian_free(h);
}

criterion_group!(benches, grant_read);
criterion_main!(benches);
