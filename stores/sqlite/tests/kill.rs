#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "tests"
)]
//! SIGKILL fault suite through the custodian (issue 14): a worker process
//! (`examples/fault_worker.rs`, run here by re-executing this test binary so `--test kill`
//! needs no other target) registers subjects, stores emails and phones, rectifies them
//! through an owner grant, gives and withdraws consent and stores a consent-collected kind,
//! erases subjects and rotates the KEK (host-side: the custodian has no rotation call), and
//! prints `ack ..` after each operation returns. The parent kills it with SIGKILL at a
//! random instant, builds a custodian on the same file and checks, after every kill:
//!
//! - the build succeeds (it finishes every erasure left half-done);
//! - every subject whose erasure is in the audit log (`Erased`) has its key destroyed, no
//!   records, and an `ErasureCompleted` entry; every acknowledged erasure is among them;
//! - every acknowledged store or rectify is present exactly once and reads, through an owner
//!   grant, as the latest acknowledged value or a later unacknowledged one;
//! - a consent-collected record whose withdrawal was acknowledged is gone;
//! - 0 orphans: every record in the store has a `Stored` audit entry naming it and a live key;
//!   every live key unwraps and has a `SubjectRegistered` entry (no phantom subject);
//! - `verify_chains` is ok and covers every acknowledged entry;
//! - every error the worker saw is a typed `CustodianError` (never `Backend(..)`), and the
//!   worker never panicked nor exited by itself.
//!
//! CI mode: 11 episodes × 5 kills (each episode one file, cumulative). `CRM_FAULT_LONG=1`:
//! 60 episodes × 8 kills. A second test plants an orphan, a lost acknowledged record and a
//! row of an erased subject and checks the checker reports each.
//!
//! A third (issue 16, `sigkill_mid_kek_rotation_is_finished_by_the_next_build`) kills a
//! worker in the middle of a KEK rotation with epochs (`FileKeks` in a shared directory, the
//! worker's `--rotate` mode) and checks that the next build finishes it: every key under the
//! primary version before any sweep, every subject readable, the old version destroyed on
//! its date without losing one.

#[path = "../examples/fault_worker.rs"]
mod fault_worker;

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crm_privacy::crypto::FileKeks;
use crm_privacy::custodian::{Custodian, CustodianError};
use crm_privacy::ledger::AuditKind;
use crm_privacy::store::{
    InMemoryAuthenticator, KeyStore, RecordStore, SealedRecord, StoreError, VersionedRecord,
};
use crm_privacy::{CookiePreference, Email, Phone, RecordId, SubjectId};
use crm_privacy_sqlite::SqliteStore;
use uuid::Uuid;

const TEST: &str = "sigkill_during_store_rectify_consent_erase_register_and_rotation";

fn long_mode() -> bool {
    std::env::var("CRM_FAULT_LONG").is_ok_and(|v| v == "1")
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Email,
    Phone,
    Cookie,
}

impl Kind {
    fn parse(s: &str) -> Kind {
        match s {
            "email" => Kind::Email,
            "phone" => Kind::Phone,
            "cookie" => Kind::Cookie,
            other => panic!("unknown kind {other}"),
        }
    }
}

#[derive(Debug)]
struct Rec {
    subject: Uuid,
    kind: Kind,
    /// The latest acknowledged value.
    value: String,
    /// Values of rectifications started after it and not acknowledged (killed or failed).
    later: Vec<String>,
    /// A withdrawal of its consent was acknowledged: it must be gone.
    withdrawn: bool,
    /// A withdrawal was started and not acknowledged: it may be gone.
    maybe_withdrawn: bool,
}

/// What the worker acknowledged, over every run of one episode (one file).
#[derive(Debug, Default)]
struct Model {
    registered: HashSet<Uuid>,
    erased: HashSet<Uuid>,
    records: HashMap<Uuid, Rec>,
    acks: u64,
    acks_by_op: HashMap<String, u64>,
    errors: Vec<String>,
    /// The operation in flight at each kill.
    killed_during: HashMap<String, u64>,
}

