//! The data-subject request desk (clauses 6.1, 6.2, 9.1; GDPR Art. 12(3), 15–18, 20, 21):
//! intake, identity check, extension, refusal and fulfilment, each step a ledger entry, and
//! fulfilment through the same custodian operations a subject's own session uses.

use chrono::{DateTime, TimeDelta, Utc};

use super::export::SubjectExport;
use super::{Custodian, CustodianError, ErasureReport};
use crate::data::DataKind;
use crate::dsr::{
    DsrError, DsrId, DsrKind, DsrRequest, DsrState, Extension, ExtensionReason, RefusalReason,
    check_extension, first_due,
};
use crate::grant::{Grant, UserSession};
use crate::ids::{RecordId, SubjectId};
use crate::ledger::{AuditEvent, AuditKind, LedgerChange};
use crate::purpose::OwnerAccess;

/// The requests of the desk at one instant, for reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DsrDesk {
    requests: Vec<DsrRequest>,
}

impl DsrDesk {
    /// Every request, oldest first.
    #[must_use]
    pub fn requests(&self) -> &[DsrRequest] {
        &self.requests
    }

    /// Requests still open past their deadline at `now`, most overdue first.
    #[must_use]
    pub fn overdue(&self, now: DateTime<Utc>) -> Vec<&DsrRequest> {
        let mut out: Vec<&DsrRequest> =
            self.requests.iter().filter(|r| r.is_overdue(now)).collect();
        out.sort_by_key(|r| (r.due(), r.id));
        out
    }

    /// Open requests not overdue at `now` whose deadline falls within `days` days of it,
    /// soonest first.
    #[must_use]
    pub fn due_within(&self, now: DateTime<Utc>, days: u32) -> Vec<&DsrRequest> {
        let horizon = now.checked_add_signed(TimeDelta::days(i64::from(days)));
        let mut out: Vec<&DsrRequest> = self
            .requests
            .iter()
            .filter(|r| !r.is_closed())
            .filter(|r| {
                r.due()
                    .is_some_and(|due| due >= now && horizon.is_none_or(|h| due <= h))
            })
            .collect();
        out.sort_by_key(|r| (r.due(), r.id));
        out
    }
}

impl Custodian {
    /// Receives a data-subject request (its deadline counts from now, by the custodian's
    /// clock) and records it in the ledger. The requester is not yet verified: call
    /// [`dsr_verify`](Self::dsr_verify) with the subject's authenticated session.
    ///
    /// # Errors
    /// [`CustodianError::Erased`] for an erased subject; [`CustodianError::UnknownSubject`]
    /// for an id that was never registered; [`CustodianError::TimeOutOfRange`]; store
    /// failures.
    #[cfg_attr(feature = "tracing", tracing::instrument(skip_all, fields(subject = %subject, kind = kind.name()), err(level = "info", Display)))]
    pub async fn dsr_receive(
        &self,
        subject: SubjectId,
        kind: DsrKind,
    ) -> Result<DsrRequest, CustodianError> {
        self.catch_up().await?;
        if self.inner.state.is_erased(subject) {
            return Err(CustodianError::Erased(subject));
        }
        // Only a registered subject can ask (not a made-up id, not the deployment's).
        self.ensure_registered(subject).await?;
        let now = self.now();
        first_due(now).ok_or(CustodianError::TimeOutOfRange)?;
        let request = DsrId::new_random();
        self.dsr_step(
            subject,
            LedgerChange::DsrReceived { request, kind },
            &format!("received {} {request}", kind.name()),
        )
        .await?;
        self.dsr_get(request)
    }

