//! Issue 19, part 1: the data-subject request desk, tried from outside the crate — intake,
//! identity check through the host's authenticator, deadlines (one calendar month, one
//! extension of up to two more months told within the first), refusal, and fulfilment
//! through the custodian's own operations, every step in the ledger.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use chrono::{TimeDelta, TimeZone, Utc};
use common::{deployment, keyring};
use crm_privacy::IssueError;
use crm_privacy::custodian::CustodianError;
use crm_privacy::dsr::{DsrError, DsrId, DsrKind, DsrState, ExtensionReason, RefusalReason};
use crm_privacy::ledger::{AuditKind, LedgerChange, LedgerEvent};
use crm_privacy::store::ChainStore;
use crm_privacy::{Email, Notification};

fn jan31() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2028, 1, 31, 10, 0, 0).unwrap()
}

fn dsr_err(e: CustodianError) -> DsrError {
    match e {
        CustodianError::Dsr(d) => d,
        other => panic!("expected a request-desk error, got {other:?}"),
    }
}

#[tokio::test]
async fn erasure_request_from_intake_to_fulfilment() {
    let f = deployment(jan31(), keyring(), |b| b).await;
    let alice = f.c.register_subject().await.unwrap();
    let bob = f.c.register_subject().await.unwrap();
    let rec =
        f.c.store(alice, Email::parse("alice@example.com").unwrap())
            .await
            .unwrap();

    let r = f.c.dsr_receive(alice, DsrKind::Erase).await.unwrap();
    assert_eq!((r.state, r.received_at), (DsrState::Received, jan31()));
    // One calendar month, clamped: 31 January 2028 → 29 February 2028 (leap year).
    assert_eq!(
        r.due(),
        Some(Utc.with_ymd_and_hms(2028, 2, 29, 10, 0, 0).unwrap())
    );

    // Not verified yet: fulfilment refused, nothing erased.
    assert_eq!(
        dsr_err(f.c.dsr_fulfil_erasure(r.id).await.unwrap_err()),
        DsrError::NotVerified(r.id)
    );
    let g = f.c.grant::<Notification>(alice, "mailer").await.unwrap();
    assert!(f.c.with::<Email, _, _>(&g, rec, |_| ()).await.is_ok());

    // Another subject's session does not verify it; a session of another deployment neither.
    let bobs = f.session(bob).await;
    assert_eq!(
        dsr_err(f.c.dsr_verify(r.id, &bobs).await.unwrap_err()),
        DsrError::WrongSubject(r.id)
    );
    let other = deployment(jan31(), keyring(), |b| b).await;
    let foreign = other.session(alice).await;
    assert_eq!(
        f.c.dsr_verify(r.id, &foreign).await.unwrap_err(),
        CustodianError::Issue(IssueError::ForeignSession)
    );
    // An expired session neither.
    let short = f.session_for(alice, TimeDelta::minutes(1)).await;
    f.clock.advance(TimeDelta::minutes(2));
    assert_eq!(
        f.c.dsr_verify(r.id, &short).await.unwrap_err(),
        CustodianError::Issue(IssueError::SessionExpired)
    );
    assert_eq!(
        f.c.dsr_request(r.id).await.unwrap().state,
        DsrState::Received
    );

    let alices = f.session(alice).await;
    let v = f.c.dsr_verify(r.id, &alices).await.unwrap();
    assert_eq!(v.state, DsrState::Verified);
    // The wrong operation for the kind is refused.
    assert!(matches!(
        dsr_err(f.c.dsr_fulfil_restriction(r.id).await.unwrap_err()),
        DsrError::WrongKind { .. }
    ));
    let report = f.c.dsr_fulfil_erasure(r.id).await.unwrap();
    assert_eq!(report.records_deleted, 1);
    assert!(
        f.c.with::<Email, _, _>(&g, rec, |_| ()).await.is_err(),
        "erased"
    );
    let done = f.c.dsr_request(r.id).await.unwrap();
    assert_eq!(done.state, DsrState::Fulfilled);
    assert!(done.closed_at.is_some());
    assert_eq!(
        dsr_err(f.c.dsr_fulfil_erasure(r.id).await.unwrap_err()),
        DsrError::Closed(r.id)
    );
    // An erased subject files no new request.
    assert_eq!(
        f.c.dsr_receive(alice, DsrKind::Access).await.unwrap_err(),
        CustodianError::Erased(alice)
    );

    // Every step is in the ledger, replayed by another custodian of the deployment.
    let peer = f.same_stores(keyring()).build().await.unwrap();
    let seen = peer.dsr_request(r.id).await.unwrap();
    assert_eq!(seen.state, DsrState::Fulfilled);
    let entries = f
        .chains
        .entries_from(crm_privacy::store::ChainName::Ledger, 0)
        .await
        .unwrap();
    let steps: Vec<&'static str> = entries
        .iter()
        .filter_map(|e| crm_privacy::ledger::decode::<LedgerEvent>(e).ok())
        .filter_map(|e| match e.change {
            LedgerChange::DsrReceived { request, .. } if request == r.id => Some("received"),
            LedgerChange::DsrVerified { request } if request == r.id => Some("verified"),
            LedgerChange::DsrFulfilling { request } if request == r.id => Some("fulfilling"),
            LedgerChange::DsrFulfilled { request } if request == r.id => Some("fulfilled"),
            _ => None,
        })
        .collect();
    assert_eq!(steps, ["received", "verified", "fulfilling", "fulfilled"]);
    let audit = f
        .chains
        .entries_from(crm_privacy::store::ChainName::Audit, 0)
        .await
        .unwrap();
    let dsr_audits = audit
        .iter()
        .filter_map(|e| crm_privacy::ledger::decode::<crm_privacy::ledger::AuditEvent>(e).ok())
        .filter(|e| e.kind == AuditKind::SubjectRequest)
        .count();
    assert_eq!(dsr_audits, 4);
    // No step carries the address.
    for e in entries.iter().chain(audit.iter()) {
        assert!(!String::from_utf8_lossy(&e.body).contains("alice@example.com"));
    }
}

