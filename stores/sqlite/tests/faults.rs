#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout,
    reason = "tests"
)]
//! Fault suite on SQLite, at the store level (the custodian is wired to these checks at
//! merge): refused paths, exclusive single-process mode, `quick_check` at open, wrong key
//! check values, rollback of either file (restored copy, truncated WAL), random byte flips
//! in the data file against authenticated columns, and a full disk (`ulimit -f` in a child).
//!
//! CI mode stays within a few seconds; `CRM_FAULT_LONG=1` (run by `scripts/fault-long.sh`)
//! multiplies the byte flips.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use crm_privacy::chain::{self, Anchor};
use crm_privacy::crypto::{CryptoError, DataKey, Kek, Keyring, RowHeader};
use crm_privacy::store::{
    ChainAppend, ChainName, ChainStore, KeyStore, RecordStore, SealedRecord, StoreError,
    VersionedRecord,
};
use crm_privacy::{RecordId, SubjectId};
use crm_privacy_sqlite::SqliteStore;

fn keyring(kek: u8, index: u8) -> Keyring {
    Keyring::new(
        Kek::from_bytes(1, &crm_privacy::crypto::test_secret(kek)).unwrap(),
        &crm_privacy::crypto::test_secret(index),
    )
    .unwrap()
}

fn long_mode() -> bool {
    std::env::var("CRM_FAULT_LONG").is_ok_and(|v| v == "1")
}

fn keys_of(db: &Path) -> PathBuf {
    let mut p = db.as_os_str().to_owned();
    p.push(".keys");
    PathBuf::from(p)
}

