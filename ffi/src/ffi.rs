//! Exported functions and the helpers that keep them sound.

use std::collections::BTreeSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Mutex, OnceLock, PoisonError};

use chrono::{TimeDelta, Utc};
use crm_privacy::{GrantIssuer, PurposeId, SubjectId, TokenKey, policy};
use zeroize::Zeroizing;

use crate::error::crm_result;

/// Longest string or buffer accepted from the caller (bounds copies of hostile lengths).
pub const CRM_MAX_INPUT: usize = 1 << 20;

/// Length of a subject id in bytes.
pub const CRM_SUBJECT_ID_LEN: usize = 16;

// ---------------------------------------------------------------------------------------------
// Panic boundary and handle registry

/// Runs `f`, turning a panic into `CRM_PANIC`.
pub(crate) fn boundary(f: impl FnOnce() -> Result<(), crm_result>) -> crm_result {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => crm_result::CRM_OK,
        Ok(Err(e)) => e,
        Err(_) => crm_result::CRM_PANIC,
    }
}

fn live() -> std::sync::MutexGuard<'static, BTreeSet<usize>> {
    static LIVE: OnceLock<Mutex<BTreeSet<usize>>> = OnceLock::new();
    LIVE.get_or_init(Default::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
}

/// Boxes `value`, registers the address and returns it as an opaque handle.
pub(crate) fn into_handle<T, H>(value: T) -> *mut H {
    let p = Box::into_raw(Box::new(value));
    live().insert(p as usize);
    p.cast()
}

/// Borrows a live handle, or refuses a NULL, freed or foreign one.
///
/// The registry holds only addresses made by `into_handle::<T, H>`, and each handle type `H`
/// is made from exactly one `T`, so a registered `*const H` points to a live `T`.
pub(crate) fn borrow_handle<'a, T, H>(h: *const H) -> Result<&'a T, crm_result> {
    if h.is_null() {
        return Err(crm_result::CRM_NULL_PARAMETER);
    }
    if !live().contains(&(h as usize)) {
        return Err(crm_result::CRM_INVALID_HANDLE);
    }
    // SAFETY: `h` is registered, so it came from `Box::into_raw` of a `T` in `into_handle`
    // and has not been freed (`free_handle` unregisters before dropping). The caller must not
    // free it concurrently with this call (documented on every `_free`).
    Ok(unsafe { &*h.cast::<T>() })
}

/// Unregisters and drops a handle; NULL, freed and foreign handles are ignored.
pub(crate) fn free_handle<T, H>(h: *mut H) {
    if h.is_null() || !live().remove(&(h as usize)) {
        return;
    }
    // SAFETY: the address was registered by `into_handle::<T, H>` (so it is a `Box<T>` made
    // by `Box::into_raw`) and is now unregistered, so it is dropped exactly once.
    drop(unsafe { Box::from_raw(h.cast::<T>()) });
}

/// Copies a caller buffer (`len` bytes at `ptr`). Zero length is allowed only when `allow_empty`.
pub(crate) fn input<'a>(
    ptr: *const u8,
    len: usize,
    allow_empty: bool,
) -> Result<&'a [u8], crm_result> {
    if ptr.is_null() {
        return Err(crm_result::CRM_NULL_PARAMETER);
    }
    if len > CRM_MAX_INPUT || (len == 0 && !allow_empty) {
        return Err(crm_result::CRM_INVALID_ARGUMENT);
    }
    // SAFETY: the caller promises `ptr` points to `len` readable bytes (documented on every
    // function taking a buffer); non-NULL and bounded length were checked above.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

pub(crate) fn input_str<'a>(ptr: *const u8, len: usize) -> Result<&'a str, crm_result> {
    std::str::from_utf8(input(ptr, len, false)?).map_err(|_| crm_result::CRM_INVALID_UTF8)
}

pub(crate) fn subject_in(ptr: *const u8) -> Result<SubjectId, crm_result> {
    let b = input(ptr, CRM_SUBJECT_ID_LEN, false)?;
    let arr: [u8; 16] = b.try_into().map_err(|_| crm_result::CRM_INVALID_ARGUMENT)?;
    Ok(SubjectId::from_bytes(arr))
}

/// Writes `bytes` to the caller's buffer. On a short buffer, writes the needed size to
/// `out_len` (if not NULL) and fails; otherwise writes the bytes and their length.
pub(crate) fn output(
    bytes: &[u8],
    buf: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> Result<(), crm_result> {
    if out_len.is_null() {
        return Err(crm_result::CRM_NULL_PARAMETER);
    }
    if bytes.len() > cap {
        // SAFETY: `out_len` is non-NULL and the caller promises it is writable.
        unsafe { out_len.write(bytes.len()) };
        return Err(crm_result::CRM_BUFFER_TOO_SMALL);
    }
    if buf.is_null() {
        return Err(crm_result::CRM_NULL_PARAMETER);
    }
    // SAFETY: `buf` is non-NULL and the caller promises `cap` writable bytes; we write
    // `bytes.len() <= cap` of them. `out_len` is non-NULL and writable.
    unsafe {
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), buf, bytes.len());
        out_len.write(bytes.len());
    }
    Ok(())
}

