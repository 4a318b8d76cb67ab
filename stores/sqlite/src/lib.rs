//! SQLite store for `crm-privacy`: the embedded default backend (bundled SQLite, nothing to
//! install).
//!
//! Implements [`RecordStore`], [`ChainStore`] and [`KeyStore`]. Layout:
//!
//! - `<path>`: sealed records, both hash chains and their anchors (WAL mode,
//!   `synchronous = FULL`, so an append that returned survives a crash);
//! - `<path>.keys`: wrapped per-subject data keys, in a **separate file**. Crypto-shredding
//!   (clause 6.2) relies on it: erasure destroys the key here, so a copy of the data file
//!   taken earlier (a backup) has no key to open. Back up the key file on its own, shorter
//!   schedule and rotate the KEK once the backup window has passed: old key-file backups are
//!   then wrapped under a retired KEK. `secure_delete` is on, and the WAL is checkpointed
//!   and truncated after a key is destroyed, so the wrapped key does not linger in free pages.
//!
//! Schema migrations are numbered and recorded in a `schema_version` table.
//!
//! **Rollback evidence.** Each file witnesses the other: the key file keeps a key log (an
//! anchor advanced by every key written or destroyed) and a `witness` table holding the
//! data file's chain heads; the data file's `witness` table holds the key log's anchor. Each
//! write records the other file's heads in its own transaction and then its new heads in
//! the other file, so the witnesses never run ahead of the file they describe.
//! [`SqliteStore::cross_check`] refuses a pair where one file is behind the other's witness
//! (one file restored from an older copy, or its write-ahead log lost) with
//! [`StoreError::RolledBack`], and every write checks the same before it commits, so a
//! rolled-back file is never written on (fail closed).
//!
//! **Opening** refuses an empty, in-memory or URI path ([`StoreError::Misuse`]) and runs
//! `PRAGMA quick_check` on both files ([`StoreError::Corrupt`]). The default
//! [`SqliteStore::open`] is safe for several processes on one file;
//! [`SqliteStore::open_exclusive`] opts into single-process mode and holds an exclusive lock
//! that refuses every other opener ([`StoreError::InUse`]).
//!
//! **Errors** are mapped from SQLite result codes: busy/locked → [`StoreError::Unavailable`],
//! full → [`StoreError::DiskFull`], corrupt/not a database → [`StoreError::Corrupt`].
//!
//! rusqlite is synchronous: each call takes a `Mutex<Connection>` for a short critical
//! section inside the async method. That keeps the crate free of an async runtime; a host on
//! a busy async runtime can wrap calls in its runtime's blocking pool.

mod group;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_privacy::chain::{Anchor, ChainEntry, Checkpoint, Hash};
use crm_privacy::crypto::{CHECK_LEN, KeyCheck, WrappedKey};
use crm_privacy::store::{
    ChainAppend, ChainHeads, ChainName, ChainStore, GroupCommit, KeyStore, RecordMeta, RecordStore,
    SealedRecord, StoreError, VersionedRecord,
};
use crm_privacy::{RecordId, SubjectId};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

/// Migrations of the data file, in order; `schema_version` records how many ran.
const DATA_MIGRATIONS: &[&str] = &[
    "CREATE TABLE records (
        id BLOB PRIMARY KEY NOT NULL,
        subject BLOB NOT NULL,
        kind TEXT NOT NULL,
        ciphertext BLOB NOT NULL,
        blind_index BLOB,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX records_subject ON records(subject);
    CREATE INDEX records_blind_index ON records(blind_index) WHERE blind_index IS NOT NULL;
    CREATE TABLE chain_entries (
        chain TEXT NOT NULL,
        seq INTEGER NOT NULL,
        prev BLOB NOT NULL,
        body BLOB NOT NULL,
        hash BLOB NOT NULL,
        PRIMARY KEY (chain, seq)
    ) WITHOUT ROWID;
    CREATE TABLE chain_anchors (
        chain TEXT PRIMARY KEY NOT NULL,
        len INTEGER NOT NULL,
        head BLOB NOT NULL
    );",
    // 2: record versions (rows written before count as version 1) and the key file's
    // witnessed key-log anchor.
    "ALTER TABLE records ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
    CREATE TABLE witness (
        name TEXT PRIMARY KEY NOT NULL,
        len INTEGER NOT NULL,
        head BLOB NOT NULL
    );",
    // 3: chain checkpoints (issue 18; `group.rs`).
    "CREATE TABLE chain_checkpoints (
        chain TEXT PRIMARY KEY NOT NULL,
        seq INTEGER NOT NULL,
        head BLOB NOT NULL,
        entries INTEGER NOT NULL,
        ledger_entries INTEGER NOT NULL,
        tag BLOB NOT NULL
    );",
    // 4: the blind-index key version of each row (issue 16: blind-index key rotation); rows
    // written before were indexed under the first key, version 1.
    "ALTER TABLE records ADD COLUMN index_version INTEGER NOT NULL DEFAULT 1;
    CREATE INDEX records_index_version ON records(index_version, id) WHERE blind_index IS NOT NULL;",
];

/// Migrations of the key file.
const KEY_MIGRATIONS: &[&str] = &[
    "CREATE TABLE data_keys (
        subject BLOB PRIMARY KEY NOT NULL,
        wrapped BLOB,
        destroyed_at INTEGER
    ) WITHOUT ROWID;",
    // 2: the key log, the witnessed data-file chain heads, key check values (`kek` is the
    // KEK id; -1 holds the blind-index secret's value, -v that of blind-index version v).
    "CREATE TABLE key_log (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        len INTEGER NOT NULL,
        head BLOB NOT NULL
    );
    CREATE TABLE witness (
        name TEXT PRIMARY KEY NOT NULL,
        len INTEGER NOT NULL,
        head BLOB NOT NULL
    );
    CREATE TABLE key_check (
        kek INTEGER PRIMARY KEY NOT NULL,
        value BLOB NOT NULL
    );",
];