/// Runs this test binary again as a child, in `mode`, on `db`.
fn child(test: &str, mode: &str, db: &Path) -> Command {
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env("CRM_FAULT_CHILD", format!("{mode}:{}", db.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    c
}

fn child_mode() -> Option<(String, PathBuf)> {
    let v = std::env::var("CRM_FAULT_CHILD").ok()?;
    let (mode, path) = v.split_once(':')?;
    Some((mode.to_owned(), PathBuf::from(path)))
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

async fn append(store: &SqliteStore, chain: ChainName, body: &[u8]) {
    let expected = store.anchor(chain).await.unwrap();
    let mut next = expected;
    let entry = chain::append(&mut next, body.to_vec());
    store
        .append(vec![ChainAppend {
            chain,
            expected,
            entry,
        }])
        .await
        .unwrap();
}

/// A subject with a key, a versioned record sealed over its header, and a ledger + audit
/// entry: what one custodian write leaves behind.
async fn write_subject(store: &SqliteStore, kr: &Keyring, n: u32) -> (SubjectId, DataKey) {
    let s = SubjectId::new_random();
    let (dk, wrapped) = kr.new_data_key(s).unwrap();
    KeyStore::put(store, s, wrapped).await.unwrap();
    append(store, ChainName::Ledger, format!("consent {n}").as_bytes()).await;
    append(store, ChainName::Audit, format!("stored {n}").as_bytes()).await;
    (s, dk)
}

fn micros(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap()
}

async fn write_row(
    store: &SqliteStore,
    dk: &DataKey,
    kind: &str,
    index: Option<[u8; 32]>,
    version: u64,
) -> VersionedRecord {
    let now = micros(Utc::now());
    let mut row = VersionedRecord {
        sealed: SealedRecord {
            record: RecordId::new_random(),
            subject: dk.subject(),
            kind: kind.to_owned(),
            ciphertext: Vec::new(),
            blind_index: index,
            index_version: 1,
            created_at: now - TimeDelta::days(30),
            updated_at: now,
        },
        version,
    };
    row.sealed.ciphertext = dk.seal_row(&row.header(), b"value of the field").unwrap();
    store.put_versioned(row.clone()).await.unwrap();
    row
}

#[test]
fn empty_memory_and_uri_paths_are_refused() {
    for p in ["", ":memory:", "file::memory:", "file:x.db?mode=memory"] {
        let r = SqliteStore::open(p);
        assert!(
            matches!(r, Err(StoreError::Misuse { .. })),
            "{p:?}: {:?}",
            r.err()
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crm.db");
    assert!(matches!(
        SqliteStore::open_with_key_file(&db, &db),
        Err(StoreError::Misuse { .. })
    ));
    assert!(matches!(
        SqliteStore::open_with_key_file(&db, Path::new("")),
        Err(StoreError::Misuse { .. })
    ));
}

#[test]
fn exclusive_mode_refuses_every_other_opener() {
    if let Some((mode, db)) = child_mode() {
        if mode == "exclusive" {
            let r = SqliteStore::open_exclusive(&db);
            println!("result {:?}", r.as_ref().map(|_| ()).map_err(Clone::clone));
        }
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crm.db");
    // The default stays multi-process: two openers at once are fine.
    let a = SqliteStore::open(&db).unwrap();
    let b = SqliteStore::open(&db).unwrap();
    assert!(!a.is_exclusive());
    // …and an exclusive opener is refused while they hold the files.
    assert_eq!(
        SqliteStore::open_exclusive(&db).err(),
        Some(StoreError::InUse)
    );
    drop((a, b));
    let held = SqliteStore::open_exclusive(&db).unwrap();
    assert!(held.is_exclusive());
    rt().block_on(async {
        append(&held, ChainName::Audit, b"single process").await;
    });
    // A second exclusive opener, in this process or another, is refused at once.
    assert_eq!(
        SqliteStore::open_exclusive(&db).err(),
        Some(StoreError::InUse)
    );
    let out = child(
        "exclusive_mode_refuses_every_other_opener",
        "exclusive",
        &db,
    )
    .output()
    .unwrap();
    let out = String::from_utf8_lossy(&out.stdout);
    assert!(out.contains("result Err(InUse)"), "child said: {out}");
    // A default opener waits out its busy timeout, then gets a typed, retryable error.
    let r = SqliteStore::open(&db);
    assert!(matches!(r, Err(ref e) if e.is_retryable()), "{:?}", r.err());
    drop(held);
    let again = SqliteStore::open(&db).unwrap();
    rt().block_on(async {
        assert_eq!(again.anchor(ChainName::Audit).await.unwrap().len, 1);
    });
}

#[test]
fn quick_check_at_open_refuses_a_corrupt_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crm.db");
    let kr = keyring(1, 2);
    {
        let store = SqliteStore::open(&db).unwrap();
        rt().block_on(async {
            let (_, dk) = write_subject(&store, &kr, 0).await;
            for _ in 0..200 {
                write_row(&store, &dk, "email", Some([1; 32]), 1).await;
            }
        });
        store.checkpoint().unwrap();
    }
    let clean = std::fs::read(&db).unwrap();
    // A structural change in a records page that opening never reads (the cell count of the
    // last page) is caught by the quick_check at open.
    let mut bytes = clean.clone();
    let page = bytes.len() - 4096;
    bytes[page + 3] ^= 0x7f;
    std::fs::write(&db, &bytes).unwrap();
    let r = SqliteStore::open(&db);
    assert!(
        matches!(r, Err(StoreError::Corrupt { .. })),
        "{:?}",
        r.err()
    );
    // An altered header field SQLite reports without a specific code (the schema format
    // number: "unsupported file format").
    let mut bytes = clean.clone();
    bytes[47] ^= 0x40;
    std::fs::write(&db, &bytes).unwrap();
    let r = SqliteStore::open(&db);
    assert!(
        matches!(r, Err(StoreError::Corrupt { .. })),
        "{:?}",
        r.err()
    );
    // A file that is not a database at all.
    let mut bytes = clean;
    bytes[..16].copy_from_slice(b"not a database!\0");
    std::fs::write(&db, &bytes).unwrap();
    let r = SqliteStore::open(&db);
    assert!(
        matches!(r, Err(StoreError::Corrupt { .. })),
        "{:?}",
        r.err()
    );
}

#[test]
fn an_altered_schema_is_refused_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crm.db");
    drop(SqliteStore::open(&db).unwrap());
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(
        "PRAGMA writable_schema = ON;
         UPDATE sqlite_master SET sql = replace(sql, 'head BLOB', 'haed BLOB') WHERE name = 'witness';",
    )
    .unwrap();
    drop(conn);
    let r = SqliteStore::open(&db);
    assert_eq!(
        r.err(),
        Some(StoreError::Corrupt {
            what: "database schema"
        })
    );
}

#[test]
fn a_live_key_marked_destroyed_on_disk_is_corrupt_not_shredded() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crm.db");
    let kr = keyring(1, 2);
    let s = {
        let store = SqliteStore::open(&db).unwrap();
        rt().block_on(write_subject(&store, &kr, 0)).0
    };
    let conn = rusqlite::Connection::open(keys_of(&db)).unwrap();
    conn.execute(
        "UPDATE data_keys SET destroyed_at = 1 WHERE subject = ?1",
        [s.to_bytes().as_slice()],
    )
    .unwrap();
    drop(conn);
    let store = SqliteStore::open(&db).unwrap();
    assert_eq!(
        rt().block_on(KeyStore::get(&store, s)),
        Err(StoreError::Corrupt { what: "data key" })
    );
}

#[test]
fn wrong_kek_or_index_secret_is_refused_by_the_stored_check_values() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crm.db");
    rt().block_on(async {
        let store = SqliteStore::open(&db).unwrap();
        assert_eq!(store.check_values().await.unwrap(), None);
        let good = keyring(1, 2);
        let stored = store
            .set_check_values_if_absent(&good.check_values())
            .await
            .unwrap();
        good.verify_check_values(&stored).unwrap();
        drop(store);
        // Reopened with the wrong keys: what a build does (record if absent, then verify).
        let store = SqliteStore::open(&db).unwrap();
        for (kr, want) in [
            (keyring(9, 2), CryptoError::WrongKek { id: 1 }),
            (keyring(1, 8), CryptoError::WrongIndexSecret),
        ] {
            let stored = store
                .set_check_values_if_absent(&kr.check_values())
                .await
                .unwrap();
            assert_eq!(kr.verify_check_values(&stored), Err(want));
        }
        // The right keys still pass: the wrong ones left nothing behind.
        let stored = store.check_values().await.unwrap().unwrap();
        keyring(1, 2).verify_check_values(&stored).unwrap();
    });
}

/// Writes that commit to both files, after a copy was taken.
async fn more_writes(store: &SqliteStore, kr: &Keyring, from: u32) {
    for n in from..from + 5 {
        write_subject(store, kr, n).await;
    }
}

#[test]
fn restoring_either_file_from_an_older_copy_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crm.db");
    let keys = keys_of(&db);
    let kr = keyring(1, 2);
    let rt = rt();
    {
        let store = SqliteStore::open(&db).unwrap();
        rt.block_on(more_writes(&store, &kr, 0));
        store.checkpoint().unwrap();
        std::fs::copy(&db, dir.path().join("old.db")).unwrap();
        std::fs::copy(&keys, dir.path().join("old.keys")).unwrap();
        rt.block_on(more_writes(&store, &kr, 5));
        store.cross_check().unwrap();
        store.checkpoint().unwrap();
    }
    std::fs::copy(&db, dir.path().join("new.db")).unwrap();
    std::fs::copy(&keys, dir.path().join("new.keys")).unwrap();
    let pair = |d: &str, k: &str| {
        SqliteStore::open_with_key_file(&dir.path().join(d), &dir.path().join(k)).unwrap()
    };
    pair("new.db", "new.keys").cross_check().unwrap();
    pair("old.db", "old.keys").cross_check().unwrap();
    assert_eq!(
        pair("old.db", "new.keys").cross_check(),
        Err(StoreError::RolledBack { what: "data file" })
    );
    assert_eq!(
        pair("new.db", "old.keys").cross_check(),
        Err(StoreError::RolledBack { what: "key file" })
    );
    // Writes on a rolled-back pair fail closed: a chain append on the old data file, a key
    // write on the old key file. Nothing moves a witness back onto a diverged chain.
    let store = pair("old.db", "new.keys");
    rt.block_on(async {
        let expected = store.anchor(ChainName::Ledger).await.unwrap();
        let mut next = expected;
        let entry = chain::append(&mut next, b"diverged".to_vec());
        assert_eq!(
            store
                .append(vec![ChainAppend {
                    chain: ChainName::Ledger,
                    expected,
                    entry,
                }])
                .await,
            Err(StoreError::RolledBack { what: "data file" })
        );
    });
    let store = pair("new.db", "old.keys");
    rt.block_on(async {
        let s = SubjectId::new_random();
        let (_, wrapped) = kr.new_data_key(s).unwrap();
        assert_eq!(
            KeyStore::put(&store, s, wrapped).await,
            Err(StoreError::RolledBack { what: "key file" })
        );
    });
    assert_eq!(
        store.cross_check(),
        Err(StoreError::RolledBack { what: "key file" })
    );
}

/// Each direction of the witness on its own: after the copy, only chain appends (caught by
/// the key file's witness of the data heads), or only key writes (caught by the data file's
/// witness of the key log); and a data file of another lineage, longer than the witness,
/// does not pass through the witnessed head.
#[test]
fn each_witness_direction_and_a_foreign_data_file() {
    let dir = tempfile::tempdir().unwrap();
    let kr = keyring(1, 2);
    let rt = rt();
    let path = |n: &str| dir.path().join(n);
    let snapshot = |store: &SqliteStore, db: &str, copy: &str| {
        store.checkpoint().unwrap();
        std::fs::copy(path(db), path(&format!("{copy}.db"))).unwrap();
        std::fs::copy(keys_of(&path(db)), path(&format!("{copy}.keys"))).unwrap();
    };
    let pair = |d: &str, k: &str| {
        SqliteStore::open_with_key_file(&path(&format!("{d}.db")), &path(&format!("{k}.keys")))
            .unwrap()
    };
    // Only appends after the copy.
    let store = SqliteStore::open(path("a.db")).unwrap();
    rt.block_on(more_writes(&store, &kr, 0));
    snapshot(&store, "a.db", "a_old");
    rt.block_on(async {
        for n in 0..3 {
            append(&store, ChainName::Audit, format!("read {n}").as_bytes()).await;
        }
    });
    snapshot(&store, "a.db", "a_new");
    drop(store);
    assert_eq!(
        pair("a_old", "a_new").cross_check(),
        Err(StoreError::RolledBack { what: "data file" })
    );
    // Only key writes after the copy.
    let store = SqliteStore::open(path("b.db")).unwrap();
    rt.block_on(more_writes(&store, &kr, 0));
    snapshot(&store, "b.db", "b_old");
    rt.block_on(async {
        let s = SubjectId::new_random();
        let (_, wrapped) = kr.new_data_key(s).unwrap();
        KeyStore::put(&store, s, wrapped).await.unwrap();
    });
    snapshot(&store, "b.db", "b_new");
    drop(store);
    assert_eq!(
        pair("b_new", "b_old").cross_check(),
        Err(StoreError::RolledBack { what: "key file" })
    );
    // A longer data file of another lineage next to b's key file.
    let other = SqliteStore::open(path("c.db")).unwrap();
    rt.block_on(more_writes(&other, &kr, 100));
    rt.block_on(more_writes(&other, &kr, 105));
    snapshot(&other, "c.db", "c_copy");
    drop(other);
    assert_eq!(
        pair("c_copy", "b_new").cross_check(),
        Err(StoreError::RolledBack { what: "data file" })
    );
}

#[test]
fn truncating_the_wal_of_either_file_is_detected() {
    if let Some((mode, db)) = child_mode() {
        if mode == "writer" {
            let store = SqliteStore::open(&db).unwrap();
            let kr = keyring(1, 2);
            rt().block_on(more_writes(&store, &kr, 0));
            println!("done");
            std::thread::sleep(Duration::from_secs(60));
        }
        return;
    }
    for which in ["data file", "key file"] {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("crm.db");
        // Make both files exist with a checkpointed base, then let a child write into the
        // WALs and kill it (SIGKILL) so nothing is checkpointed.
        {
            let store = SqliteStore::open(&db).unwrap();
            rt().block_on(async {
                let kr = keyring(1, 2);
                write_subject(&store, &kr, 100).await;
            });
            store.checkpoint().unwrap();
        }
        let mut c = child(
            "truncating_the_wal_of_either_file_is_detected",
            "writer",
            &db,
        )
        .spawn()
        .unwrap();
        let stdout = c.stdout.take().unwrap();
        let done = BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .any(|l| l.ends_with("done"));
        assert!(done, "the writer child did not finish");
        c.kill().unwrap();
        c.wait().unwrap();
        let wal = match which {
            "data file" => dir.path().join("crm.db-wal"),
            _ => dir.path().join("crm.db.keys-wal"),
        };
        assert!(std::fs::metadata(&wal).unwrap().len() > 0);
        std::fs::File::options()
            .write(true)
            .open(&wal)
            .unwrap()
            .set_len(0)
            .unwrap();
        let store = SqliteStore::open(&db).unwrap();
        assert_eq!(
            store.cross_check(),
            Err(StoreError::RolledBack { what: which }),
            "WAL of the {which} truncated"
        );
    }
}

/// One deterministic generator for the flips (xorshift).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[derive(Debug, Default)]
struct FlipCounts {
    /// The store refused to open or read, with a typed error.
    typed_error: u64,
    /// A row came back with an altered authenticated column or ciphertext and `open_row`
    /// refused it.
    refused_by_aead: u64,
    /// A chain entry or anchor was altered and chain verification caught it.
    refused_by_chain: u64,
    /// Everything read back identical: the flip hit free space or unused bytes.
    harmless: u64,
    /// A row opened with altered authenticated columns: must stay 0.
    silent: u64,
    /// A lookup (by subject or blind index) missed a row without an error: an altered
    /// index b-tree; not an authenticated column (reported, not asserted).
    lookup_miss: u64,
    /// Untyped `Backend` errors: must stay 0.
    untyped: u64,
}

#[test]
fn random_byte_flips_in_the_data_file_are_detected_or_harmless() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crm.db");
    let kr = keyring(1, 2);
    let rt = rt();
    let (rows, heads) = {
        let store = SqliteStore::open(&db).unwrap();
        let rows = rt.block_on(async {
            let mut rows = Vec::new();
            for n in 0..8 {
                let (_, dk) = write_subject(&store, &kr, n).await;
                for (i, kind) in ["email", "phone", "ip_address"].iter().enumerate() {
                    let index = (i < 2).then_some([u8::try_from(n * 3 + i as u32).unwrap(); 32]);
                    let row = write_row(&store, &dk, kind, index, 1 + i as u64).await;
                    rows.push((row, dk.subject()));
                }
            }
            rows
        });
        let heads = rt.block_on(store.heads()).unwrap();
        store.checkpoint().unwrap();
        (rows, heads)
    };
    let keys_file = std::fs::read(keys_of(&db)).unwrap();
    let clean = std::fs::read(&db).unwrap();
    let flips = if long_mode() { 4000 } else { 300 };
    // Each flip is checked twice: as a plain open (`quick_check`) leaves the store, and
    // after the full `integrity_check`, which must leave no lookup miss either.
    for full in [false, true] {
        let counts = run_flips(
            &dir, &clean, &keys_file, flips, full, &kr, &rows, &heads, &rt,
        );
        eprintln!(
            "{flips} byte flips in the data file ({}): {counts:?}",
            if full {
                "open + integrity_check"
            } else {
                "open"
            }
        );
        assert_eq!(counts.silent, 0, "silent flips on authenticated columns");
        assert_eq!(counts.untyped, 0, "untyped errors");
        if full {
            assert_eq!(
                counts.lookup_miss, 0,
                "lookups missing rows after integrity_check"
            );
        }
    }
}

