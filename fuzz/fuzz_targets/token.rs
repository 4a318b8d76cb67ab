//! Signed grant tokens (`GrantIssuer::open`) on arbitrary text, and on valid tokens with
//! fuzzer-chosen bytes changed: never panics, and a token that was changed never opens.
#![no_main]

use std::sync::OnceLock;

use chrono::{DateTime, TimeZone, Utc};
use crm_privacy::{GrantIssuer, Notification, OwnerAccess, SubjectId, TokenKey};
use libfuzzer_sys::fuzz_target;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .expect("valid instant")
}

struct Fixture {
    issuer: GrantIssuer,
    token: String,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let issuer = GrantIssuer::builder()
            .signing_key(TokenKey::from_secret(7, &[42; 32]).expect("key"))
            .build()
            .expect("issuer");
        let subject = SubjectId::from_bytes([1; 16]);
        let grant = issuer
            .issue::<Notification>(subject, "fuzz", t0())
            .expect("grant");
        let token = issuer.seal(&grant);
        Fixture { issuer, token }
    })
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        // Arbitrary text as a token, for two purposes.
        if let Ok(text) = std::str::from_utf8(rest) {
            let _ = f.issuer.open::<Notification>(text, t0());
            let _ = f.issuer.open::<OwnerAccess>(text, t0());
        }
    } else {
        // A valid token with bytes changed at fuzzer-chosen positions.
        let mut bytes = f.token.clone().into_bytes();
        let mut changed = false;
        for pair in rest.chunks_exact(2) {
            let at = usize::from(pair[0]) % bytes.len();
            if pair[1] != 0 {
                bytes[at] ^= pair[1];
                changed = true;
            }
        }
        let Ok(text) = String::from_utf8(bytes) else {
            return;
        };
        let opened = f.issuer.open::<Notification>(&text, t0());
        if changed && text != f.token {
            assert!(opened.is_err(), "a changed token opened");
        } else {
            assert!(opened.is_ok(), "the unchanged token must open");
        }
    }
});
