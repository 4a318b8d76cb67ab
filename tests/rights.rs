#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]
//! Disclosure (clause 7), sharing (clause 5) and staff access (clause 8.1) through the custodian.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use crm_privacy::crypto::{Kek, Keyring};
use crm_privacy::custodian::{AuditKind, Custodian, CustodianError};
use crm_privacy::disclosure::{Disclosure, DisclosureError, LawfulRequest};
use crm_privacy::policy::Processor;
use crm_privacy::sharing::{Audience, SharingError, SharingPolicy};
use crm_privacy::staff::InMemoryStaffDirectory;
use crm_privacy::*;

const CANARY: &str = "rights.canary.91@example.com";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap()
}

async fn custodian() -> Custodian {
    Custodian::builder(Keyring::new(Kek::generate(1).unwrap(), &[3; 32]).unwrap())
        .build()
        .await
        .unwrap()
}

#[tokio::test]
async fn disclosures_only_to_listed_processors_and_lawful_requests() {
    let c = custodian().await;
    let now = t0();
    let s = c.register_subject(now).await.unwrap();
    let email = c
        .store(s, Email::parse(CANARY).unwrap(), now)
        .await
        .unwrap();
    // 7.1: the email delivery provider is listed for notifications.
    let d = Disclosure::to_processor(
        Processor::EmailDelivery,
        Category::Email,
        PurposeId::Notification,
    )
    .unwrap();
    let g = c.grant::<Notification>(s, "mailer", now).await.unwrap();
    let sent = c
        .disclose::<Email, _, _>(&g, email, &d, now, |e| e.as_str().len())
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
    let to_police = Disclosure::to_authority(req, Category::Email).unwrap();
    let legal = c.grant::<LegalCompliance>(s, "legal", now).await.unwrap();
    c.disclose::<Email, _, _>(&legal, email, &to_police, now, |_| ())
        .await
        .unwrap();
    // A disclosure must match what is read.
    assert!(matches!(
        c.disclose::<Email, _, _>(&g, email, &to_police, now, |_| ())
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
    let c = custodian().await;
    let now = t0();
    let s = c.register_subject(now).await.unwrap();
    c.store(s, PersonName::parse("Alice Share").unwrap(), now)
        .await
        .unwrap();
    c.store(s, Email::parse("alice.share@example.com").unwrap(), now)
        .await
        .unwrap();
    c.store(s, Phone::parse("+41446681800").unwrap(), now)
        .await
        .unwrap();
    let team = c.grant::<TeamCollaboration>(s, "team", now).await.unwrap();
    let chat = c.grant::<ChatSharing>(s, "chat", now).await.unwrap();
    // Nothing is shared by default.
    assert!(
        c.shared_view(&team, Audience::Colleagues, now)
            .await
            .unwrap()
            .is_empty()
    );
    let session = UserSession::new(s, SessionId::new_random(), now, now + TimeDelta::hours(1));
    let own = c.grant_owner(&session, now).await.unwrap();
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
    c.set_sharing(&own, p, now).await.unwrap();
    let colleagues: Vec<String> = c
        .shared_view(&team, Audience::Colleagues, now)
        .await
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(colleagues.len(), 2);
    assert!(
        colleagues.contains(&"person_name".to_owned()) && colleagues.contains(&"email".to_owned())
    );
    let external = c
        .shared_view(&chat, Audience::ExternalChat, now)
        .await
        .unwrap();
    assert_eq!(external.len(), 1);
    assert_eq!(&*external[0].1, "Alice Share");
    // A grant for one audience does not open the other's view.
    assert!(matches!(
        c.shared_view(&team, Audience::ExternalChat, now).await,
        Err(CustodianError::WrongAudience)
    ));
}

#[tokio::test]
async fn staff_need_an_nda_on_file() {
    let c = custodian().await;
    let now = t0();
    let s = c.register_subject(now).await.unwrap();
    let dir = InMemoryStaffDirectory::new();
    let staff = StaffId::new_random();
    let r = c
        .grant_staff_via::<SupportContact>(s, staff, &dir, now)
        .await;
    assert!(
        matches!(r, Err(CustodianError::Issue(IssueError::NdaMissing { .. }))),
        "{r:?}"
    );
    dir.file(NdaAttestation::new(
        staff,
        "nda-2026-031",
        now - TimeDelta::days(1),
        None,
    ));
    let g = c
        .grant_staff_via::<SupportContact>(s, staff, &dir, now)
        .await
        .unwrap();
    assert_eq!(g.info().actor, Actor::Staff { staff });
    dir.remove(staff);
    assert!(
        c.grant_staff_via::<SupportContact>(s, staff, &dir, now)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn plans_reports_errors_and_audit_carry_no_personal_data() {
    use crm_privacy::retention::{ErasurePlan, RecordMeta, Schedule};
    let c = Custodian::builder(Keyring::new(Kek::generate(1).unwrap(), &[3; 32]).unwrap())
        .immutable(Category::CustomerRecord, "commercial")
        .build()
        .await
        .unwrap();
    let now = t0();
    let s = c.register_subject(now).await.unwrap();
    let e = c
        .store(s, Email::parse(CANARY).unwrap(), now)
        .await
        .unwrap();
    let mut rec = CustomerRecord::new();
    rec.set("note", CANARY).unwrap();
    let r = c.store(s, rec, now).await.unwrap();
    let session = UserSession::new(s, SessionId::new_random(), now, now + TimeDelta::hours(1));
    let own = c.grant_owner(&session, now).await.unwrap();
    let mut rec2 = CustomerRecord::new();
    rec2.set("note", CANARY).unwrap();
    let err = c.rectify(&own, r, rec2, now).await.unwrap_err();
    let wrong = c
        .with::<Email, _, _>(
            &c.grant::<Notification>(SubjectId::new_random(), "m", now)
                .await
                .unwrap(),
            e,
            now,
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
    let report = c.erase(s, now).await.unwrap();
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