#[derive(Debug, Default)]
struct KeyFlipCounts {
    /// Open, cross_check or integrity_check refused with a typed error.
    typed_error: u64,
    /// A wrapped key came back altered and unwrapping refused it.
    refused_by_aead: u64,
    /// Every key read back and opened its subject's rows.
    harmless: u64,
    /// A live key read as missing or destroyed without a typed corruption error.
    key_miss: u64,
    /// Untyped errors: must stay 0.
    untyped: u64,
}

#[test]
fn random_byte_flips_in_the_key_file_are_detected_or_harmless() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crm.db");
    let kr = keyring(1, 2);
    let rt = rt();
    let rows = {
        let store = SqliteStore::open(&db).unwrap();
        let rows = rt.block_on(async {
            let mut rows = Vec::new();
            for n in 0..24 {
                let (_, dk) = write_subject(&store, &kr, n).await;
                rows.push(write_row(&store, &dk, "email", None, 1).await);
            }
            rows
        });
        store.checkpoint().unwrap();
        rows
    };
    let data = std::fs::read(&db).unwrap();
    let clean = std::fs::read(keys_of(&db)).unwrap();
    let flips = if long_mode() { 3000 } else { 200 };
    let work = dir.path().join("flip.db");
    for full in [false, true] {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut counts = KeyFlipCounts::default();
        for _ in 0..flips {
            let mut bytes = clean.clone();
            let at = usize::try_from(rng.next() % bytes.len() as u64).unwrap();
            bytes[at] ^= u8::try_from(rng.next() % 255).unwrap() + 1;
            std::fs::write(&work, &data).unwrap();
            std::fs::write(keys_of(&work), &bytes).unwrap();
            let outcome = rt.block_on(async {
                let store = SqliteStore::open(&work)?;
                store.cross_check()?;
                if full {
                    store.integrity_check()?;
                }
                let mut missed = false;
                for row in &rows {
                    match KeyStore::get(&store, row.sealed.subject).await {
                        Ok(w) => match kr.unwrap(row.sealed.subject, &w) {
                            Ok(dk) => {
                                dk.open_row(&row.header(), &row.sealed.ciphertext).unwrap();
                            }
                            Err(_) => return Ok(Some(true)),
                        },
                        Err(StoreError::NotFound { .. } | StoreError::Shredded(_)) => {
                            missed = true;
                        }
                        Err(e) => return Err(e),
                    }
                }
                Ok::<_, StoreError>(if missed { None } else { Some(false) })
            });
            match outcome {
                Err(StoreError::Backend(m)) => {
                    eprintln!("untyped error at byte {at}: {m}");
                    counts.untyped += 1;
                }
                Err(_) => counts.typed_error += 1,
                Ok(Some(true)) => counts.refused_by_aead += 1,
                Ok(Some(false)) => counts.harmless += 1,
                Ok(None) => counts.key_miss += 1,
            }
        }
        eprintln!(
            "{flips} byte flips in the key file ({}): {counts:?}",
            if full {
                "open + integrity_check"
            } else {
                "open"
            }
        );
        assert_eq!(counts.untyped, 0, "untyped errors");
    }
}

