#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]
//! End-to-end guarantees of the Custodian on the in-memory stores. Time is the custodian's:
//! each test drives a `ManualClock`; sessions come from the custodian's authenticator.

mod common;

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use common::{Fx, t0};
use crm_privacy::consent::{CollectionMethod, ConsentScope};
use crm_privacy::crypto::{Kek, Keyring};
use crm_privacy::custodian::{Custodian, CustodianBuilder, CustodianError, RetentionRule};
use crm_privacy::disclosure::LawfulRequest;
use crm_privacy::ledger::AuditKind;
use crm_privacy::store::{
    ChainName, ChainStore, InMemoryAuthenticator, InMemoryChainStore, InMemoryKeyStore,
    InMemoryRecordStore, RecordStore,
};
use crm_privacy::*;

const CANARY: &str = "cnry4e1d";

fn keyring() -> Keyring {
    Keyring::new(
        Kek::from_bytes(1, &crm_privacy::crypto::test_secret(1)).unwrap(),
        &crm_privacy::crypto::test_secret(2),
    )
    .unwrap()
}

/// A custodian on fresh in-memory stores, with its clock and the host's login stand-in.
async fn harness_at(
    start: DateTime<Utc>,
    configure: impl FnOnce(CustodianBuilder) -> CustodianBuilder,
) -> Fx {
    common::deployment(start, keyring(), configure).await
}

async fn harness() -> Fx {
    harness_at(t0(), |b| {
        b.immutable(Category::CustomerRecord, "commercial")
    })
    .await
}

/// Logs `subject` in (for an hour from the clock's now) through `c`'s authenticator.
async fn login(c: &Custodian, logins: &InMemoryAuthenticator, subject: SubjectId) -> UserSession {
    common::login(c, logins, subject, TimeDelta::hours(1)).await
}

#[tokio::test]
async fn store_and_read_through_grants() {
    let h = harness().await;
    let c = &h.c;
    let alice = c.register_subject().await.unwrap();
    let bob = c.register_subject().await.unwrap();
    let email = c
        .store(alice, Email::parse("Alice@Example.com").unwrap())
        .await
        .unwrap();
    let g = c.grant::<Notification>(alice, "mailer").await.unwrap();
    let got = c
        .with::<Email, _, _>(&g, email, |e| e.as_str().to_owned())
        .await
        .unwrap();
    assert_eq!(got, "Alice@example.com");
    // Wrong subject (refused exactly like a missing record), wrong kind, expired.
    let gb = c.grant::<Notification>(bob, "mailer").await.unwrap();
    assert!(matches!(
        c.with::<Email, _, _>(&gb, email, |_| ()).await,
        Err(CustodianError::Access(AccessError::NotVisible { record, .. })) if record == email
    ));
    let missing = RecordId::new_random();
    assert!(matches!(
        c.with::<Email, _, _>(&gb, missing, |_| ()).await,
        Err(CustodianError::Access(AccessError::NotVisible { record, .. })) if record == missing
    ));
    let phone = c
        .store(alice, Phone::parse("+41 44 668 18 00").unwrap())
        .await
        .unwrap();
    assert!(matches!(
        c.with::<Email, _, _>(&g, phone, |_| ()).await,
        Err(CustodianError::WrongKind { .. })
    ));
    // The grant lives 5 minutes by the custodian's clock: an hour later it has expired.
    h.clock.advance(TimeDelta::hours(1));
    assert!(matches!(
        c.with::<Email, _, _>(&g, email, |_| ()).await,
        Err(CustodianError::Access(AccessError::Expired { .. }))
    ));
    // Lookup through the blind index, with lookup grants.
    let by_email = c.grant_lookup::<Notification>("recovery").await.unwrap();
    let by_phone = c
        .grant_lookup::<IdentityVerification>("recovery")
        .await
        .unwrap();
    assert_eq!(
        c.find_by_email(&by_email, &Email::parse("alice@EXAMPLE.com").unwrap())
            .await
            .unwrap(),
        vec![alice],
        "lookups fold the local part's case too (Email::lookup_key, docs/validation.md)"
    );
    assert_eq!(
        c.find_by_email(&by_email, &Email::parse("Alice@example.COM").unwrap())
            .await
            .unwrap(),
        vec![alice]
    );
    assert_eq!(
        c.find_by_phone(&by_phone, &Phone::parse("+41446681800").unwrap())
            .await
            .unwrap(),
        vec![alice]
    );
    // Reads and grants are audited.
    let events = c.audit_events().await.unwrap();
    assert!(events.iter().any(|e| e.kind == AuditKind::Exposed
        && e.record == Some(email)
        && e.grant == Some(g.id())));
    assert!(
        events
            .iter()
            .any(|e| e.kind == AuditKind::GrantIssued && e.grant == Some(g.id()))
    );
    c.verify_chains().await.unwrap();
}

