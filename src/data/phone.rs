//! Telephone numbers on Google libphonenumber's metadata, normalized to E.164.
//!
//! # Rules
//!
//! Parsing and the numbering-plan data come from the `phonenumber` crate, a Rust port of
//! libphonenumber that bundles its metadata (version pinned in `Cargo.toml`). There is no
//! hand-written table of country codes or lengths in this crate. `build.rs` extracts the
//! metadata from the crate at build time; this module builds its own database from it on first
//! use, which [`Phone::unload_metadata`](crate::Phone::unload_metadata) can free.
//!
//! 1. Surrounding ASCII white space is trimmed (the one trimming rule of every parser in this
//!    module, see `docs/validation.md`). An empty result is [`PhoneReason::Empty`]; more than
//!    [`MAX_INPUT_LEN`] bytes (libphonenumber's own input limit) is [`PhoneReason::TooLong`].
//! 2. Without a region hint only *international* input is accepted: a leading `+` (or an RFC 3966
//!    `tel:+…` URI). A national number, or one dialled with an international prefix such as
//!    `00` or `0011`, needs the region it was written in, given with
//!    [`PhoneOptions::region`]: international prefixes and trunk prefixes differ by country
//!    (`0011 44 …` from Australia, `(0)` in a British number written internationally).
//! 3. Plain input (digits of the common scripts and libphonenumber's separators, an optional
//!    `tel:`), nearly all real input, is read by following libphonenumber's `parse` steps on the
//!    crate's metadata: country code, the region's international prefix, the trunk prefix with
//!    libphonenumber's viability check and transform rules. Anything else (letters, RFC 3966
//!    parameters) is parsed by the `phonenumber` crate, and its result read again as E.164, so
//!    every accepted number re-parses to itself.
//! 4. A number with an extension is refused ([`PhoneReason::Extension`]): E.164 has no place
//!    for it, and dropping it silently would store a different number than the one given.
//! 5. The policy decides what is accepted: [`PhonePolicy::Valid`] (the default) requires the
//!    national significant number to lie in a range the metadata assigns to some number type,
//!    exactly as libphonenumber's `isValidNumber`; [`PhonePolicy::Possible`] only requires a
//!    length used by the numbering plan (libphonenumber's `isPossibleNumber`, except that
//!    *local-only* lengths such as a 7-digit North American number are refused, since they
//!    cannot be written in E.164).
//! 6. The stored form is E.164 exactly as libphonenumber formats it: `+`, the country calling
//!    code, the national significant number (trunk prefix removed, Italian leading zeros kept).
//!
//! Errors name the rule that failed and never contain the input.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use phonenumber::metadata::{Database, Descriptor, Metadata, loader};
use phonenumber::{ParseError, country};
use regex::Regex;

/// libphonenumber's metadata as `build.rs` extracted it from the `phonenumber` crate (the
/// crate's own loader format, postcard-encoded, checked to round-trip at build time).
static METADATA: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/phone-metadata.postcard"));

/// The phone database: libphonenumber's metadata and the anchored patterns compiled from it.
///
/// Built on first use and shared through an `Arc`, not held in a `static` of its own: the
/// `phonenumber` crate's own database is a static that can never be dropped, whose hash tables
/// memcheck reports as "possibly lost" at exit (issue 17). This one is dropped by
/// [`unload_metadata`] once no parse holds it; this module never touches the crate's static
/// (its `parse` is called as `parse_with` on this database).
struct Db {
    meta: Database,
    anchored: RwLock<HashMap<usize, Option<Regex>>>,
}

/// The loaded database, if any.
static LOADED: RwLock<Option<Arc<Db>>> = RwLock::new(None);

/// The database, loading it on first use (about 70 ms in a release build).
///
/// `None` only if the compiled-in metadata failed to load, which `build.rs` rules out by
/// loading the same bytes with the same code at build time (and `tests::metadata_loads`
/// checks again); callers then refuse the number (fail closed), they never guess.
fn db() -> Option<Arc<Db>> {
    if let Some(db) = LOADED
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .as_ref()
    {
        return Some(Arc::clone(db));
    }
    let mut slot = LOADED.write().unwrap_or_else(PoisonError::into_inner);
    if let Some(db) = slot.as_ref() {
        return Some(Arc::clone(db));
    }
    let entries: Vec<loader::Metadata> = postcard::from_bytes(METADATA).ok()?;
    let db = Arc::new(Db {
        meta: Database::from(entries).ok()?,
        anchored: RwLock::default(),
    });
    *slot = Some(Arc::clone(&db));
    Some(db)
}

/// Drops the loaded phone database (see [`Phone::unload_metadata`](crate::Phone::unload_metadata)).
/// Returns whether one was loaded.
pub(crate) fn unload_metadata() -> bool {
    LOADED
        .write()
        .unwrap_or_else(PoisonError::into_inner)
        .take()
        .is_some()
}

