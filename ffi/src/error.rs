//! Result codes, in numbered blocks that are never reused, and *every* mapping from the
//! root crate's errors to them. API files only write `?`.
//!
//! Every variant is mapped explicitly. The enums the root crate marks `#[non_exhaustive]`
//! (custodian, token, store, crypto, chain, data reason, authentication, key errors) need one
//! final arm for variants added after this library version: it goes to `CRM_INTERNAL`, never
//! to a store error or a success-like code, so an unknown refusal still refuses.

use crm_privacy::crypto::CryptoError;
use crm_privacy::custodian::CustodianError;
use crm_privacy::disclosure::DisclosureError;
use crm_privacy::sharing::SharingError;
use crm_privacy::store::{AuthError, StoreError};
use crm_privacy::{AccessError, DataError, DataReason, IssueError, KeyError, TokenError};

use crate::buffer::output;
use crate::panic::boundary;

/// The result of every fallible call. `CRM_OK` is 0; codes are grouped in blocks of 1000:
/// 1xxx misuse of the API, 2xxx rejected data, 3xxx policy refusals, 4xxx grant tokens,
/// 5xxx storage, keys and configuration, 6xxx authentication, 9xxx internal. Codes added
/// after the first release start a new hundred inside their block (1101, 3101, 4101, 5101).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[expect(non_camel_case_types, reason = "C naming")]
pub enum crm_result {
    /// Success.
    CRM_OK = 0,
    /// A required pointer was NULL.
    CRM_NULL_PARAMETER = 1001,
    /// A string argument is not UTF-8.
    CRM_INVALID_UTF8 = 1002,
    /// The output buffer is too small; the needed size was written to the length out-param.
    CRM_BUFFER_TOO_SMALL = 1003,
    /// An argument is out of range (unknown purpose, category or scope code, zero or huge
    /// length, a kind the call does not handle).
    CRM_INVALID_ARGUMENT = 1004,
    /// A handle that is not live (freed, not made by this library, or of another type).
    CRM_INVALID_HANDLE = 1005,
    /// A secret key shorter than required.
    CRM_KEY_TOO_SHORT = 1006,
    /// A value was rejected by validation (the message names the rule, never the value).
    CRM_INVALID_DATA = 2001,
    /// A value larger than the custodian stores.
    CRM_VALUE_TOO_LARGE = 2101,
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
    /// The staff member has no NDA in force on file.
    CRM_NDA_MISSING = 3008,
    /// The purpose needs consent that is not in force.
    CRM_NO_CONSENT = 3009,
    /// The session has expired.
    CRM_SESSION_EXPIRED = 3010,
    /// The user-initiated request is stale.
    CRM_STALE_REQUEST = 3011,
    /// The purpose cannot be granted through this call (owner access, conferences).
    CRM_PURPOSE_NEEDS_SESSION = 3012,
    /// The grant was issued by another authority (another custodian deployment).
    CRM_FOREIGN_AUTHORITY = 3101,
    /// No record visible through the grant has this id (missing or another subject's: the
    /// two are indistinguishable on purpose).
    CRM_NOT_VISIBLE = 3102,
    /// The subject has not shared this kind with the grant's audience (clause 5).
    CRM_NOT_SHARED = 3103,
    /// No recorded lawful request behind a legal-compliance grant (clause 7.2).
    CRM_NO_LAWFUL_REQUEST = 3104,
    /// The purpose needs its own proof (legal compliance: `crm_grant_lawful`).
    CRM_PROOF_REQUIRED = 3105,
    /// The session was made by another custodian's authority.
    CRM_FOREIGN_SESSION = 3106,
    /// The kind is collected only under a consent that is not in force.
    CRM_COLLECTION_WITHOUT_CONSENT = 3107,
    /// The grant is not for this audience.
    CRM_WRONG_AUDIENCE = 3108,
    /// The field is kept immutable for commercial or legal reasons (clause 6.1).
    CRM_IMMUTABLE = 3109,
    /// A disclosure or sharing choice the policy does not allow (clauses 5, 7).
    CRM_DISCLOSURE_REFUSED = 3110,
    /// `crm_consent_withdraw` of a consent that is not in force (already withdrawn, or never
    /// given): nothing changed. Safe to treat as done when retrying a withdrawal.
    CRM_CONSENT_NOT_IN_FORCE = 3111,
    /// The subject's session has ended before its expiry (logged out): grants issued to it
    /// and calls presenting it are refused.
    CRM_SESSION_ENDED = 3112,
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
    /// The token was signed by another authority.
    CRM_TOKEN_FOREIGN_AUTHORITY = 4101,
    /// A token format version this library does not know.
    CRM_TOKEN_UNSUPPORTED_VERSION = 4102,
    /// A storage backend failed.
    CRM_STORE_ERROR = 5001,
    /// No such record or subject.
    CRM_NOT_FOUND = 5002,
    /// Stored data is corrupt or was tampered with.
    CRM_CORRUPT = 5003,
    /// The subject's key was destroyed (crypto-shredded).
    CRM_SHREDDED = 5004,
    /// Concurrent writers kept moving the chain; nothing was applied (retry).
    CRM_CONTENDED = 5101,
    /// The custodian's configuration is invalid (out-of-range value, no store, schedule).
    CRM_INVALID_CONFIG = 5102,
    /// An instant outside the representable range.
    CRM_TIME_OUT_OF_RANGE = 5103,
    /// A key-encryption key or blind-index secret does not match the store (the wrong key
    /// for these files); nothing was read or written.
    CRM_KEY_MISMATCH = 5104,
    /// The credential was not accepted (unknown, forged or logged out; or no authenticator
    /// configured).
    CRM_CREDENTIAL_REJECTED = 6001,
    /// A panic was caught at the boundary (a bug; please report it).
    CRM_PANIC = 9001,
    /// An error this library version does not know (a newer root crate), or an internal
    /// failure such as the random source; never a refusal turned into success.
    CRM_INTERNAL = 9002,
}

