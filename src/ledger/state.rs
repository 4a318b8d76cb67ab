//! The policy state replayed from the ledger: which consents are in force, which subjects
//! are restricted or erased, what each subject shares, which grants are revoked and which
//! lawful requests are recorded. The custodian's gate reads it at issue and at every use.

use chrono::{DateTime, Utc};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::sync::{PoisonError, RwLock, RwLockReadGuard};

use super::{LedgerChange, LedgerEvent};
use crate::consent::ConsentScope;
use crate::data::Category;
use crate::dsr::{DsrId, DsrRequest, DsrState, Extension};
use crate::grant::{AccessError, GrantInfo, IssueError};
use crate::ids::{ConsentId, GrantId, RequestId, SubjectId};
use crate::policy::versions::{PolicyHistory, PolicyVersion};
use crate::purpose::{LegalBasis, PurposeId, PurposeRef};
use crate::sharing::{Audience, SharingPolicy};

/// The revocation set is not pruned below this size.
const REVOKED_PRUNE_MIN: usize = 64;

#[derive(Debug, Default)]
struct Inner {
    /// Consents in force, by subject (so erasing a subject touches only its own).
    active: HashMap<SubjectId, HashMap<ConsentScope, ConsentId>>,
    /// Subjects whose erasure was decided (ledger) but not yet reported complete: finished
    /// at the next build if a process died half-way.
    erasing: HashSet<SubjectId>,
    /// Withdrawals whose dependent records are not yet reported deleted.
    withdrawing: HashSet<(SubjectId, ConsentScope)>,
    restricted: HashSet<SubjectId>,
    erased: HashSet<SubjectId>,
    sharing: HashMap<SubjectId, SharingPolicy>,
    /// Grants revoked through the ledger (by this process or another one), with their
    /// expiry when the entry recorded it. Entries past their expiry are pruned (see
    /// [`PolicyState::prune_revoked`]).
    revoked: HashMap<GrantId, Option<DateTime<Utc>>>,
    /// The latest instant the revocation set was pruned at: every grant expiring at or
    /// before it is refused as expired, whatever the clock says later, so a clock that
    /// steps back can never make a pruned revoked grant usable again.
    pruned_at: Option<DateTime<Utc>>,
    /// Size of the revocation set after the last prune (pruning runs again when it doubles).
    revoked_after_prune: usize,
    /// Lawful requests recorded (clause 7.2), with the subject they concern.
    requests: HashMap<RequestId, SubjectId>,
    /// Consents to host scopes in force, by subject and scope name.
    host_active: HashMap<SubjectId, HashMap<String, ConsentId>>,
    /// Host-scope withdrawals whose dependent records are not yet reported deleted.
    host_withdrawing: HashSet<(SubjectId, String)>,
    /// Scopes (by name) a Global Privacy Control signal opted the subject out of.
    gpc: HashSet<(SubjectId, String)>,
    /// Data-subject requests (the request desk, `crate::dsr`).
    dsr: HashMap<DsrId, DsrRequest>,
    /// Published policy versions (clause 10), replayed with the history's rules.
    policy: Option<PolicyHistory>,
    /// Notices of policy versions (10.2), by subject and version.
    notices: HashMap<(SubjectId, u32), NoticeStatus>,
    /// The KEK schedule last recorded: (epoch, backup window), seconds.
    kek_schedule: Option<(i64, i64)>,
    /// KEK versions retired (`KekRetired`): no live key is under them.
    kek_retired: HashSet<u32>,
    /// The newest blind-index key version whose rotation finished (`IndexKeyRotated`).
    index_rotated_to: Option<u32>,
}

/// Where the notice of one policy version to one subject stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct NoticeStatus {
    /// When the notifier delivered it.
    pub(crate) delivered_at: Option<DateTime<Utc>>,
    /// Failed deliveries so far.
    pub(crate) failures: u32,
}

/// Current consent and status of every subject.
#[derive(Debug, Default)]
pub(crate) struct PolicyState {
    inner: RwLock<Inner>,
}

