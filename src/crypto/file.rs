//! [`FileKeks`]: KEK versions as files in one directory (one file per version).
//!
//! Layout, for KEK `name`:
//! - `name.v<version>.kek` — `crmkek1\0 ‖ created µs (i64 BE) ‖ 32 key bytes`, mode 0600;
//! - `name.v<version>.destroyed` — `crmkekd\0 ‖ created µs ‖ destroyed µs`: the tombstone
//!   left when a version is destroyed (its key file is overwritten with zeros, synced and
//!   removed).
//!
//! Every file is written to a temporary name, synced, then hard-linked to its final name
//! (which fails if the name exists: two processes rotating at once cannot both create the
//! same version) and the directory synced. A kill at any point leaves either no file or a
//! complete one; a tombstone beside a key file (killed mid-destroy) finishes the destroy at
//! the next load.

use core::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{PoisonError, RwLock};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use zeroize::Zeroizing;

use super::kms::{Slot, Versions, check_name};
use super::{CryptoError, KEY_LEN, Kek, KekVersion, KeyEncryptionKeys, KeyMaterial, WrappedKey};
use crate::ids::SubjectId;

const KEY_MAGIC: &[u8; 8] = b"crmkek1\0";
const TOMB_MAGIC: &[u8; 8] = b"crmkekd\0";
const KEY_FILE_LEN: usize = 8 + 8 + KEY_LEN;

/// KEK versions kept as files in a directory the host protects (its own volume, not in any
/// database backup). Rotation writes a new version file; destruction overwrites and removes
/// it. Processes sharing the directory see each other's rotations at their next wrap (which
/// re-reads the directory) and each other's destructions at their next wrap or
/// [`versions`](KeyEncryptionKeys::versions) call.
///
/// Overwriting a file does not reach copies a journaling or copy-on-write file system, an
/// SSD's remapped blocks or a snapshot of the volume may keep: put the directory on a volume
/// that is itself not backed up beyond the backup window, or use a KMS.
pub struct FileKeks {
    dir: PathBuf,
    name: String,
    cache: RwLock<Versions>,
}

impl fmt::Debug for FileKeks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileKeks")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

fn io(what: &'static str) -> impl FnOnce(std::io::Error) -> CryptoError {
    move |_| CryptoError::Kms(what)
}

fn micros(t: DateTime<Utc>) -> [u8; 8] {
    t.timestamp_micros().to_be_bytes()
}

fn instant(b: &[u8]) -> Option<DateTime<Utc>> {
    let a: [u8; 8] = b.try_into().ok()?;
    DateTime::from_timestamp_micros(i64::from_be_bytes(a))
}

fn sync_dir(dir: &Path) -> Result<(), CryptoError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io("sync the key directory"))
}

/// Writes `bytes` to `dir/name` atomically, mode 0600; `Ok(false)` if `name` exists.
fn write_new(dir: &Path, name: &str, bytes: &[u8]) -> Result<bool, CryptoError> {
    let suffix = super::random::<8>()?;
    let tmp = dir.join(format!(
        ".{name}.tmp-{}",
        data_encoding::HEXLOWER.encode(&suffix[..])
    ));
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let result = (|| {
        let mut f = opts.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::hard_link(&tmp, dir.join(name))
    })();
    let _ = fs::remove_file(&tmp);
    match result {
        Ok(()) => {
            sync_dir(dir)?;
            Ok(true)
        }
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(false),
        Err(_) => Err(CryptoError::Kms("write a key file")),
    }
}

/// Overwrites `path` with zeros, syncs it and removes it (a missing file is fine).
fn shred(path: &Path) -> Result<(), CryptoError> {
    match OpenOptions::new().write(true).open(path) {
        Ok(mut f) => {
            f.write_all(&[0_u8; KEY_FILE_LEN])
                .and_then(|()| f.sync_all())
                .map_err(io("overwrite a key file"))?;
            fs::remove_file(path).map_err(io("remove a key file"))
        }
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(_) => Err(CryptoError::Kms("open a key file")),
    }
}

