//! The one policy table (clauses 1–3.7, 5, 7) and what is derived from it.
//!
//! The `policy_table!` invocation in this module is the **only** place where a data kind is related to a purpose.
//! From it come:
//! - the [`UsableFor`] impls the compiler checks,
//! - [`permits`], the runtime table for signed tokens and the C ABI,
//! - [`register`], the record of processing activities (GDPR Art. 30) rendered as JSON and
//!   Markdown.
//!
//! A row may also declare **masked views** (`masked [..]`, `docs/masked-views.md`): the kind
//! has a masked form, readable through
//! [`Custodian::with_masked`](crate::custodian::Custodian::with_masked) for every purpose of
//! the row (a full read implies the masked one) and for the purposes listed there, which
//! never read the full value. From the same declaration come the [`MaskedFor`] impls,
//! [`permits_masked`] and the register's masked-view lines.
//!
//! `tests/policy_agreement.rs` walks every (kind, purpose) pair and proves the three agree;
//! `tests/masked.rs` does the same for masked views.

mod datamap;
mod register;

/// The service the policy is of, as the register, consent receipts and the default
/// controller name it (one place; a host names its own controller in the builder).
pub const SERVICE: &str = "Smarty CRM";

pub(crate) mod host;
mod rule;
pub(crate) mod scopes;
pub mod versions;

pub use datamap::FIDESLANG_VERSION;
pub(crate) use datamap::host_purpose;
#[doc(hidden)]
pub use host::{__Lawful, __Needs, __inventory, __needs_host_scope, __reserved_scope_name};
pub use host::{
    ConsentGated, HostConsentScope, HostDeviceRow, HostKindRow, HostPolicyError, HostScope,
    HostScopeRow, check as check_host_table,
};
pub use register::{HostPolicy, PurposeInfo, RecipientInfo, Register, RegisterEntry};
pub use rule::{HostRetention, Period, Trigger};
pub use scopes::device_permission_for;

use crate::data::{
    Category, ColleagueContact, CookiePreference, CustomerRecord, DataKind, DeviceContact,
    DeviceInfo, Email, Facebook, Google, HostKind, IpAddress, PersonName, Phone, ProviderAccountId,
    Zoom, ZoomAccessToken,
};
use crate::purpose::{Purpose, PurposeId, sealed};

/// A masked view of `Self` may be read for purpose `P`
/// ([`Custodian::with_masked`](crate::custodian::Custodian::with_masked)).
///
/// Implemented only by the policy table, for the kinds that have a masked form (email,
/// phone): for every purpose the table allows a full read for (the masked view shows less)
/// and for the purposes its `masked [..]` list adds, which never read the full value. Sealed
/// like [`UsableFor`]: neither a host crate nor a host kind can add an impl.
///
/// ```compile_fail
/// use crm_privacy::{Email, HostPurpose, LegalBasis, MaskedFor};
/// struct Marketing;
/// impl HostPurpose for Marketing {
///     const NAME: &'static str = "marketing";
///     const LEGAL_BASIS: LegalBasis = LegalBasis::Consent;
///     const DPV_IRI: Option<&'static str> = None;
/// }
/// impl MaskedFor<Marketing> for Email {} // error: the masked table is sealed too
/// ```
#[diagnostic::on_unimplemented(
    message = "the policy table does not allow a masked view of `{Self}` for `{P}`",
    label = "no masked view of `{Self}` for `{P}`",
    note = "ask for a grant of a purpose the table allows a full or masked read of this kind for (the masked views are listed in `docs/notice.md` and `docs/masked-views.md`)"
)]
pub trait MaskedFor<P: Purpose>: DataKind + sealed::Masks + sealed::MaskPermits<P> {}

