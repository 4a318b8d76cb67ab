//! Throughput on PostgreSQL with 1, 2, 4 and 8 concurrent clients, the SDK against a raw
//! SQL baseline that makes the same writes without it (target ≥ 0.7× of raw).
//!
//! - consent append: `Custodian::give_consent` (ledger + audit entry, committed together)
//!   vs a transaction that locks both anchors, inserts two precomputed entries and updates
//!   the anchors;
//! - grant + read: `Custodian::grant` + `Custodian::with` (two audited operations, a record
//!   and a key read, decrypt) vs the same SQL: two single-entry audit appends plus the two
//!   selects.
//!
//! - audited read (issue 18): `Custodian::with` on a grant issued beforehand (gate, record and
//!   key read, decrypt, and its audit event, group-committed with the other clients' events)
//!   vs the same two selects plus one single-entry audit append of its own.
//!
//! `cargo bench -p crm-privacy-postgres --bench pg` (needs the server of `CRM_PG_URL`,
//! default `postgres://postgres@127.0.0.1:5432/test`).
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::indexing_slicing,
    reason = "benchmark"
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use crm_privacy::consent::{CollectionMethod, ConsentScope};
use crm_privacy::crypto::{Kek, Keyring};
use crm_privacy::custodian::Custodian;
use crm_privacy::store::InMemoryAuthenticator;
use crm_privacy::{Email, Notification, SessionClaims, SessionId, SubjectId, UserSession};
use crm_privacy_postgres::PostgresStore;
use sqlx::PgPool;

const SECS: u64 = 3;

/// The host's login stand-in, shared by every client (one identity provider).
fn logins() -> Arc<InMemoryAuthenticator> {
    static LOGINS: std::sync::OnceLock<Arc<InMemoryAuthenticator>> = std::sync::OnceLock::new();
    LOGINS
        .get_or_init(|| Arc::new(InMemoryAuthenticator::new()))
        .clone()
}

/// One app server: every custodian catches up with the ledger before each decision.
async fn custodian(store: &PostgresStore) -> Custodian {
    Custodian::builder(
        Keyring::new(
            Kek::from_bytes(1, &crm_privacy::crypto::test_secret(1)).unwrap(),
            &crm_privacy::crypto::test_secret(2),
        )
        .unwrap(),
    )
    .store(Arc::new(store.clone()))
    .authenticator(logins())
    .build()
    .await
    .unwrap()
}

/// The subject's session (consent is given in it), valid for the run.
async fn session(c: &Custodian, subject: SubjectId) -> UserSession {
    let credential = format!("bench-{}", SessionId::new_random());
    let now = Utc::now();
    logins().insert(
        &credential,
        SessionClaims {
            subject,
            session: SessionId::new_random(),
            authenticated_at: now,
            expires_at: now + TimeDelta::hours(1),
        },
    );
    c.authenticate(&credential).await.unwrap()
}

async fn raw_append(pool: &PgPool, chains: &[&str]) {
    loop {
        let mut tx = pool.begin().await.unwrap();
        let mut ok = true;
        for c in chains {
            let (len,): (i64,) =
                sqlx::query_as("SELECT len FROM crm_chain_anchors WHERE chain = $1 FOR UPDATE")
                    .bind(c)
                    .fetch_one(&mut *tx)
                    .await
                    .unwrap();
            let r = sqlx::query("INSERT INTO crm_chain_entries (chain, seq, prev, body, hash) VALUES ($1, $2, $3, $4, $5)")
                .bind(c)
                .bind(len)
                .bind(vec![0_u8; 32])
                .bind(vec![7_u8; 230])
                .bind(vec![1_u8; 32])
                .execute(&mut *tx)
                .await;
            if r.is_err() {
                ok = false;
                break;
            }
            sqlx::query("UPDATE crm_chain_anchors SET len = $2, head = $3 WHERE chain = $1")
                .bind(c)
                .bind(len + 1)
                .bind(vec![1_u8; 32])
                .execute(&mut *tx)
                .await
                .unwrap();
        }
        if ok && tx.commit().await.is_ok() {
            return;
        }
    }
}