    /// Verifies the requester as the subject: `session` must come from this custodian's
    /// [`authenticate`](Self::authenticate) (the host's authenticator), be in force, and
    /// belong to the request's subject.
    ///
    /// # Errors
    /// [`DsrError::WrongSubject`], [`DsrError::Closed`], [`DsrError::Unknown`]; a foreign or
    /// expired session.
    #[cfg_attr(feature = "tracing", tracing::instrument(skip_all, fields(request = %request), err(level = "info", Display)))]
    pub async fn dsr_verify(
        &self,
        request: DsrId,
        session: &UserSession,
    ) -> Result<DsrRequest, CustodianError> {
        self.check_session(session, self.now()).await?;
        let r = self.dsr_open(request).await?;
        if session.subject() != r.subject {
            return Err(DsrError::WrongSubject(request).into());
        }
        if r.state == DsrState::Received {
            self.dsr_step(
                r.subject,
                LedgerChange::DsrVerified { request },
                &format!("verified {request}"),
            )
            .await?;
        }
        self.dsr_get(request)
    }

    /// Extends the deadline once by one or two months (Art. 12(3)), with the reason and the
    /// instant the subject was told — both within the first month.
    ///
    /// # Errors
    /// [`DsrError::ExtensionNotAllowed`], [`DsrError::ExtensionTooLate`],
    /// [`DsrError::Closed`], [`DsrError::Unknown`].
    #[cfg_attr(feature = "tracing", tracing::instrument(skip_all, fields(request = %request), err(level = "info", Display)))]
    pub async fn dsr_extend(
        &self,
        request: DsrId,
        months: u32,
        reason: ExtensionReason,
        subject_told_at: DateTime<Utc>,
    ) -> Result<DsrRequest, CustodianError> {
        let r = self.dsr_open(request).await?;
        check_extension(&r, months, self.now(), subject_told_at)?;
        let extension = Extension {
            months,
            reason,
            subject_told_at,
        };
        self.dsr_step(
            r.subject,
            LedgerChange::DsrExtended {
                request,
                months,
                reason,
                subject_told_at,
            },
            &format!("extended {request}"),
        )
        .await?;
        // Check after publishing: of two extensions racing (tasks or processes), the one
        // the ledger holds first is the extension; the other is refused, not reported done.
        let now = self.dsr_get(request)?;
        if now.extension != Some(extension) {
            return Err(DsrError::ExtensionNotAllowed(request).into());
        }
        Ok(now)
    }

    /// Refuses a request with its reason.
    ///
    /// # Errors
    /// [`DsrError::InProgress`] while its fulfilment is claimed (a fulfilment claimed first
    /// wins); [`DsrError::Closed`], [`DsrError::Unknown`].
    #[cfg_attr(feature = "tracing", tracing::instrument(skip_all, fields(request = %request), err(level = "info", Display)))]
    pub async fn dsr_refuse(
        &self,
        request: DsrId,
        reason: RefusalReason,
    ) -> Result<DsrRequest, CustodianError> {
        let r = self.dsr_open(request).await?;
        if r.state == DsrState::Fulfilling {
            return Err(DsrError::InProgress(request).into());
        }
        self.dsr_step(
            r.subject,
            LedgerChange::DsrRefused { request, reason },
            &format!("refused {request}"),
        )
        .await?;
        // Check after publishing: a fulfilment claimed first (another task or process)
        // wins, and this refusal is void.
        let now = self.dsr_get(request)?;
        if now.state != DsrState::Refused(reason) {
            return Err(DsrError::Closed(request).into());
        }
        Ok(now)
    }

    /// Fulfils a verified erasure request with [`erase`](Self::erase) (6.2).
    ///
    /// # Errors
    /// [`DsrError::NotVerified`], [`DsrError::WrongKind`], [`DsrError::Closed`],
    /// [`DsrError::Unknown`]; the errors of `erase`. Retrying after a failure is safe.
    #[cfg_attr(feature = "tracing", tracing::instrument(skip_all, fields(request = %request), err(level = "info", Display)))]
    pub async fn dsr_fulfil_erasure(
        &self,
        request: DsrId,
    ) -> Result<ErasureReport, CustodianError> {
        let r = self.dsr_ready(request, &[DsrKind::Erase]).await?;
        let report = self.dsr_run(&r, self.erase(r.subject)).await?;
        self.dsr_fulfilled(&r).await?;
        Ok(report)
    }

