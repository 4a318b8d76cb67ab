#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout,
    reason = "tests"
)]
//! PostgreSQL: conformance, revocation across processes, many writers, killed connections.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crm_privacy::consent::{CollectionMethod, ConsentScope};
use crm_privacy::custodian::CustodianError;
use crm_privacy::ledger::{AuditKind, LedgerChange, LedgerEvent};
use crm_privacy::store::{ChainName, ChainStore, conformance};
use crm_privacy::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_store_conforms() {
    let schema = common::fresh_schema();
    let Some(store) = common::connect(&schema, 8).await else {
        return;
    };
    let s = Arc::new(store.clone());
    conformance::run_all(s.clone(), s.clone(), s).await;
    store.drop_schema(&schema).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn withdrawal_in_one_process_stops_the_next_read_in_another() {
    let schema = common::fresh_schema();
    let Some(store_a) = common::connect(&schema, 4).await else {
        return;
    };
    let store_b = common::connect(&schema, 4).await.unwrap();
    // Two custodians sharing nothing but the database, as two app servers would.
    let a = common::custodian(&store_a).await;
    let b = common::custodian(&store_b).await;
    let alice = a.register_subject().await.unwrap();
    let session = common::session(&b, alice).await;
    b.give_consent(
        &session,
        ConsentScope::Cookies,
        CollectionMethod::UiAction,
        None,
    )
    .await
    .unwrap();
    let mut p = CookiePreference::new();
    p.set_language("fr").unwrap();
    let rec = a.store(alice, p).await.unwrap();
    let g = a.grant_for_session::<Preferences>(&session).await.unwrap(); // A sees B's consent
    assert!(
        a.with::<CookiePreference, _, _>(&g, rec, |_| ())
            .await
            .is_ok()
    );
    let ip = a
        .store(alice, IpAddress::parse("192.0.2.44").unwrap())
        .await
        .unwrap();
    let stats = a.grant::<Analytics>(alice, "stats").await.unwrap();

    b.withdraw_consent(alice, ConsentScope::Cookies)
        .await
        .unwrap();
    let r = a.with::<CookiePreference, _, _>(&g, rec, |_| ()).await;
    assert!(
        r.is_err(),
        "the very next read in A after B's withdrawal must fail: {r:?}"
    );
    // A token sealed in A and opened in B carries the same refusal.
    assert!(
        b.open_grant::<Preferences>(&a.seal_grant(&g).unwrap())
            .await
            .is_err()
    );

    b.restrict(alice).await.unwrap();
    assert!(matches!(
        a.with::<IpAddress, _, _>(&stats, ip, |_| ()).await,
        Err(CustodianError::Access(AccessError::Restricted { .. }))
    ));
    b.lift_restriction(alice).await.unwrap();
    assert!(a.with::<IpAddress, _, _>(&stats, ip, |_| ()).await.is_ok());
    // A grant revoked in B stops working in A at A's very next read.
    let in_b = b
        .open_grant::<Analytics>(&a.seal_grant(&stats).unwrap())
        .await
        .unwrap();
    b.revoke(&in_b).await.unwrap();
    assert!(matches!(
        a.with::<IpAddress, _, _>(&stats, ip, |_| ()).await,
        Err(CustodianError::Access(AccessError::Revoked { .. }))
    ));
    let stats = a.grant::<Analytics>(alice, "stats").await.unwrap();
    b.erase(alice).await.unwrap();
    let r = a.with::<IpAddress, _, _>(&stats, ip, |_| ()).await;
    assert!(
        matches!(r, Err(CustodianError::Access(AccessError::Erased { .. }))),
        "{r:?}"
    );
    let session2 = common::session(&a, alice).await;
    assert!(matches!(
        a.grant_owner(&session2).await,
        Err(CustodianError::Issue(IssueError::Erased { .. }))
    ));
    a.verify_chains().await.unwrap();
    store_a.drop_schema(&schema).await.unwrap();
}

/// Child process body: consent give/store/grant/read/withdraw/read loops for `secs`.
async fn child(schema: &str, secs: u64) {
    let store = common::connect(schema, 2).await.unwrap();
    let c = common::custodian(&store).await;
    let s = c.register_subject().await.unwrap();
    let session = common::session(&c, s).await;
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        let consent = c
            .give_consent(&session, ConsentScope::Cookies, CollectionMethod::Api, None)
            .await
            .unwrap();
        println!("ack {consent}");
        let mut p = CookiePreference::new();
        p.set_language("de").unwrap();
        let rec = c.store(s, p).await.unwrap();
        let g = c.grant_for_session::<Preferences>(&session).await.unwrap();
        if c.with::<CookiePreference, _, _>(&g, rec, |_| ())
            .await
            .is_err()
        {
            println!("error read-before-withdraw");
        }
        c.withdraw_consent(s, ConsentScope::Cookies).await.unwrap();
        println!("ack-withdraw {consent}");
        if c.with::<CookiePreference, _, _>(&g, rec, |_| ())
            .await
            .is_ok()
        {
            println!("violation read-after-withdraw");
        }
    }
}

