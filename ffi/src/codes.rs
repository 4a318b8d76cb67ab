//! Named constants for every code a caller passes: categories, purposes and consent scopes.
//!
//! cbindgen writes them into the header as `#define`s, so they must be literals; each list
//! is tied to the root crate's one table by an exhaustive `match` (a new variant does not
//! compile until it has a constant here) and by the test below, which asserts every value
//! equals `Category::code`, `PurposeId::code` and `ConsentScope::code`.

use crm_privacy::consent::ConsentScope;
use crm_privacy::{Category, PurposeId};

/// Category code: a subject's name (clause 1).
pub const CRM_CATEGORY_PERSON_NAME: u8 = 1;
/// Category code: an email address (clauses 1, 3.1).
pub const CRM_CATEGORY_EMAIL: u8 = 2;
/// Category code: a phone number (clauses 1, 3.2).
pub const CRM_CATEGORY_PHONE: u8 = 3;
/// Category code: a colleague invited to teamwork (JSON `{"name","email"}`).
pub const CRM_CATEGORY_COLLEAGUE_CONTACT: u8 = 4;
/// Category code: a record of the account owner's customer base (JSON `{field: value}`).
pub const CRM_CATEGORY_CUSTOMER_RECORD: u8 = 5;
/// Category code: an IP address (clauses 2, 3.4).
pub const CRM_CATEGORY_IP_ADDRESS: u8 = 6;
/// Category code: device information (JSON `{"model","os_version","app_version","screen":[w,h]}`).
pub const CRM_CATEGORY_DEVICE_INFO: u8 = 7;
/// Category code: Google account id (clause 3.3; needs the Google link consent).
pub const CRM_CATEGORY_GOOGLE_ACCOUNT_ID: u8 = 8;
/// Category code: Facebook account id (clause 3.3; needs the Facebook link consent).
pub const CRM_CATEGORY_FACEBOOK_ACCOUNT_ID: u8 = 9;
/// Category code: Zoom account id (clause 3.7; needs the Zoom link consent).
pub const CRM_CATEGORY_ZOOM_ACCOUNT_ID: u8 = 10;
/// Category code: Zoom access token (clause 3.7; needs the Zoom link consent).
pub const CRM_CATEGORY_ZOOM_ACCESS_TOKEN: u8 = 11;
/// Category code: a contact imported from the device (JSON `{"name","phone"?,"email"?}`;
/// needs the contacts import consent).
pub const CRM_CATEGORY_DEVICE_CONTACT: u8 = 12;
/// Category code: cookie preferences (JSON `{"language"}`; needs the cookies consent).
pub const CRM_CATEGORY_COOKIE_PREFERENCE: u8 = 13;

/// Purpose code: system notifications by email (3.1).
pub const CRM_PURPOSE_NOTIFICATION: u8 = 1;
/// Purpose code: one-time identity codes (3.2).
pub const CRM_PURPOSE_IDENTITY_VERIFICATION: u8 = 2;
/// Purpose code: support calls (3.2).
pub const CRM_PURPOSE_SUPPORT_CONTACT: u8 = 3;
/// Purpose code: sign-in through a linked account (3.3; needs a link consent).
pub const CRM_PURPOSE_AUTHENTICATION: u8 = 4;
/// Purpose code: Zoom conference on the user's initiative (3.7; `crm_grant_conference`).
pub const CRM_PURPOSE_CONFERENCE_CREATION: u8 = 5;
/// Purpose code: usage statistics (2, 3.4).
pub const CRM_PURPOSE_ANALYTICS: u8 = 6;
/// Purpose code: troubleshooting (2).
pub const CRM_PURPOSE_TROUBLESHOOTING: u8 = 7;
/// Purpose code: language and drafts (3.6; needs the cookies consent).
pub const CRM_PURPOSE_PREFERENCES: u8 = 8;
/// Purpose code: the subject's own session (`crm_grant_owner`).
pub const CRM_PURPOSE_OWNER_ACCESS: u8 = 9;
/// Purpose code: teamwork with colleagues (reads only what the subject shared).
pub const CRM_PURPOSE_TEAM_COLLABORATION: u8 = 10;
/// Purpose code: the account's own profile.
pub const CRM_PURPOSE_ACCOUNT_MANAGEMENT: u8 = 11;
/// Purpose code: the account owner's CRM work.
pub const CRM_PURPOSE_CUSTOMER_MANAGEMENT: u8 = 12;
/// Purpose code: chat participants (reads only what the subject shared).
pub const CRM_PURPOSE_CHAT_SHARING: u8 = 13;
/// Purpose code: disclosure on a lawful request (7.2; `crm_grant_lawful`).
pub const CRM_PURPOSE_LEGAL_COMPLIANCE: u8 = 14;

