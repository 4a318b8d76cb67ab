#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "the worker reports each acknowledged operation on stdout, one line each"
)]
//! Fault worker for the SIGKILL suite (`stores/sqlite/tests/kill.rs`, issue 14).
//!
//! Opens a custodian on a SQLite file and loops forever over a random mix of
//! `register_subject`, `store` (email, phone), `rectify` (owner grant through a session),
//! `give_consent` + `store` of a consent-collected kind (cookie preference),
//! `withdraw_consent`, `erase` and a host-side KEK rotation (the custodian has no rotation
//! call: the host re-wraps every live key with `Keyring::rewrap` and `KeyStore::put`).
//!
//! Protocol, one flushed line each on stdout:
//! - `ready` once the custodian is built;
//! - `op <what> <args..>` *before* an operation starts (so the checker knows what may be
//!   half done when the kill lands);
//! - `ack <what> <args..>` *after* the operation returned `Ok`;
//! - `err <what> <CustodianError debug>` after it returned an error.
//!
//! Rotation mode (`--rotate`, issue 16): a custodian with KEK epochs whose KEK versions live
//! in a [`FileKeks`] directory; it builds (finishing a rotation an earlier worker left
//! half-done), calls `rotate_if_due` once the epoch has ended and prints `wrap` at each
//! wrap, so the parent can kill it after the k-th re-wrap ([`run_rotation`]).
//!
//! Run by hand: `cargo run -p crm-privacy-sqlite --example fault_worker -- <db> [seed]
//! [kek-id 1|2]` or `-- --rotate <db> <kek-dir> [days after t0]`; the test runs the same code inside its own binary (re-executed as a child,
//! so `cargo test --test kill` needs no other target built).

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use crm_privacy::consent::{CollectionMethod, ConsentScope};
use crm_privacy::crypto::{
    CryptoError, DynKeks, FileKeks, IndexKey, Kek, KekVersion, KeyEncryptionKeys, KeyMaterial,
    Keyring, WrappedKey,
};
use crm_privacy::custodian::{Custodian, CustodianError};
use crm_privacy::store::{InMemoryAuthenticator, KeyStore};
use crm_privacy::{
    CookiePreference, Email, ManualClock, Phone, RecordId, SessionClaims, SessionId, SubjectId,
    TokenKey, UserSession,
};
use crm_privacy_sqlite::SqliteStore;

/// The two KEKs the suite rotates between, and the fixed blind-index secret.
pub(crate) fn keyring(current: u32) -> Keyring {
    let one =
        Kek::from_bytes(1, &crm_privacy::crypto::test_secret(5)).map_err(|e| format!("{e:?}"));
    let two =
        Kek::from_bytes(2, &crm_privacy::crypto::test_secret(7)).map_err(|e| format!("{e:?}"));
    let (Ok(one), Ok(two)) = (one, two) else {
        unreachable!("fixed 32-byte KEKs are valid")
    };
    let (cur, prev) = if current == 2 { (two, one) } else { (one, two) };
    match Keyring::new(cur, &crm_privacy::crypto::test_secret(6)) {
        Ok(k) => k.with_previous(prev),
        Err(e) => unreachable!("fixed index secret is valid: {e:?}"),
    }
}

/// The fixed token key, so every process of the suite is one authority.
pub(crate) fn token_key() -> Result<TokenKey, String> {
    TokenKey::from_secret(1, &crm_privacy::crypto::test_secret(109)).map_err(|e| format!("{e:?}"))
}

/// The credential the checker and the worker use for a subject's session.
pub(crate) fn credential(subject: SubjectId) -> String {
    format!("cred-{}", subject.as_uuid())
}

/// A session of `subject` in `logins`, valid for a day.
pub(crate) fn login(logins: &InMemoryAuthenticator, subject: SubjectId) {
    logins.insert(
        &credential(subject),
        SessionClaims {
            subject,
            session: SessionId::new_random(),
            authenticated_at: Utc::now() - TimeDelta::seconds(1),
            expires_at: Utc::now() + TimeDelta::days(1),
        },
    );
}

fn line(s: &str) {
    let mut out = std::io::stdout().lock();
    // A failed write (the parent went away) ends the worker: nobody reads the acks.
    if writeln!(out, "{s}").and_then(|()| out.flush()).is_err() {
        std::process::exit(3);
    }
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % (n.max(1) as u64)).unwrap_or(0)
    }
}

