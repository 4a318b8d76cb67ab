//! `Email::parse` on arbitrary text: never panics; an accepted address re-parses to itself
//! (normalization is idempotent) and its Debug output never shows it.
#![no_main]

use crm_privacy::Email;
use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Email::parse(text) {
        Ok(email) => {
            let again = Email::parse(email.as_str()).expect("a normalized address re-parses");
            assert_eq!(
                again.as_str(),
                email.as_str(),
                "normalization is idempotent"
            );
            assert!(!format!("{email:?}").contains(email.as_str()));
        }
        Err(e) => {
            common::assert_not_echoed(&e.to_string(), text);
        }
    }
});