#[tokio::test]
async fn extensions_follow_article_12_3_and_move_the_deadline() {
    let f = deployment(jan31(), keyring(), |b| b).await;
    let alice = f.c.register_subject().await.unwrap();
    let r = f.c.dsr_receive(alice, DsrKind::Access).await.unwrap();
    let first = r.due().unwrap();
    let now = f.c.now();
    // Three months, zero months, or telling the subject in the future or before receipt:
    // refused.
    for (months, told) in [
        (3, now),
        (0, now),
        (1, now + TimeDelta::days(1)),
        (1, now - TimeDelta::days(1)),
    ] {
        assert!(matches!(
            dsr_err(
                f.c.dsr_extend(r.id, months, ExtensionReason::Complexity, told)
                    .await
                    .unwrap_err()
            ),
            DsrError::ExtensionNotAllowed(_) | DsrError::ExtensionTooLate(_)
        ));
    }
    f.clock.advance(TimeDelta::days(20));
    let told = f.c.now();
    let e =
        f.c.dsr_extend(r.id, 2, ExtensionReason::NumberOfRequests, told)
            .await
            .unwrap();
    // Three months from receipt: 31 January → 30 April (clamped).
    assert_eq!(
        e.due(),
        Some(Utc.with_ymd_and_hms(2028, 4, 30, 10, 0, 0).unwrap())
    );
    assert!(e.due().unwrap() > first);
    // Only one extension.
    assert_eq!(
        dsr_err(
            f.c.dsr_extend(r.id, 1, ExtensionReason::Complexity, told)
                .await
                .unwrap_err()
        ),
        DsrError::ExtensionNotAllowed(r.id)
    );

    // After the first month no extension may be decided.
    let late = f.c.dsr_receive(alice, DsrKind::Export).await.unwrap();
    f.clock.advance(TimeDelta::days(32));
    let now = f.c.now();
    assert_eq!(
        dsr_err(
            f.c.dsr_extend(late.id, 1, ExtensionReason::Complexity, now)
                .await
                .unwrap_err()
        ),
        DsrError::ExtensionTooLate(late.id)
    );
}