/// Purposes still allowed for a restricted subject (Art. 18(2)): the built-in legal
/// compliance purpose, whose grants need a recorded lawful request, and the subject's own
/// access (`OwnerAccess`, issued only on the subject's authenticated session): a
/// restriction stops *our* use of the data, not the subject's rights to see it, take it
/// with them or correct it (Art. 15, 16, 20; Art. 18(1)(a) restricts precisely while the
/// accuracy is contested, which a rectification settles). A host purpose that merely
/// declares a legal-obligation basis gets no exemption.
const fn exempt_from_restriction(purpose: PurposeRef, basis: LegalBasis) -> bool {
    match purpose {
        PurposeRef::Builtin(PurposeId::LegalCompliance) => {
            matches!(basis, LegalBasis::LegalObligation)
        }
        PurposeRef::Builtin(PurposeId::OwnerAccess) => true,
        _ => false,
    }
}

/// The audience a sharing purpose serves (clause 5), if it is one.
pub(crate) const fn audience_of(purpose: PurposeRef) -> Option<Audience> {
    match purpose {
        PurposeRef::Builtin(PurposeId::TeamCollaboration) => Some(Audience::Colleagues),
        PurposeRef::Builtin(PurposeId::ChatSharing) => Some(Audience::ExternalChat),
        _ => None,
    }
}

impl Inner {
    fn host_consent(&self, subject: SubjectId, scope: &str) -> Option<ConsentId> {
        self.host_active
            .get(&subject)
            .and_then(|m| m.get(scope))
            .copied()
    }

    fn consent(&self, subject: SubjectId, scope: ConsentScope) -> Option<ConsentId> {
        self.active
            .get(&subject)
            .and_then(|m| m.get(&scope))
            .copied()
    }
}

