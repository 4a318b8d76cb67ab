//! Escape hatches that bypass the gate, behind the cargo feature `danger` and reached only
//! through [`Custodian::dangerous`](crate::custodian::Custodian::dangerous), so every use
//! is greppable as `.dangerous()` and absent from builds without the feature.

use crate::data::{DataKind, Personal};

/// What [`Custodian::dangerous`](crate::custodian::Custodian::dangerous) returns. For
/// migrations and tests only: no purpose, subject, consent or expiry check runs and nothing
/// is audited.
#[derive(Debug)]
pub struct DangerousCustodian<'a> {
    custodian: &'a crate::custodian::Custodian,
}

impl<'a> DangerousCustodian<'a> {
    pub(crate) const fn new(custodian: &'a crate::custodian::Custodian) -> Self {
        Self { custodian }
    }

    /// Reads an in-memory value without a grant.
    #[must_use]
    pub fn expose_without_grant<'v, T: DataKind>(&self, value: &'v Personal<T>) -> &'v T {
        &value.value
    }

    /// Checks a binary grant token at `now` without the custodian's clock, ledger catch-up,
    /// session or NDA lookups, and without auditing a refusal: the signature, layout,
    /// purpose, expiry and the policy state's revocation, erasure, restriction and consent
    /// checks, as [`open_grant_bytes`](crate::custodian::Custodian::open_grant_bytes) runs
    /// them. Returns the grant's id, never a grant: it measures the token work on its own
    /// (`benches/core.rs`), and a caller-supplied `now` must not authorize anything.
    ///
    /// # Errors
    /// The [`CustodianError::Token`] that [`open_grant_bytes`](crate::custodian::Custodian::open_grant_bytes) would return.
    pub fn check_token_bytes_at<P: crate::purpose::Purpose>(
        &self,
        token: &[u8],
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<crate::ids::GrantId, crate::custodian::CustodianError> {
        self.custodian.check_token_bytes_at::<P>(token, now)
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