#[tokio::test]
async fn reports_name_what_is_overdue_and_what_is_due_soon() {
    let f = deployment(jan31(), keyring(), |b| b).await;
    let alice = f.c.register_subject().await.unwrap();
    let bob = f.c.register_subject().await.unwrap();
    let old = f.c.dsr_receive(alice, DsrKind::Restrict).await.unwrap();
    f.clock.advance(TimeDelta::days(20));
    let newer = f.c.dsr_receive(bob, DsrKind::Object).await.unwrap();
    let refused = f.c.dsr_receive(bob, DsrKind::Access).await.unwrap();
    f.c.dsr_refuse(refused.id, RefusalReason::ManifestlyUnfounded)
        .await
        .unwrap();
    assert_eq!(
        f.c.dsr_request(refused.id).await.unwrap().state,
        DsrState::Refused(RefusalReason::ManifestlyUnfounded)
    );
    // Day 20: nothing overdue; the old one (due 29 February) is within 10 days.
    assert!(f.c.dsr_overdue().await.unwrap().is_empty());
    let soon: Vec<DsrId> =
        f.c.dsr_due_within(10)
            .await
            .unwrap()
            .iter()
            .map(|r| r.id)
            .collect();
    assert_eq!(soon, [old.id]);
    // Day 31: the old one is overdue; the newer one is due within a month; refused ones
    // are in neither report.
    f.clock.advance(TimeDelta::days(11));
    let overdue: Vec<DsrId> =
        f.c.dsr_overdue()
            .await
            .unwrap()
            .iter()
            .map(|r| r.id)
            .collect();
    assert_eq!(overdue, [old.id]);
    let soon: Vec<DsrId> =
        f.c.dsr_due_within(31)
            .await
            .unwrap()
            .iter()
            .map(|r| r.id)
            .collect();
    assert_eq!(soon, [newer.id]);
    // Fulfilled late, it leaves the overdue report; the restriction is in force.
    let s = f.session(alice).await;
    f.c.dsr_verify(old.id, &s).await.unwrap();
    f.c.dsr_fulfil_restriction(old.id).await.unwrap();
    assert!(f.c.dsr_overdue().await.unwrap().is_empty());
    assert!(
        f.c.grant::<Notification>(alice, "mailer").await.is_err(),
        "restricted"
    );
    // An objection is fulfilled by restricting too.
    let s = f.session(bob).await;
    f.c.dsr_verify(newer.id, &s).await.unwrap();
    f.c.dsr_fulfil_restriction(newer.id).await.unwrap();
    assert!(
        f.c.grant::<Notification>(bob, "mailer").await.is_err(),
        "restricted"
    );
    // The desk snapshot agrees with a given instant.
    let desk = f.c.dsr_desk().await.unwrap();
    assert_eq!(desk.requests().len(), 3);
    assert!(
        desk.overdue(f.c.now() + TimeDelta::days(400)).is_empty(),
        "all closed"
    );
}

#[tokio::test]
async fn access_and_rectification_run_through_the_subjects_own_grant() {
    let f = deployment(jan31(), keyring(), |b| b).await;
    let alice = f.c.register_subject().await.unwrap();
    let bob = f.c.register_subject().await.unwrap();
    let rec =
        f.c.store(alice, Email::parse("alice@example.com").unwrap())
            .await
            .unwrap();
    let access = f.c.dsr_receive(alice, DsrKind::Access).await.unwrap();
    let rectify = f.c.dsr_receive(alice, DsrKind::Rectify).await.unwrap();
    let s = f.session(alice).await;
    f.c.dsr_verify(access.id, &s).await.unwrap();
    f.c.dsr_verify(rectify.id, &s).await.unwrap();
    // Bob's own grant does not fulfil Alice's request.
    let bobs = f.session(bob).await;
    let bob_grant = f.c.grant_owner(&bobs).await.unwrap();
    assert_eq!(
        dsr_err(
            f.c.dsr_fulfil_access(access.id, &bob_grant)
                .await
                .unwrap_err()
        ),
        DsrError::WrongSubject(access.id)
    );
    let own = f.c.grant_owner(&s).await.unwrap();
    let export = f.c.dsr_fulfil_access(access.id, &own).await.unwrap();
    assert!(export.to_json().unwrap().contains("alice@example.com"));
    f.c.dsr_fulfil_rectification(
        rectify.id,
        &own,
        rec,
        Email::parse("alice@example.org").unwrap(),
    )
    .await
    .unwrap();
    let g = f.c.grant::<Notification>(alice, "mailer").await.unwrap();
    let now =
        f.c.with::<Email, _, _>(&g, rec, |e| e.as_str().to_owned())
            .await
            .unwrap();
    assert_eq!(now, "alice@example.org");
    for id in [access.id, rectify.id] {
        assert_eq!(
            f.c.dsr_request(id).await.unwrap().state,
            DsrState::Fulfilled
        );
    }
    // The id round-trips through its text form (a host keeps it in its ticket system).
    assert_eq!(access.id.to_string().parse::<DsrId>().unwrap(), access.id);
}

