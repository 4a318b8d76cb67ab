//! The async custodian behind blocking C calls: each custodian handle owns a tokio runtime
//! whose one worker thread drives the I/O and timer drivers (PostgreSQL needs them); the
//! caller's thread only polls the call's future inside `block_on`.
//!
//! Why a multi-thread runtime with one worker and not a current-thread runtime: building
//! or entering a current-thread runtime records `std::thread::current()` of the *caller's*
//! thread, which makes std allocate that thread's handle in a thread-local. A C program's
//! main thread never runs Rust's thread-local destructors, so that handle (48 bytes, held
//! only through an interior pointer) was reported by valgrind as "possibly lost" at exit
//! (issue 17). Here every tokio thread is spawned and owned by the runtime, and
//! [`Runtime::drop`] shuts it down and joins them, so nothing of ours outlives
//! `crm_custodian_free`.

use std::future::Future;
use std::mem::ManuallyDrop;
use std::time::Duration;

use crate::error::crm_result;

/// How long `crm_custodian_free` waits for the runtime's threads to stop.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);

/// A tokio runtime with one worker thread, shut down and joined on drop.
pub(crate) struct Runtime(ManuallyDrop<tokio::runtime::Runtime>);

impl Runtime {
    pub(crate) fn new() -> Result<Self, crm_result> {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .max_blocking_threads(4)
            .thread_name("crm-privacy")
            .enable_all()
            .build()
            .map(|rt| Self(ManuallyDrop::new(rt)))
            .map_err(|_| crm_result::CRM_INTERNAL)
    }

    /// Enters the runtime's context (for drops that may spawn, such as a connection pool's).
    pub(crate) fn enter(&self) -> tokio::runtime::EnterGuard<'_> {
        self.0.enter()
    }

    /// Runs `f` to completion, blocking the calling thread.
    pub(crate) fn block_on<F: Future>(&self, f: F) -> F::Output {
        self.0.block_on(f)
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        // SAFETY: the runtime is taken exactly once, here, and `self` is never used again.
        let rt = unsafe { ManuallyDrop::take(&mut self.0) };
        // Joins the worker and blocking threads (their thread-locals are freed as they
        // exit) instead of leaving them to the process exit.
        rt.shutdown_timeout(SHUTDOWN_TIMEOUT);
    }
}
