#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]
//! The binary grant token form and the bounded revocation set (issue 18), from outside the
//! crate the way a careless or hostile host would use them: the binary form is the text
//! form's bytes; every tampered, truncated, extended, forged, foreign, cross-purpose or
//! expired binary token gets a typed error; revocations past their grant's expiry are
//! dropped, and a dropped one still never lets its grant through, even when the clock steps
//! back.

mod common;

use chrono::TimeDelta;
use common::{Fx, keyring, t0};
use crm_privacy::custodian::CustodianError;
use crm_privacy::*;
use data_encoding::BASE64URL_NOPAD;
use proptest::prelude::*;

/// A token key from a deterministic high-entropy secret named by `seed` (equal seeds, equal
/// secrets).
fn key(id: u32, seed: u8) -> TokenKey {
    TokenKey::from_secret(id, &crm_privacy::crypto::test_secret(seed)).unwrap()
}

async fn fx(token_key: TokenKey, ttl: TimeDelta) -> Fx {
    common::deployment(t0(), keyring(), |b| b.token_key(token_key).grant_ttl(ttl)).await
}

fn token_err(e: TokenError) -> CustodianError {
    CustodianError::Token(e)
}

#[tokio::test]
async fn binary_form_is_the_text_form_without_base64_and_round_trips() {
    let secret = 7_u8;
    let a = fx(key(1, secret), TimeDelta::minutes(5)).await;
    let b = a
        .peer_builder(keyring())
        .token_key(key(1, secret))
        .grant_ttl(TimeDelta::minutes(5))
        .build()
        .await
        .unwrap();
    let alice = a.c.register_subject().await.unwrap();
    let g = a.c.grant::<Notification>(alice, "mailer").await.unwrap();
    let text = a.c.seal_grant(&g).unwrap();
    let bytes = a.c.seal_grant_bytes(&g).unwrap();
    // Same signed bytes: the text form is `g1.` and their base64url, unchanged.
    assert_eq!(text, format!("g1.{}", BASE64URL_NOPAD.encode(&bytes)));
    let opened = b.open_grant_bytes::<Notification>(&bytes).await.unwrap();
    let from_text = b.open_grant::<Notification>(&text).await.unwrap();
    assert_eq!(opened.info(), from_text.info());
    assert_eq!(opened.id(), g.id());
    assert_eq!(opened.info().actor, g.info().actor);
    let email = Personal::new(alice, Email::parse("alice@example.com").unwrap());
    assert!(b.expose(&email, &opened).await.is_ok());
    // Revoking through the binary form stops the text form too, in both processes.
    b.revoke_token_bytes::<Notification>(&bytes).await.unwrap();
    let refused = token_err(TokenError::Refused(AccessError::Revoked { grant: g.id() }));
    assert_eq!(
        a.c.open_grant::<Notification>(&text).await.unwrap_err(),
        refused
    );
    assert_eq!(
        a.c.open_grant_bytes::<Notification>(&bytes)
            .await
            .unwrap_err(),
        refused
    );
}

#[tokio::test]
async fn every_altered_binary_token_is_refused_with_a_typed_error() {
    let f = fx(key(9, 1), TimeDelta::minutes(5)).await;
    let alice = f.c.register_subject().await.unwrap();
    let g = f.c.grant::<Notification>(alice, "mailer").await.unwrap();
    let bytes = f.c.seal_grant_bytes(&g).unwrap();
    assert!(f.c.open_grant_bytes::<Notification>(&bytes).await.is_ok());

    // Every bit of every byte flipped: never accepted.
    for i in 0..bytes.len() {
        for bit in 0..8 {
            let mut bad = bytes.clone();
            bad[i] ^= 1 << bit;
            let e =
                f.c.open_grant_bytes::<Notification>(&bad)
                    .await
                    .unwrap_err();
            assert!(
                matches!(
                    e,
                    CustodianError::Token(
                        TokenError::BadSignature
                            | TokenError::UnknownKey(_)
                            | TokenError::UnsupportedVersion(_)
                            | TokenError::Malformed
                    )
                ),
                "byte {i} bit {bit}: {e:?}"
            );
        }
    }
    // Every truncation and extension.
    for n in 0..bytes.len() {
        assert!(
            f.c.open_grant_bytes::<Notification>(&bytes[..n])
                .await
                .is_err()
        );
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(f.c.open_grant_bytes::<Notification>(&longer).await.is_err());
    assert_eq!(
        f.c.open_grant_bytes::<Notification>(&vec![2_u8; 100_000])
            .await
            .unwrap_err(),
        token_err(TokenError::Malformed)
    );
    // The text form is not a binary token, and the reverse.
    let text = f.c.seal_grant(&g).unwrap();
    assert!(
        f.c.open_grant_bytes::<Notification>(text.as_bytes())
            .await
            .is_err()
    );
    // Forged: the same layout signed with another secret under the same key id.
    let forger = fx(key(9, 2), TimeDelta::minutes(5)).await;
    let mallory = forger.c.register_subject().await.unwrap();
    let fg = forger
        .c
        .grant::<Notification>(mallory, "mailer")
        .await
        .unwrap();
    let forged = forger.c.seal_grant_bytes(&fg).unwrap();
    assert_eq!(
        f.c.open_grant_bytes::<Notification>(&forged)
            .await
            .unwrap_err(),
        token_err(TokenError::BadSignature)
    );
    // Another key id: unknown here.
    let other = fx(key(4, 6), TimeDelta::minutes(5)).await;
    let og = other.c.register_subject().await.unwrap();
    let og = other.c.grant::<Notification>(og, "mailer").await.unwrap();
    assert_eq!(
        f.c.open_grant_bytes::<Notification>(&other.c.seal_grant_bytes(&og).unwrap())
            .await
            .unwrap_err(),
        token_err(TokenError::UnknownKey(4))
    );
    // Cross-purpose and expired.
    assert_eq!(
        f.c.open_grant_bytes::<Analytics>(&bytes).await.unwrap_err(),
        token_err(TokenError::WrongPurpose)
    );
    f.clock.advance(TimeDelta::minutes(5));
    assert_eq!(
        f.c.open_grant_bytes::<Notification>(&bytes)
            .await
            .unwrap_err(),
        token_err(TokenError::Expired(g.id()))
    );
    // A foreign grant is never sealed.
    assert!(f.c.seal_grant_bytes(&og).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn arbitrary_bytes_are_refused_never_a_panic(input in prop::collection::vec(any::<u8>(), 0..400)) {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            let f = fx(key(1, 1), TimeDelta::minutes(5)).await;
            let e = f.c.open_grant_bytes::<Notification>(&input).await.unwrap_err();
            prop_assert!(matches!(e, CustodianError::Token(_)));
            Ok(())
        })?;
    }
}

