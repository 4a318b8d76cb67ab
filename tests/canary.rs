#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]
//! Canary test: a distinctive plaintext goes into every data type; no Debug output, error
//! message or serialized form contains it.

use std::sync::Arc;

use chrono::{TimeDelta, Utc};
use crm_privacy::crypto::Keyring;
use crm_privacy::custodian::Custodian;
use crm_privacy::store::{InMemoryChainStore, InMemoryKeyStore, InMemoryRecordStore};
use crm_privacy::*;

const CANARY: &str = "cnry7f3a";

fn assert_clean(what: &str, rendered: &str) {
    assert!(
        !rendered.contains(CANARY),
        "{what} leaked the canary: {rendered}"
    );
    assert!(
        !rendered.contains("7f3a"),
        "{what} leaked part of the canary: {rendered}"
    );
}

#[test]
fn debug_of_every_kind_is_redacted() {
    let s = SubjectId::new_random();
    let email = Email::parse(&format!("{CANARY}@{CANARY}.example")).unwrap();
    let phone = Phone::parse("+1 415 555 7f3a".replace("7f3a", "7300").as_str()).unwrap();
    let name = PersonName::parse(CANARY).unwrap();
    let mut rec = CustomerRecord::new();
    rec.set("company", CANARY).unwrap();
    let mut prefs = CookiePreference::new();
    prefs
        .set_language("de-CH")
        .unwrap()
        .set_draft("note", CANARY)
        .unwrap();
    let rendered = [
        format!("{email:?}"),
        format!("{phone:?}"),
        format!("{name:?}"),
        format!("{rec:?}"),
        format!("{prefs:?}"),
        format!(
            "{:?}",
            ColleagueContact::new(
                PersonName::parse(CANARY).unwrap(),
                Email::parse(&format!("{CANARY}@x.example")).unwrap()
            )
        ),
        format!(
            "{:?}",
            DeviceContact::new(PersonName::parse(CANARY).unwrap(), None, None)
        ),
        format!("{:?}", IpAddress::parse("2001:db8::7f3a").unwrap()),
        format!(
            "{:?}",
            DeviceInfo::new(CANARY, CANARY, CANARY, 1920, 1080).unwrap()
        ),
        format!("{:?}", ProviderAccountId::<Google>::parse(CANARY).unwrap()),
        format!("{:?}", ProviderAccountId::<Zoom>::parse(CANARY).unwrap()),
        format!("{:?}", ZoomAccessToken::parse(CANARY).unwrap()),
        format!(
            "{:?}",
            Personal::new(s, Email::parse(&format!("{CANARY}@x.example")).unwrap())
        ),
        format!(
            "{:#?}",
            Personal::new(s, PersonName::parse(CANARY).unwrap())
        ),
    ];
    for r in &rendered {
        assert_clean("debug", r);
        assert!(r.contains("redacted"), "no redaction marker in {r}");
    }
}

#[test]
fn parse_errors_never_echo_input() {
    let long = CANARY.repeat(100);
    let bad_emails = [
        CANARY.to_string(),
        format!("{CANARY}@"),
        format!("@{CANARY}"),
        format!("{CANARY}..x@example.com"),
        format!("{CANARY}@{CANARY}"),
        format!("{long}@example.com"),
        format!("{CANARY} x@example.com"),
    ];
    for e in &bad_emails {
        let err = Email::parse(e).unwrap_err();
        assert_clean("email error", &format!("{err} {err:?}"));
    }
    for p in [
        format!("+{CANARY}"),
        CANARY.to_string(),
        "415 555 0100".to_owned(),
        format!("+1 {long}"),
    ] {
        let err = Phone::parse(&p).unwrap_err();
        assert_clean("phone error", &format!("{err} {err:?}"));
    }
    for bad in [format!("{CANARY}\u{7}"), long.clone(), String::new()] {
        let err = PersonName::parse(&bad).unwrap_err();
        assert_clean("name error", &format!("{err} {err:?}"));
    }
    let err = IpAddress::parse(CANARY).unwrap_err();
    assert_clean("ip error", &format!("{err} {err:?}"));
    let err = ZoomAccessToken::parse(&format!("{CANARY} space")).unwrap_err();
    assert_clean("token error", &format!("{err} {err:?}"));
    let mut rec = CustomerRecord::new();
    let err = rec.set(CANARY.to_uppercase().as_str(), "v").unwrap_err();
    assert_clean("record error", &format!("{err} {err:?}").to_lowercase());
    // A truncated encoding is a typed error that names the kind only.
    let bytes = Email::parse(&format!("{CANARY}@x.example"))
        .unwrap()
        .encode();
    let err = Email::decode(&bytes[..bytes.len() - 3]).unwrap_err();
    assert_eq!(err.reason(), DataReason::Corrupt);
    assert_clean("decode error", &format!("{err} {err:?}"));
}

