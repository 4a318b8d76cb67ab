//! The low-entropy rule every secret constructor applies (issue 16).
//!
//! A cheap screen, not a randomness test: it refuses the secrets a careless host writes by
//! hand — a constant like `[7; 32]`, a short repeated pattern (`abcdabcd…`), a counter
//! (`0, 1, 2, …`) or a step (`0, 3, 6, …`) — and nothing more. It proves only that the bytes
//! are not one of those shapes; a typed passphrase or a key derived from a guessable value
//! can still pass. Use `generate()` (ring's `SystemRandom`) or a secret manager.

use super::CryptoError;

pub use crate::entropy::MIN_DISTINCT;

/// Refuses `bytes` if they have fewer than [`MIN_DISTINCT`] distinct byte values or fewer
/// than [`MIN_DISTINCT`] distinct neighbour differences (`b[i+1] − b[i] mod 256`).
///
/// The first rule catches constants and short repeated patterns, the second counters and
/// arithmetic steps (`0, 1, 2, …` has 32 distinct values but one difference).
///
/// # Errors
/// [`CryptoError::WeakKey`].
pub fn check_key_entropy(bytes: &[u8]) -> Result<(), CryptoError> {
    if crate::entropy::is_weak(bytes) {
        return Err(CryptoError::WeakKey);
    }
    Ok(())
}