/// Every code, for `crm_result_message` and the tests.
pub(crate) const RESULTS: &[crm_result] = {
    use crm_result::*;
    &[
        CRM_OK,
        CRM_NULL_PARAMETER,
        CRM_INVALID_UTF8,
        CRM_BUFFER_TOO_SMALL,
        CRM_INVALID_ARGUMENT,
        CRM_INVALID_HANDLE,
        CRM_KEY_TOO_SHORT,
        CRM_INVALID_DATA,
        CRM_VALUE_TOO_LARGE,
        CRM_PURPOSE_NOT_PERMITTED,
        CRM_WRONG_SUBJECT,
        CRM_GRANT_EXPIRED,
        CRM_GRANT_REVOKED,
        CRM_CONSENT_WITHDRAWN,
        CRM_RESTRICTED,
        CRM_ERASED,
        CRM_NDA_MISSING,
        CRM_NO_CONSENT,
        CRM_SESSION_EXPIRED,
        CRM_STALE_REQUEST,
        CRM_PURPOSE_NEEDS_SESSION,
        CRM_FOREIGN_AUTHORITY,
        CRM_NOT_VISIBLE,
        CRM_NOT_SHARED,
        CRM_NO_LAWFUL_REQUEST,
        CRM_PROOF_REQUIRED,
        CRM_FOREIGN_SESSION,
        CRM_COLLECTION_WITHOUT_CONSENT,
        CRM_WRONG_AUDIENCE,
        CRM_IMMUTABLE,
        CRM_DISCLOSURE_REFUSED,
        CRM_CONSENT_NOT_IN_FORCE,
        CRM_SESSION_ENDED,
        CRM_TOKEN_MALFORMED,
        CRM_TOKEN_BAD_SIGNATURE,
        CRM_TOKEN_UNKNOWN_KEY,
        CRM_TOKEN_WRONG_PURPOSE,
        CRM_TOKEN_EXPIRED,
        CRM_TOKEN_FOREIGN_AUTHORITY,
        CRM_TOKEN_UNSUPPORTED_VERSION,
        CRM_STORE_ERROR,
        CRM_NOT_FOUND,
        CRM_CORRUPT,
        CRM_SHREDDED,
        CRM_CONTENDED,
        CRM_INVALID_CONFIG,
        CRM_TIME_OUT_OF_RANGE,
        CRM_KEY_MISMATCH,
        CRM_CREDENTIAL_REJECTED,
        CRM_PANIC,
        CRM_INTERNAL,
    ]
};

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
            Self::CRM_VALUE_TOO_LARGE => "the value is larger than the custodian stores",
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
            Self::CRM_FOREIGN_AUTHORITY => "the grant was issued by another authority",
            Self::CRM_NOT_VISIBLE => "no record visible through this grant has this id",
            Self::CRM_NOT_SHARED => "the subject has not shared this data with this audience",
            Self::CRM_NO_LAWFUL_REQUEST => "no recorded lawful request behind this grant",
            Self::CRM_PROOF_REQUIRED => "this purpose needs its own proof",
            Self::CRM_FOREIGN_SESSION => "the session was made by another authority",
            Self::CRM_COLLECTION_WITHOUT_CONSENT => {
                "this data is collected only with its consent in force"
            }
            Self::CRM_WRONG_AUDIENCE => "the grant is not for this audience",
            Self::CRM_IMMUTABLE => "this field is kept immutable",
            Self::CRM_DISCLOSURE_REFUSED => "the policy does not allow this disclosure",
            Self::CRM_CONSENT_NOT_IN_FORCE => {
                "no consent of this scope is in force; nothing changed"
            }
            Self::CRM_SESSION_ENDED => "the session has ended (logged out)",
            Self::CRM_TOKEN_MALFORMED => "malformed grant token",
            Self::CRM_TOKEN_BAD_SIGNATURE => "grant token signature does not verify",
            Self::CRM_TOKEN_UNKNOWN_KEY => "grant token signed with an unknown key",
            Self::CRM_TOKEN_WRONG_PURPOSE => "grant token is for another purpose",
            Self::CRM_TOKEN_EXPIRED => "grant token has expired",
            Self::CRM_TOKEN_FOREIGN_AUTHORITY => "grant token from another authority",
            Self::CRM_TOKEN_UNSUPPORTED_VERSION => "unsupported grant token version",
            Self::CRM_STORE_ERROR => "the storage backend failed",
            Self::CRM_NOT_FOUND => "no such record or subject",
            Self::CRM_CORRUPT => "stored data is corrupt or was tampered with",
            Self::CRM_SHREDDED => "the subject's key was destroyed",
            Self::CRM_CONTENDED => "concurrent writers kept the chain busy; retry",
            Self::CRM_INVALID_CONFIG => "the custodian configuration is invalid",
            Self::CRM_TIME_OUT_OF_RANGE => "an instant is out of range",
            Self::CRM_KEY_MISMATCH => "a key does not match the store",
            Self::CRM_CREDENTIAL_REJECTED => "the credential was not accepted",
            Self::CRM_PANIC => "internal error (panic caught at the boundary)",
            Self::CRM_INTERNAL => "internal error or an error unknown to this library version",
        }
    }
}

