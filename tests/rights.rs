#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]
//! Disclosure (clause 7), sharing (clause 5) and staff access (clause 8.1) through the custodian.

mod common;

use chrono::TimeDelta;
use common::{Fx, t0};
use crm_privacy::crypto::Keyring;
use crm_privacy::custodian::{CustodianBuilder, CustodianError};
use crm_privacy::disclosure::{Disclosure, DisclosureError, LawfulRequest};
use crm_privacy::ledger::AuditKind;
use crm_privacy::policy::Processor;
use crm_privacy::sharing::{Audience, SharingError, SharingPolicy};
use crm_privacy::*;

const CANARY: &str = "rights.canary.91@example.com";

/// A custodian on in-memory stores whose clock reads `t0()`, with the host's login and staff
/// directory stand-ins.
async fn harness_with(configure: impl FnOnce(CustodianBuilder) -> CustodianBuilder) -> Fx {
    let keyring = Keyring::generate().unwrap();
    common::deployment(t0(), keyring, configure).await
}

async fn harness() -> Fx {
    harness_with(|b| b).await
}

#[tokio::test]
async fn disclosures_only_to_listed_processors_and_lawful_requests() {
    let h = harness().await;
    let c = &h.c;
    let now = t0();
    let s = c.register_subject().await.unwrap();
    let email = c.store(s, Email::parse(CANARY).unwrap()).await.unwrap();
    // 7.1: the email delivery provider is listed for notifications.
    let d = Disclosure::to_processor(
        Processor::EmailDelivery,
        Category::Email,
        PurposeId::Notification,
    )
    .unwrap();
    let g = c.grant::<Notification>(s, "mailer").await.unwrap();
    let sent = c
        .disclose::<Email, _, _>(&g, email, &d, |e| e.as_str().len())
        .await
        .unwrap();
    assert_eq!(sent, CANARY.len());
    // Unlisted recipients are refused.
    assert_eq!(
        Disclosure::to_processor(Processor::Zoom, Category::Email, PurposeId::Notification)
            .unwrap_err(),
        DisclosureError::NotListed {
            processor: Processor::Zoom,
            kind: "email",
            purpose: "notification"
        }
    );
    assert!(
        Disclosure::to_processor(Processor::SmsGateway, Category::Phone, PurposeId::Analytics)
            .is_err()
    );
    // 7.2: authorities need a complete lawful request.
    assert_eq!(
        LawfulRequest::new("", "criminal procedure code s. 95", "case 2026/17", now).unwrap_err(),
        DisclosureError::Incomplete("authority")
    );
    assert_eq!(
        LawfulRequest::new("cantonal police", " ", "case 2026/17", now).unwrap_err(),
        DisclosureError::Incomplete("legal basis")
    );
    let req = LawfulRequest::new(
        "cantonal police",
        "criminal procedure code s. 95",
        "case 2026/17",
        now,
    )
    .unwrap();
    assert_eq!(
        Disclosure::to_authority(req.clone(), Category::DeviceContact).unwrap_err(),
        DisclosureError::NotForAuthorities("device_contact")
    );
    let request = c.record_lawful_request(s, &req).await.unwrap();
    let to_police = Disclosure::to_authority(req, Category::Email).unwrap();
    let legal = c.grant_lawful(s, request, "legal").await.unwrap();
    c.disclose::<Email, _, _>(&legal, email, &to_police, |_| ())
        .await
        .unwrap();
    // A disclosure must match what is read.
    assert!(matches!(
        c.disclose::<Email, _, _>(&g, email, &to_police, |_| ())
            .await,
        Err(CustodianError::Disclosure(DisclosureError::Mismatch))
    ));
    // Every disclosure is audited with its recipient, never the value.
    let events = c.audit_events().await.unwrap();
    let disclosed: Vec<_> = events
        .iter()
        .filter(|e| e.kind == AuditKind::Disclosed)
        .collect();
    assert_eq!(disclosed.len(), 2);
    assert!(
        disclosed[0]
            .reference
            .as_deref()
            .unwrap()
            .contains("EmailDelivery")
    );
    assert!(
        disclosed[1]
            .reference
            .as_deref()
            .unwrap()
            .contains("case 2026/17")
    );
    assert!(!serde_json::to_string(&events).unwrap().contains(CANARY));
}

