//! PostgreSQL store for `crm-privacy`: several app servers (processes) on one database keep
//! every guarantee.
//!
//! - **One chain under concurrent writers.** Each chain (ledger, audit) has an anchor row.
//!   `append_bodies` (what `Custodian` uses) locks the anchor rows it extends with
//!   `SELECT … FOR UPDATE`, always in the same order (ledger, then audit, so joint appends
//!   cannot deadlock), builds the entries on the locked heads, inserts them, moves the anchors
//!   and commits: writers from any number of processes queue on the lock and never retry.
//!   `append` (entries built by the caller) takes the same locks and returns
//!   `StoreError::Conflict` when the caller's expected anchor is stale. Cost: appends to one
//!   chain are serialized database-wide, one short transaction at a time; reads never take
//!   the lock. We chose row locks over `SERIALIZABLE` + retry because they fail fast without
//!   aborted work and keep the hot read path at the default isolation level.
//! - **Revocation across processes.** Consent withdrawals, restrictions, erasures and grant
//!   revocations (`Custodian::revoke`) are ledger entries; a `Custodian` built with
//!   `.shared(true)` catches up with the ledger before every read, so a change acknowledged
//!   by one process applies to the very next read in every other process (no cache, so no
//!   staleness bound to configure).
//! - **Keys** live in their own table; deleting one writes a tombstone (`destroyed_at`), so
//!   the subject can never be given a key again.
//! - **Migrations** are numbered and recorded in `crm_schema_version`; creating the schema and
//!   migrating run under a transaction-scoped advisory lock, so several processes starting
//!   on a fresh schema at once all succeed.
//! - **Errors** are mapped from SQLSTATE codes and sqlx error kinds, never from messages:
//!   a connection lost while a commit was in flight is [`StoreError::OutcomeUnknown`]; lost
//!   or refused before it, or a serialization failure or deadlock (the transaction was rolled
//!   back), is [`StoreError::Unavailable`]; `53100` is [`StoreError::DiskFull`]; `XX001`/`XX002`
//!   are [`StoreError::Corrupt`].
//! - **Idempotent retries.** After `OutcomeUnknown` every write may be sent again: a chain
//!   append whose entries are already stored at their positions with the same hashes
//!   succeeds without writing; a versioned record write that already landed succeeds; key
//!   writes and deletions are upserts. (`append_bodies` lets the store choose positions, so
//!   after `OutcomeUnknown` read the chain from the last known anchor before sending again.)

mod group;
mod options;
mod tls;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_privacy::chain::{Anchor, ChainEntry, Checkpoint, Hash};
use crm_privacy::crypto::{CHECK_LEN, KeyCheck, WrappedKey};
use crm_privacy::store::{
    ChainAppend, ChainName, ChainStore, GroupCommit, KeyStore, RecordMeta, RecordStore,
    SealedRecord, StoreError, Transport, VersionedRecord,
};
use crm_privacy::{RecordId, SubjectId};
use sqlx::postgres::PgPool;
use sqlx::{Executor, Row};

// Public interface: connection options and the TLS mode in force.
pub use options::{PgOptions, TlsMode, TlsRoots};

