//! Reviewing the chains: verification, the audit log, checkpoints, export and pruning of
//! old audit segments (see `docs/durability.md`, "Checkpoints").

use chrono::TimeDelta;
use data_encoding::HEXLOWER;
use serde::Serialize;

use super::{ChainReport, Custodian, CustodianError};
use crate::chain::{self, Anchor, ChainEntry, ChainError, Checkpoint};
use crate::ids::GrantId;
use crate::ledger::{self, AuditEvent, AuditKind, LedgerEvent};
use crate::store::{ChainName, StoreError};

/// Entries read per page when exporting or pruning a segment.
const PAGE: usize = 4096;

/// What [`Custodian::export_audit_segment`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AuditSegment {
    /// The checkpoint the segment ends at (its proof).
    pub checkpoint: Checkpoint,
    /// Sequence of the first entry written.
    pub first: u64,
    /// Entries written (up to and including the checkpoint's own entry).
    pub entries: u64,
}

#[derive(Serialize)]
struct CheckpointLine<'a> {
    r#type: &'static str,
    chain: &'static str,
    seq: u64,
    head: &'a str,
    entries: u64,
    ledger_entries: u64,
    tag: &'a str,
}

#[derive(Serialize)]
struct EntryLine<'a> {
    r#type: &'static str,
    seq: u64,
    prev: &'a str,
    hash: &'a str,
    body: &'a str,
    event: &'a AuditEvent,
}

fn sink_failed(e: &std::io::Error) -> CustodianError {
    StoreError::Backend(format!("audit export sink failed: {}", e.kind())).into()
}