/// Maximum number of bytes (after trimming) that is inspected at all: libphonenumber's
/// `MAX_INPUT_STRING_LENGTH`.
pub(crate) const MAX_INPUT_LEN: usize = 250;

/// Why a phone number was rejected. Never contains (part of) the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PhoneReason {
    /// The input is empty or consists only of white space.
    #[error("phone number is empty")]
    Empty,
    /// The number is written without a country calling code and no region hint was given.
    #[error("phone number has no international prefix such as a plus sign")]
    MissingCountryCode,
    /// The input is not a phone number (too few digits, or characters that are not allowed).
    #[error("phone number contains a character that is not allowed")]
    InvalidCharacter,
    /// The country calling code is not assigned in the numbering-plan metadata.
    #[error("phone number has an unknown country calling code")]
    UnknownCountryCode,
    /// Shorter than any number of its numbering plan.
    #[error("phone number is too short")]
    TooShort,
    /// Longer than any number of its numbering plan, or an overly long input.
    #[error("phone number is too long")]
    TooLong,
    /// Between the shortest and the longest length of its numbering plan, but of a length the
    /// plan does not use.
    #[error("phone number has a length its numbering plan does not use")]
    InvalidLength,
    /// Of a possible length, but not in a range the numbering plan assigns.
    #[error("phone number is not in an assigned range of its numbering plan")]
    NotAssigned,
    /// The input carries an extension, which E.164 cannot hold.
    #[error("phone number has an extension")]
    Extension,
    /// The national number still starts with a trunk prefix after the country code (written
    /// twice, as in `+49 00 …`), so it would read as a different number once stored.
    #[error("phone number has a trunk prefix after the country code")]
    TrunkPrefix,
    /// The region hint is not an ISO 3166-1 alpha-2 code that the metadata knows.
    #[error("region hint is not a known region code")]
    UnknownRegion,
}

/// What the host accepts as a phone number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum PhonePolicy {
    /// In an assigned range of its numbering plan (libphonenumber `isValidNumber`).
    #[default]
    Valid,
    /// Of a length its numbering plan uses (libphonenumber `isPossibleNumber`, without
    /// local-only lengths).
    Possible,
}

/// The kind of line a number belongs to, as far as the numbering plan tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PhoneType {
    /// A fixed (landline) number.
    FixedLine,
    /// A mobile number.
    Mobile,
    /// The plan does not distinguish fixed and mobile numbers (for example, country code 1).
    FixedLineOrMobile,
    /// Freephone.
    TollFree,
    /// Premium rate.
    PremiumRate,
    /// Shared cost.
    SharedCost,
    /// Voice over IP.
    Voip,
    /// A personal number, routed to another line.
    PersonalNumber,
    /// A pager.
    Pager,
    /// A universal access ("company") number.
    Uan,
    /// A voicemail access number.
    Voicemail,
    /// Not known: the number was accepted under [`PhonePolicy::Possible`] and matches no range,
    /// or was read back from storage after the metadata changed.
    Unknown,
}

impl PhoneType {
    /// Lowercase `snake_case` name, for logs and FFI.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::FixedLine => "fixed_line",
            Self::Mobile => "mobile",
            Self::FixedLineOrMobile => "fixed_line_or_mobile",
            Self::TollFree => "toll_free",
            Self::PremiumRate => "premium_rate",
            Self::SharedCost => "shared_cost",
            Self::Voip => "voip",
            Self::PersonalNumber => "personal_number",
            Self::Pager => "pager",
            Self::Uan => "uan",
            Self::Voicemail => "voicemail",
            Self::Unknown => "unknown",
        }
    }
}

/// How [`Phone::parse_with`](crate::Phone::parse_with) reads a number: an optional region hint
/// for national input and the [`PhonePolicy`].
///
/// Start from [`Phone::options`](crate::Phone::options) or [`PhoneOptions::new`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PhoneOptions {
    region: Option<country::Id>,
    policy: PhonePolicy,
}

impl PhoneOptions {
    /// International input only, [`PhonePolicy::Valid`].
    #[must_use]
    pub const fn new() -> Self {
        Self {
            region: None,
            policy: PhonePolicy::Valid,
        }
    }

    /// The region the number was written in (ISO 3166-1 alpha-2, any letter case), used to
    /// read national numbers and that region's international prefix. International input
    /// (`+…`) is read the same with or without it.
    ///
    /// # Errors
    /// [`PhoneReason::UnknownRegion`] when the code is not a region of the metadata.
    pub fn region(mut self, region: &str) -> Result<Self, PhoneReason> {
        self.region = Some(region_id(region).ok_or(PhoneReason::UnknownRegion)?);
        Ok(self)
    }

