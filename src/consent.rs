//! Consent (clauses 3.3, 3.5, 3.6, 3.7, 4, 10): scopes, an in-memory registry that gates a
//! grant issuer, and consent receipts.
//!
//! The [`Custodian`](crate::custodian::Custodian) keeps consent in its hash-chained ledger on
//! the host's store; [`ConsentRegistry`] is the same gate for hosts that only want grants
//! (and the unit the ≤ 100 ns issue+check benchmark measures).
//!
//! Receipts follow the Kantara Consent Receipt Specification v1.1 field names, with the
//! ISO/IEC TS 27560 event data (state, withdrawal, policy version, evidence) in an
//! extension object; `docs/consent-receipts.md` maps every field. A receipt never carries
//! the subject's personal data: `piiPrincipalId` is the pseudonymous subject id.

use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::chain::{self, Anchor, ChainEntry, ChainError};
use crate::custodian::{LedgerChange, LedgerEvent};
use crate::data::Category;
use crate::grant::{Epoch, GrantIssuerBuilder};
use crate::ids::{ConsentId, SubjectId};
use crate::purpose::PurposeId;

/// Device permissions of clause 4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// 4.1: access to the Google account (authorization and registration).
    GoogleAccount,
    /// 4.2: making calls.
    Calls,
    /// 4.3: file storage (attachments).
    FileStorage,
    /// 4.4: camera.
    Camera,
    /// 4.5: internet access.
    Network,
}

/// What a consent covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "scope", content = "detail", rename_all = "snake_case")]
pub enum ConsentScope {
    /// 3.3: Google account linked for sign-in.
    GoogleLink,
    /// 3.3: Facebook account linked for sign-in.
    FacebookLink,
    /// 3.3, 3.7: Zoom account connected for conferences.
    ZoomLink,
    /// 4: a device permission.
    Device(Permission),
    /// 3.5: importing device contacts.
    ContactsImport,
    /// 3.6: cookies (language, form drafts).
    Cookies,
    /// 10: acknowledgment of a policy version.
    PolicyVersion(u32),
}

/// Every scope except policy acknowledgments (which are one per version).
pub const SCOPES: &[ConsentScope] = &[
    ConsentScope::GoogleLink,
    ConsentScope::FacebookLink,
    ConsentScope::ZoomLink,
    ConsentScope::ContactsImport,
    ConsentScope::Cookies,
    ConsentScope::Device(Permission::GoogleAccount),
    ConsentScope::Device(Permission::Calls),
    ConsentScope::Device(Permission::FileStorage),
    ConsentScope::Device(Permission::Camera),
    ConsentScope::Device(Permission::Network),
];

impl ConsentScope {
    /// A short stable name.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::GoogleLink => "google_link",
            Self::FacebookLink => "facebook_link",
            Self::ZoomLink => "zoom_link",
            Self::Device(Permission::GoogleAccount) => "device_google_account",
            Self::Device(Permission::Calls) => "device_calls",
            Self::Device(Permission::FileStorage) => "device_file_storage",
            Self::Device(Permission::Camera) => "device_camera",
            Self::Device(Permission::Network) => "device_network",
            Self::ContactsImport => "contacts_import",
            Self::Cookies => "cookies",
            Self::PolicyVersion(_) => "policy_version",
        }
    }

    /// The policy clause it implements.
    #[must_use]
    pub const fn clause(self) -> &'static str {
        match self {
            Self::GoogleLink | Self::FacebookLink => "3.3",
            Self::ZoomLink => "3.7",
            Self::Device(Permission::GoogleAccount) => "4.1",
            Self::Device(Permission::Calls) => "4.2",
            Self::Device(Permission::FileStorage) => "4.3",
            Self::Device(Permission::Camera) => "4.4",
            Self::Device(Permission::Network) => "4.5",
            Self::ContactsImport => "3.5",
            Self::Cookies => "3.6",
            Self::PolicyVersion(_) => "10.2",
        }
    }

    /// The purposes whose grants this consent backs.
    #[must_use]
    pub const fn purposes(self) -> &'static [PurposeId] {
        match self {
            Self::GoogleLink | Self::FacebookLink | Self::Device(Permission::GoogleAccount) => {
                &[PurposeId::Authentication]
            }
            Self::ZoomLink => &[PurposeId::ConferenceCreation],
            Self::Cookies => &[PurposeId::Preferences],
            Self::ContactsImport => &[PurposeId::OwnerAccess],
            Self::Device(Permission::Calls | Permission::FileStorage | Permission::Camera) => {
                &[PurposeId::CustomerManagement]
            }
            Self::Device(Permission::Network) => &[PurposeId::AccountManagement],
            Self::PolicyVersion(_) => &[],
        }
    }

    /// Data kinds stored under this consent, deleted when it is withdrawn (3.7: disconnecting
    /// Zoom removes the stored token).
    #[must_use]
    pub const fn dependent_kinds(self) -> &'static [Category] {
        match self {
            Self::GoogleLink => &[Category::GoogleAccountId],
            Self::FacebookLink => &[Category::FacebookAccountId],
            Self::ZoomLink => &[Category::ZoomAccountId, Category::ZoomAccessToken],
            Self::Cookies => &[Category::CookiePreference],
            Self::ContactsImport => &[Category::DeviceContact],
            _ => &[],
        }
    }
}

