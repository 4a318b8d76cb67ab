//! Encryption at rest (clause 8.1) and crypto-shredding (clause 6.2).
//!
//! - **Envelope encryption**: one random 256-bit data key per subject seals that subject's
//!   field values with AES-256-GCM; the data key is stored only *wrapped* (AES-256-GCM) by a
//!   key-encryption key (KEK). The associated data binds subject, kind and record id, so a
//!   ciphertext moved to another row, subject or kind fails to open.
//! - **KEK rotation** re-wraps data keys; field ciphertexts are untouched.
//! - **Crypto-shredding**: erasing a subject destroys its wrapped data key; every copy of its
//!   ciphertexts (including old database files and backups) becomes unreadable.
//! - **Blind index**: HMAC-SHA256 under its own key over the normalized email or E.164 phone,
//!   so a store can find a subject by address without seeing it.
//!
//! Nonces are 96-bit random values from ring's `SystemRandom`; with one key per subject the
//! number of encryptions per key stays far below the 2^32 random-nonce bound.
//! Callers never see nonces or raw keys.
//!
//! Key hygiene: raw key bytes only ever live in `Zeroizing` buffers and are cleared after the
//! ring key is built. ring's expanded AES key schedule (inside `LessSafeKey`) cannot be
//! zeroized from outside the crate; keys are therefore kept only as long as an operation
//! needs them (the custodian unwraps a data key per call and drops it).

mod entropy;
mod error;
mod file;
mod index;
mod kms;
mod registers;

use core::fmt;

use chrono::{DateTime, Utc};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

pub use entropy::{MIN_DISTINCT, check_key_entropy};
pub use error::CryptoError;
pub use file::FileKeks;
pub use index::IndexKey;
pub use kms::{DynKeks, KekState, KekVersion, KeyEncryptionKeys, KeyMaterial, LocalKeks};

use crate::data::{Category, KindRef};
use crate::ids::{RecordId, SubjectId};

#[cfg_attr(
    not(feature = "danger"),
    allow(
        dead_code,
        reason = "the v1 field format without a row header: kept for its tests, benchmarks and fuzzing"
    )
)]
const FIELD_VERSION: u8 = 1;
/// Format byte of `DataKey::seal_row` output: same layout as a field, other associated data.
const ROW_VERSION: u8 = 2;
/// Length of a key check value.
pub const CHECK_LEN: usize = 16;
/// Label of a KEK's check value (HMAC-SHA256 keyed by the KEK bytes).
const KEK_CHECK_LABEL: &[u8] = b"crm-privacy/kek-check/v1";
/// Format byte of a [`WrappedKey`]: `2 ‖ KEK version ‖ name length ‖ name ‖ blob`.
const WRAP_VERSION: u8 = 2;
/// The KEK name a [`Keyring`]'s keys are wrapped under.
pub const KEYRING_KEK_NAME: &str = "local";
const TAG_LEN: usize = 16;
const KEY_LEN: usize = 32;

fn random<const N: usize>() -> Result<Zeroizing<[u8; N]>, CryptoError> {
    let mut b = Zeroizing::new([0_u8; N]);
    SystemRandom::new()
        .fill(&mut b[..])
        .map_err(|_| CryptoError::Random)?;
    Ok(b)
}