    /// The policy (default [`PhonePolicy::Valid`]).
    #[must_use]
    pub const fn policy(mut self, policy: PhonePolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Shorthand for `policy(PhonePolicy::Possible)`.
    #[must_use]
    pub const fn possible(self) -> Self {
        self.policy(PhonePolicy::Possible)
    }
}

fn region_id(region: &str) -> Option<country::Id> {
    let b = region.as_bytes();
    let [a, c] = b else { return None };
    if !a.is_ascii_alphabetic() || !c.is_ascii_alphabetic() {
        return None;
    }
    let up = [a.to_ascii_uppercase(), c.to_ascii_uppercase()];
    let id: country::Id = core::str::from_utf8(&up).ok()?.parse().ok()?;
    db()?.meta.by_id(id.as_ref()).map(|_| id)
}

/// A parsed number.
#[derive(Debug)]
pub(crate) struct Parsed {
    pub(crate) e164: String,
    pub(crate) country_code: u16,
    pub(crate) number_type: PhoneType,
}

/// Parses and checks `input` (see the [module documentation](self)).
pub(crate) fn normalize_phone(input: &str, opts: &PhoneOptions) -> Result<Parsed, PhoneReason> {
    let trimmed = super::trim_input(input);
    if trimmed.is_empty() {
        return Err(PhoneReason::Empty);
    }
    if trimmed.len() > MAX_INPUT_LEN {
        return Err(PhoneReason::TooLong);
    }
    // libphonenumber's viability check wants at least two digits (`VALID_PHONE_NUMBER`); input
    // with fewer numeric characters of any script ("not a phone", "+", "tel:") is refused here,
    // as the crate's parser would, without initialising that parser's static tables.
    if trimmed.chars().filter(|c| c.is_numeric()).take(2).count() < 2 {
        return Err(PhoneReason::InvalidCharacter);
    }
    let db = &*db().ok_or(PhoneReason::UnknownCountryCode)?;
    if let Some(plain) = parse_plain(db, trimmed, opts.region) {
        let (code, nsn) = plain?;
        stable(db, code, &nsn)?;
        return check(db, code, nsn, opts.policy);
    }
    #[cfg(test)]
    tests::CRATE_PARSES.with(|n| n.set(n.get() + 1));
    let number = phonenumber::parse_with(&db.meta, opts.region, trimmed).map_err(|e| match e {
        ParseError::InvalidCountryCode
            if opts.region.is_none() && !trimmed.contains(['+', '\u{FF0B}']) =>
        {
            PhoneReason::MissingCountryCode
        }
        ParseError::InvalidCountryCode => PhoneReason::UnknownCountryCode,
        ParseError::TooShortAfterIdd | ParseError::TooShortNsn => PhoneReason::TooShort,
        ParseError::TooLong => PhoneReason::TooLong,
        _ => PhoneReason::InvalidCharacter,
    })?;
    if number.extension().is_some() {
        return Err(PhoneReason::Extension);
    }
    // The crate and libphonenumber differ on trunk prefixes: read its result once more as
    // plain E.164, the way a later lookup of the stored number will read it.
    let (code, nsn) = match parse_plain(
        db,
        &format!("+{}{}", number.code().value(), number.national()),
        None,
    ) {
        Some(Ok(read)) => read,
        _ => (number.code().value(), number.national().to_string()),
    };
    stable(db, code, &nsn)?;
    check(db, code, nsn, opts.policy)
}

/// Refuses a result that would read differently as E.164: the stored form and a later lookup
/// must agree, so every accepted number re-parses to itself. This happens when the national
/// number still starts with a trunk prefix (`+49 00 …`, `+43 00 …`): libphonenumber strips one
/// per reading, and gives a different number on each.
fn stable(db: &Db, code: u16, nsn: &str) -> Result<(), PhoneReason> {
    match parse_plain(db, &format!("+{code}{nsn}"), None) {
        Some(Ok((c, n))) if c != code || n != nsn => Err(PhoneReason::TrunkPrefix),
        _ => Ok(()),
    }
}

/// libphonenumber's `parse` for *plain* input (an optional `tel:` and leading `+`, decimal
/// digits and libphonenumber's separators), which is nearly all real input; `None` for
/// anything else, which the `phonenumber` crate parses.
///
/// The crate differs from libphonenumber on plain input in ways that matter here: it strips a
/// trunk prefix only when it can tell the region from the number and without libphonenumber's
/// "is the rest still viable" check (`+1 (1) 268 …`, `+7 800 …`, `+43 00…` come out
/// differently), and it fails on some international prefixes (`810` from Russia). This
/// follows libphonenumber's `maybeExtractCountryCode` and `maybeStripNationalPrefixAndCarrierCode`
/// step by step, on the crate's metadata.
fn parse_plain(
    db: &Db,
    trimmed: &str,
    region: Option<country::Id>,
) -> Option<Result<(u16, String), PhoneReason>> {
    // libphonenumber `extractPossibleNumber` drops whatever precedes the first digit or plus
    // sign; separators of the plain grammar there (a no-break or ideographic space pasted
    // before the number) are dropped here, so such input stays on this path.
    let trimmed =
        trimmed.trim_start_matches(|c: char| is_separator(c) && !matches!(c, '(' | '\u{FF08}'));
    // An RFC 3966 URI without parameters is the same number.
    let trimmed = match trimmed.strip_prefix("tel:") {
        Some(uri) if !uri.contains(';') && uri.starts_with('+') => uri,
        _ => trimmed,
    };
    let (plus, rest) = match trimmed.strip_prefix(['+', '\u{FF0B}']) {
        Some(rest) => (true, rest),
        None => (false, trimmed),
    };
    if !rest.starts_with(|c: char| digit(c).is_some() || c == '(' || c == '\u{FF08}')
        || !rest.chars().all(|c| digit(c).is_some() || is_separator(c))
    {
        return None;
    }
    let digits: String = rest.chars().filter_map(digit).collect();
    if digits.len() < 3 {
        return Some(Err(PhoneReason::InvalidCharacter));
    }
    let default = region.and_then(|r| db.meta.by_id(r.as_ref()));
    let after_prefix = if plus {
        Some(digits.as_str())
    } else {
        default
            .and_then(Metadata::international_prefix)
            .and_then(|idd| idd.find(&digits).filter(|m| m.start() == 0))
            .and_then(|m| digits.get(m.end()..))
            .filter(|after| !after.starts_with('0'))
    };
    let (code, national, meta) = if let Some(full) = after_prefix {
        if full.len() <= 2 {
            return Some(Err(PhoneReason::TooShort));
        }
        let Some((code, national)) = extract_country_code(db, full) else {
            return Some(Err(PhoneReason::UnknownCountryCode));
        };
        (code, national.to_owned(), main_metadata(db, code))
    } else {
        let Some(meta) = default else {
            return Some(Err(PhoneReason::MissingCountryCode));
        };
        let code = meta.country_code();
        // The country code written without a prefix, as in `44 20 7946 0958` with hint GB.
        let national = match digits.strip_prefix(code.to_string().as_str()) {
            Some(without) => {
                let general = Some(meta.descriptors().general());
                let stripped = strip_national_prefix(db, meta, without);
                let code_written = (!matches(db, general, &digits)
                    && matches(db, general, &stripped))
                    || possible_length(meta, digits.len()) == Err(PhoneReason::TooLong);
                if code_written { stripped } else { digits }
            }
            None => digits,
        };
        (code, national, Some(meta))
    };
    if national.len() < 2 {
        return Some(Err(PhoneReason::TooShort));
    }
    let nsn = match meta {
        Some(meta) => {
            let stripped = strip_national_prefix(db, meta, &national);
            match possible_length(meta, stripped.len()) {
                Ok(()) | Err(PhoneReason::TooLong) => stripped,
                Err(_) => national,
            }
        }
        None => national,
    };
    Some(Ok((code, nsn)))
}

/// The value of a decimal digit of the scripts libphonenumber reads (ASCII, fullwidth,
/// Arabic-Indic, Eastern Arabic-Indic, and the other Unicode `Nd` blocks of ten in common use).
fn digit(c: char) -> Option<char> {
    const ZEROS: &[u32] = &[
        0x30, 0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66,
        0xE50, 0xED0, 0xF20, 0x1040, 0x17E0, 0x1810, 0xFF10,
    ];
    let cp = u32::from(c);
    ZEROS
        .iter()
        .find(|&&z| (z..z + 10).contains(&cp))
        .and_then(|&z| char::from_digit(cp - z, 10))
}

/// libphonenumber's punctuation between digits (`VALID_PUNCTUATION`, less `x`, the tilde forms
/// and `*`, which plain input does not use).
fn is_separator(c: char) -> bool {
    matches!(
        c,
        ' ' | '-'
            | '.'
            | '('
            | ')'
            | '/'
            | '['
            | ']'
            | '\u{A0}'
            | '\u{AD}'
            | '\u{200B}'
            | '\u{2060}'
            | '\u{3000}'
            | '\u{2010}'..='\u{2015}'
            | '\u{2212}'
            | '\u{30FC}'
            | '\u{FF0D}'..='\u{FF0F}'
            | '\u{FF08}'
            | '\u{FF09}'
            | '\u{FF3B}'
            | '\u{FF3D}'
    )
}

/// libphonenumber `extractCountryCode`: the first 1–3 digits that are an assigned calling
/// code (no code starts with 0).
fn extract_country_code<'s>(db: &Db, full: &'s str) -> Option<(u16, &'s str)> {
    if full.starts_with('0') {
        return None;
    }
    (1..=3).find_map(|len| {
        let code: u16 = full.get(..len)?.parse().ok()?;
        db.meta.region(&code)?;
        Some((code, full.get(len..)?))
    })
}

