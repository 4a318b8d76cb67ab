//! The KMS boundary (issue 16): [`KeyEncryptionKeys`] wraps and unwraps subjects' data keys
//! under a named, versioned key-encryption key, and creates, lists and destroys its versions.
//!
//! The shape is the common part of AWS KMS, GCP Cloud KMS and Vault transit (see
//! `docs/keys.md` for the call-by-call mapping): `wrap` = Encrypt with the subject id as
//! encryption context / additional authenticated data, `unwrap` = Decrypt, `rotate` = a new
//! primary version, `destroy` = ScheduleKeyDeletion / CryptoKeyVersion destroy /
//! `min_decryption_version` + trim. Two implementations ship: [`LocalKeks`] (keys in
//! memory) and [`FileKeks`](super::FileKeks) (a directory of version files).
//!
//! Trust: whoever holds the trait object can unwrap every data key, exactly as whoever holds
//! the KMS credentials can. Only the composition root builds one and hands it to the
//! custodian; the custodian hands it to nobody.

use core::fmt;
use std::collections::BTreeMap;
use std::sync::{Arc, PoisonError, RwLock};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ring::aead::{Aad, LessSafeKey, NONCE_LEN, Nonce};
use zeroize::Zeroizing;

use super::{CHECK_LEN, CryptoError, KEY_LEN, Kek, TAG_LEN, WrappedKey, seal};
use crate::ids::SubjectId;

/// Format byte of a local KEK's blob inside a [`WrappedKey`].
const LOCAL_BLOB_VERSION: u8 = 2;

/// A subject's data key in the clear, as it crosses the KMS boundary: 32 bytes, zeroized on
/// drop, `Debug` redacted. Implementations of [`KeyEncryptionKeys`] read it to encrypt and
/// build it from what they decrypt.
pub struct KeyMaterial(Zeroizing<[u8; KEY_LEN]>);

impl fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyMaterial(redacted)")
    }
}

impl KeyMaterial {
    /// Key material from decrypted bytes.
    ///
    /// # Errors
    /// [`CryptoError::InvalidKey`] unless exactly 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        let mut k = Zeroizing::new([0_u8; KEY_LEN]);
        if bytes.len() != KEY_LEN {
            return Err(CryptoError::InvalidKey);
        }
        k.copy_from_slice(bytes);
        Ok(Self(k))
    }
    /// Fresh random key material (a new subject's data key).
    ///
    /// # Errors
    /// [`CryptoError::Random`].
    pub fn generate() -> Result<Self, CryptoError> {
        Ok(Self(super::random::<KEY_LEN>()?))
    }
    /// The secret bytes, to hand to the KMS's Encrypt call.
    #[must_use]
    pub fn expose_secret(&self) -> &[u8] {
        &self.0[..]
    }
}

/// Where a KEK version stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum KekState {
    /// New data keys are wrapped under it. Exactly one version is primary.
    Primary,
    /// Unwraps what it wrapped earlier; wraps nothing new.
    Enabled,
    /// Destroyed: nothing it wrapped can be unwrapped again, anywhere.
    Destroyed {
        /// When it was destroyed.
        at: DateTime<Utc>,
    },
}

/// One version of a named KEK.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct KekVersion {
    /// Version number, increasing with each rotation.
    pub version: u32,
    /// When it was created (the start of its epoch).
    pub created_at: DateTime<Utc>,
    /// Where it stands.
    pub state: KekState,
    /// A non-secret value identifying the key material (HMAC of the key over a fixed label)
    /// so a store can refuse a different key under the same version; `None` where the KMS
    /// cannot give one (the custodian then relies on unwrap failing).
    #[serde(skip)]
    pub check: Option<[u8; CHECK_LEN]>,
}