/// Consent scope code: Google account linked for sign-in (3.3).
pub const CRM_SCOPE_GOOGLE_LINK: u32 = 1;
/// Consent scope code: Facebook account linked for sign-in (3.3).
pub const CRM_SCOPE_FACEBOOK_LINK: u32 = 2;
/// Consent scope code: Zoom account connected (3.7).
pub const CRM_SCOPE_ZOOM_LINK: u32 = 3;
/// Consent scope code: importing device contacts (3.5).
pub const CRM_SCOPE_CONTACTS_IMPORT: u32 = 4;
/// Consent scope code: cookies (3.6).
pub const CRM_SCOPE_COOKIES: u32 = 5;
/// Consent scope code: device permission, Google account (4.1).
pub const CRM_SCOPE_DEVICE_GOOGLE_ACCOUNT: u32 = 11;
/// Consent scope code: device permission, calls (4.2).
pub const CRM_SCOPE_DEVICE_CALLS: u32 = 12;
/// Consent scope code: device permission, file storage (4.3).
pub const CRM_SCOPE_DEVICE_FILE_STORAGE: u32 = 13;
/// Consent scope code: device permission, camera (4.4).
pub const CRM_SCOPE_DEVICE_CAMERA: u32 = 14;
/// Consent scope code: device permission, network (4.5).
pub const CRM_SCOPE_DEVICE_NETWORK: u32 = 15;
/// Consent scope code of policy-version acknowledgments (10.2); given only through
/// `crm_policy_acknowledge`, which carries the version.
pub const CRM_SCOPE_POLICY_VERSION: u32 = 100;

/// The constant of a category (exhaustive: a new category needs a constant).
pub(crate) const fn category_const(c: Category) -> u8 {
    match c {
        Category::PersonName => CRM_CATEGORY_PERSON_NAME,
        Category::Email => CRM_CATEGORY_EMAIL,
        Category::Phone => CRM_CATEGORY_PHONE,
        Category::ColleagueContact => CRM_CATEGORY_COLLEAGUE_CONTACT,
        Category::CustomerRecord => CRM_CATEGORY_CUSTOMER_RECORD,
        Category::IpAddress => CRM_CATEGORY_IP_ADDRESS,
        Category::DeviceInfo => CRM_CATEGORY_DEVICE_INFO,
        Category::GoogleAccountId => CRM_CATEGORY_GOOGLE_ACCOUNT_ID,
        Category::FacebookAccountId => CRM_CATEGORY_FACEBOOK_ACCOUNT_ID,
        Category::ZoomAccountId => CRM_CATEGORY_ZOOM_ACCOUNT_ID,
        Category::ZoomAccessToken => CRM_CATEGORY_ZOOM_ACCESS_TOKEN,
        Category::DeviceContact => CRM_CATEGORY_DEVICE_CONTACT,
        Category::CookiePreference => CRM_CATEGORY_COOKIE_PREFERENCE,
    }
}

