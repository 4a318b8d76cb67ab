#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]
//! Run-time guarantees of grants: subject, expiry, revocation, issuance rules, signed tokens.

use std::collections::HashSet;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use crm_privacy::*;
use proptest::prelude::*;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap()
}

fn session(subject: SubjectId, now: DateTime<Utc>) -> UserSession {
    UserSession::new(
        subject,
        SessionId::new_random(),
        now,
        now + TimeDelta::hours(1),
    )
}

#[test]
fn public_types_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Grant<Notification>>();
    assert_send_sync::<GrantIssuer>();
    assert_send_sync::<Personal<Email>>();
    assert_send_sync::<Personal<ZoomAccessToken>>();
    assert_send_sync::<Email>();
    assert_send_sync::<CustomerRecord>();
    assert_send_sync::<AccessError>();
    assert_send_sync::<TokenError>();
    assert_send_sync::<policy::Register>();
}

#[test]
fn expose_checks_subject_expiry_and_revocation() {
    let issuer = GrantIssuer::builder()
        .ttl(TimeDelta::minutes(5))
        .build()
        .unwrap();
    let (alice, bob) = (SubjectId::new_random(), SubjectId::new_random());
    let email = Personal::new(alice, Email::parse("alice@example.com").unwrap());
    let now = t0();
    let g = issuer.issue::<Notification>(alice, "mailer", now).unwrap();
    assert!(email.expose(&g, now).is_ok());
    assert!(email.expose(&g, now + TimeDelta::seconds(299)).is_ok());
    assert_eq!(
        email.expose(&g, now + TimeDelta::minutes(5)).unwrap_err(),
        AccessError::Expired { grant: g.id() }
    );

    let gb = issuer.issue::<Notification>(bob, "mailer", now).unwrap();
    assert_eq!(
        email.expose(&gb, now).unwrap_err(),
        AccessError::WrongSubject { grant: gb.id() }
    );

    issuer.revoke(g.id());
    assert_eq!(
        email.expose(&g, now).unwrap_err(),
        AccessError::Revoked { grant: g.id() }
    );
    // A clone of a revoked grant is revoked too; other grants are unaffected.
    assert!(email.expose(&g.clone(), now).is_err());
    let g2 = issuer.issue::<Notification>(alice, "mailer", now).unwrap();
    assert!(email.expose(&g2, now).is_ok());
}

#[test]
fn owner_and_conference_rules() {
    let issuer = GrantIssuer::builder().build().unwrap();
    let alice = SubjectId::new_random();
    let now = t0();
    let s = session(alice, now);
    let contacts = Personal::new(
        alice,
        DeviceContact::new(PersonName::parse("Bob").unwrap(), None, None),
    );
    let own = issuer.issue_owner(&s, now).unwrap();
    assert_eq!(own.info().actor, Actor::Subject { session: s.id() });
    assert!(contacts.expose(&own, now).is_ok());
    // Someone else's session cannot read Alice's contacts.
    let mallory = session(SubjectId::new_random(), now);
    let other = issuer.issue_owner(&mallory, now).unwrap();
    assert!(matches!(
        contacts.expose(&other, now),
        Err(AccessError::WrongSubject { .. })
    ));
    // Expired session: no grant.
    assert_eq!(
        issuer
            .issue_owner(&s, now + TimeDelta::hours(2))
            .unwrap_err(),
        IssueError::SessionExpired
    );

    // Clause 3.7: a conference grant needs a fresh user-initiated request.
    let fresh = UserInitiated::new(&s, RequestId::new_random(), now);
    assert!(
        issuer
            .issue_conference(&fresh, now + TimeDelta::seconds(30))
            .is_ok()
    );
    assert_eq!(
        issuer
            .issue_conference(&fresh, now + TimeDelta::minutes(3))
            .unwrap_err(),
        IssueError::StaleRequest
    );
    let future = UserInitiated::new(&s, RequestId::new_random(), now + TimeDelta::minutes(1));
    assert_eq!(
        issuer.issue_conference(&future, now).unwrap_err(),
        IssueError::StaleRequest
    );
}

