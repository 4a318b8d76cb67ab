//! The host table: kinds, retention rules and consent scopes a host crate declares with
//! [`host_policy!`](crate::host_policy) and [`host_consent_scope!`](crate::host_consent_scope).
//!
//! Each macro invocation registers one row at link time (the `inventory` crate), so every
//! part of the custodian that meets a host kind or scope by the *name* stored in a record or
//! a ledger entry — the export, the sweep, the consent gate, the register — reads the same
//! row. A row whose name is a built-in kind's or scope's name is never used (the macros
//! refuse it at compile time; [`check`] reports it as a typed error at build).

use zeroize::Zeroizing;

use super::PurposeInfo;
use super::rule::HostRetention;
use super::scopes::ConsentScope;
use crate::data::{Category, DataError, HostKind};
use crate::purpose::{HostPurpose, LegalBasis, Purpose, PurposeRef};

#[doc(hidden)]
pub use ::inventory as __inventory;

// Lets the schedule builder take a built-in purpose where a purpose of either kind fits.
impl From<crate::purpose::PurposeId> for PurposeRef {
    fn from(p: crate::purpose::PurposeId) -> Self {
        Self::Builtin(p)
    }
}

/// One host kind: its name, declared purposes, retention rule and text codec.
/// Built by [`host_policy!`](crate::host_policy) only.
#[derive(Debug)]
pub struct HostKindRow {
    pub(crate) name: &'static str,
    pub(crate) purposes: &'static [PurposeInfo],
    pub(crate) retention: HostRetention,
    pub(crate) to_text: fn(&[u8]) -> Result<Zeroizing<String>, DataError>,
    pub(crate) from_text: fn(&str) -> Result<Zeroizing<Vec<u8>>, DataError>,
}

impl HostKindRow {
    #[doc(hidden)]
    #[must_use]
    pub const fn __new<K: HostKind>(
        purposes: &'static [PurposeInfo],
        retention: HostRetention,
    ) -> Self {
        Self {
            name: K::NAME,
            purposes,
            retention,
            to_text: render::<K>,
            from_text: parse::<K>,
        }
    }

    /// The kind's name.
    #[must_use]
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The purposes declared for it.
    #[must_use]
    pub const fn purposes(&self) -> &'static [PurposeInfo] {
        self.purposes
    }

    /// Its retention rule.
    #[must_use]
    pub const fn retention(&self) -> &HostRetention {
        &self.retention
    }
}

fn render<K: HostKind>(bytes: &[u8]) -> Result<Zeroizing<String>, DataError> {
    Ok(<K as HostKind>::decode(bytes)?.to_text())
}

fn parse<K: HostKind>(text: &str) -> Result<Zeroizing<Vec<u8>>, DataError> {
    Ok(HostKind::encode(&K::from_text(text)?))
}

/// One host consent scope: its name, the host purposes it gates and the host kinds
/// collected under it (deleted when it is withdrawn). Built by
/// [`host_consent_scope!`](crate::host_consent_scope) only.
#[derive(Debug)]
pub struct HostScopeRow {
    name: &'static str,
    purposes: &'static [&'static str],
    kinds: &'static [&'static str],
}

impl HostScopeRow {
    #[doc(hidden)]
    #[must_use]
    pub const fn __new(
        name: &'static str,
        purposes: &'static [&'static str],
        kinds: &'static [&'static str],
    ) -> Self {
        Self {
            name,
            purposes,
            kinds,
        }
    }
}

__inventory::collect!(HostKindRow);
__inventory::collect!(HostScopeRow);
__inventory::collect!(HostDeviceRow);

/// A host kind collected through a device capability (clause 4): storing it needs the
/// permission's consent in force. Built by
/// [`host_device_permission!`](crate::host_device_permission) only.
#[derive(Debug)]
pub struct HostDeviceRow {
    kind: &'static str,
    permission: super::scopes::Permission,
}

impl HostDeviceRow {
    #[doc(hidden)]
    #[must_use]
    pub const fn __new(kind: &'static str, permission: super::scopes::Permission) -> Self {
        Self { kind, permission }
    }
}

/// The device permission a host kind's collection needs, if the host declared one.
pub(crate) fn device_permission_of(kind: &str) -> Option<super::scopes::Permission> {
    __inventory::iter::<HostDeviceRow>
        .into_iter()
        .find(|r| r.kind == kind)
        .map(|r| r.permission)
}