/// The constant of a purpose (exhaustive).
pub(crate) const fn purpose_const(p: PurposeId) -> u8 {
    match p {
        PurposeId::Notification => CRM_PURPOSE_NOTIFICATION,
        PurposeId::IdentityVerification => CRM_PURPOSE_IDENTITY_VERIFICATION,
        PurposeId::SupportContact => CRM_PURPOSE_SUPPORT_CONTACT,
        PurposeId::Authentication => CRM_PURPOSE_AUTHENTICATION,
        PurposeId::ConferenceCreation => CRM_PURPOSE_CONFERENCE_CREATION,
        PurposeId::Analytics => CRM_PURPOSE_ANALYTICS,
        PurposeId::Troubleshooting => CRM_PURPOSE_TROUBLESHOOTING,
        PurposeId::Preferences => CRM_PURPOSE_PREFERENCES,
        PurposeId::OwnerAccess => CRM_PURPOSE_OWNER_ACCESS,
        PurposeId::TeamCollaboration => CRM_PURPOSE_TEAM_COLLABORATION,
        PurposeId::AccountManagement => CRM_PURPOSE_ACCOUNT_MANAGEMENT,
        PurposeId::CustomerManagement => CRM_PURPOSE_CUSTOMER_MANAGEMENT,
        PurposeId::ChatSharing => CRM_PURPOSE_CHAT_SHARING,
        PurposeId::LegalCompliance => CRM_PURPOSE_LEGAL_COMPLIANCE,
    }
}

// Checked when the crate compiles: every category and purpose constant equals its code in
// the root crate's table.
#[expect(
    clippy::indexing_slicing,
    reason = "i < len is checked by the loop; const context"
)]
const _: () = {
    let mut i = 0;
    while i < Category::ALL.len() {
        assert!(category_const(Category::ALL[i]) == Category::ALL[i].code());
        i += 1;
    }
    let mut i = 0;
    while i < PurposeId::ALL.len() {
        assert!(purpose_const(PurposeId::ALL[i]) == PurposeId::ALL[i].code());
        i += 1;
    }
};

/// The constant of a consent scope (exhaustive; checked against `ConsentScope::code` by the
/// test below, as the scope list is not a const slice).
#[cfg(test)]
pub(crate) const fn scope_const(s: ConsentScope) -> u32 {
    use crm_privacy::consent::Permission;
    match s {
        ConsentScope::GoogleLink => CRM_SCOPE_GOOGLE_LINK,
        ConsentScope::FacebookLink => CRM_SCOPE_FACEBOOK_LINK,
        ConsentScope::ZoomLink => CRM_SCOPE_ZOOM_LINK,
        ConsentScope::ContactsImport => CRM_SCOPE_CONTACTS_IMPORT,
        ConsentScope::Cookies => CRM_SCOPE_COOKIES,
        ConsentScope::Device(Permission::GoogleAccount) => CRM_SCOPE_DEVICE_GOOGLE_ACCOUNT,
        ConsentScope::Device(Permission::Calls) => CRM_SCOPE_DEVICE_CALLS,
        ConsentScope::Device(Permission::FileStorage) => CRM_SCOPE_DEVICE_FILE_STORAGE,
        ConsentScope::Device(Permission::Camera) => CRM_SCOPE_DEVICE_CAMERA,
        ConsentScope::Device(Permission::Network) => CRM_SCOPE_DEVICE_NETWORK,
        ConsentScope::PolicyVersion(_) => CRM_SCOPE_POLICY_VERSION,
    }
}

/// A consent scope code from the caller (policy acknowledgments excluded: they carry a
/// version and go through `crm_policy_acknowledge`).
pub(crate) fn scope_in(code: u32) -> Result<ConsentScope, crate::error::crm_result> {
    match ConsentScope::from_code(code, 0) {
        Some(ConsentScope::PolicyVersion(_)) | None => {
            Err(crate::error::crm_result::CRM_INVALID_ARGUMENT)
        }
        Some(s) => Ok(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_equal_the_rust_tables() {
        for &c in Category::ALL {
            assert_eq!(category_const(c), c.code(), "{}", c.name());
        }
        for &p in PurposeId::ALL {
            assert_eq!(purpose_const(p), p.code(), "{}", p.name());
        }
        for s in ConsentScope::all() {
            assert_eq!(scope_const(s), s.code(), "{}", s.name());
            assert_eq!(scope_in(s.code()), Ok(s));
        }
        assert_eq!(
            scope_const(ConsentScope::PolicyVersion(3)),
            ConsentScope::PolicyVersion(3).code()
        );
        assert!(scope_in(CRM_SCOPE_POLICY_VERSION).is_err());
        assert!(scope_in(0).is_err());
    }
}