/// A deterministic **test-only** secret: 32 bytes of splitmix64 output seeded by `seed`,
/// the same in every process of a test (a fault suite's worker and checker, a reopened
/// store), never a constant or a pattern a low-entropy check would refuse — and never a
/// secret: anyone can compute it. Production keys come from `generate()` or a KMS. Only
/// with the `test-util` feature.
#[cfg(any(test, feature = "test-util"))]
#[must_use]
pub fn test_secret(seed: u8) -> [u8; 32] {
    const GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut x = u64::from(seed) ^ GAMMA;
    let mut out = [0_u8; 32];
    for chunk in out.chunks_exact_mut(8) {
        x = x.wrapping_add(GAMMA);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        chunk.copy_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    out
}

fn aead_key(bytes: &[u8]) -> Result<LessSafeKey, CryptoError> {
    UnboundKey::new(&AES_256_GCM, bytes)
        .map(LessSafeKey::new)
        .map_err(|_| CryptoError::InvalidKey)
}

/// Seals `plaintext` as `version ‖ nonce ‖ ciphertext ‖ tag`.
fn seal(
    key: &LessSafeKey,
    version: u8,
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let nonce = random::<NONCE_LEN>()?;
    let mut out = Vec::with_capacity(1 + NONCE_LEN + plaintext.len() + TAG_LEN);
    out.push(version);
    out.extend_from_slice(&nonce[..]);
    out.extend_from_slice(plaintext);
    let (_, body) = out.split_at_mut(1 + NONCE_LEN);
    registers::settle();
    let tag = key
        .seal_in_place_separate_tag(Nonce::assume_unique_for_key(*nonce), Aad::from(aad), body)
        .map_err(|_| CryptoError::Seal)?;
    out.extend_from_slice(tag.as_ref());
    Ok(out)
}

/// Opens what [`seal`] made; any change to the bytes or the associated data fails.
fn open(
    key: &LessSafeKey,
    version: u8,
    aad: &[u8],
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let (&v, rest) = sealed.split_first().ok_or(CryptoError::Truncated)?;
    if v != version {
        return Err(CryptoError::UnsupportedVersion(v));
    }
    let (nonce, ct) = rest
        .split_first_chunk::<NONCE_LEN>()
        .ok_or(CryptoError::Truncated)?;
    if ct.len() < TAG_LEN {
        return Err(CryptoError::Truncated);
    }
    let mut buf = Zeroizing::new(ct.to_vec());
    registers::settle();
    let n = key
        .open_in_place(
            Nonce::assume_unique_for_key(*nonce),
            Aad::from(aad),
            &mut buf[..],
        )
        .map_err(|_| CryptoError::Authentication)?
        .len();
    buf.truncate(n);
    Ok(buf)
}

/// Emits a method that is public only with the cargo feature `danger` (tests, benchmarks
/// and fuzzing of the primitives) and crate-private otherwise: without the feature, no
/// code outside the crate can unwrap a data key or open a field, so every plaintext passes
/// the custodian's gate and audit (issue 13, item 12).
macro_rules! danger_pub {
    ($(#[$m:meta])* fn $($rest:tt)*) => {
        #[cfg(feature = "danger")]
        $(#[$m])* pub fn $($rest)*
        #[cfg(not(feature = "danger"))]
        $(#[$m])* pub(crate) fn $($rest)*
    };
}

/// A key-encryption key with its id. Zeroized on drop; `Debug` shows only the id.
pub struct Kek {
    id: u32,
    key: LessSafeKey,
    /// HMAC-SHA256(kek bytes, label), truncated: identifies the key without revealing it.
    check: [u8; CHECK_LEN],
    /// Compared with the other keys' at build: one secret, one role.
    role: [u8; 16],
}

impl fmt::Debug for Kek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Kek")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl Kek {
    /// A KEK from 32 secret bytes (from the host's secret manager). The caller should
    /// zeroize its copy.
    ///
    /// # Errors
    /// [`CryptoError::InvalidKey`] unless exactly 32 bytes; [`CryptoError::WeakKey`] for
    /// constant, patterned or sequential bytes ([`check_key_entropy`]).
    pub fn from_bytes(id: u32, bytes: &[u8]) -> Result<Self, CryptoError> {
        if bytes.len() != KEY_LEN {
            return Err(CryptoError::InvalidKey);
        }
        check_key_entropy(bytes)?;
        let mac = hmac::Key::new(hmac::HMAC_SHA256, bytes);
        Ok(Self {
            id,
            key: aead_key(bytes)?,
            check: check_value(&mac, KEK_CHECK_LABEL),
            role: crate::entropy::role_fingerprint(&mac),
        })
    }

    /// A fresh random KEK from the system random source.
    ///
    /// # Errors
    /// [`CryptoError::Random`].
    pub fn generate(id: u32) -> Result<Self, CryptoError> {
        Self::from_bytes(id, &random::<KEY_LEN>()?[..])
    }

    /// The key id.
    #[must_use]
    pub const fn id(&self) -> u32 {
        self.id
    }

    pub(crate) const fn role(&self) -> [u8; 16] {
        self.role
    }
}

/// A subject's data key, unwrapped in memory only while used. Zeroized on drop.
pub struct DataKey {
    subject: SubjectId,
    key: LessSafeKey,
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataKey")
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// A data key wrapped by a KEK: safe to store. It names the KEK and the version it needs:
/// `2 ‖ KEK version (u32 BE) ‖ name length (u8) ‖ name ‖ blob`, where the blob is what the
/// KMS returned (opaque here).
#[derive(Clone, PartialEq, Eq)]
pub struct WrappedKey(Vec<u8>);

impl fmt::Debug for WrappedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "WrappedKey(kek {:?} version {:?}, {} bytes)",
            self.kek_name(),
            self.kek_id(),
            self.0.len()
        )
    }
}

impl WrappedKey {
    /// A wrapped key naming KEK `name`, `version`, around the KMS's ciphertext `blob`. What
    /// an implementation of [`KeyEncryptionKeys::wrap`] returns.
    ///
    /// # Errors
    /// [`CryptoError::KekName`] for a name that is empty, over 64 bytes or not printable
    /// ASCII.
    pub fn new(name: &str, version: u32, blob: &[u8]) -> Result<Self, CryptoError> {
        kms::check_name(name)?;
        let len = u8::try_from(name.len()).map_err(|_| CryptoError::KekName)?;
        let mut out = Vec::with_capacity(6 + name.len() + blob.len());
        out.push(WRAP_VERSION);
        out.extend_from_slice(&version.to_be_bytes());
        out.push(len);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(blob);
        Ok(Self(out))
    }
    /// The name of the KEK that wrapped it, if the bytes are well-formed.
    #[must_use]
    pub fn kek_name(&self) -> Option<&str> {
        if self.0.first() != Some(&WRAP_VERSION) {
            return None;
        }
        let len = usize::from(*self.0.get(5)?);
        core::str::from_utf8(self.0.get(6..6 + len)?).ok()
    }
    /// The ciphertext the KMS returned (what its Decrypt call takes).
    #[must_use]
    pub fn blob(&self) -> Option<&[u8]> {
        let len = usize::from(*self.0.get(5)?);
        self.0.get(6 + len..)
    }
    /// Rebuilds a wrapped key read from storage.
    #[must_use]
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }
    /// The bytes to store.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
    /// The version of the KEK that wrapped it (its id), if the bytes are long enough.
    #[must_use]
    pub fn kek_id(&self) -> Option<u32> {
        self.0
            .get(1..5)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_be_bytes)
    }
}

