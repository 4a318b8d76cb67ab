//! The record of processing activities (GDPR Art. 30(1)) generated from the policy table.

use std::fmt::Write as _;

use serde::Serialize;

use super::{Processor, TABLE};
use crate::data::{HostKind, KindRef};
use crate::purpose::{LegalBasis, Purpose, PurposeId, PurposeRef};

/// A purpose as listed in the register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PurposeInfo {
    /// Purpose name.
    pub name: &'static str,
    /// Legal basis.
    pub legal_basis: LegalBasis,
    /// GDPR article of the legal basis.
    pub gdpr_article: &'static str,
    /// W3C DPV purpose IRI where one fits.
    pub dpv_iri: Option<&'static str>,
    /// Whether a host crate declared it.
    pub host_declared: bool,
}

impl PurposeInfo {
    /// The register line of purpose `P`.
    #[must_use]
    pub const fn of<P: Purpose>() -> Self {
        Self {
            name: P::NAME,
            legal_basis: P::LEGAL_BASIS,
            gdpr_article: P::LEGAL_BASIS.gdpr_article(),
            dpv_iri: P::DPV_IRI,
            host_declared: matches!(P::ID, PurposeRef::Host(_)),
        }
    }

    /// The register line of a built-in purpose.
    #[must_use]
    pub const fn builtin(p: PurposeId) -> Self {
        Self {
            name: p.name(),
            legal_basis: p.legal_basis(),
            gdpr_article: p.legal_basis().gdpr_article(),
            dpv_iri: p.dpv_iri(),
            host_declared: false,
        }
    }
}

/// A recipient of one kind of data for one purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RecipientInfo {
    /// The processor.
    pub processor: Processor,
    /// What it does.
    pub description: &'static str,
    /// The purpose it receives the data for.
    pub purpose: &'static str,
}

/// One kind of data in the register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegisterEntry {
    /// Kind name.
    pub kind: &'static str,
    /// Policy clause introducing it (empty for host kinds).
    pub clause: &'static str,
    /// Purposes it may be read for.
    pub purposes: Vec<PurposeInfo>,
    /// Processors receiving it.
    pub recipients: Vec<RecipientInfo>,
    /// Retention (clause 9.1).
    pub retention: &'static str,
    /// The typed rule the sweep applies, for host kinds (built-in kinds: the schedule).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retention_rule: Option<super::HostRetention>,
    /// The masked form, for a kind that has masked views (`docs/masked-views.md`): every
    /// purpose of [`purposes`](Self::purposes) may read it, and so may
    /// [`masked_only_purposes`](Self::masked_only_purposes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub masked_view: Option<&'static str>,
    /// Purposes that may read only the masked view of this kind, never the value.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub masked_only_purposes: Vec<PurposeInfo>,
    /// Whether a host crate declared it.
    pub host_declared: bool,
}

/// A consent scope as listed in the register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsentScopeInfo {
    /// Scope name.
    pub scope: &'static str,
    /// Clause.
    pub clause: &'static str,
    /// Purposes whose grants it backs.
    pub purposes: Vec<&'static str>,
    /// Legal basis of processing under it (always consent, GDPR Art. 6(1)(a)).
    pub legal_basis: LegalBasis,
    /// Data kinds deleted when it is withdrawn.
    pub withdrawn_deletes: Vec<&'static str>,
    /// For a device permission (clause 4): the kinds whose collection needs it in force.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub gates_collection_of: Vec<&'static str>,
}

/// The register: every kind, its purposes, legal bases, recipients and retention.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Register {
    /// Controller (GDPR Art. 30(1)(a)).
    pub controller: &'static str,
    /// Categories of data subjects (Art. 30(1)(c)).
    pub data_subjects: &'static [&'static str],
    /// One entry per data kind.
    pub entries: Vec<RegisterEntry>,
    /// Consent scopes (clauses 3.3–3.7, 4) and what they back.
    pub consent_scopes: Vec<ConsentScopeInfo>,
    /// Public authorities may receive data on a lawful request (clause 7.2).
    pub authority_disclosure: &'static str,
    /// Encryption in transit (clause 8.1), one line per distinct transport of the stores in
    /// use. The register of a running deployment
    /// ([`Custodian::register`](crate::custodian::Custodian::register)) derives it from what
    /// its stores report their configuration guarantees; the static register of the policy
    /// table ([`register`](super::register)), which has no store, says what the default is.
    pub transport: Vec<&'static str>,
    /// Technical and organisational measures (Art. 30(1)(g), clause 8.1) other than the
    /// transport.
    pub security_measures: &'static [&'static str],
}

