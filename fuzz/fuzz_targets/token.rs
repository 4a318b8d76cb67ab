//! Signed grant tokens, both forms (`Custodian::open_grant` on text, `open_grant_bytes` on
//! the binary form), on arbitrary input, and on valid tokens with fuzzer-chosen bytes
//! changed (the binary one also truncated or extended): never panics, and a token that was
//! changed never opens.
#![no_main]

use std::sync::{Arc, OnceLock};

use chrono::{DateTime, TimeZone, Utc};
use crm_privacy::crypto::{Kek, Keyring};
use crm_privacy::custodian::Custodian;
use crm_privacy::store::{InMemoryChainStore, InMemoryKeyStore, InMemoryRecordStore};
use crm_privacy::{ManualClock, Notification, OwnerAccess, TokenKey};
use libfuzzer_sys::fuzz_target;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .expect("valid instant")
}

struct Fixture {
    rt: tokio::runtime::Runtime,
    custodian: Custodian,
    token: String,
    bytes: Vec<u8>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let (custodian, token) = rt.block_on(async {
            let c = Custodian::builder(
                Keyring::new(
                    Kek::from_bytes(1, &crm_privacy::crypto::test_secret(3)).expect("kek"),
                    &crm_privacy::crypto::test_secret(9),
                )
                    .expect("keyring"),
            )
            .records(Arc::new(InMemoryRecordStore::new()))
            .chains(Arc::new(InMemoryChainStore::new()))
            .keys(Arc::new(InMemoryKeyStore::new()))
            .token_key(TokenKey::from_secret(7, &crm_privacy::crypto::test_secret(142)).expect("key"))
            .clock(Arc::new(ManualClock::new(t0())))
            .build()
            .await
            .expect("custodian");
            let subject = c.register_subject().await.expect("subject");
            let grant = c
                .grant::<Notification>(subject, "fuzz")
                .await
                .expect("grant");
            let token = c.seal_grant(&grant).expect("token");
            let bytes = c.seal_grant_bytes(&grant).expect("binary token");
            (c, (token, bytes))
        });
        let (token, bytes) = token;
        Fixture {
            rt,
            custodian,
            token,
            bytes,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 2 != 0 {
        binary(f, mode, rest);
        return;
    }
    if mode & 1 == 0 {
        // Arbitrary text as a token, for two purposes.
        if let Ok(text) = std::str::from_utf8(rest) {
            f.rt.block_on(async {
                let _ = f.custodian.open_grant::<Notification>(text).await;
                let _ = f.custodian.open_grant::<OwnerAccess>(text).await;
            });
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
        let opened = f
            .rt
            .block_on(f.custodian.open_grant::<Notification>(&text));
        if changed && text != f.token {
            assert!(opened.is_err(), "a changed token opened");
        } else {
            assert!(opened.is_ok(), "the unchanged token must open");
        }
    }
});

/// The binary form: arbitrary bytes (`mode & 1 == 0`), or the valid binary token with bytes
/// changed, then cut to or extended by a fuzzer-chosen length.
fn binary(f: &Fixture, mode: u8, rest: &[u8]) {
    if mode & 1 == 0 {
        f.rt.block_on(async {
            let _ = f.custodian.open_grant_bytes::<Notification>(rest).await;
            let _ = f.custodian.open_grant_bytes::<OwnerAccess>(rest).await;
        });
        return;
    }
    let Some((&len, edits)) = rest.split_first() else {
        return;
    };
    let mut bytes = f.bytes.clone();
    for pair in edits.chunks_exact(2) {
        let at = usize::from(pair[0]) % bytes.len();
        bytes[at] ^= pair[1];
    }
    match len {
        0 => {}
        1..=127 => bytes.truncate(bytes.len().saturating_sub(usize::from(len))),
        _ => bytes.extend(std::iter::repeat_n(0xA5, usize::from(len - 127))),
    }
    let opened = f
        .rt
        .block_on(f.custodian.open_grant_bytes::<Notification>(&bytes));
    if bytes != f.bytes {
        assert!(opened.is_err(), "a changed binary token opened");
    } else {
        assert!(opened.is_ok(), "the unchanged binary token must open");
    }
}
