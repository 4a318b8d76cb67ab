//! End to end on the embedded default store (a SQLite file): clauses 3.1–3.7, consent and
//! its withdrawal, an erasure request and a retention sweep. Prints only redacted output.
//!
//! The host's login is stood in for by an in-memory authenticator, its staff directory by an
//! in-memory one, and time by a manual clock so the demo can show a record collected 420
//! days ago being swept.
//!
//! Run: `cargo run --example quickstart` (a temporary database), or
//! `cargo run --example quickstart -- --db crm.db` to keep the file.
//! `--hold` waits for a line on stdin before closing the store (used by the canary test to
//! inspect the open database and its WAL).
#![allow(clippy::print_stdout, reason = "examples print their walk-through")]

use std::sync::Arc;

use crm_privacy::chrono::{Months, TimeDelta, Utc};
use crm_privacy::consent::{CollectionMethod, ConsentScope, Permission};
use crm_privacy::crypto::{Kek, Keyring};
use crm_privacy::custodian::{Custodian, CustodianError};
use crm_privacy::staff::InMemoryStaffDirectory;
use crm_privacy::store::InMemoryAuthenticator;
use crm_privacy::{
    AccessError, Analytics, Category, CookiePreference, DeviceContact, DeviceInfo, Email,
    IdentityVerification, IpAddress, ManualClock, NdaAttestation, Notification, PersonName, Phone,
    Preferences, ProviderAccountId, SessionClaims, SessionId, StaffId, SupportContact, TokenKey,
    Zoom, ZoomAccessToken,
};
use crm_privacy_sqlite::SqliteStore;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let hold = args.iter().any(|a| a == "--hold");
    let tmp = tempfile::tempdir()?;
    let db = match args
        .iter()
        .position(|a| a == "--db")
        .and_then(|i| args.get(i + 1))
    {
        Some(p) => std::path::PathBuf::from(p),
        None => tmp.path().join("crm.db"),
    };

    // Keys come from the host's secret manager; generated here for the demo.
    let keyring = Keyring::new(Kek::generate(1)?, &ring_random()?)?;
    let store = Arc::new(SqliteStore::open(&db)?);
    // The host's login and staff directory (in-memory stand-ins here), and the custodian's
    // clock: time is the custodian's, never the caller's. The demo starts it 420 days ago.
    let now = Utc::now();
    let clock = Arc::new(ManualClock::new(now - TimeDelta::days(420)));
    let logins = Arc::new(InMemoryAuthenticator::new());
    let staff = Arc::new(InMemoryStaffDirectory::new());
    let crm = Custodian::builder(keyring)
        .store(store.clone())
        .token_key(TokenKey::generate(1)?)
        .clock(clock.clone())
        .authenticator(logins.clone())
        .staff_directory(staff.clone())
        .immutable(Category::CustomerRecord, "commercial")
        .build()
        .await?;
    println!("store: a sqlite file (records + chains) and its separate key file");

    // Clause 1: the subject's own profile. An IP address was collected 420 days ago.
    let alice = crm.register_subject().await?;
    let ip = crm.store(alice, IpAddress::parse("203.0.113.9")?).await?;
    clock.set(now);
    // Alice logs in (the host's login; the custodian verifies the credential).
    logins.insert(
        "alice-session-cookie",
        SessionClaims {
            subject: alice,
            session: SessionId::new_random(),
            authenticated_at: now,
            expires_at: now + TimeDelta::hours(8),
        },
    );
    let session = crm.authenticate("alice-session-cookie").await?;
    let name = crm
        .store(alice, PersonName::parse("Alice Quickstart")?)
        .await?;
    let email = crm
        .store(alice, Email::parse("alice.quickstart@example.com")?)
        .await?;
    let phone = crm.store(alice, Phone::parse("+41 44 668 18 00")?).await?;
    println!("1   registered {alice} with name {name}, email {email}, phone {phone}");

    // 3.1 Email for notifications.
    let mailer = crm.grant::<Notification>(alice, "mailer").await?;
    let domain = crm
        .with::<Email, _, _>(&mailer, email, |e| e.domain().to_owned())
        .await?;
    println!("3.1 notification sent to an address at {domain}");

    // 3.2 Phone for identity codes and support calls (staff need an NDA, 8.1).
    let sms = crm.grant::<IdentityVerification>(alice, "sms").await?;
    let cc = crm
        .with::<Phone, _, _>(&sms, phone, Phone::country_code)
        .await?;
    println!("3.2 identity code sent to a number with country code +{cc}");
    let agent = StaffId::new_random();
    staff.file(NdaAttestation::new(
        agent,
        "nda-2026-014",
        now - TimeDelta::days(30),
        None,
    ));
    let support = crm.grant_staff::<SupportContact>(alice, agent).await?;
    println!(
        "3.2 support call by staff under NDA: {}",
        crm.with::<Phone, _, _>(&support, phone, |_| ())
            .await
            .is_ok()
    );

    // 3.3 Google sign-in needs the account link consent.
    let refused = crm
        .grant::<crm_privacy::Authentication>(alice, "login")
        .await;
    println!(
        "3.3 sign-in before linking google: {}",
        refused.err().map(|e| e.to_string()).unwrap_or_default()
    );
    crm.give_consent(
        &session,
        ConsentScope::GoogleLink,
        CollectionMethod::UiAction,
        Some("ui:link-google"),
    )
    .await?;
    let gid = crm
        .store(
            alice,
            ProviderAccountId::<crm_privacy::Google>::parse("google-1093")?,
        )
        .await?;
    let login = crm
        .grant::<crm_privacy::Authentication>(alice, "login")
        .await?;
    println!(
        "3.3 sign-in with linked google account: {}",
        crm.with::<ProviderAccountId<crm_privacy::Google>, _, _>(&login, gid, |_| ())
            .await
            .is_ok()
    );

    // 3.4 Device facts for statistics.
    let device = crm
        .store(
            alice,
            DeviceInfo::new("Pixel 9", "Android 16", "5.2.0", 1080, 2424)?,
        )
        .await?;
    let stats = crm.grant::<Analytics>(alice, "stats").await?;
    let screen = crm
        .with::<DeviceInfo, _, _>(&stats, device, DeviceInfo::screen_resolution)
        .await?;
    println!("3.4 statistics: screen {screen:?}");

    // 3.5 Imported contacts (with the subject's consent to the import, and the device's
    // file-storage permission the import reads the contacts file through, 4.3): only the
    // owner reads them.
    crm.give_consent(
        &session,
        ConsentScope::ContactsImport,
        CollectionMethod::UiAction,
        Some("ui:import-contacts"),
    )
    .await?;
    crm.give_consent(
        &session,
        ConsentScope::Device(Permission::FileStorage),
        CollectionMethod::UiAction,
        Some("os:storage-permission-granted"),
    )
    .await?;
    let contact = crm
        .store(
            alice,
            DeviceContact::new(PersonName::parse("Bob Contact")?, None, None),
        )
        .await?;
    let own = crm.grant_owner(&session).await?;
    println!(
        "3.5 owner reads imported contact: {}",
        crm.with::<DeviceContact, _, _>(&own, contact, |_| ())
            .await
            .is_ok()
    );

    // 3.6 Cookie preferences, with cookie consent.
    crm.give_consent(
        &session,
        ConsentScope::Cookies,
        CollectionMethod::UiAction,
        Some("ui:cookie-banner"),
    )
    .await?;
    let mut prefs = CookiePreference::new();
    prefs.set_language("de-CH")?;
    let prefs = crm.store(alice, prefs).await?;
    let ui = crm.grant_for_session::<Preferences>(&session).await?;
    println!(
        "3.6 language remembered: {}",
        crm.with::<CookiePreference, _, _>(&ui, prefs, |p| p.language().is_some())
            .await?
    );

    // 3.7 Zoom: connect, create a conference at the user's request, disconnect, refusal.
    crm.give_consent(
        &session,
        ConsentScope::ZoomLink,
        CollectionMethod::UiAction,
        Some("ui:connect-zoom"),
    )
    .await?;
    crm.store(alice, ProviderAccountId::<Zoom>::parse("zoom-user-42")?)
        .await?;
    let token = crm
        .store(alice, ZoomAccessToken::parse("zoom-token-qs-8e2f")?)
        .await?;
    let click = crm.user_request(&session)?;
    let conf = crm.grant_conference(&click).await?;
    let created = crm
        .with::<ZoomAccessToken, _, _>(&conf, token, |t| !t.as_str().is_empty())
        .await?;
    println!("3.7 conference created at the user's request: {created}");
    crm.withdraw_consent(alice, ConsentScope::ZoomLink).await?;
    match crm
        .with::<ZoomAccessToken, _, _>(&conf, token, |_| ())
        .await
    {
        Err(e) => println!("3.7 after disconnecting zoom: {e}"),
        Ok(()) => return Err("a zoom token was readable after disconnect".into()),
    }

    // 6.1 Rectification, 9.1 restriction.
    crm.rectify(&own, name, PersonName::parse("Alice Q. Start")?)
        .await?;
    println!("6.1 name rectified by the owner");
    crm.restrict(alice).await?;
    match crm.with::<Email, _, _>(&mailer, email, |_| ()).await {
        Err(CustodianError::Access(e @ AccessError::Restricted { .. })) => {
            println!("9.1 restricted: {e}")
        }
        other => return Err(format!("expected a restriction refusal, got {other:?}").into()),
    }
    crm.lift_restriction(alice).await?;

    // 9.1 Retention sweep (13 months for IP addresses: the old one goes).
    println!("9.1 retention sweep:");
    println!(
        "    {:<44} {:<18} {:<8} deadline",
        "record", "kind", "action"
    );
    for line in crm.sweep().await? {
        let deadline = line
            .deadline
            .map_or("while the account exists".to_owned(), |d| {
                d.format("%Y-%m-%d").to_string()
            });
        let action = if line.deleted { "deleted" } else { "kept" };
        println!(
            "    {:<44} {:<18} {:<8} {deadline}",
            line.record.to_string(),
            line.kind,
            action
        );
    }
    let _ = (ip, Months::new(13));

    // Another subject, erased on request (6.2).
    let bob = crm.register_subject().await?;
    crm.store(bob, Email::parse("bob.quickstart@example.com")?)
        .await?;
    let report = crm.erase(bob).await?;
    println!(
        "6.2 erased {}: {} records deleted, key destroyed: {}, backups age out by {}",
        report.subject,
        report.records_deleted,
        report.key_destroyed,
        report.backups_age_out_by.format("%Y-%m-%d")
    );

    let chains = crm.verify_chains().await?;
    println!(
        "audit: ledger {} entries, audit log {} entries, both chains verify",
        chains.ledger_entries, chains.audit_entries
    );

    if hold {
        println!("holding the store open");
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
    }
    drop(crm);
    drop(store);
    Ok(())
}

fn ring_random() -> Result<[u8; 32], Box<dyn std::error::Error>> {
    let mut b = [0_u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b)
        .map_err(|_| "random source failed")?;
    Ok(b)
}