/// Writes the message of result code `code` (UTF-8, no personal data, not NUL-terminated)
/// into `buf` of `cap` bytes and its length into `out_len`. An unknown code gets a generic
/// message.
///
/// # Safety
/// `buf` must be valid for `cap` writable bytes; `out_len` must be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_result_message(
    code: u32,
    buf: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> crm_result {
    boundary(|| {
        let msg = RESULTS
            .iter()
            .find(|r| **r as u32 == code)
            .map_or("unknown result code", |r| r.message());
        output(msg.as_bytes(), buf, cap, out_len)
    })
}

impl From<CustodianError> for crm_result {
    fn from(e: CustodianError) -> Self {
        match e {
            CustodianError::Access(a) => a.into(),
            CustodianError::Issue(i) => i.into(),
            CustodianError::Token(t) => t.into(),
            CustodianError::Store(s) => s.into(),
            CustodianError::Crypto(c) => c.into(),
            CustodianError::Data(d) => d.into(),
            CustodianError::Auth(a) => a.into(),
            CustodianError::Disclosure(d) => d.into(),
            CustodianError::Sharing(s) => s.into(),
            CustodianError::Chain(_) | CustodianError::Event(_) => Self::CRM_CORRUPT,
            CustodianError::WrongKind { .. } | CustodianError::ReservedKindName(_) => {
                Self::CRM_INVALID_ARGUMENT
            }
            CustodianError::Immutable { .. } => Self::CRM_IMMUTABLE,
            CustodianError::UnknownSubject(_) => Self::CRM_NOT_FOUND,
            CustodianError::Erased(_) => Self::CRM_ERASED,
            CustodianError::NoActiveConsent { .. } => Self::CRM_CONSENT_NOT_IN_FORCE,
            CustodianError::Contended(_) => Self::CRM_CONTENDED,
            CustodianError::PurposeNotPermitted { .. } => Self::CRM_PURPOSE_NOT_PERMITTED,
            CustodianError::Schedule(_)
            | CustodianError::NoStore
            | CustodianError::Config(_)
            | CustodianError::IndexRotationUnfinished { .. }
            | CustodianError::ScheduleLengthened { .. } => Self::CRM_INVALID_CONFIG,
            CustodianError::WrongAudience => Self::CRM_WRONG_AUDIENCE,
            CustodianError::NotOwnSession => Self::CRM_PURPOSE_NEEDS_SESSION,
            CustodianError::CollectionWithoutConsent { .. } => Self::CRM_COLLECTION_WITHOUT_CONSENT,
            CustodianError::TooLarge { .. } => Self::CRM_VALUE_TOO_LARGE,
            CustodianError::TimeOutOfRange => Self::CRM_TIME_OUT_OF_RANGE,
            CustodianError::PersonalDataInText(_) => Self::CRM_INVALID_DATA,
            CustodianError::BlankText(_) => Self::CRM_INVALID_ARGUMENT,
            _ => Self::CRM_INTERNAL,
        }
    }
}