/// A consent scope declared by the host with [`host_consent_scope!`](crate::host_consent_scope).
///
/// The built-in scopes stay [`ConsentScope`] (their codes cross the C ABI); a host scope is a
/// handle on its registered row, named in the ledger, in receipts and in the export by its
/// name. It gates host purposes only, and its name never equals a built-in scope's.
#[derive(Debug, Clone, Copy)]
pub struct HostScope(&'static HostScopeRow);

impl PartialEq for HostScope {
    fn eq(&self, other: &Self) -> bool {
        self.0.name == other.0.name
    }
}
impl Eq for HostScope {}

impl HostScope {
    /// The registered host scope named `name`.
    ///
    /// # Errors
    /// [`HostPolicyError::ReservedScopeName`] for a built-in scope's name,
    /// [`HostPolicyError::UnknownScope`] when no host scope of that name is registered.
    pub fn registered(name: &str) -> Result<Self, HostPolicyError> {
        if let Some(reserved) = builtin_scope_name(name) {
            return Err(HostPolicyError::ReservedScopeName(reserved));
        }
        scopes()
            .find(|s| s.0.name == name)
            .ok_or(HostPolicyError::UnknownScope)
    }

    /// Every registered host scope (rows with a reserved name left out).
    pub fn all() -> impl Iterator<Item = HostScope> {
        scopes()
    }

    /// Its name.
    #[must_use]
    pub const fn name(self) -> &'static str {
        self.0.name
    }

    /// The host purposes whose grants it backs.
    #[must_use]
    pub const fn purposes(self) -> &'static [&'static str] {
        self.0.purposes
    }

    /// Host kinds collected under it, deleted when it is withdrawn.
    #[must_use]
    pub const fn dependent_kinds(self) -> &'static [&'static str] {
        self.0.kinds
    }
}

/// Implemented by [`host_consent_scope!`](crate::host_consent_scope) for the marker type of a
/// host scope.
pub trait HostConsentScope: 'static {
    /// The scope's name.
    const NAME: &'static str;

    /// The registered scope.
    ///
    /// # Errors
    /// As [`HostScope::registered`] (cannot fail for a scope the macro declared).
    fn scope() -> Result<HostScope, HostPolicyError> {
        HostScope::registered(Self::NAME)
    }
}

/// A host purpose gated by a host consent scope: implemented by
/// [`host_consent_scope!`](crate::host_consent_scope), for host purposes only (a built-in
/// purpose is gated by the built-in table and cannot be listed in a host scope).
#[diagnostic::on_unimplemented(
    message = "host purpose `{Self}` has a consent legal basis but no host consent scope gates it",
    note = "declare the scope: `host_consent_scope!(Scope, \"scope_name\", purposes [{Self}])`"
)]
pub trait ConsentGated: HostPurpose {
    /// The scope that gates it.
    type Scope: HostConsentScope;
}

/// Why a host declaration was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HostPolicyError {
    /// A host scope named like a built-in scope.
    #[error("host consent scope name {0} is reserved by a built-in scope")]
    ReservedScopeName(&'static str),
    /// A host kind named like a built-in kind.
    #[error("host kind name {0} is reserved by a built-in kind")]
    ReservedKindName(&'static str),
    /// Two host scopes or two host kinds with one name.
    #[error("{0} is declared twice")]
    Duplicate(&'static str),
    /// A host purpose listed in two host scopes.
    #[error("host purpose {0} is gated by two host scopes")]
    PurposeInTwoScopes(&'static str),
    /// No host scope of that name is registered in this build.
    #[error("no host consent scope of that name is registered")]
    UnknownScope,
}

/// The built-in scope (or policy acknowledgment) a name belongs to, if any.
fn builtin_scope_name(name: &str) -> Option<&'static str> {
    ConsentScope::all()
        .map(ConsentScope::name)
        .chain(core::iter::once(ConsentScope::PolicyVersion(0).name()))
        .find(|n| *n == name)
}

/// Registered host scopes, reserved names left out.
fn scopes() -> impl Iterator<Item = HostScope> {
    __inventory::iter::<HostScopeRow>
        .into_iter()
        .filter(|r| builtin_scope_name(r.name).is_none())
        .map(HostScope)
}

/// Registered host kinds, names of built-in kinds left out.
pub(crate) fn kinds() -> impl Iterator<Item = &'static HostKindRow> {
    __inventory::iter::<HostKindRow>
        .into_iter()
        .filter(|r| Category::from_name(r.name).is_none())
}

/// The registered host kind named `name` (never a built-in name).
pub(crate) fn kind(name: &str) -> Option<&'static HostKindRow> {
    kinds().find(|r| r.name == name)
}

