//! Input buffers (copied, bounded) and out-params (written only on success).

use zeroize::Zeroizing;

use crate::error::crm_result;

/// Longest string or buffer accepted from the caller (bounds copies of hostile lengths).
pub const CRM_MAX_INPUT: usize = 1 << 20;

/// Length of every id (subject, record, session, request, staff) in bytes.
pub const CRM_ID_LEN: usize = 16;

/// Length of a subject id in bytes (kept for callers of the earlier header).
pub const CRM_SUBJECT_ID_LEN: usize = 16;

/// Borrows a caller buffer of `len` bytes at `ptr`, to be copied before the call returns.
/// Zero length is allowed only when `allow_empty`.
pub(crate) fn input<'a>(
    ptr: *const u8,
    len: usize,
    allow_empty: bool,
) -> Result<&'a [u8], crm_result> {
    if ptr.is_null() {
        // `(NULL, 0)` is the empty buffer wherever an empty one is allowed.
        if len == 0 && allow_empty {
            return Ok(&[]);
        }
        return Err(crm_result::CRM_NULL_PARAMETER);
    }
    if len > CRM_MAX_INPUT || (len == 0 && !allow_empty) {
        return Err(crm_result::CRM_INVALID_ARGUMENT);
    }
    // SAFETY: the caller promises `ptr` points to `len` readable bytes (documented on every
    // function taking a buffer); non-NULL and bounded length were checked above.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// A non-empty UTF-8 string argument.
pub(crate) fn input_str<'a>(ptr: *const u8, len: usize) -> Result<&'a str, crm_result> {
    std::str::from_utf8(input(ptr, len, false)?).map_err(|_| crm_result::CRM_INVALID_UTF8)
}

/// A secret copied into a zeroizing buffer, at least 32 bytes.
pub(crate) fn key(ptr: *const u8, len: usize) -> Result<Zeroizing<Vec<u8>>, crm_result> {
    let k = Zeroizing::new(input(ptr, len, false)?.to_vec());
    if k.len() < 32 {
        return Err(crm_result::CRM_KEY_TOO_SHORT);
    }
    Ok(k)
}

/// A 16-byte id.
pub(crate) fn id(ptr: *const u8) -> Result<[u8; CRM_ID_LEN], crm_result> {
    input(ptr, CRM_ID_LEN, false)?
        .try_into()
        .map_err(|_| crm_result::CRM_INVALID_ARGUMENT)
}

/// Writes `bytes` to the caller's buffer `buf` of `cap` bytes and their length to
/// `out_len`. On a short buffer only `out_len` is written (the size needed).
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
        // `(NULL, 0)` is a size probe: an empty answer fits it, as a long one gets
        // `CRM_BUFFER_TOO_SMALL` above.
        if bytes.is_empty() && cap == 0 {
            // SAFETY: `out_len` is non-NULL and the caller promises it is writable.
            unsafe { out_len.write(0) };
            return Ok(());
        }
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

/// Writes a 16-byte id to `out` of `cap` bytes (at least 16).
pub(crate) fn output_id(
    bytes: [u8; CRM_ID_LEN],
    out: *mut u8,
    cap: usize,
) -> Result<(), crm_result> {
    let mut n = 0_usize;
    output(&bytes, out, cap, &raw mut n)
}

/// Checks that an out-param is non-NULL before any work is done.
pub(crate) fn out_ptr<T>(out: *mut T) -> Result<*mut T, crm_result> {
    if out.is_null() {
        return Err(crm_result::CRM_NULL_PARAMETER);
    }
    Ok(out)
}

/// Writes one value to a non-NULL out-param.
pub(crate) fn write_out<T>(out: *mut T, value: T) -> Result<(), crm_result> {
    let out = out_ptr(out)?;
    // SAFETY: non-NULL; the caller promises `out` is valid for writes of `T`.
    unsafe { out.write(value) };
    Ok(())
}
