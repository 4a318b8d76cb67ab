//! Blind-index key rotation (issue 16): re-sealing every record whose blind index was
//! computed under an older key version, and moving the chains' checkpoints under the
//! current key so that the previous one can be dropped. The procedure and the reasoning
//! about ledger tags are in `docs/keys.md`.
//!
//! A record's blind index is bound into its row's associated data, so it cannot be
//! replaced alone: the re-index opens the row, recomputes the index from the value under
//! the current key, and seals the row again at the next version (timestamps unchanged: a
//! re-index is not an update of the value and does not restart a retention period). The
//! row is replaced only if it is still at the version read
//! ([`RecordStore::replace_versioned`](crate::store::RecordStore::replace_versioned)), so a
//! concurrent rewrite wins and a record deleted meanwhile (erasure, withdrawal, retention)
//! stays deleted. Plaintext exists only inside this call, as in every sealed write.

use std::sync::atomic::Ordering;

use serde::Serialize;

use super::{Custodian, CustodianError};
use crate::chain::{ChainError, Checkpoint};
use crate::crypto::CryptoError;
use crate::data::Category;
use crate::ids::SubjectId;
use crate::ledger::{self, AuditEvent, AuditKind, LedgerChange, LedgerEvent};
use crate::store::{ChainName, SealedRecord, VersionedRecord};

/// What a re-index under the current blind-index key did
/// ([`Custodian::finish_index_rotation`], [`Custodian::reindex_step`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct IndexRotation {
    /// The current blind-index key version (the one every record is moved to).
    pub version: u32,
    /// Records re-sealed under it by this call.
    pub reindexed: u64,
    /// Records of erased subjects found: never re-sealed, deleted (what their erasure
    /// requires).
    pub erased_skipped: u64,
    /// Records still indexed under an older version after this call.
    pub remaining: u64,
    /// Nothing remains and the chains' checkpoints are under the current key: the previous
    /// key may now be dropped from the configuration.
    pub finished: bool,
}

/// Records read per page of a re-index.
const PAGE: usize = 128;
/// Passes [`Custodian::finish_index_rotation`] makes at most (a pass that re-indexes
/// nothing ends it early).
const PASSES: usize = 4;

/// What happened to one row.
enum Outcome {
    Reindexed,
    Erased,
    /// Rewritten or deleted by someone else since it was read.
    Overtaken,
}

impl Custodian {
    /// Re-indexes up to `max_records` records still indexed under an older blind-index key
    /// version (bounded work per call, for hosts that spread a re-index over time). Does
    /// not finish the rotation (see [`finish_index_rotation`](Self::finish_index_rotation));
    /// `finished` is always false.
    ///
    /// # Errors
    /// Store and crypto failures (a record that fails to open is an error, never skipped:
    /// it would stay indexed under the old key). Retrying is safe.
    pub async fn reindex_step(&self, max_records: usize) -> Result<IndexRotation, CustodianError> {
        let mut report = self.empty_report();
        self.reindex_pass(max_records, &mut report).await?;
        report.remaining = self.count_remaining().await?;
        Ok(report)
    }

    /// Finishes a blind-index key rotation: re-seals every record indexed under an older
    /// key version with its index under the current one (through the sealed write path,
    /// each audited as [`AuditKind::Reindexed`]), never re-sealing a record of an erased
    /// subject (such a leftover is deleted instead), then — once
    /// none remains and the previous key is held — takes checkpoints of the ledger and the
    /// audit log tagged under the current key, so that entries tagged under the previous
    /// key stay verifiable after it is dropped. Readers and writers may run meanwhile:
    /// lookups query both versions, new records are indexed under the current one.
    /// Resumable and idempotent: killed midway, the next call finishes; with nothing left
    /// it only reports.
    ///
    /// `finished` says whether the previous key may be dropped. It stays false while
    /// records remain (a process still writing with the old key only, or a record
    /// rewritten concurrently on every pass): call it again.
    ///
    /// # Errors
    /// Store and crypto failures, [`StoreError::Misuse`](crate::store::StoreError::Misuse)
    /// from a chain store that keeps no checkpoints. Retrying is safe.
    pub async fn finish_index_rotation(&self) -> Result<IndexRotation, CustodianError> {
        let mut report = self.empty_report();
        for _ in 0..PASSES {
            let before = report.reindexed;
            self.reindex_pass(usize::MAX, &mut report).await?;
            report.remaining = self.count_remaining().await?;
            if report.remaining == 0 || report.reindexed == before {
                break;
            }
        }
        if report.remaining > 0 {
            return Ok(report);
        }
        if self.inner.keyring.previous_index_version().is_some() {
            self.checkpoint_under_current_index().await?;
        }
        report.finished = true;
        Ok(report)
    }