/// The transport line of a register with no store: what the SDK's stores default to.
pub(crate) const TRANSPORT_WITHOUT_STORE: &str = "encryption in transit: as the store in use is configured; tls with server certificate and host name verified is required by default for any database not on the same machine";

/// Implemented by [`host_policy!`](crate::host_policy) for a host kind: the purposes it
/// declared, so they reach the register.
pub trait HostPolicy: HostKind {
    /// The purposes the host declared for this kind.
    const PURPOSES: &'static [PurposeInfo];
    /// Its retention rule (clause 9.1): the sweep deletes a record once it has run out for
    /// every declared purpose, and the register shows it.
    const RETENTION: super::HostRetention;
}

impl Register {
    pub(crate) fn builtin() -> Self {
        let entries = TABLE
            .iter()
            .map(|row| RegisterEntry {
                kind: row.category.name(),
                clause: row.category.clause(),
                purposes: row
                    .purposes
                    .iter()
                    .map(|&p| PurposeInfo::builtin(p))
                    .collect(),
                recipients: row
                    .recipients
                    .iter()
                    .map(|&(processor, p)| RecipientInfo {
                        processor,
                        description: processor.description(),
                        purpose: p.name(),
                    })
                    .collect(),
                retention: row.retention,
                retention_rule: None,
                masked_view: row.mask_format,
                masked_only_purposes: row
                    .masked
                    .iter()
                    .map(|&p| PurposeInfo::builtin(p))
                    .collect(),
                host_declared: false,
            })
            .collect();
        let consent_scopes = super::scopes::SCOPE_TABLE
            .iter()
            .map(|r| r.scope)
            .map(|s| ConsentScopeInfo {
                scope: s.name(),
                clause: s.clause(),
                purposes: s.purposes().iter().map(|p| p.name()).collect(),
                legal_basis: LegalBasis::Consent,
                withdrawn_deletes: s.dependent_kinds().iter().map(|c| c.name()).collect(),
                gates_collection_of: match s {
                    super::scopes::ConsentScope::Device(p) => {
                        p.gated_kinds().iter().map(|c| c.name()).collect()
                    }
                    _ => Vec::new(),
                },
            })
            .collect();
        Self {
            consent_scopes,
            controller: super::SERVICE,
            data_subjects: &[
                "account owners",
                "colleagues invited to teamwork",
                "customers of account owners",
                "contacts imported from devices",
            ],
            entries,
            authority_disclosure: "public authorities and other authorized entities, only on a lawful request with a legal basis and reference (clause 7.2)",
            transport: vec![TRANSPORT_WITHOUT_STORE],
            security_measures: &[
                "per-subject envelope encryption at rest (aes-256-gcm)",
                "keyed blind index for lookups",
                "purpose-bound, expiring, revocable access grants",
                "staff access only with a non-disclosure agreement on file",
                "hash-chained consent ledger and audit log",
            ],
        }
    }

    /// Adds a host-declared kind (see [`host_policy!`](crate::host_policy)).
    #[must_use]
    pub fn with_host_kind<K: HostPolicy>(mut self) -> Self {
        self.entries.push(RegisterEntry {
            kind: <K as HostKind>::NAME,
            clause: "",
            purposes: K::PURPOSES.to_vec(),
            recipients: Vec::new(),
            retention: K::RETENTION.description(),
            retention_rule: Some(K::RETENTION),
            masked_view: None,
            masked_only_purposes: Vec::new(),
            host_declared: true,
        });
        self
    }

    /// States the transport lines of the stores in force instead of the default (the
    /// custodian's register). Duplicates are listed once, in the order given.
    #[must_use]
    pub(crate) fn with_transport(mut self, lines: impl IntoIterator<Item = &'static str>) -> Self {
        self.transport.clear();
        for l in lines {
            if !self.transport.contains(&l) {
                self.transport.push(l);
            }
        }
        if self.transport.is_empty() {
            self.transport.push(TRANSPORT_WITHOUT_STORE);
        }
        self
    }

