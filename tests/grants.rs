#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]
//! Run-time guarantees of grants, all through the custodian (the only issuer, with its own
//! clock): subject, expiry, revocation, issuance rules (owner, conference, staff), signed
//! tokens between the custodians of one deployment, key rotation, and a model-based test.

mod common;

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, TimeDelta, Utc};
use common::{Fx, keyring, t0};
use crm_privacy::consent::{ConsentScope, Permission};
use crm_privacy::custodian::{Custodian, CustodianError, LookupGrant};
use crm_privacy::*;
use proptest::prelude::*;

/// A token key from a deterministic high-entropy secret named by `seed` (equal seeds, equal
/// secrets).
fn key(id: u32, seed: u8) -> TokenKey {
    TokenKey::from_secret(id, &crm_privacy::crypto::test_secret(seed)).unwrap()
}

/// A deployment whose first custodian signs tokens with `token_key` and issues grants
/// living `ttl`.
async fn fx(token_key: TokenKey, ttl: TimeDelta) -> Fx {
    common::deployment(t0(), keyring(), |b| b.token_key(token_key).grant_ttl(ttl)).await
}

impl Fx {
    /// Another custodian (another process) of this deployment: the same stores, clock,
    /// authenticator and staff directory; its own token keys and grant lifetime.
    async fn peer(&self, signing: TokenKey, accepted: Vec<TokenKey>, ttl: TimeDelta) -> Custodian {
        let mut b = self
            .peer_builder(keyring())
            .token_key(signing)
            .grant_ttl(ttl);
        for k in accepted {
            b = b.accept_token_key(k);
        }
        b.build().await.unwrap()
    }
}

fn access(e: AccessError) -> CustodianError {
    CustodianError::Access(e)
}

#[test]
fn public_types_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Custodian>();
    assert_send_sync::<CustodianError>();
    assert_send_sync::<Grant<Notification>>();
    assert_send_sync::<Grant<ConferenceCreation>>();
    assert_send_sync::<Grant<OwnerAccess>>();
    assert_send_sync::<LookupGrant<Notification>>();
    assert_send_sync::<UserSession>();
    assert_send_sync::<UserInitiated>();
    assert_send_sync::<NdaAttestation>();
    assert_send_sync::<TokenKey>();
    assert_send_sync::<ManualClock>();
    assert_send_sync::<Personal<Email>>();
    assert_send_sync::<Personal<ZoomAccessToken>>();
    assert_send_sync::<Email>();
    assert_send_sync::<CustomerRecord>();
    assert_send_sync::<AccessError>();
    assert_send_sync::<IssueError>();
    assert_send_sync::<TokenError>();
    assert_send_sync::<KeyError>();
    assert_send_sync::<policy::Register>();
}

/// Compile-time half: the custodian's futures can move between threads of a multi-thread
/// runtime (never called).
#[allow(dead_code, reason = "compile-time check only")]
fn custodian_futures_are_send(
    c: &Custodian,
    g: &Grant<Notification>,
    p: &Personal<Email>,
    s: &UserSession,
    r: RecordId,
) {
    fn assert_send<T: Send>(_: &T) {}
    assert_send(&c.grant::<Notification>(s.subject(), "mailer"));
    assert_send(&c.grant_owner(s));
    assert_send(&c.with::<Email, _, _>(g, r, |_| ()));
    assert_send(&c.expose(p, g));
    assert_send(&c.open_grant::<Notification>("g1."));
    assert_send(&c.revoke(g));
    assert_send(&c.withdraw_consent(s.subject(), ConsentScope::Cookies));
}