    fn empty_report(&self) -> IndexRotation {
        IndexRotation {
            version: self.inner.keyring.index_version,
            reindexed: 0,
            erased_skipped: 0,
            remaining: 0,
            finished: false,
        }
    }

    async fn count_remaining(&self) -> Result<u64, CustodianError> {
        Ok(self
            .inner
            .records
            .count_indexed_below(self.inner.keyring.index_version)
            .await?)
    }

    /// One pass over the records still indexed under an older version, up to `max`.
    async fn reindex_pass(
        &self,
        max: usize,
        report: &mut IndexRotation,
    ) -> Result<(), CustodianError> {
        let version = self.inner.keyring.index_version;
        self.catch_up().await?;
        let mut after = None;
        let mut visited = 0_usize;
        while visited < max {
            let want = PAGE.min(max.saturating_sub(visited));
            let page = self
                .inner
                .records
                .indexed_below(version, after, want)
                .await?;
            let Some(last) = page.last() else {
                break;
            };
            after = Some(last.sealed.record);
            for row in page {
                visited = visited.saturating_add(1);
                match self.reindex_row(row, version).await? {
                    Outcome::Reindexed => report.reindexed = report.reindexed.saturating_add(1),
                    Outcome::Erased => {
                        report.erased_skipped = report.erased_skipped.saturating_add(1);
                    }
                    Outcome::Overtaken => {}
                }
            }
        }
        Ok(())
    }

    /// Re-seals one row with its blind index under key version `version`.
    async fn reindex_row(
        &self,
        row: VersionedRecord,
        version: u32,
    ) -> Result<Outcome, CustodianError> {
        let subject = row.sealed.subject;
        // A row of an erased subject is never re-sealed: it is deleted, as the erasure
        // requires (clause 6.2; a row left by an erasure that did not finish, or written
        // back by a racing writer). Its key is destroyed, so it is unreadable anyway.
        let erased = if self.inner.state.is_erased(subject) {
            None
        } else {
            match self.data_key(subject).await {
                Ok(k) => Some(k),
                Err(CustodianError::Crypto(CryptoError::Shredded)) => None,
                Err(e) => return Err(e),
            }
        };
        let Some(key) = erased else {
            self.inner.records.delete(row.sealed.record).await?;
            return Ok(Outcome::Erased);
        };
        let plain = key.open_row(&row.header(), &row.sealed.ciphertext)?;
        let blind_index = match Category::from_name(&row.sealed.kind) {
            Some(c) => crate::data::text::lookup_key(c, &plain)?
                .map(|v| self.inner.keyring.blind_index(c, &v)),
            None => None,
        };
        let mut next = VersionedRecord {
            sealed: SealedRecord {
                ciphertext: Vec::new(),
                blind_index,
                index_version: version,
                ..row.sealed.clone()
            },
            version: row
                .version
                .checked_add(1)
                .ok_or(CustodianError::Config("record version"))?,
        };
        next.sealed.ciphertext = key.seal_row(&next.header(), &plain)?;
        drop(plain);
        // The audit entry first, as in every write: a failure after it leaves an entry for
        // a rewrite that did not land, never a rewrite no entry accounts for.
        let mut ev = AuditEvent::new(self.now(), AuditKind::Reindexed, subject);
        ev.record = Some(row.sealed.record);
        ev.data_kind = Some(row.sealed.kind.clone());
        ev.reference = Some(format!(
            "version {}, index key version {version}",
            next.version
        ));
        self.commit(None, &[ev]).await?;
        if self
            .inner
            .records
            .replace_versioned(next, row.version)
            .await?
        {
            Ok(Outcome::Reindexed)
        } else {
            Ok(Outcome::Overtaken)
        }
    }

