//! Purpose-bound access grants (clauses 3.1–3.7, 8.1).
//!
//! A [`Grant<P>`] names one subject, one actor, one purpose `P` (in its type), an id, and
//! an issue and expiry instant. Only a [`GrantIssuer`] makes one: the fields are private and
//! there is no public constructor.
//!
//! ```compile_fail
//! use crm_privacy::{Grant, Notification};
//! let g: Grant<Notification> = Grant { info: todo!(), epoch: 0, authority: todo!(), purpose: std::marker::PhantomData };
//! ```

mod error;
mod issuer;
mod revocation;
mod token;

use core::fmt;
use core::marker::PhantomData;
use std::fmt::Debug;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use error::{AccessError, IssueError, KeyError, TokenError};
pub use issuer::{GrantIssuer, GrantIssuerBuilder};
pub use revocation::{InMemoryRevocations, RevocationList};
pub use token::TokenKey;

use crate::data::{DataKind, KindRef};
use crate::ids::{ConsentId, GrantId, RequestId, SessionId, StaffId, SubjectId};
use crate::policy::UsableFor;
use crate::purpose::{Purpose, PurposeRef};

/// Who holds a grant.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Actor {
    /// A component of the service (for example `"mailer"`), acting for the controller.
    Service {
        /// Component name (1–64 characters `[a-z0-9_-]`).
        component: String,
    },
    /// The subject, in their own authenticated session.
    Subject {
        /// The session.
        session: SessionId,
    },
    /// A staff member or contractor with a non-disclosure agreement on file (clause 8.1).
    Staff {
        /// The staff member.
        staff: StaffId,
    },
}

/// An authenticated session of a data subject, produced by the host's authenticator.
///
/// Constructing one asserts that the host has authenticated the subject: it is the trust
/// boundary between the host's login and this library (see `Authenticator` in the store
/// traits). Own-data grants ([`OwnerAccess`](crate::OwnerAccess)) are only issued for one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSession {
    subject: SubjectId,
    session: SessionId,
    authenticated_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
}

impl UserSession {
    /// A session of `subject`, authenticated at `authenticated_at`, valid until `expires_at`.
    #[must_use]
    pub const fn new(
        subject: SubjectId,
        session: SessionId,
        authenticated_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Self {
        Self {
            subject,
            session,
            authenticated_at,
            expires_at,
        }
    }
    /// The subject.
    #[must_use]
    pub const fn subject(&self) -> SubjectId {
        self.subject
    }
    /// The session id.
    #[must_use]
    pub const fn id(&self) -> SessionId {
        self.session
    }
    /// When it was authenticated.
    #[must_use]
    pub const fn authenticated_at(&self) -> DateTime<Utc> {
        self.authenticated_at
    }
    /// When it expires.
    #[must_use]
    pub const fn expires_at(&self) -> DateTime<Utc> {
        self.expires_at
    }
}

/// Proof that the subject asked, in their own session, for an action (clause 3.7: Zoom
/// conferences are created only at the user's initiative). The host makes one per UI
/// request; the issuer accepts it only while fresh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInitiated {
    session: UserSession,
    request: RequestId,
    requested_at: DateTime<Utc>,
}

impl UserInitiated {
    /// The subject of `session` asked for request `request` at `requested_at`.
    #[must_use]
    pub fn new(session: &UserSession, request: RequestId, requested_at: DateTime<Utc>) -> Self {
        Self {
            session: session.clone(),
            request,
            requested_at,
        }
    }
    /// The session the request came from.
    #[must_use]
    pub const fn session(&self) -> &UserSession {
        &self.session
    }
    /// The request id.
    #[must_use]
    pub const fn request(&self) -> RequestId {
        self.request
    }
    /// When the user asked.
    #[must_use]
    pub const fn requested_at(&self) -> DateTime<Utc> {
        self.requested_at
    }
}

/// A non-disclosure agreement on file for a staff member (clause 8.1), as returned by the
/// host's staff directory. Holds a reference to the signed document, never its content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NdaAttestation {
    staff: StaffId,
    document_ref: String,
    signed_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
}

