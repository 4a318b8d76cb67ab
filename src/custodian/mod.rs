//! The [`Custodian`]: the facade a host application holds.
//!
//! It wires every guarantee together: typed data sealed per subject (8.1), grants issued only
//! through consent, restriction and erasure checks (3.3–3.7, 9.1, 6.2), every read and every
//! rights action audited in a hash chain, consent changes and their audit events committed
//! together, crypto-shredding on erasure, and a retention sweep (9.1). No method returns
//! plaintext without a grant; [`crate::danger`] is the only other way in.
//!
//! ```
//! # tokio_test_block(async {
//! use chrono::Utc;
//! use crm_privacy::{Email, Notification};
//! use crm_privacy::crypto::{Kek, Keyring};
//! use crm_privacy::custodian::Custodian;
//!
//! let keyring = Keyring::new(Kek::generate(1)?, &[7; 32])?;
//! let custodian = Custodian::builder(keyring).build().await?;
//! let now = Utc::now();
//! let alice = custodian.register_subject(now).await?;
//! let record = custodian.store(alice, Email::parse("alice@example.com")?, now).await?;
//! let grant = custodian.grant::<Notification>(alice, "mailer", now).await?;
//! let domain = custodian.with::<Email, _, _>(&grant, record, now, |e| e.domain().to_owned()).await?;
//! assert_eq!(domain, "example.com");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! # fn tokio_test_block<F: std::future::Future>(f: F) -> F::Output {
//! #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
//! # }
//! ```

mod error;
mod events;
mod export;
mod state;

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

pub use error::CustodianError;
pub use events::{
    AuditEvent, AuditKind, CollectionMethod, ConsentScope, EventDecodeError, LedgerChange,
    LedgerEvent, Permission, decode,
};
pub use export::{ExportedRecord, SubjectExport};

use self::events::encode;
pub(crate) use self::events::encode as encode_event;
pub(crate) use self::state::PolicyState;
use crate::chain::{self, Anchor, ChainEntry};
use crate::crypto::{DataKey, Keyring};
use crate::data::{Category, DataKind, Email, KindRef, Phone};
use crate::grant::{
    Epoch, Grant, GrantIssuer, NdaAttestation, TokenKey, UserInitiated, UserSession,
};
use crate::ids::{ConsentId, GrantId, RecordId, SubjectId};
use crate::policy::UsableFor;
use crate::purpose::{ConferenceCreation, OwnerAccess, Purpose, ServicePurpose};
use crate::store::{
    ChainName, ChainStore, DynChainStore, DynKeyStore, DynRecordStore, InMemoryChainStore,
    InMemoryKeyStore, InMemoryRecordStore, KeyStore, RecordStore, SealedRecord, StoreError,
};

/// Configures a [`Custodian`].
#[derive(Debug)]
#[must_use]
pub struct CustodianBuilder {
    keyring: Keyring,
    records: Option<DynRecordStore>,
    chains: Option<DynChainStore>,
    keys: Option<DynKeyStore>,
    token_key: Option<TokenKey>,
    accepted: Vec<TokenKey>,
    ttl: TimeDelta,
    shared: bool,
    policy_version: u32,
    backup_window: TimeDelta,
    immutable: HashMap<Category, &'static str>,
    retention: HashMap<Category, RetentionRule>,
    schedule: Option<crate::retention::Schedule>,
    receipts: ReceiptConfig,
}

/// Who issues consent receipts, where the policy is published, and under which jurisdiction.
#[derive(Debug, Clone)]
struct ReceiptConfig {
    controller: crate::consent::Controller,
    policy_url: String,
    jurisdiction: String,
}

/// A retention rule (clause 9.1): delete a record of this kind once `months` have passed
/// since it was last updated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RetentionRule {
    /// Months after the last update.
    pub months: u32,
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
    /// The key grant tokens are signed with (share it between processes).
    pub fn token_key(mut self, key: TokenKey) -> Self {
        self.token_key = Some(key);
        self
    }
    /// An older token key still accepted.
    pub fn accept_token_key(mut self, key: TokenKey) -> Self {
        self.accepted.push(key);
        self
    }
    /// Grant lifetime (default 5 minutes).
    pub fn grant_ttl(mut self, ttl: TimeDelta) -> Self {
        self.ttl = ttl;
        self
    }
    /// Several processes share the store: every read first catches up with the ledger, so
    /// a withdrawal, restriction or erasure made elsewhere applies to the very next read.
    pub fn shared(mut self, shared: bool) -> Self {
        self.shared = shared;
        self
    }
    /// The policy version consents are given under (clause 10).
    pub fn policy_version(mut self, v: u32) -> Self {
        self.policy_version = v;
        self
    }
    /// How long backups are kept (reported in erasure reports; default 35 days).
    pub fn backup_window(mut self, w: TimeDelta) -> Self {
        self.backup_window = w;
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
    /// Overrides the retention of a kind.
    pub fn retention(mut self, kind: Category, rule: RetentionRule) -> Self {
        self.retention.insert(kind, rule);
        self
    }

    /// Builds the custodian: verifies both chains and replays the ledger.
    ///
    /// # Errors
    /// A broken chain, an undecodable event, a store failure or a bad key.
    pub async fn build(self) -> Result<Custodian, CustodianError> {
        let records = self
            .records
            .unwrap_or_else(|| Arc::new(InMemoryRecordStore::new()));
        let chains = self
            .chains
            .unwrap_or_else(|| Arc::new(InMemoryChainStore::new()));
        let keys = self
            .keys
            .unwrap_or_else(|| Arc::new(InMemoryKeyStore::new()));
        let state = Arc::new(PolicyState::new(self.shared));
        let epoch = Arc::new(Epoch::default());
        let mut ib = GrantIssuer::builder()
            .ttl(self.ttl)
            .gate(state.clone())
            .epoch(epoch.clone());
        if let Some(k) = self.token_key {
            ib = ib.signing_key(k);
        }
        for k in self.accepted {
            ib = ib.accept_key(k);
        }
        let issuer = ib
            .build()
            .map_err(|_| CustodianError::Crypto(crate::crypto::CryptoError::InvalidKey))?;
        // Verify the audit chain once at start. Anchors are read before entries, so writers in
        // other processes may append meanwhile; truncation is still detected.
        let audit_anchor = chains.anchor(ChainName::Audit).await?;
        chain::verify_reaches(&chains.entries(ChainName::Audit).await?, &audit_anchor)?;
        let ledger_anchor = chains.anchor(ChainName::Ledger).await?;
        // The schedule: given, or derived from the one policy table (clause 9.1) with the
        // builder's per-kind overrides.
        let schedule = match self.schedule {
            Some(s) => s,
            None => {
                use crate::retention::{Period, ScheduleBuilder, Trigger};
                let mut b = ScheduleBuilder::default();
                for &c in Category::ALL {
                    let months = self
                        .retention
                        .get(&c)
                        .map(|r| r.months)
                        .or_else(|| crate::policy::retention_months(c));
                    for &p in crate::PurposeId::ALL {
                        if crate::policy::permits(c, p) {
                            b = match months {
                                Some(m) => b.rule(c, p, Period::months(m), Trigger::LastActivity),
                                None => b.rule(c, p, Period::days(30), Trigger::AccountClosed),
                            };
                        }
                    }
                }
                b.build()?
            }
        };
        let c = Custodian {
            inner: Arc::new(Inner {
                records,
                chains,
                keys,
                keyring: self.keyring,
                issuer,
                state,
                epoch,
                seen: Mutex::new(Anchor::default()),
                policy_version: self.policy_version,
                backup_window: self.backup_window,
                immutable: self.immutable,
                schedule,
                receipts: self.receipts,
            }),
        };
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
        Ok(c)
    }
}

