//! Start-up cost against audit-log history (issue 18): `Custodian::build` on a SQLite store
//! holding 10 k / 100 k / 1 M audit entries, with the checkpoint the previous build left, vs
//! the same build on an empty store (the ratio should stay flat; target ≤ 50 ms at 1 M).
//! The store is opened once per size (`SqliteStore::open` runs `PRAGMA quick_check`, which
//! reads the whole file; its time is printed apart). Beside it, once per size: the
//! resident-set growth of one build and the time of the full verification
//! (`Custodian::verify_chains`), which still reads everything.
//!
//! The entries are generated directly in the data file (a realistic audit body, hash-linked
//! with `chain::append`, one transaction), then one build verifies them all and leaves the
//! checkpoint.
//!
//! `cargo bench -p crm-privacy-sqlite --bench startup` (`CRM_STARTUP_MAX=100000` to stop
//! earlier)
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    reason = "benchmark"
)]

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use crm_privacy::chain::{self, Anchor};
use crm_privacy::crypto::{Kek, Keyring};
use crm_privacy::custodian::Custodian;
use crm_privacy::store::{ChainName, ChainStore};
use crm_privacy::{Email, Notification};
use crm_privacy_sqlite::SqliteStore;

fn keyring() -> Keyring {
    Keyring::new(
        Kek::from_bytes(1, &crm_privacy::crypto::test_secret(1)).unwrap(),
        &crm_privacy::crypto::test_secret(2),
    )
    .unwrap()
}

fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

async fn build(path: &Path) -> Custodian {
    build_on(Arc::new(SqliteStore::open(path).unwrap())).await
}

/// `Custodian::build` alone, on a store opened once (opening runs SQLite's `quick_check`,
/// which reads the whole file: measured apart).
async fn build_on(store: Arc<SqliteStore>) -> Custodian {
    Custodian::builder(keyring())
        .store(store)
        .build()
        .await
        .unwrap()
}

/// A store whose audit chain holds `n` entries (a real read's audit body, repeated).
async fn store_with(path: &Path, n: u64) {
    let crm = build(path).await;
    let s = crm.register_subject().await.unwrap();
    let r = crm
        .store(s, Email::parse("bench@example.com").unwrap())
        .await
        .unwrap();
    let g = crm.grant::<Notification>(s, "mailer").await.unwrap();
    crm.with::<Email, _, _>(&g, r, |_| ()).await.unwrap();
    let store = SqliteStore::open(path).unwrap();
    let mut anchor = store.anchor(ChainName::Audit).await.unwrap();
    let body = store
        .entries_from(ChainName::Audit, anchor.len - 1)
        .await
        .unwrap()
        .remove(0)
        .body;
    drop((store, crm));
    let mut conn = rusqlite::Connection::open(path).unwrap();
    let tx = conn.transaction().unwrap();
    {
        let mut st = tx
            .prepare("INSERT INTO chain_entries (chain, seq, prev, body, hash) VALUES ('audit', ?1, ?2, ?3, ?4)")
            .unwrap();
        while anchor.len < n {
            let e = chain::append(&mut anchor, body.clone());
            st.execute(rusqlite::params![
                i64::try_from(e.seq).unwrap(),
                e.prev.as_slice(),
                e.body,
                e.hash.as_slice()
            ])
            .unwrap();
        }
    }
    tx.execute(
        "UPDATE chain_anchors SET len = ?1, head = ?2 WHERE chain = 'audit'",
        rusqlite::params![i64::try_from(anchor.len).unwrap(), anchor.head.as_slice()],
    )
    .unwrap();
    tx.commit().unwrap();
    let _: Anchor = anchor;
}

fn startup(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let max: u64 = std::env::var("CRM_STARTUP_MAX")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let mut g = c.benchmark_group("sqlite_startup");
    g.sample_size(20).measurement_time(Duration::from_secs(5));
    let empty = dir.path().join("empty.db");
    rt.block_on(build(&empty));
    let store = Arc::new(SqliteStore::open(&empty).unwrap());
    g.bench_function("build/empty", |b| {
        b.iter(|| black_box(rt.block_on(build_on(store.clone()))));
    });
    for n in [10_000_u64, 100_000, 1_000_000] {
        if n > max {
            break;
        }
        let path = dir.path().join(format!("audit{n}.db"));
        let t = Instant::now();
        rt.block_on(store_with(&path, n));
        let generated = t.elapsed();
        // The first build verifies every entry and leaves the checkpoint.
        let t = Instant::now();
        let first = rt.block_on(build(&path));
        let first_build = t.elapsed();
        let t = Instant::now();
        let report = rt.block_on(first.verify_chains()).unwrap();
        let full = t.elapsed();
        drop(first);
        let t = Instant::now();
        let store = Arc::new(SqliteStore::open(&path).unwrap());
        let open = t.elapsed();
        let before = rss_bytes();
        let kept = rt.block_on(build_on(store.clone()));
        let grew = rss_bytes().saturating_sub(before);
        drop(kept);
        println!(
            "audit entries {n}: generated in {generated:.2?}; first build (no checkpoint) \
             {first_build:.2?}; verify_chains {full:.2?} ({} entries); SqliteStore::open \
             {open:.2?}; RSS growth of a checkpointed build {} KiB",
            report.audit_entries,
            grew / 1024
        );
        g.bench_function(format!("build/{n}"), |b| {
            b.iter(|| black_box(rt.block_on(build_on(store.clone()))));
        });
        drop(store);
        std::fs::remove_file(&path).ok();
    }
    g.finish();
}

criterion_group!(benches, startup);
criterion_main!(benches);
