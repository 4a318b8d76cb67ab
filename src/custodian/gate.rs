//! The gate every path runs, and the audit of what it lets through or refuses.

use chrono::{DateTime, Utc};

use super::{Custodian, CustodianError};
use crate::data::KindRef;
use crate::grant::{AccessError, Actor, Grant, GrantInfo};
use crate::ids::{GrantId, RecordId, SubjectId};
use crate::ledger::{AuditEvent, AuditKind};
use crate::purpose::{LegalBasis, Purpose};

impl Custodian {
    /// Whether the grant still stands, by this custodian's clock and current state, as
    /// [`admit_info`](Self::admit_info) decides (it catches up with the ledger itself).
    pub(super) async fn admit<P: Purpose>(
        &self,
        grant: &Grant<P>,
        now: DateTime<Utc>,
    ) -> Result<(), CustodianError> {
        self.admit_info(
            grant.info(),
            grant.authority_ok(self),
            P::LEGAL_BASIS,
            now,
            || grant.unchanged_since_issue(self.inner.instance, self.inner.epoch.current()),
        )
        .await
    }

    /// The synchronous core both [`admit_info`](Self::admit_info) and
    /// [`decide`](Self::decide) run: authority, expiry, then — unless nothing changed since
    /// issue in this instance — revocation, erasure, restriction, consent in force and the
    /// lawful request.
    pub(super) fn grant_stands(
        &self,
        info: &GrantInfo,
        authority_ok: bool,
        basis: LegalBasis,
        now: DateTime<Utc>,
        unchanged: impl FnOnce() -> bool,
    ) -> Result<(), AccessError> {
        if !authority_ok {
            return Err(AccessError::ForeignAuthority { grant: info.id });
        }
        if now >= info.expires_at {
            return Err(AccessError::Expired { grant: info.id });
        }
        if !unchanged() {
            self.inner.state.check_use(info, basis)?;
        }
        Ok(())
    }

    /// The gate of every data path, in the order: what the grant says of itself
    /// (authority, expiry); then the host's answers for its actor (the staff directory's
    /// NDA, the authenticator's [`session_live`](crate::store::Authenticator::session_live)),
    /// which may take as long as the host's service does; then, **after** them, a catch-up
    /// with the ledger and the state's checks (revocation, erasure, restriction, consent,
    /// lawful request). A revocation, restriction or erasure that lands — in this process or
    /// another — while a host call is running is therefore seen by the read that was waiting
    /// on it: the state is read as late as the gate can read it.
    #[cfg_attr(feature = "tracing", tracing::instrument(level = "debug", skip_all, fields(grant = %info.id, subject = %info.subject, purpose = ?info.purpose, basis = ?basis), ret(level = "debug"), err(level = "info", Display)))]
    pub(super) async fn admit_info(
        &self,
        info: &GrantInfo,
        authority_ok: bool,
        basis: LegalBasis,
        now: DateTime<Utc>,
        unchanged: impl FnOnce() -> bool,
    ) -> Result<(), CustodianError> {
        if !authority_ok {
            return Err(AccessError::ForeignAuthority { grant: info.id }.into());
        }
        if now >= info.expires_at {
            return Err(AccessError::Expired { grant: info.id }.into());
        }
        match info.actor {
            Actor::Staff { staff } => {
                // The directory is asked at every use: removing an NDA stops staff grants
                // in every process at their next call (clause 8.1).
                let on_file = match &self.inner.staff {
                    Some(d) => d.nda(staff).await.ok().flatten(),
                    None => None,
                };
                if !on_file.is_some_and(|n| n.staff() == staff && n.is_valid_at(now)) {
                    return Err(AccessError::NdaMissing { staff }.into());
                }
            }
            Actor::Subject { session } => {
                // The authenticator is asked at every use: a logout ends the session's
                // grants in every process at their next call. No authenticator, or an
                // error, fails closed.
                if !self.session_is_live(info.subject, session, now).await {
                    return Err(AccessError::SessionEnded { grant: info.id }.into());
                }
            }
            Actor::Service { .. } => {}
        }
        self.catch_up().await?;
        self.grant_stands(info, authority_ok, basis, now, unchanged)?;
        Ok(())
    }

