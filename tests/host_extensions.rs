#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]
//! Host kinds, host retention and host consent scopes, used from outside the crate the way
//! a host (careless or hostile) would: export renders host kinds and marks unknown ones,
//! the sweep deletes expired host records, a consent-based host purpose is gated by its
//! declared host scope exactly like a built-in consent purpose, and a host scope cannot
//! alias a built-in one.

mod common;

use chrono::TimeDelta;
use crm_privacy::consent::{CollectionMethod, ConsentScope};
use crm_privacy::custodian::{CustodianError, Rendering, RetentionRule};
use crm_privacy::policy::{HostConsentScope, HostPolicyError, HostScope};
use crm_privacy::retention::{Period, ScheduleBuilder, ScheduleError, Trigger};
use crm_privacy::{
    AccessError, HostKind, HostPurpose, IssueError, KindRef, LegalBasis, OwnerAccess, UsableFor,
    host_consent_scope, host_policy,
};

crate::text_kind!(BillingAddress, "billing_address");
crate::text_kind!(PushToken, "push_token");
crate::text_kind!(Unregistered, "legacy_note");

struct Invoicing;
impl HostPurpose for Invoicing {
    const NAME: &'static str = "invoicing";
    const LEGAL_BASIS: LegalBasis = LegalBasis::Contract;
    const DPV_IRI: Option<&'static str> = None;
}

struct PushNotifications;
impl HostPurpose for PushNotifications {
    const NAME: &'static str = "push_notifications";
    const LEGAL_BASIS: LegalBasis = LegalBasis::Consent;
    const DPV_IRI: Option<&'static str> = None;
}

host_policy!(BillingAddress => [Invoicing, OwnerAccess],
    retention months(1) after LastActivity, "a month after the last invoice");
host_policy!(PushToken => [PushNotifications, OwnerAccess],
    retention years(1) after Collected, "a year after collection");
host_consent_scope!(
    Notifications,
    "notifications",
    purposes[PushNotifications],
    deletes[PushToken]
);

// Stored without a host_policy!: this build does not register it.
impl UsableFor<Invoicing> for Unregistered {}

async fn fx() -> common::Fx {
    common::deployment(common::t0(), common::keyring(), |b| b).await
}

#[tokio::test]
async fn export_renders_host_kinds_and_marks_unknown_ones() {
    let f = fx().await;
    let s = f.c.register_subject().await.unwrap();
    let addr =
        f.c.store(s, BillingAddress("Rue du Rhône 1".into()))
            .await
            .unwrap();
    let legacy = f.c.store(s, Unregistered("old".into())).await.unwrap();
    let owner = f.c.grant_owner(&f.session(s).await).await.unwrap();
    let export = f.c.export(&owner).await.unwrap();
    let a = export.records.iter().find(|r| r.record == addr).unwrap();
    assert_eq!(a.kind, "billing_address");
    assert_eq!(a.value, serde_json::json!("Rue du Rhône 1"));
    assert_eq!(a.rendering, Rendering::Rendered);
    // Present, named, never dropped and never decoded as another kind.
    let l = export.records.iter().find(|r| r.record == legacy).unwrap();
    assert_eq!(l.kind, "legacy_note");
    assert_eq!(l.value, serde_json::Value::Null);
    assert_eq!(l.rendering, Rendering::UnknownKind);
    let json = export.to_json().unwrap();
    assert!(json.contains("\"unknown_kind\""), "{json}");
    assert!(
        !json.contains("old\""),
        "an unknown kind's value never leaks"
    );
}