/// How a consent was collected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CollectionMethod {
    /// A UI action of the subject.
    UiAction,
    /// An API call on the subject's behalf.
    Api,
    /// Imported from an earlier system.
    Import,
}

impl CollectionMethod {
    const fn receipt_text(self) -> &'static str {
        match self {
            Self::UiAction => "user interface action of the data subject",
            Self::Api => "api call on behalf of the data subject",
            Self::Import => "import from an earlier system",
        }
    }
}

/// Why a consent operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConsentError {
    /// No consent of this scope is in force.
    #[error("no {scope} consent in force for {subject}")]
    NotActive {
        /// The subject.
        subject: SubjectId,
        /// The scope.
        scope: &'static str,
    },
    /// The consent id is not in the ledger.
    #[error("{0} is not in the ledger")]
    Unknown(ConsentId),
    /// The ledger is broken.
    #[error(transparent)]
    Chain(#[from] ChainError),
}

/// An in-memory consent ledger and gate: give and withdraw consent, issue grants that
/// depend on it. Withdrawal is one call and takes effect for every grant before it returns.
#[derive(Debug)]
pub struct ConsentRegistry {
    state: Arc<crate::custodian::PolicyState>,
    epoch: Arc<Epoch>,
    ledger: Mutex<(Vec<ChainEntry>, Anchor)>,
}

impl Default for ConsentRegistry {
    fn default() -> Self {
        Self::new()
    }
}

impl ConsentRegistry {
    /// An empty registry.
    #[must_use]
    pub fn new() -> Self {
        Self {
            state: Arc::new(crate::custodian::PolicyState::new(false)),
            epoch: Arc::default(),
            ledger: Mutex::default(),
        }
    }

    /// A grant-issuer builder wired to this registry: grants for purposes that need consent
    /// are refused without it and stop working once it is withdrawn.
    pub fn issuer_builder(&self) -> GrantIssuerBuilder {
        crate::GrantIssuer::builder()
            .gate(self.state.clone())
            .epoch(self.epoch.clone())
    }

    fn append(&self, event: &LedgerEvent) {
        let mut l = self.ledger.lock().unwrap_or_else(PoisonError::into_inner);
        let (entries, anchor) = &mut *l;
        entries.push(chain::append(anchor, crate::custodian::encode_event(event)));
        self.state.apply(event);
        drop(l);
        self.epoch.bump();
    }

    /// Records consent; returns its id.
    pub fn give(
        &self,
        subject: SubjectId,
        scope: ConsentScope,
        method: CollectionMethod,
        policy_version: u32,
        now: DateTime<Utc>,
    ) -> ConsentId {
        let consent = ConsentId::new_random();
        self.append(&LedgerEvent {
            at: now,
            subject,
            change: LedgerChange::ConsentGiven {
                consent,
                scope,
                method,
                policy_version,
                evidence: None,
            },
        });
        consent
    }

