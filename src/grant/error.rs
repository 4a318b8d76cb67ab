//! Errors of issuing, using and opening grants.

use crate::ids::{ConsentId, GrantId, RecordId, RequestId, StaffId, SubjectId};

/// Why a read through a grant was refused. Exhaustive on purpose: a new refusal reason must
/// break callers' matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AccessError {
    /// The grant (or session) was issued by another authority (deployment) than this
    /// custodian's.
    #[error("{grant} was not issued by this custodian's authority")]
    ForeignAuthority {
        /// The grant.
        grant: GrantId,
    },
    /// No record the grant may see has this id: the record does not exist or belongs to
    /// another subject (the two are indistinguishable on purpose).
    #[error("{record} is not visible through {grant}")]
    NotVisible {
        /// The grant.
        grant: GrantId,
        /// The record asked for.
        record: RecordId,
    },
    /// No consent of a scope that backs the purpose (or the kind read) is in force.
    #[error("no {scope} consent in force behind {grant}")]
    NoConsent {
        /// The grant.
        grant: GrantId,
        /// The scope needed.
        scope: &'static str,
    },
    /// The subject has not chosen to share this kind with the grant's audience (clause 5).
    #[error("{kind} is not shared with the audience of {grant}")]
    NotShared {
        /// The grant.
        grant: GrantId,
        /// The kind.
        kind: &'static str,
    },
    /// A legal-compliance grant whose lawful request is not recorded (clause 7.2).
    #[error("{grant} has no recorded lawful request")]
    NoLawfulRequest {
        /// The grant.
        grant: GrantId,
    },
    /// The grant names another subject than the data belongs to.
    #[error("{grant} was issued for another subject")]
    WrongSubject {
        /// The grant.
        grant: GrantId,
    },
    /// The grant has expired.
    #[error("{grant} has expired")]
    Expired {
        /// The grant.
        grant: GrantId,
    },
    /// The grant id is on the revocation list.
    #[error("{grant} has been revoked")]
    Revoked {
        /// The grant.
        grant: GrantId,
    },
    /// The consent the grant was issued under has been withdrawn (clauses 3.3, 3.7).
    #[error("{consent} behind {grant} has been withdrawn")]
    ConsentWithdrawn {
        /// The grant.
        grant: GrantId,
        /// The withdrawn consent.
        consent: ConsentId,
    },
    /// Processing for the subject is restricted (clause 9.1).
    #[error("processing for {subject} is restricted")]
    Restricted {
        /// The subject.
        subject: SubjectId,
    },
    /// The subject has been erased (clause 6.2).
    #[error("{subject} has been erased")]
    Erased {
        /// The subject.
        subject: SubjectId,
    },
    /// The staff member holding the grant no longer has a non-disclosure agreement on file.
    #[error("{staff} has no non-disclosure agreement on file")]
    NdaMissing {
        /// The staff member.
        staff: StaffId,
    },
    /// The subject's session the grant was issued to has ended (logged out, or no longer
    /// known to the authenticator): a grant issued to a session never outlives it.
    #[error("{grant} was issued to a session that has ended")]
    SessionEnded {
        /// The grant.
        grant: GrantId,
    },
    /// The policy table does not let the grant's purpose read this kind in full (it may
    /// allow a masked view: [`Custodian::with_masked`](crate::custodian::Custodian::with_masked)).
    /// Typed reads refuse this at compile time; [`Custodian::decide`](crate::custodian::Custodian::decide)
    /// answers it at run time.
    #[error("the policy does not permit {purpose} to read {kind}")]
    NotPermitted {
        /// The grant's purpose.
        purpose: &'static str,
        /// The kind.
        kind: &'static str,
    },
}