/// Outside review: a refusal racing a fulfilment. Whichever the ledger records first wins;
/// the other call fails, and the final state agrees with what ran (never "refused" while
/// the erasure ran, never "fulfilled" while the refusal was reported as done).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refusal_racing_a_fulfilment_never_disagrees_with_what_ran() {
    for round in 0..40 {
        let f = deployment(jan31(), keyring(), |b| b).await;
        let alice = f.c.register_subject().await.unwrap();
        let rec =
            f.c.store(alice, Email::parse("race@example.com").unwrap())
                .await
                .unwrap();
        let r = f.c.dsr_receive(alice, DsrKind::Erase).await.unwrap();
        let s = f.session(alice).await;
        f.c.dsr_verify(r.id, &s).await.unwrap();
        let (c1, c2) = (f.c.clone(), f.c.clone());
        let fulfil = tokio::spawn(async move { c1.dsr_fulfil_erasure(r.id).await });
        let refuse =
            tokio::spawn(async move { c2.dsr_refuse(r.id, RefusalReason::LegalObligation).await });
        let (fulfilled, refused) = (fulfil.await.unwrap(), refuse.await.unwrap());
        assert!(
            fulfilled.is_ok() != refused.is_ok(),
            "round {round}: exactly one wins ({:?} / {:?})",
            fulfilled.as_ref().err(),
            refused.as_ref().err()
        );
        let state = f.c.dsr_request(r.id).await.unwrap().state;
        let g = f.c.grant::<Notification>(alice, "mailer").await;
        let erased = g.is_err()
            || f.c
                .with::<Email, _, _>(&g.unwrap(), rec, |_| ())
                .await
                .is_err();
        if fulfilled.is_ok() {
            assert_eq!(state, DsrState::Fulfilled, "round {round}");
            assert!(erased, "round {round}");
        } else {
            assert_eq!(
                state,
                DsrState::Refused(RefusalReason::LegalObligation),
                "round {round}"
            );
            assert!(!erased, "round {round}: refused, yet erased");
        }
    }
}

/// Outside review: a fulfilment whose operation fails for good (an immutable kind, a
/// record that is not the subject's) released its claim neither for a refusal nor for a
/// retry: the request stayed `Fulfilling` and overdue for good. The claim is released.
#[tokio::test]
async fn a_failed_fulfilment_releases_its_claim() {
    let f = deployment(jan31(), keyring(), |b| {
        b.immutable(crm_privacy::Category::Email, "commercial")
    })
    .await;
    let alice = f.c.register_subject().await.unwrap();
    let rec =
        f.c.store(alice, Email::parse("alice@example.com").unwrap())
            .await
            .unwrap();
    let s = f.session(alice).await;
    let own = f.c.grant_owner(&s).await.unwrap();

    // Immutable kind: the rectification fails, the request is verified again and can be
    // refused with the reason.
    let r = f.c.dsr_receive(alice, DsrKind::Rectify).await.unwrap();
    f.c.dsr_verify(r.id, &s).await.unwrap();
    f.c.dsr_fulfil_rectification(r.id, &own, rec, Email::parse("new@example.com").unwrap())
        .await
        .unwrap_err();
    assert_eq!(
        f.c.dsr_request(r.id).await.unwrap().state,
        DsrState::Verified
    );
    let refused =
        f.c.dsr_refuse(r.id, RefusalReason::LegalObligation)
            .await
            .unwrap();
    assert_eq!(
        refused.state,
        DsrState::Refused(RefusalReason::LegalObligation)
    );

    // Another subject's record: refused, released, and a later fulfilment can still run.
    let f2 = deployment(jan31(), keyring(), |b| b).await;
    let alice = f2.c.register_subject().await.unwrap();
    let bob = f2.c.register_subject().await.unwrap();
    let rec =
        f2.c.store(alice, Email::parse("alice@example.com").unwrap())
            .await
            .unwrap();
    let bobs_rec2 =
        f2.c.store(bob, Email::parse("bob@example.com").unwrap())
            .await
            .unwrap();
    let s = f2.session(alice).await;
    let own = f2.c.grant_owner(&s).await.unwrap();
    let r = f2.c.dsr_receive(alice, DsrKind::Rectify).await.unwrap();
    f2.c.dsr_verify(r.id, &s).await.unwrap();
    f2.c.dsr_fulfil_rectification(
        r.id,
        &own,
        bobs_rec2,
        Email::parse("x@example.com").unwrap(),
    )
    .await
    .unwrap_err();
    assert_eq!(
        f2.c.dsr_request(r.id).await.unwrap().state,
        DsrState::Verified
    );
    f2.c.dsr_fulfil_rectification(r.id, &own, rec, Email::parse("alice@example.org").unwrap())
        .await
        .unwrap();
    assert_eq!(
        f2.c.dsr_request(r.id).await.unwrap().state,
        DsrState::Fulfilled
    );
    // The release is in the ledger, where every process sees it.
    let released = f2
        .chains
        .entries_from(crm_privacy::store::ChainName::Ledger, 0)
        .await
        .unwrap()
        .iter()
        .filter_map(|e| crm_privacy::ledger::decode::<LedgerEvent>(e).ok())
        .filter(|e| matches!(e.change, LedgerChange::DsrReleased { request } if request == r.id))
        .count();
    assert_eq!(released, 1);
}

