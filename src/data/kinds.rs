//! The built-in kinds of personal data (clauses 1–3.7).

use core::fmt;
use core::marker::PhantomData;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use secrecy::{ExposeSecret, SecretBox, SecretString};
use zeroize::Zeroizing;

use super::codec::{Reader, Writer};
use super::email::{EmailOptions, lookup_key as email_lookup_key, normalize_email};
use super::phone::{
    Parsed as PhoneParsed, PhoneOptions, PhoneReason, PhoneType, normalize_phone, stored_phone,
};
use super::{Category, DataError, DataKind, DataReason, KindRef, trim_input};
use crate::purpose::sealed;

/// Checks a free-text field: trimmed ([`trim_input`]), non-empty, bounded, no control
/// characters.
fn text(kind: &'static str, input: &str, max: usize) -> Result<SecretString, DataError> {
    let t = trim_input(input);
    if t.is_empty() {
        return Err(DataError::new(kind, DataReason::Empty));
    }
    if t.chars().count() > max {
        return Err(DataError::new(kind, DataReason::TooLong { max }));
    }
    if t.chars().any(char::is_control) {
        return Err(DataError::new(kind, DataReason::ControlCharacter));
    }
    Ok(SecretString::from(t))
}

macro_rules! builtin_kind {
    ($ty:ty, $cat:ident) => {
        impl sealed::SealedKind for $ty {}
        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($cat), "(<redacted>)"))
            }
        }
    };
}

/// The trait impl every built-in kind shares: encode/decode through `to_bytes`/`from_bytes`.
macro_rules! data_kind {
    ($ty:ty, $cat:ident) => {
        data_kind!($ty, $cat, |_v| None);
    };
    ($ty:ty, $cat:ident, $lookup:expr) => {
        builtin_kind!($ty, $cat);
        impl DataKind for $ty {
            const KIND: KindRef = KindRef::Builtin(Category::$cat);
            fn lookup_key(&self) -> Option<Zeroizing<String>> {
                #[allow(clippy::redundant_closure_call, reason = "the macro's one lookup rule")]
                ($lookup)(self)
            }
            fn encode(&self) -> Zeroizing<Vec<u8>> {
                let mut w = Writer::new();
                self.write(&mut w);
                w.finish()
            }
            fn decode(bytes: &[u8]) -> Result<Self, DataError> {
                let mut r = Reader::new(Category::$cat.name(), bytes);
                let v = Self::read(&mut r)?;
                r.finish()?;
                Ok(v)
            }
        }
    };
}

// ---------------------------------------------------------------------------------------------

/// A person's name (clause 1). Free text, 1–200 characters, no control characters.
pub struct PersonName(SecretString);
data_kind!(PersonName, PersonName);

impl PersonName {
    /// Validates a name.
    ///
    /// # Errors
    /// [`DataReason::Empty`], [`DataReason::TooLong`] or [`DataReason::ControlCharacter`].
    pub fn parse(input: &str) -> Result<Self, DataError> {
        text(Category::PersonName.name(), input, 200).map(Self)
    }
    /// The name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        self.0.expose_secret()
    }
    fn write(&self, w: &mut Writer) {
        w.str(self.as_str());
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DataError> {
        Self::parse(r.str()?)
    }
}

/// An email address (clauses 1, 3.1), validated and normalized: local part in NFC with its
/// case kept, domain lowercase ASCII (IDNA). The rules are listed in `docs/validation.md`.
pub struct Email {
    value: SecretString,
    at: usize,
}
data_kind!(Email, Email, |v: &Email| Some(Email::lookup_key(v)));

impl Email {
    /// Validates and normalizes an address with the default `EmailOptions` (special-use
    /// names such as `.local` refused).
    ///
    /// # Errors
    /// [`DataReason::Email`] naming the rule that failed.
    pub fn parse(input: &str) -> Result<Self, DataError> {
        Self::parse_with(input, &EmailOptions::new())
    }

    /// Validates and normalizes an address with the host's options.
    ///
    /// ```
    /// # use crm_privacy::Email;
    /// assert!(Email::parse("printer@office.local").is_err());
    /// let opts = Email::options().allow_special_use(true);
    /// assert_eq!(Email::parse_with("printer@Office.LOCAL", &opts)?.as_str(), "printer@office.local");
    /// # Ok::<(), crm_privacy::DataError>(())
    /// ```
    ///
    /// # Errors
    /// [`DataReason::Email`] naming the rule that failed.
    pub fn parse_with(input: &str, options: &EmailOptions) -> Result<Self, DataError> {
        let (value, at) = normalize_email(input, options)
            .map_err(|r| DataError::new(Category::Email.name(), DataReason::Email(r)))?;
        Ok(Self {
            value: SecretString::from(value),
            at,
        })
    }