    /// Withdraws consent (one call, GDPR Art. 7(3)).
    ///
    /// # Errors
    /// [`ConsentError::NotActive`].
    pub fn withdraw(
        &self,
        subject: SubjectId,
        scope: ConsentScope,
        now: DateTime<Utc>,
    ) -> Result<ConsentId, ConsentError> {
        let consent = self
            .state
            .active_consent(subject, scope)
            .ok_or(ConsentError::NotActive {
                subject,
                scope: scope.name(),
            })?;
        self.append(&LedgerEvent {
            at: now,
            subject,
            change: LedgerChange::ConsentWithdrawn { consent, scope },
        });
        Ok(consent)
    }

    /// The consent of `scope` in force, if any.
    #[must_use]
    pub fn active(&self, subject: SubjectId, scope: ConsentScope) -> Option<ConsentId> {
        self.state.active_consent(subject, scope)
    }

    /// The ledger entries and anchor (to persist or verify elsewhere).
    #[must_use]
    pub fn ledger(&self) -> (Vec<ChainEntry>, Anchor) {
        self.ledger
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Verifies the ledger.
    ///
    /// # Errors
    /// The first broken link.
    pub fn verify(&self) -> Result<(), ConsentError> {
        let (entries, anchor) = self.ledger();
        Ok(chain::verify_anchored(&entries, &anchor)?)
    }
}

/// The controller named in receipts (Kantara `piiControllers[]`): business contact details,
/// not a data subject's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Controller {
    /// Name.
    pub pii_controller: String,
    /// Contact name or department.
    pub contact: String,
    /// Postal address.
    pub address: String,
    /// Email.
    pub email: String,
    /// Phone.
    pub phone: String,
}

/// A consent receipt (Kantara CR v1.1 field names; see `docs/consent-receipts.md`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsentReceipt {
    /// `KI-CR-v1.1.0`.
    pub version: &'static str,
    /// Jurisdiction.
    pub jurisdiction: String,
    /// Seconds since the epoch when consent was given.
    pub consent_timestamp: i64,
    /// How it was collected.
    pub collection_method: &'static str,
    /// The consent id.
    #[serde(rename = "consentReceiptID")]
    pub consent_receipt_id: ConsentId,
    /// Language of the receipt.
    pub language: &'static str,
    /// The pseudonymous subject id.
    pub pii_principal_id: SubjectId,
    /// The controller.
    pub pii_controllers: Vec<Controller>,
    /// Where the policy is published.
    pub policy_url: String,
    /// Services and their purposes.
    pub services: Vec<ReceiptService>,
    /// No special categories of data are processed.
    pub sensitive: bool,
    /// Special categories (none).
    pub spi_cat: Vec<String>,
    /// ISO/IEC TS 27560 event data: state, withdrawal, policy version, evidence.
    #[serde(rename = "x-iso27560")]
    pub record: ReceiptRecord,
}

/// A service in a receipt.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReceiptService {
    /// Service name.
    pub service: String,
    /// Purposes.
    pub purposes: Vec<ReceiptPurpose>,
}

/// A purpose in a receipt.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceiptPurpose {
    /// Purpose name.
    pub purpose: &'static str,
    /// DPV purpose IRI(s).
    pub purpose_category: Vec<&'static str>,
    /// `EXPLICIT`.
    pub consent_type: &'static str,
    /// Data kinds.
    pub pii_category: Vec<&'static str>,
    /// Whether this is the primary purpose of the service.
    pub primary_purpose: bool,
    /// How consent ends.
    pub termination: &'static str,
    /// Whether data goes to a third party for this purpose (processors listed in the register).
    pub third_party_disclosure: bool,
    /// Which.
    pub third_party_name: Option<&'static str>,
}