/// Maps a SQLite failure to a typed error by its result code (never by its message).
fn backend(e: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode as C;
    if matches!(
        e,
        rusqlite::Error::FromSqlConversionFailure(..)
            | rusqlite::Error::InvalidColumnType(..)
            | rusqlite::Error::IntegralValueOutOfRange(..)
            | rusqlite::Error::Utf8Error(_)
    ) {
        // A stored value of the wrong type or encoding: the row was altered on disk. (The
        // messages of these errors could quote the value; they are dropped.)
        return StoreError::Corrupt {
            what: "column value",
        };
    }
    match e.sqlite_error_code() {
        Some(C::DatabaseBusy | C::DatabaseLocked) => StoreError::Unavailable {
            cause: "database busy",
        },
        Some(C::DiskFull) => StoreError::DiskFull,
        Some(C::DatabaseCorrupt | C::NotADatabase) => StoreError::Corrupt {
            what: "database file",
        },
        // SQLite rolls the transaction back after an I/O error: nothing was written. A
        // failed write is `FULL` only for ENOSPC; a file-size limit (EFBIG) or a quota
        // arrives as IOERR_WRITE, which SQLite does not tell apart from a device error.
        Some(C::SystemIoFailure) => match e {
            rusqlite::Error::SqliteFailure(f, _)
                if f.extended_code == rusqlite::ffi::SQLITE_IOERR_WRITE =>
            {
                StoreError::Unavailable {
                    cause: "write failed (disk full, file size limit or device error)",
                }
            }
            _ => StoreError::Unavailable { cause: "i/o error" },
        },
        Some(C::OutOfMemory) => StoreError::Unavailable {
            cause: "out of memory",
        },
        Some(C::CannotOpen) => StoreError::Backend("cannot open database file".into()),
        Some(C::ReadOnly) => StoreError::Backend("database is read-only".into()),
        // rusqlite messages name SQL and constraint failures, never bound values.
        _ => StoreError::Backend(e.to_string()),
    }
}

/// Whether `path` names a temporary or in-memory database (or a URI that could).
fn is_temporary(path: &Path) -> bool {
    let s = path.as_os_str();
    s.is_empty() || s == ":memory:" || s.to_string_lossy().starts_with("file:")
}

fn lock(m: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Statements that touch every column this crate reads or writes in the data file: one that
/// fails to prepare means the stored schema was altered.
const DATA_PROBES: &[&str] = &[
    "SELECT id, subject, kind, ciphertext, blind_index, created_at, updated_at, version, index_version FROM records LIMIT 0",
    "SELECT chain, seq, prev, body, hash FROM chain_entries LIMIT 0",
    "SELECT chain, len, head FROM chain_anchors LIMIT 0",
    "SELECT name, len, head FROM witness LIMIT 0",
    "SELECT chain, seq, head, entries, ledger_entries, tag FROM chain_checkpoints LIMIT 0",
];

/// The same for the key file.
const KEY_PROBES: &[&str] = &[
    "SELECT subject, wrapped, destroyed_at FROM data_keys LIMIT 0",
    "SELECT id, len, head FROM key_log LIMIT 0",
    "SELECT name, len, head FROM witness LIMIT 0",
    "SELECT kek, value FROM key_check LIMIT 0",
];

fn probe_schema(conn: &Connection, probes: &[&str]) -> Result<(), StoreError> {
    for p in probes {
        conn.prepare(p).map_err(|e| match backend(e) {
            StoreError::Backend(_) => StoreError::Corrupt {
                what: "database schema",
            },
            other => other,
        })?;
    }
    Ok(())
}

/// The first reads of a file: an error SQLite gives no specific code for (an unsupported
/// file format in an altered header, for one) means the file cannot be read as a database.
fn unreadable(e: StoreError) -> StoreError {
    match e {
        StoreError::Backend(_) => StoreError::Corrupt {
            what: "database file",
        },
        other => other,
    }
}

fn open_db(
    path: &Path,
    migrations: &[&str],
    probes: &[&str],
    exclusive: bool,
) -> Result<Connection, StoreError> {
    if is_temporary(path) {
        return Err(StoreError::Misuse {
            what: "empty, in-memory or URI database path (data would not persist)",
        });
    }
    let mut conn = Connection::open(path).map_err(backend)?;
    if exclusive {
        // Before the first access, so WAL keeps its index in heap memory and the lock is
        // held from the first transaction until the connection closes.
        conn.execute_batch("PRAGMA locking_mode = EXCLUSIVE; PRAGMA busy_timeout = 0;")
            .map_err(backend)?;
        conn.execute_batch("BEGIN EXCLUSIVE; COMMIT;")
            .map_err(|e| match backend(e) {
                StoreError::Unavailable { .. } => StoreError::InUse,
                other => other,
            })?;
    }
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA secure_delete = ON;
         PRAGMA busy_timeout = 5000;",
    )
    .map_err(|e| match backend(e) {
        StoreError::Unavailable { .. } if exclusive => StoreError::InUse,
        other => unreadable(other),
    })?;
    // Pages that fail SQLite's structural check are refused before any use.
    let check: String = conn
        .query_row("PRAGMA quick_check(1)", [], |r| r.get(0))
        .map_err(|e| unreadable(backend(e)))?;
    if check != "ok" {
        return Err(StoreError::Corrupt {
            what: "database file",
        });
    }
    conn.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);")
        .map_err(backend)?;
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(backend)?;
    let current: i64 = tx
        .query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_version",
            [],
            |r| r.get(0),
        )
        // An altered schema record (a flipped byte in `sqlite_master`) is corruption.
        .map_err(|e| unreadable(backend(e)))?;
    let current = usize::try_from(current).map_err(|_| StoreError::Corrupt {
        what: "schema version",
    })?;
    if current > migrations.len() {
        return Err(StoreError::Backend(format!(
            "database schema {current} is newer than this library ({})",
            migrations.len()
        )));
    }
    for (i, m) in migrations.iter().enumerate().skip(current) {
        tx.execute_batch(m).map_err(backend)?;
        tx.execute(
            "INSERT INTO schema_version (version) VALUES (?1)",
            [i64::try_from(i + 1).unwrap_or(i64::MAX)],
        )
        .map_err(backend)?;
    }
    tx.commit().map_err(backend)?;
    probe_schema(&conn, probes)?;
    Ok(conn)
}

fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

fn from_micros(v: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_micros(v).ok_or(StoreError::Corrupt { what: "timestamp" })
}

fn id16(b: Vec<u8>, what: &'static str) -> Result<[u8; 16], StoreError> {
    b.try_into().map_err(|_| StoreError::Corrupt { what })
}

fn hash32(b: Vec<u8>, what: &'static str) -> Result<Hash, StoreError> {
    b.try_into().map_err(|_| StoreError::Corrupt { what })
}

/// The SQLite store. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct SqliteStore {
    data: Mutex<Connection>,
    keys: Mutex<Connection>,
    path: PathBuf,
    exclusive: bool,
    /// Concurrent appends share one transaction and one fsync (`group.rs`).
    group: GroupCommit,
}

impl SqliteStore {
    /// Opens (creating and migrating as needed) the store at `path` and its key file
    /// `<path>.keys`.
    ///
    /// Safe for several processes on the same files (each transaction takes SQLite's file
    /// locks; nothing is cached between calls).
    ///
    /// # Errors
    /// [`StoreError::Misuse`] for an empty, `:memory:` or `file:` URI path (a temporary
    /// database would lose everything on reopen); [`StoreError::Corrupt`] if a file fails
    /// `PRAGMA quick_check`; [`StoreError::Unavailable`] if a file stays locked;
    /// [`StoreError::Backend`] if a file cannot be opened or migrated.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let mut keys_path = path.clone().into_os_string();
        keys_path.push(".keys");
        Self::open_with_key_file(&path, Path::new(&keys_path))
    }

    /// Opens the data file and the key file at explicit paths (for example, keys on another
    /// volume with its own backup schedule).
    ///
    /// # Errors
    /// As [`open`](Self::open).
    pub fn open_with_key_file(data: &Path, keys: &Path) -> Result<Self, StoreError> {
        Self::open_files(data, keys, false)
    }

    /// Opens the store at `path` (and `<path>.keys`) for **this process alone**: both files
    /// are locked exclusively until the store is dropped, and every other opener, in this or
    /// another process, is refused. Choose it only when one process owns the files; the
    /// custodian may then skip catching up with the ledger before reads.
    ///
    /// # Errors
    /// [`StoreError::InUse`] if another connection has either file open; otherwise as
    /// [`open`](Self::open).
    pub fn open_exclusive(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let mut keys_path = path.clone().into_os_string();
        keys_path.push(".keys");
        Self::open_files(&path, Path::new(&keys_path), true)
    }

    /// [`open_exclusive`](Self::open_exclusive) with an explicit key file path.
    ///
    /// # Errors
    /// As [`open_exclusive`](Self::open_exclusive).
    pub fn open_exclusive_with_key_file(data: &Path, keys: &Path) -> Result<Self, StoreError> {
        Self::open_files(data, keys, true)
    }

    fn open_files(data: &Path, keys: &Path, exclusive: bool) -> Result<Self, StoreError> {
        if data == keys {
            return Err(StoreError::Misuse {
                what: "the key file must differ from the data file",
            });
        }
        Ok(Self {
            data: Mutex::new(open_db(data, DATA_MIGRATIONS, DATA_PROBES, exclusive)?),
            keys: Mutex::new(open_db(keys, KEY_MIGRATIONS, KEY_PROBES, exclusive)?),
            path: data.to_path_buf(),
            exclusive,
            group: GroupCommit::new(),
        })
    }

    /// Whether this store was opened with [`open_exclusive`](Self::open_exclusive).
    #[must_use]
    pub const fn is_exclusive(&self) -> bool {
        self.exclusive
    }

    /// Runs SQLite's full `PRAGMA integrity_check` on both files. Beyond the `quick_check`
    /// of every open, it checks that each index agrees with its table, so an altered index
    /// page (a lookup by blind index or by subject that would silently miss a row) is
    /// caught. It reads everything: about 1.9 s per 400 000 records on the CI machine, so
    /// run it at build when start-up time allows, or on a schedule.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] if either file fails; backend failures.
    pub fn integrity_check(&self) -> Result<(), StoreError> {
        for conn in [&self.data, &self.keys] {
            let r: String = lock(conn)
                .query_row("PRAGMA integrity_check(1)", [], |r| r.get(0))
                .map_err(backend)?;
            if r != "ok" {
                return Err(StoreError::Corrupt {
                    what: "database file",
                });
            }
        }
        Ok(())
    }

    /// Checks that neither file is behind what the other witnessed: the data file's chains
    /// reach the heads recorded in the key file (each at least as long, passing through the
    /// recorded head), and the key log reaches the anchor recorded in the data file. Call
    /// it at build, before serving.
    ///
    /// # Errors
    /// [`StoreError::RolledBack`] naming the file that is behind (`data file` or
    /// `key file`); backend failures.
    pub fn cross_check(&self) -> Result<(), StoreError> {
        let data = lock(&self.data);
        let keys = lock(&self.keys);
        for chain in [ChainName::Ledger, ChainName::Audit] {
            let Some(w) = read_witness(&keys, chain.as_str())? else {
                continue;
            };
            let Some(last) = w.len.checked_sub(1) else {
                continue;
            };
            let at = read_entries_range(&data, chain, last, Some(1))?;
            match at.first() {
                Some(e) if e.seq == last && e.hash == w.head => {}
                _ => return Err(StoreError::RolledBack { what: "data file" }),
            }
        }
        if let Some(w) = read_witness(&data, "keys")? {
            let actual = read_key_log(&keys)?;
            if actual.len < w.len || (actual.len == w.len && actual.head != w.head) {
                return Err(StoreError::RolledBack { what: "key file" });
            }
        }
        Ok(())
    }

    /// The data file's path.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Checkpoints the WAL into the data file (for backups and inspection).
    ///
    /// # Errors
    /// Backend failures.
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        lock(&self.data)
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
            .map_err(backend)?;
        lock(&self.keys)
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
            .map_err(backend)
    }
}