    /// The default options, to adjust for [`parse_with`](Self::parse_with).
    #[must_use]
    pub const fn options() -> EmailOptions {
        EmailOptions::new()
    }

    /// The normalized address (local part as given, in NFC; domain lowercase ASCII).
    #[must_use]
    pub fn as_str(&self) -> &str {
        self.value.expose_secret()
    }

    /// The key for equality lookups such as a blind index: [`as_str`](Self::as_str) with the
    /// local part lowercased too. `Dora@example.org` and `dora@EXAMPLE.org` have the same key.
    ///
    /// RFC 5321 §2.4 lets a receiving host treat local-part case as significant but calls
    /// relying on it harmful to interoperability; practically every mail provider ignores it.
    /// A lookup that misses a subject because of case (an access or erasure request) costs
    /// more than the rare merge of two mailboxes that differ only in case, so lookups fold it
    /// while the stored address keeps it for delivery. See `docs/validation.md`.
    #[must_use]
    pub fn lookup_key(&self) -> Zeroizing<String> {
        email_lookup_key(self.as_str(), self.at)
    }

    /// The local part (before the last `@`), in NFC with its case kept.
    pub(super) fn local_part(&self) -> &str {
        self.as_str().get(..self.at).unwrap_or_default()
    }

    /// The domain part (ASCII, lowercase).
    #[must_use]
    pub fn domain(&self) -> &str {
        self.as_str()
            .get(self.at.saturating_add(1)..)
            .unwrap_or_default()
    }
    fn write(&self, w: &mut Writer) {
        w.str(self.as_str());
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DataError> {
        // Stored addresses were accepted under some host's options: read them back under the
        // most permissive ones, so that changing an option never makes stored data unreadable.
        Self::parse_with(r.str()?, &EmailOptions::new().allow_special_use(true))
    }
}

/// A phone number in E.164 form (clauses 1, 3.2), checked against libphonenumber's metadata.
/// The rules are listed in `docs/validation.md`.
pub struct Phone {
    value: SecretString,
    country_code: u16,
    number_type: PhoneType,
}
data_kind!(Phone, Phone, |v: &Phone| Some(Zeroizing::new(
    v.as_e164().to_owned()
)));

impl Phone {
    /// Validates an international number (leading `+`) under `PhonePolicy::Valid` and
    /// normalizes it to E.164.
    ///
    /// # Errors
    /// [`DataReason::Phone`] naming the rule that failed.
    pub fn parse(input: &str) -> Result<Self, DataError> {
        Self::parse_with(input, &PhoneOptions::new())
    }

    /// Validates a number with a region hint for national input and the host's policy.
    ///
    /// ```
    /// # use crm_privacy::Phone;
    /// let uk = Phone::options().region("GB")?;
    /// let p = Phone::parse_with("020 7946 0958", &uk)?;
    /// assert_eq!(p.as_e164(), "+442079460958");
    /// assert_eq!(p.number_type().name(), "fixed_line");
    /// // Possible: any length the numbering plan uses, assigned or not.
    /// assert!(Phone::parse("+1 999 555 0100").is_err());
    /// assert!(Phone::parse_with("+1 999 555 0100", &Phone::options().possible()).is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`DataReason::Phone`] naming the rule that failed.
    pub fn parse_with(input: &str, options: &PhoneOptions) -> Result<Self, DataError> {
        normalize_phone(input, options)
            .map(Self::from_parsed)
            .map_err(phone_error)
    }

    /// The default options (international input, `PhonePolicy::Valid`), to adjust for
    /// [`parse_with`](Self::parse_with).
    #[must_use]
    pub const fn options() -> PhoneOptions {
        PhoneOptions::new()
    }