impl PolicyState {
    fn read(&self) -> RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn apply(&self, e: &LedgerEvent) {
        let mut s = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        match &e.change {
            LedgerChange::ConsentGiven { consent, scope, .. } => {
                s.active
                    .entry(e.subject)
                    .or_default()
                    .insert(*scope, *consent);
            }
            LedgerChange::ConsentWithdrawn { consent, scope } => {
                if let Some(m) = s.active.get_mut(&e.subject) {
                    if m.get(scope) == Some(consent) {
                        m.remove(scope);
                    }
                }
                if !scope.dependent_kinds().is_empty() {
                    s.withdrawing.insert((e.subject, *scope));
                }
            }
            LedgerChange::DependentDataDeleted { scope } => {
                s.withdrawing.remove(&(e.subject, *scope));
            }
            LedgerChange::Restricted => {
                s.restricted.insert(e.subject);
            }
            LedgerChange::RestrictionLifted => {
                s.restricted.remove(&e.subject);
            }
            LedgerChange::Erased => {
                s.erased.insert(e.subject);
                s.erasing.insert(e.subject);
                s.active.remove(&e.subject);
                s.sharing.remove(&e.subject);
            }
            LedgerChange::ErasureCompleted => {
                s.erasing.remove(&e.subject);
            }
            LedgerChange::SharingSet { policy } => {
                s.sharing.insert(e.subject, policy.clone());
            }
            LedgerChange::GrantRevoked { grant, expires_at } => {
                s.revoked.insert(*grant, *expires_at);
            }
            LedgerChange::LawfulRequestRecorded { request, .. } => {
                s.requests.insert(*request, e.subject);
            }
            LedgerChange::PolicyPublished {
                number,
                effective,
                significant,
                confidentiality_fingerprint,
            } => match &mut s.policy {
                None => {
                    s.policy = Some(PolicyHistory::starting_with(
                        *number,
                        *effective,
                        confidentiality_fingerprint.clone(),
                    ));
                }
                Some(h) => {
                    // Out of order or another table's fingerprint: not a version.
                    let _ignored = h.publish_fingerprinted(
                        *number,
                        *effective,
                        *significant,
                        confidentiality_fingerprint.clone(),
                    );
                }
            },
            LedgerChange::KekScheduleSet {
                epoch_secs,
                backup_window_secs,
            } => {
                s.kek_schedule = Some((*epoch_secs, *backup_window_secs));
            }
            LedgerChange::KekRetired { version } => {
                s.kek_retired.insert(*version);
            }
            LedgerChange::PolicyNoticeDelivered { version } => {
                let n = s.notices.entry((e.subject, *version)).or_default();
                n.delivered_at.get_or_insert(e.at);
            }
            LedgerChange::PolicyNoticeFailed { version } => {
                let n = s.notices.entry((e.subject, *version)).or_default();
                n.failures = n.failures.saturating_add(1);
            }
            LedgerChange::DsrReceived { request, kind } => {
                s.dsr.entry(*request).or_insert(DsrRequest {
                    id: *request,
                    subject: e.subject,
                    kind: *kind,
                    received_at: e.at,
                    state: DsrState::Received,
                    verified_at: None,
                    extension: None,
                    closed_at: None,
                });
            }
            LedgerChange::DsrVerified { request } => {
                if let Some(r) = s.dsr.get_mut(request).filter(|r| r.subject == e.subject) {
                    if r.state == DsrState::Received {
                        r.state = DsrState::Verified;
                        r.verified_at = Some(e.at);
                    }
                }
            }
            LedgerChange::DsrExtended {
                request,
                months,
                reason,
                subject_told_at,
            } => {
                if let Some(r) = s.dsr.get_mut(request).filter(|r| r.subject == e.subject) {
                    if r.extension.is_none() && !r.is_closed() {
                        r.extension = Some(Extension {
                            months: *months,
                            reason: *reason,
                            subject_told_at: *subject_told_at,
                        });
                    }
                }
            }
            LedgerChange::DsrFulfilling { request } => {
                if let Some(r) = s.dsr.get_mut(request).filter(|r| r.subject == e.subject) {
                    if r.state == DsrState::Verified {
                        r.state = DsrState::Fulfilling;
                    }
                }
            }
            LedgerChange::DsrReleased { request } => {
                if let Some(r) = s.dsr.get_mut(request).filter(|r| r.subject == e.subject) {
                    if r.state == DsrState::Fulfilling {
                        r.state = DsrState::Verified;
                    }
                }
            }
            LedgerChange::DsrFulfilled { request } => {
                if let Some(r) = s.dsr.get_mut(request).filter(|r| r.subject == e.subject) {
                    if r.state == DsrState::Fulfilling {
                        r.state = DsrState::Fulfilled;
                        r.closed_at = Some(e.at);
                    }
                }
            }
            LedgerChange::DsrRefused { request, reason } => {
                if let Some(r) = s.dsr.get_mut(request).filter(|r| r.subject == e.subject) {
                    if matches!(r.state, DsrState::Received | DsrState::Verified) {
                        r.state = DsrState::Refused(*reason);
                        r.closed_at = Some(e.at);
                    }
                }
            }
            LedgerChange::HostConsentGiven { consent, scope, .. } => {
                let m = s.host_active.entry(e.subject).or_default();
                m.insert(scope.clone(), *consent);
            }
            LedgerChange::HostConsentWithdrawn { consent, scope } => {
                if let Some(m) = s.host_active.get_mut(&e.subject) {
                    if m.get(scope) == Some(consent) {
                        m.remove(scope);
                    }
                }
                let dependent = crate::policy::HostScope::registered(scope)
                    .is_ok_and(|sc| !sc.dependent_kinds().is_empty());
                if dependent {
                    s.host_withdrawing.insert((e.subject, scope.clone()));
                }
            }
            LedgerChange::HostDependentDataDeleted { scope } => {
                s.host_withdrawing.remove(&(e.subject, scope.clone()));
            }
            LedgerChange::GpcOptOut { scope, .. } => {
                s.gpc.insert((e.subject, scope.clone()));
            }
            LedgerChange::IndexKeyRotated { version } => {
                s.index_rotated_to = s.index_rotated_to.max(Some(*version));
            }
        }
        if matches!(e.change, LedgerChange::Erased) {
            s.host_active.remove(&e.subject);
        }
    }