fn row_to_record(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawRecord> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
    ))
}

type RawRecord = (
    Vec<u8>,
    Vec<u8>,
    String,
    Vec<u8>,
    Option<Vec<u8>>,
    i64,
    i64,
    i64,
    i64,
);

fn to_record(raw: RawRecord) -> Result<VersionedRecord, StoreError> {
    let (id, subject, kind, ciphertext, index, created, updated, version, index_version) = raw;
    Ok(VersionedRecord {
        sealed: SealedRecord {
            record: RecordId::from_bytes(id16(id, "record id")?),
            subject: SubjectId::from_bytes(id16(subject, "subject id")?),
            kind,
            ciphertext,
            blind_index: index.map(|b| hash32(b, "blind index")).transpose()?,
            index_version: u32::try_from(index_version).map_err(|_| StoreError::Corrupt {
                what: "blind-index version",
            })?,
            created_at: from_micros(created)?,
            updated_at: from_micros(updated)?,
        },
        version: u64::try_from(version).map_err(|_| StoreError::Corrupt {
            what: "record version",
        })?,
    })
}

const RECORD_COLUMNS: &str =
    "id, subject, kind, ciphertext, blind_index, created_at, updated_at, version, index_version";

/// Every column but `version`, from `excluded` (the row being upserted).
const UPSERT_SET: &str = "subject = excluded.subject, kind = excluded.kind,
    ciphertext = excluded.ciphertext, blind_index = excluded.blind_index,
    index_version = excluded.index_version,
    created_at = excluded.created_at, updated_at = excluded.updated_at";

fn query_records(
    conn: &Connection,
    sql: &str,
    p: impl rusqlite::Params,
) -> Result<Vec<VersionedRecord>, StoreError> {
    let mut stmt = conn.prepare_cached(sql).map_err(backend)?;
    let rows = stmt.query_map(p, row_to_record).map_err(backend)?;
    rows.map(|r| r.map_err(backend).and_then(to_record))
        .collect()
}

fn unversioned(rows: Vec<VersionedRecord>) -> Vec<SealedRecord> {
    rows.into_iter().map(|r| r.sealed).collect()
}

fn version_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl SqliteStore {
    fn get_row(&self, record: RecordId) -> Result<VersionedRecord, StoreError> {
        let conn = lock(&self.data);
        let raw = conn
            .prepare_cached(&format!(
                "SELECT {RECORD_COLUMNS} FROM records WHERE id = ?1"
            ))
            .and_then(|mut s| {
                s.query_row([record.to_bytes().as_slice()], row_to_record)
                    .optional()
            })
            .map_err(backend)?;
        raw.map(to_record)
            .transpose()?
            .ok_or_else(|| StoreError::NotFound {
                what: "record",
                id: record.to_string(),
            })
    }

    fn by_subject(&self, subject: SubjectId) -> Result<Vec<VersionedRecord>, StoreError> {
        query_records(
            &lock(&self.data),
            &format!("SELECT {RECORD_COLUMNS} FROM records WHERE subject = ?1 ORDER BY id"),
            [subject.to_bytes().as_slice()],
        )
    }

    fn by_index(&self, index: &[u8; 32]) -> Result<Vec<VersionedRecord>, StoreError> {
        query_records(
            &lock(&self.data),
            &format!("SELECT {RECORD_COLUMNS} FROM records WHERE blind_index = ?1 ORDER BY id"),
            [index.as_slice()],
        )
    }
}

#[async_trait]
impl RecordStore for SqliteStore {
    fn transport(&self) -> crm_privacy::store::Transport {
        crm_privacy::store::Transport::InProcess
    }
    async fn put(&self, r: SealedRecord) -> Result<(), StoreError> {
        lock(&self.data)
            .prepare_cached(&format!(
                "INSERT INTO records ({RECORD_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1, ?8)
                 ON CONFLICT(id) DO UPDATE SET {UPSERT_SET}, version = records.version + 1"
            ))
            .and_then(|mut s| {
                s.execute(params![
                    r.record.to_bytes().as_slice(),
                    r.subject.to_bytes().as_slice(),
                    r.kind,
                    r.ciphertext,
                    r.blind_index.as_ref().map(|b| b.as_slice()),
                    micros(r.created_at),
                    micros(r.updated_at),
                    i64::from(r.index_version)
                ])
            })
            .map_err(backend)?;
        Ok(())
    }

    async fn put_versioned(&self, row: VersionedRecord) -> Result<(), StoreError> {
        let mut conn = lock(&self.data);
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(backend)?;
        let r = &row.sealed;
        let id = r.record.to_bytes();
        let changed = tx
            .prepare_cached(&format!(
                "INSERT INTO records ({RECORD_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT(id) DO UPDATE SET {UPSERT_SET}, version = excluded.version
                 WHERE records.version < excluded.version"
            ))
            .and_then(|mut s| {
                s.execute(params![
                    id.as_slice(),
                    r.subject.to_bytes().as_slice(),
                    r.kind,
                    r.ciphertext,
                    r.blind_index.as_ref().map(|b| b.as_slice()),
                    micros(r.created_at),
                    micros(r.updated_at),
                    version_i64(row.version),
                    i64::from(r.index_version)
                ])
            })
            .map_err(backend)?;
        if changed == 0 {
            // Not written: an identical retry is fine, anything else is stale.
            let same: bool = tx
                .query_row(
                    "SELECT version = ?2 AND ciphertext = ?3 FROM records WHERE id = ?1",
                    params![id.as_slice(), version_i64(row.version), r.ciphertext],
                    |q| q.get(0),
                )
                .optional()
                .map_err(backend)?
                .unwrap_or(false);
            if !same {
                return Err(StoreError::StaleVersion { record: r.record });
            }
        }
        tx.commit().map_err(backend)
    }

