//! Typed personal data for every kind in clauses 1–3.7.
//!
//! Every type here:
//! - is validated when parsed, with a [`DataError`] that names the kind and the reason, never
//!   the input;
//! - keeps its value in a [`secrecy`] secret, zeroized on drop;
//! - prints `kind(<redacted>)` for `Debug` and has no `Display`;
//! - is neither `Clone` nor `Serialize`: values move into a [`Personal`](crate::Personal) and
//!   are read back only through a grant. Storage goes through the sealed byte encoding of
//!   [`DataKind::encode`], which writes into zeroizing buffers.

mod codec;
mod email;
mod kinds;
mod mask;
mod personal;
mod phone;
pub(crate) mod screen;
pub(crate) mod text;

pub use codec::{Reader, Writer};
pub use email::{EmailOptions, EmailReason};
pub use kinds::{
    ColleagueContact, CookiePreference, CustomerRecord, DeviceContact, DeviceInfo, Email, Facebook,
    Google, IpAddress, PersonName, Phone, Provider, ProviderAccountId, Zoom, ZoomAccessToken,
};
pub use mask::Masked;
pub use personal::Personal;
pub use phone::{PhoneOptions, PhonePolicy, PhoneReason, PhoneType};

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::purpose::sealed;

/// The one trimming rule of every parser of the data kinds: surrounding ASCII white space
/// (space, tab, line feed, form feed, carriage return) is removed, nothing else.
///
/// Unicode white space (no-break space, U+2003, U+3000, line separator…) is *not* trimmed:
/// each parser then refuses it or, in free text, keeps it. One rule means a value copied
/// between fields (an address pasted into a name, a number into a form draft) is cut the same
/// way everywhere. See `docs/validation.md`.
pub(crate) fn trim_input(input: &str) -> &str {
    input.trim_ascii()
}

/// A kind of personal data.
///
/// Implemented by the built-in kinds and, through [`HostKind`], by kinds a host crate
/// declares; cannot be implemented directly.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a data kind the custodian can store or read",
    label = "not a typed, validated kind",
    note = "to store text, parse it into a kind first (`Email::parse(text)?`) or call `custodian.store_text(subject, category, text)`",
    note = "a kind of the host's own is declared with `impl crm_privacy::HostKind` (or `host_policy!`)"
)]
pub trait DataKind: sealed::SealedKind + Send + Sync + Sized + 'static {
    /// Runtime identity of the kind.
    const KIND: KindRef;

    /// Encodes the value for sealing. The buffer zeroizes itself when dropped.
    fn encode(&self) -> Zeroizing<Vec<u8>>;

    /// Decodes and re-validates a value written by [`encode`](Self::encode).
    ///
    /// # Errors
    /// A [`DataError`] when the bytes are truncated, corrupt or no longer valid.
    fn decode(bytes: &[u8]) -> Result<Self, DataError>;

    /// The normalized value the keyed blind index is computed from, for the kinds that can
    /// be looked up (email, phone); `None` for every other kind.
    fn lookup_key(&self) -> Option<Zeroizing<String>> {
        None
    }
}

/// A data kind declared by the host application.
///
/// A host kind may be used with any purpose the host chooses (built-in or its own) by
/// implementing [`UsableFor`](crate::UsableFor) for it; it appears in the register through
/// [`Register::with_host_kind`](crate::policy::Register::with_host_kind).
/// Built-in kinds cannot gain purposes this way: `impl UsableFor<MyPurpose> for Email` does
/// not compile.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is neither a built-in data kind nor declared with `HostKind`",
    label = "not a data kind",
    note = "built-in kinds are parsed from text (`Email::parse(text)?`); a kind of the host's own is declared with `impl crm_privacy::HostKind` (or `host_policy!`)"
)]
pub trait HostKind: Send + Sync + Sized + 'static {
    /// Unique name of the kind (lowercase, `snake_case`).
    const NAME: &'static str;
    /// Encodes the value (see [`DataKind::encode`]).
    fn encode(&self) -> Zeroizing<Vec<u8>>;
    /// Decodes the value (see [`DataKind::decode`]).
    ///
    /// # Errors
    /// A [`DataError`] on truncated or invalid bytes.
    fn decode(bytes: &[u8]) -> Result<Self, DataError>;
    /// The value's text form, as the subject sees it in the export (GDPR Art. 15, 20) and as
    /// [`Custodian::read_as_text`](crate::custodian::Custodian::read_as_text) returns it: a
    /// plain value, or JSON for a compound one. Must round-trip through
    /// [`from_text`](Self::from_text).
    fn to_text(&self) -> Zeroizing<String>;
    /// Parses and validates the text form written by [`to_text`](Self::to_text) (used by
    /// `store_text` and `rectify_text`).
    ///
    /// # Errors
    /// A [`DataError`] naming the kind and the reason, never the input.
    fn from_text(text: &str) -> Result<Self, DataError>;
}

