//! Keeping up with the ledger, and committing events to the two chains.

use std::sync::atomic::Ordering;
use std::sync::{MutexGuard, PoisonError};

use super::{Custodian, CustodianError};
use crate::chain::{self, Anchor, ChainEntry};
use crate::ledger::{self, AuditEvent, LedgerChange, LedgerEvent};
use crate::store::{ChainName, StoreError};

impl Custodian {
    pub(super) fn seen(&self) -> MutexGuard<'_, Anchor> {
        self.inner
            .seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Before a decision: apply what other processes wrote to the ledger since the last
    /// look (the default for every store; a cheap read when nothing moved).
    pub(super) async fn catch_up(&self) -> Result<(), CustodianError> {
        if self.inner.catch_up {
            self.sync().await?;
        }
        Ok(())
    }

    /// Catches up with ledger entries written since the last sync (by this or another
    /// process), verifying each link, applying them in chain order.
    pub(super) async fn sync(&self) -> Result<(), CustodianError> {
        let from = self.seen().len;
        let entries = self
            .inner
            .chains
            .entries_from(ChainName::Ledger, from)
            .await?;
        if entries.is_empty() {
            return Ok(());
        }
        let mut events = Vec::with_capacity(entries.len());
        // Entries up to a ledger checkpoint tagged under a held key are vouched for by it
        // (they may be tagged under a blind-index key version no longer held); the link
        // checks below tie them to the checkpoint's head.
        let attested = self.inner.keyring.ledger_attested.load(Ordering::SeqCst);
        // Once the ledger records that the rotation to the current index key finished,
        // entries after it verify under the current key alone — even while a host still
        // configures the previous key, whose holder could otherwise keep tagging entries
        // (outside review).
        let current = self.inner.keyring.index_version;
        let mut current_only = self.inner.state.index_rotated_to() >= Some(current);
        for e in &entries {
            let ev = ledger::decode::<LedgerEvent>(e)?;
            let verifies = if current_only {
                self.tag_verifies_current(&ev)
            } else {
                self.tag_verifies(&ev)
            };
            if e.seq >= attested && !verifies {
                return Err(CustodianError::UntaggedLedgerEntry { seq: e.seq });
            }
            if let LedgerChange::IndexKeyRotated { version } = ev.change {
                current_only |= version >= current;
            }
            events.push(ev);
        }
        let mut seen = self.seen();
        let mut changed = false;
        for (e, ev) in entries.iter().zip(&events) {
            changed |= self.apply_next(&mut seen, e, ev)?;
        }
        drop(seen);
        if changed {
            self.inner.epoch.bump();
            self.inner.state.prune_revoked_if_due(self.now());
        }
        Ok(())
    }

    /// Whether the event carries this keyring's tag over its untagged encoding (under the
    /// current or, during a rotation, the previous blind-index key).
    fn tag_verifies(&self, ev: &LedgerEvent) -> bool {
        Self::event_tag(ev)
            .is_some_and(|(body, tag)| self.inner.keyring.verify_ledger_tag(&body, &tag))
    }

    /// Whether the event's tag verifies under the current blind-index key alone.
    pub(super) fn tag_verifies_current(&self, ev: &LedgerEvent) -> bool {
        Self::event_tag(ev)
            .is_some_and(|(body, tag)| self.inner.keyring.verify_ledger_tag_current(&body, &tag))
    }

    /// The untagged encoding of `ev` and its decoded tag, if it carries one.
    fn event_tag(ev: &LedgerEvent) -> Option<(Vec<u8>, Vec<u8>)> {
        let tag = ev.tag.as_deref()?;
        let tag = data_encoding::HEXLOWER.decode(tag.as_bytes()).ok()?;
        let mut bare = ev.clone();
        bare.tag = None;
        Some((ledger::encode(&bare), tag))
    }

    /// Commits an optional ledger event and audit events in one all-or-nothing append (the
    /// store places them under its own lock, or retries), then applies the ledger change.
    #[cfg_attr(feature = "tracing", tracing::instrument(level = "trace", skip_all, fields(ledger = ledger.is_some(), audit_events = audit.len()), err(level = "warn", Display)))]
    pub(super) async fn commit(
        &self,
        ledger: Option<&LedgerEvent>,
        audit: &[AuditEvent],
    ) -> Result<(), CustodianError> {
        let mut bodies = Vec::with_capacity(audit.len() + 1);
        if let Some(ev) = ledger {
            bodies.push((ChainName::Ledger, ledger::encode(ev)));
        }
        bodies.extend(
            audit
                .iter()
                .map(|ev| (ChainName::Audit, ledger::encode(ev))),
        );
        let written = match self.inner.chains.append_bodies(bodies).await {
            Ok(w) => w,
            Err(StoreError::Conflict(c)) => return Err(CustodianError::Contended(c)),
            Err(e) => return Err(e.into()),
        };
        if ledger.is_some() {
            if let Some(w) = &self.inner.witness {
                w.publish(&self.inner.chains.heads().await?).await?;
            }
        }
        if let Some(ev) = ledger {
            // Our entry is the first written. When it sits right after what this process
            // has applied, apply it here; otherwise other writers came in between, so catch
            // up from the store, in chain order (ours included). Either way the epoch bumps.
            let own = written.first().is_some_and(|e| self.apply_own(e, ev));
            if !own {
                self.sync().await?;
            }
        }
        Ok(())
    }

    /// Commits a ledger change together with the audit event that records it.
    #[cfg_attr(
        feature = "tracing",
        tracing::instrument(level = "trace", skip_all, err(level = "warn", Display))
    )]
    pub(super) async fn commit_change(
        &self,
        change: LedgerChange,
        audit: AuditEvent,
    ) -> Result<(), CustodianError> {
        let mut event = LedgerEvent {
            at: audit.at,
            subject: audit.subject,
            change,
            tag: None,
        };
        let tag = self.inner.keyring.ledger_tag(&ledger::encode(&event));
        event.tag = Some(data_encoding::HEXLOWER.encode(&tag));
        self.commit(Some(&event), &[audit]).await
    }

    /// Applies `event`, held by `entry`, if `entry` is the next link after `seen`; an entry
    /// before `seen` was applied by a concurrent sync and is skipped (`Ok(false)`).
    fn apply_next(
        &self,
        seen: &mut Anchor,
        entry: &ChainEntry,
        event: &LedgerEvent,
    ) -> Result<bool, chain::ChainError> {
        if entry.seq < seen.len {
            return Ok(false);
        }
        let next = chain::verify_from(*seen, std::slice::from_ref(entry))?;
        self.inner.state.apply(event);
        *seen = next;
        Ok(true)
    }

    /// Applies this process's own ledger entry without asking the store again, if it
    /// directly follows what has been applied (or was already applied by a concurrent
    /// sync). Returns false when other writers came in between (or the link does not
    /// verify): the caller then catches up from the store, which reports a broken link.
    fn apply_own(&self, entry: &ChainEntry, event: &LedgerEvent) -> bool {
        let mut seen = self.seen();
        match self.apply_next(&mut seen, entry, event) {
            Ok(true) => {
                drop(seen);
                self.inner.epoch.bump();
                true
            }
            Ok(false) => true, // a concurrent sync applied it (and bumped the epoch)
            Err(_) => false,
        }
    }
}