/// A named, versioned key-encryption key behind a KMS-shaped boundary.
///
/// Contract every implementation keeps (the custodian's schedule relies on it):
/// - [`wrap`](Self::wrap) uses the primary version and returns a [`WrappedKey`] naming this
///   KEK ([`name`](Self::name)) and that version ([`WrappedKey::new`]); the subject id is
///   bound as associated data, so a wrapped key moved to another subject does not unwrap.
/// - [`unwrap`](Self::unwrap) works for every version not destroyed, refuses a wrapped key
///   of another KEK name ([`CryptoError::KekName`]) and of a destroyed version
///   ([`CryptoError::KekDestroyed`]).
/// - [`rotate`](Self::rotate) creates a new primary version; older versions stay enabled.
/// - [`destroy`](Self::destroy) is final; the primary version cannot be destroyed.
#[async_trait]
pub trait KeyEncryptionKeys: fmt::Debug + Send + Sync + 'static {
    /// The KEK's name (AWS key alias, GCP CryptoKey name, Vault transit key name).
    fn name(&self) -> &str;
    /// Wraps `key` of `subject` under the primary version.
    ///
    /// # Errors
    /// [`CryptoError::Kms`] when the service fails; [`CryptoError::Random`].
    async fn wrap(&self, subject: SubjectId, key: &KeyMaterial) -> Result<WrappedKey, CryptoError>;
    /// Unwraps a data key of `subject`.
    ///
    /// # Errors
    /// [`CryptoError::KekName`], [`CryptoError::UnknownKek`], [`CryptoError::KekDestroyed`],
    /// [`CryptoError::Authentication`] (altered or another subject's), [`CryptoError::Kms`].
    async fn unwrap(
        &self,
        subject: SubjectId,
        wrapped: &WrappedKey,
    ) -> Result<KeyMaterial, CryptoError>;
    /// Unwraps without waiting, for implementations whose KEK versions live in this
    /// process's memory: `Some` with what [`unwrap`](Self::unwrap) would return, or `None`
    /// (the default) when the answer needs the service — then the caller awaits `unwrap`.
    ///
    /// The custodian tries it first on every read of a subject's field, which spares the
    /// boxed future of the async call ([`LocalKeks`] and [`FileKeks`](super::FileKeks)
    /// implement it; a remote KMS keeps the default). It must agree with `unwrap` exactly,
    /// errors included.
    fn unwrap_in_process(
        &self,
        subject: SubjectId,
        wrapped: &WrappedKey,
    ) -> Option<Result<KeyMaterial, CryptoError>> {
        let _ = (subject, wrapped);
        None
    }
    /// Creates a new primary version, created at `now` (the custodian's clock), and returns
    /// its number. A concurrent rotation by another process may win: the result is then
    /// its version.
    ///
    /// # Errors
    /// [`CryptoError::RotationUnsupported`], [`CryptoError::Kms`], [`CryptoError::Random`].
    async fn rotate(&self, now: DateTime<Utc>) -> Result<u32, CryptoError>;
    /// Destroys `version` for good at `now`. Destroying a destroyed version is a no-op.
    ///
    /// # Errors
    /// [`CryptoError::UnknownKek`]; [`CryptoError::Kms`], also for the primary version.
    async fn destroy(&self, version: u32, now: DateTime<Utc>) -> Result<(), CryptoError>;
    /// Every version, oldest first, destroyed ones included.
    ///
    /// # Errors
    /// [`CryptoError::Kms`].
    async fn versions(&self) -> Result<Vec<KekVersion>, CryptoError>;
}

/// Shared trait object.
pub type DynKeks = Arc<dyn KeyEncryptionKeys>;

/// Longest KEK name ([`check_name`]).
const MAX_NAME: usize = 64;

/// Associated data of a wrapped data key: `crm-dk2\0 ‖ subject ‖ version (u32 BE) ‖ name`,
/// built on the stack (the unwrap path runs on every read of a subject's field).
struct WrapAad {
    buf: [u8; 8 + 16 + 4 + MAX_NAME],
    len: usize,
}

impl WrapAad {
    fn new(subject: SubjectId, name: &str, version: u32) -> Result<Self, CryptoError> {
        let mut buf = [0_u8; 8 + 16 + 4 + MAX_NAME];
        let (tag, rest) = buf.split_at_mut(8);
        tag.copy_from_slice(b"crm-dk2\0");
        let (s, rest) = rest.split_at_mut(16);
        s.copy_from_slice(&subject.to_bytes());
        let (v, rest) = rest.split_at_mut(4);
        v.copy_from_slice(&version.to_be_bytes());
        rest.get_mut(..name.len())
            .ok_or(CryptoError::KekName)?
            .copy_from_slice(name.as_bytes());
        Ok(Self {
            buf,
            len: 8 + 16 + 4 + name.len(),
        })
    }

    fn bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }
}

/// Wraps `raw` under `kek` (a local version of KEK `name`).
pub(crate) fn wrap_local(
    kek: &Kek,
    name: &str,
    subject: SubjectId,
    raw: &[u8],
) -> Result<WrappedKey, CryptoError> {
    let aad = WrapAad::new(subject, name, kek.id)?;
    let blob = seal(&kek.key, LOCAL_BLOB_VERSION, aad.bytes(), raw)?;
    WrappedKey::new(name, kek.id, &blob)
}