/// `Self` may be read for purpose `P`.
///
/// For built-in kinds the impls come only from the policy table: a host crate cannot add
/// one (the sealed supertrait is not satisfied). For a [`HostKind`] any purpose may be added,
/// preferably with [`host_policy!`](crate::host_policy) so it also reaches the register.
///
/// ```compile_fail
/// use crm_privacy::{Email, HostPurpose, LegalBasis, UsableFor};
/// struct Marketing;
/// impl HostPurpose for Marketing {
///     const NAME: &'static str = "marketing";
///     const LEGAL_BASIS: LegalBasis = LegalBasis::Consent;
///     const DPV_IRI: Option<&'static str> = None;
/// }
/// impl UsableFor<Marketing> for Email {} // error: the built-in table is sealed
/// ```
#[diagnostic::on_unimplemented(
    message = "the policy table does not allow reading `{Self}` for `{P}`",
    label = "`{Self}` may not be processed for `{P}`",
    note = "ask for a grant of a purpose the table allows for this kind (the pairs are listed in `docs/notice.md`)"
)]
pub trait UsableFor<P: Purpose>: DataKind + sealed::Permits<P> {}

impl<K: HostKind, P: Purpose> sealed::Permits<P> for K {}

/// Who receives a kind of data besides the controller (GDPR Art. 30(1)(d)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Processor {
    /// The cloud hosting provider that runs the service (clause 4.5: the service is cloud based).
    CloudHosting,
    /// The email delivery provider that sends notifications (clause 3.1).
    EmailDelivery,
    /// The SMS gateway that delivers identity codes (clause 3.2).
    SmsGateway,
    /// Zoom, when the user asks for a conference (clause 3.7).
    Zoom,
}

impl Processor {
    /// Every processor the register lists.
    pub const ALL: &'static [Processor] = &[
        Self::CloudHosting,
        Self::EmailDelivery,
        Self::SmsGateway,
        Self::Zoom,
    ];

    /// Human-readable description.
    #[must_use]
    pub const fn description(self) -> &'static str {
        match self {
            Self::CloudHosting => "cloud hosting provider running the service",
            Self::EmailDelivery => "email delivery provider sending system notifications",
            Self::SmsGateway => "sms gateway delivering identity confirmation codes",
            Self::Zoom => "zoom, creating conferences on the user's initiative",
        }
    }
}

/// One row of the table.
#[derive(Debug)]
pub(crate) struct Row {
    pub(crate) category: Category,
    pub(crate) purposes: &'static [PurposeId],
    pub(crate) recipients: &'static [(Processor, PurposeId)],
    pub(crate) retention: &'static str,
    /// Months after the last update after which the retention sweep deletes a record;
    /// `None`: kept while the account exists, removed by erasure.
    pub(crate) retention_months: Option<u32>,
    /// The masked form, for a kind that has masked views (`None`: no masked reads at all).
    pub(crate) mask_format: Option<&'static str>,
    /// Purposes only a masked view may be read for (besides every purpose of `purposes`).
    pub(crate) masked: &'static [PurposeId],
}

macro_rules! policy_table {
    (@months) => { None };
    (@months $m:literal) => { Some($m) };
    // Masked views: none without a `masked [..]` list; with one, every full purpose and
    // every listed one.
    (@masked_impls $kind:ty, [$($p:ident),*]) => {};
    (@masked_impls $kind:ty, [$($p:ident),*] [$($mp:ident),*]) => {
        $(
            impl sealed::MaskPermits<crate::purpose::$p> for $kind {}
            impl MaskedFor<crate::purpose::$p> for $kind {}
        )*
        $(
            impl sealed::MaskPermits<crate::purpose::$mp> for $kind {}
            impl MaskedFor<crate::purpose::$mp> for $kind {}
        )*
    };
    (@mask_format $kind:ty) => { None };
    (@mask_format $kind:ty [$($mp:ident),*]) => { Some(<$kind as sealed::Masks>::MASK_FORMAT) };
    (@masked) => { &[] };
    (@masked [$($mp:ident),*]) => { &[$(PurposeId::$mp),*] };
    ($(
        $kind:ty as $cat:ident => [$($p:ident),* $(,)?]
            $(masked [$($mp:ident),* $(,)?])?
            recipients [$($rp:ident for $rpp:ident),* $(,)?]
            retention $ret:literal $(months $months:literal)?;
    )*) => {
        $($(
            impl sealed::Permits<crate::purpose::$p> for $kind {}
            impl UsableFor<crate::purpose::$p> for $kind {}
        )*)*
        $(policy_table!(@masked_impls $kind, [$($p),*] $([$($mp),*])?);)*

        pub(crate) const TABLE: &[Row] = &[$(
            Row {
                category: Category::$cat,
                purposes: &[$(PurposeId::$p),*],
                recipients: &[$((Processor::$rp, PurposeId::$rpp)),*],
                retention: $ret,
                retention_months: policy_table!(@months $($months)?),
                mask_format: policy_table!(@mask_format $kind $([$($mp),*])?),
                masked: policy_table!(@masked $([$($mp),*])?),
            },
        )*];

        #[cfg(test)]
        pub(crate) fn kind_categories() -> Vec<(crate::data::KindRef, Category)> {
            vec![$((<$kind as DataKind>::KIND, Category::$cat)),*]
        }
    };
}

