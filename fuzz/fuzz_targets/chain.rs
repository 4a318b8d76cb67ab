//! Serialized hash chains (`chain::from_bytes`, as read back from a file or database) and the
//! events inside them: never panics; what parses and verifies serializes back to the same
//! bytes; events decode or fail with a typed error.
#![no_main]

use crm_privacy::chain;
use crm_privacy::ledger::{AuditEvent, LedgerEvent, decode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(entries) = chain::from_bytes(data) else {
        return;
    };
    assert_eq!(chain::to_bytes(&entries), data, "parsing is exact");
    if chain::verify(&entries).is_ok() {
        for e in &entries {
            let _ = decode::<LedgerEvent>(e);
            let _ = decode::<AuditEvent>(e);
        }
    }
    // A chain built from these bodies always verifies, and one flipped bit never does.
    let mut anchor = chain::Anchor::default();
    let built: Vec<_> = entries
        .iter()
        .map(|e| chain::append(&mut anchor, e.body.clone()))
        .collect();
    assert!(chain::verify(&built).is_ok());
    if let Some(first) = data.first() {
        let mut bytes = chain::to_bytes(&built);
        if !bytes.is_empty() {
            let at = usize::from(*first) % bytes.len();
            bytes[at] ^= 1 << (first % 8);
            let ok = chain::from_bytes(&bytes)
                .ok()
                .and_then(|e| chain::verify_reaches(&e, &anchor).ok());
            assert!(ok.is_none(), "a flipped bit went unnoticed");
        }
    }
});
