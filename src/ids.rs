//! Opaque identifiers. Ids are pseudonymous and are the only thing errors, audit events and
//! receipts name — never a value of personal data.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Why a string is not an id of the expected type (see the `FromStr` impls). Never holds the
/// input: a host may pass anything, personal data included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdParseError {
    /// The text does not start with the id type's prefix and a colon (for example
    /// `subject:`): an id of another type, or no id at all.
    #[error("not a {expected} id: expected the prefix `{expected}:`")]
    WrongPrefix {
        /// The prefix the id type prints.
        expected: &'static str,
    },
    /// The prefix is right but what follows is not a UUID.
    #[error("not a {expected} id: the part after `{expected}:` is not a uuid")]
    BadUuid {
        /// The prefix the id type prints.
        expected: &'static str,
    },
}

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident, $prefix:literal) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh random (v4) id.
            #[must_use]
            pub fn new_random() -> Self {
                Self(Uuid::new_v4())
            }

            /// Wraps an existing UUID (for example one read back from storage).
            #[must_use]
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// The UUID inside.
            #[must_use]
            pub const fn as_uuid(&self) -> &Uuid {
                &self.0
            }

            /// The 16 bytes of the UUID, as used in signed tokens and hash chains.
            #[must_use]
            pub const fn to_bytes(&self) -> [u8; 16] {
                *self.0.as_bytes()
            }

            /// Rebuilds the id from its 16 bytes.
            #[must_use]
            pub const fn from_bytes(bytes: [u8; 16]) -> Self {
                Self(Uuid::from_bytes(bytes))
            }
        }

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                write!(f, concat!($prefix, ":{}"), self.0)
            }
        }

        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                write!(f, concat!($prefix, ":{}"), self.0)
            }
        }

        impl core::str::FromStr for $name {
            type Err = IdParseError;

            #[doc = concat!("Parses the printed form `", $prefix, ":<uuid>`; an id of another type is refused.")]
            fn from_str(s: &str) -> Result<Self, IdParseError> {
                let rest = s
                    .strip_prefix(concat!($prefix, ":"))
                    .ok_or(IdParseError::WrongPrefix { expected: $prefix })?;
                // Only the printed (hyphenated, 36-character) form: one text per id.
                if rest.len() != 36 {
                    return Err(IdParseError::BadUuid { expected: $prefix });
                }
                Uuid::try_parse(rest)
                    .map(Self)
                    .map_err(|_| IdParseError::BadUuid { expected: $prefix })
            }
        }
    };
}

id_type!(
    /// The pseudonymous id of a data subject (the person the data is about).
    SubjectId,
    "subject"
);
impl SubjectId {
    /// The nil id, which no registered subject has: the subject of deployment-wide ledger
    /// entries (published policy versions).
    pub const DEPLOYMENT: Self = Self(Uuid::nil());
}

id_type!(
    /// The id of one issued [`Grant`](crate::Grant).
    GrantId,
    "grant"
);
id_type!(
    /// The id of an authenticated session of a data subject (see [`UserSession`](crate::UserSession)).
    SessionId,
    "session"
);
id_type!(
    /// The id of a staff member or contractor (clause 8.1).
    StaffId,
    "staff"
);
id_type!(
    /// The id of a consent record (clauses 3.3, 3.5, 3.6, 4, 10).
    ConsentId,
    "consent"
);
id_type!(
    /// The id of a stored record (one field value of one subject).
    RecordId,
    "record"
);
id_type!(
    /// The id of a user-initiated request (clause 3.7), chosen by the host per UI action.
    RequestId,
    "request"
);
