#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]
#![cfg(feature = "tracing")]
//! Tracing canary: a full scenario stores, reads, rectifies, looks up, exports and erases
//! distinctive personal values, gives consent with distinctive evidence and passes tokens and
//! credentials around, while a layer captures every span and event at TRACE. No canary
//! string (nor its lowercase or base64 forms), token or credential may appear in any name,
//! field or message; the pseudonymous ids must (so the capture is not vacuous).

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use crm_privacy::chrono::{TimeDelta, Utc};
use crm_privacy::consent::{CollectionMethod, ConsentScope};
use crm_privacy::crypto::{Kek, Keyring};
use crm_privacy::custodian::Custodian;
use crm_privacy::store::{
    InMemoryAuthenticator, InMemoryChainStore, InMemoryKeyStore, InMemoryRecordStore,
};
use crm_privacy::*;
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt as _};
use tracing_subscriber::registry::LookupSpan;

const CANARY: &str = "CnryQx7Zv";
const EVIDENCE: &str = "EvdncKp4Wm";
const CREDENTIAL: &str = "CredTk9Ys";

/// Everything the layer saw, one line per span, record or event.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<String>>>);

struct Line(String);
impl Visit for Line {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!(" {}={value:?}", field.name()));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push_str(&format!(" {}={value}", field.name()));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.0
            .push_str(&format!(" {}={value} ({value:?})", field.name()));
    }
}

impl<S: tracing::Subscriber + for<'a> LookupSpan<'a>> tracing_subscriber::Layer<S> for Capture {
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        _: &tracing::span::Id,
        _: Context<'_, S>,
    ) {
        let m = attrs.metadata();
        let mut line = Line(format!("span {} {}", m.target(), m.name()));
        attrs.record(&mut line);
        self.0.lock().unwrap().push(line.0);
    }
    fn on_record(
        &self,
        _: &tracing::span::Id,
        values: &tracing::span::Record<'_>,
        _: Context<'_, S>,
    ) {
        let mut line = Line("record".into());
        values.record(&mut line);
        self.0.lock().unwrap().push(line.0);
    }
    fn on_event(&self, event: &tracing::Event<'_>, ctx: Context<'_, S>) {
        let m = event.metadata();
        let scope = ctx
            .event_scope(event)
            .map(|s| s.map(|sp| sp.name()).collect::<Vec<_>>().join("/"))
            .unwrap_or_default();
        let mut line = Line(format!("event {} {} [{scope}]", m.level(), m.target()));
        event.record(&mut line);
        self.0.lock().unwrap().push(line.0);
    }
}

/// The forms a leaked value could take in a captured line.
fn forms(secret: &str) -> Vec<String> {
    let b = secret.as_bytes();
    vec![
        secret.to_owned(),
        secret.to_lowercase(),
        base64::engine::general_purpose::STANDARD.encode(b),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b),
        data_hex(b),
    ]
}

fn data_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

