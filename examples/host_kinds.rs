//! A host crate declares its own data kinds, purposes, retention and consent scope (clause 1:
//! the customer base holds what the owner decides) and they are enforced like built-ins:
//! - the host kind renders in the subject's export (GDPR Art. 15, 20) through its text codec;
//! - the sweep deletes it once its declared retention rule has run out (clause 9.1);
//! - a host purpose with a consent basis is gated by the host scope that lists it: no grant
//!   without consent, and withdrawing stops issued grants at once and deletes the data
//!   collected under it.
//!
//! What it cannot do — widen the policy for a built-in kind, gate a built-in purpose with a
//! host scope, or declare a consent purpose without a scope — is shown by the cases under
//! `tests/compile_fail/`.
//!
//! Run: `cargo run --example host_kinds`
#![allow(clippy::print_stdout, reason = "examples print their walk-through")]

use std::sync::Arc;

use chrono::{TimeDelta, TimeZone, Utc};
use crm_privacy::consent::CollectionMethod;
use crm_privacy::crypto::Keyring;
use crm_privacy::custodian::Custodian;
use crm_privacy::policy::HostConsentScope;
use crm_privacy::store::{
    InMemoryAuthenticator, InMemoryChainStore, InMemoryKeyStore, InMemoryRecordStore,
};
use crm_privacy::zeroize::Zeroizing;
use crm_privacy::{
    DataError, DataReason, HostKind, HostPurpose, LegalBasis, ManualClock, OwnerAccess, Reader,
    SessionClaims, SessionId, Writer, host_consent_scope, host_policy,
};

/// A billing address, kept by the host for invoicing.
struct BillingAddress {
    line: crm_privacy::secrecy::SecretString,
}

impl BillingAddress {
    fn parse(line: &str) -> Result<Self, DataError> {
        let line = line.trim();
        if line.is_empty() {
            return Err(DataError::new(Self::NAME, DataReason::Empty));
        }
        if line.chars().any(char::is_control) {
            return Err(DataError::new(Self::NAME, DataReason::ControlCharacter));
        }
        Ok(Self { line: line.into() })
    }
}

impl HostKind for BillingAddress {
    const NAME: &'static str = "billing_address";
    fn encode(&self) -> Zeroizing<Vec<u8>> {
        use crm_privacy::secrecy::ExposeSecret;
        let mut w = Writer::new();
        w.str(self.line.expose_secret());
        w.finish()
    }
    fn decode(bytes: &[u8]) -> Result<Self, DataError> {
        let mut r = Reader::new(Self::NAME, bytes);
        let line = r.str()?;
        r.finish()?;
        Self::parse(line)
    }
    fn to_text(&self) -> Zeroizing<String> {
        use crm_privacy::secrecy::ExposeSecret;
        Zeroizing::new(self.line.expose_secret().to_owned())
    }
    fn from_text(text: &str) -> Result<Self, DataError> {
        Self::parse(text)
    }
}

/// A device's push token, collected only while the subject consents to notifications.
struct PushToken(crm_privacy::secrecy::SecretString);

impl HostKind for PushToken {
    const NAME: &'static str = "push_token";
    fn encode(&self) -> Zeroizing<Vec<u8>> {
        use crm_privacy::secrecy::ExposeSecret;
        Zeroizing::new(self.0.expose_secret().as_bytes().to_vec())
    }
    fn decode(bytes: &[u8]) -> Result<Self, DataError> {
        let s = core::str::from_utf8(bytes)
            .map_err(|_| DataError::new(Self::NAME, DataReason::Corrupt))?;
        Self::from_text(s)
    }
    fn to_text(&self) -> Zeroizing<String> {
        use crm_privacy::secrecy::ExposeSecret;
        Zeroizing::new(self.0.expose_secret().to_owned())
    }
    fn from_text(text: &str) -> Result<Self, DataError> {
        if text.is_empty() || !text.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(DataError::new(Self::NAME, DataReason::Field("token")));
        }
        Ok(Self(text.into()))
    }
}

