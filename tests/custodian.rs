#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]
//! End-to-end guarantees of the Custodian on the in-memory stores.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use crm_privacy::crypto::{Kek, Keyring};
use crm_privacy::custodian::{
    AuditKind, CollectionMethod, ConsentScope, Custodian, CustodianError, RetentionRule,
};
use crm_privacy::store::{
    ChainName, ChainStore, InMemoryChainStore, InMemoryKeyStore, InMemoryRecordStore,
};
use crm_privacy::*;

const CANARY: &str = "cnry4e1d";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap()
}

fn keyring() -> Keyring {
    Keyring::new(Kek::from_bytes(1, &[1; 32]).unwrap(), &[2; 32]).unwrap()
}

async fn custodian() -> Custodian {
    Custodian::builder(keyring())
        .immutable(Category::CustomerRecord, "commercial")
        .build()
        .await
        .unwrap()
}

fn session(subject: SubjectId, now: DateTime<Utc>) -> UserSession {
    UserSession::new(
        subject,
        SessionId::new_random(),
        now,
        now + TimeDelta::hours(1),
    )
}

#[tokio::test]
async fn store_and_read_through_grants() {
    let c = custodian().await;
    let now = t0();
    let alice = c.register_subject(now).await.unwrap();
    let bob = c.register_subject(now).await.unwrap();
    let email = c
        .store(alice, Email::parse("Alice@Example.com").unwrap(), now)
        .await
        .unwrap();
    let g = c.grant::<Notification>(alice, "mailer", now).await.unwrap();
    let got = c
        .with::<Email, _, _>(&g, email, now, |e| e.as_str().to_owned())
        .await
        .unwrap();
    assert_eq!(got, "Alice@example.com");
    // Wrong subject, wrong kind, expired.
    let gb = c.grant::<Notification>(bob, "mailer", now).await.unwrap();
    assert!(matches!(
        c.with::<Email, _, _>(&gb, email, now, |_| ()).await,
        Err(CustodianError::Access(AccessError::WrongSubject { .. }))
    ));
    let phone = c
        .store(alice, Phone::parse("+41 44 668 18 00").unwrap(), now)
        .await
        .unwrap();
    assert!(matches!(
        c.with::<Email, _, _>(&g, phone, now, |_| ()).await,
        Err(CustodianError::WrongKind { .. })
    ));
    assert!(matches!(
        c.with::<Email, _, _>(&g, email, now + TimeDelta::hours(1), |_| ())
            .await,
        Err(CustodianError::Access(AccessError::Expired { .. }))
    ));
    // Lookup through the blind index.
    assert_eq!(
        c.find_by_email(&Email::parse("alice@EXAMPLE.com").unwrap())
            .await
            .unwrap(),
        Vec::<SubjectId>::new(),
        "local part is case-sensitive"
    );
    assert_eq!(
        c.find_by_email(&Email::parse("Alice@example.COM").unwrap())
            .await
            .unwrap(),
        vec![alice]
    );
    assert_eq!(
        c.find_by_phone(&Phone::parse("+41446681800").unwrap())
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
    let c = custodian().await;
    let now = t0();
    let alice = c.register_subject(now).await.unwrap();
    let s = session(alice, now);
    // 3.3: no sign-in grant without a linked provider.
    assert!(matches!(
        c.grant::<Authentication>(alice, "login", now).await,
        Err(CustodianError::Issue(IssueError::NoConsent { .. }))
    ));
    let google = c
        .give_consent(
            alice,
            ConsentScope::GoogleLink,
            CollectionMethod::UiAction,
            Some("ui-evt-1"),
            now,
        )
        .await
        .unwrap();
    let gid = c
        .store(
            alice,
            ProviderAccountId::<Google>::parse("g-1234").unwrap(),
            now,
        )
        .await
        .unwrap();
    let auth = c
        .grant::<Authentication>(alice, "login", now)
        .await
        .unwrap();
    assert_eq!(auth.info().consent, Some(google));
    assert!(
        c.with::<ProviderAccountId<Google>, _, _>(&auth, gid, now, |_| ())
            .await
            .is_ok()
    );
    // Unlinking: the grant stops at once, and the linked id is gone.
    c.withdraw_consent(alice, ConsentScope::GoogleLink, now)
        .await
        .unwrap();
    assert!(matches!(
        c.with::<ProviderAccountId<Google>, _, _>(&auth, gid, now, |_| ())
            .await,
        Err(CustodianError::Access(AccessError::ConsentWithdrawn { .. }))
            | Err(CustodianError::Store(_))
    ));
    assert!(matches!(
        c.grant::<Authentication>(alice, "login", now).await,
        Err(CustodianError::Issue(IssueError::NoConsent { .. }))
    ));
    assert!(matches!(
        c.withdraw_consent(alice, ConsentScope::GoogleLink, now)
            .await,
        Err(CustodianError::NoActiveConsent { .. })
    ));

    // 3.7: Zoom — a conference only on the user's request and while connected.
    let proof = UserInitiated::new(&s, RequestId::new_random(), now);
    assert!(matches!(
        c.grant_conference(&proof, now).await,
        Err(CustodianError::Issue(IssueError::NoConsent { .. }))
    ));
    c.give_consent(
        alice,
        ConsentScope::ZoomLink,
        CollectionMethod::UiAction,
        None,
        now,
    )
    .await
    .unwrap();
    let token = c
        .store(
            alice,
            ZoomAccessToken::parse("zoom-secret-token").unwrap(),
            now,
        )
        .await
        .unwrap();
    let conf = c.grant_conference(&proof, now).await.unwrap();
    assert!(
        c.with::<ZoomAccessToken, _, _>(&conf, token, now, |t| t.as_str().len())
            .await
            .is_ok()
    );
    c.withdraw_consent(alice, ConsentScope::ZoomLink, now)
        .await
        .unwrap();
    // The grant fails at once, with the reason.
    let r = c
        .with::<ZoomAccessToken, _, _>(&conf, token, now, |_| ())
        .await;
    assert!(
        matches!(
            r,
            Err(CustodianError::Access(AccessError::ConsentWithdrawn { .. }))
        ),
        "{r:?}"
    );
    // Re-giving consent does not revive old grants.
    c.give_consent(
        alice,
        ConsentScope::ZoomLink,
        CollectionMethod::UiAction,
        None,
        now,
    )
    .await
    .unwrap();
    let token2 = c
        .store(
            alice,
            ZoomAccessToken::parse("zoom-secret-token-2").unwrap(),
            now,
        )
        .await
        .unwrap();
    assert!(matches!(
        c.with::<ZoomAccessToken, _, _>(&conf, token2, now, |_| ())
            .await,
        Err(CustodianError::Access(AccessError::ConsentWithdrawn { .. }))
    ));
    // And the token stored before the disconnect is gone: even a new, valid grant cannot
    // read it.
    let conf2 = c
        .grant_conference(&UserInitiated::new(&s, RequestId::new_random(), now), now)
        .await
        .unwrap();
    let r = c
        .with::<ZoomAccessToken, _, _>(&conf2, token, now, |_| ())
        .await;
    assert!(
        matches!(
            r,
            Err(CustodianError::Store(
                crm_privacy::store::StoreError::NotFound { .. }
            ))
        ),
        "{r:?}"
    );
    assert!(
        c.with::<ZoomAccessToken, _, _>(&conf2, token2, now, |_| ())
            .await
            .is_ok()
    );
    c.verify_chains().await.unwrap();
}

#[tokio::test]
async fn restriction_erasure_and_shredding() {
    let c = custodian().await;
    let now = t0();
    let alice = c.register_subject(now).await.unwrap();
    let ip = c
        .store(alice, IpAddress::parse("203.0.113.7").unwrap(), now)
        .await
        .unwrap();
    let stats = c.grant::<Analytics>(alice, "stats", now).await.unwrap();
    let legal = c
        .grant::<LegalCompliance>(alice, "legal", now)
        .await
        .unwrap();
    c.restrict(alice, now).await.unwrap();
    assert!(matches!(
        c.with::<IpAddress, _, _>(&stats, ip, now, |_| ()).await,
        Err(CustodianError::Access(AccessError::Restricted { .. }))
    ));
    assert!(matches!(
        c.grant::<Analytics>(alice, "stats", now).await,
        Err(CustodianError::Issue(IssueError::Restricted { .. }))
    ));
    // Legal obligations stay possible (Art. 18(2)).
    assert!(
        c.with::<IpAddress, _, _>(&legal, ip, now, |_| ())
            .await
            .is_ok()
    );
    c.lift_restriction(alice, now).await.unwrap();
    assert!(
        c.with::<IpAddress, _, _>(&stats, ip, now, |_| ())
            .await
            .is_ok()
    );

    let report = c.erase(alice, now).await.unwrap();
    assert_eq!(report.records_deleted, 1);
    assert!(report.key_destroyed);
    assert_eq!(report.backups_age_out_by, now + TimeDelta::days(35));
    assert!(matches!(
        c.with::<IpAddress, _, _>(&legal, ip, now, |_| ()).await,
        Err(CustodianError::Access(AccessError::Erased { .. }))
    ));
    assert!(matches!(
        c.store(alice, Email::parse("a@example.com").unwrap(), now)
            .await,
        Err(CustodianError::Erased(_))
    ));
    assert!(matches!(
        c.grant::<LegalCompliance>(alice, "legal", now).await,
        Err(CustodianError::Issue(IssueError::Erased { .. }))
    ));
    assert!(format!("{report:?}").contains("key_destroyed: true"));
}

#[tokio::test]
async fn erased_subject_copies_are_unreadable() {
    // A backup copy of the records taken before erasure cannot be opened afterwards.
    let records = Arc::new(InMemoryRecordStore::new());
    let keys = Arc::new(InMemoryKeyStore::new());
    let chains = Arc::new(InMemoryChainStore::new());
    let c = Custodian::builder(keyring())
        .records(records.clone())
        .keys(keys.clone())
        .chains(chains.clone())
        .build()
        .await
        .unwrap();
    let now = t0();
    let alice = c.register_subject(now).await.unwrap();
    let rec = c
        .store(alice, Email::parse("alice@example.com").unwrap(), now)
        .await
        .unwrap();
    use crm_privacy::store::RecordStore;
    let backup = records.get(rec).await.unwrap();
    c.erase(alice, now).await.unwrap();
    records.put(backup).await.unwrap(); // restore the old row from "backup"
    // A fresh custodian on the same stores (as after a restore) still cannot read it.
    let c2 = Custodian::builder(keyring())
        .records(records)
        .keys(keys)
        .chains(chains)
        .build()
        .await
        .unwrap();
    let s = session(alice, now);
    let r = c2.grant_owner(&s, now).await;
    assert!(matches!(
        r,
        Err(CustodianError::Issue(IssueError::Erased { .. }))
    ));
    let issuer = GrantIssuer::builder().build().unwrap();
    let foreign = issuer.issue_owner(&s, now).unwrap();
    let r = c2.with::<Email, _, _>(&foreign, rec, now, |_| ()).await;
    assert!(
        matches!(
            r,
            Err(CustodianError::Crypto(crypto::CryptoError::Shredded))
        ),
        "{r:?}"
    );
}

#[tokio::test]
async fn rectification_and_export() {
    let c = custodian().await;
    let now = t0();
    let alice = c.register_subject(now).await.unwrap();
    let bob = c.register_subject(now).await.unwrap();
    let name = c
        .store(alice, PersonName::parse("Alice Smith").unwrap(), now)
        .await
        .unwrap();
    let mut rec = CustomerRecord::new();
    rec.set("invoice_number", "INV-1").unwrap();
    let cust = c.store(alice, rec, now).await.unwrap();
    c.store(bob, PersonName::parse(CANARY).unwrap(), now)
        .await
        .unwrap();
    let own = c.grant_owner(&session(alice, now), now).await.unwrap();
    c.rectify(&own, name, PersonName::parse("Alice Jones").unwrap(), now)
        .await
        .unwrap();
    assert_eq!(
        c.with::<PersonName, _, _>(&own, name, now, |n| n.as_str().to_owned())
            .await
            .unwrap(),
        "Alice Jones"
    );
    let mut rec2 = CustomerRecord::new();
    rec2.set("invoice_number", "INV-2").unwrap();
    let err = c.rectify(&own, cust, rec2, now).await.unwrap_err();
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
    // Bob's session cannot rectify Alice's data.
    let bob_own = c.grant_owner(&session(bob, now), now).await.unwrap();
    assert!(matches!(
        c.rectify(&bob_own, name, PersonName::parse("X").unwrap(), now)
            .await,
        Err(CustodianError::Access(AccessError::WrongSubject { .. }))
    ));

    c.give_consent(
        alice,
        ConsentScope::Cookies,
        CollectionMethod::UiAction,
        None,
        now,
    )
    .await
    .unwrap();
    let export = c.export(&own, now).await.unwrap();
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
    let c = Custodian::builder(keyring())
        .retention(Category::PersonName, RetentionRule { months: 24 })
        .build()
        .await
        .unwrap();
    let jan31 = Utc.with_ymd_and_hms(2027, 1, 31, 10, 0, 0).unwrap();
    let alice = c.register_subject(jan31).await.unwrap();
    let ip = c
        .store(alice, IpAddress::parse("198.51.100.1").unwrap(), jan31)
        .await
        .unwrap();
    let email = c
        .store(alice, Email::parse("a@example.com").unwrap(), jan31)
        .await
        .unwrap();
    let name = c
        .store(alice, PersonName::parse("A").unwrap(), jan31)
        .await
        .unwrap();
    // 13 months after Jan 31 2027 is Feb 29 2028 (leap year, month-end clamped).
    let deadline = Utc.with_ymd_and_hms(2028, 2, 29, 10, 0, 0).unwrap();
    let before = c.sweep(deadline - TimeDelta::seconds(1)).await.unwrap();
    assert!(before.iter().all(|l| !l.deleted));
    let line = before.iter().find(|l| l.record == ip).unwrap();
    assert_eq!(line.deadline, Some(deadline));
    assert_eq!(
        before.iter().find(|l| l.record == email).unwrap().deadline,
        None
    );
    let after = c.sweep(deadline).await.unwrap();
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
    let chains = Arc::new(InMemoryChainStore::new());
    let c = Custodian::builder(keyring())
        .chains(chains.clone())
        .build()
        .await
        .unwrap();
    let now = t0();
    let alice = c.register_subject(now).await.unwrap();
    c.give_consent(
        alice,
        ConsentScope::Cookies,
        CollectionMethod::Api,
        None,
        now,
    )
    .await
    .unwrap();
    // Copy the chains with one ledger entry altered into a new store.
    let forged = Arc::new(InMemoryChainStore::new());
    for name in [ChainName::Ledger, ChainName::Audit] {
        let mut anchor = crm_privacy::chain::Anchor::default();
        for mut e in chains.entries(name).await.unwrap() {
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
    let r = Custodian::builder(keyring()).chains(forged).build().await;
    assert!(matches!(r, Err(CustodianError::Chain(_))), "{r:?}");
}

#[tokio::test]
async fn audit_and_errors_carry_no_personal_data() {
    let c = custodian().await;
    let now = t0();
    let alice = c.register_subject(now).await.unwrap();
    let e = c
        .store(
            alice,
            Email::parse(&format!("{CANARY}@example.com")).unwrap(),
            now,
        )
        .await
        .unwrap();
    let d = c
        .store(
            alice,
            DeviceInfo::new(CANARY, CANARY, CANARY, 10, 10).unwrap(),
            now,
        )
        .await
        .unwrap();
    let g = c.grant::<Notification>(alice, "mailer", now).await.unwrap();
    c.with::<Email, _, _>(&g, e, now, |_| ()).await.unwrap();
    let err = c
        .with::<DeviceInfo, _, _>(
            &c.grant::<Analytics>(alice, "s", now).await.unwrap(),
            e,
            now,
            |_| (),
        )
        .await
        .unwrap_err();
    let err2 = c
        .with::<DeviceInfo, _, _>(
            &c.grant::<Analytics>(SubjectId::new_random(), "s", now)
                .await
                .unwrap(),
            d,
            now,
            |_| (),
        )
        .await
        .unwrap_err();
    let events = c.audit_events().await.unwrap();
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
            let c = custodian().await;
            let now = t0();
            let alice = c.register_subject(now).await.unwrap();
            c.give_consent(
                alice,
                ConsentScope::Cookies,
                CollectionMethod::UiAction,
                None,
                now,
            )
            .await
            .unwrap();
            let mut p = CookiePreference::new();
            p.set_language("fr").unwrap();
            let rec = c.store(alice, p, now).await.unwrap();
            let g = c.grant::<Preferences>(alice, "ui", now).await.unwrap();
            let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
            let reader = {
                let (c, g, done) = (c.clone(), g.clone(), done.clone());
                tokio::spawn(async move {
                    let mut after_withdraw_ok = 0;
                    for _ in 0..200 {
                        let withdrawn_before = done.load(std::sync::atomic::Ordering::SeqCst);
                        let ok = c
                            .with::<CookiePreference, _, _>(&g, rec, now, |_| ())
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
            c.withdraw_consent(alice, ConsentScope::Cookies, now)
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
    let c = Custodian::builder(keyring())
        .schedule(b.build().unwrap())
        .build()
        .await
        .unwrap();
    let s = c.register_subject(t).await.unwrap();
    let ip = c
        .store(s, IpAddress::parse("198.51.100.9").unwrap(), t)
        .await
        .unwrap();
    let email = c
        .store(s, Email::parse("held@example.com").unwrap(), t)
        .await
        .unwrap();
    let mut r = CustomerRecord::new();
    r.set("invoice", "INV-9").unwrap();
    let cust = c.store(s, r, t).await.unwrap();
    let later = Utc.with_ymd_and_hms(2027, 3, 1, 10, 0, 0).unwrap();
    let holds = vec![Hold {
        id: "case-12".into(),
        subject: Some(s),
        kind: Some(Category::Email),
        placed_at: t,
        lifted_at: None,
    }];
    let lines = c.sweep_with_holds(later, &holds).await.unwrap();
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
        c.sweep_with_holds(later, &lifted)
            .await
            .unwrap()
            .iter()
            .find(|l| l.record == email)
            .unwrap()
            .deleted
    );
}

/// Two custodians sharing stores (shared mode), as two app servers would: a grant revoked in
/// one is refused by the other at its very next read and token open, with the revocation
/// recorded in the ledger and the audit log.
#[tokio::test]
async fn revocation_in_one_process_stops_the_next_read_in_another() {
    let records: crm_privacy::store::DynRecordStore = Arc::new(InMemoryRecordStore::new());
    let chains: crm_privacy::store::DynChainStore = Arc::new(InMemoryChainStore::new());
    let keys: crm_privacy::store::DynKeyStore = Arc::new(InMemoryKeyStore::new());
    let build = || async {
        Custodian::builder(keyring())
            .records(records.clone())
            .chains(chains.clone())
            .keys(keys.clone())
            .token_key(TokenKey::from_secret(1, &[6; 32]).unwrap())
            .shared(true)
            .build()
            .await
            .unwrap()
    };
    let a = build().await;
    let b = build().await;
    let now = t0();
    let alice = a.register_subject(now).await.unwrap();
    let rec = a
        .store(alice, Email::parse("alice@example.com").unwrap(), now)
        .await
        .unwrap();
    let g = a.grant::<Notification>(alice, "mailer", now).await.unwrap();
    let token = a.seal_grant(&g);
    let in_b = b.open_grant::<Notification>(&token, now).await.unwrap();
    assert!(b.with::<Email, _, _>(&in_b, rec, now, |_| ()).await.is_ok());
    assert!(a.with::<Email, _, _>(&g, rec, now, |_| ()).await.is_ok());

    b.revoke(&in_b, now).await.unwrap();
    let r = a.with::<Email, _, _>(&g, rec, now, |_| ()).await;
    assert!(
        matches!(r, Err(CustodianError::Access(AccessError::Revoked { .. }))),
        "A must refuse the grant B revoked at its very next read: {r:?}"
    );
    assert!(a.open_grant::<Notification>(&token, now).await.is_err());
    // A third process starting later replays the revocation from the ledger.
    let c = build().await;
    assert!(c.open_grant::<Notification>(&token, now).await.is_err());
    // Other grants are untouched.
    let g2 = a.grant::<Notification>(alice, "mailer", now).await.unwrap();
    assert!(a.with::<Email, _, _>(&g2, rec, now, |_| ()).await.is_ok());
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