#[tokio::test]
async fn reads_check_subject_expiry_and_revocation() {
    let f = fx(key(1, 1), TimeDelta::minutes(5)).await;
    let alice = f.c.register_subject().await.unwrap();
    let bob = f.c.register_subject().await.unwrap();
    let rec =
        f.c.store(alice, Email::parse("alice@example.com").unwrap())
            .await
            .unwrap();
    let email = Personal::new(alice, Email::parse("alice@example.com").unwrap());
    let g = f.c.grant::<Notification>(alice, "mailer").await.unwrap();
    assert_eq!(g.info().issued_at, t0());
    assert_eq!(g.info().expires_at, t0() + TimeDelta::minutes(5));
    assert!(f.c.expose(&email, &g).await.is_ok());
    let domain = f.c.with::<Email, _, _>(&g, rec, |e| e.domain().to_owned());
    assert_eq!(domain.await.unwrap(), "example.com");
    f.clock.advance(TimeDelta::seconds(299));
    assert!(f.c.expose(&email, &g).await.is_ok());
    assert!(f.c.with::<Email, _, _>(&g, rec, |_| ()).await.is_ok());
    f.clock.set(t0() + TimeDelta::minutes(5));
    let expired = access(AccessError::Expired { grant: g.id() });
    assert_eq!(f.c.expose(&email, &g).await.unwrap_err(), expired);
    assert_eq!(
        f.c.with::<Email, _, _>(&g, rec, |_| ()).await.unwrap_err(),
        expired
    );
    let token = f.c.seal_grant(&g).unwrap();
    assert_eq!(
        f.c.open_grant::<Notification>(&token).await.unwrap_err(),
        CustodianError::Token(TokenError::Expired(g.id()))
    );

    f.clock.set(t0());
    let gb = f.c.grant::<Notification>(bob, "mailer").await.unwrap();
    assert_eq!(
        f.c.expose(&email, &gb).await.unwrap_err(),
        access(AccessError::WrongSubject { grant: gb.id() })
    );
    // A stored record of another subject is indistinguishable from a missing one.
    assert_eq!(
        f.c.with::<Email, _, _>(&gb, rec, |_| ()).await.unwrap_err(),
        access(AccessError::NotVisible {
            grant: gb.id(),
            record: rec
        })
    );

    f.c.revoke(&g).await.unwrap();
    let revoked = access(AccessError::Revoked { grant: g.id() });
    assert_eq!(f.c.expose(&email, &g).await.unwrap_err(), revoked);
    assert_eq!(
        f.c.with::<Email, _, _>(&g, rec, |_| ()).await.unwrap_err(),
        revoked
    );
    assert_eq!(
        f.c.open_grant::<Notification>(&token).await.unwrap_err(),
        CustodianError::Token(TokenError::Refused(AccessError::Revoked { grant: g.id() }))
    );
    // A clone of a revoked grant is revoked too; other grants are unaffected.
    assert_eq!(f.c.expose(&email, &g.clone()).await.unwrap_err(), revoked);
    let g2 = f.c.grant::<Notification>(alice, "mailer").await.unwrap();
    assert_ne!(g2.id(), g.id());
    assert!(f.c.expose(&email, &g2).await.is_ok());
    assert!(f.c.with::<Email, _, _>(&g2, rec, |_| ()).await.is_ok());
}

