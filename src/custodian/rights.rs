//! The subject's rights: restriction (9.1, Art. 18/21), erasure (6.2), rectification (6.1).

use super::write::Plain;
use super::{Custodian, CustodianError, ErasureReport};
use crate::data::{DataKind, KindRef};
use crate::grant::Grant;
use crate::ids::{RecordId, SubjectId};
use crate::ledger::{AuditEvent, AuditKind, LedgerChange};
use crate::purpose::OwnerAccess;
use crate::store::StoreError;

impl Custodian {
    /// Restricts processing (9.1, GDPR Art. 18/21): no new grants except for legal
    /// obligations, and existing grants stop working at once, in every process.
    ///
    /// Restricting an id with no data yet is accepted (it only narrows processing, like a
    /// withdrawal, and holds if the id is registered later).
    ///
    /// # Errors
    /// [`CustodianError::UnknownSubject`] for [`SubjectId::DEPLOYMENT`] (the deployment's
    /// own events are not a person's); store failures.
    #[cfg_attr(feature = "tracing", tracing::instrument(skip_all, fields(subject = %subject), err(level = "info", Display)))]
    pub async fn restrict(&self, subject: SubjectId) -> Result<(), CustodianError> {
        self.status_change(subject, LedgerChange::Restricted, AuditKind::Restricted)
            .await
    }

    /// Lifts a restriction.
    ///
    /// # Errors
    /// [`CustodianError::UnknownSubject`] for [`SubjectId::DEPLOYMENT`]; store failures.
    #[cfg_attr(feature = "tracing", tracing::instrument(skip_all, fields(subject = %subject), err(level = "info", Display)))]
    pub async fn lift_restriction(&self, subject: SubjectId) -> Result<(), CustodianError> {
        self.status_change(
            subject,
            LedgerChange::RestrictionLifted,
            AuditKind::RestrictionLifted,
        )
        .await
    }

    async fn status_change(
        &self,
        subject: SubjectId,
        change: LedgerChange,
        kind: AuditKind,
    ) -> Result<(), CustodianError> {
        self.catch_up().await?;
        if subject == SubjectId::DEPLOYMENT {
            return Err(CustodianError::UnknownSubject(subject));
        }
        self.commit_change(change, AuditEvent::new(self.now(), kind, subject))
            .await
    }

    /// Erases a subject (6.2): grants stop at once, the data key is destroyed and the
    /// records are deleted. A backup taken before holds the key wrapped by a KEK version
    /// until that version is destroyed on its schedule: the report states that date
    /// ([`ErasureReport::undecryptable_after`]). Returns the report to show the subject.
    ///
    /// # Errors
    /// [`CustodianError::UnknownSubject`] for an id never registered (a made-up one, or
    /// [`SubjectId::DEPLOYMENT`]: nothing is recorded for it); store failures; retrying is
    /// safe.
    #[cfg_attr(feature = "tracing", tracing::instrument(skip_all, fields(subject = %subject), err(level = "info", Display)))]
    pub async fn erase(&self, subject: SubjectId) -> Result<ErasureReport, CustodianError> {
        self.catch_up().await?;
        let now = self.now();
        // Computed before anything is changed: an out-of-range instant fails the request
        // whole instead of after the erasure.
        let backups_age_out_by = now
            .checked_add_signed(self.inner.backup_window)
            .ok_or(CustodianError::TimeOutOfRange)?;
        if !self.inner.state.is_erased(subject) {
            self.ensure_registered(subject).await?;
            self.commit_change(
                LedgerChange::Erased,
                AuditEvent::new(now, AuditKind::Erased, subject),
            )
            .await?;
        }
        let records_deleted = self.finish_erasure(subject).await?;
        // Read after the key is gone: a rotation racing with the erasure can only have
        // re-wrapped it under a version no newer than this one.
        let undecryptable_after = self.undecryptable_after().await?;
        Ok(ErasureReport {
            subject,
            erased_at: now,
            records_deleted,
            key_destroyed: true,
            backups_age_out_by,
            undecryptable_after,
            kept: vec![
                "consent ledger entries (ids, scopes, instants): evidence of lawful processing",
                "audit log entries (ids, kinds, purposes, instants): evidence of lawful processing",
            ],
        })
    }

