//! End-to-end walk through clauses 3.1–3.7 of the policy. Prints only redacted values.
//!
//! Run: `cargo run --example quickstart`
#![allow(clippy::print_stdout, reason = "examples print their walk-through")]

use chrono::Utc;
use crm_privacy::{
    AccessError, Analytics, ConferenceCreation, CookiePreference, DeviceContact, DeviceInfo, Email,
    GrantIssuer, IdentityVerification, IpAddress, Notification, PersonName, Personal, Phone,
    Preferences, ProviderAccountId, RequestId, SessionId, SubjectId, Troubleshooting,
    UserInitiated, UserSession, Zoom, ZoomAccessToken,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let now = Utc::now();
    let issuer = GrantIssuer::builder().build()?;
    let alice = SubjectId::new_random();
    let session = UserSession::new(
        alice,
        SessionId::new_random(),
        now,
        now + chrono::TimeDelta::hours(8),
    );
    println!("subject {alice}");

    // 3.1 Email is read to send notifications.
    let email = Personal::new(alice, Email::parse("alice@example.com")?);
    let mailer = issuer.issue::<Notification>(alice, "mailer", now)?;
    let to = email.expose(&mailer, now)?;
    println!(
        "3.1 notification to an address at {} via {}",
        to.domain(),
        mailer.id()
    );

    // 3.2 Phone is read to send an identity code.
    let phone = Personal::new(alice, Phone::parse("+41 44 668 18 00")?);
    let sms = issuer.issue::<IdentityVerification>(alice, "sms", now)?;
    println!(
        "3.2 code sent to a number with country code +{}",
        phone.expose(&sms, now)?.country_code()
    );

    // 3.3 / 3.7 Zoom: token read only for a conference the user asked for.
    let zoom_id = Personal::new(alice, ProviderAccountId::<Zoom>::parse("zoom-user-42")?);
    let zoom_token = Personal::new(alice, ZoomAccessToken::parse("eyJhbGciOi.example.token")?);
    let click = UserInitiated::new(&session, RequestId::new_random(), now);
    let conf = issuer.issue_conference(&click, now)?;
    let _bearer = zoom_token.expose(&conf, now)?;
    println!(
        "3.7 conference created for {:?} at the user's request",
        zoom_id
    );

    // 3.4 Device facts for statistics and troubleshooting.
    let ip = Personal::new(alice, IpAddress::parse("203.0.113.9")?);
    let device = Personal::new(
        alice,
        DeviceInfo::new("Pixel 9", "Android 16", "5.2.0", 1080, 2424)?,
    );
    let stats = issuer.issue::<Analytics>(alice, "stats", now)?;
    let debug = issuer.issue::<Troubleshooting>(alice, "oncall", now)?;
    println!(
        "3.4 stats: ipv4={} screen={:?}",
        ip.expose(&stats, now)?.ip().is_ipv4(),
        device.expose(&debug, now)?.screen_resolution()
    );

    // 3.5 Imported device contacts: only the owner reads them.
    let contact = Personal::new(
        alice,
        DeviceContact::new(PersonName::parse("Bob Example")?, None, None),
    );
    let own = issuer.issue_owner(&session, now)?;
    println!(
        "3.5 owner reads {:?}: {}",
        contact,
        contact.expose(&own, now).is_ok()
    );

    // 3.6 Cookie preferences.
    let mut prefs = CookiePreference::new();
    prefs.set_language("de-CH")?;
    let prefs = Personal::new(alice, prefs);
    let ui = issuer.issue_for_session::<Preferences>(&session, now)?;
    println!(
        "3.6 language preference present: {}",
        prefs.expose(&ui, now)?.language().is_some()
    );

    // Signed grant for another process, then revocation.
    let token = issuer.seal(&mailer);
    let reopened = issuer.open::<Notification>(&token, now)?;
    issuer.revoke(reopened.id());
    match email.expose(&reopened, now) {
        Err(e @ AccessError::Revoked { .. }) => println!("revoked grant refused: {e}"),
        other => return Err(format!("expected a revocation refusal, got {other:?}").into()),
    }
    let _ = ConferenceCreation; // the only purpose that opens the zoom token
    Ok(())
}
