#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]
//! One authority (issue 13): the custodian is the only gate, on every path, with its own
//! clock. One test per bypass class found from outside the crate; each names the item of
//! the issue it closes. Type-level halves (no public proof constructors, no standalone
//! issuer, no caller `now`, sealed `Provider`, no `danger` without its feature) are trybuild
//! cases in `tests/compile_fail/`.

mod common;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use common::{Fx, keyring};
use crm_privacy::consent::{CollectionMethod, ConsentScope};
use crm_privacy::custodian::{Custodian, CustodianError};
use crm_privacy::disclosure::{Disclosure, LawfulRequest};
use crm_privacy::ledger::AuditKind;
use crm_privacy::sharing::{Audience, SharingPolicy};
use crm_privacy::*;
use std::sync::Arc;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap()
}

/// A deployment: its own stores, the given token secret, a manual clock.
async fn fx(token_seed: u8) -> Fx {
    common::deployment(t0(), keyring(), |b| {
        b.token_key(
            TokenKey::from_secret(1, &crm_privacy::crypto::test_secret(token_seed)).unwrap(),
        )
    })
    .await
}

impl Fx {
    async fn refused(&self) -> Vec<String> {
        self.c
            .audit_events()
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.kind == AuditKind::Refused)
            .filter_map(|e| e.reference)
            .collect()
    }
}

fn alice_email() -> Email {
    Email::parse("alice@example.com").unwrap()
}

fn alice_phone() -> Phone {
    Phone::parse("+442079460958").unwrap()
}

fn access(e: CustodianError) -> AccessError {
    match e {
        CustodianError::Access(a) => a,
        CustodianError::Token(TokenError::Refused(a)) => a,
        other => panic!("expected an access refusal, got {other:?}"),
    }
}

/// Item 1: a grant of another authority (another deployment's custodian, even over the
/// same store) reads nothing, is not revoked or re-signed here, and the refusal is audited.
#[tokio::test]
async fn item01_grants_of_another_authority_are_refused() {
    let a = fx(1).await;
    let alice = a.c.register_subject().await.unwrap();
    let rec = a.c.store(alice, alice_email()).await.unwrap();
    // A second custodian on the very same stores, with another token key.
    let b = a
        .same_stores(keyring())
        .token_key(TokenKey::from_secret(1, &crm_privacy::crypto::test_secret(2)).unwrap())
        .build()
        .await
        .unwrap();
    let g = b.grant::<Notification>(alice, "mailer").await.unwrap();
    assert!(
        b.with::<Email, _, _>(&g, rec, |_| ()).await.is_ok(),
        "b reads through its own grant"
    );
    let e = a.c.with::<Email, _, _>(&g, rec, |_| ()).await.unwrap_err();
    assert!(matches!(access(e), AccessError::ForeignAuthority { .. }));
    let e = a.c.read_as_text(&g, rec).await.unwrap_err();
    assert!(matches!(access(e), AccessError::ForeignAuthority { .. }));
    assert!(a.c.seal_grant(&g).is_err(), "never re-signed under a's key");
    assert!(a.c.revoke(&g).await.is_err());
    let p = Personal::new(alice, alice_email());
    assert!(a.c.expose(&p, &g).await.is_err());
    assert!(a.refused().await.iter().any(|r| r == "foreign_authority"));
}