/// ISO/IEC TS 27560 record data kept beside the Kantara fields.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceiptRecord {
    /// Scope name.
    pub scope: &'static str,
    /// Policy clause.
    pub clause: &'static str,
    /// DPV consent state: `ConsentGiven`, `RenewedConsentGiven` or `ConsentWithdrawn`.
    pub state: &'static str,
    /// When it was withdrawn.
    pub withdrawn_at: Option<DateTime<Utc>>,
    /// Policy version in force when given.
    pub policy_version: u32,
    /// Legal basis IRI.
    pub legal_basis: &'static str,
    /// Evidence reference (no personal data).
    pub evidence: Option<String>,
}

/// Builds the receipt of consent `consent` from ledger events (in chain order).
///
/// # Errors
/// [`ConsentError::Unknown`] if the ledger has no such consent.
pub fn receipt(
    events: &[LedgerEvent],
    consent: ConsentId,
    controller: &Controller,
    policy_url: &str,
    jurisdiction: &str,
) -> Result<ConsentReceipt, ConsentError> {
    let idx = events
        .iter()
        .position(
            |e| matches!(&e.change, LedgerChange::ConsentGiven { consent: c, .. } if *c == consent),
        )
        .ok_or(ConsentError::Unknown(consent))?;
    let event = events.get(idx).ok_or(ConsentError::Unknown(consent))?;
    let LedgerChange::ConsentGiven {
        scope,
        method,
        policy_version,
        evidence,
        ..
    } = &event.change
    else {
        return Err(ConsentError::Unknown(consent));
    };
    let (scope, method, policy_version, evidence) =
        (*scope, *method, *policy_version, evidence.clone());
    // Re-given (DPV RenewedConsentGiven): an earlier consent of this subject and scope was withdrawn.
    let earlier_withdrawn = events.get(..idx).unwrap_or_default().iter().any(|e| {
        e.subject == event.subject
            && matches!(&e.change, LedgerChange::ConsentWithdrawn { scope: s, .. } if *s == scope)
    });
    let withdrawn_at = events
        .iter()
        .find(|e| matches!(&e.change, LedgerChange::ConsentWithdrawn { consent: c, .. } if *c == consent))
        .map(|e| e.at);
    let row_recipients = |p: PurposeId| -> Option<&'static str> {
        crate::policy::TABLE
            .iter()
            .flat_map(|r| r.recipients.iter())
            .find(|(proc, pp)| *pp == p && *proc != crate::policy::Processor::CloudHosting)
            .map(|(proc, _)| proc.description())
    };
    let purposes = scope
        .purposes()
        .iter()
        .enumerate()
        .map(|(i, &p)| ReceiptPurpose {
            purpose: p.name(),
            purpose_category: p.dpv_iri().into_iter().collect(),
            consent_type: "EXPLICIT",
            pii_category: scope.dependent_kinds().iter().map(|c| c.name()).collect(),
            primary_purpose: i == 0,
            termination: "withdrawal by the data subject at any time, in one step",
            third_party_disclosure: row_recipients(p).is_some(),
            third_party_name: row_recipients(p),
        })
        .collect();
    let state = match (withdrawn_at, earlier_withdrawn) {
        (Some(_), _) => "ConsentWithdrawn",
        (None, true) => "RenewedConsentGiven",
        (None, false) => "ConsentGiven",
    };
    Ok(ConsentReceipt {
        version: "KI-CR-v1.1.0",
        jurisdiction: jurisdiction.to_owned(),
        consent_timestamp: event.at.timestamp(),
        collection_method: method.receipt_text(),
        consent_receipt_id: consent,
        language: "en",
        pii_principal_id: event.subject,
        pii_controllers: vec![controller.clone()],
        policy_url: policy_url.to_owned(),
        services: vec![ReceiptService {
            service: "Smarty CRM".to_owned(),
            purposes,
        }],
        sensitive: false,
        spi_cat: Vec::new(),
        record: ReceiptRecord {
            scope: scope.name(),
            clause: scope.clause(),
            state,
            withdrawn_at,
            policy_version,
            legal_basis: crate::LegalBasis::Consent.dpv_iri(),
            evidence,
        },
    })
}
