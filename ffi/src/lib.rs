//! C ABI for `crm-privacy`, following rustls-ffi's discipline:
//!
//! - opaque handles made by `*_new` and released by `*_free` (`*_free(NULL)` is a no-op);
//!   handles are registered while live, so a freed or foreign handle is refused with
//!   `CRM_INVALID_HANDLE` instead of being dereferenced;
//! - every exported body runs inside a panic boundary (`CRM_PANIC`);
//! - every pointer is NULL-checked (`CRM_NULL_PARAMETER`); every buffer is followed by its
//!   length; out-params are written only on success (except the needed size on
//!   `CRM_BUFFER_TOO_SMALL`); inputs are copied, never kept;
//! - runtime purposes and categories are checked against the same policy table as the
//!   typed Rust API (`crm_privacy::policy::permits`).
//!
//! This is the only crate of the workspace with `unsafe`; every block says why it is sound.

mod custodian;
mod error;
mod ffi;

pub use custodian::*;
pub use error::crm_result;
pub use ffi::*;
