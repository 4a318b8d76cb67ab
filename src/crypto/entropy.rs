//! The low-entropy rule every secret constructor applies (issue 16).
//!
//! A cheap screen, not a randomness test: it refuses the secrets a careless host writes by
//! hand — a constant like `[7; 32]`, a short repeated pattern (`abcdabcd…`), a counter
//! (`0, 1, 2, …`) or a step (`0, 3, 6, …`) — and nothing more. It proves only that the bytes
//! are not one of those shapes; a typed passphrase or a key derived from a guessable value
//! can still pass. Use `generate()` (ring's `SystemRandom`) or a secret manager.

use super::CryptoError;

/// Fewest distinct byte values, and fewest distinct differences between neighbouring bytes,
/// a secret must have.
///
/// For 32 uniformly random bytes the expected number of distinct values is about 30.2; the
/// chance of 15 or fewer is about 3.2 × 10⁻¹⁷ (≈ 2⁻⁵⁵, computed exactly by dynamic
/// programming over the 256 values), and the differences of neighbouring random bytes are
/// as spread, so a generated key is refused with probability below 2⁻⁵³.
pub const MIN_DISTINCT: usize = 16;

/// Refuses `bytes` if they have fewer than [`MIN_DISTINCT`] distinct byte values or fewer
/// than [`MIN_DISTINCT`] distinct neighbour differences (`b[i+1] − b[i] mod 256`).
///
/// The first rule catches constants and short repeated patterns, the second counters and
/// arithmetic steps (`0, 1, 2, …` has 32 distinct values but one difference).
///
/// # Errors
/// [`CryptoError::WeakKey`].
pub fn check_key_entropy(bytes: &[u8]) -> Result<(), CryptoError> {
    let mut values = [false; 256];
    let mut steps = [false; 256];
    for b in bytes {
        if let Some(seen) = values.get_mut(usize::from(*b)) {
            *seen = true;
        }
    }
    for pair in bytes.windows(2) {
        if let [a, b] = pair {
            if let Some(seen) = steps.get_mut(usize::from(b.wrapping_sub(*a))) {
                *seen = true;
            }
        }
    }
    let count = |set: &[bool; 256]| set.iter().filter(|s| **s).count();
    if count(&values) < MIN_DISTINCT || count(&steps) < MIN_DISTINCT {
        return Err(CryptoError::WeakKey);
    }
    Ok(())
}
