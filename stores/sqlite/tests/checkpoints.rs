#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]
//! Issue 18, audit checkpoints on SQLite, the way a host with write access to the database
//! (but not the keyring) could meddle: build verifies only from the last checkpoint and
//! takes a new one; a forged, altered, replayed or deleted checkpoint is a typed error;
//! export writes the segment with its proof; pruning keeps the checkpoint's entry and what
//! remains is still verified.

use std::sync::Arc;

use chrono::TimeDelta;
use crm_privacy::chain::{ChainError, Checkpoint};
use crm_privacy::crypto::{Kek, Keyring};
use crm_privacy::custodian::{Custodian, CustodianError};
use crm_privacy::store::{ChainName, ChainStore, InMemoryWitness, StoreError};
use crm_privacy::{Email, Notification};
use crm_privacy_sqlite::SqliteStore;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

async fn build(
    path: &std::path::Path,
    witness: Option<Arc<InMemoryWitness>>,
) -> Result<Custodian, CustodianError> {
    let mut b = Custodian::builder(
        Keyring::new(
            Kek::from_bytes(1, &crm_privacy::crypto::test_secret(3)).unwrap(),
            &crm_privacy::crypto::test_secret(9),
        )
        .unwrap(),
    )
    .store(Arc::new(SqliteStore::open(path).unwrap()));
    if let Some(w) = witness {
        b = b.witness(w);
    }
    b.build().await
}

/// A custodian with `reads` audited reads on record.
async fn with_reads(path: &std::path::Path, reads: usize) -> Custodian {
    let c = build(path, None).await.unwrap();
    let s = c.register_subject().await.unwrap();
    let r = c
        .store(s, Email::parse("a@example.com").unwrap())
        .await
        .unwrap();
    let g = c.grant::<Notification>(s, "mailer").await.unwrap();
    for _ in 0..reads {
        c.with::<Email, _, _>(&g, r, |_| ()).await.unwrap();
    }
    c
}

fn checkpoint(path: &std::path::Path) -> Option<Checkpoint> {
    rt().block_on(ChainStore::checkpoint(
        &SqliteStore::open(path).unwrap(),
        ChainName::Audit,
    ))
    .unwrap()
}

fn sql(path: &std::path::Path, s: &str) {
    rusqlite::Connection::open(path)
        .unwrap()
        .execute_batch(s)
        .unwrap();
}

fn chain_err(r: Result<Custodian, CustodianError>) -> ChainError {
    match r {
        Err(CustodianError::Chain(e)) => e,
        other => panic!("expected a chain error, got {:?}", other.map(|_| ())),
    }
}

#[test]
fn build_checkpoints_and_verifies_only_what_follows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crm.db");
    let rt = rt();
    rt.block_on(with_reads(&path, 5));
    rt.block_on(build(&path, None)).unwrap();
    let cp = checkpoint(&path).expect("build leaves a checkpoint");
    let len = rt
        .block_on(SqliteStore::open(&path).unwrap().anchor(ChainName::Audit))
        .unwrap()
        .len;
    assert_eq!(cp.seq + 1, len);
    assert_eq!(cp.entries, len);
    // An entry *before* the checkpoint altered: build no longer reads it (that is the
    // point), the full verification catches it.
    sql(
        &path,
        "UPDATE chain_entries SET body = CAST('{}' AS BLOB) WHERE chain = 'audit' AND seq = 1",
    );
    let c = rt.block_on(build(&path, None)).unwrap();
    assert!(matches!(
        rt.block_on(c.verify_chains()),
        Err(CustodianError::Chain(ChainError::BadHash { position: 1 }))
    ));
}

#[test]
fn an_entry_altered_after_the_checkpoint_fails_the_build() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crm.db");
    let rt = rt();
    rt.block_on(with_reads(&path, 2));
    rt.block_on(build(&path, None)).unwrap();
    let cp = checkpoint(&path).unwrap();
    rt.block_on(with_reads(&path, 3)); // entries after the checkpoint
    assert_eq!(checkpoint(&path).unwrap(), cp);
    sql(
        &path,
        &format!(
            "UPDATE chain_entries SET body = CAST('{{}}' AS BLOB) WHERE chain = 'audit' AND seq = {}",
            cp.seq + 2
        ),
    );
    assert!(matches!(
        chain_err(rt.block_on(build(&path, None))),
        ChainError::BadHash { .. } | ChainError::CheckpointMismatch { .. }
    ));
}

#[test]
fn forged_or_altered_checkpoints_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crm.db");
    let rt = rt();
    rt.block_on(with_reads(&path, 3));
    rt.block_on(build(&path, None)).unwrap();
    let cp = checkpoint(&path).unwrap();
    // A new head without the keyring: the tag fails.
    sql(
        &path,
        "UPDATE chain_checkpoints SET head = zeroblob(32) WHERE chain = 'audit'",
    );
    assert!(matches!(
        chain_err(rt.block_on(build(&path, None))),
        ChainError::CheckpointUntrusted { .. }
    ));
    // Moved to another sequence: the tag fails.
    sql(
        &path,
        &format!(
            "UPDATE chain_checkpoints SET head = X'{}', seq = {} WHERE chain = 'audit'",
            hex(&cp.head),
            cp.seq - 1
        ),
    );
    assert!(matches!(
        chain_err(rt.block_on(build(&path, None))),
        ChainError::CheckpointUntrusted { .. }
    ));
    // A tag copied from nowhere: refused too.
    sql(
        &path,
        &format!(
            "UPDATE chain_checkpoints SET seq = {}, tag = zeroblob(32) WHERE chain = 'audit'",
            cp.seq
        ),
    );
    assert!(matches!(
        chain_err(rt.block_on(build(&path, None))),
        ChainError::CheckpointUntrusted { .. }
    ));
    // Restored exactly: accepted again.
    sql(
        &path,
        &format!(
            "UPDATE chain_checkpoints SET tag = X'{}' WHERE chain = 'audit'",
            hex(&cp.tag)
        ),
    );
    rt.block_on(build(&path, None)).unwrap();
}

