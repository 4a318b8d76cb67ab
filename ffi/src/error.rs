//! Result codes, in numbered blocks that are never reused.

use crm_privacy::{AccessError, DataReason, IssueError, TokenError};

/// The result of every fallible call. `CRM_OK` is 0; codes are grouped in blocks of 1000:
/// 1xxx misuse of the API, 2xxx rejected data, 3xxx policy refusals, 4xxx grant tokens,
/// 5xxx storage and keys, 9xxx internal.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types, reason = "C naming")]
pub enum crm_result {
    /// Success.
    CRM_OK = 0,
    /// A required pointer was NULL.
    CRM_NULL_PARAMETER = 1001,
    /// A string argument is not UTF-8.
    CRM_INVALID_UTF8 = 1002,
    /// The output buffer is too small; the needed size was written to the length out-param.
    CRM_BUFFER_TOO_SMALL = 1003,
    /// An argument is out of range (unknown purpose or category code, zero or huge length).
    CRM_INVALID_ARGUMENT = 1004,
    /// A handle that is not live (freed, or not made by this library), where detectable.
    CRM_INVALID_HANDLE = 1005,
    /// A secret key shorter than required.
    CRM_KEY_TOO_SHORT = 1006,
    /// A value was rejected by validation (see the message for the rule, never the value).
    CRM_INVALID_DATA = 2001,
    /// The policy table does not allow this kind of data for this purpose.
    CRM_PURPOSE_NOT_PERMITTED = 3001,
    /// The grant is for another subject.
    CRM_WRONG_SUBJECT = 3002,
    /// The grant has expired.
    CRM_GRANT_EXPIRED = 3003,
    /// The grant was revoked.
    CRM_GRANT_REVOKED = 3004,
    /// The consent behind the grant was withdrawn.
    CRM_CONSENT_WITHDRAWN = 3005,
    /// Processing for the subject is restricted.
    CRM_RESTRICTED = 3006,
    /// The subject has been erased.
    CRM_ERASED = 3007,
    /// The staff member has no NDA on file.
    CRM_NDA_MISSING = 3008,
    /// The purpose needs consent that is not in force.
    CRM_NO_CONSENT = 3009,
    /// The session has expired.
    CRM_SESSION_EXPIRED = 3010,
    /// The user-initiated request is stale.
    CRM_STALE_REQUEST = 3011,
    /// The purpose cannot be granted through this call (owner access, conferences).
    CRM_PURPOSE_NEEDS_SESSION = 3012,
    /// Not a grant token.
    CRM_TOKEN_MALFORMED = 4001,
    /// The token's signature does not verify.
    CRM_TOKEN_BAD_SIGNATURE = 4002,
    /// The token was signed with an unknown key.
    CRM_TOKEN_UNKNOWN_KEY = 4003,
    /// The token is for another purpose.
    CRM_TOKEN_WRONG_PURPOSE = 4004,
    /// The token has expired.
    CRM_TOKEN_EXPIRED = 4005,
    /// A storage backend failed.
    CRM_STORE_ERROR = 5001,
    /// No such record or subject.
    CRM_NOT_FOUND = 5002,
    /// Stored data is corrupt or was tampered with.
    CRM_CORRUPT = 5003,
    /// The subject's key was destroyed (crypto-shredded).
    CRM_SHREDDED = 5004,
    /// A panic was caught at the boundary (a bug; please report it).
    CRM_PANIC = 9001,
}

