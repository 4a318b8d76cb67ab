//! The key hierarchy the custodian holds (KEK behind [`KeyEncryptionKeys`], blind-index
//! key) and the KEK schedule (clause 6.2, issue 16): epochs no longer than the backup
//! window, re-wrapping of live keys on rotation, destruction of an epoch's version once
//! every backup that could hold a key wrapped under it has aged out.
//!
//! Dates, for a version created at `c` with epoch length `e` and backup window `w`:
//! - its epoch ends at `c + e` (the first [`Custodian::rotate_if_due`] on or after that
//!   instant creates the next version and re-wraps every live key under it);
//! - it is destroyed at `c + e + w` (the first [`Custodian::destroy_expired_keks`] on or
//!   after that instant; the sweep calls both). A backup taken before the re-wrap finished
//!   holds keys under it; every such backup is older than `w` by then. If the rotation ran
//!   late, the destruction still happens at `c + e + w` (after re-wrapping first, so no live
//!   subject is lost): the backups taken in the late stretch become undecryptable before
//!   their window ends. The stated date wins over restorability.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

use super::{Custodian, CustodianError};
use crate::crypto::{
    CryptoError, DataKey, DynKeks, IndexKey, IndexVersions, KekState, KekVersion, KeyCheck,
    KeyMaterial, WrappedKey, resolve_index_versions,
};
use crate::data::Category;
use crate::ids::SubjectId;
use crate::ledger::{AuditEvent, AuditKind, LedgerChange};
use crate::store::StoreError;

/// The keys of one custodian.
#[derive(Debug)]
pub(super) struct KeyHierarchy {
    keks: DynKeks,
    /// The current blind-index key: new indexes, new ledger tags.
    index: IndexKey,
    /// Its version (assigned from the store's check values at build).
    pub(super) index_version: u32,
    /// The previous blind-index key and its version, during a rotation.
    previous_index: Option<(u32, IndexKey)>,
    /// Ledger entries with a sequence below this are covered by a ledger checkpoint whose
    /// tag verified under a held index key (their tags are not checked one by one: they may
    /// be under a key version no longer held).
    pub(super) ledger_attested: AtomicU64,
    /// KEK epoch length; `None` when the KEKs cannot rotate (a host-supplied keyring).
    epoch: Option<TimeDelta>,
    /// The primary version every live key was last seen re-wrapped under (0: not checked
    /// since this process started).
    rewrapped_through: AtomicU32,
    /// Serialises KEK maintenance (rotation, its resumption, destruction) within a process,
    /// so two of them never interleave their scans and destructions.
    maintenance: tokio::sync::Mutex<()>,
}

impl KeyHierarchy {
    pub(super) fn new(
        keks: DynKeks,
        index: IndexKey,
        previous_index: Option<IndexKey>,
        epoch: Option<TimeDelta>,
    ) -> Self {
        Self {
            keks,
            index,
            index_version: 1,
            previous_index: previous_index.map(|k| (0, k)),
            ledger_attested: AtomicU64::new(0),
            epoch,
            rewrapped_through: AtomicU32::new(0),
            maintenance: tokio::sync::Mutex::new(()),
        }
    }

    /// Assigns the versions of the held blind-index keys from the store's check values
    /// (before the hierarchy is shared).
    pub(super) fn resolve_index_versions(
        &mut self,
        stored: &KeyCheck,
    ) -> Result<IndexVersions, CryptoError> {
        let v = resolve_index_versions(
            &self.index,
            self.previous_index.as_ref().map(|(_, k)| k),
            stored,
        )?;
        self.index_version = v.current;
        if let (Some((version, _)), Some(p)) = (self.previous_index.as_mut(), v.previous) {
            *version = p;
        }
        Ok(v)
    }

    /// The version of the previous blind-index key, if one is held.
    pub(super) fn previous_index_version(&self) -> Option<u32> {
        self.previous_index.as_ref().map(|(v, _)| *v)
    }