const MIGRATIONS: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS crm_records (
        id BYTEA PRIMARY KEY,
        subject BYTEA NOT NULL,
        kind TEXT NOT NULL,
        ciphertext BYTEA NOT NULL,
        blind_index BYTEA,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS crm_records_subject ON crm_records(subject);
    CREATE INDEX IF NOT EXISTS crm_records_blind_index ON crm_records(blind_index) WHERE blind_index IS NOT NULL;
    CREATE TABLE IF NOT EXISTS crm_chain_entries (
        chain TEXT NOT NULL,
        seq BIGINT NOT NULL,
        prev BYTEA NOT NULL,
        body BYTEA NOT NULL,
        hash BYTEA NOT NULL,
        PRIMARY KEY (chain, seq)
    );
    CREATE TABLE IF NOT EXISTS crm_chain_anchors (
        chain TEXT PRIMARY KEY,
        len BIGINT NOT NULL,
        head BYTEA NOT NULL
    );
    INSERT INTO crm_chain_anchors (chain, len, head) VALUES
        ('ledger', 0, '\\x0000000000000000000000000000000000000000000000000000000000000000'),
        ('audit', 0, '\\x0000000000000000000000000000000000000000000000000000000000000000')
        ON CONFLICT DO NOTHING;
    CREATE TABLE IF NOT EXISTS crm_data_keys (
        subject BYTEA PRIMARY KEY,
        wrapped BYTEA,
        destroyed_at BIGINT
    );",
    // 2: record versions (rows written before count as version 1); key check values
    // (`kek` is the KEK id, -1 the blind-index secret).
    "ALTER TABLE crm_records ADD COLUMN IF NOT EXISTS version BIGINT NOT NULL DEFAULT 1;
    CREATE TABLE IF NOT EXISTS crm_key_check (
        kek BIGINT PRIMARY KEY,
        value BYTEA NOT NULL
    );",
    // 3: chain checkpoints (issue 18; `group.rs`).
    "CREATE TABLE IF NOT EXISTS crm_chain_checkpoints (
        chain TEXT PRIMARY KEY,
        seq BIGINT NOT NULL,
        head BYTEA NOT NULL,
        entries BIGINT NOT NULL,
        ledger_entries BIGINT NOT NULL,
        tag BYTEA NOT NULL
    );",
    // 4: the blind-index key version of each row (issue 16: blind-index key rotation); rows
    // written before were indexed under the first key, version 1. Key check values of later
    // blind-index versions use `kek` = -version.
    "ALTER TABLE crm_records ADD COLUMN IF NOT EXISTS index_version BIGINT NOT NULL DEFAULT 1;
    CREATE INDEX IF NOT EXISTS crm_records_index_version ON crm_records(index_version, id) WHERE blind_index IS NOT NULL;",
];

/// Advisory lock key under which schemas are created and migrated (one migrator at a time
/// across processes).
const MIGRATION_LOCK: i64 = 7_243_567_890_123;

/// Maps a failure of a statement that is not a commit: the transaction was not committed,
/// so a lost connection means nothing was written.
fn backend(e: sqlx::Error) -> StoreError {
    map_error(e, false)
}

/// Maps a failure of `COMMIT`: a lost connection leaves the outcome unknown.
fn commit_error(e: sqlx::Error) -> StoreError {
    map_error(e, true)
}

fn map_error(e: sqlx::Error, committing: bool) -> StoreError {
    if let Some(cause) = tls::refusal(&e) {
        return StoreError::InsecureTransport { cause };
    }
    let lost = if committing {
        StoreError::OutcomeUnknown {
            cause: "connection lost during commit",
        }
    } else {
        StoreError::Unavailable {
            cause: "connection lost",
        }
    };
    match e {
        sqlx::Error::Database(d) => match d.code().as_deref() {
            Some(code) => map_sqlstate(code, lost),
            None => StoreError::Backend("database error without a code".into()),
        },
        sqlx::Error::Io(_) | sqlx::Error::Protocol(_) | sqlx::Error::WorkerCrashed => lost,
        sqlx::Error::PoolTimedOut => StoreError::Unavailable {
            cause: "no connection available",
        },
        sqlx::Error::PoolClosed => StoreError::Unavailable {
            cause: "connection pool closed",
        },
        // Database errors name SQL states and constraints, never bound values; other sqlx
        // errors name columns and types.
        other => StoreError::Backend(other.to_string()),
    }
}

/// Maps a SQLSTATE (class and code, from the PostgreSQL manual's appendix A).
fn map_sqlstate(code: &str, lost: StoreError) -> StoreError {
    match code {
        // admin_shutdown, crash_shutdown: the server ended the session.
        "57P01" | "57P02" => lost,
        // cannot_connect_now (starting up), query_canceled, lock_not_available,
        // too_many_connections, serialization_failure, deadlock_detected: rolled back.
        "57P03" => StoreError::Unavailable {
            cause: "server starting up",
        },
        "57014" => StoreError::Unavailable {
            cause: "statement cancelled",
        },
        "55P03" => StoreError::Unavailable {
            cause: "lock not available",
        },
        "53300" => StoreError::Unavailable {
            cause: "too many connections",
        },
        "40001" => StoreError::Unavailable {
            cause: "serialization failure",
        },
        "40P01" => StoreError::Unavailable {
            cause: "deadlock detected",
        },
        // transaction_resolution_unknown: the server says itself the outcome is unknown.
        "08007" => StoreError::OutcomeUnknown {
            cause: "transaction resolution unknown",
        },
        c if c.starts_with("08") => lost,
        "53100" => StoreError::DiskFull,
        "53200" => StoreError::Unavailable {
            cause: "server out of memory",
        },
        "XX001" => StoreError::Corrupt {
            what: "database page",
        },
        "XX002" => StoreError::Corrupt {
            what: "database index",
        },
        other => StoreError::Backend(format!("database error {other}")),
    }
}