    async fn get(&self, record: RecordId) -> Result<SealedRecord, StoreError> {
        self.get_row(record).map(|r| r.sealed)
    }

    async fn get_versioned(&self, record: RecordId) -> Result<VersionedRecord, StoreError> {
        self.get_row(record)
    }

    async fn list_subject(&self, subject: SubjectId) -> Result<Vec<SealedRecord>, StoreError> {
        self.by_subject(subject).map(unversioned)
    }

    async fn list_subject_versioned(
        &self,
        subject: SubjectId,
    ) -> Result<Vec<VersionedRecord>, StoreError> {
        self.by_subject(subject)
    }

    async fn find_by_index(&self, index: &[u8; 32]) -> Result<Vec<SealedRecord>, StoreError> {
        self.by_index(index).map(unversioned)
    }

    async fn find_by_index_versioned(
        &self,
        index: &[u8; 32],
    ) -> Result<Vec<VersionedRecord>, StoreError> {
        self.by_index(index)
    }

    async fn delete(&self, record: RecordId) -> Result<bool, StoreError> {
        let n = lock(&self.data)
            .execute(
                "DELETE FROM records WHERE id = ?1",
                [record.to_bytes().as_slice()],
            )
            .map_err(backend)?;
        Ok(n > 0)
    }

    async fn delete_subject(&self, subject: SubjectId) -> Result<u64, StoreError> {
        let n = lock(&self.data)
            .execute(
                "DELETE FROM records WHERE subject = ?1",
                [subject.to_bytes().as_slice()],
            )
            .map_err(backend)?;
        Ok(n as u64)
    }

    async fn indexed_below(
        &self,
        version: u32,
        after: Option<RecordId>,
        limit: usize,
    ) -> Result<Vec<VersionedRecord>, StoreError> {
        let after = after.map(|a| a.to_bytes().to_vec()).unwrap_or_default();
        query_records(
            &lock(&self.data),
            &format!(
                "SELECT {RECORD_COLUMNS} FROM records
                 WHERE blind_index IS NOT NULL AND index_version < ?1 AND id > ?2
                 ORDER BY id LIMIT ?3"
            ),
            params![
                i64::from(version),
                after,
                i64::try_from(limit).unwrap_or(i64::MAX)
            ],
        )
    }

    async fn count_indexed_below(&self, version: u32) -> Result<u64, StoreError> {
        let n: i64 = lock(&self.data)
            .query_row(
                "SELECT COUNT(*) FROM records WHERE blind_index IS NOT NULL AND index_version < ?1",
                [i64::from(version)],
                |r| r.get(0),
            )
            .map_err(backend)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn replace_versioned(
        &self,
        row: VersionedRecord,
        expected: u64,
    ) -> Result<bool, StoreError> {
        if row.version <= expected {
            return Err(StoreError::Misuse {
                what: "a replacement must raise the record version",
            });
        }
        let r = &row.sealed;
        let n = lock(&self.data)
            .prepare_cached(
                "UPDATE records SET subject = ?2, kind = ?3, ciphertext = ?4, blind_index = ?5,
                 created_at = ?6, updated_at = ?7, version = ?8, index_version = ?9
                 WHERE id = ?1 AND version = ?10",
            )
            .and_then(|mut s| {
                s.execute(params![
                    r.record.to_bytes().as_slice(),
                    r.subject.to_bytes().as_slice(),
                    r.kind,
                    r.ciphertext,
                    r.blind_index.as_ref().map(|b| b.as_slice()),
                    micros(r.created_at),
                    micros(r.updated_at),
                    version_i64(row.version),
                    i64::from(r.index_version),
                    version_i64(expected)
                ])
            })
            .map_err(backend)?;
        Ok(n > 0)
    }

    async fn metadata_page(
        &self,
        after: Option<RecordId>,
        limit: usize,
    ) -> Result<Vec<RecordMeta>, StoreError> {
        let conn = lock(&self.data);
        let mut stmt = conn
            .prepare_cached("SELECT id, subject, kind, created_at, updated_at FROM records WHERE id > ?1 ORDER BY id LIMIT ?2")
            .map_err(backend)?;
        let after = after.map(|a| a.to_bytes().to_vec()).unwrap_or_default();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt
            .query_map(params![after, limit], |r| {
                Ok((
                    r.get::<_, Vec<u8>>(0)?,
                    r.get::<_, Vec<u8>>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, i64>(4)?,
                ))
            })
            .map_err(backend)?;
        rows.map(|r| {
            let (id, subject, kind, c, u) = r.map_err(backend)?;
            Ok(RecordMeta {
                record: RecordId::from_bytes(id16(id, "record id")?),
                subject: SubjectId::from_bytes(id16(subject, "subject id")?),
                kind,
                created_at: from_micros(c)?,
                updated_at: from_micros(u)?,
            })
        })
        .collect()
    }
}

fn read_anchor(conn: &Connection, chain: ChainName) -> Result<Anchor, StoreError> {
    let row: Option<(i64, Vec<u8>)> = conn
        .prepare_cached("SELECT len, head FROM chain_anchors WHERE chain = ?1")
        .and_then(|mut s| {
            s.query_row([chain.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
        })
        .map_err(backend)?;
    match row {
        None => Ok(Anchor::default()),
        Some((len, head)) => Ok(Anchor {
            len: u64::try_from(len).map_err(|_| StoreError::Corrupt {
                what: "chain anchor",
            })?,
            head: hash32(head, "chain anchor")?,
        }),
    }
}

fn read_entries(
    conn: &Connection,
    chain: ChainName,
    from: u64,
) -> Result<Vec<ChainEntry>, StoreError> {
    read_entries_range(conn, chain, from, None)
}

fn read_entries_range(
    conn: &Connection,
    chain: ChainName,
    from: u64,
    limit: Option<u64>,
) -> Result<Vec<ChainEntry>, StoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT seq, prev, body, hash FROM chain_entries WHERE chain = ?1 AND seq >= ?2 ORDER BY seq LIMIT ?3")
        .map_err(backend)?;
    let from = i64::try_from(from).unwrap_or(i64::MAX);
    let limit = limit.map_or(-1, |l| i64::try_from(l).unwrap_or(i64::MAX));
    let rows = stmt
        .query_map(params![chain.as_str(), from, limit], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, Vec<u8>>(2)?,
                r.get::<_, Vec<u8>>(3)?,
            ))
        })
        .map_err(backend)?;
    rows.map(|r| {
        let (seq, prev, body, hash) = r.map_err(backend)?;
        Ok(ChainEntry {
            seq: u64::try_from(seq).map_err(|_| StoreError::Corrupt {
                what: "chain entry",
            })?,
            prev: hash32(prev, "chain entry")?,
            body,
            hash: hash32(hash, "chain entry")?,
        })
    })
    .collect()
}