impl Custodian {
    /// Verifies both hash chains end to end and that every entry decodes. The audit chain
    /// is checked from its first retained entry: from genesis, or — after
    /// [`prune_audit`](Self::prune_audit) — through the links up to the (tag-checked)
    /// checkpoint, which authenticate every retained entry before it.
    ///
    /// # Errors
    /// The first broken link or undecodable entry; a forged or mismatched checkpoint
    /// ([`ChainError::CheckpointUntrusted`], [`ChainError::CheckpointMismatch`]).
    #[cfg_attr(
        feature = "tracing",
        tracing::instrument(skip_all, err(level = "info", Display))
    )]
    pub async fn verify_chains(&self) -> Result<ChainReport, CustodianError> {
        let mut report = ChainReport {
            ledger_entries: 0,
            audit_entries: 0,
        };
        for name in [ChainName::Ledger, ChainName::Audit] {
            let anchor = self.inner.chains.anchor(name).await?;
            let entries: Vec<ChainEntry> = self.inner.chains.entries(name).await?;
            match name {
                ChainName::Ledger => drop(chain::verify_reaches(&entries, &anchor)?),
                ChainName::Audit => match self.trusted_checkpoint().await? {
                    Some(cp) => drop(chain::verify_checkpointed(&cp, &entries, &anchor)?),
                    None => drop(chain::verify_reaches(&entries, &anchor)?),
                },
            }
            for e in &entries {
                match name {
                    ChainName::Ledger => drop(ledger::decode::<LedgerEvent>(e)?),
                    ChainName::Audit => drop(ledger::decode::<AuditEvent>(e)?),
                }
            }
            let n = entries.len() as u64;
            match name {
                ChainName::Ledger => report.ledger_entries = n,
                ChainName::Audit => report.audit_entries = n,
            }
        }
        Ok(report)
    }

    /// The store's audit checkpoint, if any, after checking that it is not behind the one
    /// the witness published and that its tag verifies under this keyring.
    async fn trusted_checkpoint(&self) -> Result<Option<Checkpoint>, CustodianError> {
        let cp = self.inner.chains.checkpoint(ChainName::Audit).await?;
        if let Some(w) = &self.inner.witness {
            let seen = w.latest_checkpoint(ChainName::Audit).await?;
            crate::store::check_checkpoint_reaches(cp.as_ref(), seen.as_ref())?;
        }
        if let Some(c) = &cp {
            let msg = c.message(ChainName::Audit.as_str());
            if !self.inner.keyring.verify_ledger_tag(&msg, &c.tag) {
                return Err(ChainError::CheckpointUntrusted { seq: c.seq }.into());
            }
        }
        Ok(cp)
    }

    /// At build: verifies the audit chain from its last checkpoint to `anchor` (read
    /// before), or from genesis when there is none — O(entries since the checkpoint) — then
    /// takes a new checkpoint there.
    pub(super) async fn verify_audit_at_build(&self, anchor: Anchor) -> Result<(), CustodianError> {
        let chains = &self.inner.chains;
        let cp = self.trusted_checkpoint().await?;
        match &cp {
            Some(cp) => {
                let entries = chains.entries_from(ChainName::Audit, cp.seq).await?;
                chain::verify_checkpointed(cp, &entries, &anchor)?;
            }
            None => {
                chain::verify_reaches(&chains.entries(ChainName::Audit).await?, &anchor)?;
            }
        }
        self.store_checkpoint(cp.as_ref(), anchor).await
    }

    /// Stores (and publishes to the witness) a checkpoint at `anchor`, which was verified,
    /// unless `last` is already there. A store that keeps no checkpoints is left as it is.
    async fn store_checkpoint(
        &self,
        last: Option<&Checkpoint>,
        anchor: Anchor,
    ) -> Result<(), CustodianError> {
        let ledger_len = self.inner.chains.anchor(ChainName::Ledger).await?.len;
        let Some(mut cp) = Checkpoint::at(anchor, ledger_len) else {
            return Ok(());
        };
        if last.is_some_and(|l| l.seq >= cp.seq) {
            return Ok(());
        }
        cp.tag = self
            .inner
            .keyring
            .ledger_tag(&cp.message(ChainName::Audit.as_str()));
        match self
            .inner
            .chains
            .put_checkpoint(ChainName::Audit, &cp)
            .await
        {
            Ok(()) => {}
            Err(StoreError::Misuse { .. }) if last.is_none() => return Ok(()),
            Err(e) => return Err(e.into()),
        }
        if let Some(w) = &self.inner.witness {
            w.publish_checkpoint(ChainName::Audit, &cp).await?;
        }
        Ok(())
    }

    /// Verifies the audit chain from the last checkpoint to its current head and takes a
    /// new checkpoint there (build does the same; call this on a schedule in a long-running
    /// process so that [`prune_audit`](Self::prune_audit) has a recent checkpoint). Returns
    /// the newest checkpoint, or `None` for an empty chain or a store without checkpoints.
    ///
    /// # Errors
    /// A broken link, a forged or mismatched checkpoint, store failures.
    pub async fn checkpoint_audit(&self) -> Result<Option<Checkpoint>, CustodianError> {
        let anchor = self.inner.chains.anchor(ChainName::Audit).await?;
        self.verify_audit_at_build(anchor).await?;
        Ok(self.inner.chains.checkpoint(ChainName::Audit).await?)
    }

    /// Writes the audit segment that ends at the newest checkpoint — every retained entry up
    /// to and including the checkpoint's own — to `out` as JSON lines: first the checkpoint
    /// (`"type":"checkpoint"`, its sequence, head, counts and tag, hex), then one line per
    /// entry (`"type":"entry"`, sequence, `prev`, `hash`, the exact `body` in hex, and the
    /// decoded `event`). With the hash links a reader checks the segment offline: each entry
    /// hashes to `hash`, links to the one before, and the last carries the checkpoint's
    /// head. Events carry ids and codes, never personal data.
    ///
    /// # Errors
    /// [`ChainError::CheckpointMismatch`] without a checkpoint; a broken link or a forged
    /// checkpoint; store failures; a failing `out` (as a [`StoreError::Backend`] naming the
    /// I/O error kind).
    pub async fn export_audit_segment(
        &self,
        out: &mut (dyn std::io::Write + Send),
    ) -> Result<AuditSegment, CustodianError> {
        let cp = self
            .trusted_checkpoint()
            .await?
            .ok_or(ChainError::CheckpointMismatch { seq: 0 })?;
        let head = HEXLOWER.encode(&cp.head);
        let tag = HEXLOWER.encode(&cp.tag);
        let line = CheckpointLine {
            r#type: "checkpoint",
            chain: ChainName::Audit.as_str(),
            seq: cp.seq,
            head: &head,
            entries: cp.entries,
            ledger_entries: cp.ledger_entries,
            tag: &tag,
        };
        serde_json::to_writer(&mut *out, &line)
            .map_err(|e| sink_failed(&std::io::Error::from(e)))?;
        out.write_all(b"\n").map_err(|e| sink_failed(&e))?;
        let mut first = None;
        let mut written = 0_u64;
        self.walk_segment(&cp, |e| {
            first.get_or_insert(e.seq);
            let event = ledger::decode::<AuditEvent>(e)?;
            let (prev, hash, body) = (
                HEXLOWER.encode(&e.prev),
                HEXLOWER.encode(&e.hash),
                HEXLOWER.encode(&e.body),
            );
            let line = EntryLine {
                r#type: "entry",
                seq: e.seq,
                prev: &prev,
                hash: &hash,
                body: &body,
                event: &event,
            };
            serde_json::to_writer(&mut *out, &line)
                .map_err(|e| sink_failed(&std::io::Error::from(e)))?;
            out.write_all(b"\n").map_err(|e| sink_failed(&e))?;
            written += 1;
            Ok(true)
        })
        .await?;
        out.flush().map_err(|e| sink_failed(&e))?;
        Ok(AuditSegment {
            checkpoint: cp,
            first: first.unwrap_or(cp.seq),
            entries: written,
        })
    }

    /// Walks the retained audit entries up to and including `cp.seq`, page by page,
    /// verifying each link and that the last carries the checkpoint's head; `visit` returns
    /// `false` to stop early.
    async fn walk_segment(
        &self,
        cp: &Checkpoint,
        mut visit: impl FnMut(&ChainEntry) -> Result<bool, CustodianError>,
    ) -> Result<(), CustodianError> {
        let mismatch = ChainError::CheckpointMismatch { seq: cp.seq };
        let mut from = 0_u64;
        let mut at: Option<Anchor> = None;
        loop {
            let page = self
                .inner
                .chains
                .entries_range(ChainName::Audit, from, PAGE)
                .await?;
            let Some(last) = page.last() else {
                return Err(mismatch.into());
            };
            from = last.seq + 1;
            for e in &page {
                if e.seq > cp.seq {
                    return Err(mismatch.into());
                }
                let start = at.unwrap_or(Anchor {
                    len: e.seq,
                    head: if e.seq == 0 { chain::GENESIS } else { e.prev },
                });
                at = Some(chain::verify_from(start, std::slice::from_ref(e))?);
                if !visit(e)? {
                    return Ok(());
                }
                if e.seq == cp.seq {
                    return if e.hash == cp.head {
                        Ok(())
                    } else {
                        Err(mismatch.into())
                    };
                }
            }
        }
    }

    /// Deletes audit entries older than the host's retention for audit evidence
    /// (`retention`, clause 9.1: keep what proves lawful processing as long as the host must)
    /// that lie before the newest checkpoint. The checkpoint's own entry and everything
    /// after it are always kept, so verification starts at the checkpoint and still detects
    /// tampering with what remains. Export the segment first
    /// ([`export_audit_segment`](Self::export_audit_segment)) if it must be archived.
    /// Returns how many entries were deleted (0 without a checkpoint).
    ///
    /// # Errors
    /// [`CustodianError::Config`] for a negative retention; a broken link in the segment or a
    /// forged checkpoint (nothing is deleted then); store failures.
    pub async fn prune_audit(&self, retention: TimeDelta) -> Result<u64, CustodianError> {
        if retention < TimeDelta::zero() {
            return Err(CustodianError::Config("audit evidence retention"));
        }
        let cutoff = self
            .now()
            .checked_sub_signed(retention)
            .ok_or(CustodianError::TimeOutOfRange)?;
        let Some(cp) = self.trusted_checkpoint().await? else {
            return Ok(0);
        };
        // The prunable prefix: entries before the checkpoint older than the cutoff, up to
        // the first one that is not (the walk also verifies the links up to the checkpoint).
        let mut before = cp.seq;
        let mut found = false;
        self.walk_segment(&cp, |e| {
            if !found && ledger::decode::<AuditEvent>(e)?.at >= cutoff {
                before = e.seq;
                found = true;
            }
            Ok(true)
        })
        .await?;
        Ok(self.inner.chains.prune(ChainName::Audit, before).await?)
    }

    /// The audit events (decoded), for review.
    ///
    /// # Errors
    /// Store failures or an undecodable entry.
    #[cfg_attr(
        feature = "tracing",
        tracing::instrument(skip_all, err(level = "info", Display))
    )]
    pub async fn audit_events(&self) -> Result<Vec<AuditEvent>, CustodianError> {
        let entries = self.inner.chains.entries(ChainName::Audit).await?;
        entries
            .iter()
            .map(|e| Ok(ledger::decode::<AuditEvent>(e)?))
            .collect()
    }

    /// The purpose of a grant id, if it appears in the audit log (for investigations).
    ///
    /// # Errors
    /// As [`audit_events`](Self::audit_events).
    #[cfg_attr(feature = "tracing", tracing::instrument(skip_all, fields(grant = %grant), err(level = "info", Display)))]
    pub async fn grant_purpose(&self, grant: GrantId) -> Result<Option<String>, CustodianError> {
        Ok(self
            .audit_events()
            .await?
            .into_iter()
            .find(|e| e.grant == Some(grant) && e.kind == AuditKind::GrantIssued)
            .and_then(|e| e.purpose))
    }
}