fn id16(b: Vec<u8>, what: &'static str) -> Result<[u8; 16], StoreError> {
    b.try_into().map_err(|_| StoreError::Corrupt { what })
}

fn hash32(b: Vec<u8>, what: &'static str) -> Result<Hash, StoreError> {
    b.try_into().map_err(|_| StoreError::Corrupt { what })
}

fn ts(v: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_micros(v).ok_or(StoreError::Corrupt { what: "timestamp" })
}

fn len_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// The PostgreSQL store.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
    /// What the configuration guarantees (reported to the register).
    transport: Transport,
    mode: TlsMode,
    /// Concurrent appends of this process share one transaction (`group.rs`).
    group: std::sync::Arc<GroupCommit>,
}

impl PostgresStore {
    /// Connects with a pool of up to `max_connections` and runs pending migrations.
    /// `url` is a libpq-style URL, e.g. `postgres://user@127.0.0.1:5432/db`; `schema`, if
    /// given, is created and used as the search path (one schema per tenant or test run).
    /// The same as [`connect_with`](Self::connect_with) with [`PgOptions::from_url`]: TLS
    /// `verify-full` to a remote host unless the URL's `sslmode` says otherwise, plaintext
    /// to it refused; use [`PgOptions`] for a CA, a client certificate or timeouts.
    ///
    /// Needs a tokio runtime (sqlx's): called outside one it returns an error instead of
    /// panicking, and every later call on the store must run inside one too.
    ///
    /// # Errors
    /// As [`connect_with`](Self::connect_with).
    /// [`StoreError::Backend`] when called outside a tokio runtime.
    pub async fn connect(
        url: &str,
        schema: Option<&str>,
        max_connections: u32,
    ) -> Result<Self, StoreError> {
        let mut opts = PgOptions::from_url(url)?.max_connections(max_connections);
        if let Some(s) = schema {
            opts = opts.schema(s);
        }
        Self::connect_with(&opts).await
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        // One migrator at a time across processes.
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(MIGRATION_LOCK)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        tx.execute("CREATE TABLE IF NOT EXISTS crm_schema_version (version INTEGER NOT NULL)")
            .await
            .map_err(backend)?;
        let current: i32 =
            sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM crm_schema_version")
                .fetch_one(&mut *tx)
                .await
                .map_err(backend)?;
        let current = usize::try_from(current).map_err(|_| StoreError::Corrupt {
            what: "schema version",
        })?;
        if current > MIGRATIONS.len() {
            return Err(StoreError::Backend(format!(
                "database schema {current} is newer than this library"
            )));
        }
        for (i, m) in MIGRATIONS.iter().enumerate().skip(current) {
            tx.execute(*m).await.map_err(backend)?;
            sqlx::query("INSERT INTO crm_schema_version (version) VALUES ($1)")
                .bind(i32::try_from(i + 1).unwrap_or(i32::MAX))
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
        }
        tx.commit().await.map_err(commit_error)
    }

    /// The pool (for health checks and the host's own queries).
    #[must_use]
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Drops a schema and everything in it (test clean-up).
    ///
    /// # Errors
    /// Backend failures.
    pub async fn drop_schema(&self, schema: &str) -> Result<(), StoreError> {
        if !schema
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(StoreError::Backend("schema names are [a-z0-9_]".into()));
        }
        self.pool
            .execute(format!("DROP SCHEMA IF EXISTS {schema} CASCADE").as_str())
            .await
            .map_err(backend)?;
        Ok(())
    }
}

const COLS: &str =
    "id, subject, kind, ciphertext, blind_index, created_at, updated_at, index_version, version";