/// Item 2: a token signed with the deployment's key opens only while a consent backing
/// its purpose is in force *here* — not merely "never withdrawn".
#[tokio::test]
async fn item02_tokens_need_consent_in_force() {
    let a = fx(1).await;
    // Another process of the same deployment (same token key) on other stores, where
    // consent exists: its token carries a consent id `a` never saw.
    let b = fx(1).await;
    let alice = a.c.register_subject().await.unwrap();
    a.consent(alice, ConsentScope::GoogleLink).await;
    let gid =
        a.c.store(
            alice,
            ProviderAccountId::<Google>::parse("1234567890").unwrap(),
        )
        .await
        .unwrap();
    a.c.withdraw_consent(alice, ConsentScope::GoogleLink)
        .await
        .unwrap();
    b.consent(alice, ConsentScope::GoogleLink).await;
    let g = b.c.grant::<Authentication>(alice, "signin").await.unwrap();
    let token = b.c.seal_grant(&g).unwrap();
    let e = a.c.open_grant::<Authentication>(&token).await.unwrap_err();
    assert!(matches!(
        access(e),
        AccessError::ConsentWithdrawn { .. } | AccessError::NoConsent { .. }
    ));
    // Consent given again at `a`: a token issued under the old consent still fails.
    let old =
        a.c.grant::<Authentication>(alice, "signin")
            .await
            .unwrap_err();
    assert!(matches!(
        old,
        CustodianError::Issue(IssueError::NoConsent { .. })
    ));
    a.consent(alice, ConsentScope::GoogleLink).await;
    assert!(a.c.open_grant::<Authentication>(&token).await.is_err());
    // The withdrawal deleted the stored id (3.7-style dependent data).
    let g = a.c.grant::<Authentication>(alice, "signin").await.unwrap();
    assert!(
        a.c.with::<ProviderAccountId<Google>, _, _>(&g, gid, |_| ())
            .await
            .is_err()
    );
}

/// Item 3: proofs come from the custodian's host traits only; a session made by another
/// custodian is refused everywhere it could be used.
#[tokio::test]
async fn item03_sessions_of_another_custodian_are_refused() {
    let a = fx(1).await;
    let b = fx(2).await;
    let alice = a.c.register_subject().await.unwrap();
    let foreign = b.session(alice).await;
    let e = a.c.grant_owner(&foreign).await.unwrap_err();
    assert_eq!(e, CustodianError::Issue(IssueError::ForeignSession));
    assert!(a.c.user_request(&foreign).is_err());
    assert!(
        a.c.give_consent(&foreign, ConsentScope::Cookies, CollectionMethod::Api, None)
            .await
            .is_err()
    );
    // No authenticator configured: no session at all.
    let bare = common::bare(keyring()).build().await.unwrap();
    assert!(matches!(
        bare.authenticate("anything").await,
        Err(CustodianError::Auth(_))
    ));
    // An unknown or logged-out credential is refused.
    assert!(a.c.authenticate("made-up").await.is_err());
    // Claims of a session authenticated in the future are not a verified session.
    a.auth.insert(
        "future",
        SessionClaims {
            subject: alice,
            session: SessionId::new_random(),
            authenticated_at: t0() + TimeDelta::days(365),
            expires_at: t0() + TimeDelta::days(366),
        },
    );
    assert!(matches!(
        a.c.authenticate("future").await,
        Err(CustodianError::Auth(_))
    ));
}

/// Item 4: time is the custodian's. An expired grant stays expired, the audit log carries
/// the custodian's instants, and an instant at the end of time is a typed error.
#[tokio::test]
async fn item04_the_custodian_owns_time() {
    let a = fx(1).await;
    let alice = a.c.register_subject().await.unwrap();
    let rec = a.c.store(alice, alice_email()).await.unwrap();
    let g = a.c.grant::<Notification>(alice, "mailer").await.unwrap();
    let token = a.c.seal_grant(&g).unwrap();
    a.clock.advance(TimeDelta::minutes(6));
    let e = a.c.with::<Email, _, _>(&g, rec, |_| ()).await.unwrap_err();
    assert!(matches!(access(e), AccessError::Expired { .. }));
    assert!(matches!(
        a.c.open_grant::<Notification>(&token).await,
        Err(CustodianError::Token(TokenError::Expired(_)))
    ));
    let last =
        a.c.audit_events()
            .await
            .unwrap()
            .into_iter()
            .last()
            .unwrap();
    assert_eq!(last.at, t0() + TimeDelta::minutes(6));
    a.clock.set(DateTime::<Utc>::MAX_UTC);
    let e =
        a.c.grant::<Notification>(alice, "mailer")
            .await
            .unwrap_err();
    assert_eq!(e, CustodianError::Issue(IssueError::TimeOutOfRange));
}