    /// Fulfils a verified restriction or objection request with
    /// [`restrict`](Self::restrict) (9.1, Art. 18, 21).
    ///
    /// # Errors
    /// As [`dsr_fulfil_erasure`](Self::dsr_fulfil_erasure), with the errors of `restrict`.
    #[cfg_attr(feature = "tracing", tracing::instrument(skip_all, fields(request = %request), err(level = "info", Display)))]
    pub async fn dsr_fulfil_restriction(&self, request: DsrId) -> Result<(), CustodianError> {
        let r = self
            .dsr_ready(request, &[DsrKind::Restrict, DsrKind::Object])
            .await?;
        self.dsr_run(&r, self.restrict(r.subject)).await?;
        self.dsr_fulfilled(&r).await
    }

    /// Fulfils an access or export request (Art. 15, 20) with [`export`](Self::export),
    /// through the subject's own [`OwnerAccess`] grant.
    ///
    /// # Errors
    /// [`DsrError::WrongSubject`] for another subject's grant; as
    /// [`dsr_fulfil_erasure`](Self::dsr_fulfil_erasure), with the errors of `export`.
    #[cfg_attr(feature = "tracing", tracing::instrument(skip_all, fields(request = %request), err(level = "info", Display)))]
    pub async fn dsr_fulfil_access(
        &self,
        request: DsrId,
        grant: &Grant<OwnerAccess>,
    ) -> Result<SubjectExport, CustodianError> {
        // Another subject's grant is refused before the fulfilment is claimed.
        if grant.subject() != self.dsr_open(request).await?.subject {
            return Err(DsrError::WrongSubject(request).into());
        }
        let r = self
            .dsr_ready(request, &[DsrKind::Access, DsrKind::Export])
            .await?;
        let export = self.dsr_run(&r, self.export(grant)).await?;
        self.dsr_fulfilled(&r).await?;
        Ok(export)
    }

    /// Fulfils a rectification request (6.1) with [`rectify`](Self::rectify), through the
    /// subject's own [`OwnerAccess`] grant.
    ///
    /// # Errors
    /// As [`dsr_fulfil_access`](Self::dsr_fulfil_access), with the errors of `rectify`.
    #[cfg_attr(feature = "tracing", tracing::instrument(skip_all, fields(request = %request), err(level = "info", Display)))]
    pub async fn dsr_fulfil_rectification<K: DataKind>(
        &self,
        request: DsrId,
        grant: &Grant<OwnerAccess>,
        record: RecordId,
        value: K,
    ) -> Result<(), CustodianError> {
        if grant.subject() != self.dsr_open(request).await?.subject {
            return Err(DsrError::WrongSubject(request).into());
        }
        let r = self.dsr_ready(request, &[DsrKind::Rectify]).await?;
        self.dsr_run(&r, self.rectify(grant, record, value)).await?;
        self.dsr_fulfilled(&r).await
    }

    /// One request as the ledger holds it now.
    ///
    /// # Errors
    /// [`DsrError::Unknown`]; store failures.
    pub async fn dsr_request(&self, request: DsrId) -> Result<DsrRequest, CustodianError> {
        self.catch_up().await?;
        self.dsr_get(request)
    }

    /// Every request, for reports ([`DsrDesk::overdue`], [`DsrDesk::due_within`]).
    ///
    /// # Errors
    /// Store failures.
    pub async fn dsr_desk(&self) -> Result<DsrDesk, CustodianError> {
        self.catch_up().await?;
        Ok(DsrDesk {
            requests: self.inner.state.dsr_all(),
        })
    }

    /// Open requests past their deadline by the custodian's clock.
    ///
    /// # Errors
    /// Store failures.
    pub async fn dsr_overdue(&self) -> Result<Vec<DsrRequest>, CustodianError> {
        let desk = self.dsr_desk().await?;
        Ok(desk.overdue(self.now()).into_iter().cloned().collect())
    }