/// Outside review: requests for ids that were never registered (a made-up id, the
/// deployment's nil id) were received and counted on the desk.
#[tokio::test]
async fn only_a_registered_subject_can_file_a_request() {
    let f = deployment(jan31(), keyring(), |b| b).await;
    for id in [
        crm_privacy::SubjectId::new_random(),
        crm_privacy::SubjectId::DEPLOYMENT,
    ] {
        match f.c.dsr_receive(id, DsrKind::Access).await {
            Err(CustodianError::UnknownSubject(s)) => assert_eq!(s, id),
            other => panic!("expected UnknownSubject, got {other:?}"),
        }
    }
    assert!(f.c.dsr_desk().await.unwrap().requests().is_empty());
}

/// Outside review: a restricted subject could not get the owner grant, so an access or a
/// rectification request could not be fulfilled while the restriction stood (Art. 18(1)(a)
/// restricts precisely while the accuracy is contested). The subject's own access is exempt
/// from restriction; every other use stays stopped.
#[tokio::test]
async fn a_restricted_subject_still_gets_access_and_rectification() {
    let f = deployment(jan31(), keyring(), |b| b).await;
    let alice = f.c.register_subject().await.unwrap();
    let rec =
        f.c.store(alice, Email::parse("alice@example.com").unwrap())
            .await
            .unwrap();
    let mailer = f.c.grant::<Notification>(alice, "mailer").await.unwrap();
    let s = f.session(alice).await;
    let restrict = f.c.dsr_receive(alice, DsrKind::Restrict).await.unwrap();
    f.c.dsr_verify(restrict.id, &s).await.unwrap();
    f.c.dsr_fulfil_restriction(restrict.id).await.unwrap();
    // Our use stops...
    assert!(f.c.with::<Email, _, _>(&mailer, rec, |_| ()).await.is_err());
    assert!(f.c.grant::<Notification>(alice, "mailer").await.is_err());
    // ...the subject's own access and rectification do not.
    let own = f.c.grant_owner(&s).await.unwrap();
    let access = f.c.dsr_receive(alice, DsrKind::Access).await.unwrap();
    f.c.dsr_verify(access.id, &s).await.unwrap();
    let export = f.c.dsr_fulfil_access(access.id, &own).await.unwrap();
    assert!(export.to_json().unwrap().contains("alice@example.com"));
    let rectify = f.c.dsr_receive(alice, DsrKind::Rectify).await.unwrap();
    f.c.dsr_verify(rectify.id, &s).await.unwrap();
    f.c.dsr_fulfil_rectification(
        rectify.id,
        &own,
        rec,
        Email::parse("alice@example.org").unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(
        f.c.with::<Email, _, _>(&own, rec, |e| e.as_str().to_owned())
            .await
            .unwrap(),
        "alice@example.org"
    );
    // Still restricted for everything else.
    assert!(f.c.with::<Email, _, _>(&mailer, rec, |_| ()).await.is_err());
}
