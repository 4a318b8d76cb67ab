//! The one consent-scope table (clauses 3.3, 3.5, 3.6, 3.7, 4, 10.2).
//!
//! Every fact about a consent scope — its clause, the purposes whose grants it backs, the
//! kinds collected under it (and deleted when it is withdrawn) and its code over the C ABI —
//! is a row of [`SCOPE_TABLE`]. `ConsentScope::purposes`, the grant gate's needs
//! ([`scopes_for`]), the register and `ConsentScope::from_code` all read that row.

use serde::{Deserialize, Serialize};

use crate::data::Category;
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

/// One row of the scope table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ScopeRow {
    pub(crate) scope: ConsentScope,
    pub(crate) name: &'static str,
    pub(crate) clause: &'static str,
    /// Grants for these purposes need a consent of this scope (or of another scope listing
    /// the same purpose) in force, at issue and at every use.
    pub(crate) purposes: &'static [PurposeId],
    /// Kinds collected only under this consent: storing one needs it in force, and
    /// withdrawing it deletes them (3.7: disconnecting Zoom removes the stored token).
    pub(crate) kinds: &'static [Category],
    /// The scope's code over the C ABI.
    pub(crate) code: u32,
}

const fn row(
    scope: ConsentScope,
    name: &'static str,
    clause: &'static str,
    purposes: &'static [PurposeId],
    kinds: &'static [Category],
    code: u32,
) -> ScopeRow {
    ScopeRow {
        scope,
        name,
        clause,
        purposes,
        kinds,
        code,
    }
}

/// The table. Device permissions (clause 4) are the device's own permission prompts: they
/// back the device features that need them, not the lawful basis of any purpose, so they
/// gate no purpose here (decision recorded in the closing note of issue 12: the earlier
/// register listed them against Authentication, CustomerManagement and AccountManagement,
/// which the gate never enforced).
#[rustfmt::skip]
pub(crate) const SCOPE_TABLE: &[ScopeRow] = &[
    row(ConsentScope::GoogleLink, "google_link", "3.3", &[PurposeId::Authentication], &[Category::GoogleAccountId], 1),
    row(ConsentScope::FacebookLink, "facebook_link", "3.3", &[PurposeId::Authentication], &[Category::FacebookAccountId], 2),
    row(ConsentScope::ZoomLink, "zoom_link", "3.7", &[PurposeId::ConferenceCreation], &[Category::ZoomAccountId, Category::ZoomAccessToken], 3),
    row(ConsentScope::ContactsImport, "contacts_import", "3.5", &[], &[Category::DeviceContact], 4),
    row(ConsentScope::Cookies, "cookies", "3.6", &[PurposeId::Preferences], &[Category::CookiePreference], 5),
    row(ConsentScope::Device(Permission::GoogleAccount), "device_google_account", "4.1", &[], &[], 11),
    row(ConsentScope::Device(Permission::Calls), "device_calls", "4.2", &[], &[], 12),
    row(ConsentScope::Device(Permission::FileStorage), "device_file_storage", "4.3", &[], &[], 13),
    row(ConsentScope::Device(Permission::Camera), "device_camera", "4.4", &[], &[], 14),
    row(ConsentScope::Device(Permission::Network), "device_network", "4.5", &[], &[], 15),
];

/// The device permissions of clause 4 as what they gate: each built-in kind collected
/// through a device capability, with the permission whose consent must be in force when
/// it is collected (stored for the first time). A host kind captured through a device
/// capability is declared with [`host_device_permission!`](crate::host_device_permission).
///
/// - 4.3 file storage: contacts are imported from a contacts file on the device (3.5 adds
///   the import consent itself).
/// - 4.1 (Google account on the device), 4.2 (calls), 4.4 (camera), 4.5 (network) gate no
///   built-in kind: the SDK stores no call log, photo or account picked from the device. A
///   host kind of that nature (a photo taken at a meeting) declares its permission.
///
/// Withdrawing a device permission stops further collection through it — new values and
/// rectified ones alike; it does not delete what was collected before (the scope of a
/// kind's own consent, 3.5, does).
#[rustfmt::skip]
pub(crate) const DEVICE_GATES: &[(Permission, &[Category])] = &[
    (Permission::FileStorage, &[Category::DeviceContact]),
];

/// The device permission whose consent the collection of `kind` needs, if any.
#[must_use]
pub fn device_permission_for(kind: Category) -> Option<Permission> {
    DEVICE_GATES
        .iter()
        .find(|(_, kinds)| kinds.contains(&kind))
        .map(|(p, _)| *p)
}