#[tokio::test]
async fn text_paths_take_registered_host_kinds() {
    let f = fx().await;
    let s = f.c.register_subject().await.unwrap();
    let kind = KindRef::Host(BillingAddress::NAME);
    let r = f.c.store_text(s, kind, "Main St 1").await.unwrap();
    let invoicing = f.c.grant::<Invoicing>(s, "billing").await.unwrap();
    assert_eq!(
        f.c.read_as_text(&invoicing, r).await.unwrap().as_str(),
        "Main St 1"
    );
    let owner = f.c.grant_owner(&f.session(s).await).await.unwrap();
    f.c.rectify_text(&owner, r, kind, "Main St 2")
        .await
        .unwrap();
    assert_eq!(
        f.c.read_as_text(&owner, r).await.unwrap().as_str(),
        "Main St 2"
    );
    // Bad input: typed errors naming the kind, never the value.
    let e = f.c.store_text(s, kind, "").await.unwrap_err();
    assert!(matches!(e, CustodianError::Data(d) if d.kind() == "billing_address"));
    let e = f.c.store_text(s, KindRef::Host("legacy_note"), "x").await;
    assert!(matches!(e, Err(CustodianError::Data(_))), "{e:?}");
    // A purpose the host kind does not declare.
    let push_token =
        f.c.store_text(s, KindRef::Host(PushToken::NAME), "tok")
            .await;
    assert!(
        matches!(
            push_token,
            Err(CustodianError::CollectionWithoutConsent { .. })
        ),
        "collected only under its host scope: {push_token:?}"
    );
    let legacy = f.c.store(s, Unregistered("old".into())).await.unwrap();
    let e = f.c.read_as_text(&invoicing, legacy).await.unwrap_err();
    assert!(matches!(e, CustodianError::WrongKind { .. }), "{e:?}");
}

#[tokio::test]
async fn sweep_deletes_an_expired_host_record_and_keeps_a_fresh_one() {
    let f = fx().await;
    let s = f.c.register_subject().await.unwrap();
    let old = f.c.store(s, BillingAddress("old".into())).await.unwrap();
    f.clock.advance(TimeDelta::days(40));
    let fresh = f.c.store(s, BillingAddress("new".into())).await.unwrap();
    let lines = f.c.sweep().await.unwrap();
    let o = lines.iter().find(|l| l.record == old).unwrap();
    assert!(o.deleted, "a month after its last update it is gone");
    let n = lines.iter().find(|l| l.record == fresh).unwrap();
    assert!(!n.deleted);
    assert_eq!(n.deadline, Period::months(1).after(f.c.now()));
    let owner = f.c.grant_owner(&f.session(s).await).await.unwrap();
    let kept: Vec<_> = f.c.export(&owner).await.unwrap().records;
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].record, fresh);
}

#[tokio::test]
async fn builder_retention_overrides_a_host_kind() {
    let f = common::deployment(common::t0(), common::keyring(), |b| {
        b.retention(
            KindRef::Host(BillingAddress::NAME),
            RetentionRule { months: 6 },
        )
    })
    .await;
    let s = f.c.register_subject().await.unwrap();
    let r = f.c.store(s, BillingAddress("x".into())).await.unwrap();
    f.clock.advance(TimeDelta::days(40));
    let line =
        f.c.sweep()
            .await
            .unwrap()
            .into_iter()
            .find(|l| l.record == r);
    assert!(!line.unwrap().deleted, "six months now, not one");
}

#[test]
fn schedule_takes_host_rules_and_refuses_undeclared_purposes() {
    let mut b = ScheduleBuilder::default();
    for r in crm_privacy::retention::Schedule::default_for_policy()
        .unwrap()
        .rules()
    {
        b = b.rule(r.kind, r.purpose, r.period, r.trigger);
    }
    // A rule for one declared purpose replaces the declared rule there; the other declared
    // purposes keep the declared rule.
    let ok = b
        .rule(
            KindRef::Host(BillingAddress::NAME),
            <Invoicing as crm_privacy::Purpose>::ID,
            Period::years(10),
            Trigger::Collected,
        )
        .build()
        .unwrap();
    let rule = |p: &str| {
        ok.host_rules()
            .iter()
            .filter(|r| r.kind == "billing_address" && r.purpose == p)
            .map(|r| (r.period, r.trigger))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        rule("invoicing"),
        vec![(Period::years(10), Trigger::Collected)]
    );
    assert_eq!(
        rule("owner_access"),
        vec![(Period::months(1), Trigger::LastActivity)]
    );
    let mut b = ScheduleBuilder::default();
    for r in crm_privacy::retention::Schedule::default_for_policy()
        .unwrap()
        .rules()
    {
        b = b.rule(r.kind, r.purpose, r.period, r.trigger);
    }
    let e = b
        .rule(
            KindRef::Host(BillingAddress::NAME),
            <PushNotifications as crm_privacy::Purpose>::ID,
            Period::years(1),
            Trigger::Collected,
        )
        .build()
        .unwrap_err();
    assert_eq!(
        e,
        ScheduleError::NotPermitted {
            kind: "billing_address",
            purpose: "push_notifications"
        }
    );
}