/// Whether every entry of `appends` is already stored at its position with its hash.
fn already_stored(conn: &Connection, appends: &[ChainAppend]) -> Result<bool, StoreError> {
    for a in appends {
        let stored = read_entries_range(conn, a.chain, a.entry.seq, Some(1))?;
        if stored
            .first()
            .is_none_or(|e| e.seq != a.entry.seq || e.hash != a.entry.hash)
        {
            return Ok(false);
        }
    }
    Ok(!appends.is_empty())
}

fn to_anchor(
    row: Option<(i64, Vec<u8>)>,
    what: &'static str,
) -> Result<Option<Anchor>, StoreError> {
    row.map(|(len, head)| {
        Ok(Anchor {
            len: u64::try_from(len).map_err(|_| StoreError::Corrupt { what })?,
            head: hash32(head, what)?,
        })
    })
    .transpose()
}

/// What this file recorded of the other file's heads under `name` (`ledger`, `audit` in
/// the key file; `keys` in the data file).
fn read_witness(conn: &Connection, name: &str) -> Result<Option<Anchor>, StoreError> {
    let row = conn
        .prepare_cached("SELECT len, head FROM witness WHERE name = ?1")
        .and_then(|mut s| {
            s.query_row([name], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
        })
        .map_err(backend)?;
    to_anchor(row, "witness")
}

/// Records `anchor` under `name`, keeping the longest seen (concurrent writers may report
/// out of order).
fn write_witness(conn: &Connection, name: &str, anchor: Anchor) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO witness (name, len, head) VALUES (?1, ?2, ?3)
         ON CONFLICT(name) DO UPDATE SET len = excluded.len, head = excluded.head
         WHERE excluded.len > witness.len",
    )
    .and_then(|mut s| {
        s.execute(params![
            name,
            i64::try_from(anchor.len).unwrap_or(i64::MAX),
            anchor.head.as_slice()
        ])
    })
    .map_err(backend)?;
    Ok(())
}

fn read_key_log(conn: &Connection) -> Result<Anchor, StoreError> {
    let row = conn
        .prepare_cached("SELECT len, head FROM key_log WHERE id = 1")
        .and_then(|mut s| s.query_row([], |r| Ok((r.get(0)?, r.get(1)?))).optional())
        .map_err(backend)?;
    Ok(to_anchor(row, "key log")?.unwrap_or_default())
}

/// Advances the key log by one change (`op` 1 = key written, 2 = destroyed), unless it is
/// behind what the data file witnessed (the key file was rolled back: fail closed).
fn bump_key_log(
    conn: &Connection,
    witnessed: Option<Anchor>,
    op: u8,
    subject: SubjectId,
    wrapped: &[u8],
) -> Result<Anchor, StoreError> {
    let mut anchor = read_key_log(conn)?;
    if let Some(w) = witnessed {
        if anchor.len < w.len || (anchor.len == w.len && anchor.head != w.head) {
            return Err(StoreError::RolledBack { what: "key file" });
        }
    }
    let mut body = Vec::with_capacity(17 + wrapped.len());
    body.push(op);
    body.extend_from_slice(&subject.to_bytes());
    body.extend_from_slice(wrapped);
    let _ = crm_privacy::chain::append(&mut anchor, body);
    conn.prepare_cached(
        "INSERT INTO key_log (id, len, head) VALUES (1, ?1, ?2)
         ON CONFLICT(id) DO UPDATE SET len = excluded.len, head = excluded.head",
    )
    .and_then(|mut s| {
        s.execute(params![
            i64::try_from(anchor.len).unwrap_or(i64::MAX),
            anchor.head.as_slice()
        ])
    })
    .map_err(backend)?;
    Ok(anchor)
}

#[async_trait]
impl ChainStore for SqliteStore {
    fn transport(&self) -> crm_privacy::store::Transport {
        crm_privacy::store::Transport::InProcess
    }
    async fn cross_check(&self) -> Result<(), StoreError> {
        SqliteStore::cross_check(self)
    }
    fn is_exclusive(&self) -> bool {
        SqliteStore::is_exclusive(self)
    }
    async fn append(&self, appends: Vec<ChainAppend>) -> Result<(), StoreError> {
        let mut conn = lock(&self.data);
        // IMMEDIATE takes the write lock up front, so the anchor check and the inserts are
        // one serializable step; the commit is durable (WAL + synchronous=FULL) on return.
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(backend)?;
        let mut heads: Vec<(ChainName, Anchor)> = Vec::new();
        for a in &appends {
            let current = match heads.iter().find(|(c, _)| *c == a.chain) {
                Some((_, h)) => *h,
                None => read_anchor(&tx, a.chain)?,
            };
            if current != a.expected || a.entry.seq != current.len || a.entry.prev != current.head {
                // A retry of appends that already committed succeeds without writing.
                if already_stored(&tx, &appends)? {
                    return Ok(());
                }
                return Err(StoreError::Conflict(a.chain));
            }
            group::insert_entry(&tx, a.chain, &a.entry)?;
            let next = Anchor {
                len: current.len + 1,
                head: a.entry.hash,
            };
            heads.retain(|(c, _)| *c != a.chain);
            heads.push((a.chain, next));
        }
        // The key file's heads, witnessed in this transaction; and what the key file
        // witnessed of this file: a chain that does not pass through it was rolled back,
        // and is not written on (fail closed).
        self.finish_chain_tx(&tx, &heads)?;
        tx.commit().map_err(backend)?;
        drop(conn);
        self.witness_data_heads(&heads);
        Ok(())
    }

