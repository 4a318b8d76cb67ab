//! The grant issuer: the only constructor of [`Grant`].

use core::marker::PhantomData;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};

use super::token::{KeyRing, TokenKey};
use super::{
    AccessError, Actor, Authority, Epoch, Grant, GrantGate, GrantInfo, InMemoryRevocations,
    IssueError, KeyError, NdaAttestation, RevocationList, TokenError, UserInitiated, UserSession,
};
use crate::ids::{GrantId, SubjectId};
use crate::purpose::{ConferenceCreation, OwnerAccess, Purpose, ServicePurpose};

/// Issues, revokes, seals and opens grants.
///
/// Cheap to clone (`Arc` inside); share one per process.
///
/// ```
/// use chrono::Utc;
/// use crm_privacy::{Email, GrantIssuer, Notification, Personal, SubjectId};
///
/// let issuer = GrantIssuer::builder().build()?;
/// let alice = SubjectId::new_random();
/// let email = Personal::new(alice, Email::parse("alice@example.com")?);
/// let now = Utc::now();
/// let grant = issuer.issue::<Notification>(alice, "mailer", now)?;
/// assert_eq!(email.expose(&grant, now)?.domain(), "example.com");
/// issuer.revoke(grant.id());
/// assert!(email.expose(&grant, now).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct GrantIssuer {
    pub(crate) authority: Arc<Authority>,
    keys: Arc<KeyRing>,
    ttl: TimeDelta,
    request_max_age: TimeDelta,
}

/// Configures a [`GrantIssuer`].
#[derive(Debug)]
#[must_use]
pub struct GrantIssuerBuilder {
    signing: Option<TokenKey>,
    accepted: Vec<TokenKey>,
    ttl: TimeDelta,
    request_max_age: TimeDelta,
    revocations: Option<Arc<dyn RevocationList>>,
    gates: Vec<Arc<dyn GrantGate>>,
    epoch: Option<Arc<Epoch>>,
}

impl GrantIssuerBuilder {
    /// The key new tokens are signed with. Without one, a random key (id 0) is generated,
    /// which is enough when tokens never leave the process.
    pub fn signing_key(mut self, key: TokenKey) -> Self {
        self.signing = Some(key);
        self
    }

    /// An older key whose tokens are still accepted (key rotation).
    pub fn accept_key(mut self, key: TokenKey) -> Self {
        self.accepted.push(key);
        self
    }

    /// Lifetime of issued grants (default 5 minutes).
    pub fn ttl(mut self, ttl: TimeDelta) -> Self {
        self.ttl = ttl;
        self
    }

    /// How old a [`UserInitiated`] proof may be (default 2 minutes).
    pub fn user_request_max_age(mut self, age: TimeDelta) -> Self {
        self.request_max_age = age;
        self
    }

    /// Where revocations are kept (default: in memory, this process only).
    pub fn revocations(mut self, list: Arc<dyn RevocationList>) -> Self {
        self.revocations = Some(list);
        self
    }

    #[allow(
        dead_code,
        reason = "wired by the consent, restriction and staff gates"
    )]
    pub(crate) fn gate(mut self, gate: Arc<dyn GrantGate>) -> Self {
        self.gates.push(gate);
        self
    }

    #[allow(
        dead_code,
        reason = "wired by the consent, restriction and staff gates"
    )]
    pub(crate) fn epoch(mut self, epoch: Arc<Epoch>) -> Self {
        self.epoch = Some(epoch);
        self
    }

    /// Builds the issuer.
    ///
    /// # Errors
    /// [`KeyError::InvalidTtl`] for a non-positive lifetime, [`KeyError::DuplicateKeyId`]
    /// when two keys share an id, [`KeyError::Random`] if a key cannot be generated.
    pub fn build(self) -> Result<GrantIssuer, KeyError> {
        if self.ttl <= TimeDelta::zero() || self.request_max_age <= TimeDelta::zero() {
            return Err(KeyError::InvalidTtl);
        }
        let signing = match self.signing {
            Some(k) => k,
            None => TokenKey::generate(0)?,
        };
        let keys = KeyRing::new(signing, self.accepted)?;
        let revocations = self
            .revocations
            .unwrap_or_else(|| Arc::new(InMemoryRevocations::new()));
        let fast_path = !revocations.is_shared() && self.gates.iter().all(|g| !g.is_shared());
        Ok(GrantIssuer {
            authority: Arc::new(Authority {
                epoch: self.epoch.unwrap_or_default(),
                fast_path,
                revocations,
                gates: self.gates,
            }),
            keys: Arc::new(keys),
            ttl: self.ttl,
            request_max_age: self.request_max_age,
        })
    }
}

impl GrantIssuer {
    /// Starts configuring an issuer.
    pub fn builder() -> GrantIssuerBuilder {
        GrantIssuerBuilder {
            signing: None,
            accepted: Vec::new(),
            ttl: TimeDelta::minutes(5),
            request_max_age: TimeDelta::minutes(2),
            revocations: None,
            gates: Vec::new(),
            epoch: None,
        }
    }

    fn mint<P: Purpose>(
        &self,
        subject: SubjectId,
        actor: Actor,
        now: DateTime<Utc>,
    ) -> Result<Grant<P>, IssueError> {
        // Read the change counter before the checks: a change racing with them makes the
        // counter differ, so the new grant takes the slow path at use.
        let epoch = self.authority.epoch.current();
        let mut consent = None;
        for g in &self.authority.gates {
            if let Some(c) = g.check_issue(subject, &actor, P::ID, now)? {
                consent = Some(c);
            }
        }
        Ok(Grant {
            info: GrantInfo {
                id: GrantId::new_random(),
                subject,
                actor,
                purpose: P::ID,
                issued_at: now,
                expires_at: now + self.ttl,
                consent,
            },
            epoch,
            authority: Arc::clone(&self.authority),
            purpose: PhantomData,
        })
    }