    /// Open requests due within `days` days by the custodian's clock.
    ///
    /// # Errors
    /// Store failures.
    pub async fn dsr_due_within(&self, days: u32) -> Result<Vec<DsrRequest>, CustodianError> {
        let desk = self.dsr_desk().await?;
        Ok(desk
            .due_within(self.now(), days)
            .into_iter()
            .cloned()
            .collect())
    }

    fn dsr_get(&self, request: DsrId) -> Result<DsrRequest, CustodianError> {
        self.inner
            .state
            .dsr(request)
            .ok_or_else(|| DsrError::Unknown(request).into())
    }

    /// The request, caught up, refused if closed.
    async fn dsr_open(&self, request: DsrId) -> Result<DsrRequest, CustodianError> {
        self.catch_up().await?;
        let r = self.dsr_get(request)?;
        if r.is_closed() {
            return Err(DsrError::Closed(request).into());
        }
        Ok(r)
    }

    /// The request, open, verified and of one of `kinds`, its fulfilment claimed in the
    /// ledger.
    async fn dsr_ready(
        &self,
        request: DsrId,
        kinds: &[DsrKind],
    ) -> Result<DsrRequest, CustodianError> {
        let r = self.dsr_open(request).await?;
        if !kinds.contains(&r.kind) {
            return Err(DsrError::WrongKind {
                request,
                kind: r.kind.name(),
            }
            .into());
        }
        match r.state {
            DsrState::Verified => {
                // Claim the fulfilment before the operation runs, then check after
                // publishing: a refusal recorded first wins and nothing runs.
                self.dsr_step(
                    r.subject,
                    LedgerChange::DsrFulfilling { request },
                    &format!("fulfilling {} {request}", r.kind.name()),
                )
                .await?;
                let claimed = self.dsr_get(request)?;
                if claimed.state != DsrState::Fulfilling {
                    return Err(DsrError::Closed(request).into());
                }
                Ok(claimed)
            }
            // Claimed earlier and not finished (a process died midway): run it again.
            DsrState::Fulfilling => Ok(r),
            _ => Err(DsrError::NotVerified(request).into()),
        }
    }

    /// Runs a claimed request's operation. If it fails, the claim is released (the request
    /// is verified again: fulfil it once more, or refuse it) and the operation's error
    /// returned — except for an erasure that has begun, which only finishes.
    async fn dsr_run<T>(
        &self,
        r: &DsrRequest,
        operation: impl std::future::Future<Output = Result<T, CustodianError>>,
    ) -> Result<T, CustodianError> {
        let error = match operation.await {
            Ok(done) => return Ok(done),
            Err(e) => e,
        };
        let erasure_begun = r.kind == DsrKind::Erase
            && (self.inner.state.is_erased(r.subject) || self.inner.state.is_erasing(r.subject));
        if !erasure_begun {
            // The operation's error is what the caller needs; a failure to release leaves
            // the claim for a retry, as a crash would.
            let _ = self
                .dsr_step(
                    r.subject,
                    LedgerChange::DsrReleased { request: r.id },
                    &format!("released {} {}", r.kind.name(), r.id),
                )
                .await;
        }
        Err(error)
    }

    async fn dsr_fulfilled(&self, r: &DsrRequest) -> Result<(), CustodianError> {
        let request = r.id;
        self.dsr_step(
            r.subject,
            LedgerChange::DsrFulfilled { request },
            &format!("fulfilled {} {request}", r.kind.name()),
        )
        .await
    }

    async fn dsr_step(
        &self,
        subject: SubjectId,
        change: LedgerChange,
        reference: &str,
    ) -> Result<(), CustodianError> {
        let mut ev = AuditEvent::new(self.now(), AuditKind::SubjectRequest, subject);
        ev.reference = Some(reference.to_owned());
        self.commit_change(change, ev).await?;
        self.catch_up().await
    }
}
