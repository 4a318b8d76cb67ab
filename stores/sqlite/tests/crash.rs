#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout,
    reason = "tests"
)]
//! Crash test: a child process appends consent changes (ledger + audit, committed together)
//! and prints an acknowledgment after each call returns; the parent kills it with SIGKILL at
//! varying points. After reopening, both chains verify and every acknowledged append is there.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use crm_privacy::consent::{CollectionMethod, ConsentScope};
use crm_privacy::crypto::{Kek, Keyring};
use crm_privacy::custodian::Custodian;
use crm_privacy::ledger::AuditKind;
use crm_privacy::store::{ChainName, ChainStore, InMemoryAuthenticator};
use crm_privacy::{SessionClaims, SessionId};
use crm_privacy_sqlite::SqliteStore;

const RUNS: u64 = 20;

fn keyring() -> Keyring {
    Keyring::new(
        Kek::from_bytes(1, &crm_privacy::crypto::test_secret(5)).unwrap(),
        &crm_privacy::crypto::test_secret(6),
    )
    .unwrap()
}

fn child(path: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = Arc::new(SqliteStore::open(path).unwrap());
        let logins = Arc::new(InMemoryAuthenticator::new());
        let c = Custodian::builder(keyring())
            .store(store.clone())
            .authenticator(logins.clone())
            .build()
            .await
            .unwrap();
        let subject = c.register_subject().await.unwrap();
        logins.insert(
            "child-session",
            SessionClaims {
                subject,
                session: SessionId::new_random(),
                authenticated_at: Utc::now(),
                expires_at: Utc::now() + TimeDelta::days(1),
            },
        );
        let session = c.authenticate("child-session").await.unwrap();
        loop {
            c.give_consent(&session, ConsentScope::Cookies, CollectionMethod::Api, None)
                .await
                .unwrap();
            ack(&store).await;
            c.withdraw_consent(subject, ConsentScope::Cookies)
                .await
                .unwrap();
            ack(&store).await;
        }
    });
}

async fn ack(store: &SqliteStore) {
    let l = store.anchor(ChainName::Ledger).await.unwrap().len;
    let a = store.anchor(ChainName::Audit).await.unwrap().len;
    println!("ack {l} {a}");
}

#[test]
fn sigkill_loses_no_acknowledged_event() {
    if let Ok(path) = std::env::var("CRM_CRASH_CHILD") {
        child(&path);
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    for run in 0..RUNS {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("crm.db");
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "sigkill_loses_no_acknowledged_event",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("CRM_CRASH_CHILD", &db)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let wait = Duration::from_millis(40 + seed % 400);
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut last = (0_u64, 0_u64);
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.strip_prefix("ack ") {
                    let mut it = rest.split(' ').map(|n| n.parse::<u64>().unwrap());
                    last = (it.next().unwrap(), it.next().unwrap());
                }
            }
            last
        });
        let start = Instant::now();
        while start.elapsed() < wait {
            std::thread::sleep(Duration::from_millis(5));
        }
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        let (acked_ledger, acked_audit) = reader.join().unwrap();
        rt.block_on(async {
            let store = Arc::new(SqliteStore::open(&db).unwrap());
            // Building verifies both chains against their anchors and replays the ledger.
            let c = Custodian::builder(keyring())
                .store(store.clone())
                .build()
                .await
                .unwrap();
            let report = c.verify_chains().await.unwrap();
            assert!(
                report.ledger_entries >= acked_ledger,
                "run {run}: ledger lost acknowledged entries"
            );
            assert!(
                report.audit_entries >= acked_audit,
                "run {run}: audit lost acknowledged entries"
            );
            // Ledger and audit commit together: each consent change has its audit event.
            let consent_events = c
                .audit_events()
                .await
                .unwrap()
                .iter()
                .filter(|e| {
                    matches!(
                        e.kind,
                        AuditKind::ConsentGiven | AuditKind::ConsentWithdrawn
                    )
                })
                .count() as u64;
            assert_eq!(
                consent_events, report.ledger_entries,
                "run {run}: a ledger entry without its audit event"
            );
        });
        eprintln!("run {run}: killed after {wait:?}, {acked_ledger} ledger entries acknowledged");
    }
}