    /// A new random data key for `subject`, and its wrapped form to store (see
    /// [`Custodian::put_fresh_key`] for how to store it).
    pub(super) async fn new_data_key(
        &self,
        subject: SubjectId,
    ) -> Result<(KeyMaterial, WrappedKey), CryptoError> {
        let material = KeyMaterial::generate()?;
        let wrapped = self.keks.wrap(subject, &material).await?;
        Ok((material, wrapped))
    }

    /// The version new keys are wrapped under now.
    async fn primary_version(&self) -> Result<u32, CryptoError> {
        self.keks
            .versions()
            .await?
            .iter()
            .filter(|v| v.state == KekState::Primary)
            .map(|v| v.version)
            .max()
            .ok_or(CryptoError::Kms("no primary version"))
    }

    /// True if `wrapped` is under this KEK's version `version`.
    fn is_under(&self, wrapped: &WrappedKey, version: u32) -> bool {
        wrapped.kek_name() == Some(self.keks.name()) && wrapped.kek_id() == Some(version)
    }

    /// Unwraps a stored data key of `subject`.
    pub(super) async fn unwrap(
        &self,
        subject: SubjectId,
        wrapped: &WrappedKey,
    ) -> Result<DataKey, CryptoError> {
        let material = match self.keks.unwrap_in_process(subject, wrapped) {
            Some(now) => now?,
            None => self.keks.unwrap(subject, wrapped).await?,
        };
        DataKey::from_material(subject, &material)
    }

    /// Blind index under the current key version.
    pub(super) fn blind_index(&self, category: Category, normalized: &str) -> [u8; 32] {
        self.index.blind_index(category, normalized)
    }

    /// Blind indexes to query for a lookup: under the previous key first (a re-index moves
    /// rows from it to the current one, so a row moved between the two queries is found by
    /// the second), then under the current key.
    pub(super) fn lookup_indexes(&self, category: Category, normalized: &str) -> Vec<[u8; 32]> {
        self.previous_index
            .iter()
            .map(|(_, k)| k.blind_index(category, normalized))
            .chain(std::iter::once(
                self.index.blind_index(category, normalized),
            ))
            .collect()
    }

    /// Tag of a new ledger entry or checkpoint: always under the current key.
    pub(super) fn ledger_tag(&self, body: &[u8]) -> [u8; 32] {
        self.index.ledger_tag(body)
    }

    /// Whether `tag` verifies under the current key or, during a rotation, the previous
    /// one (entries written before the rotation, or by a process not yet given the new
    /// key; see docs/keys.md).
    pub(super) fn verify_ledger_tag(&self, body: &[u8], tag: &[u8]) -> bool {
        self.index.verify_ledger_tag(body, tag)
            || self
                .previous_index
                .as_ref()
                .is_some_and(|(_, k)| k.verify_ledger_tag(body, tag))
    }

    /// Whether `tag` verifies under the current key alone.
    pub(super) fn verify_ledger_tag_current(&self, body: &[u8], tag: &[u8]) -> bool {
        self.index.verify_ledger_tag(body, tag)
    }

    /// Check values of every version not destroyed and of the index key.
    pub(super) async fn check_values(&self) -> Result<KeyCheck, CryptoError> {
        let mut keks: Vec<_> = self
            .keks
            .versions()
            .await?
            .into_iter()
            .filter_map(|v| v.check.map(|c| (v.version, c)))
            .collect();
        keks.sort_by_key(|(id, _)| *id);
        let mut out = KeyCheck {
            keks,
            ..KeyCheck::default()
        };
        out.set_index_version(self.index_version, self.index.check());
        if let Some((version, k)) = &self.previous_index {
            out.set_index_version(*version, k.check());
        }
        Ok(out)
    }
}

/// What a KEK rotation (or its resumption) did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct KekRotation {
    /// The primary version every live key is now wrapped under.
    pub version: u32,
    /// Live keys re-wrapped by this call.
    pub rewrapped: u64,
    /// Keys found wrapped under a destroyed version (only in a store restored from a
    /// backup older than its window): unreadable for good, left as they are.
    pub unreadable: u64,
}