/// Every column but `version`, from `EXCLUDED` (the row being upserted).
const UPSERT_SET: &str = "subject = EXCLUDED.subject, kind = EXCLUDED.kind,
    ciphertext = EXCLUDED.ciphertext, blind_index = EXCLUDED.blind_index,
    index_version = EXCLUDED.index_version,
    created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at";

fn to_record(r: &sqlx::postgres::PgRow) -> Result<VersionedRecord, StoreError> {
    let g = |e: sqlx::Error| backend(e);
    let version: i64 = r.try_get("version").map_err(g)?;
    let index_version: i64 = r.try_get("index_version").map_err(g)?;
    Ok(VersionedRecord {
        sealed: SealedRecord {
            record: RecordId::from_bytes(id16(r.try_get("id").map_err(g)?, "record id")?),
            subject: SubjectId::from_bytes(id16(r.try_get("subject").map_err(g)?, "subject id")?),
            kind: r.try_get("kind").map_err(g)?,
            ciphertext: r.try_get("ciphertext").map_err(g)?,
            blind_index: r
                .try_get::<Option<Vec<u8>>, _>("blind_index")
                .map_err(g)?
                .map(|b| hash32(b, "blind index"))
                .transpose()?,
            index_version: u32::try_from(index_version).map_err(|_| StoreError::Corrupt {
                what: "blind-index version",
            })?,
            created_at: ts(r.try_get("created_at").map_err(g)?)?,
            updated_at: ts(r.try_get("updated_at").map_err(g)?)?,
        },
        version: u64::try_from(version).map_err(|_| StoreError::Corrupt {
            what: "record version",
        })?,
    })
}

fn bind_record<'q>(
    q: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    r: SealedRecord,
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    q.bind(r.record.to_bytes().to_vec())
        .bind(r.subject.to_bytes().to_vec())
        .bind(r.kind)
        .bind(r.ciphertext)
        .bind(r.blind_index.map(|b| b.to_vec()))
        .bind(r.created_at.timestamp_micros())
        .bind(r.updated_at.timestamp_micros())
        .bind(i64::from(r.index_version))
}

impl PostgresStore {
    async fn get_row(&self, record: RecordId) -> Result<VersionedRecord, StoreError> {
        let row = sqlx::query(&format!("SELECT {COLS} FROM crm_records WHERE id = $1"))
            .bind(record.to_bytes().to_vec())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref()
            .map(to_record)
            .transpose()?
            .ok_or_else(|| StoreError::NotFound {
                what: "record",
                id: record.to_string(),
            })
    }

    async fn rows_where(
        &self,
        column: &str,
        value: Vec<u8>,
    ) -> Result<Vec<VersionedRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLS} FROM crm_records WHERE {column} = $1 ORDER BY id"
        ))
        .bind(value)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter().map(to_record).collect()
    }
}

fn unversioned(rows: Vec<VersionedRecord>) -> Vec<SealedRecord> {
    rows.into_iter().map(|r| r.sealed).collect()
}

#[async_trait]
impl RecordStore for PostgresStore {
    fn transport(&self) -> Transport {
        self.transport
    }

    async fn put(&self, r: SealedRecord) -> Result<(), StoreError> {
        bind_record(
            sqlx::query(&format!(
                "INSERT INTO crm_records ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1)
                 ON CONFLICT (id) DO UPDATE SET {UPSERT_SET}, version = crm_records.version + 1"
            )),
            r,
        )
        .execute(&self.pool)
        .await
        .map_err(commit_error)?;
        Ok(())
    }

    async fn put_versioned(&self, row: VersionedRecord) -> Result<(), StoreError> {
        let id = row.sealed.record;
        let ciphertext = row.sealed.ciphertext.clone();
        let version = len_i64(row.version);
        let written = bind_record(
            sqlx::query(&format!(
                "INSERT INTO crm_records ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                 ON CONFLICT (id) DO UPDATE SET {UPSERT_SET}, version = EXCLUDED.version
                 WHERE crm_records.version < EXCLUDED.version"
            )),
            row.sealed,
        )
        .bind(version)
        .execute(&self.pool)
        .await
        .map_err(commit_error)?
        .rows_affected();
        if written == 0 {
            // Not written: an identical retry (after OutcomeUnknown) is fine, anything else
            // is stale.
            let same: Option<bool> = sqlx::query_scalar(
                "SELECT version = $2 AND ciphertext = $3 FROM crm_records WHERE id = $1",
            )
            .bind(id.to_bytes().to_vec())
            .bind(version)
            .bind(ciphertext)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
            if same != Some(true) {
                return Err(StoreError::StaleVersion { record: id });
            }
        }
        Ok(())
    }