#[tokio::test]
async fn provider_and_zoom_consent_gate_grants() {
    let h = harness().await;
    let c = &h.c;
    let alice = c.register_subject().await.unwrap();
    let s = h.session(alice).await;
    // 3.3: no sign-in grant without a linked provider.
    assert!(matches!(
        c.grant::<Authentication>(alice, "login").await,
        Err(CustodianError::Issue(IssueError::NoConsent { .. }))
    ));
    let google = c
        .give_consent(
            &s,
            ConsentScope::GoogleLink,
            CollectionMethod::UiAction,
            Some("ui-evt-1"),
        )
        .await
        .unwrap();
    let gid = c
        .store(alice, ProviderAccountId::<Google>::parse("g-1234").unwrap())
        .await
        .unwrap();
    let auth = c.grant::<Authentication>(alice, "login").await.unwrap();
    assert_eq!(auth.info().consent, Some(google));
    assert!(
        c.with::<ProviderAccountId<Google>, _, _>(&auth, gid, |_| ())
            .await
            .is_ok()
    );
    // Unlinking: the grant stops at once, and the linked id is gone.
    c.withdraw_consent(alice, ConsentScope::GoogleLink)
        .await
        .unwrap();
    assert!(matches!(
        c.with::<ProviderAccountId<Google>, _, _>(&auth, gid, |_| ())
            .await,
        Err(CustodianError::Access(AccessError::ConsentWithdrawn { .. }))
            | Err(CustodianError::Store(_))
    ));
    assert!(matches!(
        h.records.get(gid).await,
        Err(crm_privacy::store::StoreError::NotFound { .. })
    ));
    assert!(matches!(
        c.grant::<Authentication>(alice, "login").await,
        Err(CustodianError::Issue(IssueError::NoConsent { .. }))
    ));
    assert!(matches!(
        c.withdraw_consent(alice, ConsentScope::GoogleLink).await,
        Err(CustodianError::NoActiveConsent { .. })
    ));

    // 3.7: Zoom — a conference only on the user's request and while connected.
    let proof = c.user_request(&s).unwrap();
    assert!(matches!(
        c.grant_conference(&proof).await,
        Err(CustodianError::Issue(IssueError::NoConsent { .. }))
    ));
    c.give_consent(&s, ConsentScope::ZoomLink, CollectionMethod::UiAction, None)
        .await
        .unwrap();
    let token = c
        .store(alice, ZoomAccessToken::parse("zoom-secret-token").unwrap())
        .await
        .unwrap();
    let conf = c.grant_conference(&proof).await.unwrap();
    assert!(
        c.with::<ZoomAccessToken, _, _>(&conf, token, |t| t.as_str().len())
            .await
            .is_ok()
    );
    c.withdraw_consent(alice, ConsentScope::ZoomLink)
        .await
        .unwrap();
    // The grant fails at once, with the reason.
    let r = c.with::<ZoomAccessToken, _, _>(&conf, token, |_| ()).await;
    assert!(
        matches!(
            r,
            Err(CustodianError::Access(AccessError::ConsentWithdrawn { .. }))
        ),
        "{r:?}"
    );
    // Re-giving consent does not revive old grants.
    c.give_consent(&s, ConsentScope::ZoomLink, CollectionMethod::UiAction, None)
        .await
        .unwrap();
    let token2 = c
        .store(
            alice,
            ZoomAccessToken::parse("zoom-secret-token-2").unwrap(),
        )
        .await
        .unwrap();
    assert!(matches!(
        c.with::<ZoomAccessToken, _, _>(&conf, token2, |_| ()).await,
        Err(CustodianError::Access(AccessError::ConsentWithdrawn { .. }))
    ));
    // And the token stored before the disconnect is gone from the store: even a new, valid
    // grant cannot read it.
    let conf2 = c
        .grant_conference(&c.user_request(&s).unwrap())
        .await
        .unwrap();
    let r = c.with::<ZoomAccessToken, _, _>(&conf2, token, |_| ()).await;
    assert!(
        matches!(
            r,
            Err(CustodianError::Access(AccessError::NotVisible { record, .. })) if record == token
        ),
        "{r:?}"
    );
    assert!(matches!(
        h.records.get(token).await,
        Err(crm_privacy::store::StoreError::NotFound { .. })
    ));
    assert!(
        c.with::<ZoomAccessToken, _, _>(&conf2, token2, |_| ())
            .await
            .is_ok()
    );
    c.verify_chains().await.unwrap();
}