#[derive(Clone, Copy)]
enum Field {
    Email,
    Phone,
}

struct Live {
    subject: SubjectId,
    session: UserSession,
    records: Vec<(RecordId, Field)>,
    cookies: bool,
}

fn email(n: u64) -> String {
    format!("u{n}@example.com")
}
fn phone(n: u64) -> String {
    format!("+1202555{:04}", n % 10_000)
}

/// Runs the worker on `db` until killed. Returns only on a setup failure.
pub(crate) async fn run(db: &Path, seed: u64, kek: u32) -> Result<(), String> {
    let store = Arc::new(SqliteStore::open(db).map_err(|e| format!("open: {e:?}"))?);
    let logins = Arc::new(InMemoryAuthenticator::new());
    let kr = keyring(kek);
    let c = Custodian::builder(keyring(kek))
        .store(store.clone())
        .token_key(token_key()?)
        .authenticator(logins.clone())
        .grant_ttl(TimeDelta::hours(1))
        .build()
        .await
        .map_err(|e| format!("build: {e:?}"))?;
    // The first `Phone::parse` loads libphonenumber's metadata (about 0.4 s in a debug test
    // binary): load it before `ready`, so kills land in operations, not in that load.
    if let Err(e) = Phone::parse("+12025550100") {
        return Err(format!("phone metadata: {e:?}"));
    }
    line("ready");
    let mut rng = Rng(seed | 1);
    let mut live: Vec<Live> = Vec::new();
    let mut n = seed % 100_000 * 1000;
    loop {
        n += 1;
        let pick = rng.below(100);
        if live.is_empty() || pick < 12 {
            line("op register");
            match c.register_subject().await {
                Ok(s) => {
                    line(&format!("ack register {}", s.as_uuid()));
                    login(&logins, s);
                    match c.authenticate(&credential(s)).await {
                        Ok(session) => live.push(Live {
                            subject: s,
                            session,
                            records: Vec::new(),
                            cookies: false,
                        }),
                        Err(e) => line(&format!("err authenticate {e:?}")),
                    }
                }
                Err(e) => line(&format!("err register {e:?}")),
            }
            continue;
        }
        let i = rng.below(live.len());
        let Some(l) = live.get_mut(i) else { continue };
        let s = l.subject;
        let su = *s.as_uuid();
        match pick {
            12..=41 => {
                let field = if rng.below(2) == 0 {
                    Field::Email
                } else {
                    Field::Phone
                };
                let (name, value, res) = match field {
                    Field::Email => {
                        let v = email(n);
                        line(&format!("op store {su} email {v}"));
                        let res = match Email::parse(&v) {
                            Ok(e) => c.store(s, e).await,
                            Err(e) => Err(e.into()),
                        };
                        ("email", v, res)
                    }
                    Field::Phone => {
                        let v = phone(n);
                        line(&format!("op store {su} phone {v}"));
                        let res = match Phone::parse(&v) {
                            Ok(p) => c.store(s, p).await,
                            Err(e) => Err(e.into()),
                        };
                        ("phone", v, res)
                    }
                };
                match res {
                    Ok(r) => {
                        line(&format!("ack store {su} {} {name} {value}", r.as_uuid()));
                        l.records.push((r, field));
                    }
                    Err(e) => line(&format!("err store {e:?}")),
                }
            }
            42..=66 => {
                if l.records.is_empty() {
                    continue;
                }
                let j = rng.below(l.records.len());
                let Some(&(r, field)) = l.records.get(j) else {
                    continue;
                };
                let ru = *r.as_uuid();
                let grant = match c.grant_owner(&l.session).await {
                    Ok(g) => g,
                    Err(e) => {
                        line(&format!("err grant_owner {e:?}"));
                        continue;
                    }
                };
                let (name, value, res) = match field {
                    Field::Email => {
                        let v = email(n);
                        line(&format!("op rectify {su} {ru} email {v}"));
                        let res = match Email::parse(&v) {
                            Ok(e) => c.rectify(&grant, r, e).await,
                            Err(e) => Err(e.into()),
                        };
                        ("email", v, res)
                    }
                    Field::Phone => {
                        let v = phone(n);
                        line(&format!("op rectify {su} {ru} phone {v}"));
                        let res = match Phone::parse(&v) {
                            Ok(p) => c.rectify(&grant, r, p).await,
                            Err(e) => Err(e.into()),
                        };
                        ("phone", v, res)
                    }
                };
                match res {
                    Ok(()) => line(&format!("ack rectify {su} {ru} {name} {value}")),
                    Err(e) => line(&format!("err rectify {e:?}")),
                }
            }
            67..=80 => {
                if l.cookies {
                    line(&format!("op withdraw {su}"));
                    match c.withdraw_consent(s, ConsentScope::Cookies).await {
                        Ok(_) => {
                            line(&format!("ack withdraw {su}"));
                            l.cookies = false;
                        }
                        Err(e) => line(&format!("err withdraw {e:?}")),
                    }
                    continue;
                }
                line(&format!("op consent {su}"));
                match c
                    .give_consent(
                        &l.session,
                        ConsentScope::Cookies,
                        CollectionMethod::Api,
                        None,
                    )
                    .await
                {
                    Ok(_) => {
                        line(&format!("ack consent {su}"));
                        l.cookies = true;
                    }
                    Err(e) => {
                        line(&format!("err consent {e:?}"));
                        continue;
                    }
                }
                let lang = format!("x-{n}");
                let mut pref = CookiePreference::new();
                if let Err(e) = pref.set_language(&lang) {
                    line(&format!("err cookie {e:?}"));
                    continue;
                }
                line(&format!("op store {su} cookie {lang}"));
                match c.store(s, pref).await {
                    Ok(r) => line(&format!("ack store {su} {} cookie {lang}", r.as_uuid())),
                    Err(e) => line(&format!("err store {e:?}")),
                }
            }
            81..=92 => {
                line(&format!("op erase {su}"));
                match c.erase(s).await {
                    Ok(report) => {
                        line(&format!("ack erase {su} {}", report.records_deleted));
                        live.swap_remove(i);
                    }
                    Err(e) => line(&format!("err erase {e:?}")),
                }
            }
            _ => {
                // Host-side KEK rotation: re-wrap every live key under this process's
                // current KEK (the next worker may rotate back).
                line(&format!("op rotate {kek}"));
                match rotate(&store, &kr, kek).await {
                    Ok(k) => line(&format!("ack rotate {kek} {k}")),
                    Err(e) => line(&format!("err rotate {e:?}")),
                }
            }
        }
    }
}

