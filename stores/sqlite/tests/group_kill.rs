#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "tests"
)]
//! Issue 18, crash test of the group-committed audit (SIGKILL). A worker process (this test
//! binary re-executed) runs 8 reader threads doing audited reads as fast as it can; each
//! read's audit event shares a group commit with the others. After a read returns its data
//! the worker prints `ack <grant>`. The parent kills it with SIGKILL at a random instant,
//! builds a custodian on the same file and checks, for every grant, that the durable audit
//! log holds at least as many `Exposed` entries as reads were acknowledged: a kill between a
//! group commit and the read's return never leaves a returned read without its durable
//! record, and a kill before the commit never lets data out (no ack can precede the
//! commit). The chains verify after every kill.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::TimeDelta;
use crm_privacy::crypto::{Kek, Keyring};
use crm_privacy::custodian::Custodian;
use crm_privacy::ledger::AuditKind;
use crm_privacy::{Email, Notification, TokenKey};
use crm_privacy_sqlite::SqliteStore;

const TEST: &str = "sigkill_during_group_committed_reads";
const ENV: &str = "CRM_GROUP_KILL_CHILD";
const READERS: usize = 8;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

async fn build(db: &Path) -> Custodian {
    Custodian::builder(
        Keyring::new(
            Kek::from_bytes(1, &crm_privacy::crypto::test_secret(4)).unwrap(),
            &crm_privacy::crypto::test_secret(6),
        )
        .unwrap(),
    )
    .store(Arc::new(SqliteStore::open(db).unwrap()))
    .token_key(TokenKey::from_secret(1, &crm_privacy::crypto::test_secret(108)).unwrap())
    .grant_ttl(TimeDelta::hours(1))
    .build()
    .await
    .unwrap()
}

fn worker(db: &Path) {
    println!();
    let setup = rt();
    let rt = &setup;
    let c = rt.block_on(build(db));
    let mut readers = Vec::new();
    for _ in 0..READERS {
        let s = rt.block_on(c.register_subject()).unwrap();
        let r = rt
            .block_on(c.store(s, Email::parse("k@example.com").unwrap()))
            .unwrap();
        let g = rt.block_on(c.grant::<Notification>(s, "mailer")).unwrap();
        readers.push((r, g));
    }
    println!("ready");
    std::thread::scope(|s| {
        for (record, grant) in &readers {
            let c = &c;
            s.spawn(move || {
                let local = self::rt();
                loop {
                    let n = local
                        .block_on(c.with::<Email, _, _>(grant, *record, |e| e.as_str().len()))
                        .unwrap();
                    assert_eq!(n, 13);
                    println!("ack {}", grant.id());
                }
            });
        }
    });
}

#[test]
fn sigkill_during_group_committed_reads() {
    if let Ok(db) = std::env::var(ENV) {
        worker(Path::new(&db));
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crm.db");
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let mut total_acks = 0;
    for episode in 0..6 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", TEST, "--nocapture", "--test-threads=1"])
            .env(ENV, &db)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let out = BufReader::new(child.stdout.take().unwrap());
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let reader = std::thread::spawn(move || {
            for l in out.lines().map_while(Result::ok) {
                if tx.send(l).is_err() {
                    break;
                }
            }
        });
        let until = Instant::now() + Duration::from_secs(30);
        let mut lines = Vec::new();
        while Instant::now() < until {
            match rx.recv_timeout(Duration::from_millis(20)) {
                Ok(l) => {
                    let ready = l == "ready";
                    lines.push(l);
                    if ready {
                        break;
                    }
                }
                Err(_) => assert!(child.try_wait().unwrap().is_none(), "worker died"),
            }
        }
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(Duration::from_millis(100 + seed % 400));
        assert!(
            child.try_wait().unwrap().is_none(),
            "worker exited by itself"
        );
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        reader.join().unwrap();
        lines.extend(rx.try_iter());
        let mut acks: HashMap<String, usize> = HashMap::new();
        for l in &lines {
            if let Some(g) = l.strip_prefix("ack ") {
                *acks.entry(g.to_owned()).or_default() += 1;
            }
        }
        let rt = rt();
        let c = rt.block_on(build(&db));
        rt.block_on(c.verify_chains()).unwrap();
        let mut logged: HashMap<String, usize> = HashMap::new();
        for e in rt.block_on(c.audit_events()).unwrap() {
            if e.kind == AuditKind::Exposed {
                if let Some(g) = e.grant {
                    *logged.entry(g.to_string()).or_default() += 1;
                }
            }
        }
        let n: usize = acks.values().sum();
        assert!(
            n > 0,
            "episode {episode}: no read acknowledged before the kill"
        );
        total_acks += n;
        for (g, acked) in &acks {
            let durable = logged.get(g).copied().unwrap_or(0);
            assert!(
                durable >= *acked,
                "episode {episode}: grant {g} returned {acked} reads, only {durable} audited"
            );
        }
    }
    println!("{total_acks} acknowledged reads over 6 kills, each with its durable audit entry");
}
