//! Grant tokens in their binary form over the C ABI (issue 18), for hosts that can carry
//! bytes: the same signed bytes as the text form (`g1.` + base64url), without the
//! encoding. Every function opens the token with the custodian's whole gate (authority,
//! signature, purpose, expiry by its clock, revocation, consent, restriction, erasure,
//! lawful request, NDA) before it does anything else; a tampered, truncated, forged,
//! foreign or expired token gets its `CRM_*` code, never a partial result.

use crm_privacy::RecordId;

use crate::buffer::{id, input, input_str, output};
use crate::custodian::crm_custodian;
use crate::error::crm_result;
use crate::handle::borrow;
use crate::panic::boundary;
use crate::purpose::{purpose_in, with_any_purpose};

/// Opens the binary token `(token, token_len)` for `purpose` and reports whether its grant
/// stands now: `CRM_OK`, or the code of the first check that fails.
///
/// # Safety
/// `token` must be valid for `token_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_grant_check_bytes(
    c: *const crm_custodian,
    token: *const u8,
    token_len: usize,
    purpose: u8,
) -> crm_result {
    boundary(|| {
        let h = borrow(c)?;
        let token = input(token, token_len, false)?;
        let p = purpose_in(purpose)?;
        with_any_purpose!(p, |P| h
            .rt
            .block_on(h.custodian.open_grant_bytes::<P>(token))
            .map(drop)?);
        Ok(())
    })
}

/// Converts the text token `(token, token_len)` for `purpose` into its binary form in
/// `buf` (after opening it: only a grant that stands is converted). `CRM_BUFFER_TOO_SMALL`
/// writes the size needed to `out_len`.
///
/// # Safety
/// Buffers must be valid for their lengths; `out_len` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_grant_token_to_bytes(
    c: *const crm_custodian,
    token: *const u8,
    token_len: usize,
    purpose: u8,
    buf: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> crm_result {
    boundary(|| {
        let h = borrow(c)?;
        let token = input_str(token, token_len)?;
        let p = purpose_in(purpose)?;
        let bytes = with_any_purpose!(p, |P| {
            let g = h.rt.block_on(h.custodian.open_grant::<P>(token))?;
            h.custodian.seal_grant_bytes(&g)?
        });
        output(&bytes, buf, cap, out_len)
    })
}

/// Converts the binary token `(token, token_len)` for `purpose` into its text form (for
/// the functions that take text tokens), after opening it. As
/// `crm_grant_token_to_bytes`.
///
/// # Safety
/// Buffers must be valid for their lengths; `out_len` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_grant_token_from_bytes(
    c: *const crm_custodian,
    token: *const u8,
    token_len: usize,
    purpose: u8,
    buf: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> crm_result {
    boundary(|| {
        let h = borrow(c)?;
        let token = input(token, token_len, false)?;
        let p = purpose_in(purpose)?;
        let text = with_any_purpose!(p, |P| {
            let g = h.rt.block_on(h.custodian.open_grant_bytes::<P>(token))?;
            h.custodian.seal_grant(&g)?
        });
        output(text.as_bytes(), buf, cap, out_len)
    })
}

/// Reads record `record` (16 bytes) with the grant in the binary token `(token,
/// token_len)` for `purpose` into `buf`, exactly as `crm_field_read` does with a text token
/// (the whole gate runs now; our copies are zeroized).
///
/// # Safety
/// Buffers must be valid for their lengths; `out_len` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_field_read_bytes(
    c: *const crm_custodian,
    token: *const u8,
    token_len: usize,
    purpose: u8,
    record: *const u8,
    buf: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> crm_result {
    boundary(|| {
        let h = borrow(c)?;
        let token = input(token, token_len, false)?;
        let p = purpose_in(purpose)?;
        let record = RecordId::from_bytes(id(record)?);
        let text = with_any_purpose!(p, |P| h.rt.block_on(async {
            let g = h.custodian.open_grant_bytes::<P>(token).await?;
            h.custodian.read_as_text(&g, record).await
        })?);
        output(text.as_bytes(), buf, cap, out_len)
    })
}

/// Revokes, in the custodian's ledger, the grant inside the binary token `(token,
/// token_len)` for `purpose`, as `crm_grant_revoke` does for a text token.
///
/// # Safety
/// `token` must be valid for `token_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_grant_revoke_bytes(
    c: *const crm_custodian,
    token: *const u8,
    token_len: usize,
    purpose: u8,
) -> crm_result {
    boundary(|| {
        let h = borrow(c)?;
        let token = input(token, token_len, false)?;
        let p = purpose_in(purpose)?;
        with_any_purpose!(p, |P| h
            .rt
            .block_on(h.custodian.revoke_token_bytes::<P>(token))?);
        Ok(())
    })
}
