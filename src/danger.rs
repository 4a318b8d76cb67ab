//! Escape hatches that bypass the policy. Every use should be rare, reviewed and greppable:
//! `grep -rn 'danger::' src/` lists them.

use crate::data::DataKind;
use crate::grant::Personal;

/// Reads a value without a grant. For migrations and tests only: no purpose, subject,
/// consent or expiry check runs and nothing is audited.
#[must_use]
pub fn expose_without_grant<T: DataKind>(value: &Personal<T>) -> &T {
    value.value_unchecked()
}

/// Takes the value out of its [`Personal`] wrapper without a grant (same caveats).
#[must_use]
pub fn into_inner_without_grant<T: DataKind>(value: Personal<T>) -> T {
    value.into_value_unchecked()
}
