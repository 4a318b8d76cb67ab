//! The panic boundary: no unwind ever crosses into C.

use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::error::crm_result;

/// Runs `f`, turning `Ok` into `CRM_OK`, an error into its code and a panic into
/// `CRM_PANIC`. Every exported function that returns a result runs its body in here.
pub(crate) fn boundary(f: impl FnOnce() -> Result<(), crm_result>) -> crm_result {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => crm_result::CRM_OK,
        Ok(Err(e)) => e,
        Err(_) => crm_result::CRM_PANIC,
    }
}

/// For exported functions without a result (`*_free`): a panic is swallowed.
pub(crate) fn boundary_void(f: impl FnOnce()) {
    let _ = catch_unwind(AssertUnwindSafe(f));
}

/// For exported predicates: a panic answers `false`.
pub(crate) fn boundary_bool(f: impl FnOnce() -> bool) -> bool {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(false)
}
