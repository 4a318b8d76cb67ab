//! Purpose-bound access grants (clauses 3.1–3.7, 7.2, 8.1) and the proofs they are issued on.
//!
//! A [`Grant<P>`] names one subject, one actor, one purpose `P` (in its type), the authority
//! (deployment) that issued it, an id, and an issue and expiry instant. Only a
//! [`Custodian`](crate::custodian::Custodian) makes one, after its checks: the fields are
//! private, there is no public constructor and no standalone issuer.
//!
//! ```compile_fail
//! use crm_privacy::{Grant, Notification};
//! let g: Grant<Notification> = Grant { info: todo!(), authority: todo!(), instance: 0, epoch: 0, purpose: std::marker::PhantomData };
//! ```
//!
//! A grant is a capability, not a decision: every use runs the custodian's gate again
//! against its current state (authority, expiry by the custodian's clock, revocation,
//! consent in force, restriction, erasure, sharing choice, lawful request, NDA on file).

mod error;
mod proofs;
mod token;

use core::fmt;
use core::marker::PhantomData;
use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use error::{AccessError, IssueError, KeyError, TokenError};
pub use proofs::{NdaAttestation, SessionClaims, UserInitiated, UserSession};
pub use token::TokenKey;
pub(crate) use token::{AuthorityId, KeyRing, intern_component};

use crate::ids::{ConsentId, GrantId, RequestId, SessionId, StaffId, SubjectId};
use crate::purpose::{Purpose, PurposeRef};

/// Who holds a grant.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Actor {
    /// A component of the service (for example `"mailer"`), acting for the controller.
    Service {
        /// Component name (at most 64 bytes). Borrowed when interned: opening a token
        /// allocates nothing for the names of the deployment's components.
        component: Cow<'static, str>,
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
    /// Issued at (by the custodian's clock).
    pub issued_at: DateTime<Utc>,
    /// Expires at (exclusive).
    pub expires_at: DateTime<Utc>,
    /// The consent it was issued under, when its purpose needs one.
    pub consent: Option<ConsentId>,
    /// The recorded lawful request it was issued on (legal-compliance grants, clause 7.2).
    pub request: Option<RequestId>,
}

/// Counts changes that may invalidate grants (revocations, withdrawals, restrictions,
/// erasures, sharing changes). A grant remembers the count at issue; while it is unchanged
/// in the custodian instance that issued it, nothing can have invalidated it and the gate
/// skips the state lookups.
#[derive(Debug, Default)]
pub(crate) struct Epoch(AtomicU64);

impl Epoch {
    pub(crate) fn current(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
    /// Must be called after the state change is visible and before the call that made it
    /// returns, so a later use cannot take the fast path.
    pub(crate) fn bump(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A purpose-bound access grant for purpose `P`, issued by a custodian.
pub struct Grant<P: Purpose> {
    info: GrantInfo,
    authority: AuthorityId,
    instance: u64,
    epoch: u64,
    purpose: PhantomData<fn() -> P>,
}

impl<P: Purpose> fmt::Debug for Grant<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Grant")
            .field("purpose", &P::NAME)
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl<P: Purpose> Clone for Grant<P> {
    fn clone(&self) -> Self {
        Self {
            info: self.info.clone(),
            authority: self.authority,
            instance: self.instance,
            epoch: self.epoch,
            purpose: PhantomData,
        }
    }
}

impl<P: Purpose> Grant<P> {
    /// Only the custodian mints grants.
    pub(crate) const fn mint(
        info: GrantInfo,
        authority: AuthorityId,
        instance: u64,
        epoch: u64,
    ) -> Self {
        Self {
            info,
            authority,
            instance,
            epoch,
            purpose: PhantomData,
        }
    }
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
    pub(crate) const fn authority(&self) -> AuthorityId {
        self.authority
    }
    /// Whether nothing that could invalidate the grant changed since it was issued by
    /// custodian instance `instance`, whose change counter now reads `epoch`.
    pub(crate) const fn unchanged_since_issue(&self, instance: u64, epoch: u64) -> bool {
        self.instance == instance && self.epoch == epoch
    }
}