/// Sending invoices.
struct Invoicing;
impl HostPurpose for Invoicing {
    const NAME: &'static str = "invoicing";
    const LEGAL_BASIS: LegalBasis = LegalBasis::Contract;
    const DPV_IRI: Option<&'static str> = Some("https://w3id.org/dpv#ServiceProvision");
}

/// Push notifications about the subject's deals: consent only.
struct PushNotifications;
impl HostPurpose for PushNotifications {
    const NAME: &'static str = "push_notifications";
    const LEGAL_BASIS: LegalBasis = LegalBasis::Consent;
    const DPV_IRI: Option<&'static str> = Some("https://w3id.org/dpv#CommunicationManagement");
}

host_policy!(BillingAddress => [Invoicing, OwnerAccess],
    retention years(10) after LastActivity, "ten years after the last invoice");
host_policy!(PushToken => [PushNotifications, OwnerAccess],
    retention months(6) after LastActivity, "six months after the device last checked in");
host_consent_scope!(
    Notifications,
    "notifications",
    purposes[PushNotifications],
    deletes[PushToken]
);

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Only the custodian issues grants; in-memory stores, a demo key and a manual clock.
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0)
            .single()
            .ok_or("date")?,
    ));
    let logins = Arc::new(InMemoryAuthenticator::new());
    let crm = Custodian::builder(Keyring::generate()?)
        .records(Arc::new(InMemoryRecordStore::new()))
        .chains(Arc::new(InMemoryChainStore::new()))
        .keys(Arc::new(InMemoryKeyStore::new()))
        .clock(clock.clone())
        .authenticator(logins.clone())
        .build()
        .await?;
    let subject = crm.register_subject().await?;
    logins.insert(
        "demo-credential",
        SessionClaims {
            subject,
            session: SessionId::new_random(),
            authenticated_at: crm.now(),
            expires_at: crm.now() + TimeDelta::hours(1),
        },
    );
    let session = crm.authenticate("demo-credential").await?;

    // 1. A host kind, stored, read for its purpose and rendered in the subject's export.
    let address = crm
        .store(subject, BillingAddress::parse("Rue du Rhône 1, Genève")?)
        .await?;
    let invoicing = crm.grant::<Invoicing>(subject, "billing").await?;
    crm.with(&invoicing, address, |_: &BillingAddress| ())
        .await?; // hand it to the renderer
    let export = crm.export(&crm.grant_owner(&session).await?).await?;
    for r in &export.records {
        println!("export: {} rendered as {:?}", r.kind, r.rendering);
    }

    // 2. Consent-gated host purpose: refused without the scope, allowed with it, stopped
    //    at once by withdrawal (which also deletes the push token collected under it).
    let refused = crm.grant::<PushNotifications>(subject, "deal alerts").await;
    println!("push grant without consent: refused = {}", refused.is_err());
    let scope = Notifications::scope()?;
    crm.give_host_consent(
        &session,
        scope,
        CollectionMethod::UiAction,
        Some("ui:toggle"),
    )
    .await?;
    let token = crm.store(subject, PushToken::from_text("abc123")?).await?;
    let push = crm
        .grant::<PushNotifications>(subject, "deal alerts")
        .await?;
    crm.with(&push, token, |_: &PushToken| ()).await?;
    crm.withdraw_host_consent(subject, scope).await?;
    let after = crm.with(&push, token, |_: &PushToken| ()).await;
    println!("push grant after withdrawal: refused = {}", after.is_err());

    // 3. Retention: ten years after the last update, the sweep deletes the address.
    clock.advance(TimeDelta::days(3660));
    for line in crm.sweep().await? {
        println!("sweep: {} deleted = {}", line.kind, line.deleted);
    }

    let register = crm_privacy::policy::register()
        .with_host_kind::<BillingAddress>()
        .with_host_kind::<PushToken>()
        .with_host_scopes();
    let entry = register
        .entries
        .iter()
        .find(|e| e.kind == "billing_address")
        .ok_or("register")?;
    println!(
        "register: {} -> {:?}, retention: {}",
        entry.kind,
        entry.purposes.iter().map(|p| p.name).collect::<Vec<_>>(),
        entry
            .retention_rule
            .map(|r| r.summary())
            .unwrap_or_default()
    );
    Ok(())
}
