//! Disclosure to third parties (clause 7).
//!
//! A [`Disclosure`] can only be made in two ways:
//! - [`Disclosure::to_processor`]: a processor the register lists for that kind and purpose
//!   (clause 7.1: "if required for functioning of the service");
//! - [`Disclosure::to_authority`]: a [`LawfulRequest`] of a public authority, with its legal
//!   basis and reference (clause 7.2).
//!
//! There is no constructor for any other recipient, and the fields are private:
//!
//! ```compile_fail
//! use crm_privacy::disclosure::Disclosure;
//! let d = Disclosure { recipient: "ad network".into() };
//! ```
//!
//! `Custodian::disclose` reads the value through a grant of the disclosure's purpose and
//! writes an audit event naming the recipient.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::data::Category;
use crate::policy::{Processor, TABLE};
use crate::purpose::PurposeId;

/// Why a disclosure was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DisclosureError {
    /// The register does not list this processor for this kind and purpose.
    #[error("{processor:?} is not a listed recipient of {kind} for {purpose}")]
    NotListed {
        /// The processor.
        processor: Processor,
        /// The kind.
        kind: &'static str,
        /// The purpose.
        purpose: &'static str,
    },
    /// The policy table does not allow this kind to be disclosed to authorities.
    #[error("{0} is not disclosed to authorities under the policy")]
    NotForAuthorities(&'static str),
    /// A lawful request without a meaningful authority (3+ letters or digits), legal basis
    /// (4+) or reference (3+).
    #[error("a lawful request needs an authority, a legal basis and a reference ({0} missing)")]
    Incomplete(&'static str),
    /// The disclosure is for another kind or purpose than the read.
    #[error("the disclosure does not match the kind or purpose read")]
    Mismatch,
    /// A field of a lawful request reads as personal data by its form (an email address,
    /// an international phone number, an IP address): the request is kept in clear in the
    /// ledger, so it holds references only (clauses 6.2, 8.1). The text is never echoed.
    #[error("the lawful request's {0} reads as personal data: pass a reference")]
    PersonalData(&'static str),
}

/// A request of a public authority (clause 7.2). Holds references, not personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LawfulRequest {
    authority: String,
    legal_basis: String,
    reference: String,
    received_at: DateTime<Utc>,
}

/// A field of a lawful request: ASCII white space trimmed, `min` to 200 characters, no
/// control characters, at least `min` letters or digits (a placeholder such as `"x"` is not
/// a reference to anything), and nothing that reads as personal data by its form.
fn field(v: &str, name: &'static str, min: usize) -> Result<String, DisclosureError> {
    let t = v.trim_matches(|c: char| c.is_ascii_whitespace());
    let meaningful = t.chars().filter(|c| c.is_alphanumeric()).count();
    if meaningful < min || t.chars().count() > 200 || t.chars().any(char::is_control) {
        return Err(DisclosureError::Incomplete(name));
    }
    if crate::data::screen::looks_personal(t) {
        return Err(DisclosureError::PersonalData(name));
    }
    Ok(t.to_owned())
}

impl LawfulRequest {
    /// A request by `authority` under `legal_basis` (the statute or order), filed as
    /// `reference`.
    ///
    /// # Errors
    /// [`DisclosureError::Incomplete`] naming the empty or invalid field;
    /// [`DisclosureError::PersonalData`] naming a field that reads as personal data.
    pub fn new(
        authority: &str,
        legal_basis: &str,
        reference: &str,
        received_at: DateTime<Utc>,
    ) -> Result<Self, DisclosureError> {
        Ok(Self {
            authority: field(authority, "authority", 3)?,
            legal_basis: field(legal_basis, "legal basis", 4)?,
            reference: field(reference, "reference", 3)?,
            received_at,
        })
    }
    /// The authority.
    #[must_use]
    pub fn authority(&self) -> &str {
        &self.authority
    }
    /// The legal basis.
    #[must_use]
    pub fn legal_basis(&self) -> &str {
        &self.legal_basis
    }
    /// The reference.
    #[must_use]
    pub fn reference(&self) -> &str {
        &self.reference
    }
}

/// Who receives the data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Recipient {
    /// A processor listed in the register.
    Processor {
        /// Which.
        processor: Processor,
    },
    /// A public authority on a lawful request.
    Authority {
        /// The request.
        request: LawfulRequest,
    },
}

/// A permitted transfer of one kind of data for one purpose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Disclosure {
    recipient: Recipient,
    kind: Category,
    purpose: PurposeId,
}

impl Disclosure {
    /// A transfer to `processor`, allowed only if the register lists it for `kind` and
    /// `purpose` (clause 7.1).
    ///
    /// # Errors
    /// [`DisclosureError::NotListed`].
    pub fn to_processor(
        processor: Processor,
        kind: Category,
        purpose: PurposeId,
    ) -> Result<Self, DisclosureError> {
        let listed = TABLE.iter().any(|r| {
            r.category == kind
                && r.recipients
                    .iter()
                    .any(|&(p, pp)| p == processor && pp == purpose)
        });
        if !listed {
            return Err(DisclosureError::NotListed {
                processor,
                kind: kind.name(),
                purpose: purpose.name(),
            });
        }
        Ok(Self {
            recipient: Recipient::Processor { processor },
            kind,
            purpose,
        })
    }

    /// A transfer to a public authority on a lawful request (clause 7.2), for the legal
    /// compliance purpose.
    ///
    /// # Errors
    /// [`DisclosureError::NotForAuthorities`] when the policy table does not allow the kind
    /// for legal compliance.
    pub fn to_authority(request: LawfulRequest, kind: Category) -> Result<Self, DisclosureError> {
        if !crate::policy::permits(kind, PurposeId::LegalCompliance) {
            return Err(DisclosureError::NotForAuthorities(kind.name()));
        }
        Ok(Self {
            recipient: Recipient::Authority { request },
            kind,
            purpose: PurposeId::LegalCompliance,
        })
    }

    /// The recipient.
    #[must_use]
    pub const fn recipient(&self) -> &Recipient {
        &self.recipient
    }
    /// The kind.
    #[must_use]
    pub const fn kind(&self) -> Category {
        self.kind
    }
    /// The purpose.
    #[must_use]
    pub const fn purpose(&self) -> PurposeId {
        self.purpose
    }

    /// A reference for the audit log (recipient and, for authorities, their reference).
    #[must_use]
    pub fn audit_reference(&self) -> String {
        match &self.recipient {
            Recipient::Processor { processor } => format!("processor {processor:?}"),
            Recipient::Authority { request } => format!(
                "authority {} under {} ref {}",
                request.authority, request.legal_basis, request.reference
            ),
        }
    }
}