/// One KEK version on the schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KekEpoch {
    /// The version.
    pub version: u32,
    /// Where it stands.
    pub state: KekState,
    /// Start of its epoch (its creation).
    pub starts_at: DateTime<Utc>,
    /// When the next rotation is due (end of its epoch).
    pub rotate_by: DateTime<Utc>,
    /// When it is destroyed: end of epoch + backup window.
    pub destroy_at: DateTime<Utc>,
}

/// How many times a registration re-wraps its fresh key because rotations keep overtaking
/// it before it gives up with a typed error (each round needs a whole rotation to start
/// between its wrap and its check).
const FRESH_KEY_ROUNDS: usize = 8;

impl Custodian {
    /// Stores a fresh data key of `subject`, wrapped under what was the primary version,
    /// and makes sure it ends up under the primary version.
    ///
    /// A rotation that began between the wrap and the put has already scanned past this
    /// subject, and the version the key is under may be destroyed after that scan (issue
    /// 16: a subject registered during the re-wrap before a destruction would be lost). So
    /// the writer checks after it publishes: it reads the primary version once the key is
    /// stored and, if the key is not under it, re-wraps its own key (it still holds the
    /// material) and stores it again. Whichever of the put and the rotation's scan comes
    /// second sees the other, so no key stays under a version about to be destroyed.
    pub(super) async fn put_fresh_key(
        &self,
        subject: SubjectId,
        material: &KeyMaterial,
        mut wrapped: WrappedKey,
    ) -> Result<(), CustodianError> {
        let h = &self.inner.keyring;
        for round in 0..FRESH_KEY_ROUNDS {
            let under = |version| h.is_under(&wrapped, version);
            let stored = self.inner.keys.put(subject, wrapped.clone()).await;
            match stored {
                Ok(()) => {}
                // Erased meanwhile (only after the first put): the erasure wins.
                Err(StoreError::Shredded(_)) if round > 0 => return Ok(()),
                Err(e) => return Err(e.into()),
            }
            let primary = h.primary_version().await?;
            if under(primary) {
                return Ok(());
            }
            wrapped = h.keks.wrap(subject, material).await?;
        }
        Err(CryptoError::Kms("KEK rotations kept overtaking a registration").into())
    }

    fn epoch(&self) -> Result<TimeDelta, CustodianError> {
        self.inner
            .keyring
            .epoch
            .ok_or(CustodianError::Crypto(CryptoError::RotationUnsupported))
    }

    /// End of epoch and destruction date of a version created at `created_at`.
    fn epoch_dates(
        &self,
        created_at: DateTime<Utc>,
        epoch: TimeDelta,
    ) -> Result<(DateTime<Utc>, DateTime<Utc>), CustodianError> {
        let end = created_at
            .checked_add_signed(epoch)
            .ok_or(CustodianError::TimeOutOfRange)?;
        let destroy = end
            .checked_add_signed(self.inner.backup_window)
            .ok_or(CustodianError::TimeOutOfRange)?;
        Ok((end, destroy))
    }

    /// The KEK schedule: every version with its epoch and destruction date. Empty when the
    /// custodian was built from a [`Keyring`](crate::crypto::Keyring) (no epochs).
    ///
    /// # Errors
    /// KMS failures; [`CustodianError::TimeOutOfRange`].
    pub async fn kek_schedule(&self) -> Result<Vec<KekEpoch>, CustodianError> {
        let Some(epoch) = self.inner.keyring.epoch else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for v in self.inner.keyring.keks.versions().await? {
            let (rotate_by, destroy_at) = self.epoch_dates(v.created_at, epoch)?;
            out.push(KekEpoch {
                version: v.version,
                state: v.state,
                starts_at: v.created_at,
                rotate_by,
                destroy_at,
            });
        }
        Ok(out)
    }

    /// The date after which no backup can decrypt a key deleted now: the destruction date of
    /// the primary version (the newest that can have wrapped it). `None` without epochs.
    pub(super) async fn undecryptable_after(
        &self,
    ) -> Result<Option<DateTime<Utc>>, CustodianError> {
        let schedule = self.kek_schedule().await?;
        Ok(schedule
            .iter()
            .filter(|e| e.state == KekState::Primary)
            .map(|e| e.destroy_at)
            .max())
    }