/// libphonenumber `maybeStripNationalPrefixAndCarrierCode`, without prefix transform rules
/// (a region with one keeps the number as given).
fn strip_national_prefix(db: &Db, meta: &Metadata, national: &str) -> String {
    let keep = national.to_owned();
    let stripped = match meta.national_prefix_for_parsing() {
        Some(re) => {
            let Some(caps) = re.captures(national) else {
                return keep;
            };
            let Some(whole) = caps.get(0).filter(|m| m.start() == 0) else {
                return keep;
            };
            let rest = national.get(whole.end()..).unwrap_or_default();
            let last = caps.len().checked_sub(1).and_then(|i| caps.get(i));
            match meta.national_prefix_transform_rule() {
                // A transform rule rewrites the prefix instead ("0343 15 555" to "9 343 555").
                Some(rule) if !rule.is_empty() && caps.len() > 1 && last.is_some() => {
                    let mut out = String::new();
                    let mut chars = rule.chars().peekable();
                    while let Some(c) = chars.next() {
                        match (c, chars.peek().and_then(|d| d.to_digit(10))) {
                            ('$', Some(n)) => {
                                chars.next();
                                let group = usize::try_from(n).ok().and_then(|n| caps.get(n));
                                out.push_str(group.map_or("", |g| g.as_str()));
                            }
                            _ => out.push(c),
                        }
                    }
                    out.push_str(rest);
                    out
                }
                _ => rest.to_owned(),
            }
        }
        None => match meta
            .national_prefix()
            .and_then(|p| national.strip_prefix(p))
        {
            Some(rest) => rest.to_owned(),
            None => return keep,
        },
    };
    let general = Some(meta.descriptors().general());
    if matches(db, general, national) && !matches(db, general, &stripped) {
        return keep;
    }
    stripped
}

