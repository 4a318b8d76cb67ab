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
//! rusqlite is synchronous: each call takes a `Mutex<Connection>` for a short critical
//! section inside the async method. That keeps the crate free of an async runtime; a host on
//! a busy async runtime can wrap calls in its runtime's blocking pool.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_privacy::chain::{Anchor, ChainEntry, Hash};
use crm_privacy::crypto::WrappedKey;
use crm_privacy::store::{
    ChainAppend, ChainName, ChainStore, KeyStore, RecordMeta, RecordStore, SealedRecord, StoreError,
};
use crm_privacy::{RecordId, SubjectId};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

/// Migrations of the data file, in order; `schema_version` records how many ran.
const DATA_MIGRATIONS: &[&str] = &["CREATE TABLE records (
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
    );"];

/// Migrations of the key file.
const KEY_MIGRATIONS: &[&str] = &["CREATE TABLE data_keys (
        subject BLOB PRIMARY KEY NOT NULL,
        wrapped BLOB,
        destroyed_at INTEGER
    ) WITHOUT ROWID;"];

fn backend(e: rusqlite::Error) -> StoreError {
    // rusqlite messages name SQL and constraint failures, never bound values.
    StoreError::Backend(e.to_string())
}

fn lock(m: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn open_db(path: &Path, migrations: &[&str]) -> Result<Connection, StoreError> {
    let conn = Connection::open(path).map_err(backend)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA secure_delete = ON;
         PRAGMA busy_timeout = 5000;
         CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);",
    )
    .map_err(backend)?;
    let mut conn = conn;
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(backend)?;
    let current: i64 = tx
        .query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_version",
            [],
            |r| r.get(0),
        )
        .map_err(backend)?;
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
}

impl SqliteStore {
    /// Opens (creating and migrating as needed) the store at `path` and its key file
    /// `<path>.keys`.
    ///
    /// # Errors
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
        Ok(Self {
            data: Mutex::new(open_db(data, DATA_MIGRATIONS)?),
            keys: Mutex::new(open_db(keys, KEY_MIGRATIONS)?),
            path: data.to_path_buf(),
        })
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
    ))
}

type RawRecord = (Vec<u8>, Vec<u8>, String, Vec<u8>, Option<Vec<u8>>, i64, i64);

fn to_record(raw: RawRecord) -> Result<SealedRecord, StoreError> {
    let (id, subject, kind, ciphertext, index, created, updated) = raw;
    Ok(SealedRecord {
        record: RecordId::from_bytes(id16(id, "record id")?),
        subject: SubjectId::from_bytes(id16(subject, "subject id")?),
        kind,
        ciphertext,
        blind_index: index.map(|b| hash32(b, "blind index")).transpose()?,
        created_at: from_micros(created)?,
        updated_at: from_micros(updated)?,
    })
}

const RECORD_COLUMNS: &str = "id, subject, kind, ciphertext, blind_index, created_at, updated_at";

fn query_records(
    conn: &Connection,
    sql: &str,
    p: impl rusqlite::Params,
) -> Result<Vec<SealedRecord>, StoreError> {
    let mut stmt = conn.prepare_cached(sql).map_err(backend)?;
    let rows = stmt.query_map(p, row_to_record).map_err(backend)?;
    rows.map(|r| r.map_err(backend).and_then(to_record))
        .collect()
}

#[async_trait]
impl RecordStore for SqliteStore {
    async fn put(&self, r: SealedRecord) -> Result<(), StoreError> {
        lock(&self.data)
            .prepare_cached(&format!("INSERT OR REPLACE INTO records ({RECORD_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"))
            .and_then(|mut s| {
                s.execute(params![
                    r.record.to_bytes().as_slice(),
                    r.subject.to_bytes().as_slice(),
                    r.kind,
                    r.ciphertext,
                    r.blind_index.as_ref().map(|b| b.as_slice()),
                    micros(r.created_at),
                    micros(r.updated_at)
                ])
            })
            .map_err(backend)?;
        Ok(())
    }