impl Permission {
    /// Every clause-4 permission, in clause order.
    pub const ALL: &'static [Self] = &[
        Self::GoogleAccount,
        Self::Calls,
        Self::FileStorage,
        Self::Camera,
        Self::Network,
    ];

    /// The built-in kinds whose collection this permission gates.
    #[must_use]
    pub fn gated_kinds(self) -> &'static [Category] {
        DEVICE_GATES
            .iter()
            .find(|(p, _)| *p == self)
            .map_or(&[], |(_, kinds)| *kinds)
    }
}

/// Code of policy-version acknowledgments over the C ABI (the version travels separately).
pub(crate) const POLICY_VERSION_CODE: u32 = 100;

#[expect(
    clippy::indexing_slicing,
    reason = "i < len is checked by the loop; const fns cannot use iterators"
)]
const fn row_of(scope: ConsentScope) -> Option<&'static ScopeRow> {
    let mut i = 0;
    while i < SCOPE_TABLE.len() {
        let r = &SCOPE_TABLE[i];
        if same(r.scope, scope) {
            return Some(r);
        }
        i += 1;
    }
    None
}

const fn same(a: ConsentScope, b: ConsentScope) -> bool {
    match (a, b) {
        (ConsentScope::GoogleLink, ConsentScope::GoogleLink)
        | (ConsentScope::FacebookLink, ConsentScope::FacebookLink)
        | (ConsentScope::ZoomLink, ConsentScope::ZoomLink)
        | (ConsentScope::ContactsImport, ConsentScope::ContactsImport)
        | (ConsentScope::Cookies, ConsentScope::Cookies) => true,
        (ConsentScope::Device(x), ConsentScope::Device(y)) => x as u8 == y as u8,
        (ConsentScope::PolicyVersion(x), ConsentScope::PolicyVersion(y)) => x == y,
        _ => false,
    }
}

/// The scopes whose consent can back a grant for `purpose` (any one in force suffices), in
/// table order. Empty: the purpose needs no consent scope.
pub(crate) fn scopes_for(purpose: PurposeId) -> impl Iterator<Item = ConsentScope> {
    SCOPE_TABLE
        .iter()
        .filter(move |r| r.purposes.contains(&purpose))
        .map(|r| r.scope)
}

/// The scope a kind is collected under, if it needs one.
pub(crate) fn scope_of_kind(kind: Category) -> Option<ConsentScope> {
    SCOPE_TABLE
        .iter()
        .find(|r| r.kinds.contains(&kind))
        .map(|r| r.scope)
}

impl ConsentScope {
    /// Every scope except policy acknowledgments (which are one per version), in table order.
    pub fn all() -> impl Iterator<Item = ConsentScope> {
        SCOPE_TABLE.iter().map(|r| r.scope)
    }

    /// A short stable name.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match row_of(self) {
            Some(r) => r.name,
            None => "policy_version",
        }
    }

    /// The policy clause it implements.
    #[must_use]
    pub const fn clause(self) -> &'static str {
        match row_of(self) {
            Some(r) => r.clause,
            None => "10.2",
        }
    }

    /// The purposes whose grants this consent backs.
    #[must_use]
    pub const fn purposes(self) -> &'static [PurposeId] {
        match row_of(self) {
            Some(r) => r.purposes,
            None => &[],
        }
    }

    /// Data kinds collected under this consent: storing one needs it in force, and they are
    /// deleted when it is withdrawn (3.7: disconnecting Zoom removes the stored token).
    #[must_use]
    pub const fn dependent_kinds(self) -> &'static [Category] {
        match row_of(self) {
            Some(r) => r.kinds,
            None => &[],
        }
    }

    /// The scope's code over the C ABI (policy acknowledgments: 100, the version apart).
    #[must_use]
    pub const fn code(self) -> u32 {
        match row_of(self) {
            Some(r) => r.code,
            None => POLICY_VERSION_CODE,
        }
    }

    /// The scope with C ABI code `code`; `version` is used only for policy acknowledgments.
    #[must_use]
    pub fn from_code(code: u32, version: u32) -> Option<Self> {
        if code == POLICY_VERSION_CODE {
            return Some(Self::PolicyVersion(version));
        }
        SCOPE_TABLE.iter().find(|r| r.code == code).map(|r| r.scope)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_are_unique_and_round_trip() {
        for (i, a) in SCOPE_TABLE.iter().enumerate() {
            assert_eq!(ConsentScope::from_code(a.code, 0), Some(a.scope));
            for b in SCOPE_TABLE.iter().skip(i + 1) {
                assert_ne!(a.code, b.code);
                assert_ne!(a.name, b.name);
            }
        }
        assert_eq!(
            ConsentScope::from_code(POLICY_VERSION_CODE, 3),
            Some(ConsentScope::PolicyVersion(3))
        );
        assert_eq!(ConsentScope::from_code(0, 0), None);
    }
}