/// Writes one value to a non-NULL out-param.
pub(crate) fn write_out<T>(out: *mut T, value: T) -> Result<(), crm_result> {
    if out.is_null() {
        return Err(crm_result::CRM_NULL_PARAMETER);
    }
    // SAFETY: non-NULL; the caller promises `out` is valid for writes of `T`.
    unsafe { out.write(value) };
    Ok(())
}

pub(crate) fn purpose_in(code: u8) -> Result<PurposeId, crm_result> {
    PurposeId::from_code(code).ok_or(crm_result::CRM_INVALID_ARGUMENT)
}

/// Runs `$body` with `$P` bound to the marker type of a runtime purpose.
/// `$service_only` excludes purposes that need the subject's session.
#[macro_export]
#[doc(hidden)]
macro_rules! with_purpose {
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

/// Like `with_purpose!` but including the session-only purposes (for checking tokens).
#[macro_export]
#[doc(hidden)]
macro_rules! with_any_purpose {
    ($id:expr, |$P:ident| $body:expr) => {
        match $id {
            ::crm_privacy::PurposeId::OwnerAccess => { type $P = ::crm_privacy::OwnerAccess; $body }
            ::crm_privacy::PurposeId::ConferenceCreation => { type $P = ::crm_privacy::ConferenceCreation; $body }
            other => with_purpose!(other, |$P| $body, otherwise return Err($crate::crm_result::CRM_INVALID_ARGUMENT)),
        }
    };
}

// ---------------------------------------------------------------------------------------------
// Messages and policy

/// Writes the message of result code `code` (UTF-8, no personal data, not NUL-terminated)
/// into `buf` of `cap` bytes and its length into `out_len`.
///
/// # Safety
/// `buf` must be valid for `cap` writable bytes; `out_len` must be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_result_message(
    code: u32,
    buf: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> crm_result {
    boundary(|| {
        let msg = RESULTS
            .iter()
            .find(|r| **r as u32 == code)
            .map_or("unknown result code", |r| r.message());
        output(msg.as_bytes(), buf, cap, out_len)
    })
}

const RESULTS: &[crm_result] = {
    use crm_result::*;
    &[
        CRM_OK,
        CRM_NULL_PARAMETER,
        CRM_INVALID_UTF8,
        CRM_BUFFER_TOO_SMALL,
        CRM_INVALID_ARGUMENT,
        CRM_INVALID_HANDLE,
        CRM_KEY_TOO_SHORT,
        CRM_INVALID_DATA,
        CRM_PURPOSE_NOT_PERMITTED,
        CRM_WRONG_SUBJECT,
        CRM_GRANT_EXPIRED,
        CRM_GRANT_REVOKED,
        CRM_CONSENT_WITHDRAWN,
        CRM_RESTRICTED,
        CRM_ERASED,
        CRM_NDA_MISSING,
        CRM_NO_CONSENT,
        CRM_SESSION_EXPIRED,
        CRM_STALE_REQUEST,
        CRM_PURPOSE_NEEDS_SESSION,
        CRM_TOKEN_MALFORMED,
        CRM_TOKEN_BAD_SIGNATURE,
        CRM_TOKEN_UNKNOWN_KEY,
        CRM_TOKEN_WRONG_PURPOSE,
        CRM_TOKEN_EXPIRED,
        CRM_STORE_ERROR,
        CRM_NOT_FOUND,
        CRM_CORRUPT,
        CRM_SHREDDED,
        CRM_PANIC,
    ]
};

/// Whether the policy table allows data of `category` to be read for `purpose` (codes as in
/// `crm_privacy::Category` and `crm_privacy::PurposeId`). Unknown codes: false.
#[unsafe(no_mangle)]
pub extern "C" fn crm_policy_permits(category: u8, purpose: u8) -> bool {
    catch_unwind(|| {
        match (
            crm_privacy::Category::from_code(category),
            PurposeId::from_code(purpose),
        ) {
            (Some(c), Some(p)) => policy::permits(c, p),
            _ => false,
        }
    })
    .unwrap_or(false)
}

/// Writes a fresh random subject id (16 bytes) to `out`.
///
/// # Safety
/// `out` must be valid for 16 writable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_subject_new(out: *mut u8, cap: usize) -> crm_result {
    boundary(|| {
        let mut n = 0_usize;
        output(&SubjectId::new_random().to_bytes(), out, cap, &raw mut n)
    })
}