    async fn get(&self, record: RecordId) -> Result<SealedRecord, StoreError> {
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

    async fn list_subject(&self, subject: SubjectId) -> Result<Vec<SealedRecord>, StoreError> {
        query_records(
            &lock(&self.data),
            &format!("SELECT {RECORD_COLUMNS} FROM records WHERE subject = ?1 ORDER BY id"),
            [subject.to_bytes().as_slice()],
        )
    }

    async fn find_by_index(&self, index: &[u8; 32]) -> Result<Vec<SealedRecord>, StoreError> {
        query_records(
            &lock(&self.data),
            &format!("SELECT {RECORD_COLUMNS} FROM records WHERE blind_index = ?1 ORDER BY id"),
            [index.as_slice()],
        )
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
    let mut stmt = conn
        .prepare_cached("SELECT seq, prev, body, hash FROM chain_entries WHERE chain = ?1 AND seq >= ?2 ORDER BY seq")
        .map_err(backend)?;
    let from = i64::try_from(from).unwrap_or(i64::MAX);
    let rows = stmt
        .query_map(params![chain.as_str(), from], |r| {
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

#[async_trait]
impl ChainStore for SqliteStore {
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
                return Err(StoreError::Conflict(a.chain));
            }
            tx.prepare_cached("INSERT INTO chain_entries (chain, seq, prev, body, hash) VALUES (?1, ?2, ?3, ?4, ?5)")
                .and_then(|mut s| {
                    s.execute(params![
                        a.chain.as_str(),
                        i64::try_from(a.entry.seq).unwrap_or(i64::MAX),
                        a.entry.prev.as_slice(),
                        a.entry.body,
                        a.entry.hash.as_slice()
                    ])
                })
                .map_err(backend)?;
            let next = Anchor {
                len: current.len + 1,
                head: a.entry.hash,
            };
            heads.retain(|(c, _)| *c != a.chain);
            heads.push((a.chain, next));
        }
        for (chain, anchor) in heads {
            tx.execute(
                "INSERT INTO chain_anchors (chain, len, head) VALUES (?1, ?2, ?3)
                 ON CONFLICT(chain) DO UPDATE SET len = excluded.len, head = excluded.head",
                params![
                    chain.as_str(),
                    i64::try_from(anchor.len).unwrap_or(i64::MAX),
                    anchor.head.as_slice()
                ],
            )
            .map_err(backend)?;
        }
        tx.commit().map_err(backend)
    }

    async fn entries(&self, chain: ChainName) -> Result<Vec<ChainEntry>, StoreError> {
        read_entries(&lock(&self.data), chain, 0)
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
}

#[async_trait]
impl KeyStore for SqliteStore {
    async fn put(&self, subject: SubjectId, key: WrappedKey) -> Result<(), StoreError> {
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
        tx.commit().map_err(backend)
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
            Some((_, Some(_))) => Err(StoreError::Shredded(subject)),
            Some((Some(w), None)) => Ok(WrappedKey::from_bytes(w)),
            Some((None, None)) => Err(StoreError::Corrupt { what: "data key" }),
        }
    }

    async fn delete(&self, subject: SubjectId) -> Result<(), StoreError> {
        let conn = lock(&self.keys);
        conn.execute(
            "INSERT INTO data_keys (subject, wrapped, destroyed_at) VALUES (?1, NULL, ?2)
             ON CONFLICT(subject) DO UPDATE SET wrapped = NULL, destroyed_at = excluded.destroyed_at",
            params![subject.to_bytes().as_slice(), micros(Utc::now())],
        )
        .map_err(backend)?;
        // secure_delete zeroes the freed cells; checkpointing and truncating the WAL removes
        // the last page image that still held the wrapped key.
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
            .map_err(backend)
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
}
