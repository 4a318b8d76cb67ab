//! The [`Custodian`]: the facade a host application holds, and the only authority.
//!
//! It wires every guarantee together: typed data sealed per subject (8.1), grants issued
//! only by it and checked again at every use against its current state (consent in force,
//! restriction, erasure, sharing, lawful request, NDA, session), time from its own clock,
//! every read, refusal, lookup and rights action audited in a hash chain, consent changes
//! and their audit events committed together, crypto-shredding on erasure, and a retention
//! sweep (9.1). No method returns plaintext without a grant it issued.
//!
//! The custodian is a thin handle over shared state; each concern lives in its own file
//! (`builder`, `sync`, `gate`, `write`, `read`, `grants`, `consent`, `sharing`, `rights`,
//! `export`, `sweep`, `audit`), each an `impl Custodian` block.
//!
//! ```
//! # tokio_test_block(async {
//! use std::sync::Arc;
//! use crm_privacy::{Email, Notification};
//! use crm_privacy::crypto::Keyring;
//! use crm_privacy::custodian::Custodian;
//! use crm_privacy::store::{InMemoryChainStore, InMemoryKeyStore, InMemoryRecordStore};
//!
//! // The composition root (trusted): fresh random keys here; in production the KEK sits
//! // behind a KMS (`Custodian::builder_with_kms`, see docs/keys.md). Never a constant:
//! // `Keyring::new` refuses low-entropy secrets.
//! let keyring = Keyring::generate()?;
//! let custodian = Custodian::builder(keyring)
//!     .records(Arc::new(InMemoryRecordStore::new()))
//!     .chains(Arc::new(InMemoryChainStore::new()))
//!     .keys(Arc::new(InMemoryKeyStore::new()))
//!     .build()
//!     .await?;
//! let alice = custodian.register_subject().await?;
//! let record = custodian.store(alice, Email::parse("alice@example.com")?).await?;
//! let grant = custodian.grant::<Notification>(alice, "mailer").await?;
//! let domain = custodian.with(&grant, record, |e: &Email| e.domain().to_owned()).await?;
//! assert_eq!(domain, "example.com");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! # fn tokio_test_block<F: std::future::Future>(f: F) -> F::Output {
//! #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
//! # }
//! ```

mod audit;
mod builder;
mod consent;
mod dsr;
mod error;
mod export;
mod gate;
mod gpc;
mod grants;
mod keys;
mod notice;
mod read;
mod reindex;
mod rights;
mod sharing;
mod sweep;
mod sync;
mod write;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

pub use audit::AuditSegment;
pub use builder::{CustodianBuilder, RetentionRule};
pub use consent::MAX_EVIDENCE;
pub use dsr::DsrDesk;
pub use error::CustodianError;
pub use export::{ExportedConsent, ExportedHostConsent, ExportedRecord, Rendering, SubjectExport};
pub use grants::LookupGrant;
pub use keys::{KekEpoch, KekRotation};
pub use notice::{NoticeReport, NoticeRun, Notifier, NotifyError};
pub use reindex::IndexRotation;

use crate::chain::Anchor;
use crate::clock::Clock;
use crate::data::Category;
use crate::grant::{Epoch, KeyRing};
use crate::ids::{RecordId, SubjectId};
use crate::ledger::PolicyState;
use crate::staff::StaffDirectory;
use crate::store::{DynAuthenticator, DynChainStore, DynKeyStore, DynRecordStore};

/// Largest encoded value the custodian stores (the C ABI's limit too).
pub const MAX_VALUE_BYTES: usize = 64 * 1024;

