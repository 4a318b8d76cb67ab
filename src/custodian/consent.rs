//! Consent (clauses 3.3–3.7, 4, 10): given in the subject's own session, withdrawn in one
//! call, receipts, and who still has to acknowledge a policy version.

use super::{Custodian, CustodianError};
use crate::consent::{CollectionMethod, ConsentScope};
use crate::grant::UserSession;
use crate::ids::{ConsentId, SubjectId};
use crate::ledger::{self, AuditEvent, AuditKind, LedgerChange, LedgerEvent};
use crate::policy::HostScope;
use crate::store::{ChainName, StoreError};

/// A consent's evidence is kept in clear in the ledger: a reference to the proof (a form
/// version, a request id), never the person's data (`data::screen`).
fn screen_evidence(evidence: Option<&str>) -> Result<(), CustodianError> {
    let Some(evidence) = evidence else {
        return Ok(());
    };
    if evidence.len() > MAX_EVIDENCE {
        return Err(CustodianError::TooLarge {
            kind: "consent evidence",
            max: MAX_EVIDENCE,
        });
    }
    if crate::data::screen::looks_personal(evidence) {
        return Err(CustodianError::PersonalDataInText("consent evidence"));
    }
    Ok(())
}

/// Longest consent evidence kept, in bytes: a reference to the proof, not the proof.
pub const MAX_EVIDENCE: usize = 256;

impl Custodian {
    /// Records the consent of the subject of `session` for `scope` (the ledger entry and its
    /// audit event commit together). Only the subject, in a session the custodian's
    /// authenticator verified, gives consent.
    ///
    /// # Errors
    /// A foreign or expired session, [`CustodianError::Erased`] or store failures;
    /// [`CustodianError::PersonalDataInText`] for `evidence` that reads as personal data by
    /// its form (it is kept in clear in the ledger and the receipt: pass a reference to the
    /// proof, such as a form version or a request id); [`CustodianError::TooLarge`] for
    /// evidence over [`MAX_EVIDENCE`] bytes.
    #[cfg_attr(feature = "tracing", tracing::instrument(skip_all, fields(subject = %session.subject(), session = %session.id(), scope = ?scope, method = ?method), err(level = "info", Display)))]
    pub async fn give_consent(
        &self,
        session: &UserSession,
        scope: ConsentScope,
        method: CollectionMethod,
        evidence: Option<&str>,
    ) -> Result<ConsentId, CustodianError> {
        screen_evidence(evidence)?;
        let now = self.now();
        self.check_session(session, now).await?;
        let subject = session.subject();
        self.catch_up().await?;
        if self.inner.state.is_erased(subject) {
            return Err(CustodianError::Erased(subject));
        }
        // Once the deployment publishes versions in the ledger (clause 10), only a published
        // one can be acknowledged, and only once it is in force (acknowledged earlier, it
        // would count as told before its notice is due, and the notice would never be sent).
        if let ConsentScope::PolicyVersion(n) = scope {
            let published = self.inner.state.policy_versions();
            if !published.is_empty() {
                match published.iter().find(|v| v.number == n) {
                    None => {
                        return Err(crate::policy::versions::VersionError::Unpublished(n).into());
                    }
                    Some(v) if v.effective > now => {
                        return Err(crate::policy::versions::VersionError::NotInForce(n).into());
                    }
                    Some(_) => {}
                }
            }
        }
        let consent = ConsentId::new_random();
        let change = LedgerChange::ConsentGiven {
            consent,
            scope,
            method,
            policy_version: self.inner.policy_version,
            evidence: evidence.map(str::to_owned),
        };
        let mut ev = AuditEvent::new(now, AuditKind::ConsentGiven, subject);
        ev.reference = Some(format!("{consent} {}", scope.name()));
        self.commit_change(change, ev).await?;
        Ok(consent)
    }

    /// Withdraws the consent of `scope` in one call (GDPR Art. 7(3)): every grant issued
    /// under it fails from the moment this returns, in every process, and data collected
    /// only under it (the Zoom token for `ZoomLink`) is deleted. Anyone acting for the
    /// subject may withdraw (it only ever narrows processing).
    ///
    /// # Errors
    /// [`CustodianError::NoActiveConsent`] or store failures.
    #[cfg_attr(feature = "tracing", tracing::instrument(skip_all, fields(subject = %subject, scope = ?scope), err(level = "info", Display)))]
    pub async fn withdraw_consent(
        &self,
        subject: SubjectId,
        scope: ConsentScope,
    ) -> Result<ConsentId, CustodianError> {
        self.catch_up().await?;
        let consent = self.inner.state.active_consent(subject, scope).ok_or(
            CustodianError::NoActiveConsent {
                subject,
                scope: scope.name(),
            },
        )?;
        let mut ev = AuditEvent::new(self.now(), AuditKind::ConsentWithdrawn, subject);
        ev.reference = Some(format!("{consent} {}", scope.name()));
        self.commit_change(LedgerChange::ConsentWithdrawn { consent, scope }, ev)
            .await?;
        self.finish_withdrawal(subject, scope).await?;
        Ok(consent)
    }