#[tokio::test]
async fn consent_host_purpose_is_gated_by_its_host_scope() {
    let f = fx().await;
    let s = f.c.register_subject().await.unwrap();
    let session = f.session(s).await;
    let scope = Notifications::scope().unwrap();
    // Refused without consent, and collection under the scope is refused too.
    let e =
        f.c.grant::<PushNotifications>(s, "alerts")
            .await
            .unwrap_err();
    assert!(
        matches!(
            e,
            CustodianError::Issue(IssueError::NoConsent {
                scope: "notifications",
                ..
            })
        ),
        "{e:?}"
    );
    assert!(f.c.store(s, PushToken("t".into())).await.is_err());
    // Allowed with it.
    let consent =
        f.c.give_host_consent(&session, scope, CollectionMethod::UiAction, None)
            .await
            .unwrap();
    assert_eq!(
        f.c.host_consents(s).await.unwrap(),
        vec![("notifications".to_owned(), consent)]
    );
    let token = f.c.store(s, PushToken("t".into())).await.unwrap();
    let push = f.c.grant::<PushNotifications>(s, "alerts").await.unwrap();
    f.c.with(&push, token, |_: &PushToken| ()).await.unwrap();
    // The built-in scopes are untouched by it.
    assert!(f.c.consents(s).await.unwrap().is_empty());
    // The receipt names the host scope, its purposes and the kinds collected under it.
    let receipt = f.c.consent_receipt(consent).await.unwrap();
    assert_eq!(receipt.record.scope, "notifications");
    assert_eq!(receipt.record.state, "ConsentGiven");
    assert_eq!(
        receipt.services[0].purposes[0].purpose,
        "push_notifications"
    );
    assert_eq!(
        receipt.services[0].purposes[0].pii_category,
        vec!["push_token"]
    );
    // Withdrawal: the issued grant stops at once, no new grant, dependent data deleted.
    f.c.withdraw_host_consent(s, scope).await.unwrap();
    let e =
        f.c.with(&push, token, |_: &PushToken| ())
            .await
            .unwrap_err();
    assert!(
        matches!(
            e,
            CustodianError::Access(AccessError::ConsentWithdrawn { .. })
        ),
        "{e:?}"
    );
    assert!(f.c.grant::<PushNotifications>(s, "alerts").await.is_err());
    let owner = f.c.grant_owner(&session).await.unwrap();
    assert!(
        f.c.export(&owner)
            .await
            .unwrap()
            .records
            .iter()
            .all(|r| r.kind != "push_token"),
        "the push token collected under the scope is deleted"
    );
    assert_eq!(
        f.c.consent_receipt(consent).await.unwrap().record.state,
        "ConsentWithdrawn"
    );
    // Withdrawing twice is a typed error naming the scope.
    assert!(matches!(
        f.c.withdraw_host_consent(s, scope).await,
        Err(CustodianError::NoActiveConsent {
            scope: "notifications",
            ..
        })
    ));
    // Given again, a new grant works; the old one stays dead.
    f.c.give_host_consent(&session, scope, CollectionMethod::UiAction, None)
        .await
        .unwrap();
    assert!(f.c.grant::<PushNotifications>(s, "alerts").await.is_ok());
    assert!(f.c.with(&push, token, |_: &PushToken| ()).await.is_err());
}

