//! Staff and contractors (clause 8.1): access only with a non-disclosure agreement on file.

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;

use crate::grant::NdaAttestation;
use crate::ids::StaffId;
use crate::store::StoreError;

/// Where the host keeps its staff members' NDA attestations.
#[async_trait]
pub trait StaffDirectory: Debug + Send + Sync + 'static {
    /// The NDA on file for `staff`, if any.
    async fn nda(&self, staff: StaffId) -> Result<Option<NdaAttestation>, StoreError>;
}

/// An in-memory staff directory.
#[derive(Debug, Default)]
pub struct InMemoryStaffDirectory {
    ndas: Mutex<HashMap<StaffId, NdaAttestation>>,
}

impl InMemoryStaffDirectory {
    /// Empty.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
    /// Files an NDA.
    pub fn file(&self, nda: NdaAttestation) {
        self.ndas
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(nda.staff(), nda);
    }
    /// Removes a staff member's NDA (they leave, or it is revoked).
    pub fn remove(&self, staff: StaffId) {
        self.ndas
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&staff);
    }
}

#[async_trait]
impl StaffDirectory for InMemoryStaffDirectory {
    async fn nda(&self, staff: StaffId) -> Result<Option<NdaAttestation>, StoreError> {
        Ok(self
            .ndas
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&staff)
            .cloned())
    }
}