#[tokio::test]
async fn owner_and_conference_rules() {
    let f = fx(key(1, 1), TimeDelta::minutes(5)).await;
    let alice = f.c.register_subject().await.unwrap();
    let s = f.session(alice).await;
    // Device contacts are collected (and read) only under the contacts-import consent (3.5).
    f.consent(alice, ConsentScope::ContactsImport).await;
    // ... read from a contacts file through the device's file-storage permission (4.3).
    f.consent(alice, ConsentScope::Device(Permission::FileStorage))
        .await;
    let bob_contact = || DeviceContact::new(PersonName::parse("Bob").unwrap(), None, None);
    let rec = f.c.store(alice, bob_contact()).await.unwrap();
    let contacts = Personal::new(alice, bob_contact());
    let own = f.c.grant_owner(&s).await.unwrap();
    assert_eq!(own.info().actor, Actor::Subject { session: s.id() });
    assert_eq!(own.subject(), alice);
    assert!(f.c.expose(&contacts, &own).await.is_ok());
    assert!(
        f.c.with::<DeviceContact, _, _>(&own, rec, |_| ())
            .await
            .is_ok()
    );
    // Someone else's session cannot read Alice's contacts.
    let mallory_id = f.c.register_subject().await.unwrap();
    let mallory = f.session(mallory_id).await;
    let other = f.c.grant_owner(&mallory).await.unwrap();
    assert_eq!(other.subject(), mallory_id);
    assert_eq!(
        f.c.expose(&contacts, &other).await.unwrap_err(),
        access(AccessError::WrongSubject { grant: other.id() })
    );
    assert_eq!(
        f.c.with::<DeviceContact, _, _>(&other, rec, |_| ())
            .await
            .unwrap_err(),
        access(AccessError::NotVisible {
            grant: other.id(),
            record: rec
        })
    );

    // Clause 3.7: a conference grant needs a fresh user-initiated request (and the Zoom
    // consent in force), judged by the custodian's clock.
    f.consent(alice, ConsentScope::ZoomLink).await;
    let fresh = f.c.user_request(&s).unwrap();
    assert_eq!(fresh.requested_at(), t0());
    f.clock.advance(TimeDelta::seconds(30));
    let conf = f.c.grant_conference(&fresh).await.unwrap();
    assert_eq!(conf.info().actor, Actor::Subject { session: s.id() });
    assert_eq!(conf.subject(), alice);
    f.clock.set(t0() + TimeDelta::minutes(3));
    assert_eq!(
        f.c.grant_conference(&fresh).await.unwrap_err(),
        CustodianError::Issue(IssueError::StaleRequest)
    );
    // A request stamped after the deciding instant (clock skew) is refused too.
    f.clock.set(t0() + TimeDelta::minutes(1));
    let future = f.c.user_request(&s).unwrap();
    f.clock.set(t0());
    assert_eq!(
        f.c.grant_conference(&future).await.unwrap_err(),
        CustodianError::Issue(IssueError::StaleRequest)
    );

    // Session grants end with the session; an expired session gets no grant, no request.
    let short = f.session_for(alice, TimeDelta::seconds(60)).await;
    let brief = f.c.grant_owner(&short).await.unwrap();
    assert_eq!(brief.info().expires_at, short.expires_at());
    f.clock.set(t0() + TimeDelta::hours(2));
    assert_eq!(
        f.c.grant_owner(&s).await.unwrap_err(),
        CustodianError::Issue(IssueError::SessionExpired)
    );
    assert_eq!(
        f.c.user_request(&s).unwrap_err(),
        CustodianError::Issue(IssueError::SessionExpired)
    );
    assert_eq!(
        f.c.grant_for_session::<Notification>(&s).await.unwrap_err(),
        CustodianError::Issue(IssueError::SessionExpired)
    );
    assert_eq!(
        f.c.grant_conference(&fresh).await.unwrap_err(),
        CustodianError::Issue(IssueError::SessionExpired)
    );
    assert_eq!(
        f.c.expose(&contacts, &own).await.unwrap_err(),
        access(AccessError::Expired { grant: own.id() })
    );
}