/// Why a grant was not issued. Exhaustive on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IssueError {
    /// The session presented has expired.
    #[error("the session has expired")]
    SessionExpired,
    /// The session presented has ended before its expiry (logged out): the authenticator
    /// no longer reports it live.
    #[error("the session has ended")]
    SessionEnded,
    /// The session or proof was made by another custodian's authority.
    #[error("the session was not made by this custodian")]
    ForeignSession,
    /// The purpose needs a proof this call does not carry (for example legal compliance
    /// needs a recorded lawful request, conferences a user-initiated request).
    #[error("{purpose} grants need their own proof")]
    ProofRequired {
        /// The purpose.
        purpose: &'static str,
    },
    /// The lawful request is not recorded for this subject (clause 7.2).
    #[error("{0} is not a recorded lawful request for this subject")]
    UnknownLawfulRequest(RequestId),
    /// A host purpose whose name is longer than 64 bytes (tokens carry it in full).
    #[error("host purpose names are limited to 64 bytes")]
    PurposeNameTooLong,
    /// A host purpose with consent as its legal basis: no host consent scope can back it
    /// yet, so it is refused rather than granted without consent.
    #[error("{purpose} needs consent, and no consent scope backs it")]
    ConsentScopeMissing {
        /// The purpose.
        purpose: &'static str,
    },
    /// An instant outside the representable range (a lifetime too long).
    #[error("the grant's expiry is out of range")]
    TimeOutOfRange,
    /// The proof of a user-initiated request is too old or from the future (clause 3.7).
    #[error("the user-initiated request is stale")]
    StaleRequest,
    /// The purpose needs consent of the subject that is not in force (clauses 3.3, 3.6, 4).
    #[error("no consent in force for {scope} of {subject}")]
    NoConsent {
        /// The subject.
        subject: SubjectId,
        /// The consent scope that is missing.
        scope: &'static str,
    },
    /// Processing for the subject is restricted (clause 9.1).
    #[error("processing for {subject} is restricted")]
    Restricted {
        /// The subject.
        subject: SubjectId,
    },
    /// The subject has been erased (clause 6.2).
    #[error("{subject} has been erased")]
    Erased {
        /// The subject.
        subject: SubjectId,
    },
    /// A staff member without a valid non-disclosure agreement (clause 8.1).
    #[error("{staff} has no valid non-disclosure agreement on file")]
    NdaMissing {
        /// The staff member.
        staff: StaffId,
    },
}

/// Why a signed grant token was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Not a grant token of this format (bad prefix, encoding, length or layout).
    #[error("malformed grant token")]
    Malformed,
    /// A token format version this library does not know.
    #[error("unsupported grant token version {0}")]
    UnsupportedVersion(u8),
    /// Signed with a key id this issuer does not hold.
    #[error("grant token signed with unknown key {0}")]
    UnknownKey(u32),
    /// The signature does not verify: forged or altered.
    #[error("grant token signature does not verify")]
    BadSignature,
    /// The token is for another purpose than the one asked for.
    #[error("grant token is for another purpose")]
    WrongPurpose,
    /// The token's grant has expired.
    #[error("{0} has expired")]
    Expired(GrantId),
    /// Signed by a key of another authority.
    #[error("grant token from another authority")]
    ForeignAuthority,
    /// The token's grant has been revoked or its basis no longer holds.
    #[error("grant token refused: {0}")]
    Refused(AccessError),
}

/// A configuration error when building an issuer or a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// A signing secret shorter than 32 bytes.
    #[error("token signing secret must be at least 32 bytes")]
    SecretTooShort,
    /// A signing secret that is constant, patterned or sequential (the low-entropy screen
    /// every key constructor applies; see `crypto::check_key_entropy`).
    #[error("token signing secret is low-entropy (constant, patterned or sequential)")]
    WeakSecret,
    /// Two keys share one key id.
    #[error("duplicate token key id {0}")]
    DuplicateKeyId(u32),
    /// The system random source failed.
    #[error("system random source failed")]
    Random,
    /// A grant lifetime of zero or less.
    #[error("grant lifetime must be positive")]
    InvalidTtl,
    /// A duration beyond what the custodian accepts (grant lifetime over a day, backup
    /// window over ten years, user-request age over an hour).
    #[error("{0} is out of range")]
    OutOfRange(&'static str),
}

impl AccessError {
    /// A stable short code of the reason (for audit events and the C ABI), no data.
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            Self::ForeignAuthority { .. } => "foreign_authority",
            Self::NotVisible { .. } => "not_visible",
            Self::NoConsent { .. } => "no_consent",
            Self::NotShared { .. } => "not_shared",
            Self::NoLawfulRequest { .. } => "no_lawful_request",
            Self::WrongSubject { .. } => "wrong_subject",
            Self::Expired { .. } => "expired",
            Self::Revoked { .. } => "revoked",
            Self::ConsentWithdrawn { .. } => "consent_withdrawn",
            Self::Restricted { .. } => "restricted",
            Self::Erased { .. } => "erased",
            Self::NdaMissing { .. } => "nda_missing",
            Self::SessionEnded { .. } => "session_ended",
            Self::NotPermitted { .. } => "purpose_not_permitted",
        }
    }
}