    async fn get(&self, record: RecordId) -> Result<SealedRecord, StoreError> {
        self.get_row(record).await.map(|r| r.sealed)
    }

    async fn get_versioned(&self, record: RecordId) -> Result<VersionedRecord, StoreError> {
        self.get_row(record).await
    }

    async fn list_subject(&self, subject: SubjectId) -> Result<Vec<SealedRecord>, StoreError> {
        self.rows_where("subject", subject.to_bytes().to_vec())
            .await
            .map(unversioned)
    }

    async fn list_subject_versioned(
        &self,
        subject: SubjectId,
    ) -> Result<Vec<VersionedRecord>, StoreError> {
        self.rows_where("subject", subject.to_bytes().to_vec())
            .await
    }

    async fn find_by_index(&self, index: &[u8; 32]) -> Result<Vec<SealedRecord>, StoreError> {
        self.rows_where("blind_index", index.to_vec())
            .await
            .map(unversioned)
    }

    async fn find_by_index_versioned(
        &self,
        index: &[u8; 32],
    ) -> Result<Vec<VersionedRecord>, StoreError> {
        self.rows_where("blind_index", index.to_vec()).await
    }

    async fn delete(&self, record: RecordId) -> Result<bool, StoreError> {
        let r = sqlx::query("DELETE FROM crm_records WHERE id = $1")
            .bind(record.to_bytes().to_vec())
            .execute(&self.pool)
            .await
            .map_err(commit_error)?;
        Ok(r.rows_affected() > 0)
    }

    async fn delete_subject(&self, subject: SubjectId) -> Result<u64, StoreError> {
        let r = sqlx::query("DELETE FROM crm_records WHERE subject = $1")
            .bind(subject.to_bytes().to_vec())
            .execute(&self.pool)
            .await
            .map_err(commit_error)?;
        Ok(r.rows_affected())
    }

    async fn indexed_below(
        &self,
        version: u32,
        after: Option<RecordId>,
        limit: usize,
    ) -> Result<Vec<VersionedRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLS} FROM crm_records
             WHERE blind_index IS NOT NULL AND index_version < $1 AND id > $2
             ORDER BY id LIMIT $3"
        ))
        .bind(i64::from(version))
        .bind(after.map(|a| a.to_bytes().to_vec()).unwrap_or_default())
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter().map(to_record).collect()
    }

    async fn count_indexed_below(&self, version: u32) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM crm_records WHERE blind_index IS NOT NULL AND index_version < $1",
        )
        .bind(i64::from(version))
        .fetch_one(&self.pool)
        .await
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
        let version = len_i64(row.version);
        let n = bind_record(
            sqlx::query(
                "UPDATE crm_records SET subject = $2, kind = $3, ciphertext = $4,
                 blind_index = $5, created_at = $6, updated_at = $7, index_version = $8,
                 version = $9
                 WHERE id = $1 AND version = $10",
            ),
            row.sealed,
        )
        .bind(version)
        .bind(len_i64(expected))
        .execute(&self.pool)
        .await
        .map_err(commit_error)?
        .rows_affected();
        Ok(n > 0)
    }

    async fn metadata_page(
        &self,
        after: Option<RecordId>,
        limit: usize,
    ) -> Result<Vec<RecordMeta>, StoreError> {
        let rows = sqlx::query("SELECT id, subject, kind, created_at, updated_at FROM crm_records WHERE id > $1 ORDER BY id LIMIT $2")
            .bind(after.map(|a| a.to_bytes().to_vec()).unwrap_or_default())
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter()
            .map(|r| {
                Ok(RecordMeta {
                    record: RecordId::from_bytes(id16(
                        r.try_get("id").map_err(backend)?,
                        "record id",
                    )?),
                    subject: SubjectId::from_bytes(id16(
                        r.try_get("subject").map_err(backend)?,
                        "subject id",
                    )?),
                    kind: r.try_get("kind").map_err(backend)?,
                    created_at: ts(r.try_get("created_at").map_err(backend)?)?,
                    updated_at: ts(r.try_get("updated_at").map_err(backend)?)?,
                })
            })
            .collect()
    }
}

