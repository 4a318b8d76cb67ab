//! Opaque identifiers. Ids are pseudonymous and are the only thing errors, audit events and
//! receipts name — never a value of personal data.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

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
    };
}

id_type!(
    /// The pseudonymous id of a data subject (the person the data is about).
    SubjectId,
    "subject"
);
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