// ---------------------------------------------------------------------------------------------
// Grant issuer

/// An issuer of signed grants (opaque).
#[allow(non_camel_case_types, reason = "C naming")]
pub struct crm_issuer {
    _private: [u8; 0],
}

/// Makes an issuer that signs grant tokens with `secret` (at least 32 bytes, copied) under
/// key id `key_id`; grants live `ttl_secs` seconds (1..=86400).
///
/// # Safety
/// `secret` must point to `secret_len` readable bytes; `out` must be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_issuer_new(
    secret: *const u8,
    secret_len: usize,
    key_id: u32,
    ttl_secs: u32,
    out: *mut *mut crm_issuer,
) -> crm_result {
    boundary(|| {
        if out.is_null() {
            return Err(crm_result::CRM_NULL_PARAMETER);
        }
        let secret = Zeroizing::new(input(secret, secret_len, false)?.to_vec());
        if !(1..=86_400).contains(&ttl_secs) {
            return Err(crm_result::CRM_INVALID_ARGUMENT);
        }
        let key =
            TokenKey::from_secret(key_id, &secret).map_err(|_| crm_result::CRM_KEY_TOO_SHORT)?;
        let issuer = GrantIssuer::builder()
            .signing_key(key)
            .ttl(TimeDelta::seconds(i64::from(ttl_secs)))
            .build()
            .map_err(|_| crm_result::CRM_INVALID_ARGUMENT)?;
        write_out(out, into_handle::<GrantIssuer, crm_issuer>(issuer))
    })
}

/// Frees an issuer. NULL, or a handle already freed, is a no-op. Must not race with calls
/// using the same handle.
#[unsafe(no_mangle)]
pub extern "C" fn crm_issuer_free(issuer: *mut crm_issuer) {
    let _ = catch_unwind(|| free_handle::<GrantIssuer, crm_issuer>(issuer));
}

/// Issues a grant for a service purpose `purpose` on subject `subject` (16 bytes) to
/// component `component` (UTF-8), and writes its signed token into `buf`.
/// `CRM_PURPOSE_NEEDS_SESSION` for owner access and conference creation.
///
/// # Safety
/// Buffers must be valid for their lengths; `out_len` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_grant_issue(
    issuer: *const crm_issuer,
    subject: *const u8,
    purpose: u8,
    component: *const u8,
    component_len: usize,
    buf: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> crm_result {
    boundary(|| {
        let issuer = borrow_handle::<GrantIssuer, _>(issuer)?;
        let subject = subject_in(subject)?;
        let component = input_str(component, component_len)?;
        let p = purpose_in(purpose)?;
        let now = Utc::now();
        let token = with_purpose!(p, |P| {
            let g = issuer.issue::<P>(subject, component, now)?;
            issuer.seal(&g)
        }, otherwise return Err(crm_result::CRM_PURPOSE_NEEDS_SESSION));
        output(token.as_bytes(), buf, cap, out_len)
    })
}

/// Checks that `token` is a valid grant for `purpose`, that the policy allows data of
/// `category` for that purpose, and that it opens data of `subject` now.
///
/// # Safety
/// Buffers must be valid for their lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_grant_check(
    issuer: *const crm_issuer,
    token: *const u8,
    token_len: usize,
    purpose: u8,
    category: u8,
    subject: *const u8,
) -> crm_result {
    boundary(|| {
        let issuer = borrow_handle::<GrantIssuer, _>(issuer)?;
        let token = input_str(token, token_len)?;
        let subject = subject_in(subject)?;
        let p = purpose_in(purpose)?;
        let c =
            crm_privacy::Category::from_code(category).ok_or(crm_result::CRM_INVALID_ARGUMENT)?;
        if !policy::permits(c, p) {
            return Err(crm_result::CRM_PURPOSE_NOT_PERMITTED);
        }
        let now = Utc::now();
        with_any_purpose!(p, |P| {
            let g = issuer.open::<P>(token, now)?;
            g.check(subject, now)?;
        });
        Ok(())
    })
}

/// Revokes the grant inside `token` (which must carry a valid signature of this issuer).
///
/// # Safety
/// `token` must be valid for `token_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_grant_revoke(
    issuer: *const crm_issuer,
    token: *const u8,
    token_len: usize,
    purpose: u8,
) -> crm_result {
    boundary(|| {
        let issuer = borrow_handle::<GrantIssuer, _>(issuer)?;
        let token = input_str(token, token_len)?;
        let p = purpose_in(purpose)?;
        let now = Utc::now();
        with_any_purpose!(p, |P| {
            let g = issuer.open::<P>(token, now)?;
            issuer.revoke(g.id());
        });
        Ok(())
    })
}