impl<T: HostKind> sealed::SealedKind for T {}
impl<T: HostKind> DataKind for T {
    const KIND: KindRef = KindRef::Host(T::NAME);
    fn encode(&self) -> Zeroizing<Vec<u8>> {
        HostKind::encode(self)
    }
    fn decode(bytes: &[u8]) -> Result<Self, DataError> {
        <T as HostKind>::decode(bytes)
    }
}

/// Runtime identity of a data kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(untagged)]
pub enum KindRef {
    /// A kind of the built-in policy table.
    Builtin(Category),
    /// A kind declared by the host application (its [`HostKind::NAME`]).
    Host(&'static str),
}

impl From<Category> for KindRef {
    fn from(c: Category) -> Self {
        Self::Builtin(c)
    }
}

impl KindRef {
    /// The kind's name.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Builtin(c) => c.name(),
            Self::Host(n) => n,
        }
    }
}

macro_rules! categories {
    ($($(#[$meta:meta])* $name:ident = $code:literal, $str:literal, $clause:literal;)*) => {
        /// The built-in data categories, one per built-in kind (stable codes, used on disk,
        /// in tokens and over FFI).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        #[repr(u8)]
        pub enum Category {
            $($(#[$meta])* $name = $code,)*
        }

        impl Category {
            /// Every built-in category, in code order.
            pub const ALL: &'static [Category] = &[$(Category::$name),*];

            /// Lowercase `snake_case` name.
            #[must_use]
            pub const fn name(self) -> &'static str {
                match self { $(Self::$name => $str,)* }
            }

            /// The policy clause that introduces this kind of data.
            #[must_use]
            pub const fn clause(self) -> &'static str {
                match self { $(Self::$name => $clause,)* }
            }

            /// The stable one-byte code.
            #[must_use]
            pub const fn code(self) -> u8 {
                self as u8
            }

            /// Looks a category up by its stable code.
            #[must_use]
            pub const fn from_code(code: u8) -> Option<Self> {
                match code { $($code => Some(Self::$name),)* _ => None }
            }

            /// Looks a category up by name.
            #[must_use]
            pub fn from_name(name: &str) -> Option<Self> {
                match name { $($str => Some(Self::$name),)* _ => None }
            }
        }
    };
}

categories! {
    /// A subject's name (clause 1).
    PersonName = 1, "person_name", "1";
    /// An email address (clauses 1, 3.1).
    Email = 2, "email", "3.1";
    /// A phone number (clauses 1, 3.2).
    Phone = 3, "phone", "3.2";
    /// A colleague invited to teamwork (clause 1).
    ColleagueContact = 4, "colleague_contact", "1";
    /// A record of the account owner's customer base (clause 1).
    CustomerRecord = 5, "customer_record", "1";
    /// An IP address (clauses 2, 3.4).
    IpAddress = 6, "ip_address", "3.4";
    /// Device model, OS version, app version, screen resolution (clauses 2, 3.4).
    DeviceInfo = 7, "device_info", "3.4";
    /// Google account profile id (clause 3.3).
    GoogleAccountId = 8, "google_account_id", "3.3";
    /// Facebook account profile id (clause 3.3).
    FacebookAccountId = 9, "facebook_account_id", "3.3";
    /// Zoom account profile id (clauses 3.3, 3.7).
    ZoomAccountId = 10, "zoom_account_id", "3.7";
    /// Zoom access token (clauses 3.3, 3.7).
    ZoomAccessToken = 11, "zoom_access_token", "3.7";
    /// A contact imported from the subject's device (clause 3.5).
    DeviceContact = 12, "device_contact", "3.5";
    /// Cookie-held preferences: site language, form drafts (clause 3.6).
    CookiePreference = 13, "cookie_preference", "3.6";
}

/// A value of personal data was rejected: which kind, and why. Never contains the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind}: {reason}")]
pub struct DataError {
    kind: &'static str,
    reason: DataReason,
}

impl DataError {
    /// A new error for data kind `kind` (its name).
    #[must_use]
    pub const fn new(kind: &'static str, reason: DataReason) -> Self {
        Self { kind, reason }
    }

    /// The name of the data kind that was rejected.
    #[must_use]
    pub const fn kind(&self) -> &'static str {
        self.kind
    }

    /// Why it was rejected.
    #[must_use]
    pub const fn reason(&self) -> DataReason {
        self.reason
    }
}

/// Why a value was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DataReason {
    /// See [`EmailReason`].
    #[error("{0}")]
    Email(EmailReason),
    /// See [`PhoneReason`].
    #[error("{0}")]
    Phone(PhoneReason),
    /// Not an IPv4 or IPv6 address.
    #[error("not an ipv4 or ipv6 address")]
    IpAddress,
    /// Empty after trimming.
    #[error("value is empty")]
    Empty,
    /// Longer than the kind allows.
    #[error("value is longer than {max} characters")]
    TooLong {
        /// The limit.
        max: usize,
    },
    /// Contains a control character.
    #[error("value contains a control character")]
    ControlCharacter,
    /// A field of a compound value is missing or malformed.
    #[error("field {0} is missing or malformed")]
    Field(&'static str),
    /// Encoded bytes are truncated or corrupt.
    #[error("encoded value is truncated or corrupt")]
    Corrupt,
}
