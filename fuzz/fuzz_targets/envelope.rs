//! Sealed field envelopes and wrapped data keys on arbitrary bytes (`DataKey::open`,
//! `Keyring::unwrap`), and valid envelopes with fuzzer-chosen bytes changed: never panics,
//! and a changed envelope never opens.
#![no_main]

use std::sync::OnceLock;

use crm_privacy::crypto::{DataKey, Kek, Keyring, WrappedKey};
use crm_privacy::{Category, KindRef, RecordId, SubjectId};
use libfuzzer_sys::fuzz_target;

struct Fixture {
    keyring: Keyring,
    key: DataKey,
    wrapped: Vec<u8>,
    sealed: Vec<u8>,
}

const SUBJECT: SubjectId = SubjectId::from_bytes([3; 16]);
const RECORD: RecordId = RecordId::from_bytes([4; 16]);
const KIND: KindRef = KindRef::Builtin(Category::Email);

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let keyring =
            Keyring::new(
            Kek::from_bytes(1, &crm_privacy::crypto::test_secret(9)).expect("kek"),
            &crm_privacy::crypto::test_secret(5),
        )
        .expect("keyring");
        let (key, wrapped) = keyring.new_data_key(SUBJECT).expect("data key");
        let sealed = key.seal(KIND, RECORD, b"canary@example.com").expect("seal");
        Fixture {
            keyring,
            key,
            wrapped: wrapped.as_bytes().to_vec(),
            sealed,
        }
    })
}

fn flip(original: &[u8], edits: &[u8]) -> Option<Vec<u8>> {
    let mut bytes = original.to_vec();
    for pair in edits.chunks_exact(2) {
        let at = usize::from(pair[0]) % bytes.len().max(1);
        if let Some(b) = bytes.get_mut(at) {
            *b ^= pair[1];
        }
    }
    (bytes != original).then_some(bytes)
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 4 {
        0 => {
            let _ = f.key.open(KIND, RECORD, rest);
        }
        1 => {
            let _ = f
                .keyring
                .unwrap(SUBJECT, &WrappedKey::from_bytes(rest.to_vec()));
        }
        2 => {
            if let Some(bad) = flip(&f.sealed, rest) {
                assert!(
                    f.key.open(KIND, RECORD, &bad).is_err(),
                    "changed envelope opened"
                );
            } else {
                assert!(f.key.open(KIND, RECORD, &f.sealed).is_ok());
            }
        }
        _ => {
            if let Some(bad) = flip(&f.wrapped, rest) {
                assert!(
                    f.keyring
                        .unwrap(SUBJECT, &WrappedKey::from_bytes(bad))
                        .is_err(),
                    "changed wrapped key opened"
                );
            }
        }
    }
});