#[expect(clippy::too_many_arguments, reason = "test helper")]
fn run_flips(
    dir: &tempfile::TempDir,
    clean: &[u8],
    keys_file: &[u8],
    flips: u64,
    full: bool,
    kr: &Keyring,
    rows: &[(VersionedRecord, SubjectId)],
    heads: &crm_privacy::store::ChainHeads,
    rt: &tokio::runtime::Runtime,
) -> FlipCounts {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut counts = FlipCounts::default();
    let work = dir.path().join("flip.db");
    let work_keys = keys_of(&work);
    for _ in 0..flips {
        let mut bytes = clean.to_vec();
        let at = usize::try_from(rng.next() % bytes.len() as u64).unwrap();
        let mask = u8::try_from(rng.next() % 255).unwrap() + 1;
        bytes[at] ^= mask;
        std::fs::write(&work, &bytes).unwrap();
        std::fs::write(&work_keys, keys_file).unwrap();
        let _ = std::fs::remove_file(dir.path().join("flip.db-wal"));
        let _ = std::fs::remove_file(dir.path().join("flip.db-shm"));
        let outcome = rt.block_on(check_flip(&work, full, kr, rows, heads));
        match outcome {
            Outcome::Typed(StoreError::Backend(m)) => {
                eprintln!("untyped error at byte {at}: {m}");
                counts.untyped += 1;
            }
            Outcome::Typed(_) => counts.typed_error += 1,
            Outcome::Aead => counts.refused_by_aead += 1,
            Outcome::Chain => counts.refused_by_chain += 1,
            Outcome::Silent => counts.silent += 1,
            Outcome::LookupMiss => counts.lookup_miss += 1,
            Outcome::Harmless => counts.harmless += 1,
        }
    }
    counts
}

