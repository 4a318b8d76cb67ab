//! The ledger: the events the two hash chains record, their encoding, and the policy state
//! replayed from them.
//!
//! Ids, codes and instants only — never a value of personal data. Bodies are serde_json
//! with a fixed field order (structs only, no maps), so the bytes hashed are the bytes
//! stored.

mod receipt;
mod state;

pub use receipt::{UnknownConsent, receipt};
pub(crate) use state::PolicyState;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::chain::ChainEntry;
use crate::consent::{CollectionMethod, ConsentScope};
use crate::dsr::{DsrId, DsrKind, ExtensionReason, RefusalReason};
use crate::grant::Actor;
use crate::ids::{ConsentId, GrantId, RecordId, RequestId, SubjectId};

/// One event of the ledger (the chain grants are checked against).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEvent {
    /// When.
    pub at: DateTime<Utc>,
    /// Whose.
    pub subject: SubjectId,
    /// What happened.
    pub change: LedgerChange,
    /// HMAC-SHA256 (hex) of this event encoded without the tag, under a key derived from
    /// the deployment's keyring: a custodian applies only entries its own keyring tagged,
    /// so a process sharing the ledger without the keyring cannot forge consent, lawful
    /// requests or lifted restrictions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
}

/// A change of consent or of the subject's processing status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LedgerChange {
    /// A blind-index key rotation finished (issue 16): from this entry on, every ledger
    /// entry is tagged under blind-index key version `version`; the entries before are
    /// vouched for by the ledger checkpoint taken at this entry. Written with the nil
    /// subject; changes no policy state.
    IndexKeyRotated {
        /// The blind-index key version now current.
        version: u32,
    },
    /// Consent given (again, if an earlier one was withdrawn).
    ConsentGiven {
        /// The record id.
        consent: ConsentId,
        /// Its scope.
        scope: ConsentScope,
        /// How it was collected.
        method: CollectionMethod,
        /// Policy version in force.
        policy_version: u32,
        /// Evidence reference (for example a UI event id), never personal data.
        evidence: Option<String>,
    },
    /// Consent withdrawn.
    ConsentWithdrawn {
        /// The record id.
        consent: ConsentId,
        /// Its scope.
        scope: ConsentScope,
    },
    /// Processing restricted (9.1, Art. 18/21).
    Restricted,
    /// Restriction lifted.
    RestrictionLifted,
    /// Erasure decided (6.2): from here on every grant stops; the key and the records go
    /// next. The entry is the erasure's intent: a build finishes any erasure it finds
    /// without its [`ErasureCompleted`](Self::ErasureCompleted).
    Erased,
    /// The erasure's key destruction and record deletion are done.
    ErasureCompleted,
    /// The records collected under a withdrawn consent are deleted (3.7). A withdrawal of a
    /// scope with dependent kinds is an intent until this entry: a build finishes it.
    DependentDataDeleted {
        /// The withdrawn scope.
        scope: ConsentScope,
    },
    /// The subject's sharing choices (clause 5), replacing earlier ones.
    SharingSet {
        /// The choices.
        policy: crate::sharing::SharingPolicy,
    },
    /// Consent given to a host consent scope (see
    /// [`host_consent_scope!`](crate::host_consent_scope)), named by the scope's name. A
    /// separate variant so the built-in events, their encoding and their C ABI codes stay
    /// as they are.
    HostConsentGiven {
        /// The record id.
        consent: ConsentId,
        /// The host scope's name.
        scope: String,
        /// How it was collected.
        method: CollectionMethod,
        /// Policy version in force.
        policy_version: u32,
        /// Evidence reference, never personal data.
        evidence: Option<String>,
    },
    /// Consent to a host scope withdrawn.
    HostConsentWithdrawn {
        /// The record id.
        consent: ConsentId,
        /// The host scope's name.
        scope: String,
    },
    /// The host-kind records collected under a withdrawn host scope are deleted; until
    /// this entry, the withdrawal is an intent a build finishes.
    HostDependentDataDeleted {
        /// The host scope's name.
        scope: String,
    },
    /// A grant on the subject's data revoked, so that every process sharing the ledger
    /// refuses it from its next read on (not only the process that revoked it).
    GrantRevoked {
        /// The grant.
        grant: GrantId,
        /// When the grant expires: past it (by a process's own clock) the entry can be
        /// dropped from the revocation set, because the expiry check refuses the grant
        /// first. Absent in entries written before it was recorded (kept for good).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expires_at: Option<DateTime<Utc>>,
    },
    /// A Global Privacy Control opt-out (clauses 3.4, 3.6) for one consent scope, built-in
    /// or host, named by its name: a refusal when no consent was in force, otherwise the
    /// record that the withdrawal entered just before it (`withdrawn`) came from the signal.
    /// The evidence is the signal and the instant, never an address or a user agent.
    GpcOptOut {
        /// The scope's name.
        scope: String,
        /// The consent the signal withdrew, if one was in force.
        withdrawn: Option<ConsentId>,
        /// `Sec-GPC: 1 at <instant>` and the host's reference, if it gave one.
        evidence: String,
    },
    /// A data-subject request received (Art. 12; see [`crate::dsr`]). Its deadline counts
    /// from this entry's instant.
    DsrReceived {
        /// The request.
        request: DsrId,
        /// What the subject asks for.
        kind: DsrKind,
    },
    /// The requester was verified as the subject (through the host's authenticator).
    DsrVerified {
        /// The request.
        request: DsrId,
    },
    /// The request's deadline was extended (Art. 12(3)), the subject told at the instant
    /// given.
    DsrExtended {
        /// The request.
        request: DsrId,
        /// One or two further months.
        months: u32,
        /// Why.
        reason: ExtensionReason,
        /// When the subject was told.
        subject_told_at: DateTime<Utc>,
    },
    /// The fulfilment of a verified request was claimed, before its operation runs: from
    /// here it cannot be refused (the first of a claim and a refusal wins).
    DsrFulfilling {
        /// The request.
        request: DsrId,
    },
    /// A claimed fulfilment whose operation failed was released: the request is verified
    /// again, to be fulfilled once more or refused (a permanent failure, such as an
    /// immutable kind or a wrong record, must not leave it claimed and overdue for good).
    DsrReleased {
        /// The request.
        request: DsrId,
    },
    /// The request was fulfilled by the custodian operation of its kind.
    DsrFulfilled {
        /// The request.
        request: DsrId,
    },
    /// The request was refused.
    DsrRefused {
        /// The request.
        request: DsrId,
        /// Why.
        reason: RefusalReason,
    },
    /// A KEK version the store has check values for, which the custodian's configuration no
    /// longer holds, was scanned and wraps no live key (a rotation finished, then the old
    /// key left the configuration). Deployment-wide. Later builds do not scan for it again.
    KekRetired {
        /// The KEK version (id).
        version: u32,
    },
    /// The KEK schedule in force (clause 6.2, issue 16): epoch length and backup window, in
    /// seconds. Deployment-wide (nil subject). Erasure reports promise dates computed from
    /// it, so a custodian configured with a longer epoch or window than the last one
    /// recorded is refused at build; a shorter one is recorded (dates only move earlier).
    KekScheduleSet {
        /// KEK epoch length, seconds.
        epoch_secs: i64,
        /// Backup window, seconds.
        backup_window_secs: i64,
    },
    /// A policy version published (clause 10). Deployment-wide: the entry's subject is the
    /// nil id ([`SubjectId::DEPLOYMENT`]). An entry that does not follow the history (number
    /// not increasing, effective date earlier, other confidentiality fingerprint) is
    /// ignored on replay.
    PolicyPublished {
        /// Version number.
        number: u32,
        /// When it takes effect.
        effective: DateTime<Utc>,
        /// Whether subjects must be notified (10.2).
        significant: bool,
        /// The clause-10.1 fingerprint of the table that published it.
        confidentiality_fingerprint: String,
    },
    /// The host's notifier delivered the notice of policy version `version` to the subject
    /// (10.2).
    PolicyNoticeDelivered {
        /// The version.
        version: u32,
    },
    /// Delivering the notice of `version` failed; the next delivery run retries it. The
    /// notifier's error is not recorded (it may name an address).
    PolicyNoticeFailed {
        /// The version.
        version: u32,
    },
    /// A lawful request of a public authority concerning the subject (clause 7.2), recorded
    /// before any legal-compliance grant is issued on it. References only.
    LawfulRequestRecorded {
        /// The request id legal-compliance grants carry.
        request: RequestId,
        /// The requesting authority.
        authority: String,
        /// The statute or order invoked.
        legal_basis: String,
        /// The authority's file reference.
        reference: String,
    },
}