    /// Destroys the key and deletes the records of a subject whose erasure the ledger
    /// holds, then records that it is complete. Idempotent: the build calls it for every
    /// erasure a process left half-done.
    pub(super) async fn finish_erasure(&self, subject: SubjectId) -> Result<u64, CustodianError> {
        match self.inner.keys.delete(subject).await {
            Ok(()) | Err(StoreError::NotFound { .. } | StoreError::Shredded(_)) => {}
            Err(e) => return Err(e.into()),
        }
        let records_deleted = self.inner.records.delete_subject(subject).await?;
        self.catch_up().await?;
        if self.inner.state.is_erasing(subject) {
            self.commit_change(
                LedgerChange::ErasureCompleted,
                AuditEvent::new(self.now(), AuditKind::ErasureCompleted, subject),
            )
            .await?;
        }
        Ok(records_deleted)
    }

    /// Rectifies a field (6.1) through the subject's own session. Kinds marked immutable
    /// for commercial or legal reasons are refused, naming the kind (never the value).
    ///
    /// # Errors
    /// [`CustodianError::Immutable`], [`CustodianError::WrongKind`], access refusals.
    #[cfg_attr(feature = "tracing", tracing::instrument(skip_all, fields(grant = %grant.id(), subject = %grant.subject(), record = %record, kind = K::KIND.name()), err(level = "info", Display)))]
    pub async fn rectify<K: DataKind>(
        &self,
        grant: &Grant<OwnerAccess>,
        record: RecordId,
        value: K,
    ) -> Result<(), CustodianError> {
        let now = self.now();
        self.audited(grant, Some(record), now, async {
            if let KindRef::Builtin(c) = K::KIND {
                if let Some(reason) = self.inner.immutable.get(&c) {
                    return Err(CustodianError::Immutable {
                        kind: c.name(),
                        reason,
                    });
                }
            }
            self.rectify_checked(grant, record, &Plain::of(&value), now)
                .await
        })
        .await
    }

    /// The runtime-typed twin of [`rectify`](Self::rectify) for callers whose kind is a
    /// value (the C ABI): the new value in the text form of `data::text` (see
    /// `docs/ffi.md`), every check of `rectify`.
    ///
    /// # Errors
    /// [`CustodianError::Data`] for a value that does not parse, and the errors of
    /// [`rectify`](Self::rectify).
    #[cfg_attr(feature = "tracing", tracing::instrument(skip_all, fields(grant = %grant.id(), subject = %grant.subject(), record = %record), err(level = "info", Display)))]
    pub async fn rectify_text(
        &self,
        grant: &Grant<OwnerAccess>,
        record: RecordId,
        kind: impl Into<KindRef>,
        text: &str,
    ) -> Result<(), CustodianError> {
        let kind = kind.into();
        let now = self.now();
        self.audited(grant, Some(record), now, async {
            if let KindRef::Builtin(category) = kind {
                if let Some(reason) = self.inner.immutable.get(&category) {
                    return Err(CustodianError::Immutable {
                        kind: category.name(),
                        reason,
                    });
                }
            }
            if text.len() > super::MAX_VALUE_BYTES {
                return Err(CustodianError::TooLarge {
                    kind: kind.name(),
                    max: super::MAX_VALUE_BYTES,
                });
            }
            let enc = crate::policy::host::parse_kind(kind, text)?;
            let plain = Plain {
                kind,
                bytes: enc.bytes,
                lookup: enc.lookup,
            };
            self.rectify_checked(grant, record, &plain, now).await
        })
        .await
    }

    async fn rectify_checked(
        &self,
        grant: &Grant<OwnerAccess>,
        record: RecordId,
        value: &Plain,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), CustodianError> {
        self.admit(grant, now).await?;
        let row = self.visible_row(grant, record).await?;
        if row.sealed.kind != value.kind.name() {
            return Err(CustodianError::WrongKind {
                record,
                expected: value.kind.name(),
                actual: row.sealed.kind,
            });
        }
        let version = row
            .version
            .checked_add(1)
            .ok_or(CustodianError::Config("record version"))?;
        self.write(
            row.sealed.subject,
            record,
            value,
            row.sealed.created_at,
            now,
            version,
            AuditKind::Rectified,
        )
        .await
    }
}