/// Opens what [`wrap_local`] made with the AES key of that version.
pub(crate) fn unwrap_local(
    key: &LessSafeKey,
    name: &str,
    subject: SubjectId,
    wrapped: &WrappedKey,
) -> Result<KeyMaterial, CryptoError> {
    let version = wrapped.kek_id().ok_or(CryptoError::Truncated)?;
    let aad = WrapAad::new(subject, name, version)?;
    // Opened in a stack buffer of the one size a wrapped data key has: no allocation on the
    // read path (same checks as `open`).
    let blob = wrapped.blob().ok_or(CryptoError::Truncated)?;
    let (&v, rest) = blob.split_first().ok_or(CryptoError::Truncated)?;
    if v != LOCAL_BLOB_VERSION {
        return Err(CryptoError::UnsupportedVersion(v));
    }
    let (nonce, ct) = rest
        .split_first_chunk::<NONCE_LEN>()
        .ok_or(CryptoError::Truncated)?;
    let mut buf = Zeroizing::new([0_u8; KEY_LEN + TAG_LEN]);
    if ct.len() < buf.len() {
        return Err(CryptoError::Truncated);
    }
    if ct.len() > buf.len() {
        return Err(CryptoError::Authentication);
    }
    buf.copy_from_slice(ct);
    super::registers::settle();
    let plain = key
        .open_in_place(
            Nonce::assume_unique_for_key(*nonce),
            Aad::from(aad.bytes()),
            &mut buf[..],
        )
        .map_err(|_| CryptoError::Authentication)?;
    KeyMaterial::from_bytes(plain)
}

/// One version held in memory.
#[derive(Debug)]
pub(crate) struct Slot {
    pub(crate) kek: Option<Kek>,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) destroyed_at: Option<DateTime<Utc>>,
}

/// The versions of one KEK in memory; shared by [`LocalKeks`] and the cache of
/// [`FileKeks`](super::FileKeks).
#[derive(Debug, Default)]
pub(crate) struct Versions {
    pub(crate) slots: BTreeMap<u32, Slot>,
}

impl Versions {
    /// The primary version: the highest one not destroyed.
    pub(crate) fn primary(&self) -> Option<&Kek> {
        self.slots.values().rev().find_map(|s| s.kek.as_ref())
    }

    pub(crate) fn unwrap(
        &self,
        name: &str,
        subject: SubjectId,
        wrapped: &WrappedKey,
    ) -> Result<KeyMaterial, CryptoError> {
        if wrapped.kek_name() != Some(name) {
            return Err(CryptoError::KekName);
        }
        let version = wrapped.kek_id().ok_or(CryptoError::Truncated)?;
        let slot = self
            .slots
            .get(&version)
            .ok_or(CryptoError::UnknownKek(version))?;
        let kek = slot
            .kek
            .as_ref()
            .ok_or(CryptoError::KekDestroyed(version))?;
        unwrap_local(&kek.key, name, subject, wrapped)
    }

    pub(crate) fn list(&self) -> Vec<KekVersion> {
        let primary = self.primary().map(Kek::id);
        self.slots
            .iter()
            .map(|(v, s)| KekVersion {
                version: *v,
                created_at: s.created_at,
                state: match (&s.kek, s.destroyed_at) {
                    (Some(_), _) if Some(*v) == primary => KekState::Primary,
                    (Some(_), _) => KekState::Enabled,
                    (None, at) => KekState::Destroyed {
                        at: at.unwrap_or(s.created_at),
                    },
                },
                check: s.kek.as_ref().map(|k| k.check),
            })
            .collect()
    }
}

/// Checks a KEK name: 1 to 64 bytes of printable ASCII without `/` (it names files and
/// remote keys).
pub(crate) fn check_name(name: &str) -> Result<(), CryptoError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME
        && name.bytes().all(|b| b.is_ascii_graphic() && b != b'/');
    if ok {
        Ok(())
    } else {
        Err(CryptoError::KekName)
    }
}