#[tokio::test]
async fn staff_need_a_valid_nda() {
    let f = fx(key(1, 1), TimeDelta::minutes(5)).await;
    let now = t0();
    let staff = StaffId::new_random();
    let subject = f.c.register_subject().await.unwrap();
    let rec =
        f.c.store(subject, Phone::parse("+4420 7946 0958").unwrap())
            .await
            .unwrap();
    let phone = Personal::new(subject, Phone::parse("+4420 7946 0958").unwrap());
    let nda_missing = CustodianError::Issue(IssueError::NdaMissing { staff });
    // Nothing on file: no grant.
    assert_eq!(
        f.c.grant_staff::<SupportContact>(subject, staff)
            .await
            .unwrap_err(),
        nda_missing
    );
    f.staff.file(NdaAttestation::new(
        staff,
        "nda-2026-014",
        now - TimeDelta::days(10),
        Some(now + TimeDelta::days(355)),
    ));
    let g =
        f.c.grant_staff::<SupportContact>(subject, staff)
            .await
            .unwrap();
    assert_eq!(g.info().actor, Actor::Staff { staff });
    assert_eq!(g.info().expires_at, now + TimeDelta::minutes(5));
    assert!(f.c.expose(&phone, &g).await.is_ok());
    assert!(f.c.with::<Phone, _, _>(&g, rec, |_| ()).await.is_ok());
    // A lapsed NDA on file: no new grant, and the grant already issued stops at once.
    f.staff.file(NdaAttestation::new(
        staff,
        "nda-2025-001",
        now - TimeDelta::days(400),
        Some(now - TimeDelta::days(35)),
    ));
    assert_eq!(
        f.c.grant_staff::<SupportContact>(subject, staff)
            .await
            .unwrap_err(),
        nda_missing
    );
    assert_eq!(
        f.c.expose(&phone, &g).await.unwrap_err(),
        access(AccessError::NdaMissing { staff })
    );

    // A grant never outlives the NDA it was issued under, whatever the grant lifetime.
    let long = fx(key(1, 1), TimeDelta::hours(8)).await;
    let subject = long.c.register_subject().await.unwrap();
    let phone = Personal::new(subject, Phone::parse("+4420 7946 0958").unwrap());
    let other_staff = StaffId::new_random();
    long.staff.file(NdaAttestation::new(
        other_staff,
        "nda-2026-016",
        now - TimeDelta::days(1),
        None,
    ));
    let open_ended = long
        .c
        .grant_staff::<SupportContact>(subject, other_staff)
        .await
        .unwrap();
    assert_eq!(open_ended.info().expires_at, now + TimeDelta::hours(8));
    long.staff.file(NdaAttestation::new(
        staff,
        "nda-2026-015",
        now - TimeDelta::days(300),
        Some(now + TimeDelta::minutes(5)),
    ));
    let g = long
        .c
        .grant_staff::<SupportContact>(subject, staff)
        .await
        .unwrap();
    assert_eq!(g.info().expires_at, now + TimeDelta::minutes(5));
    long.clock.advance(TimeDelta::minutes(4));
    assert!(long.c.expose(&phone, &g).await.is_ok());
    long.clock.advance(TimeDelta::minutes(2));
    assert_eq!(
        long.c.expose(&phone, &g).await.unwrap_err(),
        access(AccessError::Expired { grant: g.id() })
    );
}

// ------------------------------------------------------------------------------------------
// Signed tokens

#[tokio::test]
async fn token_round_trip_across_custodians_of_one_deployment() {
    let secret = 7_u8;
    let a = fx(key(1, secret), TimeDelta::minutes(5)).await;
    let b = a.peer(key(1, secret), vec![], TimeDelta::minutes(5)).await;
    let alice = a.c.register_subject().await.unwrap();
    let rec =
        a.c.store(alice, Email::parse("alice@example.com").unwrap())
            .await
            .unwrap();
    let g = a.c.grant::<Notification>(alice, "mailer").await.unwrap();
    let token = a.c.seal_grant(&g).unwrap();
    assert!(token.starts_with("g1."));
    assert!(
        token
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"-_.".contains(&c)),
        "url-safe"
    );
    let opened = b.open_grant::<Notification>(&token).await.unwrap();
    assert_eq!(opened.info().id, g.id());
    assert_eq!(opened.info().subject, alice);
    assert_eq!(opened.info().actor, g.info().actor);
    assert_eq!(opened.info().purpose, g.info().purpose);
    assert_eq!(opened.info().consent, g.info().consent);
    assert_eq!(
        opened.info().issued_at.timestamp_millis(),
        g.info().issued_at.timestamp_millis()
    );
    assert_eq!(
        opened.info().expires_at.timestamp_millis(),
        g.info().expires_at.timestamp_millis()
    );
    let email = Personal::new(alice, Email::parse("alice@example.com").unwrap());
    assert!(b.expose(&email, &opened).await.is_ok());
    assert!(b.with::<Email, _, _>(&opened, rec, |_| ()).await.is_ok());
    // Revocation in the opening process applies to the opened grant, and through the
    // shared ledger in the issuing process too.
    b.revoke(&opened).await.unwrap();
    let refused =
        CustodianError::Token(TokenError::Refused(AccessError::Revoked { grant: g.id() }));
    assert_eq!(
        b.open_grant::<Notification>(&token).await.unwrap_err(),
        refused
    );
    assert_eq!(
        a.c.open_grant::<Notification>(&token).await.unwrap_err(),
        refused
    );
    assert_eq!(
        a.c.expose(&email, &g).await.unwrap_err(),
        access(AccessError::Revoked { grant: g.id() })
    );
}

