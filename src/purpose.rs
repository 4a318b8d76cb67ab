//! Purposes of processing, as zero-sized marker types.
//!
//! Every built-in purpose carries its legal basis (GDPR Art. 6(1)) and, where one fits, a
//! W3C Data Privacy Vocabulary (DPV 2.x) purpose IRI. Host crates may declare purposes of
//! their own with [`HostPurpose`]; they can use them only with their own data kinds
//! (see [`HostKind`](crate::HostKind)).

use serde::{Deserialize, Serialize};

pub(crate) mod sealed {
    /// Seals [`Purpose`](super::Purpose).
    #[diagnostic::on_unimplemented(
        message = "`{Self}` is not a purpose: `Purpose` cannot be implemented directly",
        label = "not a built-in purpose, and not declared with `HostPurpose`",
        note = "declare a purpose of your own with `impl crm_privacy::HostPurpose for {Self}`; the built-in purposes are fixed by the policy table"
    )]
    pub trait Sealed {}
    /// Seals [`DataKind`](crate::DataKind) (host kinds reach it through `HostKind`).
    #[diagnostic::on_unimplemented(
        message = "`{Self}` is not a data kind: `DataKind` cannot be implemented directly",
        label = "not a built-in kind, and not declared with `HostKind`",
        note = "to store text, parse it into a kind first (`Email::parse(text)?`) or call `custodian.store_text(subject, category, text)`",
        note = "a kind of the host's own is declared with `impl crm_privacy::HostKind` (or `host_policy!`)"
    )]
    pub trait SealedKind {}
    /// Seals [`Provider`](crate::Provider): implemented for the three built-in providers
    /// only, never through `HostKind`.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` cannot be a provider: the providers are `Google`, `Facebook` and `Zoom` only",
        label = "not a built-in provider",
        note = "a host kind is stored with `Custodian::store` as it is; it never becomes a `ProviderAccountId`"
    )]
    pub trait SealedProvider {}
    /// Relates a data kind to a purpose in the built-in table; implemented only by the
    /// table macro and, for host kinds, by a blanket impl.
    #[diagnostic::on_unimplemented(
        message = "the policy table does not allow `{Self}` to be used for `{P}`",
        label = "`{Self}` may not be processed for `{P}`",
        note = "the purposes of a built-in kind are fixed by the policy table (see `docs/notice.md`); a host purpose can only be added to a kind the host declares with `HostKind` (or `host_policy!`)"
    )]
    pub trait Permits<P> {}
    /// Relates a data kind to a purpose for **masked** reads in the built-in table;
    /// implemented only by the table macro (never for host kinds).
    #[diagnostic::on_unimplemented(
        message = "the policy table does not allow a masked view of `{Self}` for `{P}`",
        label = "no masked view of `{Self}` for `{P}`",
        note = "masked views are declared in the policy table only (see `docs/masked-views.md`)"
    )]
    pub trait MaskPermits<P> {}
    /// Seals masking: implemented by the built-in kinds that have a masked form (email and
    /// phone, `data/mask.rs`). The masked text is computed inside the custodian.
    pub trait Masks {
        /// One line describing the masked form, for the register.
        const MASK_FORMAT: &'static str;
        /// The masked form of the value, in a zeroizing buffer allocated once.
        fn masked_text(&self) -> zeroize::Zeroizing<String>;
    }
}

/// The legal basis of a processing purpose (GDPR Art. 6(1)(a)–(f)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LegalBasis {
    /// Art. 6(1)(a): the subject gave consent.
    Consent,
    /// Art. 6(1)(b): needed to perform the contract (the service the subject signed up for).
    Contract,
    /// Art. 6(1)(c): needed to comply with a legal obligation (clause 7.2).
    LegalObligation,
    /// Art. 6(1)(d): vital interests.
    VitalInterest,
    /// Art. 6(1)(e): public interest.
    PublicInterest,
    /// Art. 6(1)(f): legitimate interests of the controller.
    LegitimateInterest,
}

impl LegalBasis {
    /// The DPV IRI of this legal basis.
    #[must_use]
    pub const fn dpv_iri(self) -> &'static str {
        match self {
            Self::Consent => "https://w3id.org/dpv#Consent",
            Self::Contract => "https://w3id.org/dpv#Contract",
            Self::LegalObligation => "https://w3id.org/dpv#LegalObligation",
            Self::VitalInterest => "https://w3id.org/dpv#VitalInterest",
            Self::PublicInterest => "https://w3id.org/dpv#PublicInterest",
            Self::LegitimateInterest => "https://w3id.org/dpv#LegitimateInterest",
        }
    }

    /// The GDPR article, e.g. `"Art. 6(1)(a)"`.
    #[must_use]
    pub const fn gdpr_article(self) -> &'static str {
        match self {
            Self::Consent => "Art. 6(1)(a)",
            Self::Contract => "Art. 6(1)(b)",
            Self::LegalObligation => "Art. 6(1)(c)",
            Self::VitalInterest => "Art. 6(1)(d)",
            Self::PublicInterest => "Art. 6(1)(e)",
            Self::LegitimateInterest => "Art. 6(1)(f)",
        }
    }
}