    /// Frees the numbering-plan metadata (about 4 MB with its compiled patterns) that the
    /// first parse loaded; the next parse loads it again (tens of milliseconds). Returns
    /// whether it was loaded.
    ///
    /// For programs that want the memory back, or that check for leaks at exit: the metadata
    /// is not held in a `static` that lives forever but in a shared cache this call empties
    /// (a parse running meanwhile keeps its copy until it returns). The C ABI calls it when
    /// its last custodian handle is freed, so a C program is memcheck-clean after
    /// `crm_custodian_free` (issue 17). Nothing else changes: a phone parsed before or after
    /// reads the same.
    ///
    /// ```
    /// # use crm_privacy::Phone;
    /// let before = Phone::parse("+44 20 7946 0958")?;
    /// assert!(Phone::unload_metadata());
    /// assert!(!Phone::unload_metadata());
    /// assert_eq!(Phone::parse("+44 20 7946 0958")?.as_e164(), before.as_e164());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn unload_metadata() -> bool {
        super::phone::unload_metadata()
    }

    fn from_parsed(p: PhoneParsed) -> Self {
        Self {
            value: SecretString::from(p.e164),
            country_code: p.country_code,
            number_type: p.number_type,
        }
    }

    /// The number in E.164 form, e.g. `+14155550100`.
    #[must_use]
    pub fn as_e164(&self) -> &str {
        self.value.expose_secret()
    }
    /// The ITU-T country calling code.
    #[must_use]
    pub const fn country_code(&self) -> u16 {
        self.country_code
    }
    /// The kind of line, as far as the numbering plan tells (`PhoneType::Unknown` for a
    /// number accepted as merely possible).
    #[must_use]
    pub const fn number_type(&self) -> PhoneType {
        self.number_type
    }
    fn write(&self, w: &mut Writer) {
        w.str(self.as_e164());
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DataError> {
        // Not re-checked against the policy: a metadata update must not make stored personal
        // data unreadable.
        stored_phone(r.str()?)
            .map(Self::from_parsed)
            .map_err(phone_error)
    }
}

fn phone_error(r: PhoneReason) -> DataError {
    DataError::new(Category::Phone.name(), DataReason::Phone(r))
}

/// A colleague to whom the subject sent a request for teamwork (clause 1).
pub struct ColleagueContact {
    name: PersonName,
    email: Email,
}
data_kind!(ColleagueContact, ColleagueContact);

impl ColleagueContact {
    /// A colleague from an already validated name and address.
    #[must_use]
    pub const fn new(name: PersonName, email: Email) -> Self {
        Self { name, email }
    }
    /// The colleague's name.
    #[must_use]
    pub const fn name(&self) -> &PersonName {
        &self.name
    }
    /// The colleague's address.
    #[must_use]
    pub const fn email(&self) -> &Email {
        &self.email
    }
    fn write(&self, w: &mut Writer) {
        self.name.write(w);
        self.email.write(w);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DataError> {
        Ok(Self {
            name: PersonName::read(r)?,
            email: Email::read(r)?,
        })
    }
}

/// A record of the account owner's customer base (clause 1): user-defined fields, every
/// value treated as personal data. Field *names* are schema chosen by the owner (for
/// example `"company"`), not personal data, and may appear in errors.
#[derive(Default)]
pub struct CustomerRecord {
    fields: BTreeMap<String, SecretString>,
}
data_kind!(CustomerRecord, CustomerRecord);

impl CustomerRecord {
    /// Longest accepted field name.
    pub const MAX_FIELD_NAME: usize = 64;
    /// Longest accepted field value.
    pub const MAX_FIELD_VALUE: usize = 4096;

    /// An empty record.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a field. Names are 1–64 characters of `[a-z0-9_]`.
    ///
    /// # Errors
    /// [`DataReason::Field`] for a bad name (the name is not echoed); value errors as for
    /// free text.
    pub fn set(&mut self, name: &str, value: &str) -> Result<&mut Self, DataError> {
        let kind = Category::CustomerRecord.name();
        let ok_name = !name.is_empty()
            && name.len() <= Self::MAX_FIELD_NAME
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !ok_name {
            return Err(DataError::new(kind, DataReason::Field("name")));
        }
        let v = text(kind, value, Self::MAX_FIELD_VALUE)?;
        self.fields.insert(name.to_owned(), v);
        Ok(self)
    }

    /// A field's value.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(ExposeSecret::expose_secret)
    }

    /// The field names, sorted.
    pub fn field_names(&self) -> impl Iterator<Item = &str> {
        self.fields.keys().map(String::as_str)
    }