    /// Rotates the KEK now: creates a new primary version, records its check value, and
    /// re-wraps every live data key under it (field ciphertexts are untouched). Readers and
    /// writers may run meanwhile: the old version keeps unwrapping until it is destroyed, new
    /// keys go to the new version, and a key erased meanwhile stays erased. Killed midway, it
    /// is finished by the next build of a custodian on the store, or by the next
    /// [`rotate_if_due`](Self::rotate_if_due) or
    /// [`finish_kek_rotation`](Self::finish_kek_rotation), whichever comes first.
    ///
    /// # Errors
    /// [`CryptoError::RotationUnsupported`] for a custodian built from a keyring; KMS and
    /// store failures (retrying is safe).
    pub async fn rotate_kek(&self) -> Result<KekRotation, CustodianError> {
        let _maintenance = self.inner.keyring.maintenance.lock().await;
        self.rotate_kek_locked().await
    }

    async fn rotate_kek_locked(&self) -> Result<KekRotation, CustodianError> {
        self.epoch()?;
        let version = self.inner.keyring.keks.rotate(self.now()).await?;
        let checks = self.inner.keyring.check_values().await?;
        let stored = self.inner.keys.set_check_values_if_absent(&checks).await?;
        checks.verify_against(&stored)?;
        let mut report = self.finish_kek_rotation_locked().await?;
        report.version = report.version.max(version);
        Ok(report)
    }

    /// Re-wraps every live key not yet under the primary version (resumes a rotation a
    /// process did not finish). Idempotent.
    ///
    /// # Errors
    /// KMS and store failures.
    pub async fn finish_kek_rotation(&self) -> Result<KekRotation, CustodianError> {
        let _maintenance = self.inner.keyring.maintenance.lock().await;
        self.finish_kek_rotation_locked().await
    }

