//! Policy changes (clause 10): versions published in the ledger with the clause-10.1
//! fingerprint of the compiled table, and notices of significant versions (10.2) delivered
//! through the host's [`Notifier`], recorded, retried and reported.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Custodian, CustodianError};
use crate::consent::{CollectionMethod, ConsentScope};
use crate::grant::UserSession;
use crate::ids::{ConsentId, SubjectId};
use crate::ledger::{AuditEvent, AuditKind, LedgerChange};
use crate::policy::versions::{PolicyHistory, PolicyVersion, confidentiality_fingerprint};

/// The host's channel to its users (email, in-app message): delivers the notice of a
/// significant policy version (clause 10.2) to one subject. The host looks the subject's
/// contact up through its own grant (for example `Grant<Notification>`); the custodian
/// records only that the notice went out.
#[async_trait]
pub trait Notifier: Send + Sync {
    /// Delivers the notice of `version` to `subject`.
    ///
    /// # Errors
    /// Any delivery failure: the custodian records a failed attempt (without the error,
    /// which may name an address) and retries at the next run.
    async fn notify(&self, subject: SubjectId, version: &PolicyVersion) -> Result<(), NotifyError>;
}

/// A notice could not be delivered (the custodian keeps no detail).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the notice could not be delivered")]
pub struct NotifyError;

/// What one delivery run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NoticeRun {
    /// The version whose notices were sent (`None`: no significant version in force).
    pub version: Option<u32>,
    /// Notices delivered in this run.
    pub delivered: u64,
    /// Attempts that failed in this run (retried at the next).
    pub failed: u64,
    /// Subjects still without a delivered notice after this run.
    pub pending: u64,
}

/// Who has been told of a version, who not (clause 10.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeReport {
    /// The version.
    pub version: u32,
    /// Subjects with no delivered notice yet, with the failed attempts so far.
    pub not_told: Vec<(SubjectId, u32)>,
    /// Subjects told but who have not acknowledged the version.
    pub told_not_acknowledged: Vec<SubjectId>,
    /// Subjects who acknowledged it.
    pub acknowledged: Vec<SubjectId>,
}