/// Item 5: clause 5 on every path: the subject's sharing choice is the consent behind a
/// sharing purpose — nothing shared, no grant; and a grant reads only what is shared, on
/// typed, text and in-memory reads alike.
#[tokio::test]
async fn item05_sharing_purposes_read_only_what_is_shared() {
    let a = fx(1).await;
    let alice = a.c.register_subject().await.unwrap();
    let phone = a.c.store(alice, alice_phone()).await.unwrap();
    let email = a.c.store(alice, alice_email()).await.unwrap();
    for e in [
        a.c.grant::<ChatSharing>(alice, "chat").await.unwrap_err(),
        a.c.grant::<TeamCollaboration>(alice, "team")
            .await
            .unwrap_err(),
    ] {
        assert!(
            matches!(e, CustodianError::Issue(IssueError::NoConsent { .. })),
            "{e:?}"
        );
    }
    // The subject shares the email with colleagues only.
    let s = a.session(alice).await;
    let owner = a.c.grant_owner(&s).await.unwrap();
    let mut policy = SharingPolicy::new();
    policy.allow(Audience::Colleagues, Category::Email).unwrap();
    a.c.set_sharing(&owner, policy).await.unwrap();
    assert!(a.c.grant::<ChatSharing>(alice, "chat").await.is_err());
    let team = a.c.grant::<TeamCollaboration>(alice, "team").await.unwrap();
    assert!(a.c.with::<Email, _, _>(&team, email, |_| ()).await.is_ok());
    let e =
        a.c.with::<Phone, _, _>(&team, phone, |_| ())
            .await
            .unwrap_err();
    assert!(matches!(access(e), AccessError::NotShared { .. }));
    let e = a.c.read_as_text(&team, phone).await.unwrap_err();
    assert!(matches!(access(e), AccessError::NotShared { .. }));
    let p = Personal::new(alice, alice_phone());
    assert!(a.c.expose(&p, &team).await.is_err());
    assert_eq!(
        a.c.shared_view(&team, Audience::Colleagues)
            .await
            .unwrap()
            .len(),
        1
    );
    // Hiding it again stops the grant already issued.
    a.c.set_sharing(&owner, SharingPolicy::new()).await.unwrap();
    let e =
        a.c.with::<Email, _, _>(&team, email, |_| ())
            .await
            .unwrap_err();
    assert!(matches!(access(e), AccessError::NotShared { .. }));
}

/// Item 9 (race): a store racing a withdrawal never leaves consent-collected data behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item09_store_racing_withdrawal_leaves_nothing_behind() {
    use crm_privacy::store::RecordStore;
    let a = fx(1).await;
    for _ in 0..1000 {
        let alice = a.c.register_subject().await.unwrap();
        a.consent(alice, ConsentScope::ZoomLink).await;
        let stores: Vec<_> = (0..3)
            .map(|_| {
                let c = a.c.clone();
                tokio::spawn(async move {
                    c.store(alice, ZoomAccessToken::parse("tok_abcdef123456").unwrap())
                        .await
                })
            })
            .collect();
        let c2 = a.c.clone();
        let withdraw =
            tokio::spawn(async move { c2.withdraw_consent(alice, ConsentScope::ZoomLink).await });
        for s in stores {
            let _ = s.await.unwrap();
        }
        withdraw.await.unwrap().unwrap();
        assert!(a.records.list_subject(alice).await.unwrap().is_empty());
    }
}

