//! Group commit and checkpoints of the SQLite store's chains.
//!
//! [`ChainStore::append_bodies`](crm_privacy::store::ChainStore::append_bodies) goes
//! through a [`GroupCommit`](crm_privacy::store::GroupCommit): the appends of concurrent
//! callers (audit events of concurrent reads, above all) are written in one `IMMEDIATE`
//! transaction with one durable commit (WAL, `synchronous = FULL`: one fsync of the data
//! file, plus one of the key file for its witness of the new heads), and each caller gets
//! its own entries back only after that commit. A failed commit fails every caller of the
//! batch with the same typed error and writes nothing. Entries are built on the heads read
//! inside the transaction, which holds SQLite's write lock, so chain order and hash links
//! stay correct across processes too.

use crm_privacy::chain::{self, Anchor, ChainEntry, Checkpoint};
use crm_privacy::store::{ChainName, PendingBodies, StoreError};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::{
    SqliteStore, backend, hash32, lock, read_anchor, read_entries_range, read_key_log,
    read_witness, write_witness,
};

fn i64_of(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn u64_of(v: i64, what: &'static str) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| StoreError::Corrupt { what })
}

pub(super) fn insert_entry(
    conn: &Connection,
    chain: ChainName,
    e: &ChainEntry,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO chain_entries (chain, seq, prev, body, hash) VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .and_then(|mut s| {
        s.execute(params![
            chain.as_str(),
            i64_of(e.seq),
            e.prev.as_slice(),
            e.body,
            e.hash.as_slice()
        ])
    })
    .map_err(backend)?;
    Ok(())
}

impl SqliteStore {
    /// Inside a chain transaction, after its inserts: refuses a data file that the key
    /// file's witness shows was rolled back (fail closed), records the key file's heads,
    /// and writes the new anchors of `heads`.
    pub(super) fn finish_chain_tx(
        &self,
        tx: &Connection,
        heads: &[(ChainName, Anchor)],
    ) -> Result<(), StoreError> {
        let (key_log, witnessed) = {
            let keys = lock(&self.keys);
            let mut w = Vec::with_capacity(heads.len());
            for (chain, _) in heads {
                w.push((*chain, read_witness(&keys, chain.as_str())?));
            }
            (read_key_log(&keys)?, w)
        };
        for (chain, w) in witnessed {
            if let Some((at, head)) = w.and_then(|w| w.len.checked_sub(1).map(|l| (l, w.head))) {
                let entry = read_entries_range(tx, chain, at, Some(1))?;
                match entry.first() {
                    Some(e) if e.seq == at && e.hash == head => {}
                    // Pruned below a checkpoint: the checkpoint vouches for it.
                    Some(e)
                        if e.seq > at
                            && read_checkpoint(tx, chain)?.is_some_and(|c| c.seq >= at) => {}
                    _ => return Err(StoreError::RolledBack { what: "data file" }),
                }
            }
        }
        write_witness(tx, "keys", key_log)?;
        for (chain, anchor) in heads {
            tx.prepare_cached(
                "INSERT INTO chain_anchors (chain, len, head) VALUES (?1, ?2, ?3)
                 ON CONFLICT(chain) DO UPDATE SET len = excluded.len, head = excluded.head",
            )
            .and_then(|mut s| {
                s.execute(params![
                    chain.as_str(),
                    i64_of(anchor.len),
                    anchor.head.as_slice()
                ])
            })
            .map_err(backend)?;
        }
        Ok(())
    }

    /// Commits one batch of the group commit: every caller's bodies, in queue order, built
    /// on the heads read under the write lock, in one transaction.
    pub(super) fn commit_group(
        &self,
        batch: Vec<PendingBodies>,
    ) -> Result<Vec<Vec<ChainEntry>>, StoreError> {
        let mut conn = lock(&self.data);
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(backend)?;
        let mut heads: Vec<(ChainName, Anchor)> = Vec::new();
        let mut out = Vec::with_capacity(batch.len());
        for bodies in batch {
            let mut entries = Vec::with_capacity(bodies.len());
            for (c, body) in bodies {
                let mut head = match heads.iter().find(|(h, _)| *h == c) {
                    Some((_, a)) => *a,
                    None => read_anchor(&tx, c)?,
                };
                let entry = chain::append(&mut head, body);
                insert_entry(&tx, c, &entry)?;
                heads.retain(|(h, _)| *h != c);
                heads.push((c, head));
                entries.push(entry);
            }
            out.push(entries);
        }
        self.finish_chain_tx(&tx, &heads)?;
        tx.commit().map_err(backend)?;
        drop(conn);
        self.witness_data_heads(&heads);
        Ok(out)
    }

    pub(super) fn read_checkpoint(
        &self,
        chain: ChainName,
    ) -> Result<Option<Checkpoint>, StoreError> {
        read_checkpoint(&lock(&self.data), chain)
    }

    pub(super) fn write_checkpoint(
        &self,
        chain: ChainName,
        cp: &Checkpoint,
    ) -> Result<(), StoreError> {
        let mut conn = lock(&self.data);
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(backend)?;
        let at = read_entries_range(&tx, chain, cp.seq, Some(1))?;
        if at
            .first()
            .is_none_or(|e| e.seq != cp.seq || e.hash != cp.head)
        {
            return Err(StoreError::Misuse {
                what: "checkpoint does not match the chain",
            });
        }
        tx.prepare_cached(
            "INSERT INTO chain_checkpoints (chain, seq, head, entries, ledger_entries, tag)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT(chain) DO UPDATE SET seq = excluded.seq, head = excluded.head,
               entries = excluded.entries, ledger_entries = excluded.ledger_entries,
               tag = excluded.tag
             WHERE excluded.seq > chain_checkpoints.seq",
        )
        .and_then(|mut s| {
            s.execute(params![
                chain.as_str(),
                i64_of(cp.seq),
                cp.head.as_slice(),
                i64_of(cp.entries),
                i64_of(cp.ledger_entries),
                cp.tag.as_slice()
            ])
        })
        .map_err(backend)?;
        tx.commit().map_err(backend)
    }

    pub(super) fn prune_chain(&self, chain: ChainName, before: u64) -> Result<u64, StoreError> {
        let mut conn = lock(&self.data);
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(backend)?;
        let Some(cp) = read_checkpoint(&tx, chain)? else {
            return Err(StoreError::Misuse {
                what: "no checkpoint to prune before",
            });
        };
        if before > cp.seq {
            return Err(StoreError::Misuse {
                what: "pruning would pass the checkpoint",
            });
        }
        let n = tx
            .execute(
                "DELETE FROM chain_entries WHERE chain = ?1 AND seq < ?2",
                params![chain.as_str(), i64_of(before)],
            )
            .map_err(backend)?;
        tx.commit().map_err(backend)?;
        Ok(n as u64)
    }
}

/// `seq, head, entries, ledger_entries, tag` as stored.
type CheckpointRow = (i64, Vec<u8>, i64, i64, Vec<u8>);

fn read_checkpoint(conn: &Connection, chain: ChainName) -> Result<Option<Checkpoint>, StoreError> {
    let row: Option<CheckpointRow> = conn
        .prepare_cached(
            "SELECT seq, head, entries, ledger_entries, tag FROM chain_checkpoints WHERE chain = ?1",
        )
        .and_then(|mut s| {
            s.query_row([chain.as_str()], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .optional()
        })
        .map_err(backend)?;
    let what = "chain checkpoint";
    row.map(|(seq, head, entries, ledger_entries, tag)| {
        Ok(Checkpoint {
            seq: u64_of(seq, what)?,
            head: hash32(head, what)?,
            entries: u64_of(entries, what)?,
            ledger_entries: u64_of(ledger_entries, what)?,
            tag: hash32(tag, what)?,
        })
    })
    .transpose()
}