    fn write(&self, w: &mut Writer) {
        w.u32(u32::try_from(self.fields.len()).unwrap_or(u32::MAX));
        for (k, v) in &self.fields {
            w.str(k).str(v.expose_secret());
        }
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DataError> {
        let n = r.u32()?;
        let mut rec = Self::new();
        for _ in 0..n {
            let k = r.str()?;
            let v = r.str()?;
            rec.set(k, v)?;
        }
        Ok(rec)
    }
}

/// An IP address (clauses 2, 3.4), IPv4 or IPv6.
pub struct IpAddress {
    octets: SecretBox<[u8; 16]>,
    v4: bool,
}
data_kind!(IpAddress, IpAddress);

impl IpAddress {
    /// Parses dotted IPv4 or RFC 5952 IPv6 text, after trimming surrounding ASCII white space
    /// only (the rule of every parser here; a no-break space around the address is refused).
    ///
    /// # Errors
    /// [`DataReason::IpAddress`].
    pub fn parse(input: &str) -> Result<Self, DataError> {
        let ip: IpAddr = trim_input(input)
            .parse()
            .map_err(|_| DataError::new(Category::IpAddress.name(), DataReason::IpAddress))?;
        Ok(Self::from_ip(ip))
    }
    /// Wraps an address the host already has (for example a socket peer address).
    #[must_use]
    pub fn from_ip(ip: IpAddr) -> Self {
        let (octets, v4) = match ip {
            IpAddr::V4(a) => (a.to_ipv6_mapped().octets(), true),
            IpAddr::V6(a) => (a.octets(), false),
        };
        Self {
            octets: SecretBox::new(Box::new(octets)),
            v4,
        }
    }
    /// The address.
    #[must_use]
    pub fn ip(&self) -> IpAddr {
        let v6 = Ipv6Addr::from(*self.octets.expose_secret());
        match (self.v4, v6.to_ipv4_mapped()) {
            (true, Some(v4)) => IpAddr::V4(v4),
            (true, None) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            (false, _) => IpAddr::V6(v6),
        }
    }
    fn write(&self, w: &mut Writer) {
        w.u8(u8::from(self.v4)).bytes(self.octets.expose_secret());
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DataError> {
        let v4 = match r.u8()? {
            0 => false,
            1 => true,
            _ => {
                return Err(DataError::new(
                    Category::IpAddress.name(),
                    DataReason::Corrupt,
                ));
            }
        };
        let b: [u8; 16] = r
            .bytes()?
            .try_into()
            .map_err(|_| DataError::new(Category::IpAddress.name(), DataReason::Corrupt))?;
        if v4 && Ipv6Addr::from(b).to_ipv4_mapped().is_none() {
            return Err(DataError::new(
                Category::IpAddress.name(),
                DataReason::Corrupt,
            ));
        }
        Ok(Self {
            octets: SecretBox::new(Box::new(b)),
            v4,
        })
    }
}

/// Device facts sent automatically (clauses 2, 3.4).
pub struct DeviceInfo {
    model: SecretString,
    os_version: SecretString,
    app_version: SecretString,
    screen: SecretBox<[u32; 2]>,
}
data_kind!(DeviceInfo, DeviceInfo);

impl DeviceInfo {
    /// Validates device facts; each text is 1–128 characters, the screen 1–65535 pixels a side.
    ///
    /// # Errors
    /// [`DataReason::Field`] naming the bad field, or a free-text error.
    pub fn new(
        model: &str,
        os_version: &str,
        app_version: &str,
        screen_width: u32,
        screen_height: u32,
    ) -> Result<Self, DataError> {
        let kind = Category::DeviceInfo.name();
        if !(1..=65_535).contains(&screen_width) || !(1..=65_535).contains(&screen_height) {
            return Err(DataError::new(kind, DataReason::Field("screen_resolution")));
        }
        Ok(Self {
            model: text(kind, model, 128)?,
            os_version: text(kind, os_version, 128)?,
            app_version: text(kind, app_version, 128)?,
            screen: SecretBox::new(Box::new([screen_width, screen_height])),
        })
    }
    /// Device model.
    #[must_use]
    pub fn model(&self) -> &str {
        self.model.expose_secret()
    }
    /// Operating system version.
    #[must_use]
    pub fn os_version(&self) -> &str {
        self.os_version.expose_secret()
    }
    /// Application version.
    #[must_use]
    pub fn app_version(&self) -> &str {
        self.app_version.expose_secret()
    }
    /// Screen resolution as (width, height) in pixels.
    #[must_use]
    pub fn screen_resolution(&self) -> (u32, u32) {
        let [w, h] = *self.screen.expose_secret();
        (w, h)
    }
    fn write(&self, w: &mut Writer) {
        let (sw, sh) = self.screen_resolution();
        w.str(self.model())
            .str(self.os_version())
            .str(self.app_version())
            .u32(sw)
            .u32(sh);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DataError> {
        let (m, o, a) = (r.str()?, r.str()?, r.str()?);
        let (sw, sh) = (r.u32()?, r.u32()?);
        Self::new(m, o, a, sw, sh)
    }
}

/// An identity provider whose account can be linked (clause 3.3). Sealed.
pub trait Provider: sealed::SealedProvider + Send + Sync + 'static {
    /// Lowercase provider name.
    const NAME: &'static str;
    /// The category of its account ids.
    const CATEGORY: Category;
}

/// Google (sign-in and registration, clauses 3.3, 4.1).
#[derive(Debug, Clone, Copy)]
pub struct Google;
/// Facebook (sign-in and registration, clause 3.3).
#[derive(Debug, Clone, Copy)]
pub struct Facebook;
/// Zoom (conference creation, clauses 3.3, 3.7).
#[derive(Debug, Clone, Copy)]
pub struct Zoom;
impl sealed::SealedProvider for Google {}
impl sealed::SealedProvider for Facebook {}
impl sealed::SealedProvider for Zoom {}
impl Provider for Google {
    const NAME: &'static str = "google";
    const CATEGORY: Category = Category::GoogleAccountId;
}
impl Provider for Facebook {
    const NAME: &'static str = "facebook";
    const CATEGORY: Category = Category::FacebookAccountId;
}
impl Provider for Zoom {
    const NAME: &'static str = "zoom";
    const CATEGORY: Category = Category::ZoomAccountId;
}

/// The profile id of a linked provider account (clause 3.3): 1–255 visible ASCII characters.
pub struct ProviderAccountId<P: Provider> {
    value: SecretString,
    _provider: PhantomData<P>,
}
impl<P: Provider> sealed::SealedKind for ProviderAccountId<P> {}
impl<P: Provider> fmt::Debug for ProviderAccountId<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ProviderAccountId<{}>(<redacted>)", P::NAME)
    }
}
impl<P: Provider> DataKind for ProviderAccountId<P> {
    const KIND: KindRef = KindRef::Builtin(P::CATEGORY);
    fn encode(&self) -> Zeroizing<Vec<u8>> {
        let mut w = Writer::new();
        w.str(self.as_str());
        w.finish()
    }
    fn decode(bytes: &[u8]) -> Result<Self, DataError> {
        let mut r = Reader::new(P::CATEGORY.name(), bytes);
        let v = Self::parse(r.str()?)?;
        r.finish()?;
        Ok(v)
    }
}
impl<P: Provider> ProviderAccountId<P> {
    /// Validates a provider profile id.
    ///
    /// # Errors
    /// [`DataReason::Empty`], [`DataReason::TooLong`] or [`DataReason::Field`].
    pub fn parse(input: &str) -> Result<Self, DataError> {
        let kind = P::CATEGORY.name();
        let v = token_text(kind, input, 255)?;
        Ok(Self {
            value: v,
            _provider: PhantomData,
        })
    }
    /// The profile id.
    #[must_use]
    pub fn as_str(&self) -> &str {
        self.value.expose_secret()
    }
}

fn token_text(kind: &'static str, input: &str, max: usize) -> Result<SecretString, DataError> {
    if input.is_empty() {
        return Err(DataError::new(kind, DataReason::Empty));
    }
    if input.len() > max {
        return Err(DataError::new(kind, DataReason::TooLong { max }));
    }
    if !input.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(DataError::new(kind, DataReason::Field("characters")));
    }
    Ok(SecretString::from(input))
}

