//! Opaque handles and the ownership helpers that hide `Box::into_raw`/`from_raw`.
//!
//! Each C handle type `H` (an opaque `{ _private: [u8; 0] }` struct) names exactly one Rust
//! type through [`Castable`]. Live handles are registered with their type, so a NULL, freed,
//! foreign or wrong-typed handle is refused (`CRM_NULL_PARAMETER` / `CRM_INVALID_HANDLE`)
//! and never dereferenced.

use std::any::TypeId;
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

use crate::error::crm_result;

/// A C handle type and the Rust value behind it.
pub(crate) trait Castable: 'static {
    /// The Rust value a handle of this type points to.
    type RustType;
}

/// Ties an opaque C handle type (declared literally, so cbindgen sees it) to the Rust type
/// it stands for.
macro_rules! castable {
    ($name:ident => $rust:ty) => {
        impl $crate::handle::Castable for $name {
            type RustType = $rust;
        }
    };
}
pub(crate) use castable;

fn live() -> MutexGuard<'static, BTreeMap<usize, TypeId>> {
    static LIVE: OnceLock<Mutex<BTreeMap<usize, TypeId>>> = OnceLock::new();
    LIVE.get_or_init(Default::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
}

/// Boxes `value`, registers the address under handle type `H` and returns the handle.
pub(crate) fn into_handle<H: Castable>(value: H::RustType) -> *mut H {
    let p = Box::into_raw(Box::new(value));
    live().insert(p as usize, TypeId::of::<H>());
    p.cast()
}

/// Borrows a live handle of type `H`, or refuses a NULL, freed, foreign or wrong-typed one.
pub(crate) fn borrow<'a, H: Castable>(h: *const H) -> Result<&'a H::RustType, crm_result> {
    if h.is_null() {
        return Err(crm_result::CRM_NULL_PARAMETER);
    }
    if live().get(&(h as usize)) != Some(&TypeId::of::<H>()) {
        return Err(crm_result::CRM_INVALID_HANDLE);
    }
    // SAFETY: `h` is registered under `H`, so it came from `Box::into_raw` of an
    // `H::RustType` in `into_handle::<H>` and has not been freed (`free` unregisters before
    // dropping). The caller must not free it while this call runs (documented on every
    // `_free`).
    Ok(unsafe { &*h.cast::<H::RustType>() })
}

/// Whether any handle of type `H` is live.
pub(crate) fn any_live<H: Castable>() -> bool {
    live().values().any(|t| *t == TypeId::of::<H>())
}

/// Unregisters and drops a handle; NULL, freed, foreign and wrong-typed handles are ignored.
pub(crate) fn free<H: Castable>(h: *mut H) {
    if h.is_null() {
        return;
    }
    {
        let mut live = live();
        if live.get(&(h as usize)) != Some(&TypeId::of::<H>()) {
            return;
        }
        live.remove(&(h as usize));
    }
    // SAFETY: the address was registered by `into_handle::<H>` (a `Box<H::RustType>` made by
    // `Box::into_raw`) and is now unregistered, so it is dropped exactly once.
    drop(unsafe { Box::from_raw(h.cast::<H::RustType>()) });
}
