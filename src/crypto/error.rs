//! Errors of sealing and opening.

/// Why a seal, open, wrap or unwrap failed. Never contains key material or plaintext.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// The system random source failed.
    #[error("system random source failed")]
    Random,
    /// Key bytes of the wrong length.
    #[error("key has the wrong length")]
    InvalidKey,
    /// Encryption failed.
    #[error("encryption failed")]
    Seal,
    /// The ciphertext or wrapped key is shorter than its format allows.
    #[error("ciphertext is truncated")]
    Truncated,
    /// A format version this library does not know.
    #[error("unsupported ciphertext version {0}")]
    UnsupportedVersion(u8),
    /// Authentication failed: altered, moved to another row, or under another key.
    #[error("ciphertext does not authenticate (altered, moved or wrong key)")]
    Authentication,
    /// Wrapped under a KEK this keyring does not hold.
    #[error("wrapped under unknown key-encryption key {0}")]
    UnknownKek(u32),
    /// The subject's data key was destroyed (crypto-shredded, clause 6.2).
    #[error("the subject's data key has been destroyed")]
    Shredded,
    /// The key-encryption key with this id is not the one the store was first used with
    /// (its check value differs): refused before any key is wrapped or unwrapped with it.
    #[error("key-encryption key {id} does not match the store's check value")]
    WrongKek {
        /// The KEK id.
        id: u32,
    },
    /// The blind-index secret is not the one the store was first used with: lookups would
    /// silently find nothing.
    #[error("blind-index secret does not match the store's check value")]
    WrongIndexSecret,
    /// Key material that fails the low-entropy rule (constant, patterned or sequential
    /// bytes): refused before it protects anything. See [`check_key_entropy`](super::check_key_entropy).
    #[error("key material is low-entropy (constant, patterned or sequential)")]
    WeakKey,
    /// The key-encryption key version that wrapped this key was destroyed on its schedule:
    /// every copy of a key wrapped under it (backups included) is unreadable for good.
    #[error("key-encryption key version {0} has been destroyed")]
    KekDestroyed(u32),
    /// A wrapped key names another key-encryption key than the one asked to unwrap it, or
    /// a KEK name is empty, too long or not printable ASCII.
    #[error("wrong or invalid key-encryption key name")]
    KekName,
    /// The key-encryption-key service failed (unreachable, refused, or an I/O error of a
    /// file-backed one); names the operation, never key material.
    #[error("key-encryption-key service failed: {0}")]
    Kms(&'static str),
    /// One secret handed in for two key roles (a KEK that is also the blind-index secret or
    /// a token key, or one secret under two KEK ids): each role assumes its key serves it
    /// alone (docs/keys.md, "One secret, one role"). Never names the key.
    #[error("one secret is used for two key roles")]
    KeyReused,
    /// These key-encryption keys cannot create versions (keys the host supplied in memory:
    /// a generated one would be lost at exit).
    #[error("these key-encryption keys cannot rotate")]
    RotationUnsupported,
}
