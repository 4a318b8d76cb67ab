//! [`CustodianBuilder`]: the composition root's one call site.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::TimeDelta;
use serde::Serialize;

use super::{Custodian, CustodianError, Inner};
use crate::chain::{self, Anchor};
use crate::clock::{Clock, SystemClock};
use crate::crypto::{DynKeks, IndexKey, Keyring};
use crate::data::Category;
use crate::grant::{Epoch, KeyRing, TokenKey};
use crate::ledger::PolicyState;
use crate::staff::StaffDirectory;
use crate::store::{
    ChainName, ChainStore, DynAuthenticator, DynChainStore, DynKeyStore, DynRecordStore,
    DynWitness, KeyStore, RecordStore,
};

/// Configures a [`Custodian`]. The store is an explicit choice: pass a persistent store
/// (for example `crm_privacy_sqlite::SqliteStore`) or the in-memory ones.
#[derive(Debug)]
#[must_use]
pub struct CustodianBuilder {
    source: KeySource,
    previous_index: Option<IndexKey>,
    kek_epoch: Option<TimeDelta>,
    records: Option<DynRecordStore>,
    chains: Option<DynChainStore>,
    keys: Option<DynKeyStore>,
    token_key: Option<TokenKey>,
    accepted: Vec<TokenKey>,
    clock: Arc<dyn Clock>,
    authenticator: Option<DynAuthenticator>,
    staff: Option<Arc<dyn StaffDirectory>>,
    witness: Option<DynWitness>,
    single_process: bool,
    ttl: TimeDelta,
    request_max_age: TimeDelta,
    policy_version: u32,
    backup_window: TimeDelta,
    immutable: HashMap<Category, &'static str>,
    retention: HashMap<crate::data::KindRef, RetentionRule>,
    schedule: Option<crate::retention::Schedule>,
    receipts: ReceiptConfig,
}

/// Where the custodian's keys come from.
#[derive(Debug)]
enum KeySource {
    /// KEK bytes the host supplied: no epochs.
    Keyring(Box<Keyring>),
    /// A KMS boundary and the blind-index key: KEK epochs on.
    Kms(DynKeks, Box<IndexKey>),
}

/// Who issues consent receipts, where the policy is published, and under which jurisdiction.
#[derive(Debug, Clone)]
pub(super) struct ReceiptConfig {
    pub(super) controller: crate::consent::Controller,
    pub(super) policy_url: String,
    pub(super) jurisdiction: String,
}

/// A retention rule (clause 9.1): delete a record of this kind once `months` have passed
/// since it was last updated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RetentionRule {
    /// Months after the last update.
    pub months: u32,
}

const MAX_TTL: TimeDelta = TimeDelta::days(1);
const MAX_REQUEST_AGE: TimeDelta = TimeDelta::hours(1);
const MAX_BACKUP_WINDOW: TimeDelta = TimeDelta::days(3653);

impl Custodian {
    /// Starts configuring a custodian that seals data with `keyring` (KEK bytes the host
    /// supplies). Its KEK has no epochs: a backup taken before an erasure stays decryptable
    /// while the host keeps the KEK, and [`ErasureReport::undecryptable_after`] is `None`.
    /// Use [`builder_with_kms`](Self::builder_with_kms) for KEK epochs.
    ///
    /// [`ErasureReport::undecryptable_after`]: super::ErasureReport::undecryptable_after
    pub fn builder(keyring: Keyring) -> CustodianBuilder {
        Self::builder_from(KeySource::Keyring(Box::new(keyring)))
    }

    /// Starts configuring a custodian whose data keys are wrapped through `keks` (a KMS,
    /// [`FileKeks`](crate::crypto::FileKeks) or [`LocalKeks`](crate::crypto::LocalKeks)),
    /// with blind indexes and ledger tags under `index`. KEK epochs are on: see
    /// [`CustodianBuilder::kek_epoch`].
    pub fn builder_with_kms(keks: DynKeks, index: IndexKey) -> CustodianBuilder {
        Self::builder_from(KeySource::Kms(keks, Box::new(index)))
    }

    fn builder_from(source: KeySource) -> CustodianBuilder {
        CustodianBuilder {
            source,
            previous_index: None,
            kek_epoch: None,
            records: None,
            chains: None,
            keys: None,
            token_key: None,
            accepted: Vec::new(),
            clock: Arc::new(SystemClock),
            authenticator: None,
            staff: None,
            witness: None,
            single_process: false,
            ttl: TimeDelta::minutes(5),
            request_max_age: TimeDelta::minutes(2),
            policy_version: 1,
            backup_window: TimeDelta::days(35),
            immutable: HashMap::new(),
            retention: HashMap::new(),
            schedule: None,
            receipts: ReceiptConfig {
                controller: crate::consent::Controller {
                    pii_controller: crate::policy::SERVICE.to_owned(),
                    contact: "data protection officer".to_owned(),
                    address: String::new(),
                    email: String::new(),
                    phone: String::new(),
                },
                policy_url: String::new(),
                jurisdiction: "EU".to_owned(),
            },
        }
    }
}