    /// The consent in force for host scope `scope` (by name).
    pub(crate) fn host_consent(&self, subject: SubjectId, scope: &str) -> Option<ConsentId> {
        self.read().host_consent(subject, scope)
    }

    /// Whether a Global Privacy Control opt-out is recorded for `subject` and scope `scope`
    /// (by name).
    pub(crate) fn gpc_opted_out(&self, subject: SubjectId, scope: &str) -> bool {
        self.read().gpc.contains(&(subject, scope.to_owned()))
    }

    /// The host-scope consents in force for a subject, by scope name.
    pub(crate) fn host_scopes(&self, subject: SubjectId) -> Vec<(String, ConsentId)> {
        let mut v: Vec<_> = self
            .read()
            .host_active
            .get(&subject)
            .map(|m| m.iter().map(|(sc, c)| (sc.clone(), *c)).collect())
            .unwrap_or_default();
        v.sort();
        v
    }

    /// Host-scope withdrawals whose dependent records are not reported deleted yet.
    pub(crate) fn host_withdrawing(&self) -> Vec<(SubjectId, String)> {
        let mut v: Vec<_> = self.read().host_withdrawing.iter().cloned().collect();
        v.sort();
        v
    }

    /// Drops from the revocation set every grant that expired at or before `now` — the
    /// instant of the clock the gate uses, never a ledger entry's (another process's clock
    /// may run ahead). The gate checks expiry before revocation, and [`check_use`] refuses
    /// every grant expiring at or before the latest prune instant, so a pruned grant stays
    /// refused even if the clock later steps back. Returns how many entries were dropped.
    ///
    /// [`check_use`]: Self::check_use
    pub(crate) fn prune_revoked(&self, now: DateTime<Utc>) -> usize {
        let mut s = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        let horizon = s.pruned_at.map_or(now, |p| p.max(now));
        let before = s.revoked.len();
        s.revoked
            .retain(|_, expires| expires.is_none_or(|e| e > horizon));
        s.pruned_at = Some(horizon);
        s.revoked_after_prune = s.revoked.len();
        before - s.revoked.len()
    }

    /// [`prune_revoked`](Self::prune_revoked) when the set has doubled since the last prune
    /// (and holds at least 64 entries), so the cost stays amortized O(1) per revocation.
    pub(crate) fn prune_revoked_if_due(&self, now: DateTime<Utc>) {
        let due = {
            let s = self.read();
            s.revoked.len() >= REVOKED_PRUNE_MIN.max(s.revoked_after_prune.saturating_mul(2))
        };
        if due {
            self.prune_revoked(now);
        }
    }

    /// How many grants the revocation set holds.
    pub(crate) fn revoked_len(&self) -> usize {
        self.read().revoked.len()
    }

    /// Whether the erasure of `subject` is decided but not reported complete (one lookup,
    /// whatever the number of other subjects).
    pub(crate) fn is_erasing(&self, subject: SubjectId) -> bool {
        self.read().erasing.contains(&subject)
    }

    /// Whether a withdrawal of `scope` by `subject` awaits the deletion of its dependent
    /// records (one lookup).
    pub(crate) fn is_withdrawing(&self, subject: SubjectId, scope: ConsentScope) -> bool {
        self.read().withdrawing.contains(&(subject, scope))
    }

    pub(crate) fn active_consent(
        &self,
        subject: SubjectId,
        scope: ConsentScope,
    ) -> Option<ConsentId> {
        self.read().consent(subject, scope)
    }

    /// Withdrawals whose dependent records are not reported deleted yet.
    pub(crate) fn withdrawing(&self) -> Vec<(SubjectId, ConsentScope)> {
        let mut v: Vec<_> = self.read().withdrawing.iter().copied().collect();
        v.sort();
        v
    }

    /// Subjects whose erasure is decided but not reported complete.
    pub(crate) fn erasing(&self) -> Vec<SubjectId> {
        let mut v: Vec<_> = self.read().erasing.iter().copied().collect();
        v.sort();
        v
    }

