//! SQLite-backed costs, in one run:
//! - end-to-end `Custodian::with` read (record fetch, key unwrap, open, decode, audit
//!   append) vs a raw SQL read of the same row plus a raw AES-256-GCM open;
//! - retention sweep over 1 M stored records (target ≤ 2 s on the CI machine);
//! - the write path: a field sealed with `seal` and stored with `put` (today's custodian)
//!   vs sealed over its row header with `seal_row` and stored with `put_versioned`
//!   (authenticated columns), the sealing alone, and a chain append with the cross-file
//!   witness vs the same append as one raw SQL transaction in one file (the cost of
//!   cross-anchoring).
//!
//! - audited reads at 1 / 4 / 16 concurrent readers (threads, each driving its own
//!   runtime), group-committed audit events, vs the same number of readers each doing a raw
//!   select + AES-256-GCM open + one fsync of its own (`sqlite_concurrent_read`; criterion
//!   reports reads/s as elements/s for both).
//!
//! `cargo bench -p crm-privacy-sqlite --features danger --bench sqlite` (`-- sqlite_write`
//! for the write group, `-- sqlite_concurrent_read` for the concurrent reads)
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
use crm_privacy::chain;
use crm_privacy::crypto::{Kek, Keyring};
use crm_privacy::custodian::Custodian;
use crm_privacy::store::{
    ChainAppend, ChainName, ChainStore, KeyStore, RecordStore, SealedRecord, VersionedRecord,
};
use crm_privacy::{Category, KindRef};
use crm_privacy::{Email, Notification, RecordId, SubjectId};
use crm_privacy_sqlite::SqliteStore;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};

fn keyring() -> Keyring {
    Keyring::new(
        Kek::from_bytes(1, &crm_privacy::crypto::test_secret(1)).unwrap(),
        &crm_privacy::crypto::test_secret(2),
    )
    .unwrap()
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

fn write_path(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("write.db")).unwrap();
    let kr = keyring();
    let subject = SubjectId::new_random();
    let (dk, wrapped) = kr.new_data_key(subject).unwrap();
    rt.block_on(KeyStore::put(&store, subject, wrapped))
        .unwrap();
    let kind = KindRef::Builtin(Category::Email);
    let value = b"\x00\x00\x00\x11bench@example.com";
    let index = Some(kr.blind_index(Category::Email, "bench@example.com"));
    let row = |record: RecordId, ciphertext: Vec<u8>| SealedRecord {
        record,
        subject,
        kind: "email".into(),
        ciphertext,
        blind_index: index,
        index_version: 1,
        created_at: Utc::now(),
        updated_at: Utc::now(),
    };
    let mut g = c.benchmark_group("sqlite_write");
    g.sample_size(30).measurement_time(Duration::from_secs(5));
    g.bench_function("seal_only", |b| {
        let r = RecordId::new_random();
        b.iter(|| black_box(dk.seal(kind, r, value).unwrap()));
    });
    g.bench_function("seal_row_only", |b| {
        let v = VersionedRecord {
            sealed: row(RecordId::new_random(), Vec::new()),
            version: 1,
        };
        b.iter(|| black_box(dk.seal_row(&v.header(), value).unwrap()));
    });
    g.bench_function("seal_and_put", |b| {
        b.iter(|| {
            let r = RecordId::new_random();
            let ct = dk.seal(kind, r, value).unwrap();
            rt.block_on(RecordStore::put(&store, row(r, ct))).unwrap();
        });
    });
    g.bench_function("seal_row_and_put_versioned", |b| {
        b.iter(|| {
            let mut v = VersionedRecord {
                sealed: row(RecordId::new_random(), Vec::new()),
                version: 1,
            };
            v.sealed.ciphertext = dk.seal_row(&v.header(), value).unwrap();
            rt.block_on(store.put_versioned(v)).unwrap();
        });
    });
    g.bench_function("chain_append_cross_anchored", |b| {
        b.iter(|| {
            rt.block_on(async {
                let expected = store.anchor(ChainName::Audit).await.unwrap();
                let mut next = expected;
                let entry = chain::append(
                    &mut next,
                    b"audit event body of about sixty bytes, no personal data".to_vec(),
                );
                store
                    .append(vec![ChainAppend {
                        chain: ChainName::Audit,
                        expected,
                        entry,
                    }])
                    .await
                    .unwrap();
            });
        });
    });
    // Baseline: the same append as before cross-anchoring, one transaction in one file
    // (same pragmas: WAL, synchronous=FULL).
    let raw = rusqlite::Connection::open(dir.path().join("raw.db")).unwrap();
    raw.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
         CREATE TABLE chain_entries (chain TEXT NOT NULL, seq INTEGER NOT NULL, prev BLOB NOT NULL,
            body BLOB NOT NULL, hash BLOB NOT NULL, PRIMARY KEY (chain, seq)) WITHOUT ROWID;
         CREATE TABLE chain_anchors (chain TEXT PRIMARY KEY NOT NULL, len INTEGER NOT NULL, head BLOB NOT NULL);",
    )
    .unwrap();
    let mut anchor = chain::Anchor::default();
    let mut raw = raw;
    g.bench_function("chain_append_raw_single_file", |b| {
        b.iter(|| {
            let entry = chain::append(&mut anchor, b"audit event body of about sixty bytes, no personal data".to_vec());
            let tx = raw
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .unwrap();
            tx.execute(
                "INSERT INTO chain_entries (chain, seq, prev, body, hash) VALUES ('audit', ?1, ?2, ?3, ?4)",
                rusqlite::params![i64::try_from(entry.seq).unwrap(), entry.prev.as_slice(), entry.body, entry.hash.as_slice()],
            )
            .unwrap();
            tx.execute(
                "INSERT INTO chain_anchors (chain, len, head) VALUES ('audit', ?1, ?2)
                 ON CONFLICT(chain) DO UPDATE SET len = excluded.len, head = excluded.head",
                rusqlite::params![i64::try_from(anchor.len).unwrap(), anchor.head.as_slice()],
            )
            .unwrap();
            tx.commit().unwrap();
        });
    });
    g.finish();
}