fn row_anchor(r: &sqlx::postgres::PgRow) -> Result<Anchor, StoreError> {
    let len: i64 = r.try_get("len").map_err(backend)?;
    Ok(Anchor {
        len: u64::try_from(len).map_err(|_| StoreError::Corrupt {
            what: "chain anchor",
        })?,
        head: hash32(r.try_get("head").map_err(backend)?, "chain anchor")?,
    })
}

/// Locks the anchors of `chains` with `SELECT … FOR UPDATE`, in a fixed order (ledger before
/// audit, so joint appends cannot deadlock), and returns their current values.
async fn lock_anchors(
    tx: &mut sqlx::PgConnection,
    chains: impl Iterator<Item = ChainName>,
) -> Result<Vec<(ChainName, Anchor)>, StoreError> {
    let mut chains: Vec<ChainName> = chains.collect();
    chains.sort();
    chains.dedup();
    let mut heads = Vec::with_capacity(chains.len());
    for c in chains {
        let row =
            sqlx::query("SELECT len, head FROM crm_chain_anchors WHERE chain = $1 FOR UPDATE")
                .bind(c.as_str())
                .fetch_one(&mut *tx)
                .await
                .map_err(backend)?;
        heads.push((c, row_anchor(&row)?));
    }
    Ok(heads)
}

async fn insert_entry(
    tx: &mut sqlx::PgConnection,
    chain: ChainName,
    entry: &ChainEntry,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO crm_chain_entries (chain, seq, prev, body, hash) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(chain.as_str())
    .bind(len_i64(entry.seq))
    .bind(entry.prev.to_vec())
    .bind(entry.body.as_slice())
    .bind(entry.hash.to_vec())
    .execute(&mut *tx)
    .await
    .map_err(backend)?;
    Ok(())
}

/// Whether every entry of `appends` is already stored at its position with its hash.
async fn already_stored(
    tx: &mut sqlx::PgConnection,
    appends: &[ChainAppend],
) -> Result<bool, StoreError> {
    for a in appends {
        let hash: Option<Vec<u8>> =
            sqlx::query_scalar("SELECT hash FROM crm_chain_entries WHERE chain = $1 AND seq = $2")
                .bind(a.chain.as_str())
                .bind(len_i64(a.entry.seq))
                .fetch_optional(&mut *tx)
                .await
                .map_err(backend)?;
        if hash.as_deref() != Some(a.entry.hash.as_slice()) {
            return Ok(false);
        }
    }
    Ok(!appends.is_empty())
}

async fn update_anchors(
    tx: &mut sqlx::PgConnection,
    heads: &[(ChainName, Anchor)],
) -> Result<(), StoreError> {
    for (c, anchor) in heads {
        sqlx::query("UPDATE crm_chain_anchors SET len = $2, head = $3 WHERE chain = $1")
            .bind(c.as_str())
            .bind(len_i64(anchor.len))
            .bind(anchor.head.to_vec())
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
    }
    Ok(())
}

#[async_trait]
impl ChainStore for PostgresStore {
    fn transport(&self) -> Transport {
        self.transport
    }

