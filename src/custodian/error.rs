//! Errors of the custodian.

use crate::chain::ChainError;
use crate::crypto::CryptoError;
use crate::data::DataError;
use crate::grant::{AccessError, IssueError, TokenError};
use crate::ids::{RecordId, SubjectId};
use crate::store::{ChainName, StoreError};

use crate::ledger::EventDecodeError;

/// Why a custodian operation failed. Names ids, kinds and scopes, never values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CustodianError {
    /// A read was refused.
    #[error(transparent)]
    Access(#[from] AccessError),
    /// A grant was not issued.
    #[error(transparent)]
    Issue(#[from] IssueError),
    /// A token was not accepted.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Sealing or opening failed (tampered, moved or shredded data).
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// A value did not validate.
    #[error(transparent)]
    Data(#[from] DataError),
    /// A hash chain is broken.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// A chain entry does not hold a valid event.
    #[error(transparent)]
    Event(#[from] EventDecodeError),
    /// A policy version was not published or acknowledged (clause 10).
    #[error(transparent)]
    Version(#[from] crate::policy::versions::VersionError),
    /// The KEK epoch or backup window is longer than the one recorded in the ledger: erasure
    /// reports already promise dates computed from the recorded one (issue 16).
    #[error(
        "the {what} configured is longer than the one recorded ({recorded_days} days): erasure dates already promised would move later"
    )]
    ScheduleLengthened {
        /// `"kek epoch"` or `"backup window"`.
        what: &'static str,
        /// The recorded length, whole days.
        recorded_days: i64,
    },
    /// A step of the data-subject request desk was refused.
    #[error(transparent)]
    Dsr(#[from] crate::dsr::DsrError),
    /// The record holds another kind of data than asked for.
    #[error("{record} holds {actual}, not {expected}")]
    WrongKind {
        /// The record.
        record: RecordId,
        /// The kind asked for.
        expected: &'static str,
        /// The kind stored.
        actual: String,
    },
    /// Rectification of a field kept immutable for commercial or legal reasons (6.1).
    #[error("{kind} cannot be changed: kept immutable for {reason} reasons")]
    Immutable {
        /// The kind (field).
        kind: &'static str,
        /// `commercial` or `legal`.
        reason: &'static str,
    },
    /// The subject was never registered.
    #[error("{0} is not registered")]
    UnknownSubject(SubjectId),
    /// The subject has been erased; nothing more can be stored for it.
    #[error("{0} has been erased")]
    Erased(SubjectId),
    /// No consent of this scope is in force for the subject.
    #[error("no {scope} consent in force for {subject}")]
    NoActiveConsent {
        /// The subject.
        subject: SubjectId,
        /// The scope.
        scope: &'static str,
    },
    /// Concurrent writers kept moving the chain; the operation was not applied.
    #[error("chain {0} stayed contended; the operation was not applied")]
    Contended(ChainName),
    /// The policy table does not allow this kind for this purpose (runtime check of the
    /// C ABI and other callers whose purpose is a value).
    #[error("the policy does not allow {kind} for {purpose}")]
    PurposeNotPermitted {
        /// The kind.
        kind: &'static str,
        /// The purpose.
        purpose: &'static str,
    },
    /// The retention schedule is invalid (clause 9.1).
    #[error(transparent)]
    Schedule(#[from] crate::retention::ScheduleError),
    /// A disclosure was refused (clause 7).
    #[error(transparent)]
    Disclosure(#[from] crate::disclosure::DisclosureError),
    /// A sharing choice was refused (clause 5).
    #[error(transparent)]
    Sharing(#[from] crate::sharing::SharingError),
    /// The grant's purpose is not the audience's purpose (clause 5).
    #[error("the grant is not for this audience")]
    WrongAudience,
    /// The grant does not belong to the subject's own session.
    #[error("only the subject's own session may do this")]
    NotOwnSession,
    /// The builder was given no store: the choice of store is explicit (the in-memory
    /// stores are passed like any other).
    #[error("no store configured: pass one to the builder")]
    NoStore,
    /// A configuration value out of range (named).
    #[error("{0} is out of range")]
    Config(&'static str),
    /// The kind is collected only under a consent that is not in force (3.3, 3.5, 3.7).
    #[error("{kind} is collected only with {scope} consent in force")]
    CollectionWithoutConsent {
        /// The kind.
        kind: &'static str,
        /// The scope it needs.
        scope: &'static str,
    },
    /// A host kind whose name is that of a built-in kind.
    #[error("host kind name {0} is reserved for a built-in kind")]
    ReservedKindName(&'static str),
    /// A value larger than the custodian stores (bytes after encoding).
    #[error("value of {kind} is larger than {max} bytes")]
    TooLarge {
        /// The kind.
        kind: &'static str,
        /// The limit.
        max: usize,
    },
    /// The host's authenticator refused the credential.
    #[error(transparent)]
    Auth(#[from] crate::store::AuthError),
    /// A ledger entry without this deployment keyring's tag: written by a process that
    /// shares the ledger but not the keyring. Nothing after it is applied.
    #[error("ledger entry {seq} is not tagged by this deployment's keyring")]
    UntaggedLedgerEntry {
        /// The entry's sequence number.
        seq: u64,
    },
    /// A build without the previous blind-index key while the rotation to the current one
    /// is unfinished: records still carry indexes under the previous key (lookups would
    /// silently miss them) or the chains' checkpoints are not yet under the current key.
    /// Build with the previous key too and run
    /// [`Custodian::finish_index_rotation`](super::Custodian::finish_index_rotation); a
    /// rotation to a newer key is refused the same way while the one before is unfinished.
    #[error(
        "blind-index key rotation unfinished: {remaining} record(s) still indexed under an older key"
    )]
    IndexRotationUnfinished {
        /// Records still indexed under an older key version (0 when only the checkpoints
        /// are missing).
        remaining: u64,
    },
    /// An instant out of the representable range.
    #[error("instant out of range")]
    TimeOutOfRange,
    /// Host text that the custodian would keep in clear in the ledger or audit log (a
    /// consent's evidence, a service component's name) reads as personal data by its form:
    /// an email address, an international phone number, an IP address, or a control
    /// character (clauses 6.2, 8.1; `docs/threat-model.md`). Pass a reference instead. The
    /// text is never echoed.
    #[error("{0} reads as personal data: pass a reference, not the person's data")]
    PersonalDataInText(&'static str),
    /// A name the custodian keeps in grants and audit events (a service component's) is
    /// empty or only white space: the audit would not say who acted.
    #[error("{0} is empty")]
    BlankText(&'static str),
}