/// Item 6: clause 7.2: legal compliance only on a recorded, meaningful lawful request.
#[tokio::test]
async fn item06_legal_compliance_needs_a_recorded_lawful_request() {
    let a = fx(1).await;
    let alice = a.c.register_subject().await.unwrap();
    let bob = a.c.register_subject().await.unwrap();
    let rec = a.c.store(alice, alice_email()).await.unwrap();
    assert!(matches!(
        a.c.grant::<LegalCompliance>(alice, "legal").await,
        Err(CustodianError::Issue(IssueError::ProofRequired { .. }))
    ));
    assert!(LawfulRequest::new("x", "y", "z", t0()).is_err());
    assert!(LawfulRequest::new(" ", "--", "..", t0()).is_err());
    let req = LawfulRequest::new("Police of Berlin", "StPO 95", "AZ-2026-17", t0()).unwrap();
    let id = a.c.record_lawful_request(alice, &req).await.unwrap();
    // A request recorded for alice does not open bob, nor does a made-up id.
    assert!(a.c.grant_lawful(bob, id, "legal").await.is_err());
    assert!(
        a.c.grant_lawful(alice, RequestId::new_random(), "legal")
            .await
            .is_err()
    );
    let g = a.c.grant_lawful(alice, id, "legal").await.unwrap();
    let d = Disclosure::to_authority(req, Category::Email).unwrap();
    let domain =
        a.c.disclose::<Email, _, _>(&g, rec, &d, |e| e.domain().to_owned())
            .await
            .unwrap();
    assert_eq!(domain, "example.com");
    // A legal-compliance token of the same deployment whose request this ledger never
    // recorded (another process on other stores) is refused at use.
    let other = fx(1).await;
    let oid = other
        .c
        .record_lawful_request(
            alice,
            &LawfulRequest::new("Police of Berlin", "StPO 95", "AZ-2026-18", t0()).unwrap(),
        )
        .await
        .unwrap();
    let og = other.c.grant_lawful(alice, oid, "legal").await.unwrap();
    let token = other.c.seal_grant(&og).unwrap();
    let e = a.c.open_grant::<LegalCompliance>(&token).await.unwrap_err();
    assert!(matches!(access(e), AccessError::NoLawfulRequest { .. }));
    // Legal obligations survive a restriction (Art. 18(2)).
    a.c.restrict(alice).await.unwrap();
    assert!(a.c.with::<Email, _, _>(&g, rec, |_| ()).await.is_ok());
}

/// Item 7: clause 8.1: staff grants only with an NDA on file in the custodian's own
/// directory, and they stop at the next call once it is removed.
#[tokio::test]
async fn item07_staff_grants_end_with_the_nda() {
    let a = fx(1).await;
    let alice = a.c.register_subject().await.unwrap();
    let rec = a.c.store(alice, alice_phone()).await.unwrap();
    let staff = StaffId::new_random();
    assert!(matches!(
        a.c.grant_staff::<SupportContact>(alice, staff).await,
        Err(CustodianError::Issue(IssueError::NdaMissing { .. }))
    ));
    a.staff.file(NdaAttestation::new(
        staff,
        "nda/2026/7",
        t0() - TimeDelta::days(1),
        None,
    ));
    let g =
        a.c.grant_staff::<SupportContact>(alice, staff)
            .await
            .unwrap();
    assert!(a.c.with::<Phone, _, _>(&g, rec, |_| ()).await.is_ok());
    a.staff.remove(staff);
    let e = a.c.with::<Phone, _, _>(&g, rec, |_| ()).await.unwrap_err();
    assert!(matches!(access(e), AccessError::NdaMissing { .. }));
    let token = a.c.seal_grant(&g).unwrap();
    assert!(a.c.open_grant::<SupportContact>(&token).await.is_err());
    // A lapsing NDA caps the grant's life.
    a.staff.file(NdaAttestation::new(
        staff,
        "nda/2026/8",
        t0() - TimeDelta::days(1),
        Some(t0() + TimeDelta::minutes(1)),
    ));
    let g =
        a.c.grant_staff::<SupportContact>(alice, staff)
            .await
            .unwrap();
    assert_eq!(g.info().expires_at, t0() + TimeDelta::minutes(1));
}

