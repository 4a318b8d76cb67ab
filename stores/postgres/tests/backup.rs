#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]
//! Issue 16 on PostgreSQL: a backup of the store taken before an erasure decrypts the erased
//! subject while the KEK version its key was wrapped under lives, and nothing of it from the
//! date the erasure report states (`undecryptable_after`) — the destruction date of that
//! version. The same scenario as `backup_taken_before_erasure_is_unreadable_from_the_reported_date`
//! in `tests/keys.rs` (in-memory and SQLite).
//!
//! The "backup" is every table of the test schema copied, in one snapshot, into a second
//! schema (what `pg_dump --schema` + restore gives). Each inspection restores a fresh copy of
//! it into a third schema and builds a custodian there with the same KEK directory: the
//! backup itself stays as taken (a build on a restored copy re-wraps its keys, see
//! `docs/keys.md`).

mod common;

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use crm_privacy::crypto::{CryptoError, FileKeks, IndexKey, KekState};
use crm_privacy::custodian::{Custodian, CustodianError};
use crm_privacy::{Email, ManualClock, Notification, RecordId, SubjectId};
use crm_privacy_postgres::PostgresStore;
use sqlx::{Executor, Row};

const WINDOW: TimeDelta = TimeDelta::days(30);
const EPOCH: TimeDelta = TimeDelta::days(7);

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_798_761_600, 0).unwrap() // 2027-01-01
}

/// Copies every table of schema `from` (structure, indexes, rows) into a new schema `to`,
/// reading one snapshot: a consistent logical backup.
async fn copy_schema(pool: &sqlx::PgPool, from: &str, to: &str) {
    let mut tx = pool.begin().await.unwrap();
    tx.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        .await
        .unwrap();
    tx.execute(format!("CREATE SCHEMA {to}").as_str())
        .await
        .unwrap();
    let tables: Vec<String> = sqlx::query(
        "SELECT table_name FROM information_schema.tables \
         WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY table_name",
    )
    .bind(from)
    .fetch_all(&mut *tx)
    .await
    .unwrap()
    .iter()
    .map(|r| r.get::<String, _>(0))
    .collect();
    assert!(
        tables.iter().any(|t| t == "crm_data_keys") && tables.iter().any(|t| t == "crm_records"),
        "the store's tables: {tables:?}"
    );
    for t in &tables {
        tx.execute(
            format!(
                "CREATE TABLE {to}.\"{t}\" (LIKE {from}.\"{t}\" INCLUDING ALL); \
                 INSERT INTO {to}.\"{t}\" SELECT * FROM {from}.\"{t}\""
            )
            .as_str(),
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
}

async fn open(store: &PostgresStore, kdir: &std::path::Path, clock: Arc<ManualClock>) -> Custodian {
    Custodian::builder_with_kms(
        Arc::new(FileKeks::open(kdir, "main", crm_privacy::Clock::now(&*clock)).unwrap()),
        IndexKey::from_bytes(&crm_privacy::crypto::test_secret(2)).unwrap(),
    )
    .store(Arc::new(store.clone()))
    .clock(clock)
    .backup_window(WINDOW)
    .kek_epoch(EPOCH)
    .build()
    .await
    .unwrap()
}

/// Restores the backup into a fresh schema (recorded in `made` for clean-up).
async fn restore(live: &PostgresStore, backup: &str, made: &mut Vec<String>) -> PostgresStore {
    let to = common::fresh_schema();
    copy_schema(live.pool(), backup, &to).await;
    made.push(to.clone());
    common::connect(&to, 2).await.unwrap()
}

async fn read_email(c: &Custodian, s: SubjectId, r: RecordId) -> Result<String, CustodianError> {
    let g = c.grant::<Notification>(s, "mailer").await?;
    c.with::<Email, _, _>(&g, r, |e| e.as_str().to_owned())
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_taken_before_erasure_is_unreadable_from_the_reported_date() {
    let live_schema = common::fresh_schema();
    let Some(live_store) = common::connect(&live_schema, 4).await else {
        return;
    };
    let kdir = tempfile_dir();
    let clock = Arc::new(ManualClock::new(t0()));
    let live = open(&live_store, kdir.path(), clock.clone()).await;
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

    // The backup, before the erasure.
    let backup_schema = common::fresh_schema();
    copy_schema(live_store.pool(), &live_schema, &backup_schema).await;
    let mut schemas = vec![live_schema.clone(), backup_schema.clone()];

    clock.advance(TimeDelta::days(1));
    let report = live.erase(alice).await.unwrap();
    let date = report.undecryptable_after.expect("epochs are on");
    assert_eq!(
        date,
        t0() + EPOCH + WINDOW,
        "end of v1's epoch + the backup window"
    );
    assert!(date >= report.backups_age_out_by);
    // The live store has lost alice at once.
    assert!(read_email(&live, alice, ra).await.is_err());

    // While v1 lives, a restored copy reads the erased subject (what the report admits).
    {
        let store = restore(&live_store, &backup_schema, &mut schemas).await;
        let restored = open(&store, kdir.path(), clock.clone()).await;
        assert_eq!(
            read_email(&restored, alice, ra).await.unwrap(),
            "alice@example.com"
        );
    }
    // The epoch ends: the sweep rotates and re-wraps bob; v1 still unwraps the backup.
    clock.set(t0() + EPOCH);
    live.sweep().await.unwrap();
    let sched = live.kek_schedule().await.unwrap();
    assert_eq!(sched.len(), 2);
    assert_eq!(sched[0].destroy_at, date, "the report's date is v1's");
    assert_eq!(sched[1].state, KekState::Primary);
    {
        let store = restore(&live_store, &backup_schema, &mut schemas).await;
        let restored = open(&store, kdir.path(), clock.clone()).await;
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
    // On the date, the sweep destroys v1: its destruction date is the report's.
    clock.set(date);
    live.sweep().await.unwrap();
    assert_eq!(
        live.kek_schedule().await.unwrap()[0].state,
        KekState::Destroyed { at: date }
    );
    // The live subject was re-wrapped and stays readable.
    assert_eq!(read_email(&live, bob, rb).await.unwrap(), "bob@example.com");
    // A copy restored now cannot decrypt the erased subject: a typed error.
    let store = restore(&live_store, &backup_schema, &mut schemas).await;
    let restored = open(&store, kdir.path(), clock.clone()).await;
    let err = read_email(&restored, alice, ra).await.unwrap_err();
    assert!(
        matches!(err, CustodianError::Crypto(CryptoError::KekDestroyed(1))),
        "{err:?}"
    );
    drop(restored);
    for s in &schemas {
        live_store.drop_schema(s).await.unwrap();
    }
}

fn tempfile_dir() -> TempDir {
    let path = std::env::temp_dir().join(format!("crm-pg-keks-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&path).unwrap();
    TempDir(path)
}

/// A KEK directory removed at drop (the crate has no `tempfile` dev-dependency).
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
