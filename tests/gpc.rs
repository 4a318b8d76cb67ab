#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]
//! Global Privacy Control (clauses 3.4, 3.6), from outside the crate the way a careless or
//! hostile host would use it: the header parsed strictly, the opt-out recorded in the ledger
//! for exactly the scopes derived from the scope tables, consent-based analytics and cookie
//! grants refused after it, service purposes untouched, repeated signals idempotent, and an
//! explicit consent given after the signal standing.

mod common;

use crm_privacy::consent::{CollectionMethod, ConsentScope};
use crm_privacy::custodian::CustodianError;
use crm_privacy::gpc::{self, GpcScope, GpcSignal};
use crm_privacy::ledger::{LedgerChange, LedgerEvent};
use crm_privacy::policy::{HostConsentScope, PurposeInfo};
use crm_privacy::store::{ChainName, ChainStore};
use crm_privacy::{
    Analytics, HostPurpose, LegalBasis, Notification, OwnerAccess, Preferences, PurposeId,
    host_consent_scope, host_policy,
};

crate::text_kind!(ClickStream, "click_stream");

/// Consent-based product analytics of the host (DPV `ServiceUsageAnalytics`): covered.
struct ProductAnalytics;
impl HostPurpose for ProductAnalytics {
    const NAME: &'static str = "product_analytics";
    const LEGAL_BASIS: LegalBasis = LegalBasis::Consent;
    const DPV_IRI: Option<&'static str> = Some("https://w3id.org/dpv#ServiceUsageAnalytics");
}

/// Consent-based, but not tracking (DPV `ServiceProvision`): not covered.
struct Beta;
impl HostPurpose for Beta {
    const NAME: &'static str = "beta_features";
    const LEGAL_BASIS: LegalBasis = LegalBasis::Consent;
    const DPV_IRI: Option<&'static str> = Some("https://w3id.org/dpv#ServiceProvision");
}

host_policy!(ClickStream => [ProductAnalytics, Beta, OwnerAccess],
    retention months(13) after Collected, "13 months after collection");
host_consent_scope!(
    AnalyticsScope,
    "product_analytics",
    purposes[ProductAnalytics],
    deletes[]
);
host_consent_scope!(BetaScope, "beta", purposes[Beta], deletes[]);

async fn fx() -> common::Fx {
    common::deployment(common::t0(), common::keyring(), |b| b).await
}

async fn ledger(f: &common::Fx) -> Vec<LedgerEvent> {
    f.chains
        .entries(ChainName::Ledger)
        .await
        .unwrap()
        .iter()
        .map(|e| crm_privacy::ledger::decode::<LedgerEvent>(e).unwrap())
        .collect()
}