#[tokio::test]
async fn restriction_erasure_and_shredding() {
    let h = harness().await;
    let c = &h.c;
    let now = t0();
    let alice = c.register_subject().await.unwrap();
    let ip = c
        .store(alice, IpAddress::parse("203.0.113.7").unwrap())
        .await
        .unwrap();
    let stats = c.grant::<Analytics>(alice, "stats").await.unwrap();
    let request = c
        .record_lawful_request(
            alice,
            &LawfulRequest::new("cantonal police", "CrimPC s. 95", "case 2026/3", now).unwrap(),
        )
        .await
        .unwrap();
    let legal = c.grant_lawful(alice, request, "legal").await.unwrap();
    c.restrict(alice).await.unwrap();
    assert!(matches!(
        c.with::<IpAddress, _, _>(&stats, ip, |_| ()).await,
        Err(CustodianError::Access(AccessError::Restricted { .. }))
    ));
    assert!(matches!(
        c.grant::<Analytics>(alice, "stats").await,
        Err(CustodianError::Issue(IssueError::Restricted { .. }))
    ));
    // Legal obligations stay possible (Art. 18(2)).
    assert!(c.with::<IpAddress, _, _>(&legal, ip, |_| ()).await.is_ok());
    c.lift_restriction(alice).await.unwrap();
    assert!(c.with::<IpAddress, _, _>(&stats, ip, |_| ()).await.is_ok());

    let report = c.erase(alice).await.unwrap();
    assert_eq!(report.records_deleted, 1);
    assert!(report.key_destroyed);
    assert_eq!(report.erased_at, now);
    assert_eq!(report.backups_age_out_by, now + TimeDelta::days(35));
    assert!(matches!(
        c.with::<IpAddress, _, _>(&legal, ip, |_| ()).await,
        Err(CustodianError::Access(AccessError::Erased { .. }))
    ));
    assert!(matches!(
        c.store(alice, Email::parse("a@example.com").unwrap()).await,
        Err(CustodianError::Erased(_))
    ));
    assert!(matches!(
        c.grant_lawful(alice, request, "legal").await,
        Err(CustodianError::Issue(IssueError::Erased { .. }))
    ));
    assert!(format!("{report:?}").contains("key_destroyed: true"));
}