#[test]
fn four_processes_keep_one_chain_and_lose_nothing() {
    if let Ok(schema) = std::env::var("CRM_PG_CHILD") {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(child(&schema, 3));
        return;
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let schema = common::fresh_schema();
    let Some(store) = rt.block_on(common::connect(&schema, 4)) else {
        return;
    };
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..4)
        .map(|_| {
            Command::new(&exe)
                .args([
                    "--exact",
                    "four_processes_keep_one_chain_and_lose_nothing",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env("CRM_PG_CHILD", &schema)
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut acked = Vec::new();
    for mut ch in children {
        let out = BufReader::new(ch.stdout.take().unwrap());
        for line in out.lines().map_while(Result::ok) {
            assert!(!line.starts_with("violation"), "{line}");
            assert!(!line.starts_with("error"), "{line}");
            if let Some(id) = line.strip_prefix("ack ") {
                acked.push(id.to_owned());
            }
        }
        assert!(ch.wait().unwrap().success(), "a child process failed");
    }
    rt.block_on(async {
        let c = common::custodian(&store).await; // verifies both chains and replays the ledger
        let report = c.verify_chains().await.unwrap();
        let events: Vec<LedgerEvent> = store.entries(ChainName::Ledger).await.unwrap().iter().map(|e| crm_privacy::ledger::decode::<LedgerEvent>(e).unwrap()).collect();
        let given: std::collections::HashSet<String> = events
            .iter()
            .filter_map(|e| match &e.change { LedgerChange::ConsentGiven { consent, .. } => Some(consent.to_string()), _ => None })
            .collect();
        for id in &acked {
            assert!(given.contains(id), "acknowledged consent {id} missing from the ledger");
        }
        let audit_consents = c.audit_events().await.unwrap().iter().filter(|e| matches!(e.kind, AuditKind::ConsentGiven | AuditKind::ConsentWithdrawn)).count() as u64;
        assert_eq!(audit_consents, report.ledger_entries, "every ledger entry has its audit event");
        eprintln!("4 processes: {} consents acknowledged, {} ledger entries, {} audit entries, chains verify", acked.len(), report.ledger_entries, report.audit_entries);
        assert!(acked.len() >= 8, "the children made too little progress");
    });
    rt.block_on(store.drop_schema(&schema)).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_connections_lose_no_acknowledged_event_and_leave_no_half_write() {
    let schema = common::fresh_schema();
    let Some(store) = common::connect(&schema, 4).await else {
        return;
    };
    let admin = common::connect(&schema, 1).await.unwrap();
    let c = common::custodian(&store).await;
    let s = c.register_subject().await.unwrap();
    let session = common::session(&c, s).await;
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let app_name: String = format!("crm-privacy:{schema}").chars().take(63).collect();
    let killer = {
        let stop = stop.clone();
        let pool = admin.pool().clone();
        let app_name = app_name.clone();
        tokio::spawn(async move {
            let mut killed = 0_u64;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let r: Result<Vec<bool>, _> = sqlx::query_scalar(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                     WHERE application_name = $1 AND pid <> pg_backend_pid() AND datname = current_database()
                       AND state <> 'idle'",
                )
                .bind(&app_name)
                .fetch_all(&pool)
                .await;
                killed += r
                    .map(|v| v.iter().filter(|b| **b).count() as u64)
                    .unwrap_or(0);
                tokio::time::sleep(Duration::from_millis(3)).await;
            }
            killed
        })
    };
    let mut acked = Vec::new();
    let mut failures = 0;
    let end = Instant::now() + Duration::from_secs(4);
    while Instant::now() < end {
        match c
            .give_consent(&session, ConsentScope::Cookies, CollectionMethod::Api, None)
            .await
        {
            Ok(id) => {
                acked.push(id);
                while c.withdraw_consent(s, ConsentScope::Cookies).await.is_err() {
                    failures += 1;
                    if c.consents(s).await.is_ok_and(|v| v.is_empty()) {
                        break;
                    }
                }
            }
            Err(_) => failures += 1,
        }
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let killed = killer.await.unwrap();
    let fresh = common::connect(&schema, 2).await.unwrap();
    let c2 = common::custodian(&fresh).await; // verifies chains
    let report = c2.verify_chains().await.unwrap();
    let events: Vec<LedgerEvent> = fresh
        .entries(ChainName::Ledger)
        .await
        .unwrap()
        .iter()
        .map(|e| crm_privacy::ledger::decode::<LedgerEvent>(e).unwrap())
        .collect();
    for id in &acked {
        assert!(
            events.iter().any(
                |e| matches!(&e.change, LedgerChange::ConsentGiven { consent, .. } if consent == id)
            ),
            "acknowledged {id} lost"
        );
    }
    let audit_consents = c2
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
        audit_consents, report.ledger_entries,
        "a ledger entry without its audit event: half-written"
    );
    eprintln!(
        "fault test: {killed} backends killed, {failures} failed calls, {} acknowledged, chains verify",
        acked.len()
    );
    assert!(killed > 0, "the fault injector never hit a transaction");
    fresh.drop_schema(&schema).await.unwrap();
}
