//! Shared test set-up: a fresh schema per run on the PostgreSQL at `CRM_PG_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`). Without a reachable server the tests are
//! skipped with a message — unless `CI=true`, where they must run.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use std::sync::{Arc, OnceLock};

use chrono::TimeDelta;
use crm_privacy::crypto::{Kek, Keyring};
use crm_privacy::custodian::Custodian;
use crm_privacy::store::InMemoryAuthenticator;
use crm_privacy::{SessionClaims, SessionId, SubjectId, UserSession};
use crm_privacy_postgres::PostgresStore;

pub(crate) fn url() -> String {
    std::env::var("CRM_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

pub(crate) fn fresh_schema() -> String {
    format!("crm_test_{}", uuid::Uuid::new_v4().simple())
}

/// Connects to `schema`, or returns `None` (after saying so) when no server is reachable
/// outside CI.
pub(crate) async fn connect(schema: &str, conns: u32) -> Option<PostgresStore> {
    let r = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        PostgresStore::connect(&url(), Some(schema), conns),
    )
    .await;
    match r {
        Ok(Ok(s)) => Some(s),
        other => {
            let why = match other {
                Ok(Err(e)) => e.to_string(),
                Err(_) => "connection timed out".into(),
                Ok(Ok(_)) => unreachable!(),
            };
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!(
                    "PostgreSQL is required under CI=true but is not reachable at {}: {why}",
                    url()
                );
            }
            // Written past libtest's output capture, so the skip is visible in a passing run.
            let _ = std::io::Write::write_all(
                &mut std::io::stderr(),
                format!("\nSKIPPED: PostgreSQL tests need a server at {} ({why}); set CRM_PG_URL or start PostgreSQL\n", url()).as_bytes(),
            );
            None
        }
    }
}

pub(crate) fn keyring() -> Keyring {
    Keyring::new(
        Kek::from_bytes(1, &crm_privacy::crypto::test_secret(4)).unwrap(),
        &crm_privacy::crypto::test_secret(5),
    )
    .unwrap()
}

/// The host's login, shared by every custodian of this process (as app servers share one
/// identity provider).
pub(crate) fn logins() -> Arc<InMemoryAuthenticator> {
    static LOGINS: OnceLock<Arc<InMemoryAuthenticator>> = OnceLock::new();
    LOGINS
        .get_or_init(|| Arc::new(InMemoryAuthenticator::new()))
        .clone()
}

/// A custodian of the test deployment (one token key) on `store`. Every custodian catches
/// up with the ledger before each decision, so several share one database safely.
pub(crate) async fn custodian(store: &PostgresStore) -> Custodian {
    Custodian::builder(keyring())
        .store(Arc::new(store.clone()))
        .token_key(
            crm_privacy::TokenKey::from_secret(1, &crm_privacy::crypto::test_secret(106)).unwrap(),
        )
        .authenticator(logins())
        .build()
        .await
        .unwrap()
}

/// Logs `subject` in for an hour and returns the session `c` makes of it.
pub(crate) async fn session(c: &Custodian, subject: SubjectId) -> UserSession {
    let credential = format!("login-{}", SessionId::new_random());
    logins().insert(
        &credential,
        SessionClaims {
            subject,
            session: SessionId::new_random(),
            authenticated_at: c.now(),
            expires_at: c.now() + TimeDelta::hours(1),
        },
    );
    c.authenticate(&credential).await.unwrap()
}