impl NdaAttestation {
    /// An NDA of `staff`, filed under `document_ref`, signed at `signed_at`.
    #[must_use]
    pub fn new(
        staff: StaffId,
        document_ref: impl Into<String>,
        signed_at: DateTime<Utc>,
        expires_at: Option<DateTime<Utc>>,
    ) -> Self {
        Self {
            staff,
            document_ref: document_ref.into(),
            signed_at,
            expires_at,
        }
    }
    /// The staff member.
    #[must_use]
    pub const fn staff(&self) -> StaffId {
        self.staff
    }
    /// The document reference.
    #[must_use]
    pub fn document_ref(&self) -> &str {
        &self.document_ref
    }
    /// When it was signed.
    #[must_use]
    pub const fn signed_at(&self) -> DateTime<Utc> {
        self.signed_at
    }
    /// When it lapses, if ever.
    #[must_use]
    pub const fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.expires_at
    }
    /// Whether it is in force at `now`.
    #[must_use]
    pub fn is_valid_at(&self, now: DateTime<Utc>) -> bool {
        self.signed_at <= now && self.expires_at.is_none_or(|e| now < e)
    }
}

/// The facts of a grant, free of personal data (safe for audit events and logs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GrantInfo {
    /// Grant id.
    pub id: GrantId,
    /// The subject whose data it opens.
    pub subject: SubjectId,
    /// Who holds it.
    pub actor: Actor,
    /// The purpose.
    pub purpose: PurposeRef,
    /// Issued at.
    pub issued_at: DateTime<Utc>,
    /// Expires at (exclusive).
    pub expires_at: DateTime<Utc>,
    /// The consent it was issued under, when its purpose needs one.
    pub consent: Option<ConsentId>,
}

/// Counts changes that may invalidate grants (revocations, withdrawals, restrictions,
/// erasures). A grant remembers the count at issue; while it is unchanged, nothing can have
/// invalidated it and `expose` skips the lookups (one atomic load instead).
#[derive(Debug, Default)]
pub(crate) struct Epoch(AtomicU64);

impl Epoch {
    pub(crate) fn current(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
    /// Must be called after the state change is visible and before the call that made it
    /// returns, so a later `expose` cannot take the fast path.
    pub(crate) fn bump(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A check the issuer runs at issue and at use (consent, restriction, erasure, NDA).
pub(crate) trait GrantGate: Debug + Send + Sync + 'static {
    /// At issue: refuse, or name the consent the grant will depend on.
    fn check_issue(
        &self,
        subject: SubjectId,
        actor: &Actor,
        purpose: PurposeRef,
        now: DateTime<Utc>,
    ) -> Result<Option<ConsentId>, IssueError>;
    /// At use, when something changed since issue.
    fn check_use(&self, info: &GrantInfo, now: DateTime<Utc>) -> Result<(), AccessError>;
    /// Whether other processes can change this gate's state (disables the fast path).
    fn is_shared(&self) -> bool {
        false
    }
    /// Told about every successful exposure (for the audit log).
    fn exposed(&self, _info: &GrantInfo, _kind: KindRef, _now: DateTime<Utc>) {}
}

#[derive(Debug)]
pub(crate) struct Authority {
    pub(crate) epoch: Arc<Epoch>,
    pub(crate) fast_path: bool,
    pub(crate) revocations: Arc<dyn RevocationList>,
    pub(crate) gates: Vec<Arc<dyn GrantGate>>,
}

impl Authority {
    fn check_slow(&self, info: &GrantInfo, now: DateTime<Utc>) -> Result<(), AccessError> {
        if self.revocations.is_revoked(info.id) {
            return Err(AccessError::Revoked { grant: info.id });
        }
        for g in &self.gates {
            g.check_use(info, now)?;
        }
        Ok(())
    }
}

/// A purpose-bound access grant for purpose `P`. Made only by [`GrantIssuer`].
pub struct Grant<P: Purpose> {
    info: GrantInfo,
    epoch: u64,
    authority: Arc<Authority>,
    purpose: PhantomData<fn() -> P>,
}

impl<P: Purpose> fmt::Debug for Grant<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Grant")
            .field("purpose", &P::NAME)
            .field("info", &self.info)
            .finish()
    }
}