/// Reads back a number written by `encode`: E.164, checked for form but not against the
/// policy, so that a metadata update never makes stored personal data unreadable.
pub(crate) fn stored_phone(e164: &str) -> Result<Parsed, PhoneReason> {
    let digits = e164
        .strip_prefix('+')
        .ok_or(PhoneReason::MissingCountryCode)?;
    if digits.len() > 17 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PhoneReason::InvalidCharacter);
    }
    let db = &*db().ok_or(PhoneReason::UnknownCountryCode)?;
    let (code, nsn) = extract_country_code(db, digits).ok_or(PhoneReason::UnknownCountryCode)?;
    if nsn.len() < 2 {
        return Err(PhoneReason::TooShort);
    }
    Ok(Parsed {
        number_type: metadata_for(db, code, nsn)
            .map_or(PhoneType::Unknown, |m| number_type(db, m, nsn)),
        e164: e164.to_owned(),
        country_code: code,
    })
}

fn check(db: &Db, code: u16, nsn: String, policy: PhonePolicy) -> Result<Parsed, PhoneReason> {
    // libphonenumber's bounds on a national significant number.
    if nsn.len() < 2 {
        return Err(PhoneReason::TooShort);
    }
    // E.164 §6.1: at most 15 digits with the country code. libphonenumber's metadata lists
    // some longer domestic-only numbers (toll-free ranges in Japan, for example); those have no
    // E.164 form.
    let code_digits = code.to_string().len();
    if nsn.len() > 17 || code_digits + nsn.len() > 15 {
        return Err(PhoneReason::TooLong);
    }
    let main = main_metadata(db, code).ok_or(PhoneReason::UnknownCountryCode)?;
    let number_type =
        metadata_for(db, code, &nsn).map_or(PhoneType::Unknown, |m| number_type(db, m, &nsn));
    match policy {
        // libphonenumber `isValidNumber`: a range of some type, whose lengths it checks.
        PhonePolicy::Valid if number_type == PhoneType::Unknown => {
            possible_length(main, nsn.len())?;
            return Err(PhoneReason::NotAssigned);
        }
        PhonePolicy::Valid => {}
        PhonePolicy::Possible => possible_length(main, nsn.len())?,
    }
    Ok(Parsed {
        e164: format!("+{code}{nsn}"),
        country_code: code,
        number_type,
    })
}

/// The descriptors of every number type, whose lengths make up the plan's possible lengths
/// (libphonenumber derives the general description's lengths the same way).
fn type_descriptors(meta: &Metadata) -> [Option<&Descriptor>; 10] {
    let d = meta.descriptors();
    [
        d.fixed_line(),
        d.mobile(),
        d.toll_free(),
        d.premium_rate(),
        d.shared_cost(),
        d.personal_number(),
        d.voip(),
        d.pager(),
        d.uan(),
        d.voicemail(),
    ]
}

/// libphonenumber `testNumberLength` for the unknown type; local-only lengths are refused.
fn possible_length(meta: &Metadata, len: usize) -> Result<(), PhoneReason> {
    let len = u16::try_from(len).map_err(|_| PhoneReason::TooLong)?;
    let descs = type_descriptors(meta);
    let lengths = || {
        descs
            .iter()
            .flatten()
            .flat_map(|d| d.possible_length().iter().copied())
    };
    let (Some(min), Some(max)) = (lengths().min(), lengths().max()) else {
        return Err(PhoneReason::InvalidLength);
    };
    // As libphonenumber builds its general description: local-only lengths of any type, less
    // the lengths some type uses nationally.
    let local_only = descs
        .iter()
        .flatten()
        .any(|d| d.possible_local_length().contains(&len))
        && !lengths().any(|l| l == len);
    if local_only || len < min {
        Err(PhoneReason::TooShort)
    } else if len > max {
        Err(PhoneReason::TooLong)
    } else if lengths().any(|l| l == len) {
        Ok(())
    } else {
        Err(PhoneReason::InvalidLength)
    }
}

