#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]
//! Issue 14: several processes on one SQLite file are safe with the *default* settings.
//! Two custodians, each with its own `SqliteStore::open` of the same file (own connections,
//! as two processes have), no flag: a revocation, a withdrawal, a restriction and an
//! erasure made through one are honoured by the other at its very next call.

use std::sync::Arc;

use chrono::{TimeDelta, Utc};
use crm_privacy::consent::{CollectionMethod, ConsentScope};
use crm_privacy::crypto::{Kek, Keyring};
use crm_privacy::custodian::{Custodian, CustodianError};
use crm_privacy::store::InMemoryAuthenticator;
use crm_privacy::{
    AccessError, Email, Google, Notification, ProviderAccountId, SessionClaims, SessionId,
    SubjectId, TokenKey,
};

type GoogleAccountId = ProviderAccountId<Google>;
use crm_privacy_sqlite::SqliteStore;

async fn process(path: &std::path::Path, auth: Arc<InMemoryAuthenticator>) -> Custodian {
    Custodian::builder(
        Keyring::new(
            Kek::from_bytes(1, &crm_privacy::crypto::test_secret(3)).unwrap(),
            &crm_privacy::crypto::test_secret(9),
        )
        .unwrap(),
    )
    .store(Arc::new(SqliteStore::open(path).unwrap()))
    .token_key(TokenKey::from_secret(1, &crm_privacy::crypto::test_secret(105)).unwrap())
    .authenticator(auth)
    .build()
    .await
    .unwrap()
}

fn refused(r: Result<(), CustodianError>) -> AccessError {
    match r {
        Err(CustodianError::Access(a)) => a,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn changes_in_one_process_apply_at_the_others_next_call() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crm.db");
    let auth = Arc::new(InMemoryAuthenticator::new());
    let a = process(&path, auth.clone()).await;
    let b = process(&path, auth.clone()).await;
    let alice: SubjectId = a.register_subject().await.unwrap();
    let rec = a
        .store(alice, Email::parse("alice@example.com").unwrap())
        .await
        .unwrap();

    // Revocation in a, next call in b.
    let g = b.grant::<Notification>(alice, "mailer").await.unwrap();
    b.with::<Email, _, _>(&g, rec, |_| ()).await.unwrap();
    a.revoke(&g).await.unwrap();
    assert!(matches!(
        refused(b.with::<Email, _, _>(&g, rec, |_| ()).await),
        AccessError::Revoked { .. }
    ));

    // Withdrawal in a, next call in b (token opened in b, data gone in both).
    let now = Utc::now();
    auth.insert(
        "alice",
        SessionClaims {
            subject: alice,
            session: SessionId::new_random(),
            authenticated_at: now - TimeDelta::seconds(1),
            expires_at: now + TimeDelta::hours(1),
        },
    );
    let s = b.authenticate("alice").await.unwrap();
    b.give_consent(
        &s,
        ConsentScope::GoogleLink,
        CollectionMethod::UiAction,
        None,
    )
    .await
    .unwrap();
    let gid = b
        .store(alice, GoogleAccountId::parse("1234567890").unwrap())
        .await
        .unwrap();
    let auth_grant = b
        .grant::<crm_privacy::Authentication>(alice, "signin")
        .await
        .unwrap();
    let token = b.seal_grant(&auth_grant).unwrap();
    a.withdraw_consent(alice, ConsentScope::GoogleLink)
        .await
        .unwrap();
    assert!(
        b.with::<GoogleAccountId, _, _>(&auth_grant, gid, |_| ())
            .await
            .is_err()
    );
    assert!(
        b.open_grant::<crm_privacy::Authentication>(&token)
            .await
            .is_err()
    );
    assert!(
        b.grant::<crm_privacy::Authentication>(alice, "signin")
            .await
            .is_err()
    );

    // Restriction in b, next call in a.
    let g2 = a.grant::<Notification>(alice, "mailer").await.unwrap();
    b.restrict(alice).await.unwrap();
    assert!(matches!(
        refused(a.with::<Email, _, _>(&g2, rec, |_| ()).await),
        AccessError::Restricted { .. }
    ));
    b.lift_restriction(alice).await.unwrap();
    a.with::<Email, _, _>(&g2, rec, |_| ()).await.unwrap();

    // Erasure in a, next call in b.
    a.erase(alice).await.unwrap();
    assert!(matches!(
        refused(b.with::<Email, _, _>(&g2, rec, |_| ()).await),
        AccessError::Erased { .. }
    ));
    assert!(b.grant::<Notification>(alice, "mailer").await.is_err());
    assert!(matches!(
        b.store(alice, Email::parse("alice@example.com").unwrap())
            .await,
        Err(CustodianError::Erased(_))
    ));
}

#[tokio::test]
async fn single_process_mode_needs_an_exclusive_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crm.db");
    let kr = || {
        Keyring::new(
            Kek::from_bytes(1, &crm_privacy::crypto::test_secret(3)).unwrap(),
            &crm_privacy::crypto::test_secret(9),
        )
        .unwrap()
    };
    // A shared open refuses the opt-out of catching up.
    let shared = Custodian::builder(kr())
        .store(Arc::new(SqliteStore::open(&path).unwrap()))
        .single_process()
        .build()
        .await;
    assert!(matches!(shared, Err(CustodianError::Config(_))));
    // An exclusive open accepts it, and a second opener is refused.
    let excl = Arc::new(SqliteStore::open_exclusive(&path).unwrap());
    let c = Custodian::builder(kr())
        .store(excl)
        .single_process()
        .build()
        .await;
    assert!(c.is_ok());
    assert!(SqliteStore::open(&path).is_err());
}