/// Runtime identity of a purpose: a built-in one, or one a host crate declared by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(untagged)]
pub enum PurposeRef {
    /// A purpose of the built-in policy table.
    Builtin(PurposeId),
    /// A purpose declared by the host application (its [`HostPurpose::NAME`]).
    Host(&'static str),
}

/// A purpose of processing. Implemented by the built-in markers and, through
/// [`HostPurpose`], by host-declared ones; cannot be implemented directly.
pub trait Purpose: sealed::Sealed + Send + Sync + 'static {
    /// Runtime identity, used in tokens, audit events and the register.
    const ID: PurposeRef;
    /// Human-readable name, lowercase.
    const NAME: &'static str;
    /// Legal basis of processing for this purpose.
    const LEGAL_BASIS: LegalBasis;
    /// W3C DPV purpose IRI, where one fits.
    const DPV_IRI: Option<&'static str>;
}

/// Marks purposes for which the service itself (a component, or a staff member) may hold a
/// grant through [`Custodian::grant`](crate::custodian::Custodian::grant).
///
/// [`OwnerAccess`] and [`ConferenceCreation`] are deliberately not `ServicePurpose`: their
/// grants need the subject's own session or proof of a user-initiated request.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a service purpose: its grants need the subject's own proof",
    label = "no grant for this purpose without the subject's session or request",
    note = "for `OwnerAccess`, call `custodian.grant_owner(&session)` with the subject's `UserSession`",
    note = "for `ConferenceCreation`, call `custodian.grant_conference(&custodian.user_request(&session)?)`"
)]
pub trait ServicePurpose: Purpose {}

/// Declares a purpose of the host application.
///
/// ```
/// use crm_privacy::{HostPurpose, LegalBasis};
///
/// /// Invoices sent to the account owner.
/// struct Invoicing;
/// impl HostPurpose for Invoicing {
///     const NAME: &'static str = "invoicing";
///     const LEGAL_BASIS: LegalBasis = LegalBasis::Contract;
///     const DPV_IRI: Option<&'static str> = Some("https://w3id.org/dpv#ServiceProvision");
/// }
/// assert_eq!(<Invoicing as crm_privacy::Purpose>::NAME, "invoicing");
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a host purpose, nor a built-in service purpose",
    label = "a grant for this purpose has its own call",
    note = "`OwnerAccess`: `grant_owner(&session)`; `ConferenceCreation`: `grant_conference(&custodian.user_request(&session)?)`; a purpose of the host's own: `impl HostPurpose` for it"
)]
pub trait HostPurpose: Send + Sync + 'static {
    /// Unique name of the purpose (lowercase, `snake_case`).
    const NAME: &'static str;
    /// Legal basis of processing for this purpose.
    const LEGAL_BASIS: LegalBasis;
    /// W3C DPV purpose IRI, where one fits.
    const DPV_IRI: Option<&'static str>;
}

impl<T: HostPurpose> sealed::Sealed for T {}
impl<T: HostPurpose> Purpose for T {
    const ID: PurposeRef = PurposeRef::Host(T::NAME);
    const NAME: &'static str = T::NAME;
    const LEGAL_BASIS: LegalBasis = T::LEGAL_BASIS;
    const DPV_IRI: Option<&'static str> = T::DPV_IRI;
}
impl<T: HostPurpose> ServicePurpose for T {}