/// What the audit log records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditKind {
    /// A subject was registered (data key created).
    SubjectRegistered,
    /// A field value was stored.
    Stored,
    /// A grant was issued.
    GrantIssued,
    /// A value was read through a grant.
    Exposed,
    /// A grant was revoked.
    GrantRevoked,
    /// Consent given.
    ConsentGiven,
    /// Consent withdrawn.
    ConsentWithdrawn,
    /// A field was rectified (6.1).
    Rectified,
    /// Processing restricted.
    Restricted,
    /// Restriction lifted.
    RestrictionLifted,
    /// Subject erased.
    Erased,
    /// An erasure's key destruction and deletions completed.
    ErasureCompleted,
    /// A record deleted by the retention sweep (9.1).
    RetentionDeleted,
    /// Data disclosed to a recipient (7).
    Disclosed,
    /// An export was produced for the subject (Art. 15/20).
    Exported,
    /// The subject changed what colleagues and chat participants see (5).
    SharingChanged,
    /// An attempt refused by the gate; `reference` names the reason (never data).
    Refused,
    /// A lookup through the blind index (email or phone); `reference` gives the count.
    Lookup,
    /// A lawful request was recorded (7.2).
    LawfulRequestRecorded,
    /// A step of a data-subject request (received, verified, extended, fulfilled,
    /// refused); `reference` names the step, the kind and the request id.
    SubjectRequest,
    /// A policy version was published (clause 10); subject: the deployment (nil id).
    PolicyPublished,
    /// The KEK schedule (epoch, backup window) was recorded; subject: the deployment.
    KekScheduleSet,
    /// A KEK version the store recorded and no configured key holds was found to wrap no
    /// live key, and retired; subject: the deployment.
    KekRetired,
    /// The notice of a significant policy version was delivered to the subject (10.2).
    PolicyNoticeDelivered,
    /// Delivering the notice failed (retried).
    PolicyNoticeFailed,
    /// A record re-sealed under the current blind-index key version (maintenance during a
    /// blind-index key rotation; nobody read the value). `reference` gives the new record
    /// version and the index key version.
    Reindexed,
    /// A masked view of a value (`docs/masked-views.md`) was read through a grant: the
    /// custodian decrypted the value, handed out only its masked form, and the full value
    /// never left it. Same fields as [`Exposed`](Self::Exposed).
    ExposedMasked,
}