async fn scenario(secrets: &mut Vec<String>) -> Vec<String> {
    let logins = Arc::new(InMemoryAuthenticator::new());
    let c = Custodian::builder(
        Keyring::new(
            Kek::from_bytes(1, &crm_privacy::crypto::test_secret(3)).unwrap(),
            &crm_privacy::crypto::test_secret(9),
        )
        .unwrap(),
    )
    .records(Arc::new(InMemoryRecordStore::new()))
    .chains(Arc::new(InMemoryChainStore::new()))
    .keys(Arc::new(InMemoryKeyStore::new()))
    .authenticator(logins.clone())
    .build()
    .await
    .unwrap();
    let alice = c.register_subject().await.unwrap();
    let now = Utc::now();
    logins.insert(
        CREDENTIAL,
        SessionClaims {
            subject: alice,
            session: SessionId::new_random(),
            authenticated_at: now,
            expires_at: now + TimeDelta::hours(1),
        },
    );
    let session = c.authenticate(CREDENTIAL).await.unwrap();
    // A failed login with a credential that looks like personal data.
    assert!(c.authenticate(&format!("{CANARY}@login")).await.is_err());

    let email_text = format!("{CANARY}@{}.example", CANARY.to_lowercase());
    let email = c
        .store(alice, Email::parse(&email_text).unwrap())
        .await
        .unwrap();
    let name = c
        .store_text(alice, Category::PersonName, &format!("Ann {CANARY}"))
        .await
        .unwrap();
    let mut rec = CustomerRecord::new();
    rec.set("company", CANARY).unwrap();
    c.store(alice, rec).await.unwrap();
    // A refused write: invalid text that contains the canary.
    assert!(
        c.store_text(alice, Category::Email, &format!("{CANARY} not an email"))
            .await
            .is_err()
    );

    c.give_consent(
        &session,
        ConsentScope::Cookies,
        CollectionMethod::UiAction,
        Some(EVIDENCE),
    )
    .await
    .unwrap();
    let mut prefs = CookiePreference::new();
    prefs.set_draft("note", CANARY).unwrap();
    c.store(alice, prefs).await.unwrap();

    let g = c.grant::<Notification>(alice, "mailer").await.unwrap();
    let got = c
        .with::<Email, _, _>(&g, email, |e| e.domain().to_owned())
        .await
        .unwrap();
    assert!(got.contains(&CANARY.to_lowercase()));
    let text = c.read_as_text(&g, email).await.unwrap();
    assert!(text.contains(CANARY));
    // A refused read (wrong kind) is audited and traced — without the value.
    assert!(c.with::<Email, _, _>(&g, name, |_| ()).await.is_err());

    let token = c.seal_grant(&g).unwrap();
    secrets.push(token.clone());
    let reopened = c.open_grant::<Notification>(&token).await.unwrap();
    assert!(
        c.open_grant::<Notification>(&format!("{CANARY}.{token}"))
            .await
            .is_err()
    );

    let lookup = c.grant_lookup::<Notification>("recovery").await.unwrap();
    let found = c
        .find_by_email(&lookup, &Email::parse(&email_text).unwrap())
        .await
        .unwrap();
    assert_eq!(found, vec![alice]);

    let owner = c.grant_owner(&session).await.unwrap();
    c.rectify_text(&owner, name, Category::PersonName, &format!("Bea {CANARY}"))
        .await
        .unwrap();
    let export = c.export(&owner).await.unwrap();
    assert!(export.to_json().unwrap().contains(CANARY));
    c.withdraw_consent(alice, ConsentScope::Cookies)
        .await
        .unwrap();
    c.revoke_token::<Notification>(&token).await.unwrap();
    assert!(
        c.with::<Email, _, _>(&reopened, email, |_| ())
            .await
            .is_err()
    );
    c.restrict(alice).await.unwrap();
    c.lift_restriction(alice).await.unwrap();
    c.erase(alice).await.unwrap();
    c.sweep().await.unwrap();
    c.verify_chains().await.unwrap();
    vec![alice.to_string(), email.to_string(), g.id().to_string()]
}

#[tokio::test]
async fn no_personal_data_token_or_evidence_in_any_span_or_event() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry().with(capture.clone());
    let _guard = tracing::subscriber::set_default(subscriber);

    let mut secrets = vec![CREDENTIAL.to_owned()];
    let ids = scenario(&mut secrets).await;

    let lines = capture.0.lock().unwrap().clone();
    let all = lines.join("\n");
    // The capture is not vacuous: operations, the gate and the ids are there.
    for op in [
        "span crm_privacy::custodian::write store",
        "read_as_text",
        "admit_info",
        "commit",
        "erase",
    ] {
        assert!(all.contains(op), "no `{op}` in the capture:\n{all}");
    }
    assert!(
        all.contains("event INFO"),
        "refusals are traced as events:\n{all}"
    );
    for id in &ids {
        assert!(all.contains(id.as_str()), "id {id} not traced");
    }
    let mut leaks = Vec::new();
    for secret in [CANARY, EVIDENCE]
        .iter()
        .map(|s| s.to_string())
        .chain(secrets)
    {
        for form in forms(&secret) {
            for line in lines.iter().filter(|l| l.contains(form.as_str())) {
                leaks.push(format!("{form:?} in: {line}"));
            }
        }
    }
    assert!(
        leaks.is_empty(),
        "personal data or secrets in traces:\n{}",
        leaks.join("\n")
    );
}