    /// Checkpoints the ledger at its head and the audit log at its head, both tagged under
    /// the current key, after verifying every entry since the last checkpoints (under the
    /// current or previous key). Entries before them are vouched for by the checkpoints'
    /// heads from then on, whichever key tagged them.
    async fn checkpoint_under_current_index(&self) -> Result<(), CustodianError> {
        // A ledger entry under the current key marks the switch (and makes the ledger
        // grow, so the checkpoint below is a new one even when nothing else was written
        // since the last rotation's).
        let version = self.inner.keyring.index_version;
        let mut ev = AuditEvent::new(self.now(), AuditKind::Reindexed, SubjectId::DEPLOYMENT);
        ev.reference = Some(format!(
            "blind-index rotation finished, index key version {version}"
        ));
        self.commit_change(LedgerChange::IndexKeyRotated { version }, ev)
            .await?;
        self.sync().await?;
        let seen = *self.seen();
        if let Some(mut cp) = Checkpoint::at(seen, seen.len) {
            cp.tag = self
                .inner
                .keyring
                .ledger_tag(&cp.message(ChainName::Ledger.as_str()));
            self.inner
                .chains
                .put_checkpoint(ChainName::Ledger, &cp)
                .await?;
            self.inner
                .keyring
                .ledger_attested
                .fetch_max(seen.len, Ordering::SeqCst);
        }
        let audit = self.inner.chains.anchor(ChainName::Audit).await?;
        self.verify_audit_at_build(audit).await
    }

    /// At build: trusts the ledger checkpoint, if any, when its tag verifies under a held
    /// index key and the entry it names has its head; entries up to it are then not
    /// checked one by one (the replay checks every link up to that head).
    pub(super) async fn attest_ledger_at_build(&self) -> Result<(), CustodianError> {
        let chains = &self.inner.chains;
        let Some(cp) = chains.checkpoint(ChainName::Ledger).await? else {
            return Ok(());
        };
        let untrusted = ChainError::CheckpointUntrusted { seq: cp.seq };
        if !self
            .inner
            .keyring
            .verify_ledger_tag(&cp.message(ChainName::Ledger.as_str()), &cp.tag)
        {
            return Err(untrusted.into());
        }
        let at = chains.entries_range(ChainName::Ledger, cp.seq, 1).await?;
        match at.first() {
            Some(e) if e.seq == cp.seq && e.hash == cp.head => {}
            _ => return Err(untrusted.into()),
        }
        self.inner
            .keyring
            .ledger_attested
            .fetch_max(cp.seq.saturating_add(1), Ordering::SeqCst);
        Ok(())
    }

    /// At a build without the previous key (current version above 1): the first ledger
    /// entry no checkpoint vouches for must be tagged under the current key, or the
    /// rotation was not finished ([`CustodianError::IndexRotationUnfinished`] rather than
    /// a bare untagged entry).
    pub(super) async fn check_ledger_under_current_index(&self) -> Result<(), CustodianError> {
        let from = self.inner.keyring.ledger_attested.load(Ordering::SeqCst);
        let first = self
            .inner
            .chains
            .entries_range(ChainName::Ledger, from, 1)
            .await?;
        if let Some(e) = first.first() {
            let ev = ledger::decode::<LedgerEvent>(e)?;
            if !self.tag_verifies_current(&ev) {
                return Err(CustodianError::IndexRotationUnfinished { remaining: 0 });
            }
        }
        Ok(())
    }
}
