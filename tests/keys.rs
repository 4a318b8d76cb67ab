//! Issue 16, key management: the KMS boundary (`LocalKeks`, `FileKeks`), KEK epochs tied to
//! the backup window, erasure that reaches backups on the stated date, rotation under load
//! and its resumption — tested from outside the crate, as a careless or hostile host would.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use crm_privacy::crypto::{
    CryptoError, DynKeks, FileKeks, IndexKey, KekState, KekVersion, KeyEncryptionKeys, KeyMaterial,
    Keyring, LocalKeks, WrappedKey,
};
use crm_privacy::custodian::{Custodian, CustodianError};
use crm_privacy::store::{
    ChainStore, InMemoryChainStore, InMemoryKeyStore, InMemoryRecordStore, KeyStore,
};
use crm_privacy::{Email, ManualClock, Notification, RecordId, SubjectId};
use crm_privacy_sqlite::SqliteStore;

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_798_761_600, 0).unwrap() // 2027-01-01
}

const WINDOW: TimeDelta = TimeDelta::days(30);
const EPOCH: TimeDelta = TimeDelta::days(7);

async fn in_memory(keks: DynKeks, clock: Arc<ManualClock>) -> (Custodian, Arc<InMemoryKeyStore>) {
    let keys = Arc::new(InMemoryKeyStore::new());
    let c = Custodian::builder_with_kms(keks, IndexKey::generate().unwrap())
        .records(Arc::new(InMemoryRecordStore::new()))
        .chains(Arc::new(InMemoryChainStore::new()))
        .keys(keys.clone())
        .clock(clock)
        .backup_window(WINDOW)
        .kek_epoch(EPOCH)
        .build()
        .await
        .unwrap();
    (c, keys)
}

async fn read_email(c: &Custodian, s: SubjectId, r: RecordId) -> Result<String, CustodianError> {
    let g = c.grant::<Notification>(s, "mailer").await?;
    c.with::<Email, _, _>(&g, r, |e| e.as_str().to_owned())
        .await
}

#[tokio::test]
async fn file_keks_write_0600_files_rotate_and_destroy_for_good() {
    let dir = tempfile::tempdir().unwrap();
    let keks = FileKeks::open(dir.path(), "main", t0()).unwrap();
    let s = SubjectId::new_random();
    let m = KeyMaterial::generate().unwrap();
    let w1 = keks.wrap(s, &m).await.unwrap();
    assert_eq!((w1.kek_name(), w1.kek_id()), (Some("main"), Some(1)));
    let file = dir.path().join("main.v1.kek");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert_eq!(keks.rotate(t0() + EPOCH).await.unwrap(), 2);
    let w2 = keks.wrap(s, &m).await.unwrap();
    assert_eq!(w2.kek_id(), Some(2));
    // Another process opening the same directory sees both versions and unwraps both.
    let other = FileKeks::open(dir.path(), "main", t0()).unwrap();
    for w in [&w1, &w2] {
        let got = other.unwrap(s, w).await.unwrap();
        assert_eq!(got.expose_secret(), m.expose_secret());
    }
    // The primary version cannot be destroyed; an unknown one is a typed error.
    assert!(matches!(
        keks.destroy(2, t0()).await,
        Err(CryptoError::Kms(_))
    ));
    assert_eq!(keks.destroy(9, t0()).await, Err(CryptoError::UnknownKek(9)));
    keks.destroy(1, t0() + WINDOW).await.unwrap();
    keks.destroy(1, t0() + WINDOW).await.unwrap(); // idempotent
    assert!(!file.exists(), "the key file is removed");
    assert!(dir.path().join("main.v1.destroyed").exists());
    assert_eq!(
        keks.unwrap(s, &w1).await.unwrap_err(),
        CryptoError::KekDestroyed(1)
    );
    // A fresh opener (a restored backup's process) cannot unwrap it either.
    let fresh = FileKeks::open(dir.path(), "main", t0()).unwrap();
    assert_eq!(
        fresh.unwrap(s, &w1).await.unwrap_err(),
        CryptoError::KekDestroyed(1)
    );
    let states: Vec<KekState> = fresh
        .versions()
        .await
        .unwrap()
        .iter()
        .map(|v| v.state)
        .collect();
    assert_eq!(
        states,
        [KekState::Destroyed { at: t0() + WINDOW }, KekState::Primary]
    );
    // Hostile inputs: another subject, another KEK name, truncated or garbage bytes.
    assert_eq!(
        fresh
            .unwrap(SubjectId::new_random(), &w2)
            .await
            .unwrap_err(),
        CryptoError::Authentication
    );
    let renamed = WrappedKey::new("other", 2, w2.blob().unwrap()).unwrap();
    assert_eq!(
        fresh.unwrap(s, &renamed).await.unwrap_err(),
        CryptoError::KekName
    );
    for n in 0..w2.as_bytes().len() {
        let cut = WrappedKey::from_bytes(w2.as_bytes()[..n].to_vec());
        assert!(fresh.unwrap(s, &cut).await.is_err());
    }
    // A weak key file planted in the directory is refused at load, not used.
    std::fs::write(dir.path().join("weak.v1.kek"), {
        let mut b = b"crmkek1\0".to_vec();
        b.extend_from_slice(&t0().timestamp_micros().to_be_bytes());
        b.extend_from_slice(&[7; 32]);
        b
    })
    .unwrap();
    assert_eq!(
        FileKeks::open(dir.path(), "weak", t0()).unwrap_err(),
        CryptoError::WeakKey
    );
    assert_eq!(
        FileKeks::open(dir.path(), "../escape", t0()).unwrap_err(),
        CryptoError::KekName
    );
}

