//! The blind-index secret: keys the HMAC that lets a store find a subject by address
//! without seeing it, and the tags of ledger entries.

use core::fmt;

use ring::hmac;

use super::{CHECK_LEN, CryptoError, KEY_LEN, check_key_entropy, check_value, random};
use crate::data::Category;

/// Label of the blind-index secret's check value. Starts with 0xff, which no category code
/// uses, so it can never equal a blind-index input (`category code ‖ value`).
const INDEX_CHECK_LABEL: &[u8] = b"\xffcrm-privacy/index-check/v1";
/// Domain label of ledger entry tags (kept apart from blind indexes under the same key).
const LEDGER_TAG_LABEL: &[u8] = b"crm-privacy ledger entry v1\0";

/// The blind-index secret (HMAC-SHA256 key). `Debug` shows nothing of it.
///
/// An attacker holding a dump of blind indexes and this secret can test guesses of an
/// address offline; without it, not. So it must be as unguessable as a key: the
/// constructors refuse low-entropy secrets ([`check_key_entropy`]).
pub struct IndexKey {
    key: hmac::Key,
    check: [u8; CHECK_LEN],
    role: [u8; 16],
}

impl fmt::Debug for IndexKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IndexKey").finish_non_exhaustive()
    }
}

impl IndexKey {
    /// The key from a secret of at least 32 bytes (share it between the processes of one
    /// deployment). The caller should zeroize its copy.
    ///
    /// # Errors
    /// [`CryptoError::InvalidKey`] under 32 bytes; [`CryptoError::WeakKey`] for constant,
    /// patterned or sequential bytes.
    pub fn from_bytes(secret: &[u8]) -> Result<Self, CryptoError> {
        if secret.len() < KEY_LEN {
            return Err(CryptoError::InvalidKey);
        }
        check_key_entropy(secret)?;
        let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
        let check = check_value(&key, INDEX_CHECK_LABEL);
        let role = crate::entropy::role_fingerprint(&key);
        Ok(Self { key, check, role })
    }

    /// A fresh random secret from the system random source.
    ///
    /// # Errors
    /// [`CryptoError::Random`].
    pub fn generate() -> Result<Self, CryptoError> {
        Self::from_bytes(&random::<KEY_LEN>()?[..])
    }

    /// Compared with the other keys' at build: one secret, one role.
    pub(crate) const fn role(&self) -> [u8; 16] {
        self.role
    }

    /// The non-secret check value a store records.
    pub(crate) const fn check(&self) -> [u8; CHECK_LEN] {
        self.check
    }

    /// Blind index of a normalized lookup value, domain separated by category.
    #[must_use]
    pub fn blind_index(&self, category: Category, normalized: &str) -> [u8; 32] {
        let mut ctx = hmac::Context::with_key(&self.key);
        ctx.update(&[category.code()]);
        ctx.update(normalized.as_bytes());
        let mut out = [0_u8; 32];
        out.copy_from_slice(ctx.sign().as_ref());
        out
    }

    /// Tag of a ledger entry's body (domain-separated from blind indexes).
    pub(crate) fn ledger_tag(&self, body: &[u8]) -> [u8; 32] {
        let mut ctx = hmac::Context::with_key(&self.key);
        ctx.update(LEDGER_TAG_LABEL);
        ctx.update(body);
        let mut out = [0_u8; 32];
        out.copy_from_slice(ctx.sign().as_ref());
        out
    }

    /// Whether `tag` is [`ledger_tag`](Self::ledger_tag) of `body` (constant time).
    pub(crate) fn verify_ledger_tag(&self, body: &[u8], tag: &[u8]) -> bool {
        let mut data = Vec::with_capacity(LEDGER_TAG_LABEL.len() + body.len());
        data.extend_from_slice(LEDGER_TAG_LABEL);
        data.extend_from_slice(body);
        hmac::verify(&self.key, &data, tag).is_ok()
    }
}