    /// Adds every registered host consent scope (see
    /// [`host_consent_scope!`](crate::host_consent_scope)) to the consent scopes.
    #[must_use]
    pub fn with_host_scopes(mut self) -> Self {
        for s in super::HostScope::all() {
            self.consent_scopes.push(ConsentScopeInfo {
                scope: s.name(),
                clause: "host",
                purposes: s.purposes().to_vec(),
                legal_basis: LegalBasis::Consent,
                withdrawn_deletes: s.dependent_kinds().to_vec(),
                gates_collection_of: Vec::new(),
            });
        }
        self
    }

    /// The entry for a kind.
    #[must_use]
    pub fn entry(&self, kind: KindRef) -> Option<&RegisterEntry> {
        self.entries.iter().find(|e| e.kind == kind.name())
    }

    /// Pretty JSON.
    ///
    /// # Errors
    /// Only if serialization fails, which it cannot for this type; kept typed for callers.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self)
    }

    /// The register as a Markdown notice.
    #[must_use]
    pub fn to_markdown(&self) -> String {
        let mut md = String::new();
        let _ = writeln!(
            md,
            "# Record of processing activities — {}\n",
            self.controller
        );
        md.push_str("Generated from the policy table of `crm-privacy`; do not edit by hand.\n\n");
        md.push_str("| data kind | clause | purposes (legal basis) | recipients | retention |\n");
        md.push_str("|---|---|---|---|---|\n");
        for e in &self.entries {
            let purposes: Vec<String> = e
                .purposes
                .iter()
                .map(|p| format!("{} ({})", p.name, p.gdpr_article))
                .collect();
            let recipients: Vec<String> = e
                .recipients
                .iter()
                .map(|r| format!("{} for {}", r.description, r.purpose))
                .collect();
            let clause = if e.host_declared { "host" } else { e.clause };
            let retention = match &e.retention_rule {
                Some(rule) => format!("{} ({})", e.retention, rule.summary()),
                None => e.retention.to_owned(),
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} |",
                e.kind,
                clause,
                purposes.join(", "),
                if recipients.is_empty() {
                    "none".to_owned()
                } else {
                    recipients.join("; ")
                },
                retention
            );
        }
        let masked: Vec<&RegisterEntry> = self
            .entries
            .iter()
            .filter(|e| e.masked_view.is_some())
            .collect();
        if !masked.is_empty() {
            md.push_str("\n## Masked views\n\nEvery purpose above may read the masked view of these kinds instead of the value; the purposes listed here may read only the masked view, never the value.\n\n| data kind | masked form | masked view only for (legal basis) |\n|---|---|---|\n");
            for e in masked {
                let only: Vec<String> = e
                    .masked_only_purposes
                    .iter()
                    .map(|p| format!("{} ({})", p.name, p.gdpr_article))
                    .collect();
                let _ = writeln!(
                    md,
                    "| {} | {} | {} |",
                    e.kind,
                    e.masked_view.unwrap_or_default(),
                    if only.is_empty() {
                        "—".to_owned()
                    } else {
                        only.join(", ")
                    }
                );
            }
        }
        md.push_str("\n## Consent scopes\n\n| scope | clause | backs purposes | legal basis | withdrawal deletes | collection of these kinds needs it |\n|---|---|---|---|---|---|\n");
        for c in &self.consent_scopes {
            let purposes = if c.purposes.is_empty() {
                "—".to_owned()
            } else {
                c.purposes.join(", ")
            };
            let deletes = if c.withdrawn_deletes.is_empty() {
                "—".to_owned()
            } else {
                c.withdrawn_deletes.join(", ")
            };
            let gates = if c.gates_collection_of.is_empty() {
                "—".to_owned()
            } else {
                c.gates_collection_of.join(", ")
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} |",
                c.scope,
                c.clause,
                purposes,
                c.legal_basis.gdpr_article(),
                deletes,
                gates
            );
        }
        md.push_str("\nWithdrawing a consent is one call and stops every grant issued under it at once (GDPR Art. 7(3)).\n");
        let _ = writeln!(md, "\nData subjects: {}.\n", self.data_subjects.join(", "));
        let _ = writeln!(md, "Disclosure: {}.\n", self.authority_disclosure);
        md.push_str("Security measures:\n");
        for m in self.transport.iter().chain(self.security_measures) {
            let _ = writeln!(md, "- {m}");
        }
        md
    }
}