impl Model {
    /// Applies one run's stdout. Returns the operation in flight when it was killed.
    fn apply(&mut self, lines: &[String]) -> Option<String> {
        let mut inflight: Option<String> = None;
        for l in lines {
            let w: Vec<&str> = l.split(' ').collect();
            match w.first().copied() {
                Some("op") => {
                    inflight = w.get(1).map(|s| (*s).to_owned());
                    match w[1..] {
                        ["rectify", _s, r, _k, v] => {
                            if let Some(rec) = self.records.get_mut(&uuid(r)) {
                                rec.later.push(v.to_owned());
                            }
                        }
                        ["withdraw", s] => {
                            let s = uuid(s);
                            for rec in self.records.values_mut() {
                                if rec.subject == s && rec.kind == Kind::Cookie {
                                    rec.maybe_withdrawn = true;
                                }
                            }
                        }
                        _ => {}
                    }
                }
                Some("ack") => {
                    inflight = None;
                    // Each acknowledged custodian operation wrote at least one audit entry
                    // (the host-side rotation writes none).
                    self.acks += u64::from(w[1] != "rotate");
                    *self.acks_by_op.entry(w[1].to_owned()).or_default() += 1;
                    match w[1..] {
                        ["register", s] => {
                            self.registered.insert(uuid(s));
                        }
                        ["store", s, r, k, v] => {
                            self.records.insert(
                                uuid(r),
                                Rec {
                                    subject: uuid(s),
                                    kind: Kind::parse(k),
                                    value: v.to_owned(),
                                    later: Vec::new(),
                                    withdrawn: false,
                                    maybe_withdrawn: false,
                                },
                            );
                        }
                        ["rectify", _s, r, _k, v] => {
                            let rec = self.records.get_mut(&uuid(r)).expect("rectified record");
                            rec.value = v.to_owned();
                            rec.later.clear();
                        }
                        ["withdraw", s] => {
                            let s = uuid(s);
                            for rec in self.records.values_mut() {
                                if rec.subject == s && rec.kind == Kind::Cookie {
                                    rec.withdrawn = true;
                                }
                            }
                        }
                        ["erase", s, _n] => {
                            self.erased.insert(uuid(s));
                        }
                        _ => {}
                    }
                }
                Some("err") => {
                    inflight = None;
                    self.errors.push(l.clone());
                }
                _ => {}
            }
        }
        if let Some(op) = &inflight {
            *self.killed_during.entry(op.clone()).or_default() += 1;
        }
        inflight
    }
}

fn uuid(s: &str) -> Uuid {
    Uuid::parse_str(s).unwrap()
}

/// Counts of what one check looked at.
#[derive(Debug, Default, Clone)]
struct Checked {
    records_read: u64,
    records_in_store: u64,
    erasures: u64,
    keys: u64,
    withdrawn_gone: u64,
    /// Consent-collected rows left behind by a withdrawal cut short (consent no longer in
    /// force, row still stored): a violation: the
    /// build finishes a withdrawal cut short.
    left_after_withdrawal: HashSet<Uuid>,
}

impl std::ops::AddAssign for Checked {
    fn add_assign(&mut self, o: Self) {
        self.records_read += o.records_read;
        self.records_in_store += o.records_in_store;
        self.erasures += o.erasures;
        self.keys += o.keys;
        self.withdrawn_gone += o.withdrawn_gone;
        self.left_after_withdrawal.extend(o.left_after_withdrawal);
    }
}

