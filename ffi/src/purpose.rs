//! Runtime purpose codes to the typed purposes of the Rust API.

use crm_privacy::PurposeId;

use crate::error::crm_result;

/// A purpose code from the caller.
pub(crate) fn purpose_in(code: u8) -> Result<PurposeId, crm_result> {
    PurposeId::from_code(code).ok_or(crm_result::CRM_INVALID_ARGUMENT)
}

/// Runs `$body` with `$P` bound to the marker type of a service purpose; `$other` for the
/// purposes that need the subject's own proof (owner access, conference creation).
macro_rules! with_service_purpose {
    ($id:expr, |$P:ident| $body:expr, otherwise $other:expr) => {
        match $id {
            ::crm_privacy::PurposeId::Notification => {
                type $P = ::crm_privacy::Notification;
                $body
            }
            ::crm_privacy::PurposeId::IdentityVerification => {
                type $P = ::crm_privacy::IdentityVerification;
                $body
            }
            ::crm_privacy::PurposeId::SupportContact => {
                type $P = ::crm_privacy::SupportContact;
                $body
            }
            ::crm_privacy::PurposeId::Authentication => {
                type $P = ::crm_privacy::Authentication;
                $body
            }
            ::crm_privacy::PurposeId::Analytics => {
                type $P = ::crm_privacy::Analytics;
                $body
            }
            ::crm_privacy::PurposeId::Troubleshooting => {
                type $P = ::crm_privacy::Troubleshooting;
                $body
            }
            ::crm_privacy::PurposeId::Preferences => {
                type $P = ::crm_privacy::Preferences;
                $body
            }
            ::crm_privacy::PurposeId::TeamCollaboration => {
                type $P = ::crm_privacy::TeamCollaboration;
                $body
            }
            ::crm_privacy::PurposeId::AccountManagement => {
                type $P = ::crm_privacy::AccountManagement;
                $body
            }
            ::crm_privacy::PurposeId::CustomerManagement => {
                type $P = ::crm_privacy::CustomerManagement;
                $body
            }
            ::crm_privacy::PurposeId::ChatSharing => {
                type $P = ::crm_privacy::ChatSharing;
                $body
            }
            ::crm_privacy::PurposeId::LegalCompliance => {
                type $P = ::crm_privacy::LegalCompliance;
                $body
            }
            ::crm_privacy::PurposeId::OwnerAccess
            | ::crm_privacy::PurposeId::ConferenceCreation => $other,
        }
    };
}
pub(crate) use with_service_purpose;

/// Like `with_service_purpose!` over every purpose (for opening and revoking tokens).
macro_rules! with_any_purpose {
    ($id:expr, |$P:ident| $body:expr) => {
        match $id {
            ::crm_privacy::PurposeId::OwnerAccess => { type $P = ::crm_privacy::OwnerAccess; $body }
            ::crm_privacy::PurposeId::ConferenceCreation => { type $P = ::crm_privacy::ConferenceCreation; $body }
            other => $crate::purpose::with_service_purpose!(other, |$P| $body,
                otherwise return Err($crate::error::crm_result::CRM_INVALID_ARGUMENT)),
        }
    };
}
pub(crate) use with_any_purpose;
