//! SQLite-backed costs, in one run:
//! - end-to-end `Custodian::with` read (record fetch, key unwrap, open, decode, audit
//!   append) vs a raw SQL read of the same row plus a raw AES-256-GCM open;
//! - retention sweep over 1 M stored records (target ≤ 2 s on the CI machine).
//!
//! `cargo bench -p crm-privacy-sqlite --bench sqlite`
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "benchmark"
)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use crm_privacy::crypto::{Kek, Keyring};
use crm_privacy::custodian::Custodian;
use crm_privacy::{Email, Notification, RecordId, SubjectId};
use crm_privacy_sqlite::SqliteStore;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};

fn keyring() -> Keyring {
    Keyring::new(Kek::from_bytes(1, &[1; 32]).unwrap(), &[2; 32]).unwrap()
}

fn with_read(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.db");
    let store = Arc::new(SqliteStore::open(&path).unwrap());
    let crm = rt
        .block_on(
            Custodian::builder(keyring())
                .store(store)
                .grant_ttl(TimeDelta::hours(1))
                .build(),
        )
        .unwrap();
    let (subject, record, grant) = rt.block_on(async {
        let s = crm.register_subject().await.unwrap();
        let r = crm
            .store(s, Email::parse("bench@example.com").unwrap())
            .await
            .unwrap();
        let g = crm.grant::<Notification>(s, "mailer").await.unwrap();
        (s, r, g)
    });
    let _ = subject;
    // Raw baseline: the same row from a second connection, opened with a raw ring key.
    let conn = rusqlite::Connection::open(&path).unwrap();
    let raw_key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &[9; 32]).unwrap());
    let mut sample = b"\x00\x00\x00\x11bench@example.com".to_vec();
    let tag = raw_key
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key([0; 12]),
            Aad::from(&[0_u8; 41]),
            &mut sample,
        )
        .unwrap();
    sample.extend_from_slice(tag.as_ref());
    let mut g = c.benchmark_group("sqlite_read");
    g.bench_function("raw_sql_select_and_aes_open", |b| {
        b.iter(|| {
            let _ct: Vec<u8> = conn
                .prepare_cached("SELECT ciphertext FROM records WHERE id = ?1")
                .unwrap()
                .query_row([record.to_bytes().as_slice()], |r| r.get(0))
                .unwrap();
            let mut buf = sample.clone();
            black_box(
                raw_key
                    .open_in_place(
                        Nonce::assume_unique_for_key([0; 12]),
                        Aad::from(&[0_u8; 41]),
                        &mut buf,
                    )
                    .unwrap()
                    .len(),
            )
        });
    });
    g.bench_function("custodian_with_audited", |b| {
        b.iter(|| {
            rt.block_on(crm.with::<Email, _, _>(&grant, record, |e| e.as_str().len()))
                .unwrap()
        });
    });
    g.finish();
}

fn sweep_1m(c: &mut Criterion) {
    const N: usize = 1_000_000;
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sweep.db");
    drop(SqliteStore::open(&path).unwrap()); // create the schema
    {
        let mut conn = rusqlite::Connection::open(&path).unwrap();
        let tx = conn.transaction().unwrap();
        {
            let mut st = tx
                .prepare("INSERT INTO records (id, subject, kind, ciphertext, blind_index, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, NULL, ?5, ?5)")
                .unwrap();
            let now = Utc::now().timestamp_micros();
            let kinds = ["email", "ip_address", "device_info", "person_name"];
            let subject = SubjectId::new_random();
            for i in 0..N {
                st.execute(rusqlite::params![
                    RecordId::new_random().to_bytes().as_slice(),
                    subject.to_bytes().as_slice(),
                    kinds[i % 4],
                    [0_u8; 48].as_slice(),
                    now
                ])
                .unwrap();
            }
        }
        tx.commit().unwrap();
    }
    let store = Arc::new(SqliteStore::open(&path).unwrap());
    let crm = rt
        .block_on(Custodian::builder(keyring()).store(store).build())
        .unwrap();
    let mut g = c.benchmark_group("sqlite_sweep");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.bench_function("retention_sweep_1m_records", |b| {
        b.iter(|| {
            let lines = rt.block_on(crm.sweep()).unwrap();
            assert_eq!(lines.len(), N);
            black_box(lines.len())
        });
    });
    g.finish();
}

criterion_group!(benches, with_read, sweep_1m);
criterion_main!(benches);