/// Item 8: owner and session grants never outlive their session.
#[tokio::test]
async fn item08_session_grants_end_with_the_session() {
    let a = fx(1).await;
    let alice = a.c.register_subject().await.unwrap();
    let rec = a.c.store(alice, alice_email()).await.unwrap();
    let s = a.session_for(alice, TimeDelta::seconds(60)).await;
    let g = a.c.grant_owner(&s).await.unwrap();
    assert!(a.c.with::<Email, _, _>(&g, rec, |_| ()).await.is_ok());
    a.clock.advance(TimeDelta::seconds(61));
    assert!(a.c.with::<Email, _, _>(&g, rec, |_| ()).await.is_err());
    assert!(a.c.export(&g).await.is_err());
    assert_eq!(
        a.c.grant_owner(&s).await.unwrap_err(),
        CustodianError::Issue(IssueError::SessionExpired)
    );
}

struct Newsletter;
impl HostPurpose for Newsletter {
    const NAME: &'static str = "newsletter";
    const LEGAL_BASIS: LegalBasis = LegalBasis::Consent;
    const DPV_IRI: Option<&'static str> = None;
}

/// Item 9: consent gates collection (3.3, 3.5, 3.6, 3.7), and a host purpose whose legal
/// basis is consent is not granted without one.
#[tokio::test]
async fn item09_consent_gates_collection() {
    let a = fx(1).await;
    let alice = a.c.register_subject().await.unwrap();
    let refused = |r: Result<RecordId, CustodianError>| {
        assert!(
            matches!(r, Err(CustodianError::CollectionWithoutConsent { .. })),
            "{r:?}"
        );
    };
    refused(
        a.c.store(
            alice,
            ProviderAccountId::<Google>::parse("1234567890").unwrap(),
        )
        .await,
    );
    refused(
        a.c.store(alice, ZoomAccessToken::parse("tok_abcdef123456").unwrap())
            .await,
    );
    refused(
        a.c.store(
            alice,
            DeviceContact::new(PersonName::parse("Bob").unwrap(), None, None),
        )
        .await,
    );
    refused(
        a.c.store_text(alice, Category::FacebookAccountId, "1234567890")
            .await,
    );
    refused(
        a.c.store_text(alice, Category::CookiePreference, r#"{"language":"en"}"#)
            .await,
    );
    // Refused before anything was written: no `Stored` audit entry, no row.
    let stored =
        a.c.audit_events()
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.kind == AuditKind::Stored && e.subject == alice)
            .count();
    assert_eq!(stored, 0, "a refused collection is never written");
    a.consent(alice, ConsentScope::ZoomLink).await;
    assert!(
        a.c.store(alice, ZoomAccessToken::parse("tok_abcdef123456").unwrap())
            .await
            .is_ok()
    );
    assert!(matches!(
        a.c.grant::<Newsletter>(alice, "news").await,
        Err(CustodianError::Issue(
            IssueError::ConsentScopeMissing { .. }
        ))
    ));
}

/// Item 10: every exposure, refusal and lookup is audited; lookups need a lookup grant.
#[tokio::test]
async fn item10_exposures_refusals_and_lookups_are_audited() {
    let a = fx(1).await;
    let alice = a.c.register_subject().await.unwrap();
    a.c.store(alice, alice_email()).await.unwrap();
    let g = a.c.grant::<Notification>(alice, "mailer").await.unwrap();
    let p = Personal::new(alice, alice_email());
    a.c.expose(&p, &g).await.unwrap();
    let lookup = a.c.grant_lookup::<Notification>("recovery").await.unwrap();
    let found = a.c.find_by_email(&lookup, &alice_email()).await.unwrap();
    assert_eq!(found, vec![alice]);
    a.c.restrict(alice).await.unwrap();
    assert!(a.c.expose(&p, &g).await.is_err());
    let events = a.c.audit_events().await.unwrap();
    let count = |k: AuditKind| events.iter().filter(|e| e.kind == k).count();
    assert_eq!(count(AuditKind::Exposed), 1);
    assert_eq!(count(AuditKind::Lookup), 1);
    assert!(a.refused().await.iter().any(|r| r == "restricted"));
    // A lookup grant of another authority finds nothing.
    let b = fx(2).await;
    let foreign = b.c.grant_lookup::<Notification>("recovery").await.unwrap();
    assert!(a.c.find_by_email(&foreign, &alice_email()).await.is_err());
    // An expired lookup grant too.
    a.clock.advance(TimeDelta::minutes(6));
    assert!(a.c.find_by_email(&lookup, &alice_email()).await.is_err());
}

