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
//! Run by hand: `cargo run -p crm-privacy-sqlite --example fault_worker -- <db> [seed]
//! [kek-id 1|2]`; the test runs the same code inside its own binary (re-executed as a child,
//! so `cargo test --test kill` needs no other target built).

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use chrono::{TimeDelta, Utc};
use crm_privacy::consent::{CollectionMethod, ConsentScope};
use crm_privacy::crypto::{Kek, Keyring};
use crm_privacy::custodian::{Custodian, CustodianError};
use crm_privacy::store::{InMemoryAuthenticator, KeyStore};
use crm_privacy::{
    CookiePreference, Email, Phone, RecordId, SessionClaims, SessionId, SubjectId, TokenKey,
    UserSession,
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

#[allow(
    dead_code,
    reason = "the test includes this file as a module and calls run"
)]
fn main() {
    let mut args = std::env::args().skip(1);
    let Some(db) = args.next() else {
        eprintln!("usage: fault_worker <db> [seed] [kek-id 1|2]");
        std::process::exit(2);
    };
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
