//! `IpAddress::parse` on arbitrary text: never panics, agrees with the standard library's
//! parser on what an address is, and never shows the input in Debug or errors.
#![no_main]

use std::net::IpAddr;

use crm_privacy::IpAddress;
use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The one trimming rule: ASCII white space only.
    let std_parse = text.trim_ascii().parse::<IpAddr>().ok();
    match IpAddress::parse(text) {
        Ok(ip) => {
            assert_eq!(Some(ip.ip()), std_parse, "accepted what std rejects");
            let again = IpAddress::parse(&ip.ip().to_string()).expect("round trip");
            assert_eq!(again.ip(), ip.ip());
            assert!(!format!("{ip:?}").contains(&ip.ip().to_string()));
        }
        Err(e) => {
            assert!(std_parse.is_none(), "rejected what std accepts");
            common::assert_not_echoed(&e.to_string(), text);
        }
    }
});