/// Builds a custodian on `db` and checks every invariant against `model`. Returns the
/// violations found (empty: all hold).
async fn check(db: &Path, model: &Model, kek: u32) -> Result<Checked, Vec<String>> {
    let mut bad = Vec::new();
    let store = Arc::new(SqliteStore::open(db).map_err(|e| vec![format!("open: {e:?}")])?);
    let logins = Arc::new(InMemoryAuthenticator::new());
    for s in &model.registered {
        fault_worker::login(&logins, SubjectId::from_uuid(*s));
    }
    let c = Custodian::builder(fault_worker::keyring(kek))
        .store(store.clone())
        .token_key(fault_worker::token_key().unwrap())
        .authenticator(logins.clone())
        .build()
        .await
        .map_err(|e| vec![format!("build after the kill failed: {e:?}")])?;
    let mut n = Checked::default();

    match c.verify_chains().await {
        Ok(r) => {
            if r.audit_entries < model.acks {
                bad.push(format!(
                    "audit chain has {} entries, fewer than the {} acknowledged operations",
                    r.audit_entries, model.acks
                ));
            }
        }
        Err(e) => bad.push(format!("verify_chains: {e:?}")),
    }
    let events = c
        .audit_events()
        .await
        .map_err(|e| vec![format!("audit_events: {e:?}")])?;
    let mut stored_events: HashSet<Uuid> = HashSet::new();
    let mut registered: HashSet<Uuid> = HashSet::new();
    let mut erased: HashSet<Uuid> = HashSet::new();
    let mut completed: HashSet<Uuid> = HashSet::new();
    for e in &events {
        let s = *e.subject.as_uuid();
        match e.kind {
            AuditKind::Stored => {
                if let Some(r) = e.record {
                    stored_events.insert(*r.as_uuid());
                }
            }
            AuditKind::SubjectRegistered => {
                registered.insert(s);
            }
            AuditKind::Erased => {
                erased.insert(s);
            }
            AuditKind::ErasureCompleted => {
                completed.insert(s);
            }
            _ => {}
        }
    }

    // Erasures: every acknowledged one is in the log; every one in the log is complete.
    for s in &model.erased {
        if !erased.contains(s) {
            bad.push(format!("acknowledged erasure of {s} not in the audit log"));
        }
    }
    for s in &erased {
        n.erasures += 1;
        let subject = SubjectId::from_uuid(*s);
        match KeyStore::get(&*store, subject).await {
            Err(StoreError::Shredded(_) | StoreError::NotFound { .. }) => {}
            Ok(_) => bad.push(format!("erased subject {s} still has a live key")),
            Err(e) => bad.push(format!("key of erased subject {s}: {e:?}")),
        }
        match RecordStore::list_subject(&*store, subject).await {
            Ok(rows) if rows.is_empty() => {}
            Ok(rows) => bad.push(format!(
                "erased subject {s} still has {} record(s)",
                rows.len()
            )),
            Err(e) => bad.push(format!("records of erased subject {s}: {e:?}")),
        }
        if !completed.contains(s) {
            bad.push(format!(
                "erasure of {s} has no ErasureCompleted after the build"
            ));
        }
    }

    // Every record in the store: a Stored entry names it, its subject's key is live.
    let mut in_store: HashMap<Uuid, u64> = HashMap::new();
    let mut after = None;
    loop {
        let page = store
            .metadata_page(after, 256)
            .await
            .map_err(|e| vec![format!("metadata_page: {e:?}")])?;
        let Some(last) = page.last() else { break };
        after = Some(last.record);
        for m in &page {
            n.records_in_store += 1;
            *in_store.entry(*m.record.as_uuid()).or_default() += 1;
            if !stored_events.contains(m.record.as_uuid()) {
                bad.push(format!(
                    "orphan: record {} has no Stored audit entry",
                    m.record
                ));
            }
            if KeyStore::get(&*store, m.subject).await.is_err() {
                bad.push(format!(
                    "record {} stored without a live key of {}",
                    m.record, m.subject
                ));
            }
        }
    }

    // Every live key unwraps and was registered (no phantom subject).
    let kr = fault_worker::keyring(kek);
    for s in KeyStore::subjects(&*store)
        .await
        .map_err(|e| vec![format!("{e:?}")])?
    {
        n.keys += 1;
        if !registered.contains(s.as_uuid()) {
            bad.push(format!(
                "phantom subject: live key of {s} without SubjectRegistered"
            ));
        }
        match KeyStore::get(&*store, s).await {
            Ok(w) => {
                // `rewrap` unwraps (without handing out the key): it fails unless a held
                // KEK opens the stored key.
                if let Err(e) = kr.rewrap(s, &w) {
                    bad.push(format!("key of {s} does not unwrap: {e:?}"));
                }
            }
            Err(e) => bad.push(format!("listed key of {s}: {e:?}")),
        }
    }

    // Every acknowledged write: present exactly once, readable with the acknowledged value.
    let mut sessions = HashMap::new();
    for (r, rec) in &model.records {
        if erased.contains(&rec.subject) {
            continue;
        }
        let record = RecordId::from_uuid(*r);
        let subject = SubjectId::from_uuid(rec.subject);
        let copies = in_store.get(r).copied().unwrap_or(0);
        let listed = RecordStore::list_subject(&*store, subject)
            .await
            .map(|rows| rows.iter().filter(|x| x.record == record).count())
            .unwrap_or(0);
        if rec.kind == Kind::Cookie {
            let consented = !c.consents(subject).await.unwrap_or_default().is_empty();
            if rec.withdrawn && copies > 0 && !consented {
                bad.push(format!(
                    "record {r} still stored after its withdrawal was acknowledged"
                ));
                continue;
            }
            if rec.withdrawn || (rec.maybe_withdrawn && !consented) {
                if copies == 0 {
                    n.withdrawn_gone += 1;
                } else {
                    // A withdrawal is a resumable intent finished at build (3.7).
                    n.left_after_withdrawal.insert(*r);
                    bad.push(format!(
                        "record {r} left stored after its consent was withdrawn"
                    ));
                }
                continue;
            }
        }
        if copies != 1 || listed != 1 {
            bad.push(format!(
                "acknowledged record {r} ({:?}) present {copies} time(s), listed {listed}",
                rec.kind
            ));
            continue;
        }
        let g = match sessions.entry(rec.subject) {
            Entry::Occupied(o) => o.into_mut(),
            Entry::Vacant(v) => {
                let session = c.authenticate(&fault_worker::credential(subject)).await;
                let grant = match session {
                    Ok(s) => c.grant_owner(&s).await,
                    Err(e) => Err(e),
                };
                match grant {
                    Ok(g) => v.insert(g),
                    Err(e) => {
                        bad.push(format!("owner grant for {subject}: {e:?}"));
                        continue;
                    }
                }
            }
        };
        let g = &*g;
        let read: Result<Option<String>, CustodianError> = match rec.kind {
            Kind::Email => {
                c.with::<Email, _, _>(g, record, |e| Some(e.as_str().to_owned()))
                    .await
            }
            Kind::Phone => {
                c.with::<Phone, _, _>(g, record, |p| Some(p.as_e164().to_owned()))
                    .await
            }
            Kind::Cookie => {
                c.with::<CookiePreference, _, _>(g, record, |p| p.language().map(str::to_owned))
                    .await
            }
        };
        n.records_read += 1;
        match read {
            Ok(Some(v)) if v == rec.value || rec.later.contains(&v) => {}
            Ok(v) => bad.push(format!(
                "record {r}: read {v:?}, acknowledged {:?} (later unacknowledged {:?})",
                rec.value, rec.later
            )),
            Err(e) => bad.push(format!("record {r} ({:?}) unreadable: {e:?}", rec.kind)),
        }
    }
    if bad.is_empty() { Ok(n) } else { Err(bad) }
}