enum Outcome {
    Typed(StoreError),
    Aead,
    Chain,
    Silent,
    LookupMiss,
    Harmless,
}

async fn check_flip(
    db: &Path,
    full: bool,
    kr: &Keyring,
    rows: &[(VersionedRecord, SubjectId)],
    heads: &crm_privacy::store::ChainHeads,
) -> Outcome {
    let store = match SqliteStore::open(db) {
        Ok(s) => s,
        Err(e) => return Outcome::Typed(e),
    };
    if let Err(e) = store.cross_check() {
        return Outcome::Typed(e);
    }
    if full {
        if let Err(e) = store.integrity_check() {
            return Outcome::Typed(e);
        }
    }
    let mut outcome = Outcome::Harmless;
    // Chains: verified against the stored anchors and the heads the test saw.
    for (chain, want) in [
        (ChainName::Ledger, heads.ledger),
        (ChainName::Audit, heads.audit),
    ] {
        let entries = match store.entries(chain).await {
            Ok(e) => e,
            Err(e) => return Outcome::Typed(e),
        };
        let anchor: Anchor = match store.anchor(chain).await {
            Ok(a) => a,
            Err(e) => return Outcome::Typed(e),
        };
        if chain::verify_anchored(&entries, &anchor).is_err() || anchor != want {
            return Outcome::Chain;
        }
    }
    for (want, subject) in rows {
        let got = match store.get_versioned(want.sealed.record).await {
            Ok(g) => g,
            Err(StoreError::NotFound { .. }) => {
                outcome = Outcome::LookupMiss;
                continue;
            }
            Err(e) => return Outcome::Typed(e),
        };
        let wrapped = match KeyStore::get(&store, *subject).await {
            Ok(w) => w,
            Err(e) => return Outcome::Typed(e),
        };
        let dk = kr.unwrap(*subject, &wrapped).unwrap();
        let dk = if got.sealed.subject == *subject {
            dk
        } else {
            // The subject column changed: the custodian would unwrap the other subject's key.
            match kr.unwrap(got.sealed.subject, &wrapped) {
                Ok(k) => k,
                Err(_) => return Outcome::Aead,
            }
        };
        let header: RowHeader<'_> = got.header();
        match dk.open_row(&header, &got.sealed.ciphertext) {
            Err(_) => return Outcome::Aead,
            Ok(plain) => {
                if got != *want {
                    let _ = plain;
                    return Outcome::Silent;
                }
            }
        }
        // Lookups by subject and by blind index still find the row.
        match store.list_subject_versioned(*subject).await {
            Ok(list) if list.iter().any(|r| r.sealed.record == want.sealed.record) => {}
            Ok(_) => outcome = Outcome::LookupMiss,
            Err(e) => return Outcome::Typed(e),
        }
        if let Some(idx) = want.sealed.blind_index {
            match store.find_by_index_versioned(&idx).await {
                Ok(list) if list.iter().any(|r| r.sealed.record == want.sealed.record) => {}
                Ok(_) => outcome = Outcome::LookupMiss,
                Err(e) => return Outcome::Typed(e),
            }
        }
    }
    outcome
}

