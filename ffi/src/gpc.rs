//! Global Privacy Control over the C ABI (clauses 3.4, 3.6): a `Sec-GPC` value read as the
//! GPC specification says, and the opt-out recorded in the subject's own session (see
//! `docs/gpc.md`).

use crm_privacy::gpc::{self, GpcSignal};

use crate::buffer::{input, input_str, out_ptr, write_out};
use crate::custodian::crm_custodian;
use crate::error::crm_result;
use crate::grants::session_in;
use crate::handle::borrow;
use crate::panic::boundary;

/// No GPC signal (no `Sec-GPC` field, or a value other than `1`).
pub const CRM_GPC_ABSENT: u32 = 0;
/// A GPC opt-out (`Sec-GPC: 1`, or `navigator.globalPrivacyControl` true).
pub const CRM_GPC_OPT_OUT: u32 = 1;

const fn code(s: GpcSignal) -> u32 {
    match s {
        GpcSignal::OptOut => CRM_GPC_OPT_OUT,
        GpcSignal::Absent => CRM_GPC_ABSENT,
    }
}

/// Reads the value `(value, value_len)` of a request's `Sec-GPC` field (found by the host,
/// name compared case-insensitively) and writes `CRM_GPC_OPT_OUT` or `CRM_GPC_ABSENT` to
/// `out_signal`. Exactly `1` after trimming spaces and tabs is an opt-out; anything else
/// (`0`, empty, `1, 1`) is not. A request with the field twice: pass the values joined with
/// `", "` (as HTTP combines them), which is no signal.
///
/// # Safety
/// `value` must be valid for `value_len` bytes (may be 0); `out_signal` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_gpc_signal(
    value: *const u8,
    value_len: usize,
    out_signal: *mut u32,
) -> crm_result {
    boundary(|| {
        let out = out_ptr(out_signal)?;
        let v = input(value, value_len, true)?;
        let signal = gpc::from_headers([(gpc::HEADER.as_bytes(), v)]);
        write_out(out, code(signal))
    })
}

/// Applies a GPC signal (`CRM_GPC_OPT_OUT` or `CRM_GPC_ABSENT`) in the session of the
/// credential `(credential, credential_len)`: every covered consent scope (derived from the
/// scope tables: cookies, consent-based analytics) is withdrawn or recorded as refused in the
/// ledger, with `Sec-GPC: 1 at <instant>` and the optional `reference` (a request id: 1–64
/// characters of `A-Z a-z 0-9 _ -`; pass NULL and 0 for none) as evidence. Writes the
/// number of scopes recorded to `out_recorded` (0 when nothing changed: the signal is
/// absent, or every scope was opted out of before). Idempotent.
///
/// # Safety
/// `credential` must be valid for `credential_len` bytes, `reference` for `reference_len`
/// bytes unless NULL; `out_recorded` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_gpc_apply(
    c: *const crm_custodian,
    credential: *const u8,
    credential_len: usize,
    signal: u32,
    reference: *const u8,
    reference_len: usize,
    out_recorded: *mut u32,
) -> crm_result {
    boundary(|| {
        let h = borrow(c)?;
        let out = out_ptr(out_recorded)?;
        let signal = match signal {
            CRM_GPC_OPT_OUT => GpcSignal::OptOut,
            CRM_GPC_ABSENT => GpcSignal::Absent,
            _ => return Err(crm_result::CRM_INVALID_ARGUMENT),
        };
        let reference = if reference.is_null() && reference_len == 0 {
            None
        } else {
            let r = input_str(reference, reference_len)?;
            if !gpc::valid_reference(r) {
                return Err(crm_result::CRM_INVALID_ARGUMENT);
            }
            Some(r)
        };
        let session = session_in(h, credential, credential_len)?;
        let outcome =
            h.rt.block_on(h.custodian.apply_gpc(&session, signal, reference))?;
        let n = outcome
            .withdrawn
            .len()
            .saturating_add(outcome.refused.len());
        write_out(out, u32::try_from(n).unwrap_or(u32::MAX))
    })
}