/// KEK versions held in this process's memory: for tests, single-process demos, and hosts
/// that hand the custodian KEK bytes from their own secret manager ([`Keyring`](super::Keyring)
/// becomes one of these).
///
/// Built by [`generate`](Self::generate), it can rotate (the new versions live only in
/// memory: lost at exit — use [`FileKeks`](super::FileKeks) or a real KMS for data that
/// outlives the process). Built from host-supplied keys ([`from_keks`](Self::from_keks)), it
/// refuses to rotate ([`CryptoError::RotationUnsupported`]).
pub struct LocalKeks {
    name: String,
    versions: RwLock<Versions>,
    can_rotate: bool,
}

impl fmt::Debug for LocalKeks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalKeks")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl LocalKeks {
    /// A KEK named `name` with one random version (1), created at `now`; can rotate.
    ///
    /// # Errors
    /// [`CryptoError::KekName`], [`CryptoError::Random`].
    pub fn generate(name: &str, now: DateTime<Utc>) -> Result<Self, CryptoError> {
        check_name(name)?;
        let mut versions = Versions::default();
        versions.slots.insert(
            1,
            Slot {
                kek: Some(Kek::generate(1)?),
                created_at: now,
                destroyed_at: None,
            },
        );
        Ok(Self {
            name: name.to_owned(),
            versions: RwLock::new(versions),
            can_rotate: true,
        })
    }

    /// A KEK named `name` whose versions are the given keys (version = [`Kek::id`], created
    /// at the instant given with each). The highest version is primary. Cannot rotate.
    ///
    /// # Errors
    /// [`CryptoError::KekName`]; [`CryptoError::InvalidKey`] for no key or a repeated id.
    pub fn from_keks(
        name: &str,
        keks: impl IntoIterator<Item = (Kek, DateTime<Utc>)>,
    ) -> Result<Self, CryptoError> {
        check_name(name)?;
        let mut versions = Versions::default();
        for (kek, created_at) in keks {
            let id = kek.id;
            let slot = Slot {
                kek: Some(kek),
                created_at,
                destroyed_at: None,
            };
            if versions.slots.insert(id, slot).is_some() {
                return Err(CryptoError::InvalidKey);
            }
        }
        if versions.slots.is_empty() {
            return Err(CryptoError::InvalidKey);
        }
        Ok(Self {
            name: name.to_owned(),
            versions: RwLock::new(versions),
            can_rotate: false,
        })
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Versions> {
        self.versions.read().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl KeyEncryptionKeys for LocalKeks {
    fn name(&self) -> &str {
        &self.name
    }

    async fn wrap(&self, subject: SubjectId, key: &KeyMaterial) -> Result<WrappedKey, CryptoError> {
        let v = self.read();
        let kek = v.primary().ok_or(CryptoError::Kms("no enabled version"))?;
        wrap_local(kek, &self.name, subject, key.expose_secret())
    }

    async fn unwrap(
        &self,
        subject: SubjectId,
        wrapped: &WrappedKey,
    ) -> Result<KeyMaterial, CryptoError> {
        self.read().unwrap(&self.name, subject, wrapped)
    }

    fn unwrap_in_process(
        &self,
        subject: SubjectId,
        wrapped: &WrappedKey,
    ) -> Option<Result<KeyMaterial, CryptoError>> {
        Some(self.read().unwrap(&self.name, subject, wrapped))
    }

    async fn rotate(&self, now: DateTime<Utc>) -> Result<u32, CryptoError> {
        if !self.can_rotate {
            return Err(CryptoError::RotationUnsupported);
        }
        let mut v = self
            .versions
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let next = v
            .slots
            .keys()
            .next_back()
            .copied()
            .unwrap_or(0)
            .checked_add(1)
            .ok_or(CryptoError::Kms("version numbers exhausted"))?;
        v.slots.insert(
            next,
            Slot {
                kek: Some(Kek::generate(next)?),
                created_at: now,
                destroyed_at: None,
            },
        );
        Ok(next)
    }

    async fn destroy(&self, version: u32, now: DateTime<Utc>) -> Result<(), CryptoError> {
        let mut v = self
            .versions
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if v.primary().map(Kek::id) == Some(version) {
            return Err(CryptoError::Kms("the primary version cannot be destroyed"));
        }
        let slot = v
            .slots
            .get_mut(&version)
            .ok_or(CryptoError::UnknownKek(version))?;
        if slot.kek.take().is_some() {
            slot.destroyed_at = Some(now);
        }
        Ok(())
    }

    async fn versions(&self) -> Result<Vec<KekVersion>, CryptoError> {
        Ok(self.read().list())
    }
}