policy_table! {
    PersonName as PersonName => [AccountManagement, TeamCollaboration, ChatSharing, OwnerAccess, LegalCompliance]
        recipients [CloudHosting for AccountManagement]
        retention "while the account exists";
    // Masked for support (clauses 3.1, 3.2, 8.1): a specialist confirms whose account they
    // are helping by the masked address, and never sees the address itself.
    Email as Email => [Notification, AccountManagement, TeamCollaboration, ChatSharing, OwnerAccess, LegalCompliance]
        masked [SupportContact]
        recipients [CloudHosting for AccountManagement, EmailDelivery for Notification]
        retention "while the account exists";
    // Masked for notifications (clauses 3.1, 3.2): a system email names the number a code
    // went to, or that was changed, by its masked form only.
    Phone as Phone => [IdentityVerification, SupportContact, AccountManagement, TeamCollaboration, ChatSharing, OwnerAccess, LegalCompliance]
        masked [Notification]
        recipients [CloudHosting for AccountManagement, SmsGateway for IdentityVerification]
        retention "while the account exists";
    ColleagueContact as ColleagueContact => [TeamCollaboration, OwnerAccess]
        recipients [CloudHosting for TeamCollaboration, EmailDelivery for TeamCollaboration]
        retention "until the invitation is answered or withdrawn";
    CustomerRecord as CustomerRecord => [CustomerManagement, OwnerAccess, LegalCompliance]
        recipients [CloudHosting for CustomerManagement]
        retention "until the account owner deletes it or the account closes";
    IpAddress as IpAddress => [Analytics, Troubleshooting, OwnerAccess, LegalCompliance]
        recipients [CloudHosting for Troubleshooting]
        retention "13 months after collection (statistics, troubleshooting)" months 13;
    DeviceInfo as DeviceInfo => [Analytics, Troubleshooting, OwnerAccess]
        recipients [CloudHosting for Troubleshooting]
        retention "13 months after collection (statistics, troubleshooting)" months 13;
    ProviderAccountId<Google> as GoogleAccountId => [Authentication, OwnerAccess]
        recipients [CloudHosting for Authentication]
        retention "until the account is unlinked";
    ProviderAccountId<Facebook> as FacebookAccountId => [Authentication, OwnerAccess]
        recipients [CloudHosting for Authentication]
        retention "until the account is unlinked";
    ProviderAccountId<Zoom> as ZoomAccountId => [ConferenceCreation, OwnerAccess]
        recipients [CloudHosting for ConferenceCreation, Zoom for ConferenceCreation]
        retention "until the zoom connection is disabled";
    ZoomAccessToken as ZoomAccessToken => [ConferenceCreation]
        recipients [Zoom for ConferenceCreation]
        retention "until the zoom connection is disabled";
    DeviceContact as DeviceContact => [OwnerAccess]
        recipients [CloudHosting for OwnerAccess]
        retention "until the owner deletes the contact";
    CookiePreference as CookiePreference => [Preferences, OwnerAccess]
        recipients []
        retention "12 months after the last update, or when the cookie consent is withdrawn" months 12;
}