/// A Zoom OAuth access token (clauses 3.3, 3.7): a secret, readable only for
/// [`ConferenceCreation`](crate::ConferenceCreation).
pub struct ZoomAccessToken(SecretString);
data_kind!(ZoomAccessToken, ZoomAccessToken);

impl ZoomAccessToken {
    /// Validates a token: 1–4096 visible ASCII characters.
    ///
    /// # Errors
    /// [`DataReason::Empty`], [`DataReason::TooLong`] or [`DataReason::Field`].
    pub fn parse(input: &str) -> Result<Self, DataError> {
        token_text(Category::ZoomAccessToken.name(), input, 4096).map(Self)
    }
    /// The bearer token.
    #[must_use]
    pub fn as_str(&self) -> &str {
        self.0.expose_secret()
    }
    fn write(&self, w: &mut Writer) {
        w.str(self.as_str());
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DataError> {
        Self::parse(r.str()?)
    }
}

/// A contact imported from the subject's device (clause 3.5). Only its owner reads it.
pub struct DeviceContact {
    name: PersonName,
    phone: Option<Phone>,
    email: Option<Email>,
}
data_kind!(DeviceContact, DeviceContact);

impl DeviceContact {
    /// A contact from validated parts.
    #[must_use]
    pub const fn new(name: PersonName, phone: Option<Phone>, email: Option<Email>) -> Self {
        Self { name, phone, email }
    }
    /// The contact's name.
    #[must_use]
    pub const fn name(&self) -> &PersonName {
        &self.name
    }
    /// The contact's phone, if any.
    #[must_use]
    pub const fn phone(&self) -> Option<&Phone> {
        self.phone.as_ref()
    }
    /// The contact's email, if any.
    #[must_use]
    pub const fn email(&self) -> Option<&Email> {
        self.email.as_ref()
    }
    fn write(&self, w: &mut Writer) {
        self.name.write(w);
        w.opt_str(self.phone.as_ref().map(Phone::as_e164));
        w.opt_str(self.email.as_ref().map(Email::as_str));
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DataError> {
        let name = PersonName::read(r)?;
        let phone = r.opt_str()?.map(Phone::parse).transpose()?;
        let email = r.opt_str()?.map(Email::parse).transpose()?;
        Ok(Self { name, phone, email })
    }
}

/// What a cookie remembers (clause 3.6): the site language and drafts of form fields.
#[derive(Default)]
pub struct CookiePreference {
    language: Option<SecretString>,
    drafts: BTreeMap<String, SecretString>,
}
data_kind!(CookiePreference, CookiePreference);

impl CookiePreference {
    /// No preferences.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets the site language: a BCP 47 tag of letters, digits and `-`, 2–35 characters.
    ///
    /// # Errors
    /// [`DataReason::Field`] naming `language`.
    pub fn set_language(&mut self, tag: &str) -> Result<&mut Self, DataError> {
        let ok = (2..=35).contains(&tag.len())
            && tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !tag.starts_with('-');
        if !ok {
            return Err(DataError::new(
                Category::CookiePreference.name(),
                DataReason::Field("language"),
            ));
        }
        self.language = Some(SecretString::from(tag));
        Ok(self)
    }
    /// Remembers a draft of a form field (`field` as for [`CustomerRecord::set`]).
    ///
    /// # Errors
    /// [`DataReason::Field`] for a bad field name; free-text errors for the value.
    pub fn set_draft(&mut self, field: &str, value: &str) -> Result<&mut Self, DataError> {
        let kind = Category::CookiePreference.name();
        let ok = !field.is_empty()
            && field.len() <= 64
            && field
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !ok {
            return Err(DataError::new(kind, DataReason::Field("draft_name")));
        }
        self.drafts
            .insert(field.to_owned(), text(kind, value, 4096)?);
        Ok(self)
    }
    /// The site language.
    #[must_use]
    pub fn language(&self) -> Option<&str> {
        self.language.as_ref().map(ExposeSecret::expose_secret)
    }
    /// A form draft.
    #[must_use]
    pub fn draft(&self, field: &str) -> Option<&str> {
        self.drafts.get(field).map(ExposeSecret::expose_secret)
    }
    fn write(&self, w: &mut Writer) {
        w.opt_str(self.language());
        w.u32(u32::try_from(self.drafts.len()).unwrap_or(u32::MAX));
        for (k, v) in &self.drafts {
            w.str(k).str(v.expose_secret());
        }
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DataError> {
        let mut p = Self::new();
        if let Some(l) = r.opt_str()? {
            p.set_language(l)?;
        }
        for _ in 0..r.u32()? {
            let (k, v) = (r.str()?, r.str()?);
            p.set_draft(k, v)?;
        }
        Ok(p)
    }
}
