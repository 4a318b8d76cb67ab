//! Telephone numbers on Google libphonenumber's metadata, normalized to E.164.
//!
//! # Rules
//!
//! Parsing and the numbering-plan data come from the `phonenumber` crate, a Rust port of
//! libphonenumber that bundles its metadata (version pinned in `Cargo.toml`). There is no
//! hand-written table of country codes or lengths in this crate.
//!
//! 1. Surrounding ASCII white space is trimmed (the one trimming rule of every parser in this
//!    module, see `docs/validation.md`). An empty result is [`PhoneReason::Empty`]; more than
//!    [`MAX_INPUT_LEN`] bytes (libphonenumber's own input limit) is [`PhoneReason::TooLong`].
//! 2. Without a region hint only *international* input is accepted: a leading `+` (or an RFC 3966
//!    `tel:+…` URI). A national number, or one dialled with an international prefix such as
//!    `00` or `0011`, needs the region it was written in, given with
//!    [`PhoneOptions::region`]: international prefixes and trunk prefixes differ by country
//!    (`0011 44 …` from Australia, `(0)` in a British number written internationally).
//! 3. libphonenumber parses the number: it accepts its usual separators and digits of other
//!    scripts, strips the international and national (trunk) prefixes and finds the country
//!    calling code.
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
use std::sync::{OnceLock, PoisonError, RwLock};

use phonenumber::metadata::{DATABASE, Descriptor, Metadata};
use phonenumber::{ParseError, PhoneNumber, country};
use regex::Regex;

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
    DATABASE.by_id(id.as_ref()).map(|_| id)
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
    let trimmed = super::kinds::trim_input(input);
    if trimmed.is_empty() {
        return Err(PhoneReason::Empty);
    }
    if trimmed.len() > MAX_INPUT_LEN {
        return Err(PhoneReason::TooLong);
    }
    let number = phonenumber::parse(opts.region, trimmed).map_err(|e| match e {
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
    check(&number, opts.policy)
}

/// Reads back a number written by `encode`: E.164, checked for form but not against the
/// policy, so that a metadata update never makes stored personal data unreadable.
pub(crate) fn stored_phone(e164: &str) -> Result<Parsed, PhoneReason> {
    if !e164.starts_with('+') || e164.len() > 18 {
        return Err(PhoneReason::InvalidCharacter);
    }
    let number = phonenumber::parse(None, e164).map_err(|_| PhoneReason::InvalidCharacter)?;
    if number.extension().is_some() {
        return Err(PhoneReason::Extension);
    }
    let code = number.code().value();
    let nsn = number.national().to_string();
    Ok(Parsed {
        number_type: metadata_for(code, &nsn).map_or(PhoneType::Unknown, |m| number_type(m, &nsn)),
        e164: format!("+{code}{nsn}"),
        country_code: code,
    })
}

fn check(number: &PhoneNumber, policy: PhonePolicy) -> Result<Parsed, PhoneReason> {
    let code = number.code().value();
    let nsn = number.national().to_string();
    let main = main_metadata(code).ok_or(PhoneReason::UnknownCountryCode)?;
    // Length first: it gives the more precise reason, and libphonenumber checks it first too.
    possible_length(main, nsn.len())?;
    let number_type = metadata_for(code, &nsn).map_or(PhoneType::Unknown, |m| number_type(m, &nsn));
    if policy == PhonePolicy::Valid && number_type == PhoneType::Unknown {
        return Err(PhoneReason::NotAssigned);
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
    let local_only = [meta.descriptors().fixed_line(), meta.descriptors().mobile()]
        .into_iter()
        .flatten()
        .any(|d| d.possible_local_length().contains(&len));
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
fn main_metadata(code: u16) -> Option<&'static Metadata> {
    match DATABASE.region(&code)?.first() {
        Some(&"001") => DATABASE.by_code(&code)?.into_iter().next(),
        Some(region) => DATABASE.by_id(*region),
        None => None,
    }
}

/// The region metadata a number belongs to (libphonenumber `getRegionCodeForNumber`).
fn metadata_for(code: u16, nsn: &str) -> Option<&'static Metadata> {
    let regions = DATABASE.region(&code)?;
    if let [only] = regions.as_slice() {
        return if *only == "001" {
            DATABASE.by_code(&code)?.into_iter().next()
        } else {
            DATABASE.by_id(*only)
        };
    }
    regions
        .into_iter()
        .filter_map(|r| DATABASE.by_id(r))
        .find(|meta| match meta.leading_digits() {
            Some(lead) => lead.find(nsn).is_some_and(|m| m.start() == 0),
            None => number_type(meta, nsn) != PhoneType::Unknown,
        })
}

/// libphonenumber `getNumberTypeHelper`, with whole-string pattern matches.
fn number_type(meta: &Metadata, nsn: &str) -> PhoneType {
    let d = meta.descriptors();
    if !matches(Some(d.general()), nsn) {
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
    if let Some((_, t)) = ordered.iter().find(|(desc, _)| matches(*desc, nsn)) {
        return *t;
    }
    let same = match (d.fixed_line(), d.mobile()) {
        (Some(f), Some(m)) => f.national_number().as_str() == m.national_number().as_str(),
        _ => false,
    };
    if matches(d.fixed_line(), nsn) {
        if same || matches(d.mobile(), nsn) {
            return PhoneType::FixedLineOrMobile;
        }
        return PhoneType::FixedLine;
    }
    if !same && matches(d.mobile(), nsn) {
        return PhoneType::Mobile;
    }
    PhoneType::Unknown
}

/// libphonenumber `isNumberMatchingDesc`: a listed length and a match of the *whole* number.
///
/// The `phonenumber` crate's own matcher accepts a match of a prefix of the number, so the
/// patterns are compiled again, anchored, once each (keyed by the address of the pattern in
/// the static database).
fn matches(desc: Option<&Descriptor>, nsn: &str) -> bool {
    let Some(desc) = desc else { return false };
    let lengths = desc.possible_length();
    if !lengths.is_empty() && !lengths.iter().any(|&l| usize::from(l) == nsn.len()) {
        return false;
    }
    let pattern = desc.national_number();
    let key = core::ptr::from_ref(pattern) as usize;
    static ANCHORED: OnceLock<RwLock<HashMap<usize, Option<Regex>>>> = OnceLock::new();
    let cache = ANCHORED.get_or_init(Default::default);
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
    ];

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
