//! The retention sweep (clause 9.1): the decision is `retention`'s, the deletions here.

use super::{Custodian, CustodianError, SweepLine};
use crate::data::Category;
use crate::ledger::{AuditEvent, AuditKind};
use crate::purpose::PurposeId;
use crate::retention::{Hold, RecordMeta};

impl Custodian {
    /// Runs the retention sweep (9.1) with no legal holds; see
    /// [`sweep_with_holds`](Self::sweep_with_holds).
    ///
    /// # Errors
    /// Store failures.
    #[cfg_attr(
        feature = "tracing",
        tracing::instrument(skip_all, err(level = "info", Display))
    )]
    pub async fn sweep(&self) -> Result<Vec<SweepLine>, CustodianError> {
        self.sweep_with_holds(&[]).await
    }

    /// Runs the retention sweep (9.1) at the custodian's clock: evaluates the schedule for
    /// every stored record (collected = stored, last activity = last update), deletes —
    /// audited — the records that every rule of their kind's allowed purposes has released
    /// ([`retention::fold`](crate::retention::fold)), unless a legal hold applies, and
    /// reports every record with its deadline. A host kind is swept by the rules of the
    /// purposes its [`host_policy!`](crate::host_policy) declares; a host kind this build does
    /// not register is kept (deadline `None`). Runs the KEK schedule
    /// first ([`rotate_if_due`](Self::rotate_if_due),
    /// [`destroy_expired_keks`](Self::destroy_expired_keks)).
    ///
    /// # Errors
    /// Store failures.
    #[cfg_attr(feature = "tracing", tracing::instrument(skip_all, fields(holds = holds.len()), err(level = "info", Display)))]
    pub async fn sweep_with_holds(&self, holds: &[Hold]) -> Result<Vec<SweepLine>, CustodianError> {
        // The KEK schedule first (6.2): rotate a version whose epoch ended, finish a rotation
        // left half-done, destroy versions whose backups have all aged out.
        self.rotate_if_due().await?;
        self.destroy_expired_keks().await?;
        let now = self.now();
        let mut out = Vec::new();
        let mut after = None;
        loop {
            let page = self.inner.records.metadata_page(after, 1000).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.record);
            for m in page {
                let verdict = match Category::from_name(&m.kind) {
                    Some(c) => crate::retention::fold(
                        PurposeId::ALL
                            .iter()
                            .filter(|&&p| crate::policy::permits(c, p))
                            .map(|&p| {
                                let meta = RecordMeta {
                                    record: m.record,
                                    subject: m.subject,
                                    kind: c,
                                    purpose: p,
                                    collected_at: m.created_at,
                                    last_activity_at: Some(m.updated_at),
                                    account_closed_at: None,
                                    consent_withdrawn_at: None,
                                    purpose_fulfilled_at: None,
                                };
                                self.inner.schedule.evaluate(&meta, holds, now)
                            }),
                    ),
                    // A host kind: every purpose its `host_policy!` declares, folded like
                    // a built-in kind's; a kind this build does not register is kept.
                    None => match crate::policy::host::kind(&m.kind) {
                        Some(row) => crate::retention::fold(row.purposes().iter().map(|p| {
                            self.inner.schedule.evaluate_host(
                                row.name(),
                                p.name,
                                m.subject,
                                m.created_at,
                                Some(m.updated_at),
                                holds,
                                now,
                            )
                        })),
                        None => crate::retention::Verdict::default(),
                    },
                };
                // The metadata page's timestamps are not authenticated on their own: before
                // deleting, open the row with its header, which binds them.
                let verdict = if verdict.delete && !self.timestamps_authentic(&m).await {
                    crate::retention::Verdict::default()
                } else {
                    verdict
                };
                if verdict.delete {
                    self.inner.records.delete(m.record).await?;
                    let mut ev = AuditEvent::new(now, AuditKind::RetentionDeleted, m.subject);
                    ev.record = Some(m.record);
                    ev.data_kind = Some(m.kind.clone());
                    self.commit(None, &[ev]).await?;
                }
                out.push(SweepLine {
                    record: m.record,
                    kind: m.kind,
                    deleted: verdict.delete,
                    deadline: verdict.deadline,
                    held_by: verdict
                        .held_by
                        .and_then(|h| holds.get(h))
                        .map(|h| h.id.clone()),
                });
            }
        }
        Ok(out)
    }

    /// Whether the row's timestamps in a metadata page are the ones sealed with its value.
    async fn timestamps_authentic(&self, m: &crate::store::RecordMeta) -> bool {
        let Ok(row) = self.inner.records.get_versioned(m.record).await else {
            return false;
        };
        if row.sealed.created_at != m.created_at || row.sealed.updated_at != m.updated_at {
            return false;
        }
        match self.data_key(row.sealed.subject).await {
            Ok(key) => key.open_row(&row.header(), &row.sealed.ciphertext).is_ok(),
            Err(_) => false,
        }
    }
}