/// Holds the current KEK (and older ones still able to unwrap) and the blind-index key:
/// the host supplies the KEK bytes itself. A custodian built from one wraps keys through a
/// [`LocalKeks`] named [`KEYRING_KEK_NAME`] that cannot rotate; for KEK epochs use
/// `Custodian::builder_with_kms` with a [`KeyEncryptionKeys`] implementation.
pub struct Keyring {
    current: Kek,
    previous: Vec<Kek>,
    index: IndexKey,
    /// The blind-index key being rotated away from, during a re-index (docs/keys.md).
    previous_index: Option<IndexKey>,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("current", &self.current.id)
            .field(
                "previous",
                &self.previous.iter().map(|k| k.id).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

pub(crate) fn check_value(key: &hmac::Key, label: &[u8]) -> [u8; CHECK_LEN] {
    crate::entropy::label_tag(key, label)
}

/// Non-secret check values of a keyring: one per KEK id and one per blind-index key version.
/// A store keeps the first ones it saw ([`KeyStore::set_check_values_if_absent`]) so that a
/// later build with a different key is refused ([`Keyring::verify_check_values`]).
///
/// Each value is HMAC-SHA256 keyed by the secret over a fixed label, truncated to
/// [`CHECK_LEN`] bytes: it identifies the key without revealing anything about it.
///
/// [`KeyStore::set_check_values_if_absent`]: crate::store::KeyStore::set_check_values_if_absent
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyCheck {
    /// `(KEK id, check value)`, sorted by id, one entry per id.
    pub keks: Vec<(u32, [u8; CHECK_LEN])>,
    /// Check value of the first blind-index secret (version 1), if recorded.
    pub index: Option<[u8; CHECK_LEN]>,
    /// `(version, check value)` of later blind-index secrets (versions 2, 3, ...), sorted,
    /// one entry per version: each is recorded when a rotation to it starts (a build with it
    /// as the current key and the latest recorded one as the previous key).
    pub index_rotations: Vec<(u32, [u8; CHECK_LEN])>,
}

impl KeyCheck {
    /// The value recorded for KEK `id`.
    #[must_use]
    pub fn kek(&self, id: u32) -> Option<&[u8; CHECK_LEN]> {
        self.keks.iter().find(|(k, _)| *k == id).map(|(_, v)| v)
    }

    /// The value recorded for blind-index key version `version` (1 is [`index`](Self::index)).
    #[must_use]
    pub fn index_version(&self, version: u32) -> Option<&[u8; CHECK_LEN]> {
        if version == 1 {
            return self.index.as_ref();
        }
        self.index_rotations
            .iter()
            .find(|(k, _)| *k == version)
            .map(|(_, v)| v)
    }

    /// Every blind-index version recorded, oldest first.
    fn index_versions(&self) -> impl Iterator<Item = (u32, &[u8; CHECK_LEN])> {
        self.index
            .iter()
            .map(|v| (1, v))
            .chain(self.index_rotations.iter().map(|(k, v)| (*k, v)))
    }

    /// The newest blind-index version recorded and its check value.
    #[must_use]
    pub fn latest_index(&self) -> Option<(u32, [u8; CHECK_LEN])> {
        self.index_versions()
            .max_by_key(|(k, _)| *k)
            .map(|(k, v)| (k, *v))
    }

    /// `self` with every entry of `other` whose id (or index version) `self` lacks; entries
    /// already present are never replaced. What a store does in
    /// `set_check_values_if_absent`.
    #[must_use]
    pub fn merged(mut self, other: &Self) -> Self {
        for (id, v) in &other.keks {
            if self.kek(*id).is_none() {
                self.keks.push((*id, *v));
            }
        }
        self.keks.sort_by_key(|(id, _)| *id);
        if self.index.is_none() {
            self.index = other.index;
        }
        for (version, v) in &other.index_rotations {
            if self.index_version(*version).is_none() {
                self.index_rotations.push((*version, *v));
            }
        }
        self.index_rotations.sort_by_key(|(k, _)| *k);
        self
    }

    /// Checks the values of keys held (`self`) against values a store recorded (`stored`):
    /// every KEK version the store knows must match, and so must every blind-index version
    /// both name. A version the store does not know yet (a new one during rotation) is
    /// accepted here; which blind-index versions a keyring may claim is decided before
    /// ([`resolve_index_versions`]).
    ///
    /// # Errors
    /// [`CryptoError::WrongKek`] for the first version that differs,
    /// [`CryptoError::WrongIndexSecret`] if an index secret differs.
    pub fn verify_against(&self, stored: &Self) -> Result<(), CryptoError> {
        for (id, v) in &self.keks {
            if let Some(s) = stored.kek(*id) {
                if !ring_eq(s, v) {
                    return Err(CryptoError::WrongKek { id: *id });
                }
            }
        }
        for (version, m) in self.index_versions() {
            if let Some(s) = stored.index_version(version) {
                if !ring_eq(s, m) {
                    return Err(CryptoError::WrongIndexSecret);
                }
            }
        }
        Ok(())
    }

    /// Records blind-index check value `check` as version `version` (1 goes to
    /// [`index`](Self::index)).
    pub(crate) fn set_index_version(&mut self, version: u32, check: [u8; CHECK_LEN]) {
        if version == 1 {
            self.index = Some(check);
        } else {
            self.index_rotations.retain(|(k, _)| *k != version);
            self.index_rotations.push((version, check));
            self.index_rotations.sort_by_key(|(k, _)| *k);
        }
    }
}

/// Which versions a held blind-index key (and its optional previous) are, against the
/// check values a store recorded ([`resolve_index_versions`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexVersions {
    /// The version of the current key (new blind indexes are computed under it).
    pub current: u32,
    /// The version of the previous key, held during a rotation.
    pub previous: Option<u32>,
    /// True when this build starts a rotation: `current` is a version the store does not
    /// record yet (it is recorded by this build).
    pub starts_rotation: bool,
}

/// Decides which versions the current and previous blind-index keys are, from the check
/// values a store recorded (`stored`; empty before the first build). The only way a new
/// index secret is accepted is the rotation path: it comes with the previous key, and that
/// previous key is the newest version the store records.
///
/// - Nothing recorded: the current key becomes version 1 (with a previous key: the
///   previous is version 1 and the current version 2).
/// - The current key is the newest recorded version `n`: version `n`; a previous key, if
///   given, must be version `n - 1`.
/// - The previous key is the newest recorded version `n` and the current key is not
///   recorded: a rotation starts, the current key becomes version `n + 1`.
///
/// # Errors
/// [`CryptoError::WrongIndexSecret`] in every other case: an unknown secret without its
/// predecessor, a retired (older) version as the current key, a previous key that is not
/// the one before the current.
pub fn resolve_index_versions(
    current: &IndexKey,
    previous: Option<&IndexKey>,
    stored: &KeyCheck,
) -> Result<IndexVersions, CryptoError> {
    let cur = current.check();
    let Some((latest, latest_check)) = stored.latest_index() else {
        return Ok(IndexVersions {
            current: if previous.is_some() { 2 } else { 1 },
            previous: previous.map(|_| 1),
            starts_rotation: previous.is_some(),
        });
    };
    if ring_eq(&latest_check, &cur) {
        let previous = match previous {
            None => None,
            Some(p) => {
                let before = latest.checked_sub(1).ok_or(CryptoError::WrongIndexSecret)?;
                match stored.index_version(before) {
                    Some(s) if ring_eq(s, &p.check()) => Some(before),
                    _ => return Err(CryptoError::WrongIndexSecret),
                }
            }
        };
        return Ok(IndexVersions {
            current: latest,
            previous,
            starts_rotation: false,
        });
    }
    match previous {
        Some(p)
            if ring_eq(&latest_check, &p.check())
                && stored.index_versions().all(|(_, v)| !ring_eq(v, &cur)) =>
        {
            Ok(IndexVersions {
                current: latest.checked_add(1).ok_or(CryptoError::WrongIndexSecret)?,
                previous: Some(latest),
                starts_rotation: true,
            })
        }
        _ => Err(CryptoError::WrongIndexSecret),
    }
}

/// The fixed part of a field's associated data: tag, subject, record, host flag.
#[cfg_attr(
    not(feature = "danger"),
    allow(
        dead_code,
        reason = "the v1 field format without a row header: kept for its tests, benchmarks and fuzzing"
    )
)]
const FIELD_AAD_FIXED: usize = 8 + 16 + 16 + 1;
/// Kind names up to this length (every built-in one) build the AAD on the stack.
#[cfg_attr(
    not(feature = "danger"),
    allow(
        dead_code,
        reason = "the v1 field format without a row header: kept for its tests, benchmarks and fuzzing"
    )
)]
const FIELD_AAD_INLINE_NAME: usize = 48;

