//! Revocation of individual grants.

use rustc_hash::FxHashSet as HashSet;
use std::fmt::Debug;
use std::sync::{PoisonError, RwLock};

use crate::ids::GrantId;

/// A list of revoked grant ids, consulted whenever a grant is used.
pub trait RevocationList: Debug + Send + Sync + 'static {
    /// Adds `grant` to the list.
    fn revoke(&self, grant: GrantId);
    /// Whether `grant` was revoked.
    fn is_revoked(&self, grant: GrantId) -> bool;
    /// Whether other processes may revoke grants in this list. When `true`, the issuer
    /// cannot rely on its in-process change counter and consults the list on every use.
    fn is_shared(&self) -> bool {
        false
    }
}

/// An in-process revocation list.
#[derive(Debug, Default)]
pub struct InMemoryRevocations {
    revoked: RwLock<HashSet<GrantId>>,
}

impl InMemoryRevocations {
    /// An empty list.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
}

impl RevocationList for InMemoryRevocations {
    fn revoke(&self, grant: GrantId) {
        self.revoked
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(grant);
    }
    fn is_revoked(&self, grant: GrantId) -> bool {
        self.revoked
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(&grant)
    }
}