/// Bit `p` of `MASKS[c]` is set when category code `c` may be used for purpose code `p`.
#[expect(
    clippy::indexing_slicing,
    reason = "evaluated at compile time: an out-of-range index fails the build, it cannot panic at run time"
)]
const MASKS: [u32; 256] = {
    let mut masks = [0_u32; 256];
    let mut i = 0;
    while i < TABLE.len() {
        let row = &TABLE[i];
        let mut j = 0;
        while j < row.purposes.len() {
            masks[row.category as usize] |= 1 << (row.purposes[j] as u32);
            j += 1;
        }
        i += 1;
    }
    masks
};

/// Bit `p` of `MASKED[c]` is set when a masked view of category code `c` may be read for
/// purpose code `p`: every purpose of a row that has a masked form, and its masked-only ones.
#[expect(
    clippy::indexing_slicing,
    reason = "evaluated at compile time: an out-of-range index fails the build, it cannot panic at run time"
)]
const MASKED: [u32; 256] = {
    let mut masks = [0_u32; 256];
    let mut i = 0;
    while i < TABLE.len() {
        let row = &TABLE[i];
        if row.mask_format.is_some() {
            let c = row.category as usize;
            masks[c] = MASKS[c];
            let mut j = 0;
            while j < row.masked.len() {
                masks[c] |= 1 << (row.masked[j] as u32);
                j += 1;
            }
        }
        i += 1;
    }
    masks
};

/// Whether the built-in table allows a masked view of `category` to be read for
/// `purpose`: the runtime twin of the [`MaskedFor`] impls. True for every purpose
/// [`permits`] allows when the kind has a masked form, and for the kind's masked-only
/// purposes; false for kinds without a masked form.
#[must_use]
#[inline]
pub fn permits_masked(category: Category, purpose: PurposeId) -> bool {
    let mask = MASKED.get(category as usize).copied().unwrap_or(0);
    mask & (1_u32 << (purpose as u32)) != 0
}

/// Whether the built-in table allows data of `category` to be read for `purpose`.
///
/// The runtime twin of the [`UsableFor`] impls, for callers whose purpose is a value
/// (signed tokens, the C ABI). Constant time with respect to the table size.
#[must_use]
#[inline]
pub fn permits(category: Category, purpose: PurposeId) -> bool {
    let mask = MASKS.get(category as usize).copied().unwrap_or(0);
    mask & (1_u32 << (purpose as u32)) != 0
}

/// The retention period the table gives a kind, in months after its last update (clause
/// 9.1); `None` when it is kept while the account exists.
#[must_use]
pub fn retention_months(category: Category) -> Option<u32> {
    TABLE
        .iter()
        .find(|r| r.category == category)
        .and_then(|r| r.retention_months)
}

/// The register of processing activities for the built-in table.
#[must_use]
pub fn register() -> Register {
    Register::builtin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_category_has_exactly_one_row_and_kind() {
        for &c in Category::ALL {
            assert_eq!(TABLE.iter().filter(|r| r.category == c).count(), 1, "{c:?}");
        }
        for (kind, cat) in kind_categories() {
            assert_eq!(kind, crate::data::KindRef::Builtin(cat));
        }
    }

    #[test]
    fn masked_only_purposes_are_not_full_purposes() {
        for r in TABLE {
            for p in r.masked {
                assert!(!r.purposes.contains(p), "{:?} {p:?}", r.category);
                assert!(r.mask_format.is_some(), "{:?}", r.category);
            }
        }
    }

    #[test]
    fn recipients_only_for_listed_purposes() {
        for r in TABLE {
            for (_, p) in r.recipients {
                assert!(r.purposes.contains(p), "{:?} {p:?}", r.category);
            }
        }
    }
}