fn opt_outs(events: &[LedgerEvent]) -> Vec<(String, bool, String)> {
    events
        .iter()
        .filter_map(|e| match &e.change {
            LedgerChange::GpcOptOut {
                scope,
                withdrawn,
                evidence,
            } => Some((scope.clone(), withdrawn.is_some(), evidence.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn header_is_parsed_exactly_as_the_spec_says() {
    use GpcSignal::{Absent, OptOut};
    let one = |n: &str, v: &str| gpc::from_headers([(n, v)]);
    assert_eq!(one("Sec-GPC", "1"), OptOut);
    assert_eq!(one("sec-gpc", "1"), OptOut, "name is case-insensitive");
    assert_eq!(one("SEC-GPC", " 1 "), OptOut, "optional whitespace trimmed");
    assert_eq!(one("Sec-GPC", "\t1"), OptOut);
    assert_eq!(one("Sec-GPC", "0"), Absent);
    assert_eq!(one("Sec-GPC", ""), Absent);
    assert_eq!(one("Sec-GPC", "true"), Absent);
    assert_eq!(
        one("Sec-GPC", "1, 1"),
        Absent,
        "a combined field is not `1`"
    );
    assert_eq!(one("Sec-GPC", "11"), Absent);
    assert_eq!(
        one("Sec-GPC", "1\n"),
        Absent,
        "only spaces and tabs are trimmed"
    );
    assert_eq!(
        one("Sec-GPC", "１"),
        Absent,
        "a full-width digit is not `1`"
    );
    assert_eq!(one("Sec-GPC ", "1"), Absent, "the name is exact");
    assert_eq!(one("GPC", "1"), Absent);
    assert_eq!(one("DNT", "1"), Absent, "Do Not Track is another signal");
    // Duplicate fields are combined (RFC 9110 §5.3) into `1, 1`: no signal.
    assert_eq!(
        gpc::from_headers([("Sec-GPC", "1"), ("sec-gpc", "1")]),
        Absent
    );
    assert_eq!(
        gpc::from_headers([("Sec-GPC", "1"), ("Sec-GPC", "0")]),
        Absent
    );
    assert_eq!(gpc::from_headers(Vec::<(&str, &str)>::new()), Absent);
    // Other fields around it do not matter; bytes and owned strings work too.
    assert_eq!(
        gpc::from_headers([
            ("Accept".to_owned(), "*/*".to_owned()),
            ("Sec-Gpc".to_owned(), "1".to_owned()),
        ]),
        OptOut
    );
    assert_eq!(gpc::from_headers([(&b"sec-gpc"[..], &b"1"[..])]), OptOut);
    assert_eq!(
        gpc::from_headers([(&b"sec-gpc"[..], &[0xff_u8][..])]),
        Absent
    );
    assert_eq!(GpcSignal::from_navigator(true), OptOut);
    assert_eq!(GpcSignal::from_navigator(false), Absent);
}

#[test]
fn covered_scopes_are_derived_from_the_tables() {
    let names: Vec<&str> = gpc::covered_scopes()
        .into_iter()
        .map(GpcScope::name)
        .collect();
    assert_eq!(names, ["cookies", "product_analytics"]);
    // The derivation agrees with the purposes' own facts: exactly the built-in scopes with a
    // consent purpose whose DPV purpose is tracking.
    for s in ConsentScope::all() {
        let tracking = s
            .purposes()
            .iter()
            .any(|&p| gpc::is_tracking(&PurposeInfo::builtin(p)));
        assert_eq!(names.contains(&s.name()), tracking, "{}", s.name());
    }
    // Service purposes are never tracking; built-in analytics rests on legitimate interest.
    assert!(!gpc::is_tracking(&PurposeInfo::builtin(
        PurposeId::Analytics
    )));
    assert!(!gpc::is_tracking(&PurposeInfo::builtin(
        PurposeId::Notification
    )));
    assert!(gpc::is_tracking(&PurposeInfo::of::<ProductAnalytics>()));
    assert!(!gpc::is_tracking(&PurposeInfo::of::<Beta>()));
}

#[tokio::test]
async fn opt_out_is_recorded_for_exactly_the_derived_scopes() {
    let f = fx().await;
    let s = f.c.register_subject().await.unwrap();
    let session = f.session(s).await;
    // Cookies and product analytics given, beta given, Google link given.
    f.consent(s, ConsentScope::Cookies).await;
    f.consent(s, ConsentScope::GoogleLink).await;
    f.c.give_host_consent(
        &session,
        BetaScope::scope().unwrap(),
        CollectionMethod::UiAction,
        None,
    )
    .await
    .unwrap();
    f.c.give_host_consent(
        &session,
        AnalyticsScope::scope().unwrap(),
        CollectionMethod::UiAction,
        None,
    )
    .await
    .unwrap();
    f.c.grant::<Preferences>(s, "ui").await.unwrap();
    f.c.grant::<ProductAnalytics>(s, "stats").await.unwrap();
    let header = gpc::from_headers([("Sec-GPC", "1")]);
    let out =
        f.c.apply_gpc(&session, header, Some("req-42"))
            .await
            .unwrap();
    assert_eq!(out.withdrawn, ["cookies", "product_analytics"]);
    assert!(out.refused.is_empty());
    let events = ledger(&f).await;
    let recorded = opt_outs(&events);
    let scopes: Vec<&str> = recorded.iter().map(|(s, _, _)| s.as_str()).collect();
    assert_eq!(scopes, ["cookies", "product_analytics"]);
    for (_, withdrawn, evidence) in &recorded {
        assert!(withdrawn);
        assert_eq!(
            evidence,
            &format!("Sec-GPC: 1 at {} ref req-42", common::t0().to_rfc3339())
        );
    }
    // Consent-based analytics and cookie grants are refused from now on...
    assert!(f.c.grant::<Preferences>(s, "ui").await.is_err());
    assert!(f.c.grant::<ProductAnalytics>(s, "stats").await.is_err());
    // ...while other consents and the service purposes are untouched.
    let in_force: Vec<_> = f.c.consents(s).await.unwrap();
    assert_eq!(in_force.len(), 1);
    assert_eq!(in_force[0].0, ConsentScope::GoogleLink);
    let host: Vec<String> =
        f.c.host_consents(s)
            .await
            .unwrap()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
    assert_eq!(host, ["beta"]);
    f.c.grant::<Beta>(s, "beta").await.unwrap();
    f.c.grant::<Notification>(s, "mailer").await.unwrap();
    f.c.grant::<Analytics>(s, "stats").await.unwrap();
}

#[tokio::test]
async fn never_given_is_recorded_as_refused_and_repeats_are_idempotent() {
    let f = fx().await;
    let s = f.c.register_subject().await.unwrap();
    let session = f.session(s).await;
    let out =
        f.c.apply_gpc(&session, GpcSignal::OptOut, None)
            .await
            .unwrap();
    assert_eq!(out.refused, ["cookies", "product_analytics"]);
    assert!(out.withdrawn.is_empty());
    let before = ledger(&f).await.len();
    for _ in 0..3 {
        let again =
            f.c.apply_gpc(&session, GpcSignal::OptOut, None)
                .await
                .unwrap();
        assert!(!again.changed());
        assert_eq!(again.unchanged, ["cookies", "product_analytics"]);
    }
    assert_eq!(
        ledger(&f).await.len(),
        before,
        "a repeated signal records nothing"
    );
    let recorded = opt_outs(&ledger(&f).await);
    assert_eq!(recorded.len(), 2);
    assert!(recorded.iter().all(|(_, withdrawn, _)| !withdrawn));
    // No signal changes nothing and records nothing.
    let none = gpc::from_headers([("Sec-GPC", "0")]);
    assert!(!f.c.apply_gpc(&session, none, None).await.unwrap().changed());
    assert_eq!(ledger(&f).await.len(), before);
}

#[tokio::test]
async fn explicit_consent_after_the_signal_stands() {
    let f = fx().await;
    let s = f.c.register_subject().await.unwrap();
    let session = f.session(s).await;
    f.c.apply_gpc(&session, GpcSignal::OptOut, None)
        .await
        .unwrap();
    assert!(f.c.grant::<Preferences>(s, "ui").await.is_err());
    // The subject turns cookies on in their own session: allowed (GPC spec: a specific,
    // explicit choice of the user for this site).
    f.consent(s, ConsentScope::Cookies).await;
    f.c.grant::<Preferences>(s, "ui").await.unwrap();
    // The browser keeps sending the header: the explicit consent is not undone.
    let out =
        f.c.apply_gpc(&session, GpcSignal::OptOut, None)
            .await
            .unwrap();
    assert!(!out.changed());
    f.c.grant::<Preferences>(s, "ui").await.unwrap();
}

#[tokio::test]
async fn hostile_input_gets_typed_errors() {
    let f = fx().await;
    let s = f.c.register_subject().await.unwrap();
    let session = f.session(s).await;
    // Outside review: addresses, host names and agents fit no longer (no `.` or `:`).
    for bad in [
        "",
        "203.0.113.7 Mozilla/5.0",
        &"x".repeat(65),
        "a\nb",
        "é",
        "203.0.113.9",
        "2001:db8::1",
        "fe80::1:2:3:4",
        "canary-7f3a.example.com",
        "john.smith",
        "Mozilla-5.0_X11:Linux",
        "a@b",
    ] {
        let e =
            f.c.apply_gpc(&session, GpcSignal::OptOut, Some(bad))
                .await
                .unwrap_err();
        assert!(matches!(e, CustodianError::Config(_)), "{bad:?}: {e}");
    }
    assert!(
        opt_outs(&ledger(&f).await).is_empty(),
        "nothing recorded on bad input"
    );
    // An expired session cannot record an opt-out in the subject's name.
    let short = f.session_for(s, chrono::TimeDelta::seconds(1)).await;
    f.clock.advance(chrono::TimeDelta::seconds(2));
    assert!(
        f.c.apply_gpc(&short, GpcSignal::OptOut, None)
            .await
            .is_err()
    );
    // An erased subject: typed refusal.
    f.c.erase(s).await.unwrap();
    let e =
        f.c.apply_gpc(&session, GpcSignal::OptOut, None)
            .await
            .unwrap_err();
    assert!(
        matches!(e, CustodianError::Erased(_) | CustodianError::Issue(_)),
        "{e}"
    );
}