#[tokio::test]
async fn builder_refuses_epochs_longer_than_the_window_or_without_a_kms() {
    let clock = Arc::new(ManualClock::new(t0()));
    let build = |epoch: TimeDelta| {
        let clock = clock.clone();
        async move {
            Custodian::builder_with_kms(
                Arc::new(LocalKeks::generate("main", t0()).unwrap()),
                IndexKey::generate().unwrap(),
            )
            .records(Arc::new(InMemoryRecordStore::new()))
            .chains(Arc::new(InMemoryChainStore::new()))
            .keys(Arc::new(InMemoryKeyStore::new()))
            .clock(clock)
            .backup_window(WINDOW)
            .kek_epoch(epoch)
            .build()
            .await
        }
    };
    for bad in [WINDOW + TimeDelta::seconds(1), TimeDelta::zero(), -EPOCH] {
        assert!(matches!(
            build(bad).await,
            Err(CustodianError::Config("kek epoch"))
        ));
    }
    assert!(build(WINDOW).await.is_ok());
    // A host-supplied keyring has no epochs: asking for one is refused, rotation too.
    let kr = Custodian::builder(Keyring::generate().unwrap())
        .records(Arc::new(InMemoryRecordStore::new()))
        .chains(Arc::new(InMemoryChainStore::new()))
        .keys(Arc::new(InMemoryKeyStore::new()));
    assert!(matches!(
        kr.kek_epoch(EPOCH).build().await,
        Err(CustodianError::Config(_))
    ));
    let c = Custodian::builder(Keyring::generate().unwrap())
        .records(Arc::new(InMemoryRecordStore::new()))
        .chains(Arc::new(InMemoryChainStore::new()))
        .keys(Arc::new(InMemoryKeyStore::new()))
        .build()
        .await
        .unwrap();
    assert!(matches!(
        c.rotate_kek().await,
        Err(CustodianError::Crypto(CryptoError::RotationUnsupported))
    ));
    assert_eq!(c.rotate_if_due().await.unwrap(), None);
    let s = c.register_subject().await.unwrap();
    assert_eq!(c.erase(s).await.unwrap().undecryptable_after, None);
}

#[tokio::test]
async fn a_different_kek_directory_is_refused_at_build() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    let store = Arc::new(SqliteStore::open(dir.path().join("crm.db")).unwrap());
    let index = crm_privacy::crypto::test_secret(1);
    let build = |kdir: std::path::PathBuf| {
        let store = store.clone();
        async move {
            Custodian::builder_with_kms(
                Arc::new(FileKeks::open(&kdir, "main", t0()).unwrap()),
                IndexKey::from_bytes(&index).unwrap(),
            )
            .store(store)
            .build()
            .await
        }
    };
    build(a.clone()).await.unwrap();
    build(a).await.unwrap();
    assert!(matches!(
        build(b).await,
        Err(CustodianError::Crypto(CryptoError::WrongKek { id: 1 }))
    ));
}