#[tokio::test]
async fn expired_revocations_are_dropped_and_stay_refused() {
    let f = fx(key(1, 1), TimeDelta::minutes(5)).await;
    let alice = f.c.register_subject().await.unwrap();
    let email = Personal::new(alice, Email::parse("alice@example.com").unwrap());
    let mut old = Vec::new();
    for _ in 0..300 {
        let g = f.c.grant::<Notification>(alice, "mailer").await.unwrap();
        f.c.revoke(&g).await.unwrap();
        old.push(g);
    }
    // Nothing has expired yet: every revocation is held.
    assert_eq!(f.c.revocations_held(), 300);
    let token = f.c.seal_grant_bytes(&old[0]).unwrap();

    // Past the old grants' expiry, more revocations: the old ones are dropped.
    f.clock.advance(TimeDelta::minutes(10));
    let mut new = Vec::new();
    for _ in 0..300 {
        let g = f.c.grant::<Notification>(alice, "mailer").await.unwrap();
        f.c.revoke(&g).await.unwrap();
        new.push(g);
    }
    let held = f.c.revocations_held();
    assert!(
        held <= 300,
        "the set shrank to the live revocations ({held})"
    );
    for g in &new {
        assert_eq!(
            f.c.expose(&email, g).await.unwrap_err(),
            CustodianError::Access(AccessError::Revoked { grant: g.id() })
        );
    }
    // The pruned grants are refused as expired...
    for g in &old {
        assert_eq!(
            f.c.expose(&email, g).await.unwrap_err(),
            CustodianError::Access(AccessError::Expired { grant: g.id() })
        );
    }
    // ...and stay refused when the clock steps back before their expiry (another host's
    // clock, a correction): the state remembers the instant it pruned at.
    f.clock.set(t0());
    for g in &old {
        assert!(
            f.c.expose(&email, g).await.is_err(),
            "pruned grant usable again"
        );
    }
    assert!(
        f.c.open_grant_bytes::<Notification>(&token).await.is_err(),
        "pruned grant's token usable again"
    );
    // A grant issued now is unaffected.
    let fresh = f.c.grant::<Notification>(alice, "mailer").await.unwrap();
    assert!(f.c.expose(&email, &fresh).await.is_ok());
}

#[tokio::test]
async fn another_process_prunes_by_its_own_clock() {
    let secret = 13_u8;
    let a = fx(key(1, secret), TimeDelta::minutes(5)).await;
    let alice = a.c.register_subject().await.unwrap();
    let mut old = Vec::new();
    for _ in 0..200 {
        let g = a.c.grant::<Notification>(alice, "mailer").await.unwrap();
        a.c.revoke(&g).await.unwrap();
        old.push(a.c.seal_grant_bytes(&g).unwrap());
    }
    // A process whose clock runs behind catches up with all of them: nothing has expired
    // by its clock, so nothing is dropped and every token stays refused as revoked.
    let behind = std::sync::Arc::new(ManualClock::new(t0() - TimeDelta::minutes(1)));
    let b = a
        .same_stores(keyring())
        .clock(behind.clone())
        .token_key(key(1, secret))
        .build()
        .await
        .unwrap();
    for t in &old {
        let e = b.open_grant_bytes::<Notification>(t).await.unwrap_err();
        assert!(
            matches!(
                e,
                CustodianError::Token(TokenError::Refused(AccessError::Revoked { .. }))
            ),
            "{e:?}"
        );
    }
    assert_eq!(b.revocations_held(), 200);
}