#[tokio::test]
async fn grants_tokens_and_register_carry_no_values() {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let c = Custodian::builder(Keyring::generate().unwrap())
        .records(Arc::new(InMemoryRecordStore::new()))
        .chains(Arc::new(InMemoryChainStore::new()))
        .keys(Arc::new(InMemoryKeyStore::new()))
        .clock(clock.clone())
        .build()
        .await
        .unwrap();
    let s = c.register_subject().await.unwrap();
    let email = Personal::new(s, Email::parse(&format!("{CANARY}@x.example")).unwrap());
    let g = c.grant::<Notification>(s, "mailer").await.unwrap();
    let _ = c.expose(&email, &g).await.unwrap();
    assert_clean(
        "grant",
        &format!("{g:?} {}", serde_json::to_string(g.info()).unwrap()),
    );
    assert_clean("token", &c.seal_grant(&g).unwrap());
    clock.advance(TimeDelta::hours(1));
    let err = c.expose(&email, &g).await.unwrap_err();
    assert_clean("access error", &format!("{err} {err:?}"));
    let events = c.audit_events().await.unwrap();
    assert_clean(
        "audit",
        &format!("{events:?} {}", serde_json::to_string(&events).unwrap()),
    );
    let reg = policy::register();
    assert_clean(
        "register",
        &format!("{} {}", reg.to_json().unwrap(), reg.to_markdown()),
    );
}

#[test]
fn encode_decode_round_trips_every_kind() {
    fn rt<T: DataKind>(v: &T) -> T {
        T::decode(&v.encode()).unwrap()
    }
    let e = Email::parse("Alice@Example.COM").unwrap();
    assert_eq!(rt(&e).as_str(), "Alice@example.com");
    assert_eq!(
        rt(&Phone::parse("+44 20 7946 0958").unwrap()).as_e164(),
        "+442079460958"
    );
    let ip = IpAddress::parse("192.0.2.7").unwrap();
    assert_eq!(rt(&ip).ip().to_string(), "192.0.2.7");
    assert_eq!(
        rt(&IpAddress::parse("2001:db8::1").unwrap())
            .ip()
            .to_string(),
        "2001:db8::1"
    );
    let d = rt(&DeviceInfo::new("Pixel 9", "Android 16", "5.2.0", 1080, 2424).unwrap());
    assert_eq!(
        (d.model(), d.screen_resolution()),
        ("Pixel 9", (1080, 2424))
    );
    let mut r = CustomerRecord::new();
    r.set("company", "Acme")
        .unwrap()
        .set("city", "Basel")
        .unwrap();
    let r2 = rt(&r);
    assert_eq!(
        (r2.get("company"), r2.get("city")),
        (Some("Acme"), Some("Basel"))
    );
    let c = rt(&DeviceContact::new(
        PersonName::parse("Bob").unwrap(),
        Some(Phone::parse("+14155550100").unwrap()),
        None,
    ));
    assert_eq!(
        (
            c.name().as_str(),
            c.phone().map(Phone::as_e164),
            c.email().is_none()
        ),
        ("Bob", Some("+14155550100"), true)
    );
    let mut p = CookiePreference::new();
    p.set_language("fr")
        .unwrap()
        .set_draft("subject", "Hello")
        .unwrap();
    let p2 = rt(&p);
    assert_eq!(
        (p2.language(), p2.draft("subject")),
        (Some("fr"), Some("Hello"))
    );
    assert_eq!(
        rt(&ProviderAccountId::<Facebook>::parse("10223").unwrap()).as_str(),
        "10223"
    );
    // Every prefix of an encoding is rejected, never panics.
    let bytes = c.encode();
    for n in 0..bytes.len() {
        assert!(DeviceContact::decode(&bytes[..n]).is_err(), "prefix {n}");
    }
}
