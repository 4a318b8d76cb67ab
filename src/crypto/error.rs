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
}