/// Renders a value of the registered host kind named `kind` with its
/// [`HostKind::to_text`](crate::HostKind::to_text); `None` when no host kind of that name is
/// registered in this build (never a built-in name: those are built-in kinds).
///
/// # Errors
/// [`DataError`] when the bytes do not decode as that kind.
pub(crate) fn render_host(
    name: &str,
    plain: &[u8],
) -> Option<Result<Zeroizing<String>, DataError>> {
    kind(name).map(|row| (row.to_text)(plain))
}

/// Parses the text form of a built-in kind or of a registered host kind.
///
/// # Errors
/// The kind's [`DataError`]; an unregistered host kind is [`crate::data::DataReason::Field`]`("kind")`.
pub(crate) fn parse_kind(
    kind: crate::data::KindRef,
    text: &str,
) -> Result<crate::data::text::Encoded, DataError> {
    match kind {
        crate::data::KindRef::Builtin(c) => crate::data::text::parse(c, text),
        crate::data::KindRef::Host(name) => parse_host(name, text).unwrap_or(Err(DataError::new(
            name,
            crate::data::DataReason::Field("kind"),
        ))),
    }
}

/// Parses the text form of the registered host kind `kind` with its
/// [`HostKind::from_text`](crate::HostKind::from_text), encoded for sealing; `None` when no
/// host kind of that name is registered.
///
/// # Errors
/// The kind's [`DataError`].
pub(crate) fn parse_host(
    name: &str,
    text: &str,
) -> Option<Result<crate::data::text::Encoded, DataError>> {
    kind(name).map(|row| {
        (row.from_text)(text).map(|bytes| crate::data::text::Encoded {
            bytes,
            lookup: None,
        })
    })
}

/// The host scope that gates host purpose `name`, if one is declared.
pub(crate) fn scope_of_purpose(name: &str) -> Option<HostScope> {
    scopes().find(|s| s.0.purposes.contains(&name))
}

/// The host scope a host kind is collected under (its `deletes` list), if any.
pub(crate) fn scope_of_kind(name: &str) -> Option<HostScope> {
    scopes().find(|s| s.0.kinds.contains(&name))
}

/// Checks the host table: no host kind or scope reuses a built-in name, none is declared
/// twice, no host purpose is gated by two scopes. The custodian runs it when built.
///
/// # Errors
/// The first [`HostPolicyError`] found.
pub fn check() -> Result<(), HostPolicyError> {
    let rows: Vec<&HostScopeRow> = __inventory::iter::<HostScopeRow>.into_iter().collect();
    for (i, r) in rows.iter().enumerate() {
        if let Some(n) = builtin_scope_name(r.name) {
            return Err(HostPolicyError::ReservedScopeName(n));
        }
        for other in rows.iter().skip(i + 1) {
            if other.name == r.name {
                return Err(HostPolicyError::Duplicate(r.name));
            }
            if let Some(p) = r.purposes.iter().find(|p| other.purposes.contains(p)) {
                return Err(HostPolicyError::PurposeInTwoScopes(p));
            }
        }
    }
    let devices: Vec<&HostDeviceRow> = __inventory::iter::<HostDeviceRow>.into_iter().collect();
    for (i, d) in devices.iter().enumerate() {
        if devices.iter().skip(i + 1).any(|o| o.kind == d.kind) {
            return Err(HostPolicyError::Duplicate(d.kind));
        }
    }
    let kinds: Vec<&HostKindRow> = __inventory::iter::<HostKindRow>.into_iter().collect();
    for (i, k) in kinds.iter().enumerate() {
        if Category::from_name(k.name).is_some() {
            return Err(HostPolicyError::ReservedKindName(k.name));
        }
        if kinds.iter().skip(i + 1).any(|o| o.name == k.name) {
            return Err(HostPolicyError::Duplicate(k.name));
        }
    }
    Ok(())
}

/// Whether `name` is a built-in scope's name (compile-time twin of the runtime check, used
/// by [`host_consent_scope!`](crate::host_consent_scope)).
#[doc(hidden)]
#[must_use]
#[expect(
    clippy::indexing_slicing,
    reason = "indices are bounded by the loops; const fns cannot use iterators"
)]
pub const fn __reserved_scope_name(name: &str) -> bool {
    let table = super::scopes::SCOPE_TABLE;
    let mut i = 0;
    while i < table.len() {
        if str_eq(table[i].name, name) {
            return true;
        }
        i += 1;
    }
    str_eq(name, "policy_version")
}

#[expect(
    clippy::indexing_slicing,
    reason = "indices are bounded by the loop; const fns cannot use iterators"
)]
const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Whether purpose `P` needs a host consent scope: a host purpose with a consent legal basis.
#[doc(hidden)]
#[must_use]
pub const fn __needs_host_scope<P: Purpose>() -> bool {
    matches!(P::ID, PurposeRef::Host(_)) && matches!(P::LEGAL_BASIS, LegalBasis::Consent)
}