/// The metadata of the main region of a calling code (libphonenumber
/// `getRegionCodeForCountryCode`; the first region listed for the code).
fn main_metadata(db: &Db, code: u16) -> Option<&Metadata> {
    match db.meta.region(&code)?.first() {
        Some(&"001") => db.meta.by_code(&code)?.into_iter().next(),
        Some(region) => db.meta.by_id(*region),
        None => None,
    }
}

/// The region metadata a number belongs to (libphonenumber `getRegionCodeForNumber`).
fn metadata_for<'d>(db: &'d Db, code: u16, nsn: &str) -> Option<&'d Metadata> {
    let regions = db.meta.region(&code)?;
    if let [only] = regions.as_slice() {
        return if *only == "001" {
            db.meta.by_code(&code)?.into_iter().next()
        } else {
            db.meta.by_id(*only)
        };
    }
    regions
        .into_iter()
        .filter_map(|r| db.meta.by_id(r))
        .find(|meta| match meta.leading_digits() {
            Some(lead) => lead.find(nsn).is_some_and(|m| m.start() == 0),
            None => number_type(db, meta, nsn) != PhoneType::Unknown,
        })
}

/// libphonenumber `getNumberTypeHelper`, with whole-string pattern matches.
fn number_type(db: &Db, meta: &Metadata, nsn: &str) -> PhoneType {
    let d = meta.descriptors();
    if !matches(db, Some(d.general()), nsn) {
        return PhoneType::Unknown;
    }
    let ordered = [
        (d.premium_rate(), PhoneType::PremiumRate),
        (d.toll_free(), PhoneType::TollFree),
        (d.shared_cost(), PhoneType::SharedCost),
        (d.voip(), PhoneType::Voip),
        (d.personal_number(), PhoneType::PersonalNumber),
        (d.pager(), PhoneType::Pager),
        (d.uan(), PhoneType::Uan),
        (d.voicemail(), PhoneType::Voicemail),
    ];
    if let Some((_, t)) = ordered.iter().find(|(desc, _)| matches(db, *desc, nsn)) {
        return *t;
    }
    let same = match (d.fixed_line(), d.mobile()) {
        (Some(f), Some(m)) => f.national_number().as_str() == m.national_number().as_str(),
        _ => false,
    };
    if matches(db, d.fixed_line(), nsn) {
        if same || matches(db, d.mobile(), nsn) {
            return PhoneType::FixedLineOrMobile;
        }
        return PhoneType::FixedLine;
    }
    if !same && matches(db, d.mobile(), nsn) {
        return PhoneType::Mobile;
    }
    PhoneType::Unknown
}