    /// Group commit: see `group.rs`.
    async fn append_bodies(
        &self,
        bodies: Vec<(ChainName, Vec<u8>)>,
    ) -> Result<Vec<ChainEntry>, StoreError> {
        self.group
            .run(bodies, |batch| std::future::ready(self.commit_group(batch)))
            .await
    }

    async fn entries(&self, chain: ChainName) -> Result<Vec<ChainEntry>, StoreError> {
        read_entries(&lock(&self.data), chain, 0)
    }

    async fn entries_range(
        &self,
        chain: ChainName,
        from: u64,
        limit: usize,
    ) -> Result<Vec<ChainEntry>, StoreError> {
        let limit = u64::try_from(limit).unwrap_or(u64::MAX);
        read_entries_range(&lock(&self.data), chain, from, Some(limit))
    }

    async fn checkpoint(&self, chain: ChainName) -> Result<Option<Checkpoint>, StoreError> {
        self.read_checkpoint(chain)
    }

    async fn put_checkpoint(
        &self,
        chain: ChainName,
        checkpoint: &Checkpoint,
    ) -> Result<(), StoreError> {
        self.write_checkpoint(chain, checkpoint)
    }

    async fn prune(&self, chain: ChainName, before: u64) -> Result<u64, StoreError> {
        self.prune_chain(chain, before)
    }

    async fn entries_from(
        &self,
        chain: ChainName,
        from: u64,
    ) -> Result<Vec<ChainEntry>, StoreError> {
        read_entries(&lock(&self.data), chain, from)
    }

    async fn anchor(&self, chain: ChainName) -> Result<Anchor, StoreError> {
        read_anchor(&lock(&self.data), chain)
    }

    async fn heads(&self) -> Result<ChainHeads, StoreError> {
        let data = lock(&self.data);
        let ledger = read_anchor(&data, ChainName::Ledger)?;
        let audit = read_anchor(&data, ChainName::Audit)?;
        let keys = read_key_log(&lock(&self.keys))?;
        Ok(ChainHeads {
            ledger,
            audit,
            keys: Some(keys),
        })
    }
}

/// The data file's two chain heads.
type DataHeads = [(ChainName, Anchor); 2];

impl SqliteStore {
    /// Records the data file's new chain heads in the key file, after they committed. A
    /// failure here leaves the witness behind, which [`cross_check`](Self::cross_check)
    /// tolerates (the next write catches it up); it never runs ahead.
    ///
    /// Committed with `synchronous = NORMAL` (no fsync of its own; the key file's next
    /// `FULL` commit syncs it): a witness lost to a power cut only lags, which is tolerated,
    /// and the group commit pays one fsync per batch instead of two (issue 18).
    fn witness_data_heads(&self, heads: &[(ChainName, Anchor)]) {
        let mut keys = lock(&self.keys);
        if keys.execute_batch("PRAGMA synchronous = NORMAL;").is_err() {
            return;
        }
        if let Ok(tx) = keys.transaction_with_behavior(TransactionBehavior::Immediate) {
            if heads
                .iter()
                .all(|(chain, anchor)| write_witness(&tx, chain.as_str(), *anchor).is_ok())
            {
                let _ = tx.commit();
            }
        }
        let _ = keys.execute_batch("PRAGMA synchronous = FULL;");
    }

    /// Records the key log's new anchor in the data file, after it committed (as
    /// [`witness_data_heads`](Self::witness_data_heads), the other way round).
    fn witness_key_log(&self, anchor: Anchor) {
        let _ = write_witness(&lock(&self.data), "keys", anchor);
    }

    /// The data file's chain heads, read before a key-file transaction witnesses them (the
    /// data lock is never taken while the key lock is held: data, then keys, is the order).
    fn data_heads(&self) -> Result<(DataHeads, Option<Anchor>), StoreError> {
        let data = lock(&self.data);
        Ok((
            [
                (ChainName::Ledger, read_anchor(&data, ChainName::Ledger)?),
                (ChainName::Audit, read_anchor(&data, ChainName::Audit)?),
            ],
            read_witness(&data, "keys")?,
        ))
    }
}

#[async_trait]
impl KeyStore for SqliteStore {
    fn transport(&self) -> crm_privacy::store::Transport {
        crm_privacy::store::Transport::InProcess
    }
    async fn put(&self, subject: SubjectId, key: WrappedKey) -> Result<(), StoreError> {
        let (data_heads, witnessed) = self.data_heads()?;
        let mut conn = lock(&self.keys);
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(backend)?;
        let destroyed: Option<Option<i64>> = tx
            .query_row(
                "SELECT destroyed_at FROM data_keys WHERE subject = ?1",
                [subject.to_bytes().as_slice()],
                |r| r.get(0),
            )
            .optional()
            .map_err(backend)?;
        if matches!(destroyed, Some(Some(_))) {
            return Err(StoreError::Shredded(subject));
        }
        tx.execute(
            "INSERT INTO data_keys (subject, wrapped, destroyed_at) VALUES (?1, ?2, NULL)
             ON CONFLICT(subject) DO UPDATE SET wrapped = excluded.wrapped",
            params![subject.to_bytes().as_slice(), key.as_bytes()],
        )
        .map_err(backend)?;
        let log = bump_key_log(&tx, witnessed, 1, subject, key.as_bytes())?;
        for (chain, anchor) in data_heads {
            write_witness(&tx, chain.as_str(), anchor)?;
        }
        tx.commit().map_err(backend)?;
        drop(conn);
        self.witness_key_log(log);
        Ok(())
    }