#[derive(Debug)]
struct Inner {
    records: DynRecordStore,
    chains: DynChainStore,
    keys: DynKeyStore,
    keyring: keys::KeyHierarchy,
    tokens: KeyRing,
    clock: Arc<dyn Clock>,
    authenticator: Option<DynAuthenticator>,
    staff: Option<Arc<dyn StaffDirectory>>,
    /// Random per instance: a grant takes the gate's fast path only in the instance that
    /// issued it.
    instance: u64,
    state: PolicyState,
    epoch: Epoch,
    seen: Mutex<Anchor>,
    /// Catch up with the ledger before every decision (the default); off only for a store
    /// that guarantees a single process.
    catch_up: bool,
    /// Where chain heads are published after each ledger change, if anywhere.
    witness: Option<crate::store::DynWitness>,
    ttl: TimeDelta,
    request_max_age: TimeDelta,
    policy_version: u32,
    backup_window: TimeDelta,
    immutable: HashMap<Category, &'static str>,
    schedule: crate::retention::Schedule,
    receipts: builder::ReceiptConfig,
    /// Serialises policy-notice delivery runs within a process (one notice per subject).
    notice_runs: tokio::sync::Mutex<()>,
}

/// The facade a host application holds: cheap to clone, `Send + Sync`.
#[derive(Debug, Clone)]
pub struct Custodian {
    inner: Arc<Inner>,
}

/// What an erasure request did (clause 6.2) — a value the host can show the subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErasureReport {
    /// The subject.
    pub subject: SubjectId,
    /// When the request was carried out.
    pub erased_at: DateTime<Utc>,
    /// Records deleted from primary storage.
    pub records_deleted: u64,
    /// The subject's data key was destroyed in primary storage. A backup taken before the
    /// erasure still holds it, wrapped, until the date below.
    pub key_destroyed: bool,
    /// When the last backup taken before the erasure ages out (erasure + backup window).
    pub backups_age_out_by: DateTime<Utc>,
    /// The date after which no backup can decrypt the subject, enforced by the KEK
    /// schedule: the destruction date of the newest KEK version that can have wrapped the
    /// subject's key ([`Custodian::destroy_expired_keks`]). `None` for a custodian built
    /// from a host-supplied [`Keyring`](crate::crypto::Keyring): its KEKs have no epochs,
    /// and a backup stays decryptable while the host keeps the KEK.
    pub undecryptable_after: Option<DateTime<Utc>>,
    /// What is kept and why: the ledger and audit entries (ids only, no personal data),
    /// kept as evidence of lawful processing.
    pub kept: Vec<&'static str>,
}

/// One line of a retention sweep (clause 9.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SweepLine {
    /// The record.
    pub record: RecordId,
    /// Its kind.
    pub kind: String,
    /// Deleted by this sweep, or kept until `deadline` (none: kept while the account exists).
    pub deleted: bool,
    /// The deadline of its rules, if any (none: kept until a trigger such as account
    /// closure happens).
    pub deadline: Option<DateTime<Utc>>,
    /// The legal hold that suspended its deletion, if any.
    pub held_by: Option<String>,
}

/// Result of verifying both chains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ChainReport {
    /// Ledger entries verified.
    pub ledger_entries: u64,
    /// Audit entries verified.
    pub audit_entries: u64,
}

impl Custodian {
    /// The instant by the custodian's clock.
    #[must_use]
    pub fn now(&self) -> DateTime<Utc> {
        self.inner.clock.now()
    }

    /// How the custodian's stores (records, chains, keys) carry data, as each reports its
    /// configuration guarantees it; a store used for several parts is listed once per part.
    #[must_use]
    pub fn transports(&self) -> [crate::store::Transport; 3] {
        [
            self.inner.records.transport(),
            self.inner.chains.transport(),
            self.inner.keys.transport(),
        ]
    }

    /// The register of processing activities of this deployment: the policy table's
    /// register ([`policy::register`](crate::policy::register)) with the encryption in
    /// transit (clause 8.1) its stores report, not a fixed claim. Add host kinds with
    /// [`Register::with_host_kind`](crate::policy::Register::with_host_kind).
    #[must_use]
    pub fn register(&self) -> crate::policy::Register {
        crate::policy::register().with_transport(self.transports().map(|t| t.measure()))
    }
}