/// libphonenumber `isNumberMatchingDesc`: a listed length and a match of the *whole* number.
///
/// The `phonenumber` crate's own matcher accepts a match of a prefix of the number, so the
/// patterns are compiled again, anchored, once each (keyed by the address of the pattern in
/// the database they are cached beside).
fn matches(db: &Db, desc: Option<&Descriptor>, nsn: &str) -> bool {
    let Some(desc) = desc else { return false };
    let lengths = desc.possible_length();
    if !lengths.is_empty() && !lengths.iter().any(|&l| usize::from(l) == nsn.len()) {
        return false;
    }
    let pattern = desc.national_number();
    let key = core::ptr::from_ref(pattern) as usize;
    let cache = &db.anchored;
    {
        let read = cache.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(re) = read.get(&key) {
            return re.as_ref().is_some_and(|re| re.is_match(nsn));
        }
    }
    let re = Regex::new(&format!("^(?x:{})$", pattern.as_str())).ok();
    let hit = re.as_ref().is_some_and(|re| re.is_match(nsn));
    cache
        .write()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(key, re);
    hit
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ALL_REASONS: &[PhoneReason] = &[
        PhoneReason::Empty,
        PhoneReason::MissingCountryCode,
        PhoneReason::InvalidCharacter,
        PhoneReason::UnknownCountryCode,
        PhoneReason::TooShort,
        PhoneReason::TooLong,
        PhoneReason::InvalidLength,
        PhoneReason::NotAssigned,
        PhoneReason::Extension,
        PhoneReason::UnknownRegion,
        PhoneReason::TrunkPrefix,
    ];

    /// The compiled-in metadata loads, holds every calling code the `phonenumber` crate's own
    /// database holds, with the same regions in the same order, and unloading it changes no
    /// result.
    #[test]
    fn metadata_loads() {
        let db = db().expect("the compiled-in metadata loads");
        let mut codes = 0;
        for code in 1..=999_u16 {
            let ours = db.meta.region(&code);
            let crate_own = phonenumber::metadata::DATABASE.region(&code);
            assert_eq!(ours, crate_own, "regions of +{code}");
            codes += usize::from(ours.is_some());
        }
        assert!(codes > 200, "{codes} calling codes");
        drop(db);
        let before = intl("+44 20 7946 0958");
        unload_metadata();
        assert_eq!(intl("+44 20 7946 0958"), before);
    }

    thread_local! {
        /// How often this thread handed input to the `phonenumber` crate's parser.
        pub(super) static CRATE_PARSES: core::cell::Cell<usize> = const { core::cell::Cell::new(0) };
    }

    /// Real-world forms of a number are read on this module's own path, never by the
    /// `phonenumber` crate's parser, whose static tables a C program's memcheck run would
    /// report at exit (issue 17, docs/ffi.md "valgrind").
    #[test]
    fn plain_forms_stay_off_the_crate_parser() {
        let db = db().expect("metadata");
        let before = CRATE_PARSES.with(core::cell::Cell::get);
        for input in [
            "+44 20 7946 0958",
            "\u{a0}+44 20 7946 0958",
            "\u{3000}+44 20 7946 0958",
            "tel:+44-20-7946-0958",
            "+44 (0) 20 7946 0958",
            "+44 [20] 7946 0958",
            "+44\u{2013}20\u{2013}7946\u{2013}0958",
            "\u{FF0B}\u{FF14}\u{FF14} \u{FF12}\u{FF10} 7946 0958",
            "+\u{664}\u{664} \u{662}\u{660} 7946 0958",
            "(020) 7946 0958",
            "020 7946 0958",
        ] {
            assert!(parse_plain(&db, input, None).is_some(), "{input:?}");
            let _ = normalize_phone(input, &PhoneOptions::new());
        }
        // Input with fewer than two digits is refused before any parser runs.
        for input in ["not a phone", "+", "++++", "tel:", "+1", "tel:+", "x"] {
            assert_eq!(
                normalize_phone(input, &PhoneOptions::new()).map(|p| p.e164),
                Err(PhoneReason::InvalidCharacter),
                "{input:?}"
            );
        }
        assert_eq!(CRATE_PARSES.with(core::cell::Cell::get), before);
        // The counter counts: input with letters does go to the crate's parser.
        let _ = normalize_phone("+1 800 FLOWERS", &PhoneOptions::new());
        assert_eq!(CRATE_PARSES.with(core::cell::Cell::get), before + 1);
    }

    fn intl(input: &str) -> Result<(String, u16), PhoneReason> {
        normalize_phone(input, &PhoneOptions::new()).map(|p| (p.e164, p.country_code))
    }

    fn with(region: &str, input: &str) -> Result<String, PhoneReason> {
        normalize_phone(input, &PhoneOptions::new().region(region).unwrap()).map(|p| p.e164)
    }

    #[test]
    fn valid_cases() {
        let cases: &[(&str, &str, u16)] = &[
            ("+1 (415) 555-2671", "+14155552671", 1),
            ("+44 (0)20 7946 0958", "+442079460958", 44),
            ("+44 20 7946 0958", "+442079460958", 44),
            ("  +49 30 1234567\t", "+49301234567", 49),
            ("+41 44 668 18 00", "+41446681800", 41),
            ("+39 06 4991 0000", "+390649910000", 39),
            ("tel:+41-44-668-18-00", "+41446681800", 41),
            // Not trimmed (ASCII only), but a separator in libphonenumber's grammar.
            ("\u{a0}+41\u{a0}44 668 18 00", "+41446681800", 41),
            ("+800 1234 5678", "+80012345678", 800),
        ];
        for (input, expected, code) in cases {
            assert_eq!(
                intl(input),
                Ok(((*expected).to_owned(), *code)),
                "input {input:?}"
            );
        }
    }

    #[test]
    fn region_hints() {
        assert_eq!(with("GB", "020 7946 0958").unwrap(), "+442079460958");
        assert_eq!(with("gb", "0044 20 7946 0958").unwrap(), "+442079460958");
        assert_eq!(with("AU", "0011 44 20 7946 0958").unwrap(), "+442079460958");
        assert_eq!(with("US", "(415) 555-2671").unwrap(), "+14155552671");
        assert_eq!(with("CH", "044 668 18 00").unwrap(), "+41446681800");
        // International input ignores the hint.
        assert_eq!(with("FR", "+41 44 668 18 00").unwrap(), "+41446681800");
        for bad in ["", "G", "GBR", "XX", "ZZ", "1A", "G\u{e9}"] {
            assert_eq!(
                PhoneOptions::new().region(bad),
                Err(PhoneReason::UnknownRegion),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn policy_and_type() {
        let possible = PhoneOptions::new().possible();
        // 9 digits after +1: a length the plan does not use.
        assert_eq!(intl("+1670234567"), Err(PhoneReason::TooShort));
        // +1 555 01xx: possible length, but not assigned.
        assert_eq!(intl("+1 202 555 0100").map(|_| ()), Ok(()));
        assert_eq!(intl("+1 999 555 0100"), Err(PhoneReason::NotAssigned));
        let p = normalize_phone("+1 999 555 0100", &possible).unwrap();
        assert_eq!(p.e164, "+19995550100");
        assert_eq!(p.number_type, PhoneType::Unknown);
        let uk_mobile = normalize_phone("+44 7400 123456", &PhoneOptions::new()).unwrap();
        assert_eq!(uk_mobile.number_type, PhoneType::Mobile);
        let uk_fixed = normalize_phone("+44 20 7946 0958", &PhoneOptions::new()).unwrap();
        assert_eq!(uk_fixed.number_type, PhoneType::FixedLine);
        let it_fixed = normalize_phone("+39 06 4991 0000", &PhoneOptions::new()).unwrap();
        assert_eq!(it_fixed.number_type, PhoneType::FixedLine);
        let us = normalize_phone("+1 415 555 2671", &PhoneOptions::new()).unwrap();
        assert_eq!(us.number_type, PhoneType::FixedLineOrMobile);
        // Local-only length (7 digits in zone 1) is refused even under Possible.
        assert_eq!(
            normalize_phone("+1 555 2671", &possible).map(|p| p.e164),
            Err(PhoneReason::TooShort)
        );
    }

    #[test]
    fn invalid_cases() {
        use PhoneReason as R;
        let huge = "+1".to_owned() + &"-".repeat(MAX_INPUT_LEN);
        let cases: &[(&str, PhoneReason)] = &[
            ("", R::Empty),
            (" \t\n", R::Empty),
            ("415-555-0100", R::MissingCountryCode),
            ("0044 20 7946 0958", R::MissingCountryCode),
            ("call me", R::InvalidCharacter),
            ("+44 20 7946 0958 ext. 12", R::Extension),
            ("+2812345678", R::UnknownCountryCode),
            ("+999 123 456 789", R::UnknownCountryCode),
            ("+1234567890123456789", R::TooLong),
            (&huge, R::TooLong),
            // A one-digit typo in a real number.
            ("+44 20 7946 09589", R::TooLong),
            ("+65432106283", R::InvalidLength),
            // Valid for libphonenumber (a German range), but 17 digits: no E.164 form.
            ("+49770897468103586", R::TooLong),
            // A trunk prefix left after the country code reads differently once stored.
            ("+43 00123456", R::TrunkPrefix),
        ];
        for (input, expected) in cases {
            assert_eq!(intl(input), Err(*expected), "input {input:?}");
        }
    }

    #[test]
    fn stored_numbers_read_back_without_the_policy() {
        let p = stored_phone("+19995550100").unwrap();
        assert_eq!(p.e164, "+19995550100");
        assert_eq!(p.number_type, PhoneType::Unknown);
        assert!(stored_phone("19995550100").is_err());
        assert!(stored_phone("+1 999 555 0100 ext 3").is_err());
    }

    #[test]
    fn messages_are_lowercase_single_line_without_period() {
        for reason in ALL_REASONS {
            let msg = reason.to_string();
            assert!(!msg.is_empty());
            assert!(!msg.ends_with('.'), "{msg}");
            assert!(!msg.contains('\n'), "{msg}");
            assert_eq!(msg, msg.to_lowercase(), "{msg}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        #[test]
        fn never_panics_and_errors_never_echo_input(input in any::<String>()) {
            if let Err(e) = intl(&input) {
                let msg = e.to_string();
                prop_assert!(ALL_REASONS.iter().any(|r| r.to_string() == msg));
                if input.chars().count() >= 3 {
                    prop_assert!(!msg.contains(&input));
                }
            }
        }

        #[test]
        fn accepted_numbers_reparse_to_themselves(
            input in "(tel:)?\\+?[0-9A-Za-z ().;=\u{2011}\u{ff10}-\u{ff19}-]{3,25}",
        ) {
            for opts in [PhoneOptions::new(), PhoneOptions::new().region("US").unwrap()] {
                if let Ok(p) = normalize_phone(&input, &opts) {
                    let again = normalize_phone(&p.e164, &PhoneOptions::new()).unwrap();
                    prop_assert_eq!(&again.e164, &p.e164);
                }
            }
        }

        #[test]
        fn idempotent_on_phone_like(
            region in prop::sample::select(&["US", "GB", "DE", "FR", "IN", "BR", "AU", "JP"][..]),
            input in "\\+?[0-9 ().-]{4,20}",
        ) {
            let opts = PhoneOptions::new().region(region).unwrap().possible();
            if let Ok(p) = normalize_phone(&input, &opts) {
                prop_assert!(p.e164.starts_with('+'));
                prop_assert!(p.e164.len() <= 16, "{}", p.e164);
                let again = normalize_phone(&p.e164, &PhoneOptions::new().possible()).unwrap();
                prop_assert_eq!(&again.e164, &p.e164);
                prop_assert_eq!(stored_phone(&p.e164).unwrap().e164, p.e164);
            }
        }
    }
}