impl CustodianBuilder {
    /// Stores everything in `store` (for example `crm_privacy_sqlite::SqliteStore`).
    pub fn store<S: RecordStore + ChainStore + KeyStore>(mut self, store: Arc<S>) -> Self {
        self.records = Some(store.clone());
        self.chains = Some(store.clone());
        self.keys = Some(store);
        self
    }
    /// Separate record store.
    pub fn records(mut self, s: DynRecordStore) -> Self {
        self.records = Some(s);
        self
    }
    /// Separate chain store.
    pub fn chains(mut self, s: DynChainStore) -> Self {
        self.chains = Some(s);
        self
    }
    /// Separate key store.
    pub fn keys(mut self, s: DynKeyStore) -> Self {
        self.keys = Some(s);
        self
    }
    /// The key grant tokens are signed with (share it between the processes of one
    /// deployment). Its authority is the deployment's: grants and tokens of other keys are
    /// refused. Without one, a random key makes this custodian its own authority.
    pub fn token_key(mut self, key: TokenKey) -> Self {
        self.token_key = Some(key);
        self
    }
    /// The previous blind-index key, during a rotation of the blind-index key (see
    /// `docs/keys.md`): the custodian's index key (from the keyring or
    /// [`Custodian::builder_with_kms`]) is the new one. The first build with both records
    /// the new key's check value as the next version (the only way a new index secret is
    /// accepted); lookups then query both versions' indexes, new records are indexed under
    /// the new key, and [`Custodian::finish_index_rotation`] re-indexes the rest. Once it
    /// reports the rotation finished, build without this call.
    pub fn previous_index_key(mut self, key: IndexKey) -> Self {
        self.previous_index = Some(key);
        self
    }
    /// An older token key still accepted (rotation).
    pub fn accept_token_key(mut self, key: TokenKey) -> Self {
        self.accepted.push(key);
        self
    }
    /// The clock every decision and audit entry uses (default: the system clock).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
    /// The host's authenticator: the only source of [`UserSession`](crate::UserSession)s.
    pub fn authenticator(mut self, a: DynAuthenticator) -> Self {
        self.authenticator = Some(a);
        self
    }
    /// The host's staff directory: staff grants are issued and used only while it holds an
    /// NDA in force for the member (clause 8.1).
    pub fn staff_directory(mut self, d: Arc<dyn StaffDirectory>) -> Self {
        self.staff = Some(d);
        self
    }
    /// A place outside the database where the chain heads are published after every
    /// ledger change and checked at build: a store restored from an older copy is refused
    /// with [`StoreError::RolledBack`](crate::store::StoreError::RolledBack).
    pub fn witness(mut self, w: DynWitness) -> Self {
        self.witness = Some(w);
        self
    }
    /// Opts out of catching up with the ledger before each decision. Refused at build
    /// unless the chain store guarantees a single process
    /// ([`ChainStore::is_exclusive`]: the in-memory stores, or
    /// `SqliteStore::open_exclusive`). The default — several processes on one store — is
    /// safe without any flag.
    pub fn single_process(mut self) -> Self {
        self.single_process = true;
        self
    }
    /// Grant lifetime (default 5 minutes, at most a day).
    pub fn grant_ttl(mut self, ttl: TimeDelta) -> Self {
        self.ttl = ttl;
        self
    }
    /// How old a [`UserInitiated`](crate::UserInitiated) proof may be (default 2 minutes,
    /// at most an hour).
    pub fn user_request_max_age(mut self, age: TimeDelta) -> Self {
        self.request_max_age = age;
        self
    }
    /// The policy version consents are given under (clause 10).
    pub fn policy_version(mut self, v: u32) -> Self {
        self.policy_version = v;
        self
    }
    /// How long backups are kept (reported in erasure reports; default 35 days, at most
    /// ten years).
    pub fn backup_window(mut self, w: TimeDelta) -> Self {
        self.backup_window = w;
        self
    }
    /// Length of a KEK epoch (default: the backup window): the primary KEK version is
    /// rotated once it is this old, and destroyed a backup window after its epoch ends.
    /// Must be positive and no longer than the backup window, and needs a custodian built
    /// with [`Custodian::builder_with_kms`] (refused at build otherwise).
    pub fn kek_epoch(mut self, epoch: TimeDelta) -> Self {
        self.kek_epoch = Some(epoch);
        self
    }
    /// Marks a kind immutable for `"commercial"` or `"legal"` reasons (clause 6.1).
    pub fn immutable(mut self, kind: Category, reason: &'static str) -> Self {
        self.immutable.insert(kind, reason);
        self
    }
    /// The controller, policy URL and jurisdiction named in consent receipts.
    pub fn receipts(
        mut self,
        controller: crate::consent::Controller,
        policy_url: &str,
        jurisdiction: &str,
    ) -> Self {
        self.receipts = ReceiptConfig {
            controller,
            policy_url: policy_url.to_owned(),
            jurisdiction: jurisdiction.to_owned(),
        };
        self
    }
    /// The retention schedule the sweep applies (clause 9.1). Without one, the schedule is
    /// derived from the policy table, with [`retention`](Self::retention) overrides.
    pub fn schedule(mut self, schedule: crate::retention::Schedule) -> Self {
        self.schedule = Some(schedule);
        self
    }
    /// Overrides the retention of a kind, built-in or host (`KindRef::Host(K::NAME)`, which
    /// replaces the rule its `host_policy!` declares).
    pub fn retention(mut self, kind: impl Into<crate::data::KindRef>, rule: RetentionRule) -> Self {
        self.retention.insert(kind.into(), rule);
        self
    }