    /// Deletes the records collected under `scope` of `subject` unless a consent of that
    /// scope is in force again, then records that it is done. Idempotent: the build calls
    /// it for every withdrawal a process left half-done.
    pub(super) async fn finish_withdrawal(
        &self,
        subject: SubjectId,
        scope: ConsentScope,
    ) -> Result<(), CustodianError> {
        let dependent = scope.dependent_kinds();
        if dependent.is_empty() {
            return Ok(());
        }
        self.catch_up().await?;
        if self.inner.state.active_consent(subject, scope).is_none() {
            for r in self.inner.records.list_subject(subject).await? {
                if dependent.iter().any(|c| c.name() == r.kind) {
                    self.inner.records.delete(r.record).await?;
                }
            }
        }
        if self.inner.state.is_withdrawing(subject, scope) {
            let mut ev = AuditEvent::new(self.now(), AuditKind::ConsentWithdrawn, subject);
            ev.reference = Some(format!("dependent data deleted {}", scope.name()));
            self.commit_change(LedgerChange::DependentDataDeleted { scope }, ev)
                .await?;
        }
        Ok(())
    }

    /// Records the consent of the subject of `session` to host scope `scope` (declared with
    /// [`host_consent_scope!`](crate::host_consent_scope)): from then on grants for the host
    /// purposes it gates can be issued, exactly as for a built-in scope. The ledger names
    /// the scope by its name.
    ///
    /// # Errors
    /// As [`give_consent`](Self::give_consent).
    pub async fn give_host_consent(
        &self,
        session: &UserSession,
        scope: HostScope,
        method: CollectionMethod,
        evidence: Option<&str>,
    ) -> Result<ConsentId, CustodianError> {
        screen_evidence(evidence)?;
        let now = self.now();
        self.check_session(session, now).await?;
        let subject = session.subject();
        self.catch_up().await?;
        if self.inner.state.is_erased(subject) {
            return Err(CustodianError::Erased(subject));
        }
        let consent = ConsentId::new_random();
        let change = LedgerChange::HostConsentGiven {
            consent,
            scope: scope.name().to_owned(),
            method,
            policy_version: self.inner.policy_version,
            evidence: evidence.map(str::to_owned),
        };
        let mut ev = AuditEvent::new(now, AuditKind::ConsentGiven, subject);
        ev.reference = Some(format!("{consent} {}", scope.name()));
        self.commit_change(change, ev).await?;
        Ok(consent)
    }

    /// Withdraws the consent to host scope `scope` in one call (GDPR Art. 7(3)): every
    /// grant issued under it fails from the moment this returns, and the subject's records
    /// of the host kinds the scope `deletes` are deleted.
    ///
    /// # Errors
    /// [`CustodianError::NoActiveConsent`] or store failures.
    pub async fn withdraw_host_consent(
        &self,
        subject: SubjectId,
        scope: HostScope,
    ) -> Result<ConsentId, CustodianError> {
        self.catch_up().await?;
        let consent = self.inner.state.host_consent(subject, scope.name()).ok_or(
            CustodianError::NoActiveConsent {
                subject,
                scope: scope.name(),
            },
        )?;
        let mut ev = AuditEvent::new(self.now(), AuditKind::ConsentWithdrawn, subject);
        ev.reference = Some(format!("{consent} {}", scope.name()));
        let change = LedgerChange::HostConsentWithdrawn {
            consent,
            scope: scope.name().to_owned(),
        };
        self.commit_change(change, ev).await?;
        self.finish_host_withdrawal(subject, scope.name()).await?;
        Ok(consent)
    }

    /// Deletes the records of the host kinds collected under host scope `scope` of
    /// `subject` unless a consent to it is in force again, then records that it is done.
    /// Idempotent: the build calls it for every withdrawal a process left half-done.
    pub(super) async fn finish_host_withdrawal(
        &self,
        subject: SubjectId,
        scope: &str,
    ) -> Result<(), CustodianError> {
        let Ok(registered) = HostScope::registered(scope) else {
            return Ok(());
        };
        let dependent = registered.dependent_kinds();
        if dependent.is_empty() {
            return Ok(());
        }
        self.catch_up().await?;
        if self.inner.state.host_consent(subject, scope).is_none() {
            for r in self.inner.records.list_subject(subject).await? {
                if dependent.contains(&r.kind.as_str()) {
                    self.inner.records.delete(r.record).await?;
                }
            }
        }
        if self
            .inner
            .state
            .host_withdrawing()
            .iter()
            .any(|(s, sc)| *s == subject && sc == scope)
        {
            let mut ev = AuditEvent::new(self.now(), AuditKind::ConsentWithdrawn, subject);
            ev.reference = Some(format!("dependent data deleted {scope}"));
            let change = LedgerChange::HostDependentDataDeleted {
                scope: scope.to_owned(),
            };
            self.commit_change(change, ev).await?;
        }
        Ok(())
    }

