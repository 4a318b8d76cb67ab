//! Escape hatches that bypass the gate, behind the cargo feature `danger` and reached only
//! through [`Custodian::dangerous`](crate::custodian::Custodian::dangerous), so every use
//! is greppable as `.dangerous()` and absent from builds without the feature.

use crate::data::{DataKind, Personal};

/// What [`Custodian::dangerous`](crate::custodian::Custodian::dangerous) returns. For
/// migrations and tests only: no purpose, subject, consent or expiry check runs and nothing
/// is audited.
#[derive(Debug)]
pub struct DangerousCustodian<'a> {
    _custodian: &'a crate::custodian::Custodian,
}

impl<'a> DangerousCustodian<'a> {
    pub(crate) const fn new(custodian: &'a crate::custodian::Custodian) -> Self {
        Self {
            _custodian: custodian,
        }
    }

    /// Reads an in-memory value without a grant.
    #[must_use]
    pub fn expose_without_grant<'v, T: DataKind>(&self, value: &'v Personal<T>) -> &'v T {
        &value.value
    }

    /// Takes the value out of its [`Personal`] wrapper without a grant.
    #[must_use]
    pub fn into_inner_without_grant<T: DataKind>(&self, value: Personal<T>) -> T {
        value.value
    }
}

impl crate::custodian::Custodian {
    /// The escape hatches of [`danger`](crate::danger) (feature `danger`).
    #[must_use]
    pub const fn dangerous(&self) -> DangerousCustodian<'_> {
        DangerousCustodian::new(self)
    }
}