/// Issue 16's backup test on SQLite: a copy of the data and key files taken before erasure
/// reads the erased subject while the epoch's KEK version lives, and not after it is
/// destroyed — on exactly the date the erasure report states.
#[tokio::test]
async fn backup_taken_before_erasure_is_unreadable_from_the_reported_date() {
    let dir = tempfile::tempdir().unwrap();
    let kdir = dir.path().join("keks");
    std::fs::create_dir_all(&kdir).unwrap();
    let clock = Arc::new(ManualClock::new(t0()));
    let index = crm_privacy::crypto::test_secret(2);
    let open = |db: std::path::PathBuf| {
        let clock = clock.clone();
        let kdir = kdir.clone();
        async move {
            Custodian::builder_with_kms(
                Arc::new(FileKeks::open(&kdir, "main", crm_privacy::Clock::now(&*clock)).unwrap()),
                IndexKey::from_bytes(&index).unwrap(),
            )
            .store(Arc::new(SqliteStore::open(db).unwrap()))
            .clock(clock)
            .backup_window(WINDOW)
            .kek_epoch(EPOCH)
            .build()
            .await
            .unwrap()
        }
    };
    let live_db = dir.path().join("crm.db");
    let live = open(live_db.clone()).await;
    let alice = live.register_subject().await.unwrap();
    let bob = live.register_subject().await.unwrap();
    let ra = live
        .store(alice, Email::parse("alice@example.com").unwrap())
        .await
        .unwrap();
    let rb = live
        .store(bob, Email::parse("bob@example.com").unwrap())
        .await
        .unwrap();
    // The backup: both files, consistent (checkpointed first).
    {
        let s = SqliteStore::open(&live_db).unwrap();
        s.checkpoint().unwrap();
    }
    let backup = dir.path().join("backup.db");
    std::fs::copy(&live_db, &backup).unwrap();
    std::fs::copy(
        dir.path().join("crm.db.keys"),
        dir.path().join("backup.db.keys"),
    )
    .unwrap();

    // Each inspection restores a fresh copy: the backup itself stays as taken (a build on a
    // restored copy finishes the rotation there, re-wrapping every key it holds).
    let restores = std::sync::atomic::AtomicU32::new(0);
    let restore = || {
        let n = restores.fetch_add(1, Ordering::SeqCst);
        let to = dir.path().join(format!("restore{n}.db"));
        std::fs::copy(&backup, &to).unwrap();
        std::fs::copy(
            dir.path().join("backup.db.keys"),
            dir.path().join(format!("restore{n}.db.keys")),
        )
        .unwrap();
        to
    };

    clock.advance(TimeDelta::days(1));
    let report = live.erase(alice).await.unwrap();
    let date = report.undecryptable_after.expect("epochs are on");
    assert_eq!(
        date,
        t0() + EPOCH + WINDOW,
        "end of v1's epoch + the backup window"
    );
    assert!(date >= report.backups_age_out_by);

    // While v1 lives, the restored copy reads the erased subject (what the report admits).
    {
        let restored = open(restore()).await;
        assert_eq!(
            read_email(&restored, alice, ra).await.unwrap(),
            "alice@example.com"
        );
    }
    // The epoch ends: the sweep rotates, re-wraps bob, v1 still unwraps old backups.
    clock.set(t0() + EPOCH);
    live.sweep().await.unwrap();
    let sched = live.kek_schedule().await.unwrap();
    assert_eq!(sched.len(), 2);
    assert_eq!(sched[0].destroy_at, date);
    assert_eq!(sched[1].state, KekState::Primary);
    {
        let restored = open(restore()).await;
        assert_eq!(
            read_email(&restored, alice, ra).await.unwrap(),
            "alice@example.com"
        );
    }
    // One microsecond before the date: nothing destroyed yet.
    clock.set(date - TimeDelta::microseconds(1));
    assert_eq!(
        live.destroy_expired_keks().await.unwrap(),
        Vec::<u32>::new()
    );
    // On the date, the sweep destroys v1.
    clock.set(date);
    live.sweep().await.unwrap();
    assert!(matches!(
        live.kek_schedule().await.unwrap()[0].state,
        KekState::Destroyed { .. }
    ));
    // The live subject was re-wrapped and stays readable.
    assert_eq!(read_email(&live, bob, rb).await.unwrap(), "bob@example.com");
    // The restored copy can no longer decrypt the erased subject: a typed error.
    let restored = open(restore()).await;
    let err = read_email(&restored, alice, ra).await.unwrap_err();
    assert!(
        matches!(err, CustodianError::Crypto(CryptoError::KekDestroyed(1))),
        "{err:?}"
    );
}

/// A KMS wrapper that fails every wrap after `budget` of them: an interruption in the
/// middle of a rotation (a process killed, a KMS outage).
#[derive(Debug)]
struct Flaky {
    inner: LocalKeks,
    budget: AtomicUsize,
}

#[async_trait]
impl KeyEncryptionKeys for Flaky {
    fn name(&self) -> &str {
        self.inner.name()
    }
    async fn wrap(&self, s: SubjectId, k: &KeyMaterial) -> Result<WrappedKey, CryptoError> {
        let left = self.budget.load(Ordering::SeqCst);
        if left == 0 {
            return Err(CryptoError::Kms("injected outage"));
        }
        self.budget.store(left - 1, Ordering::SeqCst);
        self.inner.wrap(s, k).await
    }
    async fn unwrap(&self, s: SubjectId, w: &WrappedKey) -> Result<KeyMaterial, CryptoError> {
        self.inner.unwrap(s, w).await
    }
    async fn rotate(&self, now: DateTime<Utc>) -> Result<u32, CryptoError> {
        self.inner.rotate(now).await
    }
    async fn destroy(&self, v: u32, now: DateTime<Utc>) -> Result<(), CryptoError> {
        self.inner.destroy(v, now).await
    }
    async fn versions(&self) -> Result<Vec<KekVersion>, CryptoError> {
        self.inner.versions().await
    }
}