/// Calls `f` with the associated data of a field: `crm-fv1\0 ‖ subject ‖ record ‖ host flag ‖
/// kind name`. Built on the stack for names that fit (every built-in kind), so the hot read
/// path does not allocate for it.
#[cfg_attr(
    not(feature = "danger"),
    allow(
        dead_code,
        reason = "the v1 field format without a row header: kept for its tests, benchmarks and fuzzing"
    )
)]
fn with_field_aad<R>(
    subject: SubjectId,
    kind: KindRef,
    record: RecordId,
    f: impl FnOnce(&[u8]) -> R,
) -> R {
    let name = kind.name().as_bytes();
    let mut inline = [0_u8; FIELD_AAD_FIXED + FIELD_AAD_INLINE_NAME];
    let (fixed, rest) = inline.split_at_mut(FIELD_AAD_FIXED);
    let (tag, ids) = fixed.split_at_mut(8);
    tag.copy_from_slice(b"crm-fv1\0");
    let (s, rest_ids) = ids.split_at_mut(16);
    s.copy_from_slice(&subject.to_bytes());
    let (r, flag) = rest_ids.split_at_mut(16);
    r.copy_from_slice(&record.to_bytes());
    flag.fill(u8::from(matches!(kind, KindRef::Host(_))));
    if let Some(slot) = rest.get_mut(..name.len()) {
        slot.copy_from_slice(name);
        let len = FIELD_AAD_FIXED + name.len();
        f(inline.get(..len).unwrap_or_default())
    } else {
        let mut aad = Vec::with_capacity(FIELD_AAD_FIXED + name.len());
        aad.extend_from_slice(inline.get(..FIELD_AAD_FIXED).unwrap_or_default());
        aad.extend_from_slice(name);
        f(&aad)
    }
}

impl Keyring {
    /// A keyring with KEK `current` and a blind-index secret of at least 32 bytes (keep it
    /// separate from the KEK so the index can be rotated or revealed independently).
    ///
    /// # Errors
    /// [`CryptoError::InvalidKey`] unless the index secret is at least 32 bytes;
    /// [`CryptoError::WeakKey`] for a constant, patterned or sequential one;
    /// [`CryptoError::KeyReused`] if it is the KEK's own secret.
    pub fn new(current: Kek, index_secret: &[u8]) -> Result<Self, CryptoError> {
        let index = IndexKey::from_bytes(index_secret)?;
        if index.role() == current.role() {
            return Err(CryptoError::KeyReused);
        }
        Ok(Self::from_parts(current, index))
    }

    /// A keyring with KEK `current` and blind-index key `index`.
    #[must_use]
    pub fn from_parts(current: Kek, index: IndexKey) -> Self {
        Self {
            current,
            previous: Vec::new(),
            index,
            previous_index: None,
        }
    }

    /// A keyring with a random KEK (id 1) and a random blind-index secret — a single
    /// process's demo or test: the keys are not kept anywhere.
    ///
    /// # Errors
    /// [`CryptoError::Random`].
    pub fn generate() -> Result<Self, CryptoError> {
        Ok(Self::from_parts(Kek::generate(1)?, IndexKey::generate()?))
    }

    /// Splits into the KEK versions (a non-rotating [`LocalKeks`], every version created
    /// at `now`), the blind-index key and the previous blind-index key.
    pub(crate) fn into_parts(
        self,
        now: DateTime<Utc>,
    ) -> Result<(LocalKeks, IndexKey, Option<IndexKey>), CryptoError> {
        let keks = LocalKeks::from_keks(
            KEYRING_KEK_NAME,
            std::iter::once(self.current)
                .chain(self.previous)
                .map(|k| (k, now)),
        )?;
        Ok((keks, self.index, self.previous_index))
    }

    /// Keeps `index` as the previous blind-index key during a rotation of the blind-index
    /// key (docs/keys.md): lookups query both keys' indexes, new indexes use the current
    /// key, and `Custodian::finish_index_rotation` re-indexes every record. Drop it once
    /// the rotation is finished.
    #[must_use]
    pub fn with_previous_index(mut self, index: IndexKey) -> Self {
        self.previous_index = Some(index);
        self
    }

    /// Keeps `kek` able to unwrap keys it wrapped earlier (rotation).
    #[must_use]
    pub fn with_previous(mut self, kek: Kek) -> Self {
        self.previous.push(kek);
        self
    }