impl FileKeks {
    /// Unwraps from the versions in memory, re-reading the directory once for a version
    /// another process created since.
    fn unwrap_now(
        &self,
        subject: SubjectId,
        wrapped: &WrappedKey,
    ) -> Result<KeyMaterial, CryptoError> {
        let first = self.read().unwrap(&self.name, subject, wrapped);
        match first {
            Err(CryptoError::UnknownKek(_)) => {
                self.refresh()?;
                self.read().unwrap(&self.name, subject, wrapped)
            }
            other => other,
        }
    }

    /// Opens KEK `name` in `dir` (which must exist), creating version 1 at `now` if the
    /// directory holds no version of it yet.
    ///
    /// # Errors
    /// [`CryptoError::KekName`]; [`CryptoError::Kms`] for I/O failures or a malformed file;
    /// [`CryptoError::WeakKey`] for a key file with patterned bytes.
    pub fn open(dir: &Path, name: &str, now: DateTime<Utc>) -> Result<Self, CryptoError> {
        check_name(name)?;
        let keks = Self {
            dir: dir.to_owned(),
            name: name.to_owned(),
            cache: RwLock::new(Versions::default()),
        };
        keks.refresh()?;
        let empty = keks.read().slots.is_empty();
        if empty {
            keks.create_version(1, now)?;
            keks.refresh()?;
        }
        Ok(keks)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Versions> {
        self.cache.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn key_file(&self, version: u32) -> String {
        format!("{}.v{version}.kek", self.name)
    }

    fn tomb_file(&self, version: u32) -> String {
        format!("{}.v{version}.destroyed", self.name)
    }

    /// `(version, is tombstone)` of a file name of this KEK.
    fn parse_name(&self, file: &str) -> Option<(u32, bool)> {
        let rest = file.strip_prefix(&self.name)?.strip_prefix(".v")?;
        let (num, tomb) = if let Some(n) = rest.strip_suffix(".kek") {
            (n, false)
        } else {
            (rest.strip_suffix(".destroyed")?, true)
        };
        if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some((num.parse().ok()?, tomb))
    }

    fn create_version(&self, version: u32, now: DateTime<Utc>) -> Result<bool, CryptoError> {
        let key = super::random::<KEY_LEN>()?;
        let mut bytes = Zeroizing::new(Vec::with_capacity(KEY_FILE_LEN));
        bytes.extend_from_slice(KEY_MAGIC);
        bytes.extend_from_slice(&micros(now));
        bytes.extend_from_slice(&key[..]);
        write_new(&self.dir, &self.key_file(version), &bytes)
    }

    fn load_key(&self, version: u32) -> Result<Slot, CryptoError> {
        let mut buf = Zeroizing::new(Vec::with_capacity(KEY_FILE_LEN));
        File::open(self.dir.join(self.key_file(version)))
            .and_then(|f| f.take(KEY_FILE_LEN as u64 + 1).read_to_end(&mut buf))
            .map_err(io("read a key file"))?;
        let malformed = CryptoError::Kms("malformed key file");
        if buf.len() != KEY_FILE_LEN || buf.get(..8) != Some(&KEY_MAGIC[..]) {
            return Err(malformed);
        }
        let created_at = buf.get(8..16).and_then(instant).ok_or(malformed)?;
        let kek = Kek::from_bytes(version, buf.get(16..).ok_or(malformed)?)?;
        Ok(Slot {
            kek: Some(kek),
            created_at,
            destroyed_at: None,
        })
    }

    fn load_tomb(&self, version: u32) -> Result<Slot, CryptoError> {
        let buf =
            fs::read(self.dir.join(self.tomb_file(version))).map_err(io("read a tombstone"))?;
        let malformed = CryptoError::Kms("malformed tombstone");
        if buf.len() != 24 || buf.get(..8) != Some(&TOMB_MAGIC[..]) {
            return Err(malformed);
        }
        Ok(Slot {
            kek: None,
            created_at: buf.get(8..16).and_then(instant).ok_or(malformed)?,
            destroyed_at: Some(buf.get(16..24).and_then(instant).ok_or(malformed)?),
        })
    }

    /// Re-reads the directory: loads new versions, drops destroyed ones, and finishes a
    /// destroy a kill cut short (tombstone written, key file still there).
    fn refresh(&self) -> Result<(), CryptoError> {
        let mut found: Vec<(u32, bool)> = Vec::new();
        for entry in fs::read_dir(&self.dir).map_err(io("list the key directory"))? {
            let entry = entry.map_err(io("list the key directory"))?;
            if let Some(parsed) = entry.file_name().to_str().and_then(|n| self.parse_name(n)) {
                found.push(parsed);
            }
        }
        let tombs: Vec<u32> = found.iter().filter(|f| f.1).map(|f| f.0).collect();
        let mut cache = self.cache.write().unwrap_or_else(PoisonError::into_inner);
        for v in &tombs {
            if cache.slots.get(v).is_none_or(|s| s.kek.is_some()) {
                shred(&self.dir.join(self.key_file(*v)))?;
                cache.slots.insert(*v, self.load_tomb(*v)?);
            }
        }
        for (v, _) in found.iter().filter(|f| !f.1 && !tombs.contains(&f.0)) {
            if !cache.slots.contains_key(v) {
                cache.slots.insert(*v, self.load_key(*v)?);
            }
        }
        Ok(())
    }
}

#[async_trait]
impl KeyEncryptionKeys for FileKeks {
    fn name(&self) -> &str {
        &self.name
    }

    async fn wrap(&self, subject: SubjectId, key: &KeyMaterial) -> Result<WrappedKey, CryptoError> {
        self.refresh()?;
        let v = self.read();
        let kek = v.primary().ok_or(CryptoError::Kms("no enabled version"))?;
        super::kms::wrap_local(kek, &self.name, subject, key.expose_secret())
    }

    async fn unwrap(
        &self,
        subject: SubjectId,
        wrapped: &WrappedKey,
    ) -> Result<KeyMaterial, CryptoError> {
        self.unwrap_now(subject, wrapped)
    }

    fn unwrap_in_process(
        &self,
        subject: SubjectId,
        wrapped: &WrappedKey,
    ) -> Option<Result<KeyMaterial, CryptoError>> {
        Some(self.unwrap_now(subject, wrapped))
    }

    async fn rotate(&self, now: DateTime<Utc>) -> Result<u32, CryptoError> {
        self.refresh()?;
        let next = self
            .read()
            .slots
            .keys()
            .next_back()
            .copied()
            .unwrap_or(0)
            .checked_add(1)
            .ok_or(CryptoError::Kms("version numbers exhausted"))?;
        // Lost a race with another process: its version is the new primary.
        let _created = self.create_version(next, now)?;
        self.refresh()?;
        self.read()
            .primary()
            .map(Kek::id)
            .ok_or(CryptoError::Kms("no enabled version"))
    }

    async fn destroy(&self, version: u32, now: DateTime<Utc>) -> Result<(), CryptoError> {
        self.refresh()?;
        let created_at = {
            let v = self.read();
            if v.primary().map(Kek::id) == Some(version) {
                return Err(CryptoError::Kms("the primary version cannot be destroyed"));
            }
            v.slots
                .get(&version)
                .ok_or(CryptoError::UnknownKek(version))?
                .created_at
        };
        let mut tomb = Vec::with_capacity(24);
        tomb.extend_from_slice(TOMB_MAGIC);
        tomb.extend_from_slice(&micros(created_at));
        tomb.extend_from_slice(&micros(now));
        let _new = write_new(&self.dir, &self.tomb_file(version), &tomb)?;
        shred(&self.dir.join(self.key_file(version)))?;
        sync_dir(&self.dir)?;
        self.refresh()
    }

    async fn versions(&self) -> Result<Vec<KekVersion>, CryptoError> {
        self.refresh()?;
        Ok(self.read().list())
    }
}
