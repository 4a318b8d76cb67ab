//! Named constants for every code a caller passes: categories, purposes, consent scopes and
//! collection methods.
//!
//! cbindgen writes literal `pub const`s into the header as `#define`s. Categories and
//! purposes are tied to the root crate's one table by an exhaustive `match` (a new variant
//! does not compile until it has a constant here) and a compile-time check that every value
//! equals `Category::code` / `PurposeId::code`. Consent scopes are generated into the header
//! from the scope table itself (`tests/header.rs`); `tests/header.rs` also checks every
//! `#define` of the committed header against the Rust values.

use crm_privacy::consent::{CollectionMethod, ConsentScope};
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
/// needs the contacts import consent and the device's file-storage permission,
/// `CRM_SCOPE_DEVICE_FILE_STORAGE`, clause 4).
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

// Consent scope codes (`CRM_SCOPE_*`) are not written here: the header test generates
// their `#define`s from the root crate's one scope table (`src/policy/scopes.rs`,
// `ConsentScope::all` and `ConsentScope::code`), so there is no copy to drift.

/// The code of policy-version acknowledgments (`CRM_SCOPE_POLICY_VERSION`), read from the
/// scope table.
pub(crate) const SCOPE_POLICY_VERSION: u32 = ConsentScope::PolicyVersion(0).code();

/// Collection method code: a UI action of the subject (a button, a checkbox).
pub const CRM_COLLECTION_UI_ACTION: u32 = 1;
/// Collection method code: an API call on the subject's behalf.
pub const CRM_COLLECTION_API: u32 = 2;
/// Collection method code: imported from an earlier system.
pub const CRM_COLLECTION_IMPORT: u32 = 3;

/// The collection method of a caller's code (this module is the one table of these codes:
/// the root crate's `CollectionMethod` has no numeric form).
pub(crate) const fn method_in(code: u32) -> Option<CollectionMethod> {
    match code {
        CRM_COLLECTION_UI_ACTION => Some(CollectionMethod::UiAction),
        CRM_COLLECTION_API => Some(CollectionMethod::Api),
        CRM_COLLECTION_IMPORT => Some(CollectionMethod::Import),
        _ => None,
    }
}

/// The code of a collection method (exhaustive: a new method needs a code).
#[cfg(test)]
pub(crate) const fn method_code(m: CollectionMethod) -> u32 {
    match m {
        CollectionMethod::UiAction => CRM_COLLECTION_UI_ACTION,
        CollectionMethod::Api => CRM_COLLECTION_API,
        CollectionMethod::Import => CRM_COLLECTION_IMPORT,
    }
}

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
            assert_eq!(scope_in(s.code()), Ok(s), "{}", s.name());
        }
        assert!(scope_in(SCOPE_POLICY_VERSION).is_err());
        assert!(scope_in(0).is_err());
        for m in [
            CollectionMethod::UiAction,
            CollectionMethod::Api,
            CollectionMethod::Import,
        ] {
            assert_eq!(method_in(method_code(m)), Some(m));
        }
        assert_eq!(method_in(0), None);
        assert_eq!(method_in(4), None);
    }
}