    /// Role fingerprints of every key held (KEKs and blind-index keys), for the builder's
    /// one-secret-one-role check.
    pub(crate) fn role_fingerprints(&self) -> Vec<[u8; 16]> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .map(Kek::role)
            .chain(std::iter::once(self.index.role()))
            .chain(self.previous_index.as_ref().map(IndexKey::role))
            .collect()
    }

    /// The id of the KEK new keys are wrapped with.
    #[must_use]
    pub const fn current_kek_id(&self) -> u32 {
        self.current.id
    }

    /// Check values of every KEK held (current and previous) and of the current blind-index
    /// secret (as version 1: the versions of a rotation are assigned by the store's record,
    /// see [`resolve_index_versions`]), to record in the store the first time it is used.
    #[must_use]
    pub fn check_values(&self) -> KeyCheck {
        let mut keks: Vec<(u32, [u8; CHECK_LEN])> = std::iter::once(&self.current)
            .chain(&self.previous)
            .map(|k| (k.id, k.check))
            .collect();
        keks.sort_by_key(|(id, _)| *id);
        keks.dedup_by_key(|(id, _)| *id);
        KeyCheck {
            keks,
            index: Some(self.index.check()),
            index_rotations: Vec::new(),
        }
    }

    /// Checks this keyring against check values a store recorded: every held KEK whose id
    /// the store knows must match, and the blind-index keys must be recorded versions (or a
    /// rotation's new key after the newest recorded one, [`resolve_index_versions`]). A KEK id the store
    /// does not know yet (a new KEK during rotation) is accepted; record it afterwards.
    ///
    /// # Errors
    /// [`CryptoError::WrongKek`] for the first KEK that differs,
    /// [`CryptoError::WrongIndexSecret`] if the index secret differs.
    pub fn verify_check_values(&self, stored: &KeyCheck) -> Result<(), CryptoError> {
        let versions = resolve_index_versions(&self.index, self.previous_index.as_ref(), stored)?;
        let mut held = self.check_values();
        held.index = None;
        held.set_index_version(versions.current, self.index.check());
        if let (Some(v), Some(k)) = (versions.previous, &self.previous_index) {
            held.set_index_version(v, k.check());
        }
        held.verify_against(stored)
    }

    danger_pub! {
        #[cfg_attr(
            not(feature = "danger"),
            allow(dead_code, reason = "the custodian wraps through its KeyEncryptionKeys; kept for tests, benchmarks and fuzzing")
        )]
        /// A new random data key for `subject`, and its wrapped form to store.
        ///
        /// # Errors
        /// [`CryptoError::Random`] or [`CryptoError::Seal`].
        fn new_data_key(&self, subject: SubjectId) -> Result<(DataKey, WrappedKey), CryptoError> {
            let raw = random::<KEY_LEN>()?;
            let wrapped = self.wrap_raw(subject, &raw[..])?;
            Ok((
                DataKey {
                    subject,
                    key: aead_key(&raw[..])?,
                },
                wrapped,
            ))
        }
    }

    fn wrap_raw(&self, subject: SubjectId, raw: &[u8]) -> Result<WrappedKey, CryptoError> {
        kms::wrap_local(&self.current, KEYRING_KEK_NAME, subject, raw)
    }

    fn unwrap_raw(
        &self,
        subject: SubjectId,
        wrapped: &WrappedKey,
    ) -> Result<KeyMaterial, CryptoError> {
        if wrapped.kek_name() != Some(KEYRING_KEK_NAME) {
            return Err(CryptoError::KekName);
        }
        let id = wrapped.kek_id().ok_or(CryptoError::Truncated)?;
        let kek = std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.id == id)
            .ok_or(CryptoError::UnknownKek(id))?;
        kms::unwrap_local(&kek.key, KEYRING_KEK_NAME, subject, wrapped)
    }

    danger_pub! {
        #[cfg_attr(
            not(feature = "danger"),
            allow(dead_code, reason = "the custodian wraps through its KeyEncryptionKeys; kept for tests, benchmarks and fuzzing")
        )]
        /// Unwraps a stored data key of `subject`.
        ///
        /// # Errors
        /// [`CryptoError::UnknownKek`] if no held KEK wrapped it, [`CryptoError::Authentication`]
        /// if it was altered or belongs to another subject.
        fn unwrap(&self, subject: SubjectId, wrapped: &WrappedKey) -> Result<DataKey, CryptoError> {
            DataKey::from_material(subject, &self.unwrap_raw(subject, wrapped)?)
        }
    }

    /// Re-wraps a data key under the current KEK (KEK rotation). Field ciphertexts stay as
    /// they are.
    ///
    /// # Errors
    /// As `unwrap`: [`CryptoError::UnknownKek`], [`CryptoError::Authentication`].
    pub fn rewrap(
        &self,
        subject: SubjectId,
        wrapped: &WrappedKey,
    ) -> Result<WrappedKey, CryptoError> {
        let raw = self.unwrap_raw(subject, wrapped)?;
        self.wrap_raw(subject, raw.expose_secret())
    }

    /// Blind index of a normalized lookup value (`Email::as_str`, `Phone::as_e164`), domain
    /// separated by category.
    #[must_use]
    pub fn blind_index(&self, category: Category, normalized: &str) -> [u8; 32] {
        self.index.blind_index(category, normalized)
    }
}

fn ring_eq(a: &[u8], b: &[u8]) -> bool {
    // Constant-time comparison is not needed for public check values, but costs nothing.
    a.len() == b.len() && a.iter().zip(b).fold(0_u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The decision-relevant columns of a stored record, bound into the associated data of
/// `DataKey::seal_row`: a row whose subject, record id, kind, timestamps, version or blind
/// index was changed in storage, or an older ciphertext under newer columns, fails to open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowHeader<'a> {
    /// Owner.
    pub subject: SubjectId,
    /// Record id.
    pub record: RecordId,
    /// Kind name (`KindRef::name`).
    pub kind: &'a str,
    /// Created at (bound at microsecond precision, as stores keep it).
    pub created_at: DateTime<Utc>,
    /// Last updated at (microseconds).
    pub updated_at: DateTime<Utc>,
    /// Record version, bumped on every rewrite.
    pub version: u64,
    /// Blind index, if any.
    pub blind_index: Option<[u8; 32]>,
}

/// Fixed part of a row's associated data: tag, subject, record, two timestamps, version,
/// index flag and index, kind-name length.
const ROW_AAD_FIXED: usize = 8 + 16 + 16 + 8 + 8 + 8 + 1 + 32 + 4;

impl RowHeader<'_> {
    /// The canonical encoding: `crm-rw1\0 ‖ subject ‖ record ‖ created µs (i64 BE) ‖
    /// updated µs ‖ version (u64 BE) ‖ index flag ‖ index (32, zeros if none) ‖
    /// kind length (u32 BE) ‖ kind`. Fixed-width fields, then one length-prefixed name: no
    /// two headers encode alike.
    #[must_use]
    pub fn encode(&self) -> Vec<u8> {
        let kind = self.kind.as_bytes();
        let mut out = Vec::with_capacity(ROW_AAD_FIXED + kind.len());
        out.extend_from_slice(b"crm-rw1\0");
        out.extend_from_slice(&self.subject.to_bytes());
        out.extend_from_slice(&self.record.to_bytes());
        out.extend_from_slice(&self.created_at.timestamp_micros().to_be_bytes());
        out.extend_from_slice(&self.updated_at.timestamp_micros().to_be_bytes());
        out.extend_from_slice(&self.version.to_be_bytes());
        out.push(u8::from(self.blind_index.is_some()));
        out.extend_from_slice(&self.blind_index.unwrap_or([0; 32]));
        out.extend_from_slice(&u32::try_from(kind.len()).unwrap_or(u32::MAX).to_be_bytes());
        out.extend_from_slice(kind);
        out
    }
}