#[test]
fn staff_need_a_valid_nda() {
    let issuer = GrantIssuer::builder().build().unwrap();
    let now = t0();
    let staff = StaffId::new_random();
    let subject = SubjectId::new_random();
    let phone = Personal::new(subject, Phone::parse("+4420 7946 0958").unwrap());
    let nda = NdaAttestation::new(
        staff,
        "nda-2026-014",
        now - TimeDelta::days(10),
        Some(now + TimeDelta::days(355)),
    );
    let g = issuer
        .issue_staff::<SupportContact>(subject, &nda, now)
        .unwrap();
    assert_eq!(g.info().actor, Actor::Staff { staff });
    assert!(phone.expose(&g, now).is_ok());
    let lapsed = NdaAttestation::new(
        staff,
        "nda-2025-001",
        now - TimeDelta::days(400),
        Some(now - TimeDelta::days(35)),
    );
    assert_eq!(
        issuer
            .issue_staff::<SupportContact>(subject, &lapsed, now)
            .unwrap_err(),
        IssueError::NdaMissing { staff }
    );
    // A grant never outlives the NDA it was issued under, whatever the grant lifetime.
    let long = GrantIssuer::builder()
        .ttl(TimeDelta::hours(8))
        .build()
        .unwrap();
    let ending = NdaAttestation::new(
        staff,
        "nda-2026-015",
        now - TimeDelta::days(300),
        Some(now + TimeDelta::minutes(5)),
    );
    let g = long
        .issue_staff::<SupportContact>(subject, &ending, now)
        .unwrap();
    assert_eq!(g.info().expires_at, now + TimeDelta::minutes(5));
    assert!(phone.expose(&g, now + TimeDelta::minutes(4)).is_ok());
    assert!(matches!(
        phone.expose(&g, now + TimeDelta::minutes(6)),
        Err(AccessError::Expired { .. })
    ));
}

// ------------------------------------------------------------------------------------------
// Signed tokens

#[test]
fn token_round_trip_across_issuers_with_shared_key() {
    let secret = [7_u8; 32];
    let a = GrantIssuer::builder()
        .signing_key(TokenKey::from_secret(1, &secret).unwrap())
        .build()
        .unwrap();
    let b = GrantIssuer::builder()
        .signing_key(TokenKey::from_secret(1, &secret).unwrap())
        .build()
        .unwrap();
    let alice = SubjectId::new_random();
    let now = t0();
    let g = a.issue::<Notification>(alice, "mailer", now).unwrap();
    let token = a.seal(&g);
    assert!(token.starts_with("g1."));
    assert!(
        token
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"-_.".contains(&c)),
        "url-safe"
    );
    let opened = b.open::<Notification>(&token, now).unwrap();
    assert_eq!(opened.info().id, g.id());
    assert_eq!(opened.info().subject, alice);
    assert_eq!(
        opened.info().expires_at.timestamp_millis(),
        g.info().expires_at.timestamp_millis()
    );
    let email = Personal::new(alice, Email::parse("alice@example.com").unwrap());
    assert!(email.expose(&opened, now).is_ok());
    // Revocation in the opening process applies to the opened grant.
    b.revoke(g.id());
    assert!(matches!(
        b.open::<Notification>(&token, now),
        Err(TokenError::Refused(AccessError::Revoked { .. }))
    ));
}

#[test]
fn token_refusals() {
    let key = || TokenKey::from_secret(9, &[1_u8; 32]).unwrap();
    let issuer = GrantIssuer::builder().signing_key(key()).build().unwrap();
    let alice = SubjectId::new_random();
    let now = t0();
    let g = issuer.issue::<Notification>(alice, "mailer", now).unwrap();
    let token = issuer.seal(&g);

    assert_eq!(
        issuer.open::<Analytics>(&token, now).unwrap_err(),
        TokenError::WrongPurpose
    );
    assert_eq!(
        issuer
            .open::<Notification>(&token, now + TimeDelta::hours(1))
            .unwrap_err(),
        TokenError::Expired(g.id())
    );
    for bad in [
        "",
        "g1.",
        "g1.!!!",
        "g2.AAAA",
        "x",
        &"g1.".repeat(400),
        &token[..token.len() - 2],
    ] {
        assert!(issuer.open::<Notification>(bad, now).is_err(), "{bad:?}");
    }
    // Forged: same layout, other key.
    let forger = GrantIssuer::builder()
        .signing_key(TokenKey::from_secret(9, &[2_u8; 32]).unwrap())
        .build()
        .unwrap();
    let forged = forger.seal(&forger.issue::<Notification>(alice, "mailer", now).unwrap());
    assert_eq!(
        issuer.open::<Notification>(&forged, now).unwrap_err(),
        TokenError::BadSignature
    );
    // Unknown key id.
    let other = GrantIssuer::builder()
        .signing_key(TokenKey::from_secret(10, &[1_u8; 32]).unwrap())
        .build()
        .unwrap();
    let t10 = other.seal(&other.issue::<Notification>(alice, "mailer", now).unwrap());
    assert_eq!(
        issuer.open::<Notification>(&t10, now).unwrap_err(),
        TokenError::UnknownKey(10)
    );
    // Short secrets and duplicate key ids are configuration errors.
    assert_eq!(
        TokenKey::from_secret(1, &[0; 31]).unwrap_err(),
        KeyError::SecretTooShort
    );
    assert_eq!(
        GrantIssuer::builder()
            .signing_key(key())
            .accept_key(key())
            .build()
            .unwrap_err(),
        KeyError::DuplicateKeyId(9)
    );
}