#[test]
fn a_full_disk_fails_closed_with_a_typed_error_and_recovers() {
    if let Some((mode, db)) = child_mode() {
        if mode == "fill" {
            let store = match SqliteStore::open(&db) {
                Ok(s) => s,
                Err(e) => {
                    println!("open {e:?}");
                    return;
                }
            };
            let kr = keyring(1, 2);
            rt().block_on(async {
                let s = SubjectId::new_random();
                let (dk, wrapped) = kr.new_data_key(s).unwrap();
                if let Err(e) = KeyStore::put(&store, s, wrapped).await {
                    println!("error {e:?}");
                    return;
                }
                for n in 0_u64.. {
                    let mut row = VersionedRecord {
                        sealed: SealedRecord {
                            record: RecordId::new_random(),
                            subject: s,
                            kind: "note".into(),
                            ciphertext: Vec::new(),
                            blind_index: None,
                            index_version: 1,
                            created_at: micros(Utc::now()),
                            updated_at: micros(Utc::now()),
                        },
                        version: 1,
                    };
                    row.sealed.ciphertext = dk.seal_row(&row.header(), &[7; 2000]).unwrap();
                    let r = store.put_versioned(row).await;
                    if let Err(e) = r {
                        println!("error {e:?}");
                        return;
                    }
                    let expected = store.anchor(ChainName::Audit).await.unwrap();
                    let mut next = expected;
                    let entry = chain::append(&mut next, format!("stored {n}").into_bytes());
                    if let Err(e) = store
                        .append(vec![ChainAppend {
                            chain: ChainName::Audit,
                            expected,
                            entry,
                        }])
                        .await
                    {
                        println!("error {e:?}");
                        return;
                    }
                    println!("ack {}", next.len);
                }
            });
        }
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crm.db");
    SqliteStore::open(&db).unwrap();
    // SIGXFSZ ignored (an ignored signal stays ignored across exec), so a write past the
    // limit fails with EFBIG instead of killing the child. dash counts 512-byte blocks.
    let exe = std::env::current_exe().unwrap();
    let out = Command::new("sh")
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -f 1024; exec \"$0\" \"$@\"")
        .arg(&exe)
        .args([
            "--exact",
            "a_full_disk_fails_closed_with_a_typed_error_and_recovers",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("CRM_FAULT_CHILD", format!("fill:{}", db.display()))
        .stderr(Stdio::null())
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&out.stdout);
    let acked = out
        .lines()
        .filter_map(|l| l.strip_prefix("ack "))
        .filter_map(|n| n.parse::<u64>().ok())
        .max()
        .unwrap_or(0);
    let err = out
        .lines()
        .find_map(|l| l.split_once("error ").map(|(_, e)| e))
        .unwrap_or_else(|| panic!("the child never failed: {out}"));
    assert!(
        err == "DiskFull" || err.starts_with("Unavailable"),
        "untyped disk-full error: {err}"
    );
    assert!(acked > 10, "the limit left room for some writes: {acked}");
    eprintln!("disk full after {acked} acknowledged appends: {err}");
    // Space returns (no limit here): the store opens, nothing acknowledged is lost, the
    // files still witness each other, and writes succeed again.
    let store = SqliteStore::open(&db).unwrap();
    store.cross_check().unwrap();
    rt().block_on(async {
        let a = store.anchor(ChainName::Audit).await.unwrap();
        assert!(
            a.len >= acked,
            "acknowledged appends lost: {} < {acked}",
            a.len
        );
        let entries = store.entries(ChainName::Audit).await.unwrap();
        chain::verify_anchored(&entries, &a).unwrap();
        append(&store, ChainName::Audit, b"after the disk freed up").await;
    });
}