    async fn finish_kek_rotation_locked(&self) -> Result<KekRotation, CustodianError> {
        let h = &self.inner.keyring;
        let primary = h.primary_version().await?;
        let (mut rewrapped, mut unreadable) = (0_u64, 0_u64);
        for subject in self.inner.keys.subjects().await? {
            let wrapped = match self.inner.keys.get(subject).await {
                Ok(w) => w,
                Err(StoreError::NotFound { .. } | StoreError::Shredded(_)) => continue,
                Err(e) => return Err(e.into()),
            };
            if h.is_under(&wrapped, primary) {
                continue;
            }
            let material = match h.keks.unwrap(subject, &wrapped).await {
                Ok(m) => m,
                Err(CryptoError::KekDestroyed(_)) => {
                    unreadable = unreadable.saturating_add(1);
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            let again = h.keks.wrap(subject, &material).await?;
            // A KMS whose alias still points at an older version (eventual consistency
            // after a rotation) must not make the re-wrap look done: the version is about to
            // be destroyed. A newer version (a concurrent rotation) is fine.
            let same_kek = again.kek_name() == Some(h.keks.name());
            if !same_kek || again.kek_id().is_none_or(|v| v < primary) {
                return Err(CryptoError::Kms(
                    "the KMS wrapped under a version older than the primary; retry later",
                )
                .into());
            }
            match self.inner.keys.put(subject, again).await {
                Ok(()) => rewrapped = rewrapped.saturating_add(1),
                // Erased meanwhile: the erasure wins.
                Err(StoreError::Shredded(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        h.rewrapped_through.fetch_max(primary, Ordering::SeqCst);
        Ok(KekRotation {
            version: primary,
            rewrapped,
            unreadable,
        })
    }

    /// Pins the KEK schedule at build (issue 16): records the epoch and backup window in the
    /// ledger the first time; refuses a longer one later, since erasure reports already
    /// promised dates computed from the recorded one (a longer window would move a
    /// destruction later than promised); records a shorter one.
    pub(super) async fn pin_kek_schedule(&self) -> Result<(), CustodianError> {
        let Some(epoch) = self.inner.keyring.epoch else {
            return Ok(());
        };
        let configured = (epoch.num_seconds(), self.inner.backup_window.num_seconds());
        if let Some(recorded) = self.inner.state.kek_schedule() {
            if configured.0 > recorded.0 {
                return Err(CustodianError::ScheduleLengthened {
                    what: "kek epoch",
                    recorded_days: recorded.0 / 86_400,
                });
            }
            if configured.1 > recorded.1 {
                return Err(CustodianError::ScheduleLengthened {
                    what: "backup window",
                    recorded_days: recorded.1 / 86_400,
                });
            }
            if configured == recorded {
                return Ok(());
            }
        }
        let mut ev = AuditEvent::new(self.now(), AuditKind::KekScheduleSet, SubjectId::DEPLOYMENT);
        ev.reference = Some(format!(
            "kek epoch {} s, backup window {} s",
            configured.0, configured.1
        ));
        self.commit_change(
            LedgerChange::KekScheduleSet {
                epoch_secs: configured.0,
                backup_window_secs: configured.1,
            },
            ev,
        )
        .await?;
        self.catch_up().await
    }

    /// The last key steps of a build, on one listing of the KMS's versions: finish a
    /// rotation left half-done, then refuse a configuration missing a version live keys
    /// are under. `recorded`: the check values the build read from the store.
    pub(super) async fn settle_keks_at_build(
        &self,
        recorded: &KeyCheck,
    ) -> Result<(), CustodianError> {
        let versions = self.inner.keyring.keks.versions().await?;
        self.resume_kek_rotation(&versions).await?;
        self.refuse_orphaned_keys(recorded, &versions).await
    }

    /// Refuses, at build, a configuration that lacks a KEK version the store still has live
    /// keys under (an old key dropped before its rotation finished, or a wrong version id):
    /// otherwise the custodian would serve, wrap new keys under the configured version and
    /// fail each older subject at its first read. Runs only when the store recorded a
    /// version the KMS does not list (not even as destroyed) and the ledger has not retired
    /// it; then reads every wrapped key once and, if none is under such a version, retires
    /// it in the ledger so that later builds skip the scan.
    ///
    /// `recorded` are the check values the build read from the store, `listed` the
    /// versions the KMS listed (both read once per build, by the builder).
    async fn refuse_orphaned_keys(
        &self,
        recorded: &KeyCheck,
        listed: &[KekVersion],
    ) -> Result<(), CustodianError> {
        let missing: Vec<u32> = recorded
            .keks
            .iter()
            .map(|(id, _)| *id)
            .filter(|id| {
                !listed.iter().any(|v| v.version == *id) && !self.inner.state.kek_retired(*id)
            })
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let _maintenance = self.inner.keyring.maintenance.lock().await;
        if let Some(v) = self.first_live_key_under(&missing).await? {
            return Err(CryptoError::UnknownKek(v).into());
        }
        for version in missing {
            let mut ev = AuditEvent::new(self.now(), AuditKind::KekRetired, SubjectId::DEPLOYMENT);
            ev.reference = Some(format!("kek version {version} retired"));
            self.commit_change(LedgerChange::KekRetired { version }, ev)
                .await?;
        }
        self.catch_up().await
    }

    /// Finishes, at build, a KEK rotation a process left half-done (killed mid re-wrap:
    /// keys under two versions). Runs only while an older version is still alive (the
    /// only state in which a key can be under a version other than the primary) and then
    /// reads every wrapped key once: O(live keys) at each such build, paid so that no
    /// custodian starts serving with a rotation pending until the next sweep. Does not
    /// rotate a version whose epoch has ended (that stays the sweep's job).
    ///
    /// `versions` are what the KMS listed at build.
    async fn resume_kek_rotation(&self, versions: &[KekVersion]) -> Result<(), CustodianError> {
        if self.inner.keyring.epoch.is_none() {
            return Ok(());
        }
        if versions.iter().any(|v| v.state == KekState::Enabled) {
            self.finish_kek_rotation().await?;
        }
        Ok(())
    }

    /// Rotates the KEK if the primary version's epoch has ended, or finishes a rotation a
    /// process left half-done. The sweep calls it; a host may call it more often. Does
    /// nothing for a custodian built from a keyring.
    ///
    /// # Errors
    /// KMS and store failures.
    pub async fn rotate_if_due(&self) -> Result<Option<KekRotation>, CustodianError> {
        let Some(epoch) = self.inner.keyring.epoch else {
            return Ok(None);
        };
        let _maintenance = self.inner.keyring.maintenance.lock().await;
        let versions = self.inner.keyring.keks.versions().await?;
        let Some(primary) = versions.iter().find(|v| v.state == KekState::Primary) else {
            return Err(CryptoError::Kms("no primary version").into());
        };
        let (rotate_by, _) = self.epoch_dates(primary.created_at, epoch)?;
        if rotate_by <= self.now() {
            return self.rotate_kek_locked().await.map(Some);
        }
        let older_alive = versions.iter().any(|v| v.state == KekState::Enabled);
        let checked = self.inner.keyring.rewrapped_through.load(Ordering::SeqCst);
        if older_alive && checked < primary.version {
            return self.finish_kek_rotation_locked().await.map(Some);
        }
        Ok(None)
    }

    /// Destroys every KEK version whose destruction date (end of epoch + backup window)
    /// has come. A version still primary is rotated away first and every live key
    /// re-wrapped; then every live key is read again and the destruction is refused while
    /// any is still under a version due (a KMS that keeps wrapping under the old version, a
    /// writer of another process), so no live subject is lost. Returns the versions
    /// destroyed. The sweep calls it: run the sweep at least daily for the dates in erasure
    /// reports to hold to the day.
    ///
    /// # Errors
    /// KMS and store failures; [`CustodianError::TimeOutOfRange`];
    /// [`CryptoError::Kms`] when live keys remain under a version due (nothing destroyed;
    /// retry).
    pub async fn destroy_expired_keks(&self) -> Result<Vec<u32>, CustodianError> {
        let Some(epoch) = self.inner.keyring.epoch else {
            return Ok(Vec::new());
        };
        let _maintenance = self.inner.keyring.maintenance.lock().await;
        let now = self.now();
        let versions = self.inner.keyring.keks.versions().await?;
        let mut due = Vec::new();
        let mut primary_due = false;
        for v in &versions {
            if matches!(v.state, KekState::Destroyed { .. }) {
                continue;
            }
            if self.epoch_dates(v.created_at, epoch)?.1 <= now {
                primary_due |= v.state == KekState::Primary;
                due.push(v.version);
            }
        }
        if due.is_empty() {
            return Ok(due);
        }
        // Nothing live may remain under a version about to go.
        if primary_due {
            self.rotate_kek_locked().await?;
        } else {
            self.finish_kek_rotation_locked().await?;
        }
        self.refuse_live_keys_under(&due).await?;
        for v in &due {
            self.inner.keyring.keks.destroy(*v, now).await?;
        }
        Ok(due)
    }

    /// Reads every live key and refuses if one is under a version in `due`.
    async fn refuse_live_keys_under(&self, due: &[u32]) -> Result<(), CustodianError> {
        if self.first_live_key_under(due).await?.is_some() {
            return Err(CryptoError::Kms(
                "a live key is still under a version due for destruction; nothing destroyed, retry",
            )
            .into());
        }
        Ok(())
    }

    /// Reads every live wrapped key once and returns the first of `versions` one of them
    /// is under, if any (erased and vanished subjects are skipped).
    async fn first_live_key_under(&self, versions: &[u32]) -> Result<Option<u32>, CustodianError> {
        let h = &self.inner.keyring;
        for subject in self.inner.keys.subjects().await? {
            let wrapped = match self.inner.keys.get(subject).await {
                Ok(w) => w,
                Err(StoreError::NotFound { .. } | StoreError::Shredded(_)) => continue,
                Err(e) => return Err(e.into()),
            };
            if let Some(v) = versions.iter().find(|v| h.is_under(&wrapped, **v)) {
                return Ok(Some(*v));
            }
        }
        Ok(None)
    }
}