/// Declares a host kind's policy: the purposes it may be read for, its retention rule and
/// its text codec's registration. Implements [`UsableFor`](crate::UsableFor) for each purpose
/// and [`HostPolicy`] for the register, and registers the kind so the export renders it, the
/// sweep applies its rule and `store_text`/`read_as_text` find it by name.
///
/// The retention rule is written in the vocabulary of the retention schedule:
/// `retention <unit>(<n>) after <trigger>, "<description>"` with unit `days`, `months` or
/// `years` and a [`Trigger`](crate::policy::Trigger) variant.
///
/// A host purpose with a [`LegalBasis::Consent`] basis must be gated by a host consent scope
/// ([`host_consent_scope!`](crate::host_consent_scope)), or this does not compile.
///
/// ```
/// use crm_privacy::{host_policy, DataError, DataReason, HostKind, HostPurpose, LegalBasis, OwnerAccess};
/// use zeroize::Zeroizing;
///
/// /// An invoice address (host-declared kind).
/// struct InvoiceAddress(String);
/// impl HostKind for InvoiceAddress {
///     const NAME: &'static str = "invoice_address";
///     fn encode(&self) -> Zeroizing<Vec<u8>> { Zeroizing::new(self.0.as_bytes().to_vec()) }
///     fn decode(b: &[u8]) -> Result<Self, DataError> {
///         Self::from_text(core::str::from_utf8(b).map_err(|_| DataError::new(Self::NAME, DataReason::Corrupt))?)
///     }
///     fn to_text(&self) -> Zeroizing<String> { Zeroizing::new(self.0.clone()) }
///     fn from_text(t: &str) -> Result<Self, DataError> {
///         if t.is_empty() { return Err(DataError::new(Self::NAME, DataReason::Empty)); }
///         Ok(Self(t.to_owned()))
///     }
/// }
/// struct Invoicing;
/// impl HostPurpose for Invoicing {
///     const NAME: &'static str = "invoicing";
///     const LEGAL_BASIS: LegalBasis = LegalBasis::Contract;
///     const DPV_IRI: Option<&'static str> = None;
/// }
/// host_policy!(InvoiceAddress => [Invoicing, OwnerAccess],
///     retention years(10) after LastActivity, "ten years after the last invoice");
///
/// let reg = crm_privacy::policy::register().with_host_kind::<InvoiceAddress>();
/// assert!(reg.to_markdown().contains("invoice_address"));
/// assert!(reg.to_markdown().contains("120 months after last activity"));
/// ```
#[macro_export]
macro_rules! host_policy {
    ($kind:ty => [$($p:ty),* $(,)?], retention $unit:ident($n:literal) after $trigger:ident, $desc:literal $(,)?) => {
        $(impl $crate::UsableFor<$p> for $kind {})*
        $(const _: () = {
            fn lawful<T: $crate::policy::__Lawful>() {}
            let _ = lawful::<$crate::policy::__Needs<$p, { $crate::policy::__needs_host_scope::<$p>() }>>;
        };)*
        impl $crate::policy::HostPolicy for $kind {
            const PURPOSES: &'static [$crate::policy::PurposeInfo] =
                &[$($crate::policy::PurposeInfo::of::<$p>()),*];
            const RETENTION: $crate::policy::HostRetention = $crate::policy::HostRetention::new(
                $crate::policy::Period::$unit($n),
                $crate::policy::Trigger::$trigger,
                $desc,
            );
        }
        $crate::policy::__inventory::submit! {
            $crate::policy::HostKindRow::__new::<$kind>(
                <$kind as $crate::policy::HostPolicy>::PURPOSES,
                <$kind as $crate::policy::HostPolicy>::RETENTION,
            )
        }
    };
}