impl crm_result {
    /// A one-line description, free of personal data.
    #[must_use]
    pub const fn message(self) -> &'static str {
        match self {
            Self::CRM_OK => "ok",
            Self::CRM_NULL_PARAMETER => "a required pointer was null",
            Self::CRM_INVALID_UTF8 => "a string argument is not valid utf-8",
            Self::CRM_BUFFER_TOO_SMALL => "the output buffer is too small",
            Self::CRM_INVALID_ARGUMENT => "an argument is out of range",
            Self::CRM_INVALID_HANDLE => "the handle is not live",
            Self::CRM_KEY_TOO_SHORT => "the secret key is too short",
            Self::CRM_INVALID_DATA => "the value was rejected by validation",
            Self::CRM_PURPOSE_NOT_PERMITTED => {
                "the policy does not allow this data for this purpose"
            }
            Self::CRM_WRONG_SUBJECT => "the grant is for another subject",
            Self::CRM_GRANT_EXPIRED => "the grant has expired",
            Self::CRM_GRANT_REVOKED => "the grant has been revoked",
            Self::CRM_CONSENT_WITHDRAWN => "the consent behind the grant was withdrawn",
            Self::CRM_RESTRICTED => "processing for the subject is restricted",
            Self::CRM_ERASED => "the subject has been erased",
            Self::CRM_NDA_MISSING => "no non-disclosure agreement on file",
            Self::CRM_NO_CONSENT => "no consent in force for this purpose",
            Self::CRM_SESSION_EXPIRED => "the session has expired",
            Self::CRM_STALE_REQUEST => "the user-initiated request is stale",
            Self::CRM_PURPOSE_NEEDS_SESSION => "this purpose needs the subject's own session",
            Self::CRM_TOKEN_MALFORMED => "malformed grant token",
            Self::CRM_TOKEN_BAD_SIGNATURE => "grant token signature does not verify",
            Self::CRM_TOKEN_UNKNOWN_KEY => "grant token signed with an unknown key",
            Self::CRM_TOKEN_WRONG_PURPOSE => "grant token is for another purpose",
            Self::CRM_TOKEN_EXPIRED => "grant token has expired",
            Self::CRM_STORE_ERROR => "the storage backend failed",
            Self::CRM_NOT_FOUND => "no such record or subject",
            Self::CRM_CORRUPT => "stored data is corrupt or was tampered with",
            Self::CRM_SHREDDED => "the subject's key was destroyed",
            Self::CRM_PANIC => "internal error (panic caught at the boundary)",
        }
    }
}

impl From<AccessError> for crm_result {
    fn from(e: AccessError) -> Self {
        match e {
            AccessError::WrongSubject { .. } => Self::CRM_WRONG_SUBJECT,
            AccessError::Expired { .. } => Self::CRM_GRANT_EXPIRED,
            AccessError::Revoked { .. } => Self::CRM_GRANT_REVOKED,
            AccessError::ConsentWithdrawn { .. } => Self::CRM_CONSENT_WITHDRAWN,
            AccessError::Restricted { .. } => Self::CRM_RESTRICTED,
            AccessError::Erased { .. } => Self::CRM_ERASED,
            AccessError::NdaMissing { .. } => Self::CRM_NDA_MISSING,
        }
    }
}

impl From<IssueError> for crm_result {
    fn from(e: IssueError) -> Self {
        match e {
            IssueError::SessionExpired => Self::CRM_SESSION_EXPIRED,
            IssueError::StaleRequest => Self::CRM_STALE_REQUEST,
            IssueError::NoConsent { .. } => Self::CRM_NO_CONSENT,
            IssueError::Restricted { .. } => Self::CRM_RESTRICTED,
            IssueError::Erased { .. } => Self::CRM_ERASED,
            IssueError::NdaMissing { .. } => Self::CRM_NDA_MISSING,
        }
    }
}

impl From<TokenError> for crm_result {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::BadSignature => Self::CRM_TOKEN_BAD_SIGNATURE,
            TokenError::UnknownKey(_) => Self::CRM_TOKEN_UNKNOWN_KEY,
            TokenError::WrongPurpose => Self::CRM_TOKEN_WRONG_PURPOSE,
            TokenError::Expired(_) => Self::CRM_TOKEN_EXPIRED,
            TokenError::Refused(a) => a.into(),
            _ => Self::CRM_TOKEN_MALFORMED,
        }
    }
}

impl From<crm_privacy::DataError> for crm_result {
    fn from(e: crm_privacy::DataError) -> Self {
        match e.reason() {
            DataReason::Corrupt => Self::CRM_CORRUPT,
            _ => Self::CRM_INVALID_DATA,
        }
    }
}