    /// The consents to host scopes in force for a subject, by scope name (as of the last
    /// catch-up with the ledger). Built-in scopes: [`consents`](Self::consents).
    ///
    /// # Errors
    /// Store failures catching up.
    pub async fn host_consents(
        &self,
        subject: SubjectId,
    ) -> Result<Vec<(String, ConsentId)>, CustodianError> {
        self.catch_up().await?;
        Ok(self.inner.state.host_scopes(subject))
    }

    /// The consent receipt (Kantara CR v1.1 with ISO/IEC TS 27560 event data) of a consent.
    ///
    /// # Errors
    /// An unknown id is [`CustodianError::Store`] `NotFound`; store and decode failures.
    #[cfg_attr(feature = "tracing", tracing::instrument(skip_all, fields(consent = %consent), err(level = "info", Display)))]
    pub async fn consent_receipt(
        &self,
        consent: ConsentId,
    ) -> Result<crate::consent::ConsentReceipt, CustodianError> {
        let entries = self.inner.chains.entries(ChainName::Ledger).await?;
        let events = entries
            .iter()
            .map(ledger::decode::<LedgerEvent>)
            .collect::<Result<Vec<_>, _>>()?;
        let r = &self.inner.receipts;
        ledger::receipt(
            &events,
            consent,
            &r.controller,
            &r.policy_url,
            &r.jurisdiction,
        )
        .map_err(|_| {
            CustodianError::Store(StoreError::NotFound {
                what: "consent",
                id: consent.to_string(),
            })
        })
    }

    /// Subjects with a live key that have not acknowledged policy version `version`
    /// (clause 10.2: notify them of a significant change).
    ///
    /// # Errors
    /// Store failures.
    #[cfg_attr(
        feature = "tracing",
        tracing::instrument(skip_all, fields(version), err(level = "info", Display))
    )]
    pub async fn subjects_to_notify(&self, version: u32) -> Result<Vec<SubjectId>, CustodianError> {
        self.catch_up().await?;
        let mut out: Vec<_> = self
            .inner
            .keys
            .subjects()
            .await?
            .into_iter()
            .filter(|s| {
                self.inner
                    .state
                    .active_consent(*s, ConsentScope::PolicyVersion(version))
                    .is_none()
            })
            .collect();
        out.sort();
        Ok(out)
    }

    /// The consents in force for a subject (as of the last catch-up with the ledger).
    ///
    /// # Errors
    /// Store failures catching up.
    #[cfg_attr(feature = "tracing", tracing::instrument(skip_all, fields(subject = %subject), err(level = "info", Display)))]
    pub async fn consents(
        &self,
        subject: SubjectId,
    ) -> Result<Vec<(ConsentScope, ConsentId)>, CustodianError> {
        self.catch_up().await?;
        Ok(self.inner.state.active_scopes(subject))
    }

    /// The checks a session passes without asking the authenticator: this custodian's
    /// authority, unexpired by the custodian's clock.
    pub(super) fn check_session_claims(
        &self,
        session: &UserSession,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), CustodianError> {
        if !self.inner.tokens.accepts(session.authority()) {
            return Err(crate::grant::IssueError::ForeignSession.into());
        }
        if now >= session.expires_at() {
            return Err(crate::grant::IssueError::SessionExpired.into());
        }
        Ok(())
    }

    /// Every check of a session presented to a call: [`check_session_claims`], then the
    /// authenticator confirms it is still live (not logged out), so a stale `UserSession`
    /// cannot act for the subject after a logout.
    ///
    /// [`check_session_claims`]: Self::check_session_claims
    pub(super) async fn check_session(
        &self,
        session: &UserSession,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), CustodianError> {
        self.check_session_claims(session, now)?;
        if !self
            .session_is_live(session.subject(), session.id(), now)
            .await
        {
            return Err(crate::grant::IssueError::SessionEnded.into());
        }
        Ok(())
    }

    /// Whether the authenticator reports `subject`'s session `session` live at `now`. No
    /// authenticator, or an error, is "not live" (fail closed).
    pub(super) async fn session_is_live(
        &self,
        subject: SubjectId,
        session: crate::ids::SessionId,
        now: chrono::DateTime<chrono::Utc>,
    ) -> bool {
        match &self.inner.authenticator {
            Some(a) => a.session_live(subject, session, now).await.unwrap_or(false),
            None => false,
        }
    }
}