#[tokio::test]
async fn erased_subject_copies_are_unreadable() {
    // A backup copy of the records taken before erasure cannot be opened afterwards.
    let h = harness_at(t0(), |b| b).await;
    let c = &h.c;
    let alice = c.register_subject().await.unwrap();
    let rec = c
        .store(alice, Email::parse("alice@example.com").unwrap())
        .await
        .unwrap();
    let backup = h.records.get(rec).await.unwrap();
    c.erase(alice).await.unwrap();
    h.records.put(backup.clone()).await.unwrap(); // restore the old row from "backup"
    // A fresh custodian on the same stores (as after a restore) refuses every grant.
    let logins2 = Arc::new(InMemoryAuthenticator::new());
    let c2 = h
        .same_stores(keyring())
        .clock(h.clock.clone())
        .authenticator(logins2.clone())
        .build()
        .await
        .unwrap();
    let s = login(&c2, &logins2, alice).await;
    let r = c2.grant_owner(&s).await;
    assert!(matches!(
        r,
        Err(CustodianError::Issue(IssueError::Erased { .. }))
    ));
    // Even an authority that never learned of the erasure (the ledger lost, only records
    // and keys restored) and so issues a grant cannot open the row: the key is destroyed.
    let logins3 = Arc::new(InMemoryAuthenticator::new());
    let c3 = h
        .same_stores(keyring())
        .chains(Arc::new(InMemoryChainStore::new()))
        .clock(h.clock.clone())
        .authenticator(logins3.clone())
        .build()
        .await
        .unwrap();
    let s3 = login(&c3, &logins3, alice).await;
    let unaware = c3.grant_owner(&s3).await.unwrap();
    let r = c3.with::<Email, _, _>(&unaware, rec, |_| ()).await;
    assert!(
        matches!(
            r,
            Err(CustodianError::Crypto(crypto::CryptoError::Shredded))
        ),
        "{r:?}"
    );
    // A grant of that other authority is refused by the original one outright.
    assert!(matches!(
        c.with::<Email, _, _>(&unaware, rec, |_| ()).await,
        Err(CustodianError::Access(AccessError::ForeignAuthority { .. }))
    ));
}