#[derive(Debug)]
struct Inner {
    records: DynRecordStore,
    chains: DynChainStore,
    keys: DynKeyStore,
    keyring: Keyring,
    issuer: GrantIssuer,
    state: Arc<PolicyState>,
    epoch: Arc<Epoch>,
    seen: Mutex<Anchor>,
    policy_version: u32,
    backup_window: TimeDelta,
    immutable: HashMap<Category, &'static str>,
    schedule: crate::retention::Schedule,
    receipts: ReceiptConfig,
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
    /// The subject's data key was destroyed: every copy (backups included) is unreadable now.
    pub key_destroyed: bool,
    /// When the last backup holding the (unreadable) ciphertext ages out.
    pub backups_age_out_by: DateTime<Utc>,
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

fn lookup_value<K: DataKind>(value: &K) -> Option<(Category, String)> {
    let any = value as &dyn Any;
    if let Some(e) = any.downcast_ref::<Email>() {
        return Some((Category::Email, e.as_str().to_owned()));
    }
    any.downcast_ref::<Phone>()
        .map(|p| (Category::Phone, p.as_e164().to_owned()))
}

impl Custodian {
    /// Starts configuring a custodian that seals data with `keyring`. Without stores, it
    /// keeps everything in memory.
    pub fn builder(keyring: Keyring) -> CustodianBuilder {
        CustodianBuilder {
            keyring,
            records: None,
            chains: None,
            keys: None,
            token_key: None,
            accepted: Vec::new(),
            ttl: TimeDelta::minutes(5),
            shared: false,
            policy_version: 1,
            backup_window: TimeDelta::days(35),
            immutable: HashMap::new(),
            retention: HashMap::new(),
            schedule: None,
            receipts: ReceiptConfig {
                controller: crate::consent::Controller {
                    pii_controller: "Smarty CRM".to_owned(),
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

    fn seen(&self) -> std::sync::MutexGuard<'_, Anchor> {
        self.inner
            .seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Catches up with ledger entries written since the last sync (by this or another
    /// process), verifying each link, applying them in chain order.
    async fn sync(&self) -> Result<(), CustodianError> {
        let from = self.seen().len;
        let entries = self
            .inner
            .chains
            .entries_from(ChainName::Ledger, from)
            .await?;
        if entries.is_empty() {
            return Ok(());
        }
        let mut events = Vec::with_capacity(entries.len());
        for e in &entries {
            events.push(events::decode::<LedgerEvent>(e)?);
        }
        let mut seen = self.seen();
        let mut changed = false;
        for (e, ev) in entries.iter().zip(&events) {
            changed |= self.apply_next(&mut seen, e, ev)?;
        }
        drop(seen);
        if changed {
            self.inner.epoch.bump();
        }
        Ok(())
    }

    /// Appends an optional ledger event and audit events in one all-or-nothing write (the
    /// store places them under its own lock, or retries), then applies the ledger change.
    async fn record(
        &self,
        ledger: Option<&LedgerEvent>,
        audit: &[AuditEvent],
    ) -> Result<(), CustodianError> {
        let mut bodies = Vec::with_capacity(audit.len() + 1);
        if let Some(ev) = ledger {
            bodies.push((ChainName::Ledger, encode(ev)));
        }
        bodies.extend(audit.iter().map(|ev| (ChainName::Audit, encode(ev))));
        let written = match self.inner.chains.append_bodies(bodies).await {
            Ok(w) => w,
            Err(StoreError::Conflict(c)) => return Err(CustodianError::Contended(c)),
            Err(e) => return Err(e.into()),
        };
        if let Some(ev) = ledger {
            // Our entry is the first written. When it sits right after what this process
            // has applied, apply it here; otherwise other writers came in between, so catch
            // up from the store, in chain order (ours included). Either way the epoch bumps.
            let own = written.first().is_some_and(|e| self.apply_own(e, ev));
            if !own {
                self.sync().await?;
            }
        }
        Ok(())
    }

    /// Applies `event`, held by `entry`, if `entry` is the next link after `seen`; an entry
    /// before `seen` was applied by a concurrent sync and is skipped (`Ok(false)`).
    ///
    /// # Errors
    /// The broken link when `entry` does not continue the chain at `seen`.
    fn apply_next(
        &self,
        seen: &mut Anchor,
        entry: &ChainEntry,
        event: &LedgerEvent,
    ) -> Result<bool, chain::ChainError> {
        if entry.seq < seen.len {
            return Ok(false);
        }
        let next = chain::verify_from(*seen, std::slice::from_ref(entry))?;
        self.inner.state.apply(event);
        *seen = next;
        Ok(true)
    }

    /// Applies this process's own ledger entry without asking the store again, if it
    /// directly follows what has been applied (or was already applied by a concurrent
    /// sync). Returns false when other writers came in between (or the link does not
    /// verify): the caller then catches up from the store, which reports a broken link.
    fn apply_own(&self, entry: &ChainEntry, event: &LedgerEvent) -> bool {
        let mut seen = self.seen();
        match self.apply_next(&mut seen, entry, event) {
            Ok(true) => {
                drop(seen);
                self.inner.epoch.bump();
                true
            }
            Ok(false) => true, // a concurrent sync applied it (and bumped the epoch)
            Err(_) => false,
        }
    }

    async fn data_key(&self, subject: SubjectId) -> Result<DataKey, CustodianError> {
        let wrapped = match self.inner.keys.get(subject).await {
            Ok(w) => w,
            Err(StoreError::NotFound { .. }) => {
                return Err(CustodianError::UnknownSubject(subject));
            }
            Err(StoreError::Shredded(_)) => return Err(crate::crypto::CryptoError::Shredded.into()),
            Err(e) => return Err(e.into()),
        };
        Ok(self.inner.keyring.unwrap(subject, &wrapped)?)
    }

    /// The checked read path shared by [`with`](Self::with) and
    /// [`read_as_text`](Self::read_as_text): catch up with the ledger (shared mode), fetch
    /// the row, let `kind_of` accept its kind, check the grant for the row's subject, open
    /// the ciphertext. Returns the subject, the kind and the plaintext.
    async fn open_checked<P: Purpose>(
        &self,
        grant: &Grant<P>,
        record: RecordId,
        now: DateTime<Utc>,
        kind_of: impl FnOnce(&SealedRecord) -> Result<KindRef, CustodianError>,
    ) -> Result<(SubjectId, KindRef, zeroize::Zeroizing<Vec<u8>>), CustodianError> {
        if self.inner.state.is_shared() {
            self.sync().await?;
        }
        // The grant first, against its own subject: an expired, revoked or withdrawn grant,
        // or an erased or restricted subject, is refused with that reason before the store
        // is asked, so a refused caller learns nothing about which records exist.
        grant.check(grant.subject(), now)?;
        let row = self.inner.records.get(record).await?;
        let kind = kind_of(&row)?;
        grant.check(row.subject, now)?;
        let key = self.data_key(row.subject).await?;
        let plain = key.open(kind, record, &row.ciphertext)?;
        Ok((row.subject, kind, plain))
    }

    /// Audits one read through `grant`.
    async fn audit_exposed<P: Purpose>(
        &self,
        grant: &Grant<P>,
        subject: SubjectId,
        record: RecordId,
        kind: KindRef,
        now: DateTime<Utc>,
    ) -> Result<(), CustodianError> {
        let mut ev = AuditEvent::new(now, AuditKind::Exposed, subject);
        ev.grant = Some(grant.id());
        ev.record = Some(record);
        ev.data_kind = Some(kind.name().to_owned());
        ev.purpose = Some(P::NAME.to_owned());
        ev.actor = Some(grant.info().actor.clone());
        self.record(None, &[ev]).await
    }

    /// Registers a new subject: creates its data key (wrapped by the KEK) and returns its id.
    ///
    /// # Errors
    /// Store or key failures.
    pub async fn register_subject(&self, now: DateTime<Utc>) -> Result<SubjectId, CustodianError> {
        let subject = SubjectId::new_random();
        let (_key, wrapped) = self.inner.keyring.new_data_key(subject)?;
        self.inner.keys.put(subject, wrapped).await?;
        self.record(
            None,
            &[AuditEvent::new(now, AuditKind::SubjectRegistered, subject)],
        )
        .await?;
        Ok(subject)
    }

    /// Seals and stores a value of `subject` (clause 1: data the subject entered). Email
    /// and phone values also get a blind index for lookups.
    ///
    /// # Errors
    /// [`CustodianError::Erased`], [`CustodianError::UnknownSubject`], store or crypto failures.
    pub async fn store<K: DataKind>(
        &self,
        subject: SubjectId,
        value: K,
        now: DateTime<Utc>,
    ) -> Result<RecordId, CustodianError> {
        let record = RecordId::new_random();
        self.write(subject, record, &value, now, now, AuditKind::Stored)
            .await?;
        Ok(record)
    }

    async fn write<K: DataKind>(
        &self,
        subject: SubjectId,
        record: RecordId,
        value: &K,
        created_at: DateTime<Utc>,
        now: DateTime<Utc>,
        kind: AuditKind,
    ) -> Result<(), CustodianError> {
        if self.inner.state.is_erased(subject) {
            return Err(CustodianError::Erased(subject));
        }
        let key = self.data_key(subject).await?;
        let ciphertext = key.seal(K::KIND, record, &value.encode())?;
        let blind_index = lookup_value(value).map(|(c, v)| self.inner.keyring.blind_index(c, &v));
        self.inner
            .records
            .put(SealedRecord {
                record,
                subject,
                kind: K::KIND.name().to_owned(),
                ciphertext,
                blind_index,
                created_at,
                updated_at: now,
            })
            .await?;
        let mut ev = AuditEvent::new(now, kind, subject);
        ev.record = Some(record);
        ev.data_kind = Some(K::KIND.name().to_owned());
        self.record(None, &[ev]).await
    }

    /// Subjects whose stored email equals `email` (through the blind index).
    ///
    /// # Errors
    /// Store failures.
    pub async fn find_by_email(&self, email: &Email) -> Result<Vec<SubjectId>, CustodianError> {
        self.find(Category::Email, email.as_str()).await
    }

    /// Subjects whose stored phone equals `phone` (through the blind index).
    ///
    /// # Errors
    /// Store failures.
    pub async fn find_by_phone(&self, phone: &Phone) -> Result<Vec<SubjectId>, CustodianError> {
        self.find(Category::Phone, phone.as_e164()).await
    }

    async fn find(&self, c: Category, v: &str) -> Result<Vec<SubjectId>, CustodianError> {
        let idx = self.inner.keyring.blind_index(c, v);
        let mut out: Vec<_> = self
            .inner
            .records
            .find_by_index(&idx)
            .await?
            .into_iter()
            .map(|r| r.subject)
            .collect();
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// Reads record `record` as a `K` for purpose `P` and passes it to `f`.
    ///
    /// Compiles only when `K: UsableFor<P>`. At run time: the record must hold a `K` of the
    /// grant's subject; the grant must be unexpired, unrevoked, its consent in force, the
    /// subject neither restricted nor erased. The read is audited before `f` runs.
    ///
    /// # Errors
    /// [`CustodianError::Access`] for refusals, [`CustodianError::WrongKind`], store,
    /// crypto (tampered, moved, shredded) and decode failures.
    pub async fn with<K, P, R>(
        &self,
        grant: &Grant<P>,
        record: RecordId,
        now: DateTime<Utc>,
        f: impl FnOnce(&K) -> R,
    ) -> Result<R, CustodianError>
    where
        K: DataKind + UsableFor<P>,
        P: Purpose,
    {
        let (subject, kind, plain) = self
            .open_checked(grant, record, now, |row| {
                if row.kind == K::KIND.name() {
                    Ok(K::KIND)
                } else {
                    Err(CustodianError::WrongKind {
                        record,
                        expected: K::KIND.name(),
                        actual: row.kind.clone(),
                    })
                }
            })
            .await?;
        let value = K::decode(&plain)?;
        self.audit_exposed(grant, subject, record, kind, now)
            .await?;
        Ok(f(&value))
    }

    /// The runtime-checked twin of [`with`](Self::with), for callers whose purpose and kind
    /// are values (the C ABI): the stored kind must be allowed for `P` by
    /// [`policy::permits`](crate::policy::permits), then every check of `with` runs and the
    /// read is audited. Returns the value as text (JSON for compound kinds) in a zeroizing
    /// buffer; the Zoom access token is returned only for [`ConferenceCreation`].
    ///
    /// # Errors
    /// [`CustodianError::PurposeNotPermitted`], and the errors of [`with`](Self::with).
    pub async fn read_as_text<P: Purpose>(
        &self,
        grant: &Grant<P>,
        record: RecordId,
        now: DateTime<Utc>,
    ) -> Result<zeroize::Zeroizing<String>, CustodianError> {
        let (subject, kind, plain) = self
            .open_checked(grant, record, now, |row| {
                let category = Category::from_name(&row.kind).ok_or(CustodianError::WrongKind {
                    record,
                    expected: "a built-in kind",
                    actual: row.kind.clone(),
                })?;
                let allowed = match P::ID {
                    crate::PurposeRef::Builtin(p) => crate::policy::permits(category, p),
                    crate::PurposeRef::Host(_) => false,
                };
                if !allowed {
                    return Err(CustodianError::PurposeNotPermitted {
                        kind: category.name(),
                        purpose: P::NAME,
                    });
                }
                Ok(KindRef::Builtin(category))
            })
            .await?;
        let KindRef::Builtin(category) = kind else {
            return Err(CustodianError::WrongKind {
                record,
                expected: "a built-in kind",
                actual: kind.name().to_owned(),
            });
        };
        let text = if category == Category::ZoomAccessToken {
            // The export renders the token as a placeholder; a conference grant gets the secret.
            zeroize::Zeroizing::new(crate::ZoomAccessToken::decode(&plain)?.as_str().to_owned())
        } else {
            match export::render(category, &plain)? {
                serde_json::Value::String(s) => zeroize::Zeroizing::new(s),
                other => zeroize::Zeroizing::new(other.to_string()),
            }
        };
        self.audit_exposed(grant, subject, record, kind, now)
            .await?;
        Ok(text)
    }

    async fn audit_grant<P: Purpose>(
        &self,
        g: Grant<P>,
        now: DateTime<Utc>,
    ) -> Result<Grant<P>, CustodianError> {
        let mut ev = AuditEvent::new(now, AuditKind::GrantIssued, g.subject());
        ev.grant = Some(g.id());
        ev.purpose = Some(P::NAME.to_owned());
        ev.actor = Some(g.info().actor.clone());
        ev.reference = g.info().consent.map(|c| c.to_string());
        if let Err(e) = self.record(None, &[ev]).await {
            self.inner.issuer.revoke(g.id());
            return Err(e);
        }
        Ok(g)
    }

    async fn before_issue(&self) -> Result<(), CustodianError> {
        if self.inner.state.is_shared() {
            self.sync().await?;
        }
        Ok(())
    }

    /// Issues (and audits) a grant for a service purpose to component `component`.
    ///
    /// # Errors
    /// [`CustodianError::Issue`] when consent, restriction or erasure refuse.
    pub async fn grant<P: ServicePurpose>(
        &self,
        subject: SubjectId,
        component: &str,
        now: DateTime<Utc>,
    ) -> Result<Grant<P>, CustodianError> {
        self.before_issue().await?;
        let g = self.inner.issuer.issue::<P>(subject, component, now)?;
        self.audit_grant(g, now).await
    }

    /// Issues (and audits) a grant for a service purpose to the subject's own session.
    ///
    /// # Errors
    /// As [`grant`](Self::grant), and an expired session.
    pub async fn grant_for_session<P: ServicePurpose>(
        &self,
        session: &UserSession,
        now: DateTime<Utc>,
    ) -> Result<Grant<P>, CustodianError> {
        self.before_issue().await?;
        let g = self.inner.issuer.issue_for_session::<P>(session, now)?;
        self.audit_grant(g, now).await
    }

    /// Issues (and audits) an [`OwnerAccess`] grant to the subject's own session.
    ///
    /// # Errors
    /// As [`grant_for_session`](Self::grant_for_session).
    pub async fn grant_owner(
        &self,
        session: &UserSession,
        now: DateTime<Utc>,
    ) -> Result<Grant<OwnerAccess>, CustodianError> {
        self.before_issue().await?;
        let g = self.inner.issuer.issue_owner(session, now)?;
        self.audit_grant(g, now).await
    }

    /// Issues (and audits) a [`ConferenceCreation`] grant on a fresh user-initiated request
    /// while the Zoom connection consent is in force (3.7).
    ///
    /// # Errors
    /// Stale request, expired session, no Zoom consent, restriction, erasure.
    pub async fn grant_conference(
        &self,
        proof: &UserInitiated,
        now: DateTime<Utc>,
    ) -> Result<Grant<ConferenceCreation>, CustodianError> {
        self.before_issue().await?;
        let g = self.inner.issuer.issue_conference(proof, now)?;
        self.audit_grant(g, now).await
    }

    /// Issues (and audits) a grant to a staff member with a valid NDA on file (8.1).
    ///
    /// # Errors
    /// [`IssueError::NdaMissing`](crate::IssueError::NdaMissing) and the other refusals.
    pub async fn grant_staff<P: ServicePurpose>(
        &self,
        subject: SubjectId,
        nda: &NdaAttestation,
        now: DateTime<Utc>,
    ) -> Result<Grant<P>, CustodianError> {
        self.before_issue().await?;
        let g = self.inner.issuer.issue_staff::<P>(subject, nda, now)?;
        self.audit_grant(g, now).await
    }

    /// Issues (and audits) a staff grant after looking the member's NDA up in `directory`
    /// (clause 8.1): no NDA on file, or a lapsed one, is refused.
    ///
    /// # Errors
    /// [`IssueError::NdaMissing`](crate::IssueError::NdaMissing), directory failures, and
    /// the other refusals.
    pub async fn grant_staff_via<P: ServicePurpose>(
        &self,
        subject: SubjectId,
        staff: crate::StaffId,
        directory: &dyn crate::staff::StaffDirectory,
        now: DateTime<Utc>,
    ) -> Result<Grant<P>, CustodianError> {
        let nda = directory
            .nda(staff)
            .await?
            .ok_or(crate::IssueError::NdaMissing { staff })?;
        self.grant_staff::<P>(subject, &nda, now).await
    }

    /// Reads record `record` for a permitted [`Disclosure`](crate::disclosure::Disclosure)
    /// (clause 7) and passes it to `f`; the read and the disclosure, naming the recipient,
    /// are audited.
    ///
    /// # Errors
    /// [`DisclosureError::Mismatch`](crate::disclosure::DisclosureError::Mismatch) when the
    /// disclosure is for another kind or purpose; the errors of [`with`](Self::with).
    pub async fn disclose<K, P, R>(
        &self,
        grant: &Grant<P>,
        record: RecordId,
        disclosure: &crate::disclosure::Disclosure,
        now: DateTime<Utc>,
        f: impl FnOnce(&K) -> R,
    ) -> Result<R, CustodianError>
    where
        K: DataKind + UsableFor<P>,
        P: Purpose,
    {
        let matches = K::KIND == KindRef::Builtin(disclosure.kind())
            && P::ID == crate::PurposeRef::Builtin(disclosure.purpose());
        if !matches {
            return Err(crate::disclosure::DisclosureError::Mismatch.into());
        }
        let out = self.with::<K, P, R>(grant, record, now, f).await?;
        let mut ev = AuditEvent::new(now, AuditKind::Disclosed, grant.subject());
        ev.grant = Some(grant.id());
        ev.record = Some(record);
        ev.data_kind = Some(disclosure.kind().name().to_owned());
        ev.purpose = Some(disclosure.purpose().name().to_owned());
        ev.reference = Some(disclosure.audit_reference());
        self.record(None, &[ev]).await?;
        Ok(out)
    }

    /// Sets what colleagues and chat participants may see (clause 5), in the subject's own
    /// session; recorded in the ledger, so every process applies it.
    ///
    /// # Errors
    /// Access refusals and store failures.
    pub async fn set_sharing(
        &self,
        grant: &Grant<OwnerAccess>,
        policy: crate::sharing::SharingPolicy,
        now: DateTime<Utc>,
    ) -> Result<(), CustodianError> {
        let subject = grant.subject();
        grant.check(subject, now)?;
        let mut ev = AuditEvent::new(now, AuditKind::SharingChanged, subject);
        ev.grant = Some(grant.id());
        self.record(
            Some(&LedgerEvent {
                at: now,
                subject,
                change: LedgerChange::SharingSet { policy },
            }),
            &[ev],
        )
        .await
    }

    /// The view of the grant's subject for `audience`: only the kinds the subject chose to
    /// share, read through a grant of the audience's purpose (`TeamCollaboration` for
    /// colleagues, `ChatSharing` for chat participants). Each read is audited.
    ///
    /// # Errors
    /// [`CustodianError::WrongAudience`], access refusals, store and crypto failures.
    pub async fn shared_view<P: Purpose>(
        &self,
        grant: &Grant<P>,
        audience: crate::sharing::Audience,
        now: DateTime<Utc>,
    ) -> Result<Vec<(String, zeroize::Zeroizing<String>)>, CustodianError> {
        if P::ID != crate::PurposeRef::Builtin(audience.purpose()) {
            return Err(CustodianError::WrongAudience);
        }
        if self.inner.state.is_shared() {
            self.sync().await?;
        }
        let subject = grant.subject();
        grant.check(subject, now)?;
        let policy = self.inner.state.sharing(subject);
        let mut out = Vec::new();
        for row in self.inner.records.list_subject(subject).await? {
            let Some(c) = Category::from_name(&row.kind) else {
                continue;
            };
            if policy.allows(audience, c) {
                out.push((
                    row.kind.clone(),
                    self.read_as_text(grant, row.record, now).await?,
                ));
            }
        }
        Ok(out)
    }

    /// Seals a grant into a signed token for another process or the C ABI.
    #[must_use]
    pub fn seal_grant<P: Purpose>(&self, grant: &Grant<P>) -> String {
        self.inner.issuer.seal(grant)
    }

    /// Opens a signed token as a grant for purpose `P`.
    ///
    /// # Errors
    /// [`CustodianError::Token`] for malformed, forged, cross-purpose, expired or revoked tokens.
    pub async fn open_grant<P: Purpose>(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Grant<P>, CustodianError> {
        self.before_issue().await?;
        Ok(self.inner.issuer.open::<P>(token, now)?)
    }

    /// Revokes a grant: it stops working in this process at once, and — through a ledger
    /// entry committed with its audit event — in every process sharing the store from its
    /// next read or token open on (shared mode).
    ///
    /// # Errors
    /// Store failures writing the ledger entry and audit event (the revocation already
    /// applies in this process; retrying records it for the others).
    pub async fn revoke<P: Purpose>(
        &self,
        grant: &Grant<P>,
        now: DateTime<Utc>,
    ) -> Result<(), CustodianError> {
        self.inner.issuer.revoke(grant.id());
        let mut ev = AuditEvent::new(now, AuditKind::GrantRevoked, grant.subject());
        ev.grant = Some(grant.id());
        let ledger = LedgerEvent {
            at: now,
            subject: grant.subject(),
            change: LedgerChange::GrantRevoked { grant: grant.id() },
        };
        self.record(Some(&ledger), &[ev]).await
    }

    /// Records consent of `subject` for `scope` (one call; the ledger entry and its audit
    /// event commit together).
    ///
    /// # Errors
    /// [`CustodianError::Erased`] or store failures.
    pub async fn give_consent(
        &self,
        subject: SubjectId,
        scope: ConsentScope,
        method: CollectionMethod,
        evidence: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<ConsentId, CustodianError> {
        self.before_issue().await?;
        if self.inner.state.is_erased(subject) {
            return Err(CustodianError::Erased(subject));
        }
        let consent = ConsentId::new_random();
        let change = LedgerChange::ConsentGiven {
            consent,
            scope,
            method,
            policy_version: self.inner.policy_version,
            evidence: evidence.map(str::to_owned),
        };
        let mut ev = AuditEvent::new(now, AuditKind::ConsentGiven, subject);
        ev.reference = Some(format!("{consent} {}", scope.name()));
        self.record(
            Some(&LedgerEvent {
                at: now,
                subject,
                change,
            }),
            &[ev],
        )
        .await?;
        Ok(consent)
    }

    /// Withdraws the consent of `scope` in one call (GDPR Art. 7(3)): every grant issued
    /// under it fails from the moment this returns, and data kept only under it (the Zoom
    /// token for `ZoomLink`) is deleted.
    ///
    /// # Errors
    /// [`CustodianError::NoActiveConsent`] or store failures.
    pub async fn withdraw_consent(
        &self,
        subject: SubjectId,
        scope: ConsentScope,
        now: DateTime<Utc>,
    ) -> Result<ConsentId, CustodianError> {
        self.before_issue().await?;
        let consent = self.inner.state.active_consent(subject, scope).ok_or(
            CustodianError::NoActiveConsent {
                subject,
                scope: scope.name(),
            },
        )?;
        let mut ev = AuditEvent::new(now, AuditKind::ConsentWithdrawn, subject);
        ev.reference = Some(format!("{consent} {}", scope.name()));
        let change = LedgerChange::ConsentWithdrawn { consent, scope };
        self.record(
            Some(&LedgerEvent {
                at: now,
                subject,
                change,
            }),
            &[ev],
        )
        .await?;
        let dependent = scope.dependent_kinds();
        if !dependent.is_empty() {
            for r in self.inner.records.list_subject(subject).await? {
                if dependent.iter().any(|c| c.name() == r.kind) {
                    self.inner.records.delete(r.record).await?;
                }
            }
        }
        Ok(consent)
    }

    /// The consent receipt (Kantara CR v1.1 with ISO/IEC TS 27560 event data) of a consent.
    ///
    /// # Errors
    /// [`CustodianError::NoActiveConsent`] is not used here; an unknown id is
    /// [`CustodianError::Store`] `NotFound`; store and decode failures.
    pub async fn consent_receipt(
        &self,
        consent: ConsentId,
    ) -> Result<crate::consent::ConsentReceipt, CustodianError> {
        let entries = self.inner.chains.entries(ChainName::Ledger).await?;
        let events = entries
            .iter()
            .map(events::decode::<LedgerEvent>)
            .collect::<Result<Vec<_>, _>>()?;
        let r = &self.inner.receipts;
        crate::consent::receipt(
            &events,
            consent,
            &r.controller,
            &r.policy_url,
            &r.jurisdiction,
        )
        .map_err(|_| {
            CustodianError::Store(StoreError::NotFound {
                what: "consent",
                id: consent.to_string(),
            })
        })
    }

    /// Subjects with a live key that have not acknowledged policy version `version`
    /// (clause 10.2: notify them of a significant change).
    ///
    /// # Errors
    /// Store failures.
    pub async fn subjects_to_notify(&self, version: u32) -> Result<Vec<SubjectId>, CustodianError> {
        let mut out: Vec<_> = self
            .inner
            .keys
            .subjects()
            .await?
            .into_iter()
            .filter(|s| {
                self.inner
                    .state
                    .active_consent(*s, ConsentScope::PolicyVersion(version))
                    .is_none()
            })
            .collect();
        out.sort();
        Ok(out)
    }

    /// The consents in force for a subject.
    #[must_use]
    pub fn consents(&self, subject: SubjectId) -> Vec<(ConsentScope, ConsentId)> {
        self.inner.state.active_scopes(subject)
    }

    /// Restricts processing (9.1, GDPR Art. 18/21): no new grants except for legal
    /// obligations, and existing grants stop working at once.
    ///
    /// # Errors
    /// Store failures.
    pub async fn restrict(
        &self,
        subject: SubjectId,
        now: DateTime<Utc>,
    ) -> Result<(), CustodianError> {
        self.status_change(
            subject,
            LedgerChange::Restricted,
            AuditKind::Restricted,
            now,
        )
        .await
    }

    /// Lifts a restriction.
    ///
    /// # Errors
    /// Store failures.
    pub async fn lift_restriction(
        &self,
        subject: SubjectId,
        now: DateTime<Utc>,
    ) -> Result<(), CustodianError> {
        self.status_change(
            subject,
            LedgerChange::RestrictionLifted,
            AuditKind::RestrictionLifted,
            now,
        )
        .await
    }

    async fn status_change(
        &self,
        subject: SubjectId,
        change: LedgerChange,
        kind: AuditKind,
        now: DateTime<Utc>,
    ) -> Result<(), CustodianError> {
        self.before_issue().await?;
        let ev = AuditEvent::new(now, kind, subject);
        self.record(
            Some(&LedgerEvent {
                at: now,
                subject,
                change,
            }),
            &[ev],
        )
        .await
    }

    /// Erases a subject (6.2): grants stop at once, the data key is destroyed (every copy of
    /// the ciphertexts, backups included, is unreadable from now on) and the records are
    /// deleted. Returns the report to show the subject.
    ///
    /// # Errors
    /// Store failures; retrying is safe.
    pub async fn erase(
        &self,
        subject: SubjectId,
        now: DateTime<Utc>,
    ) -> Result<ErasureReport, CustodianError> {
        self.before_issue().await?;
        if !self.inner.state.is_erased(subject) {
            let ev = AuditEvent::new(now, AuditKind::Erased, subject);
            self.record(
                Some(&LedgerEvent {
                    at: now,
                    subject,
                    change: LedgerChange::Erased,
                }),
                &[ev],
            )
            .await?;
        }
        self.inner.keys.delete(subject).await?;
        let records_deleted = self.inner.records.delete_subject(subject).await?;
        Ok(ErasureReport {
            subject,
            erased_at: now,
            records_deleted,
            key_destroyed: true,
            backups_age_out_by: now + self.inner.backup_window,
            kept: vec![
                "consent ledger entries (ids, scopes, instants): evidence of lawful processing",
                "audit log entries (ids, kinds, purposes, instants): evidence of lawful processing",
            ],
        })
    }

    /// Rectifies a field (6.1) through the subject's own session. Kinds marked immutable
    /// for commercial or legal reasons are refused, naming the kind (never the value).
    ///
    /// # Errors
    /// [`CustodianError::Immutable`], [`CustodianError::WrongKind`], access refusals.
    pub async fn rectify<K: DataKind>(
        &self,
        grant: &Grant<OwnerAccess>,
        record: RecordId,
        value: K,
        now: DateTime<Utc>,
    ) -> Result<(), CustodianError> {
        if let KindRef::Builtin(c) = K::KIND {
            if let Some(reason) = self.inner.immutable.get(&c) {
                return Err(CustodianError::Immutable {
                    kind: c.name(),
                    reason,
                });
            }
        }
        let row = self.inner.records.get(record).await?;
        if row.kind != K::KIND.name() {
            return Err(CustodianError::WrongKind {
                record,
                expected: K::KIND.name(),
                actual: row.kind,
            });
        }
        grant.check(row.subject, now)?;
        self.write(
            row.subject,
            record,
            &value,
            row.created_at,
            now,
            AuditKind::Rectified,
        )
        .await
    }

    /// Everything held about the subject of an [`OwnerAccess`] grant, as one JSON-ready
    /// document (GDPR Art. 15, 20). Only the subject's own session gets it.
    ///
    /// # Errors
    /// Access refusals, store and crypto failures.
    pub async fn export(
        &self,
        grant: &Grant<OwnerAccess>,
        now: DateTime<Utc>,
    ) -> Result<SubjectExport, CustodianError> {
        if !matches!(grant.info().actor, crate::Actor::Subject { .. }) {
            return Err(CustodianError::NotOwnSession);
        }
        if self.inner.state.is_shared() {
            self.sync().await?;
        }
        let subject = grant.subject();
        grant.check(subject, now)?;
        let key = self.data_key(subject).await?;
        let mut records = Vec::new();
        for row in self.inner.records.list_subject(subject).await? {
            let category = Category::from_name(&row.kind);
            let kind = category.map_or(KindRef::Host(""), KindRef::Builtin);
            let value = match category {
                Some(c) => {
                    let plain = key.open(kind, row.record, &row.ciphertext)?;
                    export::render(c, &plain)?
                }
                None => serde_json::Value::Null,
            };
            records.push(ExportedRecord {
                record: row.record,
                kind: row.kind,
                created_at: row.created_at,
                updated_at: row.updated_at,
                value,
            });
        }
        records
            .sort_by(|a, b| (a.kind.as_str(), a.created_at).cmp(&(b.kind.as_str(), b.created_at)));
        let mut ev = AuditEvent::new(now, AuditKind::Exported, subject);
        ev.grant = Some(grant.id());
        self.record(None, &[ev]).await?;
        Ok(SubjectExport {
            subject,
            generated_at: now,
            restricted: self.inner.state.is_restricted(subject),
            consents: self
                .consents(subject)
                .into_iter()
                .map(|(scope, consent)| export::ExportedConsent { scope, consent })
                .collect(),
            records,
        })
    }

    /// Runs the retention sweep (9.1) with no legal holds; see
    /// [`sweep_with_holds`](Self::sweep_with_holds).
    ///
    /// # Errors
    /// Store failures.
    pub async fn sweep(&self, now: DateTime<Utc>) -> Result<Vec<SweepLine>, CustodianError> {
        self.sweep_with_holds(now, &[]).await
    }

    /// Runs the retention sweep (9.1): evaluates the schedule for every stored record
    /// (collected = stored, last activity = last update), deletes — audited — the records
    /// that every rule of their kind's allowed purposes has released, unless a legal hold
    /// applies, and reports every record with its deadline.
    ///
    /// # Errors
    /// Store failures.
    pub async fn sweep_with_holds(
        &self,
        now: DateTime<Utc>,
        holds: &[crate::retention::Hold],
    ) -> Result<Vec<SweepLine>, CustodianError> {
        use crate::retention::{Decision, RecordMeta};
        let mut out = Vec::new();
        let mut after = None;
        loop {
            let page = self.inner.records.metadata_page(after, 1000).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.record);
            for m in page {
                let (mut deadline, mut all_release, mut awaiting, mut any_rule, mut held_by) =
                    (None, true, false, false, None);
                if let Some(c) = Category::from_name(&m.kind) {
                    for &p in crate::PurposeId::ALL
                        .iter()
                        .filter(|&&p| crate::policy::permits(c, p))
                    {
                        let meta = RecordMeta {
                            record: m.record,
                            subject: m.subject,
                            kind: c,
                            purpose: p,
                            collected_at: m.created_at,
                            last_activity_at: Some(m.updated_at),
                            account_closed_at: None,
                            consent_withdrawn_at: None,
                            purpose_fulfilled_at: None,
                        };
                        match self.inner.schedule.evaluate(&meta, holds, now) {
                            Decision::Delete { since, .. } => {
                                any_rule = true;
                                deadline = deadline.max(Some(since));
                            }
                            Decision::Keep { until, .. } => {
                                any_rule = true;
                                all_release = false;
                                deadline = deadline.max(Some(until));
                            }
                            Decision::AwaitingTrigger { .. } => {
                                any_rule = true;
                                all_release = false;
                                awaiting = true;
                            }
                            Decision::Held { hold } => {
                                any_rule = true;
                                all_release = false;
                                held_by = holds.get(hold).map(|h| h.id.clone());
                            }
                            Decision::NoRule => {}
                        }
                    }
                }
                let deleted = any_rule && all_release;
                if deleted {
                    self.inner.records.delete(m.record).await?;
                    let mut ev = AuditEvent::new(now, AuditKind::RetentionDeleted, m.subject);
                    ev.record = Some(m.record);
                    ev.data_kind = Some(m.kind.clone());
                    self.record(None, &[ev]).await?;
                }
                out.push(SweepLine {
                    record: m.record,
                    kind: m.kind,
                    deleted,
                    deadline: if awaiting { None } else { deadline },
                    held_by,
                });
            }
        }
        Ok(out)
    }

    /// Verifies both hash chains end to end and that every entry decodes.
    ///
    /// # Errors
    /// The first broken link or undecodable entry.
    pub async fn verify_chains(&self) -> Result<ChainReport, CustodianError> {
        let mut report = ChainReport {
            ledger_entries: 0,
            audit_entries: 0,
        };
        for chain in [ChainName::Ledger, ChainName::Audit] {
            let anchor = self.inner.chains.anchor(chain).await?;
            let entries: Vec<ChainEntry> = self.inner.chains.entries(chain).await?;
            chain::verify_reaches(&entries, &anchor)?;
            for e in &entries {
                match chain {
                    ChainName::Ledger => drop(events::decode::<LedgerEvent>(e)?),
                    ChainName::Audit => drop(events::decode::<AuditEvent>(e)?),
                }
            }
            let n = entries.len() as u64;
            match chain {
                ChainName::Ledger => report.ledger_entries = n,
                ChainName::Audit => report.audit_entries = n,
            }
        }
        Ok(report)
    }

    /// The audit events (decoded), for review.
    ///
    /// # Errors
    /// Store failures or an undecodable entry.
    pub async fn audit_events(&self) -> Result<Vec<AuditEvent>, CustodianError> {
        let entries = self.inner.chains.entries(ChainName::Audit).await?;
        entries
            .iter()
            .map(|e| Ok(events::decode::<AuditEvent>(e)?))
            .collect()
    }

    /// The purpose of a grant id, if it appears in the audit log (for investigations).
    ///
    /// # Errors
    /// As [`audit_events`](Self::audit_events).
    pub async fn grant_purpose(&self, grant: GrantId) -> Result<Option<String>, CustodianError> {
        Ok(self
            .audit_events()
            .await?
            .into_iter()
            .find(|e| e.grant == Some(grant) && e.kind == AuditKind::GrantIssued)
            .and_then(|e| e.purpose))
    }
}

impl PolicyState {
    pub(crate) fn is_shared(&self) -> bool {
        crate::grant::GrantGate::is_shared(self)
    }
}
