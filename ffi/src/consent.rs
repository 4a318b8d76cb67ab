//! Consent over the C ABI: given only in the subject's own session (the host's session
//! credential), withdrawn in one call; policy-version acknowledgments.

use crm_privacy::consent::{CollectionMethod, ConsentScope};

use crate::codes::{CRM_SCOPE_POLICY_VERSION, scope_in};
use crate::custodian::{Handle, crm_custodian, subject_in};
use crate::error::crm_result;
use crate::grants::session_in;
use crate::handle::borrow;
use crate::panic::boundary;

/// Records `scope` as given, through the API, by the subject of the session credential
/// `(credential, credential_len)`.
fn give(
    h: &Handle,
    credential: *const u8,
    credential_len: usize,
    scope: ConsentScope,
) -> Result<(), crm_result> {
    let session = session_in(h, credential, credential_len)?;
    h.rt.block_on(
        h.custodian
            .give_consent(&session, scope, CollectionMethod::Api, None),
    )?;
    Ok(())
}

/// Records the consent of the subject of `credential` (the host's session credential) for
/// `scope` (a `CRM_SCOPE_*` code other than `CRM_SCOPE_POLICY_VERSION`), collected through
/// the API.
///
/// # Safety
/// `credential` must be valid for `credential_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_consent_give(
    c: *const crm_custodian,
    credential: *const u8,
    credential_len: usize,
    scope: u32,
) -> crm_result {
    boundary(|| {
        let h = borrow(c)?;
        let scope = scope_in(scope)?;
        give(h, credential, credential_len, scope)
    })
}

/// Records that the subject of `credential` acknowledged policy version `version` (10.2).
///
/// # Safety
/// `credential` must be valid for `credential_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_policy_acknowledge(
    c: *const crm_custodian,
    credential: *const u8,
    credential_len: usize,
    version: u32,
) -> crm_result {
    boundary(|| {
        let h = borrow(c)?;
        let scope = ConsentScope::from_code(CRM_SCOPE_POLICY_VERSION, version)
            .ok_or(crm_result::CRM_INVALID_ARGUMENT)?;
        give(h, credential, credential_len, scope)
    })
}

/// Withdraws the consent of `subject` (16 bytes) for `scope` in one call: every grant
/// issued under it fails from now on, and data collected only under it is deleted.
/// Anyone acting for the subject may withdraw (it only narrows processing). Withdrawing a
/// consent that is not in force (for example a second time) returns `CRM_NO_CONSENT` and
/// changes nothing.
///
/// # Safety
/// `subject` must be valid for 16 bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_consent_withdraw(
    c: *const crm_custodian,
    subject: *const u8,
    scope: u32,
) -> crm_result {
    boundary(|| {
        let h = borrow(c)?;
        let s = subject_in(subject)?;
        let scope = scope_in(scope)?;
        h.rt.block_on(h.custodian.withdraw_consent(s, scope))?;
        Ok(())
    })
}
