//! Issuing grants (only here), sessions and user requests, lawful requests, signed tokens
//! and revocation.

use core::marker::PhantomData;

use chrono::{DateTime, Utc};

use super::{Custodian, CustodianError};
use crate::disclosure::LawfulRequest;
use crate::grant::{
    AccessError, Actor, AuthorityId, Grant, GrantInfo, IssueError, TokenError, UserInitiated,
    UserSession,
};
use crate::ids::{GrantId, RequestId, StaffId, SubjectId};
use crate::ledger::{AuditEvent, AuditKind, LedgerChange};
use crate::purpose::{
    ConferenceCreation, LegalCompliance, OwnerAccess, Purpose, PurposeId, PurposeRef,
    ServicePurpose,
};
use crate::store::AuthError;

/// Longest component name kept in a grant (audit only).
const MAX_COMPONENT: usize = 64;
/// Longest component name accepted (and cut to [`MAX_COMPONENT`] bytes).
const MAX_COMPONENT_GIVEN: usize = 256;
/// Longest host purpose name a grant is issued for (tokens carry it in full).
const MAX_HOST_PURPOSE: usize = 64;

/// A subject-less capability to look subjects up by email or phone for purpose `P`
/// (for example password recovery under `Notification`). Issued and checked like a grant:
/// its authority, expiry and the lookup itself are audited.
pub struct LookupGrant<P: ServicePurpose> {
    id: GrantId,
    component: std::borrow::Cow<'static, str>,
    expires_at: DateTime<Utc>,
    authority: AuthorityId,
    purpose: PhantomData<fn() -> P>,
}

impl<P: ServicePurpose> core::fmt::Debug for LookupGrant<P> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("LookupGrant")
            .field("purpose", &P::NAME)
            .field("id", &self.id)
            .field("component", &self.component)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl<P: ServicePurpose> LookupGrant<P> {
    /// The grant id.
    #[must_use]
    pub const fn id(&self) -> GrantId {
        self.id
    }
    pub(super) fn check(&self, c: &Custodian, now: DateTime<Utc>) -> Result<(), AccessError> {
        if !c.inner.tokens.accepts(self.authority) {
            return Err(AccessError::ForeignAuthority { grant: self.id });
        }
        if now >= self.expires_at {
            return Err(AccessError::Expired { grant: self.id });
        }
        Ok(())
    }
}

/// A service component's name, as kept in grants, tokens and audit events (in clear): cut
/// to [`MAX_COMPONENT`] bytes, and refused if it is blank or reads as personal data
/// (`data::screen`).
fn component_name(component: &str) -> Result<std::borrow::Cow<'static, str>, CustodianError> {
    // Bounds the screen's work: a name is a label, not a document.
    if component.len() > MAX_COMPONENT_GIVEN {
        return Err(CustodianError::TooLarge {
            kind: "service component name",
            max: MAX_COMPONENT_GIVEN,
        });
    }
    // Blank: nothing a reader of the audit log would see.
    if component.chars().all(|c| {
        c.is_whitespace() || matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{00AD}')
    }) {
        return Err(CustodianError::BlankText("service component name"));
    }
    let mut end = component.len().min(MAX_COMPONENT);
    while !component.is_char_boundary(end) {
        end -= 1;
    }
    let kept = component.get(..end).unwrap_or_default();
    // Both the text given and the text kept: a cut can turn the one into the other
    // (`… 10.1.2.2556` kept as `… 10.1.2.255`).
    if crate::data::screen::looks_personal(component)
        || (kept.len() < component.len() && crate::data::screen::looks_personal(kept))
    {
        return Err(CustodianError::PersonalDataInText("service component name"));
    }
    Ok(crate::grant::intern_component(kept))
}

