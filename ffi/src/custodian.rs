//! The custodian over the C ABI: open (the composition root), subjects and the rights
//! actions that take no grant (restriction, erasure, sweep, chain verification).

use std::sync::Arc;

use crm_privacy::SubjectId;
use crm_privacy::TokenKey;
use crm_privacy::crypto::{Kek, Keyring};
use crm_privacy::custodian::Custodian;
use crm_privacy_sqlite::SqliteStore;

use crate::buffer::{id, input_str, key, out_ptr, output_id, write_out};
use crate::error::crm_result;
use crate::handle::{borrow, castable, free, into_handle};
use crate::host::{config_of, crm_custodian_config};
use crate::panic::{boundary, boundary_void};
use crate::runtime::Runtime;

/// What a `crm_custodian` handle holds.
pub(crate) struct Handle {
    pub(crate) rt: Runtime,
    pub(crate) custodian: Custodian,
}

/// A custodian on a SQLite file (opaque): the only authority that issues grants.
#[expect(non_camel_case_types, reason = "C naming")]
pub struct crm_custodian {
    _private: [u8; 0],
}
castable!(crm_custodian => Handle);

/// A subject id argument.
pub(crate) fn subject_in(ptr: *const u8) -> Result<SubjectId, crm_result> {
    Ok(SubjectId::from_bytes(id(ptr)?))
}

/// Opens a custodian on the SQLite file `path` (keys in `<path>.keys`) — the composition
/// root. `kek` must be exactly 32 bytes; `index_key` and `token_key` at least 32 (the token
/// key is the deployment's authority: tokens signed with another key are refused). All are
/// copied. `config` (may be NULL: defaults) supplies the authenticator, staff directory,
/// clock and grant lifetime; it is read now and may be freed afterwards.
///
/// # Safety
/// Every pointer must be valid for its length; `out` must be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_custodian_open(
    path: *const u8,
    path_len: usize,
    kek: *const u8,
    kek_len: usize,
    index_key: *const u8,
    index_key_len: usize,
    token_key: *const u8,
    token_key_len: usize,
    config: *const crm_custodian_config,
    out: *mut *mut crm_custodian,
) -> crm_result {
    boundary(|| {
        out_ptr(out)?;
        let path = input_str(path, path_len)?;
        let kek = key(kek, kek_len)?;
        let index = key(index_key, index_key_len)?;
        let token = key(token_key, token_key_len)?;
        let config = config_of(config)?;
        let kek = Kek::from_bytes(1, &kek)?;
        let keyring = Keyring::new(kek, &index)?;
        let token = TokenKey::from_secret(1, &token)?;
        let rt = Runtime::new()?;
        let store = Arc::new(SqliteStore::open(path).map_err(|_| crm_result::CRM_STORE_ERROR)?);
        let mut b = Custodian::builder(keyring).store(store).token_key(token);
        if let Some(a) = config.authenticator {
            b = b.authenticator(a);
        }
        if let Some(s) = config.staff {
            b = b.staff_directory(s);
        }
        if let Some(c) = config.clock {
            b = b.clock(c);
        }
        if let Some(t) = config.grant_ttl {
            b = b.grant_ttl(t);
        }
        let custodian = rt.block_on(b.build())?;
        write_out(out, into_handle::<crm_custodian>(Handle { rt, custodian }))
    })
}

/// Frees a custodian (closing its files). NULL or an already freed handle is a no-op. Must
/// not race with calls using the same handle.
#[unsafe(no_mangle)]
pub extern "C" fn crm_custodian_free(c: *mut crm_custodian) {
    boundary_void(|| free(c));
}

/// Registers a new subject; writes its 16-byte id into `out_subject` (`cap` >= 16).
///
/// # Safety
/// `out_subject` must be valid for `cap` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_subject_register(
    c: *const crm_custodian,
    out_subject: *mut u8,
    cap: usize,
) -> crm_result {
    boundary(|| {
        let h = borrow(c)?;
        let s = h.rt.block_on(h.custodian.register_subject())?;
        output_id(s.to_bytes(), out_subject, cap)
    })
}

/// Restricts processing for `subject` (clause 9.1): no new grants except for legal
/// obligations, and existing grants stop at once.
///
/// # Safety
/// `subject` must be valid for 16 bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_restrict(c: *const crm_custodian, subject: *const u8) -> crm_result {
    boundary(|| {
        let h = borrow(c)?;
        let s = subject_in(subject)?;
        Ok(h.rt.block_on(h.custodian.restrict(s))?)
    })
}

/// Lifts a restriction of `subject`.
///
/// # Safety
/// `subject` must be valid for 16 bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_lift_restriction(
    c: *const crm_custodian,
    subject: *const u8,
) -> crm_result {
    boundary(|| {
        let h = borrow(c)?;
        let s = subject_in(subject)?;
        Ok(h.rt.block_on(h.custodian.lift_restriction(s))?)
    })
}

/// Erases a subject (clause 6.2): key destroyed, records deleted. Writes how many records
/// were deleted to `out_deleted` (may be NULL).
///
/// # Safety
/// `subject` valid for 16 bytes; `out_deleted` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_erase(
    c: *const crm_custodian,
    subject: *const u8,
    out_deleted: *mut u64,
) -> crm_result {
    boundary(|| {
        let h = borrow(c)?;
        let s = subject_in(subject)?;
        let report = h.rt.block_on(h.custodian.erase(s))?;
        if !out_deleted.is_null() {
            write_out(out_deleted, report.records_deleted)?;
        }
        Ok(())
    })
}

/// Runs the retention sweep (clause 9.1); writes records checked and deleted.
///
/// # Safety
/// Out-params must be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_retention_sweep(
    c: *const crm_custodian,
    out_checked: *mut u64,
    out_deleted: *mut u64,
) -> crm_result {
    boundary(|| {
        let h = borrow(c)?;
        out_ptr(out_checked)?;
        out_ptr(out_deleted)?;
        let lines = h.rt.block_on(h.custodian.sweep())?;
        let deleted = lines.iter().filter(|l| l.deleted).count();
        write_out(out_checked, lines.len() as u64)?;
        write_out(out_deleted, deleted as u64)
    })
}

/// Verifies the ledger and the audit chain; writes their lengths.
///
/// # Safety
/// Out-params must be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_audit_verify(
    c: *const crm_custodian,
    out_ledger: *mut u64,
    out_audit: *mut u64,
) -> crm_result {
    boundary(|| {
        let h = borrow(c)?;
        out_ptr(out_ledger)?;
        out_ptr(out_audit)?;
        let r = h.rt.block_on(h.custodian.verify_chains())?;
        write_out(out_ledger, r.ledger_entries)?;
        write_out(out_audit, r.audit_entries)
    })
}
