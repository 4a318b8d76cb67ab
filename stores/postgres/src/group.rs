//! Group commit and checkpoints of the PostgreSQL store's chains.
//!
//! [`ChainStore::append_bodies`](crm_privacy::store::ChainStore::append_bodies) goes
//! through a [`GroupCommit`](crm_privacy::store::GroupCommit) per store value (per process):
//! the appends of concurrent callers are written in one transaction — the anchor rows
//! locked once (`FOR UPDATE`, ledger before audit), every entry inserted with one
//! `UNNEST` statement, the anchors moved, one commit (one WAL flush) — and each caller
//! gets its entries only after that commit. A failed commit fails every caller of the
//! batch with the same typed error and writes nothing. Across processes the anchor row
//! locks still serialise batches, so chain order and hash links stay correct.

use crm_privacy::chain::{self, ChainEntry, Checkpoint};
use crm_privacy::store::{ChainName, PendingBodies, StoreError};
use sqlx::Row;

use super::{PostgresStore, backend, commit_error, hash32, len_i64, lock_anchors, update_anchors};

fn u64_of(v: i64, what: &'static str) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| StoreError::Corrupt { what })
}

impl PostgresStore {
    /// Commits one batch of the group commit in one transaction.
    pub(super) async fn commit_group(
        &self,
        batch: Vec<PendingBodies>,
    ) -> Result<Vec<Vec<ChainEntry>>, StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        let names: Vec<ChainName> = batch.iter().flatten().map(|(c, _)| *c).collect();
        let mut heads = lock_anchors(&mut tx, names.into_iter()).await?;
        let n: usize = batch.iter().map(Vec::len).sum();
        let (mut chains, mut seqs, mut prevs, mut bodies, mut hashes) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        let mut out = Vec::with_capacity(batch.len());
        for request in batch {
            let mut entries = Vec::with_capacity(request.len());
            for (c, body) in request {
                let slot = heads
                    .iter_mut()
                    .find(|(h, _)| *h == c)
                    .ok_or(StoreError::Conflict(c))?;
                let entry = chain::append(&mut slot.1, body);
                chains.push(c.as_str());
                seqs.push(len_i64(entry.seq));
                prevs.push(entry.prev.to_vec());
                bodies.push(entry.body.clone());
                hashes.push(entry.hash.to_vec());
                entries.push(entry);
            }
            out.push(entries);
        }
        sqlx::query(
            "INSERT INTO crm_chain_entries (chain, seq, prev, body, hash)
             SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::bytea[], $4::bytea[], $5::bytea[])",
        )
        .bind(chains)
        .bind(seqs)
        .bind(prevs)
        .bind(bodies)
        .bind(hashes)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        update_anchors(&mut tx, &heads).await?;
        tx.commit().await.map_err(commit_error)?;
        Ok(out)
    }

    pub(super) async fn read_checkpoint(
        &self,
        chain: ChainName,
    ) -> Result<Option<Checkpoint>, StoreError> {
        let row = sqlx::query(
            "SELECT seq, head, entries, ledger_entries, tag FROM crm_chain_checkpoints WHERE chain = $1",
        )
        .bind(chain.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        let what = "chain checkpoint";
        row.map(|r| {
            Ok(Checkpoint {
                seq: u64_of(r.try_get("seq").map_err(backend)?, what)?,
                head: hash32(r.try_get("head").map_err(backend)?, what)?,
                entries: u64_of(r.try_get("entries").map_err(backend)?, what)?,
                ledger_entries: u64_of(r.try_get("ledger_entries").map_err(backend)?, what)?,
                tag: hash32(r.try_get("tag").map_err(backend)?, what)?,
            })
        })
        .transpose()
    }

    pub(super) async fn write_checkpoint(
        &self,
        chain: ChainName,
        cp: &Checkpoint,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        let hash: Option<Vec<u8>> =
            sqlx::query_scalar("SELECT hash FROM crm_chain_entries WHERE chain = $1 AND seq = $2")
                .bind(chain.as_str())
                .bind(len_i64(cp.seq))
                .fetch_optional(&mut *tx)
                .await
                .map_err(backend)?;
        if hash.as_deref() != Some(cp.head.as_slice()) {
            return Err(StoreError::Misuse {
                what: "checkpoint does not match the chain",
            });
        }
        sqlx::query(
            "INSERT INTO crm_chain_checkpoints (chain, seq, head, entries, ledger_entries, tag)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (chain) DO UPDATE SET seq = excluded.seq, head = excluded.head,
               entries = excluded.entries, ledger_entries = excluded.ledger_entries,
               tag = excluded.tag
             WHERE excluded.seq > crm_chain_checkpoints.seq",
        )
        .bind(chain.as_str())
        .bind(len_i64(cp.seq))
        .bind(cp.head.to_vec())
        .bind(len_i64(cp.entries))
        .bind(len_i64(cp.ledger_entries))
        .bind(cp.tag.to_vec())
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(commit_error)
    }

    pub(super) async fn prune_chain(
        &self,
        chain: ChainName,
        before: u64,
    ) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        let seq: Option<i64> =
            sqlx::query_scalar("SELECT seq FROM crm_chain_checkpoints WHERE chain = $1 FOR UPDATE")
                .bind(chain.as_str())
                .fetch_optional(&mut *tx)
                .await
                .map_err(backend)?;
        let Some(seq) = seq else {
            return Err(StoreError::Misuse {
                what: "no checkpoint to prune before",
            });
        };
        if len_i64(before) > seq {
            return Err(StoreError::Misuse {
                what: "pruning would pass the checkpoint",
            });
        }
        let done = sqlx::query("DELETE FROM crm_chain_entries WHERE chain = $1 AND seq < $2")
            .bind(chain.as_str())
            .bind(len_i64(before))
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        tx.commit().await.map_err(commit_error)?;
        Ok(done.rows_affected())
    }

    pub(super) async fn entries_between(
        &self,
        chain: ChainName,
        from: u64,
        limit: Option<usize>,
    ) -> Result<Vec<ChainEntry>, StoreError> {
        let limit = limit.map_or(i64::MAX, |l| i64::try_from(l).unwrap_or(i64::MAX));
        let rows = sqlx::query(
            "SELECT seq, prev, body, hash FROM crm_chain_entries
             WHERE chain = $1 AND seq >= $2 ORDER BY seq LIMIT $3",
        )
        .bind(chain.as_str())
        .bind(len_i64(from))
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter()
            .map(|r| {
                Ok(ChainEntry {
                    seq: u64_of(r.try_get("seq").map_err(backend)?, "chain entry")?,
                    prev: hash32(r.try_get("prev").map_err(backend)?, "chain entry")?,
                    body: r.try_get("body").map_err(backend)?,
                    hash: hash32(r.try_get("hash").map_err(backend)?, "chain entry")?,
                })
            })
            .collect()
    }
}