/// Item 11: refusal order (authority, subject, then kind/purpose): another subject's
/// record is indistinguishable from a missing one, whatever kind it holds.
#[tokio::test]
async fn item11_refusals_reveal_nothing_about_other_records() {
    let a = fx(1).await;
    let alice = a.c.register_subject().await.unwrap();
    let bob = a.c.register_subject().await.unwrap();
    let bobs_email =
        a.c.store(bob, Email::parse("bob@example.com").unwrap())
            .await
            .unwrap();
    let bobs_ip =
        a.c.store(bob, IpAddress::parse("192.0.2.1").unwrap())
            .await
            .unwrap();
    let g = a.c.grant::<Notification>(alice, "mailer").await.unwrap();
    let missing = RecordId::new_random();
    for r in [bobs_email, bobs_ip, missing] {
        let e = access(a.c.with::<Email, _, _>(&g, r, |_| ()).await.unwrap_err());
        assert_eq!(
            e,
            AccessError::NotVisible {
                grant: g.id(),
                record: r
            }
        );
        let e = access(a.c.read_as_text(&g, r).await.unwrap_err());
        assert_eq!(
            e,
            AccessError::NotVisible {
                grant: g.id(),
                record: r
            }
        );
    }
}

struct FakeEmail;
impl HostKind for FakeEmail {
    const NAME: &'static str = "email";
    fn encode(&self) -> zeroize::Zeroizing<Vec<u8>> {
        zeroize::Zeroizing::new(b"x".to_vec())
    }
    fn decode(_: &[u8]) -> Result<Self, DataError> {
        Ok(Self)
    }
    fn to_text(&self) -> zeroize::Zeroizing<String> {
        zeroize::Zeroizing::new("x".to_owned())
    }
    fn from_text(_: &str) -> Result<Self, DataError> {
        Ok(Self)
    }
}

impl UsableFor<Analytics> for FakeEmail {}

struct LongName;
impl HostPurpose for LongName {
    const NAME: &'static str =
        "a_host_purpose_name_that_is_longer_than_sixty_four_bytes_and_would_be_cut";
    const LEGAL_BASIS: LegalBasis = LegalBasis::Contract;
    const DPV_IRI: Option<&'static str> = None;
}

/// Items 13 and 14: a host kind cannot claim a built-in kind's name; host purpose names
/// are bounded so a token always carries the whole name.
#[tokio::test]
async fn item13_14_host_names_cannot_alias_builtins() {
    let a = fx(1).await;
    let alice = a.c.register_subject().await.unwrap();
    assert_eq!(
        a.c.store(alice, FakeEmail).await.unwrap_err(),
        CustodianError::ReservedKindName("email")
    );
    assert_eq!(
        a.c.grant::<LongName>(alice, "x").await.unwrap_err(),
        CustodianError::Issue(IssueError::PurposeNameTooLong)
    );
}