    /// Issues a grant for a service purpose to component `component` of the service.
    ///
    /// Component names are for audit only; keep them short (`"mailer"`, `"sms"`).
    ///
    /// # Errors
    /// [`IssueError`] when consent, restriction or erasure checks refuse.
    pub fn issue<P: ServicePurpose>(
        &self,
        subject: SubjectId,
        component: &str,
        now: DateTime<Utc>,
    ) -> Result<Grant<P>, IssueError> {
        // Component names are for audit only; cap them at 64 bytes on a char boundary.
        let mut end = component.len().min(64);
        while !component.is_char_boundary(end) {
            end -= 1;
        }
        let component = component.get(..end).unwrap_or_default().to_owned();
        self.mint(subject, Actor::Service { component }, now)
    }

    /// Issues a grant for a service purpose to the subject's own session (for example
    /// [`Preferences`](crate::Preferences) in the subject's browser).
    ///
    /// # Errors
    /// [`IssueError::SessionExpired`], or a refusal of the consent, restriction or erasure checks.
    pub fn issue_for_session<P: ServicePurpose>(
        &self,
        session: &UserSession,
        now: DateTime<Utc>,
    ) -> Result<Grant<P>, IssueError> {
        if now >= session.expires_at() {
            return Err(IssueError::SessionExpired);
        }
        self.mint(
            session.subject(),
            Actor::Subject {
                session: session.id(),
            },
            now,
        )
    }

    /// Issues an [`OwnerAccess`] grant: only ever to the subject's own session (clauses 3.5, 6.1).
    ///
    /// # Errors
    /// [`IssueError::SessionExpired`], or an erasure refusal.
    pub fn issue_owner(
        &self,
        session: &UserSession,
        now: DateTime<Utc>,
    ) -> Result<Grant<OwnerAccess>, IssueError> {
        if now >= session.expires_at() {
            return Err(IssueError::SessionExpired);
        }
        self.mint(
            session.subject(),
            Actor::Subject {
                session: session.id(),
            },
            now,
        )
    }

    /// Issues a [`ConferenceCreation`] grant: only on a fresh user-initiated request
    /// (clause 3.7), and only while the Zoom link consent is in force.
    ///
    /// # Errors
    /// [`IssueError::StaleRequest`], [`IssueError::SessionExpired`], or a consent refusal.
    pub fn issue_conference(
        &self,
        proof: &UserInitiated,
        now: DateTime<Utc>,
    ) -> Result<Grant<ConferenceCreation>, IssueError> {
        let session = proof.session();
        if now >= session.expires_at() {
            return Err(IssueError::SessionExpired);
        }
        let age = now - proof.requested_at();
        if age < TimeDelta::zero() || age > self.request_max_age {
            return Err(IssueError::StaleRequest);
        }
        self.mint(
            session.subject(),
            Actor::Subject {
                session: session.id(),
            },
            now,
        )
    }

    /// Issues a grant to a staff member with a valid NDA on file (clause 8.1). The grant
    /// expires no later than the NDA.
    ///
    /// # Errors
    /// [`IssueError::NdaMissing`] when the attestation is not in force, or another refusal.
    pub fn issue_staff<P: ServicePurpose>(
        &self,
        subject: SubjectId,
        nda: &NdaAttestation,
        now: DateTime<Utc>,
    ) -> Result<Grant<P>, IssueError> {
        if !nda.is_valid_at(now) {
            return Err(IssueError::NdaMissing { staff: nda.staff() });
        }
        let mut grant = self.mint(subject, Actor::Staff { staff: nda.staff() }, now)?;
        // Access ends with the NDA (clause 8.1), even when the grant's lifetime is longer.
        if let Some(end) = nda.expires_at {
            grant.info.expires_at = grant.info.expires_at.min(end);
        }
        Ok(grant)
    }

    /// Revokes one grant: every later use fails with [`AccessError::Revoked`].
    pub fn revoke(&self, grant: GrantId) {
        self.authority.revocations.revoke(grant);
        self.authority.epoch.bump();
    }

    /// Seals `grant` into a compact, URL-safe token signed with HMAC-SHA256, for another
    /// process or the C ABI.
    #[must_use]
    pub fn seal<P: Purpose>(&self, grant: &Grant<P>) -> String {
        self.keys.seal(&grant.info)
    }

    /// Opens a token made by [`seal`](Self::seal) as a grant for purpose `P`: checks the
    /// signature (constant time), the purpose, expiry, revocation and the consent,
    /// restriction and erasure checks.
    ///
    /// # Errors
    /// A [`TokenError`] for every malformed, forged, unknown-key, cross-purpose, expired or
    /// revoked token.
    pub fn open<P: Purpose>(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Grant<P>, TokenError> {
        let info = self.keys.open(token, P::ID)?;
        if now >= info.expires_at {
            return Err(TokenError::Expired(info.id));
        }
        let epoch = self.authority.epoch.current();
        self.authority
            .check_slow(&info, now)
            .map_err(TokenError::Refused)?;
        Ok(Grant {
            info,
            epoch,
            authority: Arc::clone(&self.authority),
            purpose: PhantomData,
        })
    }

    /// Checks a grant of any purpose without exposing data (for hosts that only need the
    /// decision, and for the C ABI).
    ///
    /// # Errors
    /// As [`Grant::check`].
    pub fn check<P: Purpose>(
        &self,
        grant: &Grant<P>,
        subject: SubjectId,
        now: DateTime<Utc>,
    ) -> Result<(), AccessError> {
        grant.check(subject, now)
    }
}