impl From<AccessError> for crm_result {
    fn from(e: AccessError) -> Self {
        // Exhaustive on purpose (the root crate keeps this enum exhaustive).
        match e {
            AccessError::ForeignAuthority { .. } => Self::CRM_FOREIGN_AUTHORITY,
            AccessError::NotVisible { .. } => Self::CRM_NOT_VISIBLE,
            AccessError::NoConsent { .. } => Self::CRM_NO_CONSENT,
            AccessError::NotShared { .. } => Self::CRM_NOT_SHARED,
            AccessError::NoLawfulRequest { .. } => Self::CRM_NO_LAWFUL_REQUEST,
            AccessError::WrongSubject { .. } => Self::CRM_WRONG_SUBJECT,
            AccessError::Expired { .. } => Self::CRM_GRANT_EXPIRED,
            AccessError::Revoked { .. } => Self::CRM_GRANT_REVOKED,
            AccessError::ConsentWithdrawn { .. } => Self::CRM_CONSENT_WITHDRAWN,
            AccessError::Restricted { .. } => Self::CRM_RESTRICTED,
            AccessError::Erased { .. } => Self::CRM_ERASED,
            AccessError::NdaMissing { .. } => Self::CRM_NDA_MISSING,
            AccessError::SessionEnded { .. } => Self::CRM_SESSION_ENDED,
            AccessError::NotPermitted { .. } => Self::CRM_PURPOSE_NOT_PERMITTED,
        }
    }
}