impl Custodian {
    /// Publishes policy version `number`, in force from `effective`, in the ledger, with the
    /// clause-10.1 fingerprint of the compiled policy table. Refused if the number does not
    /// increase, the date goes back, or the table's confidentiality provisions differ from
    /// those of the versions already published (a release that changed clause 7 or 8 of
    /// the table cannot publish on this deployment). A significant version is then due to
    /// every subject: [`deliver_policy_notices`](Self::deliver_policy_notices). The first
    /// version a deployment publishes is always significant, whatever `significant` says:
    /// no subject has been told of any policy yet (10.2).
    ///
    /// # Errors
    /// [`CustodianError::Version`]; store failures.
    #[cfg_attr(
        feature = "tracing",
        tracing::instrument(skip_all, fields(number), err(level = "info", Display))
    )]
    pub async fn publish_policy(
        &self,
        number: u32,
        effective: DateTime<Utc>,
        significant: bool,
    ) -> Result<PolicyVersion, CustodianError> {
        self.publish_policy_fingerprinted(
            number,
            effective,
            significant,
            confidentiality_fingerprint(),
        )
        .await
    }

    pub(super) async fn publish_policy_fingerprinted(
        &self,
        number: u32,
        effective: DateTime<Utc>,
        significant: bool,
        fingerprint: String,
    ) -> Result<PolicyVersion, CustodianError> {
        self.catch_up().await?;
        let version = match self.inner.state.policy_history() {
            None => PolicyHistory::starting_with(number, effective, fingerprint)
                .versions()
                .first()
                .cloned(),
            Some(mut h) => Some(
                h.publish_fingerprinted(number, effective, significant, fingerprint)?
                    .clone(),
            ),
        }
        .ok_or(crate::policy::versions::VersionError::NotIncreasing(number))?;
        let mut ev = AuditEvent::new(
            self.now(),
            AuditKind::PolicyPublished,
            SubjectId::DEPLOYMENT,
        );
        ev.reference = Some(format!("policy version {number}"));
        self.commit_change(
            LedgerChange::PolicyPublished {
                number: version.number,
                effective: version.effective,
                significant: version.significant,
                confidentiality_fingerprint: version.confidentiality_fingerprint.clone(),
            },
            ev,
        )
        .await?;
        self.catch_up().await?;
        Ok(version)
    }

    /// The published versions, oldest first.
    ///
    /// # Errors
    /// Store failures.
    pub async fn policy_versions(&self) -> Result<Vec<PolicyVersion>, CustodianError> {
        self.catch_up().await?;
        Ok(self.inner.state.policy_versions())
    }

    /// Delivers the notice of the latest significant version in force (by the custodian's
    /// clock) to at most `max` subjects not told yet, in subject-id order; a subject whose
    /// delivery failed stays pending and is retried by the next run. Each outcome is a
    /// ledger entry (`PolicyNoticeDelivered` / `PolicyNoticeFailed`), so every process sees
    /// who has been told. Erased subjects and subjects who already acknowledged the version
    /// are not notified; each subject is re-checked just before its notice. Runs in one
    /// process are serialised; runs in two processes at once may tell a subject twice
    /// (at-least-once delivery), never skip one.
    ///
    /// # Errors
    /// Store failures (deliveries already recorded stay recorded; run again).
    #[cfg_attr(
        feature = "tracing",
        tracing::instrument(skip_all, err(level = "info", Display))
    )]
    pub async fn deliver_policy_notices(
        &self,
        notifier: &dyn Notifier,
        max: usize,
    ) -> Result<NoticeRun, CustodianError> {
        // One run at a time in this process; across processes delivery is at least once
        // (a subject may rarely be told twice, never not at all).
        let _run = self.inner.notice_runs.lock().await;
        self.catch_up().await?;
        let now = self.now();
        let Some(version) = self
            .inner
            .state
            .policy_history()
            .and_then(|h| h.last_significant(now).cloned())
        else {
            return Ok(NoticeRun::default());
        };
        let pending = self.not_told(version.number).await?;
        let mut run = NoticeRun {
            version: Some(version.number),
            ..NoticeRun::default()
        };
        for subject in pending.iter().take(max) {
            // Re-checked just before notifying: erased, told by another process, or
            // acknowledged since the list was made.
            self.catch_up().await?;
            let acknowledged = self
                .inner
                .state
                .active_consent(*subject, ConsentScope::PolicyVersion(version.number))
                .is_some();
            if self.inner.state.is_erased(*subject)
                || acknowledged
                || self
                    .inner
                    .state
                    .notice(*subject, version.number)
                    .delivered_at
                    .is_some()
            {
                continue;
            }
            let outcome = notifier.notify(*subject, &version).await;
            let (change, kind, word) = if outcome.is_ok() {
                run.delivered = run.delivered.saturating_add(1);
                (
                    LedgerChange::PolicyNoticeDelivered {
                        version: version.number,
                    },
                    AuditKind::PolicyNoticeDelivered,
                    "delivered",
                )
            } else {
                run.failed = run.failed.saturating_add(1);
                (
                    LedgerChange::PolicyNoticeFailed {
                        version: version.number,
                    },
                    AuditKind::PolicyNoticeFailed,
                    "failed",
                )
            };
            let mut ev = AuditEvent::new(self.now(), kind, *subject);
            ev.reference = Some(format!("policy version {} notice {word}", version.number));
            self.commit_change(change, ev).await?;
        }
        self.catch_up().await?;
        run.pending = u64::try_from(self.not_told(version.number).await?.len()).unwrap_or(u64::MAX);
        Ok(run)
    }

    /// Records that the subject of `session` acknowledged policy version `version` (a
    /// consent of scope `ConsentScope::PolicyVersion(version)`, given in the subject's own
    /// session).
    ///
    /// # Errors
    /// [`CustodianError::Version`] for a version never published or not in force yet;
    /// session and store failures.
    pub async fn acknowledge_policy(
        &self,
        session: &UserSession,
        version: u32,
    ) -> Result<ConsentId, CustodianError> {
        self.catch_up().await?;
        if !self
            .inner
            .state
            .policy_versions()
            .iter()
            .any(|v| v.number == version)
        {
            return Err(crate::policy::versions::VersionError::Unpublished(version).into());
        }
        // Not in force yet: refused by `give_consent`, the one path of acknowledgments.
        self.give_consent(
            session,
            ConsentScope::PolicyVersion(version),
            CollectionMethod::UiAction,
            Some("policy notice acknowledged"),
        )
        .await
    }

    /// Who has been told of `version` and who has acknowledged it.
    ///
    /// # Errors
    /// Store failures.
    pub async fn policy_notice_report(&self, version: u32) -> Result<NoticeReport, CustodianError> {
        self.catch_up().await?;
        let mut report = NoticeReport {
            version,
            not_told: Vec::new(),
            told_not_acknowledged: Vec::new(),
            acknowledged: Vec::new(),
        };
        for subject in self.live_subjects().await? {
            let acked = self
                .inner
                .state
                .active_consent(subject, ConsentScope::PolicyVersion(version))
                .is_some();
            let notice = self.inner.state.notice(subject, version);
            if acked {
                report.acknowledged.push(subject);
            } else if notice.delivered_at.is_some() {
                report.told_not_acknowledged.push(subject);
            } else {
                report.not_told.push((subject, notice.failures));
            }
        }
        Ok(report)
    }

    /// Subjects with a live key, not erased, in id order.
    async fn live_subjects(&self) -> Result<Vec<SubjectId>, CustodianError> {
        let mut subjects: Vec<SubjectId> = self
            .inner
            .keys
            .subjects()
            .await?
            .into_iter()
            .filter(|s| !self.inner.state.is_erased(*s))
            .collect();
        subjects.sort();
        Ok(subjects)
    }

    /// Live subjects without a delivered notice of `version` who have not acknowledged it.
    async fn not_told(&self, version: u32) -> Result<Vec<SubjectId>, CustodianError> {
        Ok(self
            .live_subjects()
            .await?
            .into_iter()
            .filter(|s| {
                self.inner.state.notice(*s, version).delivered_at.is_none()
                    && self
                        .inner
                        .state
                        .active_consent(*s, ConsentScope::PolicyVersion(version))
                        .is_none()
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::TimeZone;

    use crate::crypto::Keyring;
    use crate::custodian::{Custodian, CustodianError};
    use crate::policy::versions::VersionError;
    use crate::store::{InMemoryChainStore, InMemoryKeyStore, InMemoryRecordStore};

    /// A release whose table changed clause 7 or 8 publishes with another fingerprint: the
    /// ledger's history refuses it (clause 10.1).
    #[tokio::test]
    async fn a_table_with_other_confidentiality_provisions_cannot_publish() {
        let c = Custodian::builder(Keyring::generate().unwrap())
            .records(Arc::new(InMemoryRecordStore::new()))
            .chains(Arc::new(InMemoryChainStore::new()))
            .keys(Arc::new(InMemoryKeyStore::new()))
            .build()
            .await
            .unwrap();
        let t = chrono::Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap();
        c.publish_policy(1, t, true).await.unwrap();
        let other = "0".repeat(64);
        assert_eq!(
            c.publish_policy_fingerprinted(2, t, true, other)
                .await
                .unwrap_err(),
            CustodianError::Version(VersionError::ConfidentialityChanged(2))
        );
        assert_eq!(c.policy_versions().await.unwrap().len(), 1);
        c.publish_policy(2, t, false).await.unwrap();
    }
}
