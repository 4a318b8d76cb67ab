//! Personal data over the C ABI: store by text (the root crate's one codec), read, rectify
//! and export through grant tokens, the policy table, random ids.

use crm_privacy::custodian::CustodianError;
use crm_privacy::sharing::{Audience, SharingPolicy};
use crm_privacy::{Category, Grant, OwnerAccess, Purpose, PurposeId, RecordId, SubjectId, policy};
use zeroize::Zeroizing;

use crate::buffer::{id, input, input_str, output, output_id};
use crate::custodian::{Handle, crm_custodian, subject_in};
use crate::error::crm_result;
use crate::handle::borrow;
use crate::panic::{boundary, boundary_bool};
use crate::purpose::{purpose_in, with_any_purpose};

fn category_in(code: u8) -> Result<Category, crm_result> {
    Category::from_code(code).ok_or(crm_result::CRM_INVALID_ARGUMENT)
}

/// Opens the grant of purpose `P` in `token` and runs `f` on it, in one blocking call.
fn with_grant<P: Purpose, T, E>(
    h: &Handle,
    token: &str,
    f: impl AsyncFnOnce(&Grant<P>) -> Result<T, E>,
) -> Result<T, crm_result>
where
    E: From<CustodianError>,
    crm_result: From<E>,
{
    Ok(h.rt.block_on(async {
        let g = h.custodian.open_grant::<P>(token).await?;
        f(&g).await
    })?)
}

/// Stores a value of `category` (a `CRM_CATEGORY_*` code) for `subject` in its text form:
/// simple kinds take their text (an address, an E.164 number…), compound kinds a JSON
/// object (see `docs/ffi.md`). Kinds collected under consent need it in force
/// (`CRM_COLLECTION_WITHOUT_CONSENT`). Writes the 16-byte record id (`cap` >= 16).
///
/// # Safety
/// Buffers must be valid for their lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_field_store(
    c: *const crm_custodian,
    subject: *const u8,
    category: u8,
    value: *const u8,
    value_len: usize,
    out_record: *mut u8,
    cap: usize,
) -> crm_result {
    boundary(|| {
        let h = borrow(c)?;
        let s = subject_in(subject)?;
        let category = category_in(category)?;
        let text = Zeroizing::new(input_str(value, value_len)?.to_owned());
        let r = h.rt.block_on(h.custodian.store_text(s, category, &text))?;
        output_id(r.to_bytes(), out_record, cap)
    })
}

/// Reads record `record` (16 bytes) with the grant in `token` for `purpose` into `buf`
/// (UTF-8 text; JSON for compound kinds). The custodian runs its whole gate now: authority,
/// subject, kind and purpose, consent in force, restriction, erasure, revocation, sharing,
/// lawful request, NDA, session. Our copies are zeroized.
///
/// # Safety
/// Buffers must be valid for their lengths; `out_len` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_field_read(
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
        let token = input_str(token, token_len)?;
        let p = purpose_in(purpose)?;
        let record = RecordId::from_bytes(id(record)?);
        let text = with_any_purpose!(p, |P| with_grant::<P, _, _>(h, token, async |g| {
            h.custodian.read_as_text(g, record).await
        })?);
        output(text.as_bytes(), buf, cap, out_len)
    })
}

fn rectify(
    h: &Handle,
    token: &str,
    record: RecordId,
    c: Category,
    text: &str,
) -> Result<(), crm_result> {
    with_grant::<OwnerAccess, _, crm_result>(h, token, async |g| {
        // The root crate's one text codec, as for storing.
        Ok(h.custodian.rectify_text(g, record, c, text).await?)
    })
}

/// Rectifies record `record` (16 bytes) of `category` (clause 6.1) to `value` (its text
/// form, as for `crm_field_store`) with an owner-access `token` (the subject's own session).
/// Kinds kept immutable: `CRM_IMMUTABLE`.
///
/// # Safety
/// Buffers must be valid for their lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_field_rectify(
    c: *const crm_custodian,
    token: *const u8,
    token_len: usize,
    record: *const u8,
    category: u8,
    value: *const u8,
    value_len: usize,
) -> crm_result {
    boundary(|| {
        let h = borrow(c)?;
        let token = input_str(token, token_len)?;
        let record = RecordId::from_bytes(id(record)?);
        let category = category_in(category)?;
        let text = Zeroizing::new(input_str(value, value_len)?.to_owned());
        rectify(h, token, record, category, &text)
    })
}

/// Exports everything held about the subject of an owner-access `token` as JSON into `buf`.
///
/// # Safety
/// Buffers must be valid for their lengths; `out_len` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_export_json(
    c: *const crm_custodian,
    token: *const u8,
    token_len: usize,
    buf: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> crm_result {
    boundary(|| {
        let h = borrow(c)?;
        let token = input_str(token, token_len)?;
        let export =
            with_grant::<OwnerAccess, _, _>(h, token, async |g| h.custodian.export(g).await)?;
        let text = Zeroizing::new(export.to_json().map_err(|_| crm_result::CRM_INTERNAL)?);
        output(text.as_bytes(), buf, cap, out_len)
    })
}

/// Whether the policy table allows data of `category` to be read for `purpose`
/// (`CRM_CATEGORY_*`, `CRM_PURPOSE_*`). Unknown codes: false.
#[unsafe(no_mangle)]
pub extern "C" fn crm_policy_permits(category: u8, purpose: u8) -> bool {
    boundary_bool(
        || match (Category::from_code(category), PurposeId::from_code(purpose)) {
            (Some(c), Some(p)) => policy::permits(c, p),
            _ => false,
        },
    )
}

/// Writes a fresh random 16-byte id to `out` (`cap` >= 16): for host session, request and
/// staff ids. It is not a registered subject (see `crm_subject_register`).
///
/// # Safety
/// `out` must be valid for `cap` writable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_subject_new(out: *mut u8, cap: usize) -> crm_result {
    boundary(|| output_id(SubjectId::new_random().to_bytes(), out, cap))
}

/// Sets what colleagues (`TeamCollaboration` grants) and chat participants (`ChatSharing`
/// grants) may see of the subject of an owner-access `token` (clause 5): two arrays of
/// `CRM_CATEGORY_*` codes, each followed by its length (0 shares nothing; the pointer may
/// then be NULL). Replaces the earlier choice. Nothing is visible by default; a kind the
/// policy never shares with that audience: `CRM_DISCLOSURE_REFUSED`.
///
/// # Safety
/// `token` valid for `token_len` bytes; each array valid for its length.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_sharing_set(
    c: *const crm_custodian,
    token: *const u8,
    token_len: usize,
    colleagues: *const u8,
    colleagues_len: usize,
    external_chat: *const u8,
    external_chat_len: usize,
) -> crm_result {
    boundary(|| {
        let h = borrow(c)?;
        let token = input_str(token, token_len)?;
        let mut policy = SharingPolicy::new();
        for (audience, ptr, len) in [
            (Audience::Colleagues, colleagues, colleagues_len),
            (Audience::ExternalChat, external_chat, external_chat_len),
        ] {
            if len == 0 {
                continue;
            }
            for &code in input(ptr, len, false)? {
                policy.allow(audience, category_in(code)?)?;
            }
        }
        with_grant::<OwnerAccess, _, _>(h, token, async |g| {
            h.custodian.set_sharing(g, policy).await
        })
    })
}