#[tokio::test]
async fn sharing_views_contain_only_what_the_subject_allowed() {
    let h = harness().await;
    let c = &h.c;
    let s = c.register_subject().await.unwrap();
    c.store(s, PersonName::parse("Alice Share").unwrap())
        .await
        .unwrap();
    c.store(s, Email::parse("alice.share@example.com").unwrap())
        .await
        .unwrap();
    let phone = c
        .store(s, Phone::parse("+41446681800").unwrap())
        .await
        .unwrap();
    // Nothing is shared by default: without the subject's sharing choice no colleague or chat
    // grant is issued at all, so no view can be read.
    assert!(matches!(
        c.grant::<TeamCollaboration>(s, "team").await,
        Err(CustodianError::Issue(IssueError::NoConsent { .. }))
    ));
    assert!(matches!(
        c.grant::<ChatSharing>(s, "chat").await,
        Err(CustodianError::Issue(IssueError::NoConsent { .. }))
    ));
    let own = c.grant_owner(&h.session(s).await).await.unwrap();
    let mut p = SharingPolicy::new();
    p.allow(Audience::Colleagues, Category::PersonName)
        .unwrap()
        .allow(Audience::Colleagues, Category::Email)
        .unwrap();
    p.allow(Audience::ExternalChat, Category::PersonName)
        .unwrap();
    assert_eq!(
        p.allow(Audience::ExternalChat, Category::DeviceContact)
            .unwrap_err(),
        SharingError::NotShareable {
            kind: "device_contact",
            audience: Audience::ExternalChat
        }
    );
    c.set_sharing(&own, p).await.unwrap();
    let team = c.grant::<TeamCollaboration>(s, "team").await.unwrap();
    let chat = c.grant::<ChatSharing>(s, "chat").await.unwrap();
    let colleagues: Vec<String> = c
        .shared_view(&team, Audience::Colleagues)
        .await
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(colleagues.len(), 2);
    assert!(
        colleagues.contains(&"person_name".to_owned()) && colleagues.contains(&"email".to_owned())
    );
    let external = c.shared_view(&chat, Audience::ExternalChat).await.unwrap();
    assert_eq!(external.len(), 1);
    assert_eq!(&*external[0].1, "Alice Share");
    // A grant for one audience does not open the other's view.
    assert!(matches!(
        c.shared_view(&team, Audience::ExternalChat).await,
        Err(CustodianError::WrongAudience)
    ));
    // The phone number is not shared: the team grant cannot read it on the direct path either.
    assert!(matches!(
        c.with::<Phone, _, _>(&team, phone, |_| ()).await,
        Err(CustodianError::Access(AccessError::NotShared { .. }))
    ));
}

#[tokio::test]
async fn staff_need_an_nda_on_file() {
    let h = harness().await;
    let c = &h.c;
    let now = t0();
    let s = c.register_subject().await.unwrap();
    let phone = c
        .store(s, Phone::parse("+41446681800").unwrap())
        .await
        .unwrap();
    let staff = StaffId::new_random();
    let r = c.grant_staff::<SupportContact>(s, staff).await;
    assert!(
        matches!(r, Err(CustodianError::Issue(IssueError::NdaMissing { .. }))),
        "{r:?}"
    );
    h.staff.file(NdaAttestation::new(
        staff,
        "nda-2026-031",
        now - TimeDelta::days(1),
        None,
    ));
    let g = c.grant_staff::<SupportContact>(s, staff).await.unwrap();
    assert_eq!(g.info().actor, Actor::Staff { staff });
    assert!(c.with::<Phone, _, _>(&g, phone, |_| ()).await.is_ok());
    h.staff.remove(staff);
    assert!(c.grant_staff::<SupportContact>(s, staff).await.is_err());
    // The grant already issued stops at its next use once the NDA is off file.
    assert!(matches!(
        c.with::<Phone, _, _>(&g, phone, |_| ()).await,
        Err(CustodianError::Access(AccessError::NdaMissing { .. }))
    ));
}

#[tokio::test]
async fn plans_reports_errors_and_audit_carry_no_personal_data() {
    use crm_privacy::retention::{ErasurePlan, RecordMeta, Schedule};
    let h = harness_with(|b| b.immutable(Category::CustomerRecord, "commercial")).await;
    let c = &h.c;
    let now = t0();
    let s = c.register_subject().await.unwrap();
    let e = c.store(s, Email::parse(CANARY).unwrap()).await.unwrap();
    let mut rec = CustomerRecord::new();
    rec.set("note", CANARY).unwrap();
    let r = c.store(s, rec).await.unwrap();
    let own = c.grant_owner(&h.session(s).await).await.unwrap();
    let mut rec2 = CustomerRecord::new();
    rec2.set("note", CANARY).unwrap();
    let err = c.rectify(&own, r, rec2).await.unwrap_err();
    let wrong = c
        .with::<Email, _, _>(
            &c.grant::<Notification>(SubjectId::new_random(), "m")
                .await
                .unwrap(),
            e,
            |_| (),
        )
        .await
        .unwrap_err();
    let metas: Vec<RecordMeta> = [
        (e, Category::Email, PurposeId::Notification),
        (r, Category::CustomerRecord, PurposeId::CustomerManagement),
    ]
    .iter()
    .map(|&(record, kind, purpose)| RecordMeta {
        record,
        subject: s,
        kind,
        purpose,
        collected_at: now,
        last_activity_at: None,
        account_closed_at: None,
        consent_withdrawn_at: None,
        purpose_fulfilled_at: None,
    })
    .collect();
    let plan = ErasurePlan::build(
        s,
        &metas,
        &Schedule::default_for_policy().unwrap(),
        &[],
        &[(Category::CustomerRecord, "commercial")],
        now,
        TimeDelta::days(7),
        TimeDelta::days(35),
    );
    let report = c.erase(s).await.unwrap();
    let rendered = format!(
        "{err} {err:?} {wrong} {wrong:?} {} {} {report:?} {} {:?}",
        plan.to_table(),
        serde_json::to_string(&plan).unwrap(),
        serde_json::to_string(&report).unwrap(),
        c.audit_events().await.unwrap()
    );
    assert!(
        !rendered.contains(CANARY) && !rendered.contains("rights.canary"),
        "{rendered}"
    );
    assert!(rendered.contains("customer_record"), "the field is named");
}