#[tokio::test]
async fn token_refusals() {
    let key9 = || key(9, 1);
    let f = fx(key9(), TimeDelta::minutes(5)).await;
    let alice = f.c.register_subject().await.unwrap();
    let g = f.c.grant::<Notification>(alice, "mailer").await.unwrap();
    let token = f.c.seal_grant(&g).unwrap();
    assert!(f.c.open_grant::<Notification>(&token).await.is_ok());

    assert_eq!(
        f.c.open_grant::<Analytics>(&token).await.unwrap_err(),
        CustodianError::Token(TokenError::WrongPurpose)
    );
    f.clock.advance(TimeDelta::hours(1));
    assert_eq!(
        f.c.open_grant::<Notification>(&token).await.unwrap_err(),
        CustodianError::Token(TokenError::Expired(g.id()))
    );
    f.clock.set(t0());
    // Malformed and over-long input: a typed error, never a panic.
    let over_long = format!("{token}{}", "A".repeat(1024));
    for bad in [
        "",
        "g1.",
        "g1.!!!",
        "g2.AAAA",
        "x",
        &"g1.".repeat(400),
        &over_long,
    ] {
        assert_eq!(
            f.c.open_grant::<Notification>(bad).await.unwrap_err(),
            CustodianError::Token(TokenError::Malformed),
            "{bad:?}"
        );
    }
    let truncated = &token[..token.len() - 2];
    assert!(
        matches!(
            f.c.open_grant::<Notification>(truncated).await,
            Err(CustodianError::Token(
                TokenError::Malformed | TokenError::BadSignature
            ))
        ),
        "truncated"
    );
    // Forged: same layout and key id, other secret.
    let forger = fx(key(9, 2), TimeDelta::minutes(5)).await;
    let forged = forger
        .c
        .seal_grant(
            &forger
                .c
                .grant::<Notification>(alice, "mailer")
                .await
                .unwrap(),
        )
        .unwrap();
    assert_eq!(
        f.c.open_grant::<Notification>(&forged).await.unwrap_err(),
        CustodianError::Token(TokenError::BadSignature)
    );
    // Unknown key id.
    let other = fx(key(10, 1), TimeDelta::minutes(5)).await;
    let t10 = other
        .c
        .seal_grant(
            &other
                .c
                .grant::<Notification>(alice, "mailer")
                .await
                .unwrap(),
        )
        .unwrap();
    assert_eq!(
        f.c.open_grant::<Notification>(&t10).await.unwrap_err(),
        CustodianError::Token(TokenError::UnknownKey(10))
    );
    // None of the refused tokens was opened: the first grant still works, nothing else.
    assert!(f.c.open_grant::<Notification>(&token).await.is_ok());
    // Short secrets and duplicate key ids are configuration errors.
    assert_eq!(
        TokenKey::from_secret(1, &[0; 31]).unwrap_err(),
        KeyError::SecretTooShort
    );
    // A hand-written signing secret lets anyone who guesses it mint grants: constant,
    // repeated, counting and quadratic secrets are refused like a weak KEK (issue 16).
    let counter: Vec<u8> = (0..32).collect();
    let squares: Vec<u8> = (0..32_u16).map(|i| (i * i % 256) as u8).collect();
    for weak in [
        &[7_u8; 32][..],
        b"tttttttttttttttttttttttttttttttt",
        b"tokentokentokentokentokentokento",
        &counter,
        &squares,
    ] {
        assert_eq!(
            TokenKey::from_secret(1, weak).unwrap_err(),
            KeyError::WeakSecret
        );
    }
    assert_eq!(
        common::bare(keyring())
            .token_key(key9())
            .accept_token_key(key9())
            .build()
            .await
            .unwrap_err(),
        CustodianError::Config("token keys")
    );
}