impl Custodian {
    /// Verifies a host credential with the custodian's authenticator and returns the
    /// subject's session — the only way to obtain a [`UserSession`].
    ///
    /// # Errors
    /// [`CustodianError::Auth`] when no authenticator is configured, the credential is
    /// refused or the session has expired.
    #[cfg_attr(
        feature = "tracing",
        tracing::instrument(skip_all, err(level = "info", Display))
    )]
    pub async fn authenticate(&self, credential: &str) -> Result<UserSession, CustodianError> {
        let auth = self
            .inner
            .authenticator
            .as_ref()
            .ok_or(AuthError::Rejected)?;
        let now = self.now();
        let claims = auth.authenticate(credential, now).await?;
        if now >= claims.expires_at {
            return Err(AuthError::Expired.into());
        }
        // A session authenticated in the future (or ending before it began) is not a
        // verified session, whatever the authenticator says.
        if claims.authenticated_at > now || claims.expires_at <= claims.authenticated_at {
            return Err(AuthError::Rejected.into());
        }
        Ok(UserSession::from_claims(
            claims,
            self.inner.tokens.authority(),
        ))
    }

    /// Records that the subject of `session` asked for an action now (clause 3.7): the
    /// proof a conference grant needs, stamped by the custodian's clock. Synchronous, so the
    /// authenticator is not asked here: [`grant_conference`](Self::grant_conference) refuses
    /// the proof of a session that has ended since.
    ///
    /// # Errors
    /// [`IssueError::ForeignSession`] or [`IssueError::SessionExpired`].
    #[cfg_attr(feature = "tracing", tracing::instrument(skip_all, fields(subject = %session.subject(), session = %session.id()), err(level = "info", Display)))]
    pub fn user_request(&self, session: &UserSession) -> Result<UserInitiated, CustodianError> {
        let now = self.now();
        self.check_session_claims(session, now)?;
        Ok(UserInitiated::new(session, now))
    }

    /// Issues and audits a grant after the gate's issue checks. `cap` bounds its expiry
    /// (the session's or the NDA's end).
    async fn mint<P: Purpose>(
        &self,
        subject: SubjectId,
        actor: Actor,
        cap: Option<DateTime<Utc>>,
        request: Option<RequestId>,
    ) -> Result<Grant<P>, CustodianError> {
        let now = self.now();
        let out = self.mint_inner(subject, actor, cap, request, now).await;
        if let Err(e) = &out {
            self.audit_refusal(subject, None, None, P::NAME, e, now)
                .await;
        }
        out
    }

    async fn mint_inner<P: Purpose>(
        &self,
        subject: SubjectId,
        actor: Actor,
        cap: Option<DateTime<Utc>>,
        request: Option<RequestId>,
        now: DateTime<Utc>,
    ) -> Result<Grant<P>, CustodianError> {
        if let PurposeRef::Host(name) = P::ID {
            if name.len() > MAX_HOST_PURPOSE || name.is_empty() {
                return Err(IssueError::PurposeNameTooLong.into());
            }
        }
        if P::ID == PurposeRef::Builtin(PurposeId::LegalCompliance) && request.is_none() {
            return Err(IssueError::ProofRequired { purpose: P::NAME }.into());
        }
        self.catch_up().await?;
        // Read the change counter before the checks: a change racing with them makes the
        // counter differ, so the new grant takes the slow path at use.
        let epoch = self.inner.epoch.current();
        let consent = self
            .inner
            .state
            .check_issue(subject, P::ID, P::LEGAL_BASIS)?;
        let mut expires_at = now
            .checked_add_signed(self.inner.ttl)
            .ok_or(IssueError::TimeOutOfRange)?;
        if let Some(cap) = cap {
            expires_at = expires_at.min(cap);
        }
        let info = GrantInfo {
            id: GrantId::new_random(),
            subject,
            actor,
            purpose: P::ID,
            issued_at: now,
            expires_at,
            consent,
            request,
        };
        let mut ev = AuditEvent::new(now, AuditKind::GrantIssued, subject);
        ev.grant = Some(info.id);
        ev.purpose = Some(P::NAME.to_owned());
        ev.actor = Some(info.actor.clone());
        ev.reference = consent
            .map(|c| c.to_string())
            .or_else(|| request.map(|r| r.to_string()));
        self.commit(None, &[ev]).await?;
        Ok(Grant::mint(
            info,
            self.inner.tokens.authority(),
            self.inner.instance,
            epoch,
        ))
    }

    /// Issues (and audits) a grant for a service purpose to component `component` (a name
    /// for the audit log, at most 64 bytes kept). The name is kept in clear in tokens and
    /// audit events: a name that reads as personal data by its form is refused.
    ///
    /// # Errors
    /// [`CustodianError::Issue`] when consent, restriction or erasure refuse, or the
    /// purpose needs its own proof (legal compliance: [`grant_lawful`](Self::grant_lawful));
    /// [`CustodianError::PersonalDataInText`] for a component name that reads as an email
    /// address, an international phone number or an IP address, or holds a control
    /// character; [`CustodianError::TooLarge`] for a name over 256 bytes;
    /// [`CustodianError::BlankText`] for an empty or blank name.
    #[cfg_attr(feature = "tracing", tracing::instrument(skip_all, fields(subject = %subject, purpose = P::NAME), err(level = "info", Display)))]
    pub async fn grant<P: ServicePurpose>(
        &self,
        subject: SubjectId,
        component: &str,
    ) -> Result<Grant<P>, CustodianError> {
        let actor = Actor::Service {
            component: component_name(component)?,
        };
        self.mint(subject, actor, None, None).await
    }

    /// Issues (and audits) a grant for a service purpose to the subject's own session; it
    /// ends with the session: at its expiry, and at a logout the authenticator reports
    /// ([`Authenticator::session_live`](crate::store::Authenticator::session_live), asked at
    /// every use; [`AccessError::SessionEnded`]).
    ///
    /// # Errors
    /// As [`grant`](Self::grant), and a foreign or expired session.
    #[cfg_attr(feature = "tracing", tracing::instrument(skip_all, fields(subject = %session.subject(), session = %session.id(), purpose = P::NAME), err(level = "info", Display)))]
    pub async fn grant_for_session<P: ServicePurpose>(
        &self,
        session: &UserSession,
    ) -> Result<Grant<P>, CustodianError> {
        self.check_session(session, self.now()).await?;
        let actor = Actor::Subject {
            session: session.id(),
        };
        self.mint(session.subject(), actor, Some(session.expires_at()), None)
            .await
    }

    /// Issues (and audits) an [`OwnerAccess`] grant to the subject's own session; it ends
    /// with the session.
    ///
    /// # Errors
    /// As [`grant_for_session`](Self::grant_for_session).
    #[cfg_attr(feature = "tracing", tracing::instrument(skip_all, fields(subject = %session.subject(), session = %session.id(), purpose = "owner_access"), err(level = "info", Display)))]
    pub async fn grant_owner(
        &self,
        session: &UserSession,
    ) -> Result<Grant<OwnerAccess>, CustodianError> {
        self.check_session(session, self.now()).await?;
        let actor = Actor::Subject {
            session: session.id(),
        };
        self.mint(session.subject(), actor, Some(session.expires_at()), None)
            .await
    }

    /// Issues (and audits) a [`ConferenceCreation`] grant on a fresh user-initiated request
    /// while the Zoom connection consent is in force (3.7).
    ///
    /// # Errors
    /// Stale request, foreign or expired session, no Zoom consent, restriction, erasure.
    #[cfg_attr(feature = "tracing", tracing::instrument(skip_all, fields(subject = %proof.session().subject(), session = %proof.session().id(), purpose = "conference_creation"), err(level = "info", Display)))]
    pub async fn grant_conference(
        &self,
        proof: &UserInitiated,
    ) -> Result<Grant<ConferenceCreation>, CustodianError> {
        let now = self.now();
        let session = proof.session();
        self.check_session(session, now).await?;
        let age = now.signed_duration_since(proof.requested_at());
        if age < chrono::TimeDelta::zero() || age > self.inner.request_max_age {
            return Err(IssueError::StaleRequest.into());
        }
        let actor = Actor::Subject {
            session: session.id(),
        };
        self.mint(session.subject(), actor, Some(session.expires_at()), None)
            .await
    }

    /// Issues (and audits) a grant to staff member `staff`, whose NDA the custodian reads
    /// from its own staff directory (clause 8.1); the grant ends with the NDA and stops at
    /// once if the NDA is removed.
    ///
    /// # Errors
    /// [`IssueError::NdaMissing`] (also when no directory is configured), directory
    /// failures and the other refusals.
    #[cfg_attr(feature = "tracing", tracing::instrument(skip_all, fields(subject = %subject, staff = %staff, purpose = P::NAME), err(level = "info", Display)))]
    pub async fn grant_staff<P: ServicePurpose>(
        &self,
        subject: SubjectId,
        staff: StaffId,
    ) -> Result<Grant<P>, CustodianError> {
        let now = self.now();
        let nda = match &self.inner.staff {
            Some(d) => d.nda(staff).await?,
            None => None,
        };
        let nda = nda
            .filter(|n| n.staff() == staff && n.is_valid_at(now))
            .ok_or(IssueError::NdaMissing { staff });
        let nda = match nda {
            Ok(n) => n,
            Err(e) => {
                let e = CustodianError::from(e);
                self.audit_refusal(subject, None, None, P::NAME, &e, now)
                    .await;
                return Err(e);
            }
        };
        self.mint(subject, Actor::Staff { staff }, nda.expires_at(), None)
            .await
    }

    /// Records a lawful request of a public authority concerning `subject` (clause 7.2) in
    /// the ledger, so every process can check legal-compliance grants against it.
    ///
    /// # Errors
    /// [`CustodianError::Erased`] or store failures.
    #[cfg_attr(feature = "tracing", tracing::instrument(skip_all, fields(subject = %subject), err(level = "info", Display)))]
    pub async fn record_lawful_request(
        &self,
        subject: SubjectId,
        request: &LawfulRequest,
    ) -> Result<RequestId, CustodianError> {
        self.catch_up().await?;
        let id = RequestId::new_random();
        let mut ev = AuditEvent::new(self.now(), AuditKind::LawfulRequestRecorded, subject);
        ev.reference = Some(id.to_string());
        self.commit_change(
            LedgerChange::LawfulRequestRecorded {
                request: id,
                authority: request.authority().to_owned(),
                legal_basis: request.legal_basis().to_owned(),
                reference: request.reference().to_owned(),
            },
            ev,
        )
        .await?;
        Ok(id)
    }

    /// Issues (and audits) a [`LegalCompliance`] grant on a recorded lawful request for
    /// `subject` (clause 7.2); every use checks the request is still on record.
    ///
    /// # Errors
    /// [`IssueError::UnknownLawfulRequest`] and the other refusals of
    /// [`grant`](Self::grant), [`CustodianError::PersonalDataInText`] included.
    #[cfg_attr(feature = "tracing", tracing::instrument(skip_all, fields(subject = %subject, request = %request, purpose = "legal_compliance"), err(level = "info", Display)))]
    pub async fn grant_lawful(
        &self,
        subject: SubjectId,
        request: RequestId,
        component: &str,
    ) -> Result<Grant<LegalCompliance>, CustodianError> {
        self.catch_up().await?;
        if self.inner.state.lawful_request_of(request) != Some(subject) {
            let e = CustodianError::from(IssueError::UnknownLawfulRequest(request));
            self.audit_refusal(subject, None, None, LegalCompliance::NAME, &e, self.now())
                .await;
            return Err(e);
        }
        let actor = Actor::Service {
            component: component_name(component)?,
        };
        self.mint(subject, actor, None, Some(request)).await
    }

    /// Issues (and audits) a lookup grant (see [`LookupGrant`]).
    ///
    /// # Errors
    /// Store failures writing the audit entry, an out-of-range lifetime,
    /// [`CustodianError::PersonalDataInText`] as for [`grant`](Self::grant).
    #[cfg_attr(feature = "tracing", tracing::instrument(skip_all, fields(purpose = P::NAME), err(level = "info", Display)))]
    pub async fn grant_lookup<P: ServicePurpose>(
        &self,
        component: &str,
    ) -> Result<LookupGrant<P>, CustodianError> {
        let now = self.now();
        let g = LookupGrant {
            id: GrantId::new_random(),
            component: component_name(component)?,
            expires_at: now
                .checked_add_signed(self.inner.ttl)
                .ok_or(IssueError::TimeOutOfRange)?,
            authority: self.inner.tokens.authority(),
            purpose: PhantomData,
        };
        let mut ev = AuditEvent::new(
            now,
            AuditKind::GrantIssued,
            SubjectId::from_uuid(uuid::Uuid::nil()),
        );
        ev.grant = Some(g.id);
        ev.purpose = Some(P::NAME.to_owned());
        ev.actor = Some(Actor::Service {
            component: g.component.clone(),
        });
        ev.reference = Some("lookup".to_owned());
        self.commit(None, &[ev]).await?;
        Ok(g)
    }

    /// Seals a grant this custodian issued into a signed token for another process of the
    /// deployment or the C ABI.
    ///
    /// # Errors
    /// [`AccessError::ForeignAuthority`] for a grant of another authority (it is never
    /// re-signed).
    #[cfg_attr(feature = "tracing", tracing::instrument(skip_all, fields(grant = %grant.id(), subject = %grant.subject(), purpose = P::NAME), err(level = "info", Display)))]
    pub fn seal_grant<P: Purpose>(&self, grant: &Grant<P>) -> Result<String, CustodianError> {
        if !self.inner.tokens.accepts(grant.authority()) {
            return Err(AccessError::ForeignAuthority { grant: grant.id() }.into());
        }
        Ok(self.inner.tokens.seal(grant.info()))
    }

    /// Opens a signed token as a grant for purpose `P`, running the whole gate (consent in
    /// force, restriction, erasure, revocation, lawful request, NDA) by the custodian's
    /// clock.
    ///
    /// # Errors
    /// [`CustodianError::Token`] for malformed, forged, foreign, cross-purpose, expired or
    /// refused tokens.
    #[cfg_attr(feature = "tracing", tracing::instrument(skip_all, fields(purpose = P::NAME), err(level = "info", Display)))]
    pub async fn open_grant<P: Purpose>(&self, token: &str) -> Result<Grant<P>, CustodianError> {
        let now = self.now();
        let opened = self.inner.tokens.open(token, P::ID)?;
        self.admit_opened(opened, now).await
    }

    /// Seals a grant this custodian issued into the **binary** token form, for hosts and
    /// the C ABI that can carry bytes: the same signed bytes the text form of
    /// [`seal_grant`](Self::seal_grant) carries as base64url after `g1.`, without the
    /// encoding.
    ///
    /// # Errors
    /// [`AccessError::ForeignAuthority`] for a grant of another authority (it is never
    /// re-signed).
    pub fn seal_grant_bytes<P: Purpose>(
        &self,
        grant: &Grant<P>,
    ) -> Result<Vec<u8>, CustodianError> {
        if !self.inner.tokens.accepts(grant.authority()) {
            return Err(AccessError::ForeignAuthority { grant: grant.id() }.into());
        }
        Ok(self.inner.tokens.seal_bytes(grant.info()))
    }

    /// Opens a binary token (from [`seal_grant_bytes`](Self::seal_grant_bytes)) as a grant
    /// for purpose `P`, with every check of [`open_grant`](Self::open_grant).
    ///
    /// # Errors
    /// [`CustodianError::Token`] for malformed, truncated, forged, foreign, cross-purpose,
    /// expired or refused tokens.
    pub async fn open_grant_bytes<P: Purpose>(
        &self,
        token: &[u8],
    ) -> Result<Grant<P>, CustodianError> {
        let now = self.now();
        let opened = self.inner.tokens.open_bytes(token, P::ID)?;
        self.admit_opened(opened, now).await
    }

    /// The synchronous part of [`open_grant_bytes`](Self::open_grant_bytes) at a given
    /// instant, for the `danger` feature's measurement of the token work: signature, layout,
    /// purpose and key checks, then expiry, revocation, erasure, restriction and consent by
    /// the state as of the last catch-up. Leaves out the clock, the catch-up, the session
    /// and NDA lookups and the refusal audit; returns no grant.
    #[cfg(feature = "danger")]
    pub(crate) fn check_token_bytes_at<P: Purpose>(
        &self,
        token: &[u8],
        now: DateTime<Utc>,
    ) -> Result<GrantId, CustodianError> {
        let (info, _) = self.inner.tokens.open_bytes(token, P::ID)?;
        if now >= info.expires_at {
            return Err(TokenError::Expired(info.id).into());
        }
        self.grant_stands(&info, true, P::LEGAL_BASIS, now, || false)
            .map_err(|e| CustodianError::Token(TokenError::Refused(e)))?;
        Ok(info.id)
    }

    /// The part of opening shared by both token forms: expiry by `now`, then the gate.
    async fn admit_opened<P: Purpose>(
        &self,
        (info, authority): (GrantInfo, AuthorityId),
        now: DateTime<Utc>,
    ) -> Result<Grant<P>, CustodianError> {
        if now >= info.expires_at {
            return Err(TokenError::Expired(info.id).into());
        }
        let epoch = self.inner.epoch.current();
        if let Err(e) = self
            .admit_info(&info, true, P::LEGAL_BASIS, now, || false)
            .await
        {
            let CustodianError::Access(e) = e else {
                return Err(e);
            };
            let err = CustodianError::Token(TokenError::Refused(e));
            // Boxed: the audit write's future is large and this branch is rare; inline, it
            // would be moved with every open's future.
            Box::pin(self.audit_refusal(info.subject, Some(info.id), None, P::NAME, &err, now))
                .await;
            return Err(err);
        }
        Ok(Grant::mint(info, authority, self.inner.instance, epoch))
    }

    /// Revokes a grant this custodian's authority issued: a ledger entry committed with its
    /// audit event, so every process refuses it from its next call on.
    ///
    /// # Errors
    /// [`AccessError::ForeignAuthority`], store failures.
    #[cfg_attr(feature = "tracing", tracing::instrument(skip_all, fields(grant = %grant.id(), subject = %grant.subject(), purpose = P::NAME), err(level = "info", Display)))]
    pub async fn revoke<P: Purpose>(&self, grant: &Grant<P>) -> Result<(), CustodianError> {
        if !self.inner.tokens.accepts(grant.authority()) {
            return Err(AccessError::ForeignAuthority { grant: grant.id() }.into());
        }
        self.revoke_id(grant.subject(), grant.id(), grant.info().expires_at)
            .await
    }

    /// Revokes the grant inside a token of this authority (for holders of tokens only, such
    /// as the C ABI). The token's signature is checked; its grant need not still be valid.
    ///
    /// # Errors
    /// [`CustodianError::Token`] for a malformed, forged or foreign token; store failures.
    #[cfg_attr(feature = "tracing", tracing::instrument(skip_all, fields(purpose = P::NAME), err(level = "info", Display)))]
    pub async fn revoke_token<P: Purpose>(&self, token: &str) -> Result<(), CustodianError> {
        let (info, _) = self.inner.tokens.open(token, P::ID)?;
        self.revoke_id(info.subject, info.id, info.expires_at).await
    }

    /// How many revoked grants this custodian's policy state holds. Revocations of grants
    /// past their expiry (by this custodian's clock) are dropped as revocations accumulate,
    /// so this follows the grants revoked within one grant lifetime, not all of history.
    #[must_use]
    pub fn revocations_held(&self) -> usize {
        self.inner.state.revoked_len()
    }

    /// Revokes the grant inside a binary token of this authority, as
    /// [`revoke_token`](Self::revoke_token).
    ///
    /// # Errors
    /// As [`revoke_token`](Self::revoke_token).
    pub async fn revoke_token_bytes<P: Purpose>(&self, token: &[u8]) -> Result<(), CustodianError> {
        let (info, _) = self.inner.tokens.open_bytes(token, P::ID)?;
        self.revoke_id(info.subject, info.id, info.expires_at).await
    }

    /// Records the revocation with the grant's expiry, so every process can drop it from its
    /// revocation set once the grant has expired by its own clock.
    async fn revoke_id(
        &self,
        subject: SubjectId,
        grant: GrantId,
        expires_at: DateTime<Utc>,
    ) -> Result<(), CustodianError> {
        let mut ev = AuditEvent::new(self.now(), AuditKind::GrantRevoked, subject);
        ev.grant = Some(grant);
        self.commit_change(
            LedgerChange::GrantRevoked {
                grant,
                expires_at: Some(expires_at),
            },
            ev,
        )
        .await?;
        self.inner.state.prune_revoked_if_due(self.now());
        Ok(())
    }
}