#[test]
fn a_replayed_or_deleted_checkpoint_is_caught_by_the_witness() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crm.db");
    let rt = rt();
    let witness = Arc::new(InMemoryWitness::new());
    rt.block_on(with_reads(&path, 2));
    rt.block_on(build(&path, Some(witness.clone()))).unwrap();
    let old = checkpoint(&path).unwrap();
    rt.block_on(with_reads(&path, 2));
    rt.block_on(build(&path, Some(witness.clone()))).unwrap();
    // Put the older (validly tagged) checkpoint back.
    sql(
        &path,
        &format!(
            "UPDATE chain_checkpoints SET seq = {}, head = X'{}', entries = {}, ledger_entries = {}, tag = X'{}' WHERE chain = 'audit'",
            old.seq,
            hex(&old.head),
            old.entries,
            old.ledger_entries,
            hex(&old.tag)
        ),
    );
    assert!(matches!(
        rt.block_on(build(&path, Some(witness.clone()))).map(|_| ()),
        Err(CustodianError::Store(StoreError::RolledBack { .. }))
    ));
    sql(&path, "DELETE FROM chain_checkpoints");
    assert!(matches!(
        rt.block_on(build(&path, Some(witness))).map(|_| ()),
        Err(CustodianError::Store(StoreError::RolledBack { .. }))
    ));
}

#[test]
fn export_then_prune_keeps_the_checkpoint_and_detects_tampering_of_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crm.db");
    let rt = rt();
    rt.block_on(with_reads(&path, 6));
    let c = rt.block_on(build(&path, None)).unwrap();
    let cp = checkpoint(&path).unwrap();
    let mut out = Vec::new();
    let seg = rt.block_on(c.export_audit_segment(&mut out)).unwrap();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["type"], "checkpoint");
    assert_eq!(lines[0]["seq"], cp.seq);
    assert_eq!(seg.entries, cp.seq + 1);
    assert_eq!(lines.len() as u64, cp.seq + 2);
    assert_eq!(lines.last().unwrap()["hash"], hex(&cp.head));
    assert!(
        !text.contains("a@example.com"),
        "personal data in the export"
    );
    // A retention longer than the log's age prunes nothing.
    assert_eq!(
        rt.block_on(c.prune_audit(TimeDelta::days(3650))).unwrap(),
        0
    );
    // Retention zero: everything before the checkpoint goes, its entry stays.
    let pruned = rt.block_on(c.prune_audit(TimeDelta::zero())).unwrap();
    assert_eq!(pruned, cp.seq);
    let left = rt
        .block_on(SqliteStore::open(&path).unwrap().entries(ChainName::Audit))
        .unwrap();
    assert_eq!(left.first().unwrap().seq, cp.seq);
    rt.block_on(c.verify_chains()).unwrap();
    let c = rt.block_on(with_reads(&path, 2));
    rt.block_on(c.verify_chains()).unwrap();
    // Tampering with what remains is still caught, at build and by the full verification.
    sql(
        &path,
        &format!(
            "UPDATE chain_entries SET body = CAST('{{}}' AS BLOB) WHERE chain = 'audit' AND seq = {}",
            cp.seq
        ),
    );
    assert!(rt.block_on(c.verify_chains()).is_err());
    // Deleting the checkpoint of a pruned chain leaves nothing to verify from: refused.
    let dir2 = tempfile::tempdir().unwrap();
    let path2 = dir2.path().join("crm.db");
    rt.block_on(with_reads(&path2, 4));
    let c2 = rt.block_on(build(&path2, None)).unwrap();
    rt.block_on(c2.prune_audit(TimeDelta::zero())).unwrap();
    sql(&path2, "DELETE FROM chain_checkpoints");
    assert!(rt.block_on(build(&path2, None)).is_err());
}

#[test]
fn bad_prune_arguments_are_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crm.db");
    let rt = rt();
    let c = rt.block_on(with_reads(&path, 1));
    assert!(matches!(
        rt.block_on(c.prune_audit(TimeDelta::seconds(-1))),
        Err(CustodianError::Config(_))
    ));
    let store = SqliteStore::open(&path).unwrap();
    let cp = rt
        .block_on(ChainStore::checkpoint(&store, ChainName::Audit))
        .unwrap();
    let past = cp.map_or(1, |c| c.seq + 1);
    assert!(matches!(
        rt.block_on(store.prune(ChainName::Audit, past)),
        Err(StoreError::Misuse { .. })
    ));
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