/// Item 15: no date arithmetic panics; out-of-range configuration is refused at build, and
/// an overflowing legal minimum keeps the record rather than dropping the minimum.
#[tokio::test]
async fn item15_no_panics_on_time_arithmetic() {
    let build = |ttl: TimeDelta, backup: TimeDelta| async move {
        common::bare(keyring())
            .grant_ttl(ttl)
            .backup_window(backup)
            .build()
            .await
    };
    assert!(matches!(
        build(TimeDelta::MAX, TimeDelta::days(35)).await,
        Err(CustodianError::Config(_))
    ));
    assert!(matches!(
        build(TimeDelta::minutes(5), TimeDelta::MAX).await,
        Err(CustodianError::Config(_))
    ));
    // Erasure at the end of time: a typed error, and nothing was erased.
    let a = fx(1).await;
    let alice = a.c.register_subject().await.unwrap();
    a.clock.set(DateTime::<Utc>::MAX_UTC - TimeDelta::days(1));
    assert_eq!(
        a.c.erase(alice).await.unwrap_err(),
        CustodianError::TimeOutOfRange
    );
    a.clock.set(t0());
    assert!(a.c.store(alice, alice_email()).await.is_ok());
    // A legal minimum past the representable range keeps the record.
    use crm_privacy::retention::{
        Decision, LegalMinimum, Period, RecordMeta, ScheduleBuilder, Trigger,
    };
    let mut b = ScheduleBuilder::default();
    for &c in Category::ALL {
        for &p in PurposeId::ALL {
            if !crm_privacy::policy::permits(c, p) {
                continue;
            }
            b = if (c, p) == (Category::IpAddress, PurposeId::Analytics) {
                b.rule_with_minimum(
                    c,
                    p,
                    Period::months(1),
                    Trigger::Collected,
                    LegalMinimum {
                        period: Period::months(u32::MAX),
                        reference: "tax law".into(),
                    },
                )
            } else {
                b.rule(c, p, Period::months(1), Trigger::Collected)
            };
        }
    }
    let schedule = b.build().unwrap();
    let meta = RecordMeta {
        record: RecordId::new_random(),
        subject: alice,
        kind: Category::IpAddress,
        purpose: PurposeId::Analytics,
        collected_at: t0(),
        last_activity_at: None,
        account_closed_at: None,
        consent_withdrawn_at: None,
        purpose_fulfilled_at: None,
    };
    let d = schedule.evaluate(&meta, &[], t0() + TimeDelta::days(400));
    assert!(matches!(d, Decision::Keep { .. }), "{d:?}");
}

/// Restriction, erasure and revocation apply to every path in every process sharing the
/// store — with the default configuration (no flag).
#[tokio::test]
async fn state_changes_reach_every_custodian_of_the_deployment_by_default() {
    let a = fx(1).await;
    let b = a
        .same_stores(keyring())
        .token_key(TokenKey::from_secret(1, &crm_privacy::crypto::test_secret(1)).unwrap())
        .clock(a.clock.clone())
        .build()
        .await
        .unwrap();
    let alice = a.c.register_subject().await.unwrap();
    let rec = a.c.store(alice, alice_email()).await.unwrap();
    let g = b.grant::<Notification>(alice, "mailer").await.unwrap();
    let token = b.seal_grant(&g).unwrap();
    assert!(
        a.c.with::<Email, _, _>(&g, rec, |_| ()).await.is_ok(),
        "same deployment"
    );
    a.c.revoke(&g).await.unwrap();
    let e = access(b.with::<Email, _, _>(&g, rec, |_| ()).await.unwrap_err());
    assert!(matches!(e, AccessError::Revoked { .. }));
    assert!(b.open_grant::<Notification>(&token).await.is_err());
    let g2 = b.grant::<Notification>(alice, "mailer").await.unwrap();
    a.c.restrict(alice).await.unwrap();
    assert!(b.with::<Email, _, _>(&g2, rec, |_| ()).await.is_err());
    assert!(b.grant::<Notification>(alice, "mailer").await.is_err());
}

/// Sending the token's key id of an accepted older key keeps working (rotation), while a
/// token of a key this custodian does not hold is refused before anything else.
#[tokio::test]
async fn tokens_of_unknown_keys_are_refused() {
    let a = fx(1).await;
    let b = fx(2).await;
    let alice = a.c.register_subject().await.unwrap();
    let g = b.c.grant::<Notification>(alice, "mailer").await.unwrap();
    let token = b.c.seal_grant(&g).unwrap();
    assert!(matches!(
        a.c.open_grant::<Notification>(&token).await,
        Err(CustodianError::Token(
            TokenError::BadSignature | TokenError::UnknownKey(_)
        ))
    ));
}