    async fn get(&self, subject: SubjectId) -> Result<WrappedKey, StoreError> {
        let row: Option<(Option<Vec<u8>>, Option<i64>)> = lock(&self.keys)
            .prepare_cached("SELECT wrapped, destroyed_at FROM data_keys WHERE subject = ?1")
            .and_then(|mut s| {
                s.query_row([subject.to_bytes().as_slice()], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()
            })
            .map_err(backend)?;
        match row {
            None => Err(StoreError::NotFound {
                what: "key",
                id: subject.to_string(),
            }),
            // Destruction clears the wrapped key in the same statement: a row with both is
            // altered, not destroyed.
            Some((Some(_), Some(_))) => Err(StoreError::Corrupt { what: "data key" }),
            Some((None, Some(_))) => Err(StoreError::Shredded(subject)),
            Some((Some(w), None)) => Ok(WrappedKey::from_bytes(w)),
            Some((None, None)) => Err(StoreError::Corrupt { what: "data key" }),
        }
    }

    async fn delete(&self, subject: SubjectId) -> Result<(), StoreError> {
        let (data_heads, witnessed) = self.data_heads()?;
        let mut conn = lock(&self.keys);
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(backend)?;
        tx.execute(
            "INSERT INTO data_keys (subject, wrapped, destroyed_at) VALUES (?1, NULL, ?2)
             ON CONFLICT(subject) DO UPDATE SET wrapped = NULL, destroyed_at = excluded.destroyed_at",
            params![subject.to_bytes().as_slice(), micros(Utc::now())],
        )
        .map_err(backend)?;
        let log = bump_key_log(&tx, witnessed, 2, subject, &[])?;
        for (chain, anchor) in data_heads {
            write_witness(&tx, chain.as_str(), anchor)?;
        }
        tx.commit().map_err(backend)?;
        // secure_delete zeroes the freed cells; checkpointing and truncating the WAL removes
        // the last page image that still held the wrapped key.
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
            .map_err(backend)?;
        drop(conn);
        self.witness_key_log(log);
        Ok(())
    }

    async fn subjects(&self) -> Result<Vec<SubjectId>, StoreError> {
        let conn = lock(&self.keys);
        let mut stmt = conn
            .prepare_cached(
                "SELECT subject FROM data_keys WHERE destroyed_at IS NULL ORDER BY subject",
            )
            .map_err(backend)?;
        let rows = stmt
            .query_map([], |r| r.get::<_, Vec<u8>>(0))
            .map_err(backend)?;
        rows.map(|r| {
            Ok(SubjectId::from_bytes(id16(
                r.map_err(backend)?,
                "subject id",
            )?))
        })
        .collect()
    }

    async fn check_values(&self) -> Result<Option<KeyCheck>, StoreError> {
        read_check_values(&lock(&self.keys))
    }

    async fn set_check_values_if_absent(&self, values: &KeyCheck) -> Result<KeyCheck, StoreError> {
        let mut conn = lock(&self.keys);
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(backend)?;
        // Blind-index versions are stored as negative ids: -1 the first, -v version v.
        let index = values.index.iter().map(|v| (-1_i64, v)).chain(
            values
                .index_rotations
                .iter()
                .map(|(k, v)| (-i64::from(*k), v)),
        );
        for (kek, value) in values
            .keks
            .iter()
            .map(|(k, v)| (i64::from(*k), v))
            .chain(index)
        {
            tx.execute(
                "INSERT INTO key_check (kek, value) VALUES (?1, ?2) ON CONFLICT(kek) DO NOTHING",
                params![kek, value.as_slice()],
            )
            .map_err(backend)?;
        }
        let stored = read_check_values(&tx)?.unwrap_or_default();
        tx.commit().map_err(backend)?;
        Ok(stored)
    }
}

fn read_check_values(conn: &Connection) -> Result<Option<KeyCheck>, StoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT kek, value FROM key_check ORDER BY kek")
        .map_err(backend)?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)))
        .map_err(backend)?;
    let mut out = KeyCheck::default();
    let mut any = false;
    for r in rows {
        let (kek, value) = r.map_err(backend)?;
        let value: [u8; CHECK_LEN] = value.try_into().map_err(|_| StoreError::Corrupt {
            what: "key check value",
        })?;
        any = true;
        if kek == -1 {
            out.index = Some(value);
        } else if kek < -1 {
            let version = kek
                .checked_neg()
                .and_then(|v| u32::try_from(v).ok())
                .ok_or(StoreError::Corrupt {
                    what: "key check value",
                })?;
            out.index_rotations.push((version, value));
        } else {
            let id = u32::try_from(kek).map_err(|_| StoreError::Corrupt {
                what: "key check value",
            })?;
            out.keks.push((id, value));
        }
    }
    out.index_rotations.sort_by_key(|(k, _)| *k);
    Ok(any.then_some(out))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use rusqlite::ffi;

    use super::*;

    fn code(c: i32) -> StoreError {
        backend(rusqlite::Error::SqliteFailure(ffi::Error::new(c), None))
    }

    #[test]
    fn sqlite_codes_map_to_typed_errors() {
        assert!(matches!(
            code(ffi::SQLITE_BUSY),
            StoreError::Unavailable { .. }
        ));
        assert!(matches!(
            code(ffi::SQLITE_LOCKED),
            StoreError::Unavailable { .. }
        ));
        assert!(code(ffi::SQLITE_BUSY).is_retryable());
        assert_eq!(code(ffi::SQLITE_FULL), StoreError::DiskFull);
        assert!(matches!(
            code(ffi::SQLITE_CORRUPT),
            StoreError::Corrupt { .. }
        ));
        assert!(matches!(
            code(ffi::SQLITE_NOTADB),
            StoreError::Corrupt { .. }
        ));
        assert!(matches!(
            code(ffi::SQLITE_IOERR_WRITE),
            StoreError::Unavailable { .. }
        ));
        assert!(matches!(
            backend(rusqlite::Error::InvalidColumnType(
                0,
                "kind".into(),
                rusqlite::types::Type::Blob
            )),
            StoreError::Corrupt { .. }
        ));
    }
}