#[tokio::test]
async fn an_interrupted_rotation_loses_nobody_and_resumes_at_the_next_call() {
    let clock = Arc::new(ManualClock::new(t0()));
    let flaky = Arc::new(Flaky {
        inner: LocalKeks::generate("main", t0()).unwrap(),
        budget: AtomicUsize::new(usize::MAX),
    });
    let (c, keys) = in_memory(flaky.clone(), clock.clone()).await;
    let mut subjects = Vec::new();
    for i in 0..20 {
        let s = c.register_subject().await.unwrap();
        let r = c
            .store(s, Email::parse(&format!("u{i}@example.com")).unwrap())
            .await
            .unwrap();
        subjects.push((s, r));
    }
    flaky.budget.store(7, Ordering::SeqCst);
    clock.set(t0() + EPOCH);
    assert!(
        c.rotate_if_due().await.is_err(),
        "interrupted after 7 re-wraps"
    );
    for (s, r) in &subjects {
        read_email(&c, *s, *r).await.unwrap();
    }
    let under = |v: u32| {
        let keys = keys.clone();
        let subjects = subjects.clone();
        async move {
            let mut n = 0;
            for (s, _) in &subjects {
                if keys.get(*s).await.unwrap().kek_id() == Some(v) {
                    n += 1;
                }
            }
            n
        }
    };
    assert_eq!(under(2).await, 7);
    flaky.budget.store(usize::MAX, Ordering::SeqCst);
    // The next call (the sweep's) finishes the rotation; no new version is created.
    let done = c.rotate_if_due().await.unwrap().expect("resumed");
    assert_eq!((done.version, done.rewrapped), (2, 13));
    assert_eq!(under(2).await, 20);
    assert_eq!(c.rotate_if_due().await.unwrap(), None, "nothing left to do");
    for (s, r) in &subjects {
        read_email(&c, *s, *r).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rotation_under_load_loses_nothing_and_never_fails_a_reader() {
    let clock = Arc::new(ManualClock::new(t0()));
    let (c, keys) = in_memory(
        Arc::new(LocalKeks::generate("main", t0()).unwrap()),
        clock.clone(),
    )
    .await;
    let mut seed = Vec::new();
    for i in 0..40 {
        let s = c.register_subject().await.unwrap();
        let r = c
            .store(s, Email::parse(&format!("seed{i}@example.com")).unwrap())
            .await
            .unwrap();
        seed.push((s, r, format!("seed{i}@example.com")));
    }
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reads = Arc::new(AtomicUsize::new(0));
    let mut readers = Vec::new();
    for k in 0..3 {
        let (c, seed, stop, reads) = (c.clone(), seed.clone(), stop.clone(), reads.clone());
        readers.push(tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                for (s, r, want) in seed.iter().skip(k) {
                    assert_eq!(&read_email(&c, *s, *r).await.unwrap(), want);
                    reads.fetch_add(1, Ordering::SeqCst);
                }
            }
        }));
    }
    // Each rotation starts while readers are mid-flight and ends before they stop.
    let reads_reach = |n: usize| {
        let reads = reads.clone();
        async move {
            // A reader that failed stops counting: fail here instead of waiting forever.
            let wait = async {
                while reads.load(Ordering::SeqCst) < n {
                    tokio::task::yield_now().await;
                }
            };
            tokio::time::timeout(std::time::Duration::from_secs(60), wait)
                .await
                .expect("readers stopped reading (one failed?)");
        }
    };
    let mut writers = Vec::new();
    for w in 0..2 {
        let (c, stop) = (c.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            let mut made = Vec::new();
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) {
                let s = c.register_subject().await.unwrap();
                let e = format!("w{w}n{i}@example.com");
                let r = c.store(s, Email::parse(&e).unwrap()).await.unwrap();
                made.push((s, r, e));
                i += 1;
                tokio::task::yield_now().await;
            }
            made
        }));
    }
    for round in 1..=4 {
        reads_reach(round as usize * 100).await;
        // The clock stays put (grants minted by readers stay valid): rotate by hand.
        let rot = c.rotate_kek().await.unwrap();
        assert_eq!(rot.version, round + 1);
    }
    reads_reach(500).await;
    stop.store(true, Ordering::SeqCst);
    for r in readers {
        r.await.unwrap();
    }
    let mut all = seed;
    for w in writers {
        all.extend(w.await.unwrap());
    }
    // Writers that wrapped under a version just before it stopped being primary are picked
    // up by the next call; then every key is under the primary and every value reads back.
    c.finish_kek_rotation().await.unwrap();
    for (s, r, want) in &all {
        assert_eq!(keys.get(*s).await.unwrap().kek_id(), Some(5));
        assert_eq!(&read_email(&c, *s, *r).await.unwrap(), want);
    }
    // Old versions go on their dates; everyone stays readable.
    clock.advance(WINDOW + EPOCH);
    let destroyed = c.destroy_expired_keks().await.unwrap();
    assert!(
        destroyed.contains(&1) && destroyed.contains(&4),
        "{destroyed:?}"
    );
    for (s, r, want) in &all {
        assert_eq!(&read_email(&c, *s, *r).await.unwrap(), want);
    }
}

