//! The async custodian behind blocking C calls: each custodian handle owns a
//! current-thread runtime.

use std::future::Future;

use crate::error::crm_result;

/// A current-thread tokio runtime.
pub(crate) struct Runtime(tokio::runtime::Runtime);

impl Runtime {
    pub(crate) fn new() -> Result<Self, crm_result> {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .map(Self)
            .map_err(|_| crm_result::CRM_INTERNAL)
    }

    /// Runs `f` to completion on this thread.
    pub(crate) fn block_on<F: Future>(&self, f: F) -> F::Output {
        self.0.block_on(f)
    }
}