/// Re-wraps every live key not yet under `kek`; returns how many were re-wrapped.
async fn rotate(store: &SqliteStore, keyring: &Keyring, kek: u32) -> Result<u64, CustodianError> {
    let mut k = 0;
    for s in store.subjects().await? {
        let wrapped = match KeyStore::get(store, s).await {
            Ok(w) => w,
            // Destroyed meanwhile (by another process): nothing to rotate.
            Err(crm_privacy::store::StoreError::NotFound { .. })
            | Err(crm_privacy::store::StoreError::Shredded(_)) => continue,
            Err(e) => return Err(e.into()),
        };
        if wrapped.kek_id() == Some(kek) {
            continue;
        }
        let new = keyring.rewrap(s, &wrapped)?;
        KeyStore::put(store, s, new).await?;
        k += 1;
    }
    Ok(k)
}

/// The KEK epoch and backup window of the rotation mode, and the instant its store is
/// created at (v1 of the KEK): the parent and the workers share them.
pub(crate) const EPOCH: TimeDelta = TimeDelta::days(7);
pub(crate) const WINDOW: TimeDelta = TimeDelta::days(30);
pub(crate) fn t0() -> DateTime<Utc> {
    // 2027-01-01T00:00:00Z
    DateTime::from_timestamp(1_798_761_600, 0).unwrap_or_default()
}

/// A KEK service in front of [`FileKeks`] that reports every wrap on stdout (`wrap`), so
/// the parent can time its SIGKILL to land after the k-th re-wrap of a rotation.
#[derive(Debug)]
pub(crate) struct Reporting(pub(crate) FileKeks);

#[async_trait::async_trait]
impl KeyEncryptionKeys for Reporting {
    fn name(&self) -> &str {
        self.0.name()
    }
    async fn wrap(&self, s: SubjectId, k: &KeyMaterial) -> Result<WrappedKey, CryptoError> {
        let w = self.0.wrap(s, k).await;
        line("wrap");
        w
    }
    async fn unwrap(&self, s: SubjectId, w: &WrappedKey) -> Result<KeyMaterial, CryptoError> {
        self.0.unwrap(s, w).await
    }
    async fn rotate(&self, now: DateTime<Utc>) -> Result<u32, CryptoError> {
        self.0.rotate(now).await
    }
    async fn destroy(&self, v: u32, now: DateTime<Utc>) -> Result<(), CryptoError> {
        self.0.destroy(v, now).await
    }
    async fn versions(&self) -> Result<Vec<KekVersion>, CryptoError> {
        self.0.versions().await
    }
}