/// A KMS in front of which another process's whole rotation — new primary, re-wrap scan,
/// destruction of the old version — runs between a registration's wrap and its put: the
/// worst interleaving of `register_subject` with `destroy_expired_keks` (outside review F3).
#[derive(Debug)]
struct Overtaken {
    inner: LocalKeks,
    /// How many of the next wraps are overtaken.
    armed: AtomicUsize,
    now: DateTime<Utc>,
}

#[async_trait]
impl KeyEncryptionKeys for Overtaken {
    fn name(&self) -> &str {
        self.inner.name()
    }
    async fn wrap(&self, s: SubjectId, k: &KeyMaterial) -> Result<WrappedKey, CryptoError> {
        let wrapped = self.inner.wrap(s, k).await?;
        if self
            .armed
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            let old = wrapped.kek_id().unwrap();
            self.inner.rotate(self.now).await?;
            self.inner.destroy(old, self.now).await?;
        }
        Ok(wrapped)
    }
    async fn unwrap(&self, s: SubjectId, w: &WrappedKey) -> Result<KeyMaterial, CryptoError> {
        self.inner.unwrap(s, w).await
    }
    async fn rotate(&self, now: DateTime<Utc>) -> Result<u32, CryptoError> {
        self.inner.rotate(now).await
    }
    async fn destroy(&self, v: u32, now: DateTime<Utc>) -> Result<(), CryptoError> {
        self.inner.destroy(v, now).await
    }
    async fn versions(&self) -> Result<Vec<KekVersion>, CryptoError> {
        self.inner.versions().await
    }
}

#[tokio::test]
async fn a_registration_overtaken_by_rotation_and_destruction_keeps_its_subject() {
    let clock = Arc::new(ManualClock::new(t0()));
    let kms = Arc::new(Overtaken {
        inner: LocalKeks::generate("main", t0()).unwrap(),
        armed: AtomicUsize::new(0),
        now: t0(),
    });
    let (c, keys) = in_memory(kms.clone(), clock.clone()).await;
    for overtakes in [1, 3] {
        kms.armed.store(overtakes, Ordering::SeqCst);
        let s = c.register_subject().await.unwrap();
        assert_eq!(kms.armed.load(Ordering::SeqCst), 0);
        let stored = keys.get(s).await.unwrap();
        let primary = kms
            .versions()
            .await
            .unwrap()
            .into_iter()
            .find(|v| v.state == KekState::Primary)
            .unwrap()
            .version;
        assert_eq!(
            stored.kek_id(),
            Some(primary),
            "the fresh key ends under the primary version"
        );
        let r = c
            .store(s, Email::parse("overtaken@example.com").unwrap())
            .await
            .unwrap();
        assert_eq!(read_email(&c, s, r).await.unwrap(), "overtaken@example.com");
    }
    // Rotations that never stop overtaking end in a typed error, not a lost key.
    kms.armed.store(usize::MAX, Ordering::SeqCst);
    assert!(matches!(
        c.register_subject().await,
        Err(CustodianError::Crypto(CryptoError::Kms(_)))
    ));
}