/// Runs `iters` operations split over `readers` threads; returns the wall time.
fn split_over(readers: usize, iters: u64, op: impl Fn(usize) + Sync) -> Duration {
    let per = iters.div_ceil(readers as u64);
    let start = std::time::Instant::now();
    std::thread::scope(|s| {
        for i in 0..readers {
            let op = &op;
            s.spawn(move || {
                for _ in 0..per {
                    op(i);
                }
            });
        }
    });
    // Time per operation as if `iters` ran (the split rounds up).
    start
        .elapsed()
        .mul_f64(iters as f64 / (per * readers as u64) as f64)
}

fn concurrent_reads(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("concurrent.db");
    let store = Arc::new(SqliteStore::open(&path).unwrap());
    let setup = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let crm = setup
        .block_on(
            Custodian::builder(keyring())
                .store(store)
                .grant_ttl(TimeDelta::hours(1))
                .build(),
        )
        .unwrap();
    let readers_max = 16;
    let (records, grants): (Vec<_>, Vec<_>) = setup.block_on(async {
        let mut v = Vec::new();
        for _ in 0..readers_max {
            let s = crm.register_subject().await.unwrap();
            let r = crm
                .store(s, Email::parse("bench@example.com").unwrap())
                .await
                .unwrap();
            v.push((r, crm.grant::<Notification>(s, "mailer").await.unwrap()));
        }
        v.into_iter().unzip()
    });
    // Baseline: per reader a connection, the raw key, and a file of its own to fsync.
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
    let conns: Vec<std::sync::Mutex<rusqlite::Connection>> = (0..readers_max)
        .map(|_| std::sync::Mutex::new(rusqlite::Connection::open(&path).unwrap()))
        .collect();
    let files: Vec<std::sync::Mutex<std::fs::File>> = (0..readers_max)
        .map(|i| {
            std::sync::Mutex::new(
                std::fs::File::create(dir.path().join(format!("fsync{i}"))).unwrap(),
            )
        })
        .collect();
    let raw_read = |i: usize| {
        use std::io::Write;
        let _ct: Vec<u8> = conns[i]
            .lock()
            .unwrap()
            .prepare_cached("SELECT ciphertext FROM records WHERE id = ?1")
            .unwrap()
            .query_row([records[i].to_bytes().as_slice()], |r| r.get(0))
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
        );
        let mut f = files[i].lock().unwrap();
        f.write_all(&[1; 64]).unwrap();
        f.sync_data().unwrap();
    };
    let runtimes: Vec<tokio::runtime::Runtime> = (0..readers_max)
        .map(|_| {
            tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap()
        })
        .collect();
    let audited_read = |i: usize| {
        runtimes[i]
            .block_on(crm.with::<Email, _, _>(&grants[i], records[i], |e| e.as_str().len()))
            .unwrap();
    };
    let mut g = c.benchmark_group("sqlite_concurrent_read");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(8))
        .throughput(criterion::Throughput::Elements(1));
    for readers in [1_usize, 4, 16] {
        g.bench_function(format!("raw_select_open_fsync/{readers}"), |b| {
            b.iter_custom(|iters| split_over(readers, iters, raw_read));
        });
        g.bench_function(format!("custodian_with_audited/{readers}"), |b| {
            b.iter_custom(|iters| split_over(readers, iters, audited_read));
        });
    }
    g.finish();
}

criterion_group!(benches, write_path, with_read, sweep_1m, concurrent_reads);
criterion_main!(benches);