async fn run(
    clients: usize,
    f: impl Fn(usize) -> futures_like::BoxFut + Send + Sync + 'static,
) -> f64 {
    let done = Arc::new(AtomicU64::new(0));
    let f = Arc::new(f);
    let end = Instant::now() + Duration::from_secs(SECS);
    let mut tasks = Vec::new();
    for i in 0..clients {
        let (done, f) = (done.clone(), f.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < end {
                f(i).await;
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    done.load(Ordering::Relaxed) as f64 / SECS as f64
}

mod futures_like {
    pub(crate) type BoxFut = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let url = std::env::var("CRM_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    println!("| workload | clients | SDK ops/s | raw SQL ops/s | ratio |");
    println!("|---|---|---|---|---|");
    for clients in [1_usize, 2, 4, 8] {
        let schema = format!("crm_bench_{}", uuid::Uuid::new_v4().simple());
        let Ok(store) = PostgresStore::connect(&url, Some(&schema), 16).await else {
            println!("PostgreSQL not reachable at {url}: benchmark skipped");
            return;
        };
        // The raw baseline writes to chains of its own: fake entries must not reach the
        // SDK's ledger (its next sync would rightly refuse to decode them).
        sqlx::query("INSERT INTO crm_chain_anchors (chain, len, head) VALUES ('raw_ledger', 0, $1), ('raw_audit', 0, $1)")
            .bind(vec![0_u8; 32])
            .execute(store.pool())
            .await
            .unwrap();
        // Consent appends.
        let cs: Vec<Custodian> = futures_collect(clients, |_| custodian(&store)).await;
        let mut subjects = Vec::new();
        let mut sessions = Vec::new();
        for c in &cs {
            let s = c.register_subject().await.unwrap();
            subjects.push(s);
            sessions.push(session(c, s).await);
        }
        let cs = Arc::new(cs);
        let subjects = Arc::new(subjects);
        let sessions = Arc::new(sessions);
        let ours = {
            let (cs, sessions) = (cs.clone(), sessions.clone());
            run(clients, move |i| {
                let (cs, sessions) = (cs.clone(), sessions.clone());
                Box::pin(async move {
                    cs[i]
                        .give_consent(
                            &sessions[i],
                            ConsentScope::Cookies,
                            CollectionMethod::Api,
                            None,
                        )
                        .await
                        .unwrap();
                })
            })
            .await
        };
        let pool = store.pool().clone();
        let raw = run(clients, move |_| {
            let pool = pool.clone();
            Box::pin(async move { raw_append(&pool, &["raw_ledger", "raw_audit"]).await })
        })
        .await;
        println!(
            "| consent append | {clients} | {ours:.0} | {raw:.0} | {:.2}× |",
            ours / raw
        );

        // Grant + read.
        let mut records = Vec::new();
        for (i, c) in cs.iter().enumerate() {
            records.push(
                c.store(subjects[i], Email::parse("bench@example.com").unwrap())
                    .await
                    .unwrap(),
            );
        }
        let records = Arc::new(records);
        let ours = {
            let (cs, subjects, records) = (cs.clone(), subjects.clone(), records.clone());
            run(clients, move |i| {
                let (cs, subjects, records) = (cs.clone(), subjects.clone(), records.clone());
                Box::pin(async move {
                    let g = cs[i]
                        .grant::<Notification>(subjects[i], "mailer")
                        .await
                        .unwrap();
                    cs[i]
                        .with::<Email, _, _>(&g, records[i], |e| e.as_str().len())
                        .await
                        .unwrap();
                })
            })
            .await
        };
        let pool = store.pool().clone();
        let (rec0, subj0) = (records[0], subjects[0]);
        let raw = run(clients, move |_| {
            let pool = pool.clone();
            Box::pin(async move {
                raw_append(&pool, &["raw_audit"]).await;
                let _: (Vec<u8>,) =
                    sqlx::query_as("SELECT ciphertext FROM crm_records WHERE id = $1")
                        .bind(rec0.to_bytes().to_vec())
                        .fetch_one(&pool)
                        .await
                        .unwrap();
                let _: (Option<Vec<u8>>,) =
                    sqlx::query_as("SELECT wrapped FROM crm_data_keys WHERE subject = $1")
                        .bind(subj0.to_bytes().to_vec())
                        .fetch_one(&pool)
                        .await
                        .unwrap();
                raw_append(&pool, &["raw_audit"]).await;
            })
        })
        .await;
        println!(
            "| grant + read | {clients} | {ours:.0} | {raw:.0} | {:.2}× |",
            ours / raw
        );

        // Audited read alone: the audit event is group-committed with the other clients'.
        let mut grants = Vec::new();
        for (i, c) in cs.iter().enumerate() {
            grants.push(
                c.grant::<Notification>(subjects[i], "mailer")
                    .await
                    .unwrap(),
            );
        }
        let grants = Arc::new(grants);
        let ours = {
            let (cs, grants, records) = (cs.clone(), grants.clone(), records.clone());
            run(clients, move |i| {
                let (cs, grants, records) = (cs.clone(), grants.clone(), records.clone());
                Box::pin(async move {
                    cs[i]
                        .with::<Email, _, _>(&grants[i], records[i], |e| e.as_str().len())
                        .await
                        .unwrap();
                })
            })
            .await
        };
        let pool = store.pool().clone();
        let raw = run(clients, move |_| {
            let pool = pool.clone();
            Box::pin(async move {
                let _: (Vec<u8>,) =
                    sqlx::query_as("SELECT ciphertext FROM crm_records WHERE id = $1")
                        .bind(rec0.to_bytes().to_vec())
                        .fetch_one(&pool)
                        .await
                        .unwrap();
                let _: (Option<Vec<u8>>,) =
                    sqlx::query_as("SELECT wrapped FROM crm_data_keys WHERE subject = $1")
                        .bind(subj0.to_bytes().to_vec())
                        .fetch_one(&pool)
                        .await
                        .unwrap();
                raw_append(&pool, &["raw_audit"]).await;
            })
        })
        .await;
        println!(
            "| audited read | {clients} | {ours:.0} | {raw:.0} | {:.2}× |",
            ours / raw
        );
        store.drop_schema(&schema).await.unwrap();
    }
}

async fn futures_collect<T, F: std::future::Future<Output = T>>(
    n: usize,
    f: impl Fn(usize) -> F,
) -> Vec<T> {
    let mut v = Vec::with_capacity(n);
    for i in 0..n {
        v.push(f(i).await);
    }
    v
}