/// The synchronous unwrap the custodian tries first answers exactly like the async one —
/// the key, and every refusal (another subject, another KEK name, a destroyed version, an
/// altered blob) — for both in-process implementations; a KMS that does not implement it
/// keeps the default and is awaited.
#[tokio::test]
async fn in_process_unwrap_agrees_with_the_async_unwrap() {
    let dir = tempfile::tempdir().unwrap();
    let local = LocalKeks::generate("main", t0()).unwrap();
    let file = FileKeks::open(dir.path(), "main", t0()).unwrap();
    let flaky = Flaky {
        inner: LocalKeks::generate("main", t0()).unwrap(),
        budget: AtomicUsize::new(usize::MAX),
    };
    assert!(
        flaky
            .unwrap_in_process(
                SubjectId::new_random(),
                &WrappedKey::new("main", 1, &[0; 60]).unwrap()
            )
            .is_none()
    );
    let impls: [&dyn KeyEncryptionKeys; 2] = [&local, &file];
    for keks in impls {
        let s = SubjectId::new_random();
        let m = KeyMaterial::generate().unwrap();
        let old = keks.wrap(s, &m).await.unwrap();
        keks.rotate(t0() + EPOCH).await.unwrap();
        let new = keks.wrap(s, &m).await.unwrap();
        keks.destroy(1, t0() + EPOCH + WINDOW).await.unwrap();
        let mut altered = new.blob().unwrap().to_vec();
        *altered.last_mut().unwrap() ^= 1;
        let cases = [
            (s, new.clone()),
            (SubjectId::new_random(), new.clone()),
            (s, WrappedKey::new("other", 2, new.blob().unwrap()).unwrap()),
            (s, old.clone()),
            (s, WrappedKey::new("main", 2, &altered).unwrap()),
            (s, WrappedKey::new("main", 9, new.blob().unwrap()).unwrap()),
        ];
        for (subject, wrapped) in &cases {
            let sync = keks
                .unwrap_in_process(*subject, wrapped)
                .expect("in process");
            let asynchronous = keks.unwrap(*subject, wrapped).await;
            match (sync, asynchronous) {
                (Ok(a), Ok(b)) => assert_eq!(a.expose_secret(), b.expose_secret()),
                (Err(a), Err(b)) => assert_eq!(a, b),
                (a, b) => panic!("disagree: {:?} vs {:?}", a.is_ok(), b.is_ok()),
            }
        }
        assert_eq!(
            keks.unwrap_in_process(s, &new)
                .unwrap()
                .unwrap()
                .expose_secret(),
            m.expose_secret()
        );
    }
}

/// Outside review (issue 16): raising the backup window (or the epoch) after erasure reports
/// promised dates would move destructions later than promised. The schedule is pinned in the
/// ledger at the first build: a longer one is refused, a shorter one recorded.
#[tokio::test]
async fn a_longer_backup_window_or_epoch_than_recorded_is_refused() {
    let keks: DynKeks = Arc::new(LocalKeks::generate("main", t0()).unwrap());
    let records = Arc::new(InMemoryRecordStore::new());
    let chains = Arc::new(InMemoryChainStore::new());
    let keys = Arc::new(InMemoryKeyStore::new());
    let clock = Arc::new(ManualClock::new(t0()));
    let build = |window: TimeDelta, epoch: TimeDelta| {
        Custodian::builder_with_kms(
            keks.clone(),
            IndexKey::from_bytes(&crm_privacy::crypto::test_secret(41)).unwrap(),
        )
        .records(records.clone())
        .chains(chains.clone())
        .keys(keys.clone())
        .clock(clock.clone())
        .backup_window(window)
        .kek_epoch(epoch)
        .build()
    };
    let c = build(WINDOW, EPOCH).await.unwrap();
    let s = c.register_subject().await.unwrap();
    c.store(s, Email::parse("pinned@example.com").unwrap())
        .await
        .unwrap();
    let promised = c.erase(s).await.unwrap().undecryptable_after.unwrap();
    assert!(matches!(
        build(WINDOW * 3, EPOCH).await.unwrap_err(),
        CustodianError::ScheduleLengthened {
            what: "backup window",
            recorded_days: 30
        }
    ));
    assert!(matches!(
        build(WINDOW, EPOCH * 2).await.unwrap_err(),
        CustodianError::ScheduleLengthened {
            what: "kek epoch",
            recorded_days: 7
        }
    ));
    // Shorter is accepted and recorded: dates only move earlier, and the longer one is then
    // refused against the new record.
    let shorter = build(WINDOW / 2, EPOCH).await.unwrap();
    let now_promised = shorter.kek_schedule().await.unwrap()[0].destroy_at;
    assert!(now_promised <= promised);
    assert!(build(WINDOW, EPOCH).await.is_err());
}

/// A KMS like an alias update that has not propagated: after a rotation `versions()`
/// shows the new primary at once, but the next `stale` wraps still use the old version (the
/// new one is created underneath only when the alias catches up or a version is destroyed).
#[derive(Debug)]
struct Lagging {
    inner: LocalKeks,
    /// Wraps left that still go to the old version after a rotation.
    stale: AtomicUsize,
    /// A rotation the alias has not caught up with: its instant.
    pending: std::sync::Mutex<Option<DateTime<Utc>>>,
}

impl Lagging {
    async fn catch_up(&self) -> Result<(), CryptoError> {
        let pending = self.pending.lock().unwrap().take();
        if let Some(at) = pending {
            self.inner.rotate(at).await?;
        }
        Ok(())
    }
}