    async fn append(&self, appends: Vec<ChainAppend>) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        let mut heads = lock_anchors(&mut tx, appends.iter().map(|a| a.chain)).await?;
        for a in &appends {
            let slot = heads
                .iter_mut()
                .find(|(c, _)| *c == a.chain)
                .ok_or(StoreError::Conflict(a.chain))?;
            let current = slot.1;
            if current != a.expected || a.entry.seq != current.len || a.entry.prev != current.head {
                // A retry of appends that already committed (after OutcomeUnknown) succeeds
                // without writing; anything else is a conflict. Rolls back on drop.
                if already_stored(&mut tx, &appends).await? {
                    return Ok(());
                }
                return Err(StoreError::Conflict(a.chain));
            }
            insert_entry(&mut tx, a.chain, &a.entry).await?;
            slot.1 = Anchor {
                len: current.len + 1,
                head: a.entry.hash,
            };
        }
        update_anchors(&mut tx, &heads).await?;
        tx.commit().await.map_err(commit_error)
    }

    /// Builds the entries under the anchor row locks, in one transaction: concurrent writers
    /// from any number of processes queue on the lock instead of reading the anchors first
    /// and retrying on conflict; concurrent writers of this process share that transaction
    /// (group commit, `group.rs`).
    async fn append_bodies(
        &self,
        bodies: Vec<(ChainName, Vec<u8>)>,
    ) -> Result<Vec<ChainEntry>, StoreError> {
        self.group
            .run(bodies, |batch| self.commit_group(batch))
            .await
    }

    async fn entries_range(
        &self,
        chain: ChainName,
        from: u64,
        limit: usize,
    ) -> Result<Vec<ChainEntry>, StoreError> {
        self.entries_between(chain, from, Some(limit)).await
    }

    async fn checkpoint(&self, chain: ChainName) -> Result<Option<Checkpoint>, StoreError> {
        self.read_checkpoint(chain).await
    }

    async fn put_checkpoint(
        &self,
        chain: ChainName,
        checkpoint: &Checkpoint,
    ) -> Result<(), StoreError> {
        self.write_checkpoint(chain, checkpoint).await
    }

    async fn prune(&self, chain: ChainName, before: u64) -> Result<u64, StoreError> {
        self.prune_chain(chain, before).await
    }

    async fn entries(&self, chain: ChainName) -> Result<Vec<ChainEntry>, StoreError> {
        self.entries_from(chain, 0).await
    }

    async fn entries_from(
        &self,
        chain: ChainName,
        from: u64,
    ) -> Result<Vec<ChainEntry>, StoreError> {
        let rows = sqlx::query("SELECT seq, prev, body, hash FROM crm_chain_entries WHERE chain = $1 AND seq >= $2 ORDER BY seq")
            .bind(chain.as_str())
            .bind(len_i64(from))
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter()
            .map(|r| {
                let seq: i64 = r.try_get("seq").map_err(backend)?;
                Ok(ChainEntry {
                    seq: u64::try_from(seq).map_err(|_| StoreError::Corrupt {
                        what: "chain entry",
                    })?,
                    prev: hash32(r.try_get("prev").map_err(backend)?, "chain entry")?,
                    body: r.try_get("body").map_err(backend)?,
                    hash: hash32(r.try_get("hash").map_err(backend)?, "chain entry")?,
                })
            })
            .collect()
    }

    async fn anchor(&self, chain: ChainName) -> Result<Anchor, StoreError> {
        let row = sqlx::query("SELECT len, head FROM crm_chain_anchors WHERE chain = $1")
            .bind(chain.as_str())
            .fetch_one(&self.pool)
            .await
            .map_err(backend)?;
        row_anchor(&row)
    }
}

#[async_trait]
impl KeyStore for PostgresStore {
    fn transport(&self) -> Transport {
        self.transport
    }

    async fn put(&self, subject: SubjectId, key: WrappedKey) -> Result<(), StoreError> {
        let r = sqlx::query(
            "INSERT INTO crm_data_keys (subject, wrapped, destroyed_at) VALUES ($1, $2, NULL)
             ON CONFLICT (subject) DO UPDATE SET wrapped = EXCLUDED.wrapped
             WHERE crm_data_keys.destroyed_at IS NULL",
        )
        .bind(subject.to_bytes().to_vec())
        .bind(key.as_bytes().to_vec())
        .execute(&self.pool)
        .await
        .map_err(commit_error)?;
        if r.rows_affected() == 0 {
            return Err(StoreError::Shredded(subject));
        }
        Ok(())
    }

    async fn get(&self, subject: SubjectId) -> Result<WrappedKey, StoreError> {
        let row = sqlx::query("SELECT wrapped, destroyed_at FROM crm_data_keys WHERE subject = $1")
            .bind(subject.to_bytes().to_vec())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        let Some(row) = row else {
            return Err(StoreError::NotFound {
                what: "key",
                id: subject.to_string(),
            });
        };
        let destroyed: Option<i64> = row.try_get("destroyed_at").map_err(backend)?;
        if destroyed.is_some() {
            return Err(StoreError::Shredded(subject));
        }
        let wrapped: Option<Vec<u8>> = row.try_get("wrapped").map_err(backend)?;
        wrapped
            .map(WrappedKey::from_bytes)
            .ok_or(StoreError::Corrupt { what: "data key" })
    }