    /// The gate's decision for reading a kind through `grant`, now, against the state as
    /// of the last catch-up with the ledger — without reading or exposing anything (so
    /// nothing is audited): for a host that only needs the answer, for example to show or
    /// hide a button. Every data path runs the same checks, after catching up, plus the
    /// staff directory lookup for staff grants and the authenticator's
    /// [`session_live`](crate::store::Authenticator::session_live) for grants issued to a
    /// session (which this synchronous call leaves out).
    /// The answer is for a *full* read: a kind the purpose may only see masked is
    /// [`AccessError::NotPermitted`].
    ///
    /// # Errors
    /// [`AccessError::NotPermitted`] when the policy table does not let the purpose read the
    /// kind; otherwise the [`AccessError`] of the first check that fails.
    #[cfg_attr(feature = "tracing", tracing::instrument(level = "debug", skip_all, fields(grant = %grant.id(), subject = %grant.subject(), purpose = P::NAME, kind = kind.name()), ret(level = "debug"), err(level = "debug", Display)))]
    pub fn decide<P: Purpose>(
        &self,
        grant: &Grant<P>,
        kind: crate::data::Category,
    ) -> Result<(), AccessError> {
        let info = grant.info();
        self.grant_stands(
            info,
            grant.authority_ok(self),
            P::LEGAL_BASIS,
            self.now(),
            || grant.unchanged_since_issue(self.inner.instance, self.inner.epoch.current()),
        )?;
        // The policy table first, as every read path checks it (clause 2): a purpose the
        // table does not allow to read the kind in full is refused whatever the state.
        let permitted = match P::ID {
            crate::purpose::PurposeRef::Builtin(p) => crate::policy::permits(kind, p),
            crate::purpose::PurposeRef::Host(_) => false,
        };
        if !permitted {
            return Err(AccessError::NotPermitted {
                purpose: P::NAME,
                kind: kind.name(),
            });
        }
        self.inner.state.check_kind(info, kind)
    }

    /// Audits a refused attempt: who asked, through which grant, the reason code. Never
    /// data. A failure to write it leaves the refusal as the answer.
    pub(super) async fn audit_refusal(
        &self,
        subject: SubjectId,
        grant: Option<GrantId>,
        record: Option<RecordId>,
        purpose: &'static str,
        err: &CustodianError,
        now: DateTime<Utc>,
    ) {
        let Some(reason) = refusal_reason(err) else {
            return;
        };
        let mut ev = AuditEvent::new(now, AuditKind::Refused, subject);
        ev.grant = grant;
        ev.record = record;
        ev.purpose = Some(purpose.to_owned());
        ev.reference = Some(reason.to_owned());
        let _ = self.commit(None, &[ev]).await;
    }

    /// Runs `op` (a read through `grant`) and audits it if it was refused.
    pub(super) async fn audited<P: Purpose, T>(
        &self,
        grant: &Grant<P>,
        record: Option<RecordId>,
        now: DateTime<Utc>,
        op: impl Future<Output = Result<T, CustodianError>>,
    ) -> Result<T, CustodianError> {
        let out = op.await;
        if let Err(e) = &out {
            self.audit_refusal(grant.subject(), Some(grant.id()), record, P::NAME, e, now)
                .await;
        }
        out
    }

    /// Audits one exposure through `grant`.
    pub(super) async fn audit_exposed<P: Purpose>(
        &self,
        grant: &Grant<P>,
        subject: SubjectId,
        record: Option<RecordId>,
        kind: KindRef,
        now: DateTime<Utc>,
    ) -> Result<(), CustodianError> {
        self.audit_exposure(AuditKind::Exposed, grant, subject, record, kind, now)
            .await
    }

    /// Audits one exposure through `grant` as `what` ([`AuditKind::Exposed`] or
    /// [`AuditKind::ExposedMasked`]): ids, kind, purpose and actor, never the value.
    pub(super) async fn audit_exposure<P: Purpose>(
        &self,
        what: AuditKind,
        grant: &Grant<P>,
        subject: SubjectId,
        record: Option<RecordId>,
        kind: KindRef,
        now: DateTime<Utc>,
    ) -> Result<(), CustodianError> {
        let mut ev = AuditEvent::new(now, what, subject);
        ev.grant = Some(grant.id());
        ev.record = record;
        ev.data_kind = Some(kind.name().to_owned());
        ev.purpose = Some(P::NAME.to_owned());
        ev.actor = Some(grant.info().actor.clone());
        self.commit(None, &[ev]).await
    }
}

impl<P: Purpose> Grant<P> {
    fn authority_ok(&self, c: &Custodian) -> bool {
        c.inner.tokens.accepts(self.authority())
    }
}

/// The reason code a refusal is audited under, or `None` for failures that are not
/// refusals (store, crypto).
fn refusal_reason(err: &CustodianError) -> Option<&'static str> {
    Some(match err {
        CustodianError::Access(a) => a.code(),
        CustodianError::Issue(_) => "issue_refused",
        CustodianError::Token(_) => "token_refused",
        CustodianError::WrongKind { .. } => "wrong_kind",
        CustodianError::PurposeNotPermitted { .. } => "purpose_not_permitted",
        CustodianError::WrongAudience => "wrong_audience",
        CustodianError::NotOwnSession => "not_own_session",
        CustodianError::Disclosure(_) => "disclosure_refused",
        CustodianError::Erased(_) => "erased",
        _ => return None,
    })
}