#[async_trait]
impl KeyEncryptionKeys for Lagging {
    fn name(&self) -> &str {
        self.inner.name()
    }
    async fn wrap(&self, s: SubjectId, k: &KeyMaterial) -> Result<WrappedKey, CryptoError> {
        let lagging = self
            .stale
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if !lagging {
            self.catch_up().await?;
        }
        self.inner.wrap(s, k).await
    }
    async fn unwrap(&self, s: SubjectId, w: &WrappedKey) -> Result<KeyMaterial, CryptoError> {
        self.inner.unwrap(s, w).await
    }
    async fn rotate(&self, now: DateTime<Utc>) -> Result<u32, CryptoError> {
        if self.stale.load(Ordering::SeqCst) == 0 {
            return self.inner.rotate(now).await;
        }
        *self.pending.lock().unwrap() = Some(now);
        Ok(self.versions().await?.len() as u32)
    }
    async fn destroy(&self, v: u32, now: DateTime<Utc>) -> Result<(), CryptoError> {
        self.catch_up().await?;
        self.inner.destroy(v, now).await
    }
    async fn versions(&self) -> Result<Vec<KekVersion>, CryptoError> {
        let mut v = self.inner.versions().await?;
        if let Some(at) = *self.pending.lock().unwrap() {
            for old in &mut v {
                if old.state == KekState::Primary {
                    old.state = KekState::Enabled;
                }
            }
            v.push(KekVersion {
                version: v.len() as u32 + 1,
                created_at: at,
                state: KekState::Primary,
                check: None,
            });
        }
        Ok(v)
    }
}

/// Outside review (issue 16): with a KMS that keeps wrapping under the old version for a
/// while after a rotation, `destroy_expired_keks` must not destroy the version every live
/// key is still under. The re-wrap checks the version it got and the destruction re-reads
/// every live key first: nothing is destroyed, nobody is lost; once the KMS catches up the
/// destruction goes through.
#[tokio::test]
async fn a_lagging_kms_never_makes_destruction_lose_live_subjects() {
    let clock = Arc::new(ManualClock::new(t0()));
    let kms = Arc::new(Lagging {
        inner: LocalKeks::generate("main", t0()).unwrap(),
        stale: AtomicUsize::new(0),
        pending: std::sync::Mutex::new(None),
    });
    let (c, _keys) = in_memory(kms.clone(), clock.clone()).await;
    let mut subjects = Vec::new();
    for i in 0..5 {
        let s = c.register_subject().await.unwrap();
        let r = c
            .store(s, Email::parse(&format!("lag{i}@example.com")).unwrap())
            .await
            .unwrap();
        subjects.push((s, r));
    }
    kms.stale.store(1000, Ordering::SeqCst);
    // No sweep ran for a whole epoch and window: the primary itself is due, so the
    // destruction rotates first, re-wraps, and destroys version 1.
    clock.set(t0() + EPOCH + WINDOW);
    let refused = c.destroy_expired_keks().await;
    assert!(
        matches!(refused, Err(CustodianError::Crypto(CryptoError::Kms(_)))),
        "{refused:?}"
    );
    for (s, r) in &subjects {
        read_email(&c, *s, *r).await.unwrap();
    }
    // The alias catches up: the destruction goes through and everyone still reads.
    kms.stale.store(0, Ordering::SeqCst);
    let destroyed = c.destroy_expired_keks().await.unwrap();
    assert!(destroyed.contains(&1), "{destroyed:?}");
    for (s, r) in &subjects {
        read_email(&c, *s, *r).await.unwrap();
    }
}

/// Outside review: reopening a store with a keyring that lacks the KEK version its keys
/// are under (only version 2, the store's keys under version 1) built and served; every
/// older subject then failed at its first read, and new ones were wrapped under version 2.
/// It is refused at build. After a finished rotation the old version may leave the
/// configuration: one scan finds no key under it and retires it in the ledger.
#[tokio::test]
async fn a_keyring_without_the_version_live_keys_are_under_is_refused_at_build() {
    use crm_privacy::crypto::{Kek, test_secret};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crm.db");
    let build = |kr: Keyring| {
        let store = Arc::new(SqliteStore::open(&path).unwrap());
        async move { Custodian::builder(kr).store(store).build().await }
    };
    let v1 = || Kek::from_bytes(1, &test_secret(3)).unwrap();
    let v2 = || Kek::from_bytes(2, &test_secret(4)).unwrap();
    let c = build(Keyring::new(v1(), &test_secret(9)).unwrap())
        .await
        .unwrap();
    let alice = c.register_subject().await.unwrap();
    let rec = c
        .store(alice, Email::parse("alice@example.com").unwrap())
        .await
        .unwrap();
    drop(c);

    // Version 2 alone: refused, naming the missing version, and nothing was written.
    match build(Keyring::new(v2(), &test_secret(9)).unwrap()).await {
        Err(CustodianError::Crypto(CryptoError::UnknownKek(1))) => {}
        other => panic!("expected UnknownKek(1), got {:?}", other.err()),
    }

    // The rotation done properly: both versions, re-wrap, then version 2 alone.
    let c = build(
        Keyring::new(v2(), &test_secret(9))
            .unwrap()
            .with_previous(v1()),
    )
    .await
    .unwrap();
    c.finish_kek_rotation().await.unwrap();
    drop(c);
    let c = build(Keyring::new(v2(), &test_secret(9)).unwrap())
        .await
        .unwrap();
    let g = c.grant::<Notification>(alice, "mailer").await.unwrap();
    assert_eq!(
        c.with::<Email, _, _>(&g, rec, |e| e.as_str().to_owned())
            .await
            .unwrap(),
        "alice@example.com"
    );
    drop(c);
    // Retired once: a later build finds the retirement in the ledger.
    let store = Arc::new(SqliteStore::open(&path).unwrap());
    let ledger = store
        .entries_from(crm_privacy::store::ChainName::Ledger, 0)
        .await
        .unwrap();
    let retired = ledger
        .iter()
        .filter_map(|e| crm_privacy::ledger::decode::<crm_privacy::ledger::LedgerEvent>(e).ok())
        .filter(|e| {
            matches!(
                e.change,
                crm_privacy::ledger::LedgerChange::KekRetired { version: 1 }
            )
        })
        .count();
    assert_eq!(retired, 1);
    build(Keyring::new(v2(), &test_secret(9)).unwrap())
        .await
        .unwrap();
}

