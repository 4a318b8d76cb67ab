//! Proofs a grant is issued on. None can be made by untrusted host code:
//! - a [`UserSession`] only by the custodian, from the [`SessionClaims`] its configured
//!   `Authenticator` returned for a credential;
//! - a [`UserInitiated`] only by the custodian, from such a session, stamped with the
//!   custodian's clock;
//! - an [`NdaAttestation`] is read by the custodian from its configured `StaffDirectory`
//!   at issue and at every use; one built elsewhere is never accepted as a proof.
//!
//! ```compile_fail
//! use crm_privacy::{SessionId, SubjectId, UserSession};
//! let now = chrono::Utc::now();
//! let s = UserSession::new(SubjectId::new_random(), SessionId::new_random(), now, now);
//! ```

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::token::AuthorityId;
use crate::ids::{RequestId, SessionId, StaffId, SubjectId};

/// What the host's `Authenticator` asserts about a verified credential. Turning it into a
/// [`UserSession`] is the custodian's job: claims alone open nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionClaims {
    /// The authenticated subject.
    pub subject: SubjectId,
    /// The host's session id.
    pub session: SessionId,
    /// When the subject authenticated.
    pub authenticated_at: DateTime<Utc>,
    /// When the session ends.
    pub expires_at: DateTime<Utc>,
}

/// An authenticated session of a data subject, made by the custodian from its
/// authenticator's verdict. Own-data grants ([`OwnerAccess`](crate::OwnerAccess)) are only
/// issued for one, and never outlive it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSession {
    claims: SessionClaims,
    authority: AuthorityId,
}

impl UserSession {
    pub(crate) const fn from_claims(claims: SessionClaims, authority: AuthorityId) -> Self {
        Self { claims, authority }
    }
    pub(crate) const fn authority(&self) -> AuthorityId {
        self.authority
    }
    /// The subject.
    #[must_use]
    pub const fn subject(&self) -> SubjectId {
        self.claims.subject
    }
    /// The session id.
    #[must_use]
    pub const fn id(&self) -> SessionId {
        self.claims.session
    }
    /// When it was authenticated.
    #[must_use]
    pub const fn authenticated_at(&self) -> DateTime<Utc> {
        self.claims.authenticated_at
    }
    /// When it expires.
    #[must_use]
    pub const fn expires_at(&self) -> DateTime<Utc> {
        self.claims.expires_at
    }
}

/// Proof that the subject asked, in their own session, for an action (clause 3.7: Zoom
/// conferences are created only at the user's initiative). Made by
/// [`Custodian::user_request`](crate::custodian::Custodian::user_request) when the request
/// arrives; accepted only while fresh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInitiated {
    session: UserSession,
    request: RequestId,
    requested_at: DateTime<Utc>,
}

impl UserInitiated {
    pub(crate) fn new(session: &UserSession, requested_at: DateTime<Utc>) -> Self {
        Self {
            session: session.clone(),
            request: RequestId::new_random(),
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
    /// When the user asked (by the custodian's clock).
    #[must_use]
    pub const fn requested_at(&self) -> DateTime<Utc> {
        self.requested_at
    }
}

/// A non-disclosure agreement on file for a staff member (clause 8.1), as the host's staff
/// directory returns it. Holds a reference to the signed document, never its content.
///
/// Building one proves nothing: staff grants are issued and used only while the
/// custodian's own directory returns an NDA in force for the member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NdaAttestation {
    staff: StaffId,
    document_ref: String,
    signed_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
}

impl NdaAttestation {
    /// An NDA of `staff`, filed under `document_ref`, signed at `signed_at` (for a
    /// `StaffDirectory` implementation to return).
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
