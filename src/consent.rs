//! Consent (clauses 3.3, 3.5, 3.6, 3.7, 4, 10): scopes, collection methods and consent
//! receipts.
//!
//! The [`Custodian`](crate::custodian::Custodian) keeps consent in its hash-chained ledger on
//! the host's store and is the only gate: consent is given and withdrawn through it, and
//! every grant and every use of one checks the consent in force there. The scopes come from
//! the one scope table in the policy module (see [`ConsentScope::purposes`]).
//!
//! Receipts follow the Kantara Consent Receipt Specification v1.1 field names, with the
//! ISO/IEC TS 27560 event data (state, withdrawal, policy version, evidence) in an
//! extension object; `docs/consent-receipts.md` maps every field. A receipt never carries
//! the subject's personal data: `piiPrincipalId` is the pseudonymous subject id.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{ConsentId, SubjectId};

pub use crate::policy::scopes::{ConsentScope, Permission};

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
    pub(crate) const fn receipt_text(self) -> &'static str {
        match self {
            Self::UiAction => "user interface action of the data subject",
            Self::Api => "api call on behalf of the data subject",
            Self::Import => "import from an earlier system",
        }
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