    pub(crate) fn sharing(&self, subject: SubjectId) -> SharingPolicy {
        self.read()
            .sharing
            .get(&subject)
            .cloned()
            .unwrap_or_default()
    }

    /// The newest blind-index key version whose rotation finished.
    pub(crate) fn index_rotated_to(&self) -> Option<u32> {
        self.read().index_rotated_to
    }

    /// The KEK schedule last recorded: (epoch, backup window), seconds.
    pub(crate) fn kek_schedule(&self) -> Option<(i64, i64)> {
        self.read().kek_schedule
    }

    /// Whether KEK version `version` was retired (no live key under it).
    pub(crate) fn kek_retired(&self, version: u32) -> bool {
        self.read().kek_retired.contains(&version)
    }

    /// The published policy versions, oldest first.
    pub(crate) fn policy_versions(&self) -> Vec<PolicyVersion> {
        self.read()
            .policy
            .as_ref()
            .map(|h| h.versions().to_vec())
            .unwrap_or_default()
    }

    /// The history of published versions, if any.
    pub(crate) fn policy_history(&self) -> Option<PolicyHistory> {
        self.read().policy.clone()
    }

    /// The notice status of `version` for `subject`.
    pub(crate) fn notice(&self, subject: SubjectId, version: u32) -> NoticeStatus {
        self.read()
            .notices
            .get(&(subject, version))
            .copied()
            .unwrap_or_default()
    }

    /// One data-subject request.
    pub(crate) fn dsr(&self, request: DsrId) -> Option<DsrRequest> {
        self.read().dsr.get(&request).cloned()
    }

    /// Every data-subject request, oldest first.
    pub(crate) fn dsr_all(&self) -> Vec<DsrRequest> {
        let mut all: Vec<DsrRequest> = self.read().dsr.values().cloned().collect();
        all.sort_by_key(|r| (r.received_at, r.id));
        all
    }

    pub(crate) fn is_erased(&self, subject: SubjectId) -> bool {
        self.read().erased.contains(&subject)
    }

    pub(crate) fn is_restricted(&self, subject: SubjectId) -> bool {
        self.read().restricted.contains(&subject)
    }

    pub(crate) fn lawful_request_of(&self, request: RequestId) -> Option<SubjectId> {
        self.read().requests.get(&request).copied()
    }

    pub(crate) fn active_scopes(&self, subject: SubjectId) -> Vec<(ConsentScope, ConsentId)> {
        let s = self.read();
        let mut v: Vec<_> = s
            .active
            .get(&subject)
            .map(|m| m.iter().map(|(sc, c)| (*sc, *c)).collect())
            .unwrap_or_default();
        v.sort();
        v
    }

    /// At issue: refuse, or name the consent the grant will depend on.
    pub(crate) fn check_issue(
        &self,
        subject: SubjectId,
        purpose: PurposeRef,
        basis: LegalBasis,
    ) -> Result<Option<ConsentId>, IssueError> {
        let s = self.read();
        if s.erased.contains(&subject) {
            return Err(IssueError::Erased { subject });
        }
        if s.restricted.contains(&subject) && !exempt_from_restriction(purpose, basis) {
            return Err(IssueError::Restricted { subject });
        }
        if let Some(audience) = audience_of(purpose) {
            // Clause 5: the subject's sharing choice is the consent behind a sharing
            // purpose; nothing chosen, nothing to grant.
            if !s
                .sharing
                .get(&subject)
                .is_some_and(|p| p.shares_any(audience))
            {
                return Err(IssueError::NoConsent {
                    subject,
                    scope: "sharing choice",
                });
            }
        }
        let p = match purpose {
            PurposeRef::Builtin(p) => p,
            PurposeRef::Host(name) if matches!(basis, LegalBasis::Consent) => {
                // A host consent purpose is gated by the host scope that lists it.
                let sc = crate::policy::host::scope_of_purpose(name)
                    .ok_or(IssueError::ConsentScopeMissing { purpose: name })?;
                return match s.host_consent(subject, sc.name()) {
                    Some(c) => Ok(Some(c)),
                    None => Err(IssueError::NoConsent {
                        subject,
                        scope: sc.name(),
                    }),
                };
            }
            PurposeRef::Host(_) => return Ok(None),
        };
        let mut first = None;
        for sc in crate::policy::scopes::scopes_for(p) {
            if let Some(c) = s.consent(subject, sc) {
                return Ok(Some(c));
            }
            first.get_or_insert(sc);
        }
        match first {
            None => Ok(None),
            Some(sc) => Err(IssueError::NoConsent {
                subject,
                scope: sc.name(),
            }),
        }
    }