    /// Builds the custodian: checks the configuration, verifies the audit chain from its
    /// last checkpoint (taking a new one at its head) and the whole ledger, and replays the
    /// ledger. Its cost does not grow with the audit log's history; full verification is
    /// [`Custodian::verify_chains`]. It then finishes what a killed process left half-done:
    /// erasures, withdrawals, and a KEK rotation (with epochs, while an older KEK version is
    /// alive it reads every wrapped key once and re-wraps those not under the primary).
    ///
    /// # Errors
    /// [`CustodianError::NoStore`] without a store, [`CustodianError::Config`] for a value
    /// out of range, a broken chain, an undecodable event, a store failure or a bad key.
    pub async fn build(self) -> Result<Custodian, CustodianError> {
        let (Some(records), Some(chains), Some(keys)) = (self.records, self.chains, self.keys)
        else {
            return Err(CustodianError::NoStore);
        };
        // The host table (host kinds and consent scopes) never shadows a built-in name.
        crate::policy::check_host_table().map_err(|_| CustodianError::Config("host policy"))?;
        if self.ttl <= TimeDelta::zero() || self.ttl > MAX_TTL {
            return Err(CustodianError::Config("grant lifetime"));
        }
        if self.request_max_age <= TimeDelta::zero() || self.request_max_age > MAX_REQUEST_AGE {
            return Err(CustodianError::Config("user request age"));
        }
        if self.backup_window < TimeDelta::zero() || self.backup_window > MAX_BACKUP_WINDOW {
            return Err(CustodianError::Config("backup window"));
        }
        let signing = match self.token_key {
            Some(k) => k,
            None => TokenKey::generate(0).map_err(|_| CustodianError::Config("token key"))?,
        };
        let tokens = KeyRing::new(signing, self.accepted)
            .map_err(|_| CustodianError::Config("token keys"))?;
        if self.single_process && !chains.is_exclusive() {
            return Err(CustodianError::Config(
                "single-process mode on a shared store",
            ));
        }
        // One secret, one role (docs/keys.md): a KEK, blind-index key or token key handed in
        // under two roles is refused. Keys behind a KMS are out of sight (it never hands
        // them out) and not compared.
        let mut roles = tokens.role_fingerprints();
        match &self.source {
            KeySource::Keyring(kr) => roles.extend(kr.role_fingerprints()),
            KeySource::Kms(_, index) => roles.push(index.role()),
        }
        roles.extend(self.previous_index.as_ref().map(IndexKey::role));
        if crate::entropy::any_reused(&roles) {
            return Err(crate::crypto::CryptoError::KeyReused.into());
        }
        let previous_index = self.previous_index;
        let mut keyring = match self.source {
            KeySource::Keyring(kr) => {
                if self.kek_epoch.is_some() {
                    return Err(CustodianError::Config(
                        "kek epochs need a key-encryption-key service",
                    ));
                }
                let (keks, index, previous) = kr.into_parts(self.clock.now())?;
                if previous.is_some() && previous_index.is_some() {
                    return Err(CustodianError::Config("two previous blind-index keys"));
                }
                super::keys::KeyHierarchy::new(
                    Arc::new(keks),
                    index,
                    previous.or(previous_index),
                    None,
                )
            }
            KeySource::Kms(keks, index) => {
                let epoch = self.kek_epoch.unwrap_or(self.backup_window);
                if epoch <= TimeDelta::zero() || epoch > self.backup_window {
                    return Err(CustodianError::Config("kek epoch"));
                }
                super::keys::KeyHierarchy::new(keks, *index, previous_index, Some(epoch))
            }
        };
        // Which versions the blind-index keys are: a new index secret is accepted only as
        // the successor of the newest recorded one (the rotation path), never alone.
        let recorded = keys.check_values().await?.unwrap_or_default();
        let versions = keyring.resolve_index_versions(&recorded)?;
        let unfinished_below = match versions.previous {
            // Starting a rotation: the one before it must be finished.
            Some(previous) if versions.starts_rotation => Some(previous),
            Some(_) => None,
            // Without the previous key: every record must be under the current version.
            None => Some(versions.current),
        };
        if let Some(below) = unfinished_below.filter(|v| *v > 1) {
            let remaining = records.count_indexed_below(below).await?;
            if remaining > 0 {
                return Err(CustodianError::IndexRotationUnfinished { remaining });
            }
        }
        // A wrong KEK or blind-index secret is refused here, not at the first read: the
        // store keeps their check values from the first build (and a racing rotation to
        // another secret under the same version is refused here too).
        let checks = keyring.check_values().await?;
        let stored = keys.set_check_values_if_absent(&checks).await?;
        checks.verify_against(&stored)?;
        // Neither part of the store is behind what the other (or the witness) saw.
        chains.cross_check().await?;
        if let Some(w) = &self.witness {
            if let Some(seen) = w.latest().await? {
                crate::store::check_chains_reach(&*chains, &seen).await?;
            }
        }
        // The audit chain's anchor, read before its entries (verified below, from the last
        // checkpoint): writers in other processes may append meanwhile; truncation is still
        // detected.
        let audit_anchor = chains.anchor(ChainName::Audit).await?;
        let ledger_anchor = chains.anchor(ChainName::Ledger).await?;
        let schedule = match self.schedule {
            Some(s) => s,
            None => crate::retention::default_schedule_with(
                |c| {
                    self.retention
                        .get(&c.into())
                        .map(|r| r.months)
                        .or_else(|| crate::policy::retention_months(c))
                },
                |host| {
                    self.retention
                        .iter()
                        .find(|(k, _)| matches!(k, crate::data::KindRef::Host(n) if *n == host))
                        .map(|(_, r)| r.months)
                },
            )?,
        };
        let mut instance = [0_u8; 8];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut instance)
            .map_err(|_| CustodianError::Config("random source"))?;
        let c = Custodian {
            inner: Arc::new(Inner {
                records,
                chains,
                keys,
                keyring,
                tokens,
                clock: self.clock,
                authenticator: self.authenticator,
                staff: self.staff,
                instance: u64::from_le_bytes(instance),
                state: PolicyState::default(),
                epoch: Epoch::default(),
                seen: Mutex::new(Anchor::default()),
                catch_up: !self.single_process,
                witness: self.witness,
                ttl: self.ttl,
                request_max_age: self.request_max_age,
                policy_version: self.policy_version,
                backup_window: self.backup_window,
                immutable: self.immutable,
                schedule,
                receipts: self.receipts,
                notice_runs: tokio::sync::Mutex::new(()),
            }),
        };
        // Ledger entries vouched for by a checkpoint taken when a blind-index rotation
        // finished; without the previous key, everything after it must be under the
        // current key.
        c.attest_ledger_at_build().await?;
        if versions.previous.is_none() && versions.current > 1 {
            c.check_ledger_under_current_index().await?;
        }
        // O(entries since the last checkpoint), never the whole audit chain.
        c.verify_audit_at_build(audit_anchor).await?;
        c.sync().await?;
        let seen = *c.seen();
        if seen.len < ledger_anchor.len {
            return Err(chain::ChainError::AnchorMismatch {
                expected: ledger_anchor.len,
                found: seen.len,
            }
            .into());
        }
        chain::verify_reaches(
            &c.inner.chains.entries(ChainName::Ledger).await?,
            &ledger_anchor,
        )?;
        // Resumable intents: an erasure or a withdrawal a process decided but did not
        // finish (killed between the ledger entry and the deletions) is finished before
        // serving.
        for subject in c.inner.state.erasing() {
            c.finish_erasure(subject).await?;
        }
        for (subject, scope) in c.inner.state.withdrawing() {
            c.finish_withdrawal(subject, scope).await?;
        }
        for (subject, scope) in c.inner.state.host_withdrawing() {
            c.finish_host_withdrawal(subject, &scope).await?;
        }
        // So is a KEK rotation killed mid re-wrap: every live key ends under the primary
        // version before the custodian serves (docs/keys.md, "Resumable rotation").
        c.pin_kek_schedule().await?;
        c.settle_keks_at_build(&stored).await?;
        Ok(c)
    }
}