impl From<IssueError> for crm_result {
    fn from(e: IssueError) -> Self {
        // Exhaustive on purpose.
        match e {
            IssueError::SessionExpired => Self::CRM_SESSION_EXPIRED,
            IssueError::SessionEnded => Self::CRM_SESSION_ENDED,
            IssueError::ForeignSession => Self::CRM_FOREIGN_SESSION,
            IssueError::ProofRequired { .. } => Self::CRM_PROOF_REQUIRED,
            IssueError::UnknownLawfulRequest(_) => Self::CRM_NO_LAWFUL_REQUEST,
            IssueError::PurposeNameTooLong => Self::CRM_INVALID_ARGUMENT,
            IssueError::ConsentScopeMissing { .. } | IssueError::NoConsent { .. } => {
                Self::CRM_NO_CONSENT
            }
            IssueError::TimeOutOfRange => Self::CRM_TIME_OUT_OF_RANGE,
            IssueError::StaleRequest => Self::CRM_STALE_REQUEST,
            IssueError::Restricted { .. } => Self::CRM_RESTRICTED,
            IssueError::Erased { .. } => Self::CRM_ERASED,
            IssueError::NdaMissing { .. } => Self::CRM_NDA_MISSING,
        }
    }
}

impl From<TokenError> for crm_result {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::Malformed => Self::CRM_TOKEN_MALFORMED,
            TokenError::UnsupportedVersion(_) => Self::CRM_TOKEN_UNSUPPORTED_VERSION,
            TokenError::UnknownKey(_) => Self::CRM_TOKEN_UNKNOWN_KEY,
            TokenError::BadSignature => Self::CRM_TOKEN_BAD_SIGNATURE,
            TokenError::WrongPurpose => Self::CRM_TOKEN_WRONG_PURPOSE,
            TokenError::Expired(_) => Self::CRM_TOKEN_EXPIRED,
            TokenError::ForeignAuthority => Self::CRM_TOKEN_FOREIGN_AUTHORITY,
            TokenError::Refused(a) => a.into(),
            _ => Self::CRM_INTERNAL,
        }
    }
}

impl From<StoreError> for crm_result {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { .. } => Self::CRM_NOT_FOUND,
            StoreError::Conflict(_) => Self::CRM_CONTENDED,
            StoreError::Shredded(_) => Self::CRM_SHREDDED,
            StoreError::Corrupt { .. } => Self::CRM_CORRUPT,
            StoreError::Backend(_) => Self::CRM_STORE_ERROR,
            _ => Self::CRM_INTERNAL,
        }
    }
}

impl From<CryptoError> for crm_result {
    fn from(e: CryptoError) -> Self {
        match e {
            CryptoError::Shredded => Self::CRM_SHREDDED,
            CryptoError::Truncated
            | CryptoError::UnsupportedVersion(_)
            | CryptoError::Authentication
            | CryptoError::UnknownKek(_) => Self::CRM_CORRUPT,
            CryptoError::InvalidKey
            | CryptoError::WeakKey
            | CryptoError::KeyReused
            | CryptoError::KekName => Self::CRM_INVALID_ARGUMENT,
            CryptoError::KekDestroyed(_) => Self::CRM_SHREDDED,
            CryptoError::WrongKek { .. } | CryptoError::WrongIndexSecret => Self::CRM_KEY_MISMATCH,
            CryptoError::Random | CryptoError::Seal => Self::CRM_INTERNAL,
            _ => Self::CRM_INTERNAL,
        }
    }
}

impl From<DataError> for crm_result {
    fn from(e: DataError) -> Self {
        match e.reason() {
            DataReason::Corrupt => Self::CRM_CORRUPT,
            DataReason::Email(_)
            | DataReason::Phone(_)
            | DataReason::IpAddress
            | DataReason::Empty
            | DataReason::TooLong { .. }
            | DataReason::ControlCharacter
            | DataReason::Field(_) => Self::CRM_INVALID_DATA,
            _ => Self::CRM_INTERNAL,
        }
    }
}

impl From<AuthError> for crm_result {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Rejected => Self::CRM_CREDENTIAL_REJECTED,
            AuthError::Expired => Self::CRM_SESSION_EXPIRED,
            _ => Self::CRM_INTERNAL,
        }
    }
}