/// A custodian with KEK epochs on `db` under `keks` (a [`FileKeks`] directory every process
/// of the suite shares), on a clock the caller moves.
pub(crate) async fn epoch_custodian(
    db: &Path,
    keks: DynKeks,
    clock: Arc<ManualClock>,
) -> Result<Custodian, CustodianError> {
    let index = IndexKey::from_bytes(&crm_privacy::crypto::test_secret(6))?;
    Custodian::builder_with_kms(keks, index)
        .store(Arc::new(SqliteStore::open(db)?))
        .token_key(token_key().map_err(|_| CustodianError::Config("token key"))?)
        .clock(clock)
        .backup_window(WINDOW)
        .kek_epoch(EPOCH)
        .build()
        .await
}

/// Rotation mode, until killed: builds a custodian with epochs at `now` (the build
/// finishes a rotation an earlier worker left half-done; its re-wraps are reported), then,
/// if `rotate`, calls `rotate_if_due` (due at `now`: a new version and a re-wrap of every
/// live key), then waits to be killed.
///
/// Lines: `op build`, `wrap` (each wrap), `ack build`, `ready`, `op rotate`,
/// `ack rotate <version> <re-wrapped>` or `err <what> <CustodianError debug>`.
pub(crate) async fn run_rotation(
    db: &Path,
    kek_dir: &Path,
    now: DateTime<Utc>,
    rotate: bool,
) -> Result<(), String> {
    let keks = FileKeks::open(kek_dir, "main", now).map_err(|e| format!("keks: {e:?}"))?;
    line("op build");
    match epoch_custodian(
        db,
        Arc::new(Reporting(keks)),
        Arc::new(ManualClock::new(now)),
    )
    .await
    {
        Ok(c) => {
            line("ack build");
            line("ready");
            if rotate {
                line("op rotate");
                match c.rotate_if_due().await {
                    Ok(Some(r)) => line(&format!("ack rotate {} {}", r.version, r.rewrapped)),
                    Ok(None) => line("err rotate not due"),
                    Err(e) => line(&format!("err rotate {e:?}")),
                }
            }
        }
        Err(e) => line(&format!("err build {e:?}")),
    }
    // Wait for the kill (exiting by itself is a failure the parent reports).
    loop {
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
}

#[allow(
    dead_code,
    reason = "the test includes this file as a module and calls run"
)]
fn main() {
    let mut args = std::env::args().skip(1);
    let Some(db) = args.next() else {
        eprintln!(
            "usage: fault_worker <db> [seed] [kek-id 1|2]\n       \
             fault_worker --rotate <db> <kek-dir> [days after t0]"
        );
        std::process::exit(2);
    };
    if db == "--rotate" {
        let (Some(db), Some(dir)) = (args.next(), args.next()) else {
            eprintln!("usage: fault_worker --rotate <db> <kek-dir> [days after t0]");
            std::process::exit(2);
        };
        let days = args.next().and_then(|s| s.parse().ok()).unwrap_or(0);
        let now = t0() + TimeDelta::days(days);
        let rt = match tokio::runtime::Builder::new_current_thread().build() {
            Ok(rt) => rt,
            Err(e) => {
                eprintln!("runtime: {e}");
                std::process::exit(2);
            }
        };
        let rotate = now >= t0() + EPOCH;
        if let Err(e) = rt.block_on(run_rotation(Path::new(&db), Path::new(&dir), now, rotate)) {
            eprintln!("fault worker: {e}");
            std::process::exit(2);
        }
        return;
    }
    let seed = args
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x9e37_79b9);
    let kek = args.next().and_then(|s| s.parse().ok()).unwrap_or(1);
    let rt = match tokio::runtime::Builder::new_current_thread().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("runtime: {e}");
            std::process::exit(2);
        }
    };
    if let Err(e) = rt.block_on(run(Path::new(&db), seed, kek)) {
        eprintln!("fault worker: {e}");
        std::process::exit(2);
    }
}
