#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]
//! Host text the custodian keeps in clear (a consent's evidence, a service component's
//! name, a lawful request's fields) never carries personal data that its form gives away:
//! tried from outside the crate the way a careless host would, with canary values, then the
//! whole ledger and audit log are searched for them.

mod common;

use common::{Fx, keyring, t0};
use crm_privacy::consent::{CollectionMethod, ConsentScope};
use crm_privacy::custodian::CustodianError;
use crm_privacy::disclosure::{DisclosureError, LawfulRequest};
use crm_privacy::store::{ChainName, ChainStore};
use crm_privacy::*;

/// Careless inputs: each holds the canary digits `7364` or the canary word `cnryq`.
const PERSONAL: &[&str] = &[
    "cnryq@example.com",
    "mailer for cnryq@example.org",
    "cnryq\u{FF20}example.net",
    "+44 20 7946 7364",
    "tel:+1-415-555-7364",
    "sms +41 44 668 7364",
    "10.73.64.1",
    "client 192.168.73.64:443",
    "2001:db8::7364",
    "line\ncnryq",
];

fn assert_clean(what: &str, text: &str) {
    for canary in ["cnryq", "7364", "73.64"] {
        assert!(!text.contains(canary), "{what} holds the canary {canary}");
    }
}

async fn everything_kept_in_clear(f: &Fx) -> String {
    let mut all = String::new();
    for chain in [ChainName::Ledger, ChainName::Audit] {
        for e in f.chains.entries(chain).await.unwrap() {
            all.push_str(&String::from_utf8_lossy(&e.body));
            all.push('\n');
        }
    }
    all
}

#[tokio::test]
async fn personal_data_never_reaches_the_ledger_or_audit_log() {
    let f = common::deployment(t0(), keyring(), |b| b).await;
    let s = f.c.register_subject().await.unwrap();
    let session = f.session(s).await;
    f.c.give_consent(
        &session,
        ConsentScope::Cookies,
        CollectionMethod::UiAction,
        Some("ui:evt-9"),
    )
    .await
    .unwrap();
    f.c.grant::<Notification>(s, "deal alerts v2")
        .await
        .unwrap();

    for text in PERSONAL {
        let e = f.c.grant::<Notification>(s, text).await.unwrap_err();
        assert!(
            matches!(e, CustodianError::PersonalDataInText(_)),
            "grant: {e}"
        );
        assert_clean("grant error", &format!("{e} {e:?}"));
        let e = f.c.grant_lookup::<Notification>(text).await.unwrap_err();
        assert!(matches!(e, CustodianError::PersonalDataInText(_)));
        let e =
            f.c.give_consent(
                &session,
                ConsentScope::GoogleLink,
                CollectionMethod::UiAction,
                Some(text),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(e, CustodianError::PersonalDataInText(_)),
            "consent: {e}"
        );
        assert_clean("consent error", &format!("{e} {e:?}"));
        for fields in [
            (*text, "StPO 95", "AZ-2026-17"),
            ("Police of Berlin", *text, "AZ-2026-17"),
            ("Police of Berlin", "StPO 95", *text),
        ] {
            let e = LawfulRequest::new(fields.0, fields.1, fields.2, t0()).unwrap_err();
            assert!(
                matches!(
                    e,
                    DisclosureError::PersonalData(_) | DisclosureError::Incomplete(_)
                ),
                "lawful request: {e}"
            );
            assert_clean("lawful request error", &format!("{e} {e:?}"));
        }
    }
    // The refused consent was not recorded; the accepted reference and name were.
    assert_eq!(f.c.consents(s).await.unwrap().len(), 1);
    let kept = everything_kept_in_clear(&f).await;
    assert!(kept.contains("ui:evt-9"), "the accepted evidence is kept");
    assert!(kept.contains("deal alerts v2"), "the accepted name is kept");
    assert_clean("ledger and audit log", &kept);
}

#[tokio::test]
async fn overlong_text_is_refused_before_it_is_screened_or_cut() {
    let f = common::deployment(t0(), keyring(), |b| b).await;
    let s = f.c.register_subject().await.unwrap();
    let session = f.session(s).await;
    // A name cut to 64 bytes must not turn into an address: screened as given and as kept.
    let cut = format!("{} 10.1.2.2556", "z".repeat(53));
    assert!(matches!(
        f.c.grant::<Notification>(s, &cut).await.unwrap_err(),
        CustodianError::PersonalDataInText(_)
    ));
    let long = ":".repeat(100_000);
    assert!(matches!(
        f.c.grant::<Notification>(s, &long).await.unwrap_err(),
        CustodianError::TooLarge { .. }
    ));
    assert!(matches!(
        f.c.give_consent(
            &session,
            ConsentScope::Cookies,
            CollectionMethod::UiAction,
            Some(&long)
        )
        .await
        .unwrap_err(),
        CustodianError::TooLarge { .. }
    ));
}

#[tokio::test]
async fn a_lawful_request_with_an_officers_address_is_refused_as_personal_data() {
    let e = LawfulRequest::new(
        "Police of Berlin",
        "StPO 95",
        "AZ-2026-17 officer cnryq@police.example",
        t0(),
    )
    .unwrap_err();
    assert_eq!(e, DisclosureError::PersonalData("reference"));
    assert_clean("error", &format!("{e} {e:?}"));
}

#[tokio::test]
async fn a_blank_component_name_is_refused_on_every_path() {
    let f = common::deployment(t0(), keyring(), |b| b).await;
    let s = f.c.register_subject().await.unwrap();
    for blank in ["", " ", "\t\n", "\u{3000}", "\u{200B}\u{00A0}", "\u{2060}"] {
        let e = f.c.grant::<Notification>(s, blank).await.unwrap_err();
        assert!(matches!(e, CustodianError::BlankText(_)), "grant: {e}");
        let e = f.c.grant_lookup::<Notification>(blank).await.unwrap_err();
        assert!(matches!(e, CustodianError::BlankText(_)), "lookup: {e}");
    }
    // A name with one visible character is a name.
    f.c.grant::<Notification>(s, " x ").await.unwrap();
}