#[tokio::test]
async fn rectification_and_export() {
    let h = harness().await;
    let c = &h.c;
    let alice = c.register_subject().await.unwrap();
    let bob = c.register_subject().await.unwrap();
    let name = c
        .store(alice, PersonName::parse("Alice Smith").unwrap())
        .await
        .unwrap();
    let mut rec = CustomerRecord::new();
    rec.set("invoice_number", "INV-1").unwrap();
    let cust = c.store(alice, rec).await.unwrap();
    c.store(bob, PersonName::parse(CANARY).unwrap())
        .await
        .unwrap();
    let alice_session = h.session(alice).await;
    let own = c.grant_owner(&alice_session).await.unwrap();
    c.rectify(&own, name, PersonName::parse("Alice Jones").unwrap())
        .await
        .unwrap();
    assert_eq!(
        c.with::<PersonName, _, _>(&own, name, |n| n.as_str().to_owned())
            .await
            .unwrap(),
        "Alice Jones"
    );
    let mut rec2 = CustomerRecord::new();
    rec2.set("invoice_number", "INV-2").unwrap();
    let err = c.rectify(&own, cust, rec2).await.unwrap_err();
    assert!(matches!(
        err,
        CustodianError::Immutable {
            kind: "customer_record",
            reason: "commercial"
        }
    ));
    assert!(
        !err.to_string().contains("INV"),
        "error names the field, never the value"
    );
    // Bob's session cannot rectify Alice's data (her record is not visible to him).
    let bob_own = c.grant_owner(&h.session(bob).await).await.unwrap();
    assert!(matches!(
        c.rectify(&bob_own, name, PersonName::parse("X").unwrap())
            .await,
        Err(CustodianError::Access(AccessError::NotVisible { .. }))
    ));
    assert_eq!(
        c.with::<PersonName, _, _>(&own, name, |n| n.as_str().to_owned())
            .await
            .unwrap(),
        "Alice Jones",
        "the refused rectification changed nothing"
    );

    c.give_consent(
        &alice_session,
        ConsentScope::Cookies,
        CollectionMethod::UiAction,
        None,
    )
    .await
    .unwrap();
    let export = c.export(&own).await.unwrap();
    let json = export.to_json().unwrap();
    assert!(json.contains("Alice Jones") && json.contains("INV-1") && json.contains("cookies"));
    assert!(
        !json.contains(CANARY),
        "another subject's data never appears"
    );
    assert!(
        !format!("{export:?}").contains("Alice"),
        "Debug of an export is redacted"
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["records"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn retention_sweep_deletes_expired_records() {
    let jan31 = Utc.with_ymd_and_hms(2027, 1, 31, 10, 0, 0).unwrap();
    let h = harness_at(jan31, |b| {
        b.retention(Category::PersonName, RetentionRule { months: 24 })
    })
    .await;
    let c = &h.c;
    let alice = c.register_subject().await.unwrap();
    let ip = c
        .store(alice, IpAddress::parse("198.51.100.1").unwrap())
        .await
        .unwrap();
    let email = c
        .store(alice, Email::parse("a@example.com").unwrap())
        .await
        .unwrap();
    let name = c
        .store(alice, PersonName::parse("A").unwrap())
        .await
        .unwrap();
    // 13 months after Jan 31 2027 is Feb 29 2028 (leap year, month-end clamped).
    let deadline = Utc.with_ymd_and_hms(2028, 2, 29, 10, 0, 0).unwrap();
    h.clock.set(deadline - TimeDelta::seconds(1));
    let before = c.sweep().await.unwrap();
    assert!(before.iter().all(|l| !l.deleted));
    let line = before.iter().find(|l| l.record == ip).unwrap();
    assert_eq!(line.deadline, Some(deadline));
    assert_eq!(
        before.iter().find(|l| l.record == email).unwrap().deadline,
        None
    );
    h.clock.set(deadline);
    let after = c.sweep().await.unwrap();
    assert!(after.iter().find(|l| l.record == ip).unwrap().deleted);
    assert!(!after.iter().find(|l| l.record == name).unwrap().deleted);
    assert!(
        c.audit_events()
            .await
            .unwrap()
            .iter()
            .any(|e| e.kind == AuditKind::RetentionDeleted && e.record == Some(ip))
    );
}

#[tokio::test]
async fn tampered_chain_is_refused_at_start() {
    let h = harness().await;
    let c = &h.c;
    let alice = c.register_subject().await.unwrap();
    let s = h.session(alice).await;
    c.give_consent(&s, ConsentScope::Cookies, CollectionMethod::Api, None)
        .await
        .unwrap();
    // Copy the chains with one ledger entry altered into a new store.
    let forged = Arc::new(InMemoryChainStore::new());
    for name in [ChainName::Ledger, ChainName::Audit] {
        let mut anchor = crm_privacy::chain::Anchor::default();
        for mut e in h.chains.entries(name).await.unwrap() {
            if name == ChainName::Ledger {
                e.body = String::from_utf8(e.body)
                    .unwrap()
                    .replace("cookies", "zoom_link")
                    .into_bytes();
            }
            let expected = anchor;
            anchor.len += 1;
            anchor.head = e.hash;
            forged
                .append(vec![crm_privacy::store::ChainAppend {
                    chain: name,
                    expected,
                    entry: e,
                }])
                .await
                .unwrap();
        }
    }
    let r = h.same_stores(keyring()).chains(forged).build().await;
    // Refused either by the keyring tag the altered entry no longer matches or by the
    // broken chain link.
    assert!(
        matches!(
            r,
            Err(CustodianError::Chain(_) | CustodianError::UntaggedLedgerEntry { .. })
        ),
        "{r:?}"
    );
}

#[tokio::test]
async fn audit_and_errors_carry_no_personal_data() {
    let h = harness().await;
    let c = &h.c;
    let alice = c.register_subject().await.unwrap();
    let e = c
        .store(
            alice,
            Email::parse(&format!("{CANARY}@example.com")).unwrap(),
        )
        .await
        .unwrap();
    let d = c
        .store(
            alice,
            DeviceInfo::new(CANARY, CANARY, CANARY, 10, 10).unwrap(),
        )
        .await
        .unwrap();
    let g = c.grant::<Notification>(alice, "mailer").await.unwrap();
    c.with::<Email, _, _>(&g, e, |_| ()).await.unwrap();
    let err = c
        .with::<DeviceInfo, _, _>(&c.grant::<Analytics>(alice, "s").await.unwrap(), e, |_| ())
        .await
        .unwrap_err();
    let err2 = c
        .with::<DeviceInfo, _, _>(
            &c.grant::<Analytics>(SubjectId::new_random(), "s")
                .await
                .unwrap(),
            d,
            |_| (),
        )
        .await
        .unwrap_err();
    let events = c.audit_events().await.unwrap();
    assert!(
        events.iter().any(|e| e.kind == AuditKind::Refused),
        "the refusals are audited"
    );
    let rendered = format!(
        "{events:?} {} {err} {err:?} {err2} {c:?}",
        serde_json::to_string(&events).unwrap()
    );
    assert!(!rendered.contains(CANARY), "{rendered}");
}

#[test]
fn withdraw_racing_reads_never_reads_after_withdraw_returned() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(async {
        for round in 0..50 {
            let h = harness().await;
            let c = h.c.clone();
            let alice = c.register_subject().await.unwrap();
            let s = h.session(alice).await;
            c.give_consent(&s, ConsentScope::Cookies, CollectionMethod::UiAction, None)
                .await
                .unwrap();
            let mut p = CookiePreference::new();
            p.set_language("fr").unwrap();
            let rec = c.store(alice, p).await.unwrap();
            let g = c.grant::<Preferences>(alice, "ui").await.unwrap();
            let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
            let reader = {
                let (c, g, done) = (c.clone(), g.clone(), done.clone());
                tokio::spawn(async move {
                    let mut after_withdraw_ok = 0;
                    for _ in 0..200 {
                        let withdrawn_before = done.load(std::sync::atomic::Ordering::SeqCst);
                        let ok = c
                            .with::<CookiePreference, _, _>(&g, rec, |_| ())
                            .await
                            .is_ok();
                        if withdrawn_before && ok {
                            after_withdraw_ok += 1;
                        }
                        tokio::task::yield_now().await;
                    }
                    after_withdraw_ok
                })
            };
            tokio::task::yield_now().await;
            c.withdraw_consent(alice, ConsentScope::Cookies)
                .await
                .unwrap();
            done.store(true, std::sync::atomic::Ordering::SeqCst);
            assert_eq!(
                reader.await.unwrap(),
                0,
                "round {round}: a read succeeded after withdraw returned"
            );
        }
    });
}

#[tokio::test]
async fn sweep_applies_holds_and_legal_minimums_of_the_schedule() {
    use crm_privacy::retention::{Hold, LegalMinimum, Period, ScheduleBuilder, Trigger};
    let t = Utc.with_ymd_and_hms(2027, 1, 31, 10, 0, 0).unwrap();
    // Every kind: 1 month after last activity; customer records also kept 10 years by law.
    let mut b = ScheduleBuilder::default();
    for &c in Category::ALL {
        for &p in PurposeId::ALL.iter().filter(|&&p| policy::permits(c, p)) {
            b = if c == Category::CustomerRecord {
                b.rule_with_minimum(
                    c,
                    p,
                    Period::months(1),
                    Trigger::LastActivity,
                    LegalMinimum {
                        period: Period::months(120),
                        reference: "commercial code".into(),
                    },
                )
            } else {
                b.rule(c, p, Period::months(1), Trigger::LastActivity)
            };
        }
    }
    let schedule = b.build().unwrap();
    let h = harness_at(t, |b| b.schedule(schedule)).await;
    let c = &h.c;
    let s = c.register_subject().await.unwrap();
    let ip = c
        .store(s, IpAddress::parse("198.51.100.9").unwrap())
        .await
        .unwrap();
    let email = c
        .store(s, Email::parse("held@example.com").unwrap())
        .await
        .unwrap();
    let mut r = CustomerRecord::new();
    r.set("invoice", "INV-9").unwrap();
    let cust = c.store(s, r).await.unwrap();
    let later = Utc.with_ymd_and_hms(2027, 3, 1, 10, 0, 0).unwrap();
    h.clock.set(later);
    let holds = vec![Hold {
        id: "case-12".into(),
        subject: Some(s),
        kind: Some(Category::Email),
        placed_at: t,
        lifted_at: None,
    }];
    let lines = c.sweep_with_holds(&holds).await.unwrap();
    let line = |rec| lines.iter().find(|l| l.record == rec).unwrap().clone();
    assert!(line(ip).deleted, "released by every rule of its kind");
    assert_eq!(
        line(ip).deadline,
        Some(Utc.with_ymd_and_hms(2027, 2, 28, 10, 0, 0).unwrap()),
        "month end clamped"
    );
    assert!(!line(email).deleted);
    assert_eq!(
        line(email).held_by.as_deref(),
        Some("case-12"),
        "a hold suspends deletion"
    );
    assert!(!line(cust).deleted, "the legal minimum keeps it");
    assert_eq!(
        line(cust).deadline,
        Some(Utc.with_ymd_and_hms(2037, 1, 31, 10, 0, 0).unwrap())
    );
    // Once the hold is lifted, the next sweep deletes the email.
    let lifted = vec![Hold {
        lifted_at: Some(later),
        ..holds[0].clone()
    }];
    assert!(
        c.sweep_with_holds(&lifted)
            .await
            .unwrap()
            .iter()
            .find(|l| l.record == email)
            .unwrap()
            .deleted
    );
}

/// Two custodians sharing stores, as two app servers would (every custodian catches up with
/// the ledger before each decision): a grant revoked in one is refused by the other at its
/// very next read and token open, with the revocation recorded in the ledger and the audit
/// log.
#[tokio::test]
async fn revocation_in_one_process_stops_the_next_read_in_another() {
    let records: crm_privacy::store::DynRecordStore = Arc::new(InMemoryRecordStore::new());
    let chains: crm_privacy::store::DynChainStore = Arc::new(InMemoryChainStore::new());
    let keys: crm_privacy::store::DynKeyStore = Arc::new(InMemoryKeyStore::new());
    let clock = Arc::new(ManualClock::new(t0()));
    let build = || async {
        Custodian::builder(keyring())
            .records(records.clone())
            .chains(chains.clone())
            .keys(keys.clone())
            .clock(clock.clone())
            .token_key(TokenKey::from_secret(1, &crm_privacy::crypto::test_secret(106)).unwrap())
            .build()
            .await
            .unwrap()
    };
    let a = build().await;
    let b = build().await;
    let alice = a.register_subject().await.unwrap();
    let rec = a
        .store(alice, Email::parse("alice@example.com").unwrap())
        .await
        .unwrap();
    let g = a.grant::<Notification>(alice, "mailer").await.unwrap();
    let token = a.seal_grant(&g).unwrap();
    let in_b = b.open_grant::<Notification>(&token).await.unwrap();
    assert!(b.with::<Email, _, _>(&in_b, rec, |_| ()).await.is_ok());
    assert!(a.with::<Email, _, _>(&g, rec, |_| ()).await.is_ok());

    b.revoke(&in_b).await.unwrap();
    let r = a.with::<Email, _, _>(&g, rec, |_| ()).await;
    assert!(
        matches!(r, Err(CustodianError::Access(AccessError::Revoked { .. }))),
        "A must refuse the grant B revoked at its very next read: {r:?}"
    );
    assert!(a.open_grant::<Notification>(&token).await.is_err());
    // A third process starting later replays the revocation from the ledger.
    let c = build().await;
    assert!(c.open_grant::<Notification>(&token).await.is_err());
    // Other grants are untouched.
    let g2 = a.grant::<Notification>(alice, "mailer").await.unwrap();
    assert!(a.with::<Email, _, _>(&g2, rec, |_| ()).await.is_ok());
    let revoked = a
        .audit_events()
        .await
        .unwrap()
        .iter()
        .filter(|e| e.kind == AuditKind::GrantRevoked && e.grant == Some(g.id()))
        .count();
    assert_eq!(revoked, 1);
    a.verify_chains().await.unwrap();
}