/// Found by the outside probe run: a host kind *named* like a built-in kind, marked usable
/// for any purpose, must not decode built-in records past the policy table, the sharing
/// choice or the Zoom token's only purpose.
#[tokio::test]
async fn host_kind_aliasing_a_builtin_never_reads_builtin_records() {
    let a = fx(1).await;
    let alice = a.c.register_subject().await.unwrap();
    let rec = a.c.store(alice, alice_email()).await.unwrap();
    let g = a.c.grant::<Analytics>(alice, "stats").await.unwrap();
    let r = a.c.with::<FakeEmail, _, _>(&g, rec, |_| ()).await;
    assert_eq!(r.unwrap_err(), CustodianError::ReservedKindName("email"));
    let p = Personal::new(alice, FakeEmail);
    assert!(a.c.expose(&p, &g).await.is_err());
}

/// Found by the outside probe run: a process that shares the ledger but not the keyring
/// (its own KEK, index secret and authenticator, in-memory records and keys) cannot forge
/// consent or lawful requests the real custodian applies: ledger entries carry the
/// keyring's tag.
#[tokio::test]
async fn a_process_without_the_keyring_cannot_write_the_ledger() {
    let a = fx(1).await;
    let alice = a.c.register_subject().await.unwrap();
    let auth = Arc::new(crm_privacy::store::InMemoryAuthenticator::new());
    let rogue = Custodian::builder(
        crm_privacy::crypto::Keyring::new(
            crm_privacy::crypto::Kek::from_bytes(9, &crm_privacy::crypto::test_secret(8)).unwrap(),
            &crm_privacy::crypto::test_secret(1),
        )
        .unwrap(),
    )
    .records(Arc::new(crm_privacy::store::InMemoryRecordStore::new()))
    .keys(Arc::new(crm_privacy::store::InMemoryKeyStore::new()))
    .chains(a.chains.clone())
    .authenticator(auth.clone())
    .build()
    .await
    .unwrap();
    let now = rogue.now();
    auth.insert(
        "x",
        SessionClaims {
            subject: alice,
            session: SessionId::new_random(),
            authenticated_at: now - TimeDelta::seconds(1),
            expires_at: now + TimeDelta::hours(1),
        },
    );
    let s = rogue.authenticate("x").await.unwrap();
    rogue
        .give_consent(
            &s,
            ConsentScope::GoogleLink,
            CollectionMethod::UiAction,
            None,
        )
        .await
        .unwrap();
    // The real custodian refuses the untagged entry instead of applying it: no grant.
    let e =
        a.c.grant::<Authentication>(alice, "signin")
            .await
            .unwrap_err();
    assert!(
        matches!(e, CustodianError::UntaggedLedgerEntry { .. }),
        "{e:?}"
    );
    assert!(
        a.c.store(
            alice,
            ProviderAccountId::<Google>::parse("1234567890").unwrap()
        )
        .await
        .is_err()
    );
}

struct HostObligation;
impl HostPurpose for HostObligation {
    const NAME: &'static str = "host_obligation";
    const LEGAL_BASIS: LegalBasis = LegalBasis::LegalObligation;
    const DPV_IRI: Option<&'static str> = None;
}

/// Found by the outside probe run: only the built-in legal-compliance purpose (on a
/// recorded lawful request) survives a restriction; a host purpose declaring a legal
/// obligation does not. Lookups skip restricted subjects, and refused lookups are audited.
#[tokio::test]
async fn restriction_covers_host_purposes_and_lookups() {
    let a = fx(1).await;
    let alice = a.c.register_subject().await.unwrap();
    a.c.store(alice, alice_email()).await.unwrap();
    let lookup = a.c.grant_lookup::<Notification>("recovery").await.unwrap();
    assert_eq!(
        a.c.find_by_email(&lookup, &alice_email()).await.unwrap(),
        vec![alice]
    );
    a.c.restrict(alice).await.unwrap();
    assert!(matches!(
        a.c.grant::<HostObligation>(alice, "x").await,
        Err(CustodianError::Issue(IssueError::Restricted { .. }))
    ));
    assert!(
        a.c.find_by_email(&lookup, &alice_email())
            .await
            .unwrap()
            .is_empty()
    );
    a.clock.advance(TimeDelta::minutes(6));
    assert!(a.c.find_by_email(&lookup, &alice_email()).await.is_err());
    assert!(a.refused().await.iter().any(|r| r == "expired"));
}