    async fn delete(&self, subject: SubjectId) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO crm_data_keys (subject, wrapped, destroyed_at) VALUES ($1, NULL, $2)
             ON CONFLICT (subject) DO UPDATE SET wrapped = NULL, destroyed_at = EXCLUDED.destroyed_at",
        )
        .bind(subject.to_bytes().to_vec())
        .bind(Utc::now().timestamp_micros())
        .execute(&self.pool)
        .await
        .map_err(commit_error)?;
        Ok(())
    }

    async fn subjects(&self) -> Result<Vec<SubjectId>, StoreError> {
        let rows = sqlx::query(
            "SELECT subject FROM crm_data_keys WHERE destroyed_at IS NULL ORDER BY subject",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter()
            .map(|r| {
                Ok(SubjectId::from_bytes(id16(
                    r.try_get("subject").map_err(backend)?,
                    "subject id",
                )?))
            })
            .collect()
    }

    async fn check_values(&self) -> Result<Option<KeyCheck>, StoreError> {
        read_check_values(&self.pool).await
    }

    async fn set_check_values_if_absent(&self, values: &KeyCheck) -> Result<KeyCheck, StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
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
            sqlx::query(
                "INSERT INTO crm_key_check (kek, value) VALUES ($1, $2) ON CONFLICT (kek) DO NOTHING",
            )
            .bind(kek)
            .bind(value.to_vec())
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        }
        tx.commit().await.map_err(commit_error)?;
        // Read after commit: a racing process's values, if it won, are what is returned.
        Ok(read_check_values(&self.pool).await?.unwrap_or_default())
    }
}

async fn read_check_values(pool: &PgPool) -> Result<Option<KeyCheck>, StoreError> {
    let rows = sqlx::query("SELECT kek, value FROM crm_key_check ORDER BY kek")
        .fetch_all(pool)
        .await
        .map_err(backend)?;
    if rows.is_empty() {
        return Ok(None);
    }
    let mut out = KeyCheck::default();
    let corrupt = StoreError::Corrupt {
        what: "key check value",
    };
    for r in &rows {
        let kek: i64 = r.try_get("kek").map_err(backend)?;
        let value: Vec<u8> = r.try_get("value").map_err(backend)?;
        let value: [u8; CHECK_LEN] = value.try_into().map_err(|_| corrupt.clone())?;
        if kek == -1 {
            out.index = Some(value);
        } else if kek < -1 {
            let version = kek
                .checked_neg()
                .and_then(|v| u32::try_from(v).ok())
                .ok_or_else(|| corrupt.clone())?;
            out.index_rotations.push((version, value));
        } else {
            out.keks
                .push((u32::try_from(kek).map_err(|_| corrupt.clone())?, value));
        }
    }
    out.index_rotations.sort_by_key(|(k, _)| *k);
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlstates_map_to_typed_errors() {
        let lost = || StoreError::OutcomeUnknown { cause: "x" };
        assert_eq!(map_sqlstate("57P01", lost()), lost());
        assert_eq!(map_sqlstate("08006", lost()), lost());
        assert!(map_sqlstate("40001", lost()).is_retryable());
        assert!(map_sqlstate("40P01", lost()).is_retryable());
        assert!(map_sqlstate("55P03", lost()).is_retryable());
        assert_eq!(map_sqlstate("53100", lost()), StoreError::DiskFull);
        assert!(matches!(
            map_sqlstate("XX001", lost()),
            StoreError::Corrupt { .. }
        ));
        assert!(matches!(
            map_sqlstate("XX002", lost()),
            StoreError::Corrupt { .. }
        ));
        assert!(matches!(
            map_sqlstate("08007", lost()),
            StoreError::OutcomeUnknown { .. }
        ));
        assert!(matches!(
            map_sqlstate("42P01", lost()),
            StoreError::Backend(_)
        ));
        // Before a commit, a lost connection wrote nothing; during one, the outcome is
        // unknown.
        let io = || sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        assert!(matches!(backend(io()), StoreError::Unavailable { .. }));
        assert!(matches!(
            commit_error(io()),
            StoreError::OutcomeUnknown { .. }
        ));
        assert!(backend(sqlx::Error::PoolTimedOut).is_retryable());
    }
}