impl From<DisclosureError> for crm_result {
    fn from(e: DisclosureError) -> Self {
        match e {
            DisclosureError::Incomplete(_) | DisclosureError::PersonalData(_) => {
                Self::CRM_INVALID_DATA
            }
            DisclosureError::NotListed { .. }
            | DisclosureError::NotForAuthorities(_)
            | DisclosureError::Mismatch => Self::CRM_DISCLOSURE_REFUSED,
        }
    }
}

impl From<SharingError> for crm_result {
    fn from(e: SharingError) -> Self {
        match e {
            SharingError::NotShareable { .. } => Self::CRM_DISCLOSURE_REFUSED,
        }
    }
}

impl From<KeyError> for crm_result {
    fn from(e: KeyError) -> Self {
        match e {
            KeyError::SecretTooShort => Self::CRM_KEY_TOO_SHORT,
            // Like a weak KEK or index key (`CryptoError::WeakKey`): the key bytes passed in.
            KeyError::WeakSecret => Self::CRM_INVALID_ARGUMENT,
            KeyError::DuplicateKeyId(_) | KeyError::InvalidTtl | KeyError::OutOfRange(_) => {
                Self::CRM_INVALID_CONFIG
            }
            KeyError::Random => Self::CRM_INTERNAL,
            _ => Self::CRM_INTERNAL,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crm_privacy::{GrantId, RecordId, SubjectId};

    #[test]
    fn codes_are_unique_and_each_has_a_message() {
        for (i, a) in RESULTS.iter().enumerate() {
            assert!(!a.message().is_empty());
            for b in RESULTS.iter().skip(i + 1) {
                assert_ne!(*a as u32, *b as u32, "{a:?} and {b:?} share a code");
            }
        }
    }

    #[test]
    fn no_refusal_becomes_a_store_error_or_ok() {
        let g = GrantId::new_random();
        let s = SubjectId::new_random();
        let refusals: Vec<CustodianError> = vec![
            AccessError::NotShared {
                grant: g,
                kind: "email",
            }
            .into(),
            AccessError::NoLawfulRequest { grant: g }.into(),
            AccessError::ForeignAuthority { grant: g }.into(),
            AccessError::NotVisible {
                grant: g,
                record: RecordId::new_random(),
            }
            .into(),
            AccessError::NoConsent {
                grant: g,
                scope: "cookies",
            }
            .into(),
            IssueError::ForeignSession.into(),
            IssueError::ProofRequired {
                purpose: "legal_compliance",
            }
            .into(),
            TokenError::ForeignAuthority.into(),
            TokenError::Refused(AccessError::Revoked { grant: g }).into(),
            CustodianError::WrongAudience,
            CustodianError::CollectionWithoutConsent {
                kind: "zoom_access_token",
                scope: "zoom_link",
            },
            CustodianError::Sharing(SharingError::NotShareable {
                kind: "device_contact",
                audience: crm_privacy::sharing::Audience::Colleagues,
            }),
            CustodianError::Erased(s),
            AuthError::Rejected.into(),
        ];
        for e in refusals {
            let code = crm_result::from(e.clone());
            assert_ne!(code, crm_result::CRM_OK, "{e:?}");
            assert_ne!(code, crm_result::CRM_STORE_ERROR, "{e:?}");
            assert_ne!(code, crm_result::CRM_INTERNAL, "{e:?}");
            assert!(
                (3000..5000).contains(&(code as u32))
                    || code == crm_result::CRM_CREDENTIAL_REJECTED,
                "{e:?} -> {code:?}"
            );
        }
        assert_eq!(
            crm_result::from(CustodianError::from(TokenError::Refused(
                AccessError::Revoked { grant: g }
            ))),
            crm_result::CRM_GRANT_REVOKED
        );
        assert_eq!(
            crm_result::from(AuthError::Expired),
            crm_result::CRM_SESSION_EXPIRED
        );
    }
}
