//! Memory and disk per stored record, in one run (not a criterion benchmark: it measures
//! sizes, not time).
//!
//! Workload: S subjects, each with a name, an email address, a phone number, an IP address
//! and device info (5 records per subject, every one written through `Custodian::store`, so
//! each also costs its audit event, and each subject its wrapped data key).
//! - in memory: growth of the process's resident set (`VmRSS`) while the in-memory custodian
//!   fills, divided by the number of records;
//! - SQLite: size of the data file (after a WAL checkpoint) and of the key file, divided by the
//!   number of records.
//!
//! `cargo bench -p crm-privacy-sqlite --bench footprint`
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    reason = "benchmark"
)]

use std::sync::Arc;

use crm_privacy::crypto::{Kek, Keyring};
use crm_privacy::custodian::Custodian;
use crm_privacy::store::{InMemoryChainStore, InMemoryKeyStore, InMemoryRecordStore};
use crm_privacy::{DeviceInfo, Email, IpAddress, PersonName, Phone};
use crm_privacy_sqlite::SqliteStore;

const KINDS_PER_SUBJECT: usize = 5;

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

async fn fill(crm: &Custodian, subjects: usize) {
    for i in 0..subjects {
        let s = crm.register_subject().await.unwrap();
        crm.store(s, PersonName::parse(&format!("Person Number {i}")).unwrap())
            .await
            .unwrap();
        crm.store(s, Email::parse(&format!("person.{i}@example.com")).unwrap())
            .await
            .unwrap();
        crm.store(
            s,
            Phone::parse(&format!("+4179{:07}", i % 10_000_000)).unwrap(),
        )
        .await
        .unwrap();
        crm.store(
            s,
            IpAddress::parse(&format!("10.0.{}.{}", (i / 256) % 256, i % 256)).unwrap(),
        )
        .await
        .unwrap();
        crm.store(
            s,
            DeviceInfo::new("Pixel 9", "Android 16", "4.2.0", 1080, 2424).unwrap(),
        )
        .await
        .unwrap();
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` lists benchmarks; this one has none to list
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();

    // In memory: 20 000 subjects, 100 000 records.
    let subjects = 20_000;
    let records = (subjects * KINDS_PER_SUBJECT) as u64;
    let crm = rt
        .block_on(
            Custodian::builder(keyring())
                .records(Arc::new(InMemoryRecordStore::new()))
                .chains(Arc::new(InMemoryChainStore::new()))
                .keys(Arc::new(InMemoryKeyStore::new()))
                .build(),
        )
        .unwrap();
    let before = rss_bytes();
    rt.block_on(fill(&crm, subjects));
    let after = rss_bytes();
    let per = after.saturating_sub(before) / records;
    println!(
        "in-memory custodian: {records} records, resident growth {} KiB, {per} bytes per record (record, its audit event, 1/5 of a subject's key and registration event)",
        after.saturating_sub(before) / 1024
    );

    // SQLite: 2 000 subjects, 10 000 records (each store is a durable, fsynced transaction).
    let subjects = 2_000;
    let records = (subjects * KINDS_PER_SUBJECT) as u64;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("footprint.db");
    let store = Arc::new(SqliteStore::open(&path).unwrap());
    let crm = rt
        .block_on(Custodian::builder(keyring()).store(store.clone()).build())
        .unwrap();
    rt.block_on(fill(&crm, subjects));
    store.checkpoint().unwrap();
    let size = |p: &std::path::Path| std::fs::metadata(p).map_or(0, |m| m.len());
    let data = size(&path);
    let keys = size(&dir.path().join("footprint.db.keys"));
    println!(
        "SQLite: {records} records, data file {} KiB ({} bytes per record, incl. audit chain and ledger), key file {} KiB ({} bytes per subject)",
        data / 1024,
        data / records,
        keys / 1024,
        keys / subjects as u64
    );
}