/// One secret, one role (docs/keys.md): the same bytes as a KEK and the blind-index key, a
/// token key, a second KEK id or the previous index key are refused, on the keyring path and
/// the KMS path, before anything is written. Distinct secrets build.
#[tokio::test]
async fn one_secret_in_two_key_roles_is_refused() {
    use crm_privacy::TokenKey;
    use crm_privacy::crypto::{Kek, test_secret};

    let kek = |id: u32, seed: u8| Kek::from_bytes(id, &test_secret(seed)).unwrap();
    let index = |seed: u8| IndexKey::from_bytes(&test_secret(seed)).unwrap();
    let token = |id: u32, seed: u8| TokenKey::from_secret(id, &test_secret(seed)).unwrap();
    let stores = |b: crm_privacy::custodian::CustodianBuilder| {
        b.records(Arc::new(InMemoryRecordStore::new()))
            .chains(Arc::new(InMemoryChainStore::new()))
            .keys(Arc::new(InMemoryKeyStore::new()))
    };
    async fn refused(b: crm_privacy::custodian::CustodianBuilder, what: &str) {
        match b.build().await {
            Err(CustodianError::Crypto(CryptoError::KeyReused)) => {}
            other => panic!("{what}: expected KeyReused, got {:?}", other.err()),
        }
    }
    // KEK seed 3, index seed 4: the keyring every case below starts from.
    let keyring_path = || stores(Custodian::builder(Keyring::from_parts(kek(1, 3), index(4))));

    // The keyring's own constructor sees the KEK's bytes as the index secret.
    assert_eq!(
        Keyring::new(kek(1, 3), &test_secret(3)).unwrap_err(),
        CryptoError::KeyReused
    );
    // The same through from_parts: refused at build.
    refused(
        stores(Custodian::builder(Keyring::from_parts(kek(1, 3), index(3)))),
        "KEK = index key",
    )
    .await;
    // The KEK's bytes as the token key.
    refused(keyring_path().token_key(token(1, 3)), "KEK = token key").await;
    // The index key's bytes as an accepted (older) token key.
    refused(
        keyring_path()
            .token_key(token(1, 5))
            .accept_token_key(token(2, 4)),
        "index key = accepted token key",
    )
    .await;
    // One secret under two KEK ids.
    refused(
        stores(Custodian::builder(
            Keyring::from_parts(kek(2, 3), index(4)).with_previous(kek(1, 3)),
        )),
        "two KEK ids, one secret",
    )
    .await;
    // The previous index key equal to the current one, and a signing key accepted again
    // under another id.
    refused(
        keyring_path().previous_index_key(index(4)),
        "previous index key = index key",
    )
    .await;
    refused(
        keyring_path()
            .token_key(token(1, 5))
            .accept_token_key(token(2, 5)),
        "token key accepted under a second id",
    )
    .await;
    // The KMS path: its KEKs are out of sight, the index and token keys are not.
    let keks: DynKeks = Arc::new(LocalKeks::generate("kek", t0()).unwrap());
    refused(
        stores(Custodian::builder_with_kms(keks, index(4))).token_key(token(1, 4)),
        "KMS path: index key = token key",
    )
    .await;

    // Distinct secrets build.
    keyring_path()
        .token_key(token(1, 5))
        .accept_token_key(token(2, 6))
        .build()
        .await
        .unwrap();
}