#[test]
fn token_key_rotation() {
    let old = || TokenKey::from_secret(1, &[3_u8; 32]).unwrap();
    let new = || TokenKey::from_secret(2, &[4_u8; 32]).unwrap();
    let before = GrantIssuer::builder().signing_key(old()).build().unwrap();
    let after = GrantIssuer::builder()
        .signing_key(new())
        .accept_key(old())
        .build()
        .unwrap();
    let retired = GrantIssuer::builder().signing_key(new()).build().unwrap();
    let now = t0();
    let s = SubjectId::new_random();
    let token = before.seal(&before.issue::<Analytics>(s, "stats", now).unwrap());
    assert!(after.open::<Analytics>(&token, now).is_ok());
    assert_eq!(
        retired.open::<Analytics>(&token, now).unwrap_err(),
        TokenError::UnknownKey(1)
    );
}

#[test]
fn every_single_bit_flip_of_a_token_is_rejected() {
    let issuer = GrantIssuer::builder().build().unwrap();
    let now = t0();
    let s = session(SubjectId::new_random(), now);
    let proof = UserInitiated::new(&s, RequestId::new_random(), now);
    for token in [
        issuer.seal(
            &issuer
                .issue::<Notification>(s.subject(), "mailer", now)
                .unwrap(),
        ),
        issuer.seal(&issuer.issue_conference(&proof, now).unwrap()),
    ] {
        let bytes = token.as_bytes();
        let mut checked = 0;
        for i in 0..bytes.len() {
            for bit in 0..8 {
                let mut b = bytes.to_vec();
                b[i] ^= 1 << bit;
                let Ok(flipped) = String::from_utf8(b) else {
                    continue;
                };
                let ok_n = issuer.open::<Notification>(&flipped, now).is_ok();
                let ok_c = issuer.open::<ConferenceCreation>(&flipped, now).is_ok();
                assert!(
                    !ok_n && !ok_c,
                    "bit {bit} of byte {i} flipped and still accepted"
                );
                checked += 1;
            }
        }
        // Flipping bit 7 of an ASCII byte is not UTF-8 and cannot reach `open`; all 7 others must.
        assert_eq!(checked, bytes.len() * 7);
    }
}

// ------------------------------------------------------------------------------------------
// Model-based property test: expose agrees with a simple model.

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

proptest! {
    #[test]
    fn expose_agrees_with_model(ops in proptest::collection::vec(op(), 1..80)) {
        let subjects: Vec<SubjectId> = (0..3).map(|_| SubjectId::new_random()).collect();
        let data: Vec<Personal<Email>> = subjects.iter().map(|&s| Personal::new(s, Email::parse("m@example.com").unwrap())).collect();
        let mut now = t0();
        // Model: (subject index, expires_at, id); revoked ids.
        let mut grants: Vec<(Grant<Notification>, usize, DateTime<Utc>)> = Vec::new();
        let mut revoked: HashSet<GrantId> = HashSet::new();
        let mut issuers = std::collections::HashMap::new();
        for op in ops {
            match op {
                Op::Issue { subject, ttl_secs } => {
                    let issuer = issuers.entry(ttl_secs).or_insert_with(|| GrantIssuer::builder().ttl(TimeDelta::seconds(ttl_secs)).build().unwrap()).clone();
                    let g = issuer.issue::<Notification>(subjects[subject], "mailer", now).unwrap();
                    grants.push((g, subject, now + TimeDelta::seconds(ttl_secs)));
                }
                Op::Revoke { grant } => {
                    if let Some((g, _, _)) = grants.get(grant) {
                        for i in issuers.values() { i.revoke(g.id()); }
                        revoked.insert(g.id());
                    }
                }
                Op::Advance { secs } => now += TimeDelta::seconds(secs),
                Op::Expose { grant, owner } => {
                    if let Some((g, subject, expires)) = grants.get(grant) {
                        let expected = if *subject != owner {
                            Err(AccessError::WrongSubject { grant: g.id() })
                        } else if now >= *expires {
                            Err(AccessError::Expired { grant: g.id() })
                        } else if revoked.contains(&g.id()) {
                            Err(AccessError::Revoked { grant: g.id() })
                        } else {
                            Ok(())
                        };
                        let got = data[owner].expose(g, now).map(|_| ());
                        prop_assert_eq!(got, expected);
                    }
                }
            }
        }
    }
}
