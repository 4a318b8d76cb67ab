//! The policy state replayed from the ledger: which consents are in force, which subjects
//! are restricted or erased. It is the grant issuer's gate, so issuing and every use of a
//! grant consult it.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::sync::{PoisonError, RwLock};

use chrono::{DateTime, Utc};

use super::events::{ConsentScope, LedgerChange, LedgerEvent};
use crate::grant::{AccessError, Actor, GrantGate, GrantInfo, IssueError};
use crate::ids::{ConsentId, GrantId, SubjectId};
use crate::purpose::{PurposeId, PurposeRef};

#[derive(Debug, Default)]
struct Inner {
    active: HashMap<(SubjectId, ConsentScope), ConsentId>,
    withdrawn: HashSet<ConsentId>,
    restricted: HashSet<SubjectId>,
    erased: HashSet<SubjectId>,
    known: HashSet<SubjectId>,
    sharing: HashMap<SubjectId, crate::sharing::SharingPolicy>,
    /// Grants revoked through the ledger (by this process or another one).
    revoked: HashSet<GrantId>,
}

/// Current consent and status of every subject.
#[derive(Debug, Default)]
pub(crate) struct PolicyState {
    inner: RwLock<Inner>,
    shared: bool,
}

/// The consent scopes that can back a grant for `purpose`, in order of preference.
pub(crate) const fn needed_scopes(purpose: PurposeId) -> &'static [ConsentScope] {
    match purpose {
        PurposeId::Authentication => &[ConsentScope::GoogleLink, ConsentScope::FacebookLink],
        PurposeId::ConferenceCreation => &[ConsentScope::ZoomLink],
        PurposeId::Preferences => &[ConsentScope::Cookies],
        _ => &[],
    }
}

/// Purposes still allowed for a restricted subject: legal obligations (Art. 18(2)).
const fn exempt_from_restriction(purpose: PurposeRef) -> bool {
    matches!(purpose, PurposeRef::Builtin(p) if matches!(p.legal_basis(), crate::LegalBasis::LegalObligation))
}

impl PolicyState {
    pub(crate) fn new(shared: bool) -> Self {
        Self {
            inner: RwLock::default(),
            shared,
        }
    }

    pub(crate) fn apply(&self, e: &LedgerEvent) {
        let mut s = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        s.known.insert(e.subject);
        match &e.change {
            LedgerChange::ConsentGiven { consent, scope, .. } => {
                s.active.insert((e.subject, *scope), *consent);
            }
            LedgerChange::ConsentWithdrawn { consent, scope } => {
                if s.active.get(&(e.subject, *scope)) == Some(consent) {
                    s.active.remove(&(e.subject, *scope));
                }
                s.withdrawn.insert(*consent);
            }
            LedgerChange::Restricted => {
                s.restricted.insert(e.subject);
            }
            LedgerChange::RestrictionLifted => {
                s.restricted.remove(&e.subject);
            }
            LedgerChange::Erased => {
                s.erased.insert(e.subject);
                s.active.retain(|(subj, _), _| *subj != e.subject);
                s.sharing.remove(&e.subject);
            }
            LedgerChange::SharingSet { policy } => {
                s.sharing.insert(e.subject, policy.clone());
            }
            LedgerChange::GrantRevoked { grant } => {
                s.revoked.insert(*grant);
            }
        }
    }

    pub(crate) fn active_consent(
        &self,
        subject: SubjectId,
        scope: ConsentScope,
    ) -> Option<ConsentId> {
        self.inner
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .active
            .get(&(subject, scope))
            .copied()
    }

    pub(crate) fn sharing(&self, subject: SubjectId) -> crate::sharing::SharingPolicy {
        self.inner
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .sharing
            .get(&subject)
            .cloned()
            .unwrap_or_default()
    }

    pub(crate) fn is_erased(&self, subject: SubjectId) -> bool {
        self.inner
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .erased
            .contains(&subject)
    }

    pub(crate) fn is_restricted(&self, subject: SubjectId) -> bool {
        self.inner
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .restricted
            .contains(&subject)
    }

    pub(crate) fn active_scopes(&self, subject: SubjectId) -> Vec<(ConsentScope, ConsentId)> {
        let s = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        let mut v: Vec<_> = s
            .active
            .iter()
            .filter(|((subj, _), _)| *subj == subject)
            .map(|((_, sc), c)| (*sc, *c))
            .collect();
        v.sort();
        v
    }
}

impl GrantGate for PolicyState {
    fn check_issue(
        &self,
        subject: SubjectId,
        _actor: &Actor,
        purpose: PurposeRef,
        _now: DateTime<Utc>,
    ) -> Result<Option<ConsentId>, IssueError> {
        let s = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        if s.erased.contains(&subject) {
            return Err(IssueError::Erased { subject });
        }
        if s.restricted.contains(&subject) && !exempt_from_restriction(purpose) {
            return Err(IssueError::Restricted { subject });
        }
        let PurposeRef::Builtin(p) = purpose else {
            return Ok(None);
        };
        let scopes = needed_scopes(p);
        if scopes.is_empty() {
            return Ok(None);
        }
        scopes
            .iter()
            .find_map(|sc| s.active.get(&(subject, *sc)).copied())
            .map(Some)
            .ok_or(IssueError::NoConsent {
                subject,
                scope: scopes.first().map_or("consent", |sc| sc.name()),
            })
    }

    fn check_use(&self, info: &GrantInfo, _now: DateTime<Utc>) -> Result<(), AccessError> {
        let s = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        let subject = info.subject;
        if s.revoked.contains(&info.id) {
            return Err(AccessError::Revoked { grant: info.id });
        }
        if s.erased.contains(&subject) {
            return Err(AccessError::Erased { subject });
        }
        if s.restricted.contains(&subject) && !exempt_from_restriction(info.purpose) {
            return Err(AccessError::Restricted { subject });
        }
        if let Some(consent) = info.consent {
            if s.withdrawn.contains(&consent) {
                return Err(AccessError::ConsentWithdrawn {
                    grant: info.id,
                    consent,
                });
            }
        }
        Ok(())
    }

    fn is_shared(&self) -> bool {
        self.shared
    }
}
