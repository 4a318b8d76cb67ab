//! Consent over the C ABI: given only in the subject's own session (the host's session
//! credential), withdrawn in one call; policy-version acknowledgments.

use crm_privacy::consent::{CollectionMethod, ConsentScope};

use crate::buffer::{input, output_id};
use crate::codes::{SCOPE_POLICY_VERSION, method_in, scope_in};
use crate::custodian::{Handle, crm_custodian, subject_in};
use crate::error::crm_result;
use crate::grants::session_in;
use crate::handle::borrow;
use crate::panic::boundary;

/// Records `scope` as given by the subject of the session credential
/// `(credential, credential_len)`, collected by `method` with optional `evidence`.
fn give(
    h: &Handle,
    credential: *const u8,
    credential_len: usize,
    scope: ConsentScope,
    method: CollectionMethod,
    evidence: Option<&str>,
) -> Result<crm_privacy::ConsentId, crm_result> {
    let session = session_in(h, credential, credential_len)?;
    Ok(h.rt.block_on(h.custodian.give_consent(&session, scope, method, evidence))?)
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
        give(
            h,
            credential,
            credential_len,
            scope,
            CollectionMethod::Api,
            None,
        )?;
        Ok(())
    })
}

/// Records the consent of the subject of `credential` (the host's session credential) for
/// `scope` (a `CRM_SCOPE_*` code other than `CRM_SCOPE_POLICY_VERSION`), collected by
/// `method` (a `CRM_COLLECTION_*` code), with `evidence`: a reference to the proof of
/// collection kept in the ledger and the consent receipt (a form version, a request id;
/// UTF-8, never personal data: evidence that reads as an email address, an international
/// phone number or an IP address, or holds a control character, is `CRM_INVALID_DATA`).
/// `evidence` may be NULL with `evidence_len` 0 (no evidence).
/// Writes the 16-byte consent id to `out_consent` (`cap` >= 16), or nothing if
/// `out_consent` is NULL.
///
/// # Safety
/// Buffers must be valid for their lengths; `out_consent` NULL or valid for `cap` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_consent_give_with(
    c: *const crm_custodian,
    credential: *const u8,
    credential_len: usize,
    scope: u32,
    method: u32,
    evidence: *const u8,
    evidence_len: usize,
    out_consent: *mut u8,
    cap: usize,
) -> crm_result {
    boundary(|| {
        let h = borrow(c)?;
        let scope = scope_in(scope)?;
        let method = method_in(method).ok_or(crm_result::CRM_INVALID_ARGUMENT)?;
        let evidence = if evidence.is_null() && evidence_len == 0 {
            None
        } else {
            Some(
                std::str::from_utf8(input(evidence, evidence_len, false)?)
                    .map_err(|_| crm_result::CRM_INVALID_UTF8)?,
            )
        };
        // Checked before recording, so a short buffer never leaves an unseen consent.
        if !out_consent.is_null() && cap < crate::buffer::CRM_ID_LEN {
            return Err(crm_result::CRM_BUFFER_TOO_SMALL);
        }
        let id = give(h, credential, credential_len, scope, method, evidence)?;
        if out_consent.is_null() {
            return Ok(());
        }
        output_id(id.to_bytes(), out_consent, cap)
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
        let scope = ConsentScope::from_code(SCOPE_POLICY_VERSION, version)
            .ok_or(crm_result::CRM_INVALID_ARGUMENT)?;
        give(
            h,
            credential,
            credential_len,
            scope,
            CollectionMethod::Api,
            None,
        )?;
        Ok(())
    })
}

/// Withdraws the consent of `subject` (16 bytes) for `scope` in one call: every grant
/// issued under it fails from now on, and data collected only under it is deleted.
/// Anyone acting for the subject may withdraw (it only narrows processing).
///
/// Withdrawing a consent that is not in force — a second time, or one never given — returns
/// `CRM_CONSENT_NOT_IN_FORCE` and changes nothing (no ledger entry, no audit event). A
/// host retrying a withdrawal whose answer it lost may treat that code as done: the consent
/// is not in force either way.
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
