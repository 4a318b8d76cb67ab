//! C ABI for `crm-privacy`, following rustls-ffi's discipline:
//!
//! - opaque handles made by `*_new`/`*_open` and released by `*_free` (`*_free(NULL)` is a
//!   no-op); live handles are registered with their type, so a freed, foreign or
//!   wrong-typed handle is refused with `CRM_INVALID_HANDLE` instead of being dereferenced;
//! - every exported body runs inside a panic boundary (`CRM_PANIC`);
//! - every pointer is NULL-checked (`CRM_NULL_PARAMETER`); every buffer is followed by its
//!   length; out-params are written only on success (except the needed size on
//!   `CRM_BUFFER_TOO_SMALL`); inputs are copied, never kept;
//! - one authority: grants are issued only by the custodian, sessions come only from the
//!   authenticator the custodian was opened with, NDAs only from its staff directory, time
//!   only from its clock (see `docs/ffi.md`, "Trust boundary").
//!
//! Layout: plumbing (`handle`, `panic`, `buffer`, `runtime`, `purpose`) and *all* error
//! mapping (`error`) are private and central; the API files (`host`, `custodian`,
//! `grants`, `consent`, `data`) only convert arguments and delegate to the custodian.
//! `codes` holds the named constants of the header.
//!
//! This is the only crate of the workspace with `unsafe`; every block says why it is sound.

mod buffer;
mod codes;
mod consent;
mod custodian;
mod data;
mod error;
mod gpc;
mod grants;
mod handle;
mod host;
mod panic;
mod purpose;
mod runtime;
mod token_bytes;

pub use buffer::{CRM_ID_LEN, CRM_MAX_INPUT, CRM_SUBJECT_ID_LEN};
pub use codes::*;
pub use consent::*;
pub use custodian::{
    crm_audit_verify, crm_custodian, crm_custodian_free, crm_custodian_open,
    crm_custodian_open_postgres, crm_erase, crm_lift_restriction, crm_restrict,
    crm_retention_sweep, crm_subject_register,
};
pub use data::*;
pub use error::{crm_result, crm_result_message};
pub use gpc::*;
pub use grants::{
    crm_custodian_grant, crm_find_by_email, crm_find_by_phone, crm_grant_conference,
    crm_grant_for_session, crm_grant_lawful, crm_grant_lookup, crm_grant_owner, crm_grant_revoke,
    crm_grant_staff, crm_lawful_request_record, crm_lookup_grant, crm_lookup_grant_free,
};
pub use host::*;