macro_rules! builtin_purposes {
    ($(
        $(#[$meta:meta])*
        $name:ident = $code:literal, $str:literal, $basis:ident, $dpv:expr, service: $service:tt;
    )*) => {
        /// Compact runtime id of a built-in purpose (stable: used in tokens and on disk).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        #[repr(u8)]
        pub enum PurposeId {
            $($(#[$meta])* $name = $code,)*
        }

        impl PurposeId {
            /// Every built-in purpose, in code order.
            pub const ALL: &'static [PurposeId] = &[$(PurposeId::$name),*];

            /// Looks a purpose up by its stable code.
            #[must_use]
            pub const fn from_code(code: u8) -> Option<Self> {
                match code {
                    $($code => Some(Self::$name),)*
                    _ => None,
                }
            }

            /// The stable one-byte code.
            #[must_use]
            pub const fn code(self) -> u8 {
                self as u8
            }

            /// Lowercase `snake_case` name.
            #[must_use]
            pub const fn name(self) -> &'static str {
                match self { $(Self::$name => $str,)* }
            }

            /// Looks a purpose up by its name.
            #[must_use]
            pub fn from_name(name: &str) -> Option<Self> {
                match name { $($str => Some(Self::$name),)* _ => None }
            }

            /// Legal basis of processing.
            #[must_use]
            pub const fn legal_basis(self) -> LegalBasis {
                match self { $(Self::$name => LegalBasis::$basis,)* }
            }

            /// W3C DPV purpose IRI where one fits.
            #[must_use]
            pub const fn dpv_iri(self) -> Option<&'static str> {
                match self { $(Self::$name => $dpv,)* }
            }

            /// Whether the service may hold a grant for it without the subject's session.
            #[must_use]
            pub const fn is_service_purpose(self) -> bool {
                match self { $(Self::$name => $service,)* }
            }
        }

        $(
            $(#[$meta])*
            #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
            pub struct $name;
            impl sealed::Sealed for $name {}
            impl Purpose for $name {
                const ID: PurposeRef = PurposeRef::Builtin(PurposeId::$name);
                const NAME: &'static str = $str;
                const LEGAL_BASIS: LegalBasis = LegalBasis::$basis;
                const DPV_IRI: Option<&'static str> = $dpv;
            }
            builtin_purposes!(@service $name $service);
        )*
    };
    (@service $name:ident true) => { impl ServicePurpose for $name {} };
    (@service $name:ident false) => {};
}

macro_rules! dpv {
    ($term:literal) => {
        Some(const_str_concat!($term))
    };
}
// `concat!` cannot take a `const`, so the namespace is spelled out once here.
macro_rules! const_str_concat {
    ($term:literal) => {
        concat!("https://w3id.org/dpv#", $term)
    };
}

builtin_purposes! {
    /// Clause 3.1: system notifications by email (confirmation, password recovery, support mail).
    Notification = 1, "notification", Contract, dpv!("CommunicationManagement"), service: true;
    /// Clause 3.2: one-time codes sent to confirm the subject's identity.
    IdentityVerification = 2, "identity_verification", Contract, dpv!("IdentityVerification"), service: true;
    /// Clause 3.2: calls by the provider's specialists for consulting support.
    SupportContact = 3, "support_contact", LegitimateInterest, dpv!("CommunicationForCustomerCare"), service: true;
    /// Clause 3.3: sign-in and registration through a linked Google or Facebook account.
    Authentication = 4, "authentication", Consent, dpv!("IdentityAuthentication"), service: true;
    /// Clauses 3.3, 3.7: creating a Zoom conference, only on the user's own initiative.
    ConferenceCreation = 5, "conference_creation", Consent, dpv!("ServiceProvision"), service: false;
    /// Clauses 2, 3.4: usage statistics.
    Analytics = 6, "analytics", LegitimateInterest, dpv!("ServiceUsageAnalytics"), service: true;
    /// Clause 2: rapid solution of problems with the service.
    Troubleshooting = 7, "troubleshooting", LegitimateInterest, dpv!("ServiceOptimisation"), service: true;
    /// Clause 3.6: remembering site language and form drafts (cookies).
    Preferences = 8, "preferences", Consent, dpv!("UserInterfacePersonalisation"), service: true;
    /// Clauses 3.5, 6.1: the subject reading their own data in their own session.
    OwnerAccess = 9, "owner_access", Contract, dpv!("ServiceProvision"), service: false;
    /// Clause 1: requests for teamwork sent to colleagues.
    TeamCollaboration = 10, "team_collaboration", Contract, dpv!("ServiceProvision"), service: true;
    /// Clause 1: the subject's own profile (name, email, phone) kept for the account.
    AccountManagement = 11, "account_management", Contract, dpv!("AccountManagement"), service: true;
    /// Clause 1: the account owner's own CRM work on their customer base.
    CustomerManagement = 12, "customer_management", Contract, dpv!("CustomerManagement"), service: true;
    /// Clause 5: showing data to chat participants, within the visibility the subject chose.
    ChatSharing = 13, "chat_sharing", Consent, dpv!("ServiceProvision"), service: true;
    /// Clause 7.2: disclosure to public authorities on a lawful request.
    LegalCompliance = 14, "legal_compliance", LegalObligation, dpv!("LegalCompliance"), service: true;
}

/// The DPV namespace all built-in purpose IRIs live in.
pub const DPV_NAMESPACE: &str = "https://w3id.org/dpv#";

/// The DPV term of a purpose IRI, in any of the forms a host may write it: the namespace IRI
/// (`https://w3id.org/dpv#Term`, or with `http`), or the CURIE `dpv:Term`. `None` for an IRI
/// outside the DPV namespace.
#[must_use]
pub(crate) fn dpv_term(iri: &str) -> Option<&str> {
    [DPV_NAMESPACE, "http://w3id.org/dpv#", "dpv:"]
        .iter()
        .find_map(|prefix| iri.strip_prefix(prefix))
        .filter(|term| !term.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_names_roundtrip() {
        for &p in PurposeId::ALL {
            assert_eq!(PurposeId::from_code(p.code()), Some(p));
            assert_eq!(PurposeId::from_name(p.name()), Some(p));
            if let Some(iri) = p.dpv_iri() {
                assert!(iri.starts_with(DPV_NAMESPACE));
            }
        }
        assert_eq!(PurposeId::from_code(0), None);
        assert_eq!(PurposeId::from_name("marketing"), None);
    }
}
