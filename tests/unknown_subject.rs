#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]
//! Rights exercised on ids that were never registered, the way a careless or hostile host
//! would: a made-up id, or the deployment's own pseudo-subject. Erasure of either is refused
//! with `UnknownSubject` (its report would claim a key destroyed that never existed), and so
//! is restricting the deployment; restricting a made-up id only narrows processing and is
//! accepted (ffi/tests/c/test_rights.c relies on that). A real subject's erasure stays
//! idempotent.

mod common;

use crm_privacy::SubjectId;
use crm_privacy::custodian::CustodianError;
use crm_privacy::store::{ChainName, ChainStore};

async fn ledger_len(f: &common::Fx) -> usize {
    f.chains
        .entries_from(ChainName::Ledger, 0)
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn rights_on_ids_never_registered_are_refused_and_record_nothing() {
    let f = common::deployment(common::t0(), common::keyring(), |b| b).await;
    let made_up = SubjectId::new_random();
    let before = ledger_len(&f).await;
    for subject in [made_up, SubjectId::DEPLOYMENT] {
        match f.c.erase(subject).await {
            Err(CustodianError::UnknownSubject(s)) => assert_eq!(s, subject),
            other => panic!(
                "erase of an unregistered id: {:?}",
                other.map(|r| r.subject)
            ),
        }
    }
    let deployment = SubjectId::DEPLOYMENT;
    match f.c.restrict(deployment).await {
        Err(CustodianError::UnknownSubject(s)) => assert_eq!(s, deployment),
        other => panic!("restrict of the deployment: {other:?}"),
    }
    match f.c.lift_restriction(deployment).await {
        Err(CustodianError::UnknownSubject(s)) => assert_eq!(s, deployment),
        other => panic!("lift of the deployment: {other:?}"),
    }
    assert_eq!(ledger_len(&f).await, before, "nothing was recorded");
    // A made-up id may be restricted ahead of its registration: one entry, no error.
    f.c.restrict(made_up).await.unwrap();
    assert_eq!(ledger_len(&f).await, before + 1);

    // A registered subject: restricted, lifted, erased, and erased again (a retry).
    let alice = f.c.register_subject().await.unwrap();
    f.c.restrict(alice).await.unwrap();
    f.c.lift_restriction(alice).await.unwrap();
    let first = f.c.erase(alice).await.unwrap();
    let again = f.c.erase(alice).await.unwrap();
    assert_eq!(first.subject, again.subject);
}