#[tokio::test]
async fn token_key_rotation() {
    let old = || key(1, 13);
    let new = || key(2, 4);
    let before = fx(old(), TimeDelta::minutes(5)).await;
    let after = before.peer(new(), vec![old()], TimeDelta::minutes(5)).await;
    let retired = before.peer(new(), vec![], TimeDelta::minutes(5)).await;
    let s = before.c.register_subject().await.unwrap();
    let rec = before
        .c
        .store(s, IpAddress::parse("192.0.2.1").unwrap())
        .await
        .unwrap();
    let g = before.c.grant::<Analytics>(s, "stats").await.unwrap();
    let token = before.c.seal_grant(&g).unwrap();
    assert_eq!(
        after.open_grant::<Analytics>(&token).await.unwrap().id(),
        g.id()
    );
    assert_eq!(
        retired.open_grant::<Analytics>(&token).await.unwrap_err(),
        CustodianError::Token(TokenError::UnknownKey(1))
    );
    // In-process grants follow the same keys: accepted while the old key is, refused after.
    assert!(after.with::<IpAddress, _, _>(&g, rec, |_| ()).await.is_ok());
    assert_eq!(
        retired
            .with::<IpAddress, _, _>(&g, rec, |_| ())
            .await
            .unwrap_err(),
        access(AccessError::ForeignAuthority { grant: g.id() })
    );
    // New tokens are signed with the new key.
    let fresh = after.grant::<Analytics>(s, "stats").await.unwrap();
    let t2 = after.seal_grant(&fresh).unwrap();
    assert!(retired.open_grant::<Analytics>(&t2).await.is_ok());
    assert_eq!(
        before.c.open_grant::<Analytics>(&t2).await.unwrap_err(),
        CustodianError::Token(TokenError::UnknownKey(2))
    );
}

#[tokio::test]
async fn every_single_bit_flip_of_a_token_is_rejected() {
    let f = fx(key(1, 1), TimeDelta::minutes(5)).await;
    let alice = f.c.register_subject().await.unwrap();
    let s = f.session(alice).await;
    f.consent(alice, ConsentScope::ZoomLink).await;
    let proof = f.c.user_request(&s).unwrap();
    let tokens = [
        f.c.seal_grant(&f.c.grant::<Notification>(alice, "mailer").await.unwrap())
            .unwrap(),
        f.c.seal_grant(&f.c.grant_conference(&proof).await.unwrap())
            .unwrap(),
    ];
    // Unflipped, each opens for its own purpose only (so the flips below are meaningful).
    assert!(f.c.open_grant::<Notification>(&tokens[0]).await.is_ok());
    assert!(
        f.c.open_grant::<ConferenceCreation>(&tokens[1])
            .await
            .is_ok()
    );
    for token in &tokens {
        let bytes = token.as_bytes();
        let mut checked = 0;
        for i in 0..bytes.len() {
            for bit in 0..8 {
                let mut b = bytes.to_vec();
                b[i] ^= 1 << bit;
                let Ok(flipped) = String::from_utf8(b) else {
                    continue;
                };
                let n = f.c.open_grant::<Notification>(&flipped).await;
                let c = f.c.open_grant::<ConferenceCreation>(&flipped).await;
                assert!(
                    matches!(n, Err(CustodianError::Token(_)))
                        && matches!(c, Err(CustodianError::Token(_))),
                    "bit {bit} of byte {i} flipped and still accepted (or refused untyped)"
                );
                checked += 1;
            }
        }
        // Flipping bit 7 of an ASCII byte is not UTF-8 and cannot reach `open_grant`; all 7
        // others must.
        assert_eq!(checked, bytes.len() * 7);
    }
}