impl DataKey {
    /// The data key of `subject` from unwrapped key material.
    pub(crate) fn from_material(
        subject: SubjectId,
        material: &KeyMaterial,
    ) -> Result<Self, CryptoError> {
        Ok(Self {
            subject,
            key: aead_key(material.expose_secret())?,
        })
    }

    /// The subject this key belongs to.
    #[must_use]
    pub const fn subject(&self) -> SubjectId {
        self.subject
    }

    danger_pub! {
        #[cfg_attr(
            not(feature = "danger"),
            allow(dead_code, reason = "the v1 field format: kept for its tests, benchmarks and fuzzing")
        )]
        /// Seals a field value of `kind` for record `record` of this key's subject.
        ///
        /// # Errors
        /// [`CryptoError::Random`] or [`CryptoError::Seal`].
        fn seal(
            &self,
            kind: KindRef,
            record: RecordId,
            plaintext: &[u8],
        ) -> Result<Vec<u8>, CryptoError> {
            with_field_aad(self.subject, kind, record, |aad| {
                seal(&self.key, FIELD_VERSION, aad, plaintext)
            })
        }
    }

    danger_pub! {
        /// Seals a field value bound to every decision-relevant column of its row (`header`).
        /// The header's subject must be this key's subject.
        ///
        /// # Errors
        /// [`CryptoError::Authentication`] if `header.subject` is another subject;
        /// [`CryptoError::Random`] or [`CryptoError::Seal`].
        fn seal_row(
            &self,
            header: &RowHeader<'_>,
            plaintext: &[u8],
        ) -> Result<Vec<u8>, CryptoError> {
            if header.subject != self.subject {
                return Err(CryptoError::Authentication);
            }
            seal(&self.key, ROW_VERSION, &header.encode(), plaintext)
        }
    }

    danger_pub! {
        /// Opens what [`seal_row`](Self::seal_row) made, for exactly this header.
        ///
        /// # Errors
        /// [`CryptoError::Authentication`] when the ciphertext or any header column was altered,
        /// or the header expects another version than the ciphertext was sealed for;
        /// [`CryptoError::Truncated`] when it is cut short; [`CryptoError::UnsupportedVersion`]
        /// (`1`) for a value sealed by [`seal`](Self::seal), which binds no header.
        fn open_row(
            &self,
            header: &RowHeader<'_>,
            sealed: &[u8],
        ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
            if header.subject != self.subject {
                return Err(CryptoError::Authentication);
            }
            open(&self.key, ROW_VERSION, &header.encode(), sealed)
        }
    }

    danger_pub! {
        #[cfg_attr(
            not(feature = "danger"),
            allow(dead_code, reason = "the v1 field format: kept for its tests, benchmarks and fuzzing")
        )]
        /// Opens a field value sealed for exactly this subject, kind and record.
        ///
        /// # Errors
        /// [`CryptoError::Authentication`] when the ciphertext was altered or moved to another
        /// row, kind or subject; [`CryptoError::Truncated`] when it is cut short.
        fn open(
            &self,
            kind: KindRef,
            record: RecordId,
            sealed: &[u8],
        ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
            with_field_aad(self.subject, kind, record, |aad| {
                open(&self.key, FIELD_VERSION, aad, sealed)
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::test_secret as secret;

    fn ring() -> Keyring {
        Keyring::generate().unwrap()
    }

    #[test]
    fn low_entropy_secrets_are_refused() {
        let counter: Vec<u8> = (0..32).collect();
        let step: Vec<u8> = (0..32).map(|i: u8| i.wrapping_mul(7)).collect();
        let pattern: Vec<u8> = b"abcdefgh".repeat(4);
        for weak in [&[7_u8; 32][..], &[0; 32], &counter, &step, &pattern] {
            assert_eq!(Kek::from_bytes(1, weak).unwrap_err(), CryptoError::WeakKey);
            assert_eq!(
                IndexKey::from_bytes(weak).unwrap_err(),
                CryptoError::WeakKey
            );
            assert_eq!(
                Keyring::new(Kek::generate(1).unwrap(), weak).unwrap_err(),
                CryptoError::WeakKey
            );
        }
        assert_eq!(
            IndexKey::from_bytes(&secret(1)[..31]).unwrap_err(),
            CryptoError::InvalidKey
        );
        for seed in 0..=255 {
            Kek::from_bytes(1, &secret(seed)).unwrap();
            IndexKey::from_bytes(&secret(seed)).unwrap();
        }
        for _ in 0..1000 {
            Kek::generate(1).unwrap();
            IndexKey::generate().unwrap();
        }
    }

    #[test]
    fn wrapped_key_names_kek_and_version() {
        let w = WrappedKey::new("main", 7, b"blob").unwrap();
        assert_eq!(w.kek_name(), Some("main"));
        assert_eq!(w.kek_id(), Some(7));
        assert_eq!(w.blob(), Some(&b"blob"[..]));
        assert!(format!("{w:?}").contains("main"));
        for bad in ["", "a/b", "sp ace", &"x".repeat(65)] {
            assert_eq!(
                WrappedKey::new(bad, 1, b"").unwrap_err(),
                CryptoError::KekName
            );
        }
        assert_eq!(WrappedKey::from_bytes(vec![2, 0, 0]).kek_name(), None);
        assert_eq!(WrappedKey::from_bytes(vec![]).blob(), None);
    }

    /// The associated data is the same bytes whether it is built on the stack or on the heap
    /// (ciphertexts already on disk keep opening), and binds the exact kind name on both
    /// sides of the inline limit.
    #[test]
    #[cfg_attr(
        miri,
        ignore = "ring's C and assembly primitives cannot run under Miri"
    )]
    fn field_aad_layout_and_kind_binding_on_both_paths() {
        let subject = SubjectId::from_bytes([1; 16]);
        let record = RecordId::from_bytes([2; 16]);
        let expected = |host: bool, name: &str| {
            let mut v = b"crm-fv1\0".to_vec();
            v.extend_from_slice(&[1; 16]);
            v.extend_from_slice(&[2; 16]);
            v.push(u8::from(host));
            v.extend_from_slice(name.as_bytes());
            v
        };
        let builtin = KindRef::Builtin(Category::Email);
        with_field_aad(subject, builtin, record, |aad| {
            assert_eq!(aad, expected(false, "email").as_slice());
        });
        let names: Vec<&'static str> = [47, 48, 49, 200]
            .iter()
            .map(|&n| &*"k".repeat(n).leak())
            .collect();
        let (key, _) = ring().new_data_key(subject).unwrap();
        for name in &names {
            let kind = KindRef::Host(name);
            with_field_aad(subject, kind, record, |aad| {
                assert_eq!(aad, expected(true, name).as_slice());
            });
            let sealed = key.seal(kind, record, b"value").unwrap();
            assert_eq!(&**key.open(kind, record, &sealed).unwrap(), b"value");
            let other: &'static str = format!("{name}x").leak();
            assert!(key.open(KindRef::Host(other), record, &sealed).is_err());
        }
    }

    #[test]
    #[cfg_attr(
        miri,
        ignore = "ring's C and assembly primitives cannot run under Miri"
    )]
    fn seal_open_and_binding() {
        let kr = ring();
        let (s, other) = (SubjectId::new_random(), SubjectId::new_random());
        let (dk, wrapped) = kr.new_data_key(s).unwrap();
        let (r1, r2) = (RecordId::new_random(), RecordId::new_random());
        let email = KindRef::Builtin(Category::Email);
        let ct = dk.seal(email, r1, b"alice@example.com").unwrap();
        assert_eq!(&dk.open(email, r1, &ct).unwrap()[..], b"alice@example.com");
        // Moved to another row or kind: refused.
        assert_eq!(
            dk.open(email, r2, &ct).unwrap_err(),
            CryptoError::Authentication
        );
        assert_eq!(
            dk.open(KindRef::Builtin(Category::Phone), r1, &ct)
                .unwrap_err(),
            CryptoError::Authentication
        );
        // Another subject's key, or this key unwrapped as another subject: refused.
        let (dk2, _) = kr.new_data_key(other).unwrap();
        assert_eq!(
            dk2.open(email, r1, &ct).unwrap_err(),
            CryptoError::Authentication
        );
        assert_eq!(
            kr.unwrap(other, &wrapped).unwrap_err(),
            CryptoError::Authentication
        );
        // Round trip through the wrapped form.
        let again = kr.unwrap(s, &wrapped).unwrap();
        assert_eq!(
            &again.open(email, r1, &ct).unwrap()[..],
            b"alice@example.com"
        );
        // Every truncation and every bit flip is refused.
        for n in 0..ct.len() {
            assert!(dk.open(email, r1, &ct[..n]).is_err());
        }
        for i in 0..ct.len() * 8 {
            let mut c = ct.clone();
            c[i / 8] ^= 1 << (i % 8);
            assert!(dk.open(email, r1, &c).is_err(), "flip {i}");
        }
    }

    #[test]
    #[cfg_attr(
        miri,
        ignore = "ring's C and assembly primitives cannot run under Miri"
    )]
    fn kek_rotation_rewraps_without_touching_fields() {
        let old = Kek::from_bytes(1, &secret(1)).unwrap();
        let kr_old = Keyring::new(old, &secret(9)).unwrap();
        let s = SubjectId::new_random();
        let (dk, wrapped) = kr_old.new_data_key(s).unwrap();
        let r = RecordId::new_random();
        let kind = KindRef::Builtin(Category::Phone);
        let ct = dk.seal(kind, r, b"+41446681800").unwrap();
        let kr_new = Keyring::new(Kek::from_bytes(2, &secret(2)).unwrap(), &secret(9))
            .unwrap()
            .with_previous(Kek::from_bytes(1, &secret(1)).unwrap());
        let rewrapped = kr_new.rewrap(s, &wrapped).unwrap();
        assert_eq!(rewrapped.kek_id(), Some(2));
        let kr_only_new =
            Keyring::new(Kek::from_bytes(2, &secret(2)).unwrap(), &secret(9)).unwrap();
        assert_eq!(
            kr_only_new.unwrap(s, &wrapped).unwrap_err(),
            CryptoError::UnknownKek(1)
        );
        let dk2 = kr_only_new.unwrap(s, &rewrapped).unwrap();
        assert_eq!(&dk2.open(kind, r, &ct).unwrap()[..], b"+41446681800");
    }

    #[test]
    #[cfg_attr(
        miri,
        ignore = "ring's C and assembly primitives cannot run under Miri"
    )]
    fn blind_index_is_keyed_and_domain_separated() {
        let kr = ring();
        let a = kr.blind_index(Category::Email, "alice@example.com");
        assert_eq!(a, kr.blind_index(Category::Email, "alice@example.com"));
        assert_ne!(a, kr.blind_index(Category::Phone, "alice@example.com"));
        let other = Keyring::new(Kek::generate(1).unwrap(), &secret(8)).unwrap();
        assert_ne!(a, other.blind_index(Category::Email, "alice@example.com"));
        assert!(format!("{kr:?}").contains("current"));
    }

    #[test]
    #[cfg_attr(
        miri,
        ignore = "ring's C and assembly primitives cannot run under Miri"
    )]
    fn check_values_refuse_a_wrong_kek_or_index_secret() {
        let kr = |kek: u8, idx: u8| {
            Keyring::new(Kek::from_bytes(1, &secret(kek)).unwrap(), &secret(idx)).unwrap()
        };
        let stored = kr(1, 9).check_values();
        assert_eq!(stored.keks.len(), 1);
        kr(1, 9).verify_check_values(&stored).unwrap();
        assert_eq!(
            kr(2, 9).verify_check_values(&stored),
            Err(CryptoError::WrongKek { id: 1 })
        );
        assert_eq!(
            kr(1, 8).verify_check_values(&stored),
            Err(CryptoError::WrongIndexSecret)
        );
        // Blind-index rotation: the new secret only with the recorded one as its previous.
        let idx = |n: u8| IndexKey::from_bytes(&secret(n)).unwrap();
        kr(1, 8)
            .with_previous_index(idx(9))
            .verify_check_values(&stored)
            .unwrap();
        assert_eq!(
            kr(1, 8)
                .with_previous_index(idx(7))
                .verify_check_values(&stored),
            Err(CryptoError::WrongIndexSecret)
        );
        let mut rotated_index = stored.clone();
        rotated_index.set_index_version(2, idx(8).check());
        kr(1, 8).verify_check_values(&rotated_index).unwrap();
        assert_eq!(
            kr(1, 9).verify_check_values(&rotated_index),
            Err(CryptoError::WrongIndexSecret),
            "a retired index secret is refused"
        );
        // Rotation: a new KEK id is accepted, the previous one must still match.
        let rotated = Keyring::new(Kek::from_bytes(2, &secret(7)).unwrap(), &secret(9))
            .unwrap()
            .with_previous(Kek::from_bytes(1, &secret(1)).unwrap());
        rotated.verify_check_values(&stored).unwrap();
        let merged = stored.clone().merged(&rotated.check_values());
        assert_eq!(merged.keks.len(), 2);
        assert_eq!(merged.kek(1), stored.kek(1), "merging never replaces");
        let bad_previous = Keyring::new(Kek::from_bytes(2, &secret(7)).unwrap(), &secret(9))
            .unwrap()
            .with_previous(Kek::from_bytes(1, &secret(3)).unwrap());
        assert_eq!(
            bad_previous.verify_check_values(&merged),
            Err(CryptoError::WrongKek { id: 1 })
        );
        // The check values reveal neither key: they differ from anything derived with the
        // key for blind indexes, and the index label cannot be a blind-index input.
        assert!(Category::from_code(0xff).is_none());
    }

    /// Blind-index versions: a new secret is accepted only as the successor of the newest
    /// recorded one; a retired or unknown secret, or a previous key that is not the one
    /// before, is a wrong secret.
    #[test]
    #[cfg_attr(
        miri,
        ignore = "ring's C and assembly primitives cannot run under Miri"
    )]
    fn index_versions_only_through_the_rotation_path() {
        let k = |n: u8| IndexKey::from_bytes(&secret(n)).unwrap();
        let v = |current, previous, starts_rotation| IndexVersions {
            current,
            previous,
            starts_rotation,
        };
        let empty = KeyCheck::default();
        assert_eq!(
            resolve_index_versions(&k(1), None, &empty),
            Ok(v(1, None, false))
        );
        assert_eq!(
            resolve_index_versions(&k(2), Some(&k(1)), &empty),
            Ok(v(2, Some(1), true))
        );
        let mut stored = KeyCheck::default();
        stored.set_index_version(1, k(1).check());
        assert_eq!(
            resolve_index_versions(&k(1), None, &stored),
            Ok(v(1, None, false))
        );
        let wrong = Err(CryptoError::WrongIndexSecret);
        assert_eq!(resolve_index_versions(&k(2), None, &stored), wrong);
        assert_eq!(resolve_index_versions(&k(2), Some(&k(3)), &stored), wrong);
        assert_eq!(resolve_index_versions(&k(1), Some(&k(2)), &stored), wrong);
        assert_eq!(
            resolve_index_versions(&k(2), Some(&k(1)), &stored),
            Ok(v(2, Some(1), true))
        );
        stored.set_index_version(2, k(2).check());
        // Resumed rotation, finished rotation, the retired key, a key from the past as new.
        assert_eq!(
            resolve_index_versions(&k(2), Some(&k(1)), &stored),
            Ok(v(2, Some(1), false))
        );
        assert_eq!(
            resolve_index_versions(&k(2), None, &stored),
            Ok(v(2, None, false))
        );
        assert_eq!(resolve_index_versions(&k(1), None, &stored), wrong);
        assert_eq!(resolve_index_versions(&k(1), Some(&k(2)), &stored), wrong);
        assert_eq!(
            resolve_index_versions(&k(3), Some(&k(2)), &stored),
            Ok(v(3, Some(2), true))
        );
        // The check values of a held ring against a store: each version compared.
        let mut held = KeyCheck::default();
        held.set_index_version(2, k(9).check());
        assert_eq!(
            held.verify_against(&stored),
            Err(CryptoError::WrongIndexSecret)
        );
        assert_eq!(stored.latest_index().map(|(n, _)| n), Some(2));
    }

    #[test]
    #[cfg_attr(
        miri,
        ignore = "ring's C and assembly primitives cannot run under Miri"
    )]
    fn seal_row_binds_every_header_column() {
        use chrono::TimeDelta;
        let kr = ring();
        let s = SubjectId::new_random();
        let (dk, _) = kr.new_data_key(s).unwrap();
        let t = DateTime::from_timestamp_micros(1_700_000_000_123_456).unwrap();
        let h = RowHeader {
            subject: s,
            record: RecordId::new_random(),
            kind: "email",
            created_at: t,
            updated_at: t + TimeDelta::days(1),
            version: 3,
            blind_index: Some([5; 32]),
        };
        let ct = dk.seal_row(&h, b"alice@example.com").unwrap();
        assert_eq!(&**dk.open_row(&h, &ct).unwrap(), b"alice@example.com");
        let us = TimeDelta::microseconds(1);
        let changed = [
            RowHeader {
                record: RecordId::new_random(),
                ..h
            },
            RowHeader { kind: "phone", ..h },
            RowHeader { kind: "emai", ..h },
            RowHeader {
                created_at: t + us,
                ..h
            },
            RowHeader {
                updated_at: h.updated_at - us,
                ..h
            },
            RowHeader { version: 2, ..h },
            RowHeader { version: 4, ..h },
            RowHeader {
                blind_index: None,
                ..h
            },
            RowHeader {
                blind_index: Some([6; 32]),
                ..h
            },
        ];
        for (i, c) in changed.iter().enumerate() {
            assert_eq!(
                dk.open_row(c, &ct).unwrap_err(),
                CryptoError::Authentication,
                "changed column {i} opened"
            );
        }
        // Another subject's header, a field-sealed value, and every bit flip: refused.
        let other = RowHeader {
            subject: SubjectId::new_random(),
            ..h
        };
        assert_eq!(
            dk.open_row(&other, &ct).unwrap_err(),
            CryptoError::Authentication
        );
        assert!(dk.seal_row(&other, b"x").is_err());
        let v1 = dk
            .seal(KindRef::Builtin(Category::Email), h.record, b"x")
            .unwrap();
        assert_eq!(
            dk.open_row(&h, &v1).unwrap_err(),
            CryptoError::UnsupportedVersion(1)
        );
        assert!(
            dk.open(KindRef::Builtin(Category::Email), h.record, &ct)
                .is_err()
        );
        for i in 0..ct.len() * 8 {
            let mut c = ct.clone();
            c[i / 8] ^= 1 << (i % 8);
            assert!(dk.open_row(&h, &c).is_err(), "flip {i}");
        }
    }
}