#[tokio::test]
async fn withdrawal_is_seen_by_another_process_and_survives_a_rebuild() {
    let f = fx().await;
    let s = f.c.register_subject().await.unwrap();
    let scope = Notifications::scope().unwrap();
    f.c.give_host_consent(&f.session(s).await, scope, CollectionMethod::Api, None)
        .await
        .unwrap();
    let peer = f.peer_builder(common::keyring()).build().await.unwrap();
    let push = peer.grant::<PushNotifications>(s, "alerts").await.unwrap();
    let token = peer.store(s, PushToken("t".into())).await.unwrap();
    f.c.withdraw_host_consent(s, scope).await.unwrap();
    assert!(peer.with(&push, token, |_: &PushToken| ()).await.is_err());
    let again = f.peer_builder(common::keyring()).build().await.unwrap();
    assert!(again.host_consents(s).await.unwrap().is_empty());
}

#[test]
fn host_scope_cannot_alias_a_builtin_scope() {
    for s in ConsentScope::all() {
        assert_eq!(
            HostScope::registered(s.name()),
            Err(HostPolicyError::ReservedScopeName(s.name()))
        );
    }
    assert_eq!(
        HostScope::registered("policy_version"),
        Err(HostPolicyError::ReservedScopeName("policy_version"))
    );
    assert_eq!(
        HostScope::registered("no_such_scope"),
        Err(HostPolicyError::UnknownScope)
    );
    assert_eq!(crm_privacy::policy::check_host_table(), Ok(()));
    let names: Vec<_> = HostScope::all().map(HostScope::name).collect();
    assert_eq!(names, vec!["notifications"]);
}

#[test]
fn register_shows_host_rules_and_scopes() {
    let reg = crm_privacy::policy::register()
        .with_host_kind::<BillingAddress>()
        .with_host_scopes();
    let md = reg.to_markdown();
    assert!(
        md.contains("a month after the last invoice (1 months after last activity)"),
        "{md}"
    );
    assert!(
        md.contains("| notifications | host | push_notifications |"),
        "{md}"
    );
    let json = reg.to_json().unwrap();
    assert!(json.contains("\"trigger\": \"last_activity\""), "{json}");
}

/// A consent purpose wired by hand (`impl UsableFor`, bypassing `host_policy!` and its
/// compile-time check) and gated by no scope.
struct Tracking;
impl HostPurpose for Tracking {
    const NAME: &'static str = "tracking";
    const LEGAL_BASIS: LegalBasis = LegalBasis::Consent;
    const DPV_IRI: Option<&'static str> = None;
}
impl UsableFor<Tracking> for Unregistered {}

#[tokio::test]
async fn a_consent_purpose_without_scope_is_refused_at_run_time() {
    let f = fx().await;
    let s = f.c.register_subject().await.unwrap();
    let e = f.c.grant::<Tracking>(s, "ads").await.unwrap_err();
    assert!(
        matches!(
            e,
            CustodianError::Issue(IssueError::ConsentScopeMissing {
                purpose: "tracking"
            })
        ),
        "{e:?}"
    );
}

#[tokio::test]
async fn host_consents_appear_in_the_export_and_end_with_erasure() {
    let f = fx().await;
    let s = f.c.register_subject().await.unwrap();
    let session = f.session(s).await;
    let scope = Notifications::scope().unwrap();
    let consent =
        f.c.give_host_consent(&session, scope, CollectionMethod::UiAction, Some("ui:1"))
            .await
            .unwrap();
    let owner = f.c.grant_owner(&session).await.unwrap();
    let export = f.c.export(&owner).await.unwrap();
    assert_eq!(export.host_consents.len(), 1);
    assert_eq!(export.host_consents[0].scope, "notifications");
    assert_eq!(export.host_consents[0].consent, consent);
    assert!(export.consents.is_empty());
    f.c.erase(s).await.unwrap();
    assert!(f.c.host_consents(s).await.unwrap().is_empty());
    assert!(f.c.grant::<PushNotifications>(s, "alerts").await.is_err());
}
