//! Global Privacy Control (clauses 3.4, 3.6): a signal recorded as an opt-out of every
//! covered consent scope, in the ledger, with the signal as evidence.

use super::{Custodian, CustodianError};
use crate::gpc::{self, GpcOutcome, GpcScope, GpcSignal};
use crate::grant::UserSession;
use crate::ledger::{AuditEvent, AuditKind, LedgerChange};

impl Custodian {
    /// Applies a GPC signal received in the session of its subject: for every scope
    /// [`gpc::covered_scopes`] derives from the scope tables, a consent in force is withdrawn
    /// (as [`withdraw_consent`](Self::withdraw_consent) does, dependent data included) and a
    /// [`LedgerChange::GpcOptOut`] is recorded with the evidence `Sec-GPC: 1 at <instant>`
    /// (the custodian's clock) and `reference`, if given (a request id, checked by
    /// [`gpc::valid_reference`]; never an address or user agent).
    ///
    /// Idempotent: a scope a signal opted out of before is left as it is, so a browser that
    /// sends the header on every request records one opt-out per scope, and a consent the
    /// subject gives explicitly after it stands (`docs/gpc.md`). [`GpcSignal::Absent`]
    /// records nothing.
    ///
    /// # Errors
    /// A foreign or expired session, [`CustodianError::Config`] for a malformed reference,
    /// [`CustodianError::Erased`] or store failures.
    pub async fn apply_gpc(
        &self,
        session: &UserSession,
        signal: GpcSignal,
        reference: Option<&str>,
    ) -> Result<GpcOutcome, CustodianError> {
        let now = self.now();
        self.check_session(session, now).await?;
        if reference.is_some_and(|r| !gpc::valid_reference(r)) {
            return Err(CustodianError::Config("gpc reference"));
        }
        let mut out = GpcOutcome::default();
        if !signal.is_opt_out() {
            return Ok(out);
        }
        let subject = session.subject();
        self.catch_up().await?;
        if self.inner.state.is_erased(subject) {
            return Err(CustodianError::Erased(subject));
        }
        let mut evidence = format!("{}: 1 at {}", gpc::HEADER, now.to_rfc3339());
        if let Some(r) = reference {
            evidence.push_str(" ref ");
            evidence.push_str(r);
        }
        for scope in gpc::covered_scopes() {
            let name = scope.name();
            if self.inner.state.gpc_opted_out(subject, name) {
                out.unchanged.push(name);
                continue;
            }
            let in_force = match scope {
                GpcScope::Builtin(s) => self.inner.state.active_consent(subject, s).is_some(),
                GpcScope::Host(s) => self.inner.state.host_consent(subject, s.name()).is_some(),
            };
            // Withdraw first: a crash before the opt-out entry leaves a withdrawal the next
            // signal records as a refusal, never a consent the signal skipped.
            let withdrawn = if in_force {
                let r = match scope {
                    GpcScope::Builtin(s) => self.withdraw_consent(subject, s).await,
                    GpcScope::Host(s) => self.withdraw_host_consent(subject, s).await,
                };
                match r {
                    Ok(c) => Some(c),
                    Err(CustodianError::NoActiveConsent { .. }) => None,
                    Err(e) => return Err(e),
                }
            } else {
                None
            };
            let mut ev = AuditEvent::new(self.now(), AuditKind::ConsentWithdrawn, subject);
            ev.reference = Some(format!("gpc opt-out {name}"));
            let change = LedgerChange::GpcOptOut {
                scope: name.to_owned(),
                withdrawn,
                evidence: evidence.clone(),
            };
            self.commit_change(change, ev).await?;
            if withdrawn.is_some() {
                out.withdrawn.push(name);
            } else {
                out.refused.push(name);
            }
        }
        Ok(out)
    }
}