    /// At use: the grant's basis still holds (revocation, erasure, restriction, consent in
    /// force, lawful request recorded).
    pub(crate) fn check_use(&self, info: &GrantInfo, basis: LegalBasis) -> Result<(), AccessError> {
        let s = self.read();
        let subject = info.subject;
        if s.pruned_at.is_some_and(|p| info.expires_at <= p) {
            // Expired by an instant this state has seen: its revocation may be pruned.
            return Err(AccessError::Expired { grant: info.id });
        }
        if s.revoked.contains_key(&info.id) {
            return Err(AccessError::Revoked { grant: info.id });
        }
        if s.erased.contains(&subject) {
            return Err(AccessError::Erased { subject });
        }
        if s.restricted.contains(&subject) && !exempt_from_restriction(info.purpose, basis) {
            return Err(AccessError::Restricted { subject });
        }
        if let PurposeRef::Builtin(p) = info.purpose {
            let mut needed = None;
            for sc in crate::policy::scopes::scopes_for(p) {
                needed.get_or_insert(sc);
                // The consent the grant was issued under must still be the one in force.
                if info.consent.is_some() && s.consent(subject, sc) == info.consent {
                    needed = None;
                    break;
                }
            }
            if let Some(sc) = needed {
                return Err(match info.consent {
                    Some(consent) => AccessError::ConsentWithdrawn {
                        grant: info.id,
                        consent,
                    },
                    None => AccessError::NoConsent {
                        grant: info.id,
                        scope: sc.name(),
                    },
                });
            }
            if p == PurposeId::LegalCompliance
                && info.request.and_then(|r| s.requests.get(&r)) != Some(&subject)
            {
                return Err(AccessError::NoLawfulRequest { grant: info.id });
            }
        } else if let (PurposeRef::Host(name), LegalBasis::Consent) = (info.purpose, basis) {
            // The host consent the grant was issued under must still be the one in force.
            let scope = crate::policy::host::scope_of_purpose(name);
            let in_force = scope.and_then(|sc| s.host_consent(subject, sc.name()));
            if info.consent.is_none() || in_force != info.consent {
                return Err(match info.consent {
                    Some(consent) => AccessError::ConsentWithdrawn {
                        grant: info.id,
                        consent,
                    },
                    None => AccessError::NoConsent {
                        grant: info.id,
                        scope: scope.map_or("host purpose consent", |sc| sc.name()),
                    },
                });
            }
        }
        Ok(())
    }

    /// At use, per kind read: a kind collected under a consent is read only while that
    /// consent is in force, and a sharing purpose reads only what the subject shares with
    /// its audience (clause 5).
    pub(crate) fn check_kind(&self, info: &GrantInfo, kind: Category) -> Result<(), AccessError> {
        if let Some(sc) = crate::policy::scopes::scope_of_kind(kind) {
            if self.active_consent(info.subject, sc).is_none() {
                return Err(AccessError::NoConsent {
                    grant: info.id,
                    scope: sc.name(),
                });
            }
        }
        if let Some(audience) = audience_of(info.purpose) {
            let shared = self
                .read()
                .sharing
                .get(&info.subject)
                .is_some_and(|p| p.allows(audience, kind));
            if !shared {
                return Err(AccessError::NotShared {
                    grant: info.id,
                    kind: kind.name(),
                });
            }
        }
        Ok(())
    }
}