impl<P: Purpose> Clone for Grant<P> {
    fn clone(&self) -> Self {
        Self {
            info: self.info.clone(),
            epoch: self.epoch,
            authority: Arc::clone(&self.authority),
            purpose: PhantomData,
        }
    }
}

impl<P: Purpose> Grant<P> {
    /// The grant's facts.
    #[must_use]
    pub const fn info(&self) -> &GrantInfo {
        &self.info
    }
    /// The grant id.
    #[must_use]
    pub const fn id(&self) -> GrantId {
        self.info.id
    }
    /// The subject.
    #[must_use]
    pub const fn subject(&self) -> SubjectId {
        self.info.subject
    }

    /// Checks that the grant opens data of `subject` at `now`: right subject, not expired,
    /// not revoked, consent still in force, subject neither restricted nor erased.
    ///
    /// # Errors
    /// The [`AccessError`] naming the first check that failed.
    #[inline]
    pub fn check(&self, subject: SubjectId, now: DateTime<Utc>) -> Result<(), AccessError> {
        if self.info.subject != subject {
            return Err(AccessError::WrongSubject {
                grant: self.info.id,
            });
        }
        if now >= self.info.expires_at {
            return Err(AccessError::Expired {
                grant: self.info.id,
            });
        }
        let a = &*self.authority;
        if a.fast_path && a.epoch.current() == self.epoch {
            return Ok(());
        }
        a.check_slow(&self.info, now)
    }

    pub(crate) fn notify_exposed(&self, kind: KindRef, now: DateTime<Utc>) {
        for g in &self.authority.gates {
            g.exposed(&self.info, kind, now);
        }
    }
}

/// A value of personal data together with the subject it belongs to.
///
/// The value can only be read with [`expose`](Self::expose) and a grant whose purpose the
/// policy table allows for this kind (checked by the compiler), for this subject, unexpired
/// and not revoked (checked at run time). `Debug` prints a redaction.
pub struct Personal<T: DataKind> {
    subject: SubjectId,
    value: T,
}

impl<T: DataKind> fmt::Debug for Personal<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Personal")
            .field("subject", &self.subject)
            .field("kind", &T::KIND.name())
            .field("value", &"<redacted>")
            .finish()
    }
}

impl<T: DataKind> Personal<T> {
    /// Binds `value` to its subject.
    #[must_use]
    pub const fn new(subject: SubjectId, value: T) -> Self {
        Self { subject, value }
    }

    /// The subject the value belongs to.
    #[must_use]
    pub const fn subject(&self) -> SubjectId {
        self.subject
    }

    /// Reads the value for purpose `P`.
    ///
    /// Compiles only when `T: UsableFor<P>`:
    ///
    /// ```compile_fail
    /// # use crm_privacy::*;
    /// fn leak(p: &Personal<Phone>, g: &Grant<Analytics>) {
    ///     let _ = p.expose(g, chrono::Utc::now()); // phone numbers are not for analytics
    /// }
    /// ```
    ///
    /// # Errors
    /// An [`AccessError`] when the grant is for another subject, expired, revoked, or its
    /// consent, restriction or erasure checks fail.
    #[inline]
    pub fn expose<P: Purpose>(
        &self,
        grant: &Grant<P>,
        now: DateTime<Utc>,
    ) -> Result<&T, AccessError>
    where
        T: UsableFor<P>,
    {
        grant.check(self.subject, now)?;
        grant.notify_exposed(T::KIND, now);
        Ok(&self.value)
    }

    pub(crate) fn value_unchecked(&self) -> &T {
        &self.value
    }

    pub(crate) fn into_value_unchecked(self) -> T {
        self.value
    }
}