/// One worker run on `db`: spawn, kill after the delay, collect its output.
struct Run {
    lines: Vec<String>,
    stderr: String,
    exited_early: Option<std::process::ExitStatus>,
    ready: bool,
}

fn run_worker(db: &Path, seed: u64, kek: u32, from_spawn: bool, delay: Duration) -> Run {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", TEST, "--nocapture", "--test-threads=1"])
        .env("CRM_KILL_CHILD", format!("{seed}:{kek}:{}", db.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        for l in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let mut lines = Vec::new();
    let mut ready = false;
    if !from_spawn {
        let until = Instant::now() + Duration::from_secs(20);
        while !ready && Instant::now() < until {
            match rx.recv_timeout(Duration::from_millis(50)) {
                Ok(l) => {
                    ready |= l == "ready";
                    lines.push(l);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if child.try_wait().unwrap().is_some() {
                        break;
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
    }
    std::thread::sleep(delay);
    let exited_early = child.try_wait().unwrap();
    if exited_early.is_none() {
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
    }
    reader.join().unwrap();
    lines.extend(rx.try_iter());
    ready |= lines.iter().any(|l| l == "ready");
    Run {
        lines,
        stderr: err_reader.join().unwrap(),
        exited_early,
        ready,
    }
}

fn child_main() -> bool {
    let Ok(v) = std::env::var("CRM_KILL_CHILD") else {
        return false;
    };
    let mut it = v.splitn(3, ':');
    let seed: u64 = it.next().unwrap().parse().unwrap();
    let kek: u32 = it.next().unwrap().parse().unwrap();
    let db = it.next().unwrap().to_owned();
    // libtest has printed `test <name> ... ` without a newline: end that line so the
    // worker's first line (`ready`) stands alone.
    println!();
    if let Err(e) = rt().block_on(fault_worker::run(Path::new(&db), seed, kek)) {
        eprintln!("fault worker setup failed: {e}");
        std::process::exit(2);
    }
    true
}

#[derive(Default)]
struct Totals {
    kills: u64,
    kills_from_spawn: u64,
    kills_before_ready: u64,
    checks: u64,
    checked: Checked,
    acks: HashMap<String, u64>,
    killed_during: HashMap<String, u64>,
    errors: u64,
}

/// Runs `episodes` files × `kills` kills; returns the totals, panicking on a violation.
fn episodes(episodes: u64, kills: u64, seed: u64) -> Totals {
    let rt = rt();
    let mut rng = Rng(seed);
    let mut t = Totals::default();
    let start = Instant::now();
    for ep in 0..episodes {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("crm.db");
        let mut model = Model::default();
        for k in 0..kills {
            let kek = 1 + u32::try_from((ep + k) % 2).unwrap();
            let from_spawn = rng.next() % 5 == 0;
            let delay = Duration::from_millis(10 + rng.next() % 191);
            let t0 = Instant::now();
            let run = run_worker(&db, rng.next(), kek, from_spawn, delay);
            if std::env::var("CRM_KILL_VERBOSE").is_ok() {
                eprintln!(
                    "  kill {k}: run {:?}, {} lines",
                    t0.elapsed(),
                    run.lines.len()
                );
            }
            t.kills += 1;
            t.kills_from_spawn += u64::from(from_spawn);
            t.kills_before_ready += u64::from(!run.ready);
            assert!(
                !run.stderr.contains("panicked"),
                "episode {ep} kill {k}: the worker panicked:\n{}",
                run.stderr
            );
            assert!(
                run.exited_early.is_none(),
                "episode {ep} kill {k}: the worker exited by itself ({:?}):\n{}",
                run.exited_early,
                run.stderr
            );
            model.apply(&run.lines);
            // The next build (the checker's, then the next worker's) uses the other KEK
            // as current, so both directions of a half-done rotation are opened.
            let check_kek = 1 + u32::try_from((ep + k + 1) % 2).unwrap();
            match rt.block_on(check(&db, &model, check_kek)) {
                Ok(n) => t.checked += n,
                Err(v) => panic!(
                    "episode {ep} kill {k} (after {delay:?}, from spawn: {from_spawn}): {} \
                     violation(s):\n{}\nlast lines: {:?}",
                    v.len(),
                    v.join("\n"),
                    &run.lines[run.lines.len().saturating_sub(4)..]
                ),
            }
            t.checks += 1;
        }
        eprintln!(
            "episode {ep}: {kills} kills, {} acknowledged, {:.1?} so far",
            model.acks,
            start.elapsed()
        );
        for e in &model.errors {
            assert!(
                !e.contains("Backend("),
                "untyped error from the worker: {e}"
            );
        }
        t.errors += model.errors.len() as u64;
        for (op, c) in model.acks_by_op {
            *t.acks.entry(op).or_default() += c;
        }
        for (op, c) in model.killed_during {
            *t.killed_during.entry(op).or_default() += c;
        }
    }
    t
}

#[test]
fn sigkill_during_store_rectify_consent_erase_register_and_rotation() {
    if child_main() {
        return;
    }
    let start = Instant::now();
    let (eps, kills) = if long_mode() { (60, 8) } else { (11, 5) };
    let seed = std::env::var("CRM_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x2545_f491_4f6c_dd1d_u64);
    let t = episodes(eps, kills, seed);
    let mut acks: Vec<_> = t.acks.iter().collect();
    acks.sort();
    let mut during: Vec<_> = t.killed_during.iter().collect();
    during.sort();
    let left = t.checked.left_after_withdrawal.len();
    eprintln!(
        "kill suite: {} SIGKILLs ({} timed from spawn, {} before the worker was ready), {} \
         checks; acknowledged {acks:?}; killed during {during:?}; {} typed worker errors; \
         records read through a grant {}, records in store {}, erasures {}, live keys {}, \
         withdrawn rows gone {}; rows left after a withdrawal cut short: {left}; {:.1?}",
        t.kills,
        t.kills_from_spawn,
        t.kills_before_ready,
        t.checks,
        t.errors,
        t.checked.records_read,
        t.checked.records_in_store,
        t.checked.erasures,
        t.checked.keys,
        t.checked.withdrawn_gone,
        start.elapsed()
    );
    assert!(t.kills >= 50);
    for op in [
        "register", "store", "rectify", "consent", "withdraw", "erase", "rotate",
    ] {
        assert!(
            t.acks.get(op).copied().unwrap_or(0) > 0,
            "no {op} acknowledged"
        );
    }
}

/// The checker goes red: a planted orphan, a lost acknowledged record and a row of an
/// erased subject are each reported.
#[test]
fn the_checker_reports_planted_violations() {
    if std::env::var("CRM_KILL_CHILD").is_ok() {
        return;
    }
    let rt = rt();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crm.db");
    let mut model = Model::default();
    // Two kills, long enough for acknowledged stores and (with luck) an erasure.
    let mut seed = 7;
    while model.records.is_empty() || model.erased.is_empty() {
        let run = run_worker(&db, seed, 1, false, Duration::from_millis(200));
        model.apply(&run.lines);
        seed += 1;
        assert!(seed < 40, "the worker acknowledged no store and no erasure");
    }
    rt.block_on(async {
        check(&db, &model, 2).await.unwrap();
        let store = SqliteStore::open(&db).unwrap();
        // A subject whose key is still live: the model knows only acknowledged erasures,
        // and the build may have finished one a kill cut short.
        let mut live = None;
        for r in model.records.values() {
            if !model.erased.contains(&r.subject)
                && r.kind != Kind::Cookie
                && KeyStore::get(&store, SubjectId::from_uuid(r.subject))
                    .await
                    .is_ok()
            {
                live = Some(r.subject);
                break;
            }
        }
        let erased = *model.erased.iter().next().unwrap();
        let row = |subject: Uuid| VersionedRecord {
            sealed: SealedRecord {
                record: RecordId::new_random(),
                subject: SubjectId::from_uuid(subject),
                kind: "email".to_owned(),
                ciphertext: vec![0; 40],
                blind_index: None,
                index_version: 1,
                created_at: chrono::Utc::now(),
                updated_at: chrono::Utc::now(),
            },
            version: 1,
        };
        // A row of an erased subject (a half-done erasure the build did not finish).
        store.put_versioned(row(erased)).await.unwrap();
        let v = check(&db, &model, 2).await.unwrap_err().join("\n");
        assert!(
            v.contains("erased subject") && v.contains("still has 1 record"),
            "{v}"
        );
        assert!(v.contains("orphan"), "{v}");
        RecordStore::delete_subject(&store, SubjectId::from_uuid(erased))
            .await
            .unwrap();
        if let Some(s) = live {
            // An orphan: a row of a live subject no Stored entry names.
            store.put_versioned(row(s)).await.unwrap();
            let v = check(&db, &model, 2).await.unwrap_err().join("\n");
            assert!(v.contains("orphan") && !v.contains("erased subject"), "{v}");
            // A lost acknowledged record.
            let (r, _) = model
                .records
                .iter()
                .find(|(_, x)| x.subject == s && x.kind != Kind::Cookie)
                .unwrap();
            RecordStore::delete(&store, RecordId::from_uuid(*r))
                .await
                .unwrap();
            let v = check(&db, &model, 2).await.unwrap_err().join("\n");
            assert!(v.contains(&format!("acknowledged record {r}")), "{v}");
        }
    });
}

// ---- Issue 16: SIGKILL in the middle of a KEK rotation ------------------------------------

const ROT_TEST: &str = "sigkill_mid_kek_rotation_is_finished_by_the_next_build";
/// Live subjects (one stored email each) whose keys a rotation re-wraps.
const ROT_SUBJECTS: usize = 120;

fn email_of(i: usize) -> String {
    format!("rot{i}@example.com")
}

/// Where the parent kills a rotation-mode worker.
#[derive(Debug, Clone, Copy)]
enum KillAt {
    /// This long after `op rotate` (in the KEK file creation or the first re-wraps).
    AfterOp(Duration),
    /// Once the worker reported its k-th wrap (the k-th re-wrap of the rotation, or of the
    /// build's resumption).
    Wrap(usize),
    /// Once the worker is ready (its build finished).
    Ready,
}

/// The child side of [`ROT_TEST`]: `CRM_KILL_ROT_CHILD=<rotate 0|1>:<hours after the end of
/// v1's epoch>:<kek dir>:<db>`.
fn rot_child_main() -> bool {
    let Ok(v) = std::env::var("CRM_KILL_ROT_CHILD") else {
        return false;
    };
    let mut it = v.splitn(4, ':');
    let rotate = it.next().unwrap() == "1";
    let hours: i64 = it.next().unwrap().parse().unwrap();
    let kdir = it.next().unwrap().to_owned();
    let db = it.next().unwrap().to_owned();
    println!();
    let now = fault_worker::t0() + fault_worker::EPOCH + chrono::TimeDelta::hours(hours);
    if let Err(e) = rt().block_on(fault_worker::run_rotation(
        Path::new(&db),
        Path::new(&kdir),
        now,
        rotate,
    )) {
        eprintln!("fault worker setup failed: {e}");
        std::process::exit(2);
    }
    true
}

/// Spawns a rotation-mode worker and SIGKILLs it at `kill` (or, if the worker gets past the
/// point without reaching it, once it has nothing left to do).
fn run_rotation_worker(db: &Path, kdir: &Path, rotate: bool, hours: i64, kill: KillAt) -> Run {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", ROT_TEST, "--nocapture", "--test-threads=1"])
        .env(
            "CRM_KILL_ROT_CHILD",
            format!(
                "{}:{hours}:{}:{}",
                u8::from(rotate),
                kdir.display(),
                db.display()
            ),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        for l in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let mut lines = Vec::new();
    let mut wraps = 0;
    let until = Instant::now() + Duration::from_secs(30);
    while Instant::now() < until {
        match rx.recv_timeout(Duration::from_millis(20)) {
            Ok(l) => {
                let hit = match kill {
                    KillAt::AfterOp(d) if l == "op rotate" => {
                        std::thread::sleep(d);
                        true
                    }
                    KillAt::Wrap(k) if l == "wrap" => {
                        wraps += 1;
                        wraps >= k
                    }
                    KillAt::Ready if l == "ready" => true,
                    _ => false,
                };
                // Past the point without reaching it: nothing more will happen.
                let done = l.starts_with("ack rotate")
                    || l.starts_with("err ")
                    || (!rotate && l == "ready");
                lines.push(l);
                if hit || done {
                    break;
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if child.try_wait().unwrap().is_some() {
                    break;
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    let exited_early = child.try_wait().unwrap();
    if exited_early.is_none() {
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
    }
    reader.join().unwrap();
    lines.extend(rx.try_iter());
    let ready = lines.iter().any(|l| l == "ready");
    Run {
        lines,
        stderr: err_reader.join().unwrap(),
        exited_early,
        ready,
    }
}

/// How many live keys are wrapped under each KEK version (read from the key store itself).
async fn keys_by_version(db: &Path) -> HashMap<u32, usize> {
    let store = SqliteStore::open(db).unwrap();
    let mut out = HashMap::new();
    for s in KeyStore::subjects(&store).await.unwrap() {
        let w = KeyStore::get(&store, s).await.unwrap();
        assert_eq!(w.kek_name(), Some("main"), "key of {s} under another KEK");
        *out.entry(w.kek_id().unwrap()).or_default() += 1;
    }
    out
}

async fn read_email_of(c: &Custodian, s: SubjectId, r: RecordId) -> Result<String, CustodianError> {
    let g = c.grant::<crm_privacy::Notification>(s, "mailer").await?;
    c.with::<Email, _, _>(&g, r, |e| e.as_str().to_owned())
        .await
}

/// The store every episode starts from: `ROT_SUBJECTS` subjects with one email each, keys
/// under v1 (created at t0), in `dir/crm.db` and `dir/keks`.
async fn rotation_template(dir: &Path) -> Vec<(SubjectId, RecordId)> {
    let kdir = dir.join("keks");
    std::fs::create_dir_all(&kdir).unwrap();
    let clock = Arc::new(crm_privacy::ManualClock::new(fault_worker::t0()));
    let keks = Arc::new(FileKeks::open(&kdir, "main", fault_worker::t0()).unwrap());
    let c = fault_worker::epoch_custodian(&dir.join("crm.db"), keks, clock)
        .await
        .unwrap();
    let mut subjects = Vec::new();
    for i in 0..ROT_SUBJECTS {
        let s = c.register_subject().await.unwrap();
        let r = c
            .store(s, Email::parse(&email_of(i)).unwrap())
            .await
            .unwrap();
        subjects.push((s, r));
    }
    drop(c);
    SqliteStore::open(dir.join("crm.db"))
        .unwrap()
        .checkpoint()
        .unwrap();
    subjects
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

/// After the kill(s): a custodian built in this process on the same store and KEK directory
/// finds every key under the primary version before any sweep, reads every subject, and the
/// old version can be destroyed on its date without losing anyone. Returns the violations.
async fn check_rotation(
    db: &Path,
    kdir: &Path,
    subjects: &[(SubjectId, RecordId)],
) -> Result<(), Vec<String>> {
    use crm_privacy::crypto::{KekState, KeyEncryptionKeys};
    let mut bad = Vec::new();
    let now = fault_worker::t0() + fault_worker::EPOCH + chrono::TimeDelta::hours(2);
    let clock = Arc::new(crm_privacy::ManualClock::new(now));
    let keks = Arc::new(FileKeks::open(kdir, "main", now).unwrap());
    let c = fault_worker::epoch_custodian(db, keks.clone(), clock.clone())
        .await
        .map_err(|e| vec![format!("build after the kill failed: {e:?}")])?;
    let versions = keks.versions().await.unwrap();
    let primary = versions
        .iter()
        .find(|v| v.state == KekState::Primary)
        .unwrap()
        .version;
    let counts = keys_by_version(db).await;
    // The build finished the rotation: every key under the primary version, none lost,
    // none under a version the KEK service does not know.
    if counts.len() != 1 || counts.get(&primary) != Some(&ROT_SUBJECTS) {
        bad.push(format!(
            "after the build, live keys by version {counts:?}; primary v{primary}, \
             {ROT_SUBJECTS} subjects"
        ));
    }
    match (primary, c.rotate_if_due().await) {
        // Nothing left for the sweep: not due, nothing half-done.
        (2, Ok(None)) => {}
        // Killed before v2 existed: the rotation is still due and happens now, whole.
        (1, Ok(Some(r))) if r.version == 2 && r.rewrapped == ROT_SUBJECTS as u64 => {}
        (v, other) => bad.push(format!(
            "rotate_if_due after the build (primary v{v}): {other:?}"
        )),
    }
    if keks.versions().await.unwrap().len() != 2 {
        bad.push(format!(
            "KEK versions after resumption: {:?} (one rotation must make one version)",
            keks.versions().await.unwrap()
        ));
    }
    for (i, (s, r)) in subjects.iter().enumerate() {
        match read_email_of(&c, *s, *r).await {
            Ok(v) if v == email_of(i) => {}
            other => bad.push(format!("subject {s} after the build: {other:?}")),
        }
    }
    // v1 goes on its date (end of its epoch + the window), not a microsecond before.
    let date = fault_worker::t0() + fault_worker::EPOCH + fault_worker::WINDOW;
    clock.set(date - chrono::TimeDelta::microseconds(1));
    match c.destroy_expired_keks().await {
        Ok(v) if v.is_empty() => {}
        other => bad.push(format!("destroy before v1's date: {other:?}")),
    }
    clock.set(date);
    match c.destroy_expired_keks().await {
        Ok(v) if v == [1] => {}
        other => bad.push(format!("destroy on v1's date: {other:?}")),
    }
    for (i, (s, r)) in subjects.iter().enumerate() {
        match read_email_of(&c, *s, *r).await {
            Ok(v) if v == email_of(i) => {}
            other => bad.push(format!("subject {s} after v1 was destroyed: {other:?}")),
        }
    }
    let fresh = FileKeks::open(kdir, "main", date).unwrap();
    let states: Vec<_> = fresh
        .versions()
        .await
        .unwrap()
        .into_iter()
        .map(|v| v.state)
        .collect();
    if !matches!(states[..], [KekState::Destroyed { .. }, KekState::Primary]) {
        bad.push(format!("KEK states at the end: {states:?}"));
    }
    let counts = keys_by_version(db).await;
    if counts.len() != 1 || counts.get(&2) != Some(&ROT_SUBJECTS) {
        bad.push(format!("at the end, live keys by version {counts:?}"));
    }
    if bad.is_empty() { Ok(()) } else { Err(bad) }
}

fn assert_clean_worker(run: &Run, what: &str) {
    assert!(
        !run.stderr.contains("panicked"),
        "{what}: the worker panicked:\n{}",
        run.stderr
    );
    assert!(
        run.exited_early.is_none(),
        "{what}: the worker exited by itself ({:?}):\n{}",
        run.exited_early,
        run.stderr
    );
    // Every error is typed, and none is expected: a rotation or a build that fails is a
    // failure of the suite, not an outcome to tolerate.
    if let Some(l) = run.lines.iter().find(|l| l.starts_with("err ")) {
        assert!(!l.contains("Backend("), "{what}: untyped error: {l}");
        panic!("{what}: the rotation failed: {l}");
    }
}

/// Issue 16: a worker rotating the KEK (`rotate_if_due` at the end of v1's epoch, 120 live
/// keys, `FileKeks` in a directory every process shares) is SIGKILLed after the k-th
/// re-wrap (k random) or a random instant after the rotation began; in half the episodes
/// the next worker is killed again in the middle of its build's resumption. Then a
/// custodian built on the same store and KEK directory must have every key under the
/// primary version *before* any sweep runs (`rotate_if_due` finds nothing to do), read
/// every subject, refuse to destroy v1 a microsecond early, and destroy it on its date
/// without losing a subject. 0 panics; a worker error of any kind fails the test.
///
/// CI: 8 episodes (8 to 16 kills). `CRM_FAULT_LONG=1`: 40.
#[test]
fn sigkill_mid_kek_rotation_is_finished_by_the_next_build() {
    if rot_child_main() {
        return;
    }
    if std::env::var("CRM_KILL_CHILD").is_ok() {
        return;
    }
    let start = Instant::now();
    let eps = if long_mode() { 40 } else { 8 };
    let seed = std::env::var("CRM_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x6a09_e667_f3bc_c909_u64);
    let mut rng = Rng(seed);
    let rt = rt();
    let template = tempfile::tempdir().unwrap();
    let subjects = rt.block_on(rotation_template(template.path()));
    let (mut kills, mut mid, mut before_v2, mut mid_resume) = (0, 0, 0, 0);
    for ep in 0..eps {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(template.path(), dir.path());
        let (db, kdir) = (dir.path().join("crm.db"), dir.path().join("keks"));
        let kill = if rng.next() % 6 == 0 {
            KillAt::AfterOp(Duration::from_micros(rng.next() % 4000))
        } else {
            KillAt::Wrap(1 + usize::try_from(rng.next()).unwrap() % (ROT_SUBJECTS * 3 / 4))
        };
        let run = run_rotation_worker(&db, &kdir, true, 0, kill);
        assert_clean_worker(&run, &format!("episode {ep}, rotation killed at {kill:?}"));
        assert!(run.ready, "episode {ep}: the worker never got ready");
        kills += 1;
        let after = rt.block_on(keys_by_version(&db));
        let left = after.get(&1).copied().unwrap_or(0);
        match (left, after.get(&2).copied().unwrap_or(0)) {
            (l, 0) if l == ROT_SUBJECTS => before_v2 += 1,
            (l, n) if l > 0 && n > 0 => mid += 1,
            _ => {}
        }
        let mut second = None;
        if rng.next() % 2 == 0 {
            // The next process is killed too, in the middle of its build's resumption.
            let kill2 = if left > 1 {
                KillAt::Wrap(1 + usize::try_from(rng.next()).unwrap() % (left - 1))
            } else {
                KillAt::Ready
            };
            let run2 = run_rotation_worker(&db, &kdir, false, 1, kill2);
            assert_clean_worker(
                &run2,
                &format!("episode {ep}, resumption killed at {kill2:?}"),
            );
            kills += 1;
            let after2 = rt.block_on(keys_by_version(&db));
            if after2.get(&1).is_some_and(|&l| l > 0 && l < left) {
                mid_resume += 1;
            }
            second = Some((kill2, after2));
        }
        if let Err(v) = rt.block_on(check_rotation(&db, &kdir, &subjects)) {
            panic!(
                "episode {ep}: killed at {kill:?} with keys by version {after:?}, then \
                 {second:?}: {} violation(s):\n{}",
                v.len(),
                v.join("\n")
            );
        }
    }
    eprintln!(
        "rotation kill suite: {eps} episodes, {kills} SIGKILLs; {mid} landed mid re-wrap (keys \
         under both versions), {before_v2} before any key was re-wrapped, {mid_resume} in the \
         middle of a build's resumption; {:.1?}",
        start.elapsed()
    );
    assert!(
        mid * 2 >= eps,
        "too few kills landed mid re-wrap ({mid} of {eps}): the suite does not test what it says"
    );
}
