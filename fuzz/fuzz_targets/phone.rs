//! `Phone::parse` and `Phone::parse_with` (region hint, Possible policy) on arbitrary text:
//! never panics; an accepted number is E.164, re-parses to itself, and neither Debug nor the
//! error shows it.
#![no_main]

use crm_privacy::Phone;
use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Phone::parse(text) {
        Ok(phone) => {
            let e164 = phone.as_e164();
            assert!(e164.starts_with('+'));
            assert!(e164.len() <= 16, "E.164 allows at most 15 digits");
            assert!(e164[1..].bytes().all(|b| b.is_ascii_digit()));
            let again = Phone::parse(e164).expect("an E.164 number re-parses");
            assert_eq!(again.as_e164(), e164);
            assert!(!format!("{phone:?}").contains(&e164[1..]));
        }
        Err(e) => {
            common::assert_not_echoed(&e.to_string(), text);
        }
    }
    // National input with a region hint, under the Possible policy: never panics, and an
    // accepted number is E.164 that re-parses to itself without the hint.
    let region = ["GB", "US", "DE", "AR", "BR", "AU", "RU", "IT"][data.len() % 8];
    let opts = Phone::options().region(region).expect("known region").possible();
    match Phone::parse_with(text, &opts) {
        Ok(phone) => {
            let e164 = phone.as_e164();
            assert!(e164.starts_with('+') && e164.len() <= 16, "E.164: at most 15 digits");
            let again = Phone::parse_with(e164, &Phone::options().possible())
                .expect("an E.164 number re-parses");
            assert_eq!(again.as_e164(), e164);
        }
        Err(e) => common::assert_not_echoed(&e.to_string(), text),
    }
});