/// `P`, with whether it needs a host consent scope (used by
/// [`host_policy!`](crate::host_policy) to refuse a consent purpose without one).
#[doc(hidden)]
#[derive(Debug)]
pub struct __Needs<P, const SCOPE: bool>(core::marker::PhantomData<P>);

/// The purposes a host kind may be declared for: any purpose that needs no host scope, and
/// host consent purposes that have one.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "a host purpose with a consent legal basis needs a host consent scope",
    note = "declare the scope that gates it with `host_consent_scope!(Scope, \"name\", purposes [YourPurpose])`"
)]
pub trait __Lawful {}
impl<P: Purpose> __Lawful for __Needs<P, false> {}
impl<P: ConsentGated> __Lawful for __Needs<P, true> {}

/// Declares a host consent scope and the host purposes it gates.
///
/// Defines the marker type, implements [`HostConsentScope`] for it and
/// [`ConsentGated`] for each purpose, and registers the row the consent gate, the ledger and
/// the export read. With `deletes [Kind, …]`, withdrawing the scope deletes the subject's
/// records of those host kinds (as disconnecting Zoom deletes the Zoom token, clause 3.7).
///
/// ```
/// use crm_privacy::{host_consent_scope, HostPurpose, LegalBasis};
///
/// /// Push notifications about new deals.
/// struct PushNotifications;
/// impl HostPurpose for PushNotifications {
///     const NAME: &'static str = "push_notifications";
///     const LEGAL_BASIS: LegalBasis = LegalBasis::Consent;
///     const DPV_IRI: Option<&'static str> = None;
/// }
/// host_consent_scope!(pub Notifications, "notifications", purposes [PushNotifications]);
///
/// use crm_privacy::policy::HostConsentScope;
/// assert_eq!(Notifications::scope().map(|s| s.name()), Ok("notifications"));
/// ```
///
/// A built-in scope's name is refused when the crate is compiled:
///
/// ```compile_fail
/// use crm_privacy::host_consent_scope;
/// host_consent_scope!(MyCookies, "cookies", purposes []);
/// ```
#[macro_export]
macro_rules! host_consent_scope {
    ($(#[$m:meta])* $vis:vis $name:ident, $str:literal, purposes [$($p:ty),* $(,)?] $(, deletes [$($k:ty),* $(,)?])? $(,)?) => {
        $(#[$m])*
        #[doc = concat!("Host consent scope `", $str, "`.")]
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        $vis struct $name;
        const _: () = ::core::assert!(
            !$crate::policy::__reserved_scope_name($str),
            "a host consent scope cannot take a built-in scope's name"
        );
        impl $crate::policy::HostConsentScope for $name {
            const NAME: &'static str = $str;
        }
        $(impl $crate::policy::ConsentGated for $p {
            type Scope = $name;
        })*
        $crate::policy::__inventory::submit! {
            $crate::policy::HostScopeRow::__new(
                $str,
                &[$(<$p as $crate::HostPurpose>::NAME),*],
                &[$($(<$k as $crate::HostKind>::NAME),*)?],
            )
        }
    };
}

/// Declares that a host kind is collected through a device capability (clause 4): storing a
/// value of it needs the subject's consent to that device permission
/// (`ConsentScope::Device(permission)`) in force, like the built-in contacts import needs
/// the file-storage permission. Withdrawing the permission stops further collection; what
/// was collected stays.
///
/// ```
/// use crm_privacy::{DataError, HostKind, host_device_permission};
/// use zeroize::Zeroizing;
///
/// /// A photo taken with the device camera at a meeting.
/// struct MeetingPhoto(Vec<u8>);
///
/// impl HostKind for MeetingPhoto {
///     const NAME: &'static str = "meeting_photo";
///     fn encode(&self) -> Zeroizing<Vec<u8>> { Zeroizing::new(self.0.clone()) }
///     fn decode(bytes: &[u8]) -> Result<Self, DataError> { Ok(Self(bytes.to_vec())) }
///     fn to_text(&self) -> Zeroizing<String> { Zeroizing::new(format!("{} bytes", self.0.len())) }
///     fn from_text(_: &str) -> Result<Self, DataError> { Ok(Self(Vec::new())) }
/// }
///
/// host_device_permission!(MeetingPhoto, Camera);
/// ```
#[macro_export]
macro_rules! host_device_permission {
    ($kind:ty, $permission:ident $(,)?) => {
        $crate::policy::__inventory::submit! {
            $crate::policy::HostDeviceRow::__new(
                <$kind as $crate::HostKind>::NAME,
                $crate::consent::Permission::$permission,
            )
        }
    };
}
