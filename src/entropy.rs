//! The low-entropy screen every secret constructor applies (issue 16): the crypto keys
//! ([`crate::crypto::check_key_entropy`]) and the grant-token key (`TokenKey::from_secret`).
//! It sits below both layers so neither depends on the other.
//!
//! A cheap screen, not a randomness test: it refuses the secrets a careless host writes by
//! hand — a constant like `[7; 32]`, a short repeated pattern (`abcdabcd…`), a counter
//! (`0, 1, 2, …`) or a step (`0, 3, 6, …`) — and nothing more. A typed passphrase or a key
//! derived from a guessable value can still pass.

/// Fewest distinct byte values, and fewest distinct differences between neighbouring bytes,
/// a secret must have.
///
/// For 32 uniformly random bytes the expected number of distinct values is about 30.2; the
/// chance of 15 or fewer is about 3.2 × 10⁻¹⁷ (≈ 2⁻⁵⁵, computed exactly by dynamic
/// programming over the 256 values), and the differences of neighbouring random bytes are
/// as spread, so a generated key is refused with probability below 2⁻⁵³.
pub const MIN_DISTINCT: usize = 16;

/// True if `bytes`, their neighbour differences (`b[i+1] − b[i] mod 256`) or the
/// differences of those have fewer than [`MIN_DISTINCT`] distinct values.
///
/// The first rule catches constants and short repeated patterns, the second counters and
/// arithmetic steps (`0, 1, 2, …` has 32 distinct values but one difference), the third
/// quadratic sequences (triangular numbers `0, 1, 3, 6, …`, squares) whose differences are a
/// counter. Differences of uniform random bytes are uniform too, so each rule refuses a
/// generated key with about the same (negligible) probability.
pub(crate) fn is_weak(bytes: &[u8]) -> bool {
    let steps: Vec<u8> = differences(bytes);
    let curvature: Vec<u8> = differences(&steps);
    distinct(bytes) < MIN_DISTINCT
        || distinct(&steps) < MIN_DISTINCT
        || distinct(&curvature) < MIN_DISTINCT
}

/// Label of [`role_fingerprint`]: the same for every key role, so one secret gives one
/// fingerprint whichever role it was handed in for.
const ROLE_LABEL: &[u8] = b"crm-privacy key-role fingerprint v1";

/// HMAC-SHA256 of `label` under `key`, first 16 bytes: names a key without revealing it
/// (the HMAC is a PRF keyed by it). One helper for every such name — the stores' check
/// values (`crypto::check_value`), the deployment's authority id and the role fingerprint.
pub(crate) fn label_tag(key: &ring::hmac::Key, label: &[u8]) -> [u8; 16] {
    let tag = ring::hmac::sign(key, label);
    let mut out = [0_u8; 16];
    if let Some(head) = tag.as_ref().get(..16) {
        out.copy_from_slice(head);
    }
    out
}

/// A fingerprint of a secret, given as the HMAC key made from it, that two keys compare to
/// find out whether they were made from the same bytes ([`label_tag`] over a fixed label).
/// It never leaves the process. The builder refuses one secret in two roles (a KEK that is
/// also the blind-index or token key, say): each role assumes its key is used for nothing
/// else (docs/keys.md, "One secret, one role").
pub(crate) fn role_fingerprint(key: &ring::hmac::Key) -> [u8; 16] {
    label_tag(key, ROLE_LABEL)
}

/// True if two of `fingerprints` are equal (one secret in two key roles).
pub(crate) fn any_reused(fingerprints: &[[u8; 16]]) -> bool {
    let mut sorted = fingerprints.to_vec();
    sorted.sort_unstable();
    sorted.windows(2).any(|w| matches!(w, [a, b] if a == b))
}

fn differences(bytes: &[u8]) -> Vec<u8> {
    bytes
        .windows(2)
        .filter_map(|pair| match pair {
            [a, b] => Some(b.wrapping_sub(*a)),
            _ => None,
        })
        .collect()
}

fn distinct(bytes: &[u8]) -> usize {
    let mut seen = [false; 256];
    for b in bytes {
        if let Some(slot) = seen.get_mut(usize::from(*b)) {
            *slot = true;
        }
    }
    seen.iter().filter(|s| **s).count()
}

#[cfg(test)]
mod tests {
    use super::is_weak;

    #[test]
    fn hand_written_shapes_are_weak() {
        let constant = [7_u8; 32];
        let counter: Vec<u8> = (0..32).collect();
        let step: Vec<u8> = (0..32_u8).map(|i| i.wrapping_mul(3)).collect();
        let triangular: Vec<u8> = (0..32_u16).map(|i| (i * (i + 1) / 2) as u8).collect();
        let squares: Vec<u8> = (0..32_u16).map(|i| (i * i) as u8).collect();
        let pattern: Vec<u8> = b"abcd".iter().copied().cycle().take(32).collect();
        for weak in [
            &constant[..],
            &counter,
            &step,
            &triangular,
            &squares,
            &pattern,
        ] {
            assert!(is_weak(weak), "{weak:?} should be refused");
        }
    }

    #[test]
    fn random_looking_bytes_pass() {
        let key = crate::crypto::test_secret(1);
        assert!(!is_weak(&key));
    }
}