/// One audit event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// When.
    pub at: DateTime<Utc>,
    /// What.
    pub kind: AuditKind,
    /// Whose data.
    pub subject: SubjectId,
    /// The grant involved.
    pub grant: Option<GrantId>,
    /// The record involved.
    pub record: Option<RecordId>,
    /// The data kind name.
    pub data_kind: Option<String>,
    /// The purpose name.
    pub purpose: Option<String>,
    /// Who acted.
    pub actor: Option<Actor>,
    /// A reference without personal data (consent id, recipient, authority reference).
    pub reference: Option<String>,
}

impl AuditEvent {
    pub(crate) fn new(at: DateTime<Utc>, kind: AuditKind, subject: SubjectId) -> Self {
        Self {
            at,
            kind,
            subject,
            grant: None,
            record: None,
            data_kind: None,
            purpose: None,
            actor: None,
            reference: None,
        }
    }
}

/// An event body did not decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("chain entry {seq} does not hold a valid event")]
pub struct EventDecodeError {
    /// The entry's sequence number.
    pub seq: u64,
}

pub(crate) fn encode<T: Serialize>(event: &T) -> Vec<u8> {
    serde_json::to_vec(event).unwrap_or_default()
}

/// Decodes the event in a chain entry.
///
/// # Errors
/// [`EventDecodeError`] when the body is not a valid event.
pub fn decode<T: for<'de> Deserialize<'de>>(entry: &ChainEntry) -> Result<T, EventDecodeError> {
    serde_json::from_slice(&entry.body).map_err(|_| EventDecodeError { seq: entry.seq })
}