// ------------------------------------------------------------------------------------------
// Model-based property test: reads through grants agree with a simple model.

#[derive(Debug, Clone)]
enum Op {
    Issue { subject: usize, ttl_secs: i64 },
    Revoke { grant: usize },
    Advance { secs: i64 },
    Expose { grant: usize, owner: usize },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..3_usize, 1..600_i64).prop_map(|(subject, ttl_secs)| Op::Issue { subject, ttl_secs }),
        (0..16_usize).prop_map(|grant| Op::Revoke { grant }),
        (0..400_i64).prop_map(|secs| Op::Advance { secs }),
        (0..16_usize, 0..3_usize).prop_map(|(grant, owner)| Op::Expose { grant, owner }),
    ]
}

/// One issued grant in the model: the grant, the custodian that issued it, its subject
/// index and its expiry.
type ModelGrant = (Grant<Notification>, Custodian, usize, DateTime<Utc>);

async fn run_model(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let secret = 5_u8;
    // `f.c` is one process of the deployment; grants come from processes with the
    // lifetime asked for (grant lifetime is a custodian setting), all on one ledger/clock.
    let f = fx(key(1, secret), TimeDelta::minutes(5)).await;
    let mut subjects = Vec::new();
    for _ in 0..3 {
        subjects.push(f.c.register_subject().await.unwrap());
    }
    let data: Vec<Personal<Email>> = subjects
        .iter()
        .map(|&s| Personal::new(s, Email::parse("m@example.com").unwrap()))
        .collect();
    let mut now = t0();
    let mut issuers: HashMap<i64, Custodian> = HashMap::new();
    let mut grants: Vec<ModelGrant> = Vec::new();
    let mut revoked: HashSet<GrantId> = HashSet::new();
    for op in ops {
        match op {
            Op::Issue { subject, ttl_secs } => {
                let issuer = match issuers.get(&ttl_secs) {
                    Some(c) => c.clone(),
                    None => {
                        let c = f
                            .peer(key(1, secret), vec![], TimeDelta::seconds(ttl_secs))
                            .await;
                        issuers.insert(ttl_secs, c.clone());
                        c
                    }
                };
                let g = issuer
                    .grant::<Notification>(subjects[subject], "mailer")
                    .await
                    .unwrap();
                let expires = now + TimeDelta::seconds(ttl_secs);
                prop_assert_eq!(g.info().expires_at, expires);
                grants.push((g, issuer, subject, expires));
            }
            Op::Revoke { grant } => {
                if let Some((g, _, _, _)) = grants.get(grant) {
                    // Revoked in another process than the issuer's: the ledger carries it.
                    f.c.revoke(g).await.unwrap();
                    revoked.insert(g.id());
                }
            }
            Op::Advance { secs } => {
                f.clock.advance(TimeDelta::seconds(secs));
                now += TimeDelta::seconds(secs);
            }
            Op::Expose { grant, owner } => {
                if let Some((g, issuer, subject, expires)) = grants.get(grant) {
                    // The gate's order: the grant's own basis (expiry, revocation), then the
                    // data's subject.
                    let expected = if now >= *expires {
                        Err(access(AccessError::Expired { grant: g.id() }))
                    } else if revoked.contains(&g.id()) {
                        Err(access(AccessError::Revoked { grant: g.id() }))
                    } else if *subject != owner {
                        Err(access(AccessError::WrongSubject { grant: g.id() }))
                    } else {
                        Ok(())
                    };
                    // The issuing process (fast path while nothing changed) and another one.
                    for c in [issuer, &f.c] {
                        let got = c.expose(&data[owner], g).await.map(|_| ());
                        prop_assert_eq!(&got, &expected);
                    }
                }
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn reads_agree_with_model(ops in proptest::collection::vec(op(), 1..80)) {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(run_model(ops))?;
    }
}
