// Issue 13, item 12: no side door around the gate. Without the cargo feature `danger`, code
// outside the crate holding the keyring cannot unwrap a data key or open a field.
use crm_privacy::crypto::{Keyring, WrappedKey};
use crm_privacy::SubjectId;
fn main() {
    let kr = Keyring::generate().unwrap();
    let key = kr.unwrap(SubjectId::new_random(), &WrappedKey::from_bytes(vec![])).unwrap();
    let _ = key.open_row;
}
