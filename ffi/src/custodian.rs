//! The custodian over the C ABI: open (the composition root), subjects and the rights
//! actions that take no grant (restriction, erasure, sweep, chain verification).

use std::mem::ManuallyDrop;
use std::sync::Arc;

use crm_privacy::SubjectId;
use crm_privacy::TokenKey;
use crm_privacy::crypto::{Kek, Keyring};
use crm_privacy::custodian::{Custodian, CustodianBuilder};
use crm_privacy_postgres::PostgresStore;
use crm_privacy_sqlite::SqliteStore;

use crate::buffer::{id, input_str, key, out_ptr, output_id, write_out};
use crate::error::crm_result;
use crate::handle::{any_live, borrow, castable, free, into_handle};
use crate::host::{config_of, crm_custodian_config};
use crate::panic::{boundary, boundary_void};
use crate::runtime::Runtime;

/// What a `crm_custodian` handle holds.
pub(crate) struct Handle {
    /// Dropped first, inside the runtime (a PostgreSQL pool closes its connections there).
    pub(crate) custodian: ManuallyDrop<Custodian>,
    pub(crate) rt: Runtime,
}

impl Drop for Handle {
    fn drop(&mut self) {
        let _in_runtime = self.rt.enter();
        // SAFETY: dropped exactly once, here; `self.custodian` is not used afterwards (the
        // runtime, dropped next, does not touch it).
        unsafe { ManuallyDrop::drop(&mut self.custodian) };
    }
}

/// A custodian on a SQLite file or a PostgreSQL database (opaque): the only authority that
/// issues grants.
#[expect(non_camel_case_types, reason = "C naming")]
pub struct crm_custodian {
    _private: [u8; 0],
}
castable!(crm_custodian => Handle);

/// A subject id argument.
pub(crate) fn subject_in(ptr: *const u8) -> Result<SubjectId, crm_result> {
    Ok(SubjectId::from_bytes(id(ptr)?))
}

/// The keys and configuration both `crm_custodian_open*` take, checked and copied.
struct Root {
    keyring: Keyring,
    token: TokenKey,
    config: crate::host::Config,
}

/// Reads the keys and configuration of an open call (before any store is touched).
fn root(
    kek: *const u8,
    kek_len: usize,
    index_key: *const u8,
    index_key_len: usize,
    token_key: *const u8,
    token_key_len: usize,
    config: *const crm_custodian_config,
) -> Result<Root, crm_result> {
    let kek = key(kek, kek_len)?;
    let index = key(index_key, index_key_len)?;
    let token = key(token_key, token_key_len)?;
    let config = config_of(config)?;
    let kek = Kek::from_bytes(1, &kek)?;
    let keyring = Keyring::new(kek, &index)?;
    let token = TokenKey::from_secret(1, &token)?;
    Ok(Root {
        keyring,
        token,
        config,
    })
}

/// Builds the custodian on `with_store`'s builder and writes the handle to `out`.
fn finish(
    rt: Runtime,
    root: Root,
    with_store: impl FnOnce(CustodianBuilder) -> CustodianBuilder,
    out: *mut *mut crm_custodian,
) -> Result<(), crm_result> {
    let Root {
        keyring,
        token,
        config,
    } = root;
    let mut b = with_store(Custodian::builder(keyring)).token_key(token);
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
    let custodian = ManuallyDrop::new(rt.block_on(b.build())?);
    write_out(out, into_handle::<crm_custodian>(Handle { custodian, rt }))
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
        let root = root(
            kek,
            kek_len,
            index_key,
            index_key_len,
            token_key,
            token_key_len,
            config,
        )?;
        let rt = Runtime::new()?;
        let store = Arc::new(SqliteStore::open(path).map_err(|_| crm_result::CRM_STORE_ERROR)?);
        finish(rt, root, |b| b.store(store), out)
    })
}

/// The one call that connects to PostgreSQL (kept alone so connection options such as TLS
/// change in one place). Runs inside the handle's runtime.
async fn connect_postgres(
    url: &str,
    schema: Option<&str>,
    max_connections: u32,
) -> Result<PostgresStore, crm_result> {
    // Never the backend's message: it may echo the connection string (a password).
    PostgresStore::connect(url, schema, max_connections)
        .await
        .map_err(|_| crm_result::CRM_STORE_ERROR)
}

/// Opens a custodian on a PostgreSQL database — the composition root for several app
/// servers sharing one database (each process opens its own handle; they form one
/// deployment when they share the token key). `url` is a libpq-style connection string
/// (`postgres://user@host:5432/db?sslmode=…`, UTF-8). `schema` (may be NULL with length 0:
/// the connection's default search path) names the schema that holds the tables, created
/// if missing: `[a-z0-9_]` only, else `CRM_STORE_ERROR`. `max_connections` (1..=64) bounds
/// the pool. Keys and `config` as for `crm_custodian_open`. A server that cannot be reached
/// or refuses the login: `CRM_STORE_ERROR` (the message never contains the URL).
///
/// # Safety
/// Every pointer must be valid for its length; `out` must be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_custodian_open_postgres(
    url: *const u8,
    url_len: usize,
    schema: *const u8,
    schema_len: usize,
    max_connections: u32,
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
        let url = zeroize::Zeroizing::new(input_str(url, url_len)?.to_owned());
        let schema = if schema.is_null() && schema_len == 0 {
            None
        } else {
            Some(input_str(schema, schema_len)?)
        };
        if !(1..=64).contains(&max_connections) {
            return Err(crm_result::CRM_INVALID_ARGUMENT);
        }
        let root = root(
            kek,
            kek_len,
            index_key,
            index_key_len,
            token_key,
            token_key_len,
            config,
        )?;
        let rt = Runtime::new()?;
        let store = Arc::new(rt.block_on(connect_postgres(&url, schema, max_connections))?);
        finish(rt, root, |b| b.store(store), out)
    })
}

/// Frees a custodian (closing its files). NULL or an already freed handle is a no-op. Must
/// not race with calls using the same handle. Freeing the last open custodian also frees the
/// phone numbering-plan metadata the first phone number loaded (the next one loads it again).
/// Other handles (grants, sessions) stay valid after their custodian is freed.
#[unsafe(no_mangle)]
pub extern "C" fn crm_custodian_free(c: *mut crm_custodian) {
    boundary_void(|| {
        free(c);
        // The last custodian closed: the phone metadata a parse loaded is freed too, so a
        // program that frees what it opened ends with nothing of ours allocated (issue 17;
        // `Phone::unload_metadata`). A later open and parse loads it again.
        if !any_live::<crm_custodian>() {
            crm_privacy::Phone::unload_metadata();
        }
    });
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
/// obligations, and existing grants stop at once. An id with no data yet is accepted (the
/// restriction holds once it is registered); the nil id is `CRM_NOT_FOUND`.
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
/// were deleted to `out_deleted` (may be NULL). Erasing again is `CRM_OK`; an id never
/// registered (or the nil id) is `CRM_NOT_FOUND` and nothing is recorded.
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
