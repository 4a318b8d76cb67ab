//! Validation and normalization of international telephone numbers to E.164.
//!
//! # Documented subset
//!
//! `normalize_phone` accepts only numbers written in international form and
//! produces the ITU-T E.164 string `+<country code><national significant
//! number>`. The rules are:
//!
//! 1. Surrounding ASCII whitespace is trimmed. Inputs longer than
//!    [`MAX_INPUT_LEN`] bytes after trimming are rejected as too long.
//! 2. The number must start with an international prefix: `+` or `00`.
//!    National formats (e.g. `415-555-0100`, `020 7946 0958`) are rejected,
//!    because the country cannot be inferred without external context.
//! 3. After the prefix only ASCII digits and the separators space, `-`, `.`,
//!    `(` and `)` are allowed; separators are discarded (their placement is
//!    not checked). Extensions (`ext. 12`, `#12`) and letters are rejected.
//! 4. The country calling code is the leading 1–3 digits and must be an
//!    *assigned* code from [`COUNTRY_CODES`]. E.164 country codes form a
//!    prefix-free code, so the (longest) matching prefix is unambiguous.
//! 5. At most 15 digits in total (E.164 §6.1), and the national significant
//!    number (the digits after the country code) has at least 4 digits.
//!
//! No per-country length or range plan is applied: a number that passes is
//! *well-formed*, not necessarily *allocated*.

/// Maximum number of bytes (after trimming) that is inspected at all.
pub(crate) const MAX_INPUT_LEN: usize = 64;

const MAX_DIGITS: usize = 15;
const MIN_NSN_DIGITS: usize = 4;

/// Assigned ITU-T E.164 country calling codes, sorted ascending.
///
/// Source: ITU-T "List of ITU-T Recommendation E.164 assigned country codes"
/// (annex to the ITU Operational Bulletin), cross-checked with Wikipedia
/// "List of telephone country codes".
///
/// Included: all geographic codes in use, plus these non-geographic ones:
/// 800 (international freephone), 808 (international shared cost service),
/// 870 (Inmarsat SNAC), 878 (universal personal telecommunications),
/// 881 (global mobile satellite system), 882 and 883 (international
/// networks), 888 (telecommunications for disaster relief, OCHA),
/// 979 (international premium rate service) and 991 (ITPCS trial).
/// Also 379 (Vatican City, assigned though Vatican numbers are in +39 06 698).
///
/// Excluded as spare, reserved or withdrawn: 0, 28x, 80, 801–807, 809, 83x,
/// 851, 854, 857–859, 871–874 (old Inmarsat ocean regions, withdrawn 2008),
/// 875–877, 879, 884, 885, 887, 889, 89x, 210, 214, 215, 217, 219, 259,
/// 292–296, 384, 388 (former ETNS, withdrawn), 422, 424–429, 671 (Guam, now
/// +1 671), 684 (American Samoa, now +1 684), 693–699, 969, 978, 990, 997,
/// 999. Zone 1 (NANP) and zone 7 are single-digit codes.
pub(crate) const COUNTRY_CODES: &[u16] = &[
    1, // zone 1: North American Numbering Plan
    7, // zone 7: Russia and Kazakhstan
    // two-digit codes
    20, 27, 30, 31, 32, 33, 34, 36, 39, 40, 41, 43, 44, 45, 46, 47, 48, 49, 51, 52, 53, 54, 55, 56,
    57, 58, 60, 61, 62, 63, 64, 65, 66, 81, 82, 84, 86, 90, 91, 92, 93, 94, 95, 98,
    // three-digit codes
    211, 212, 213, 216, 218, 220, 221, 222, 223, 224, 225, 226, 227, 228, 229, 230, 231, 232, 233,
    234, 235, 236, 237, 238, 239, 240, 241, 242, 243, 244, 245, 246, 247, 248, 249, 250, 251, 252,
    253, 254, 255, 256, 257, 258, 260, 261, 262, 263, 264, 265, 266, 267, 268, 269, 290, 291, 297,
    298, 299, 350, 351, 352, 353, 354, 355, 356, 357, 358, 359, 370, 371, 372, 373, 374, 375, 376,
    377, 378, 379, 380, 381, 382, 383, 385, 386, 387, 389, 420, 421, 423, 500, 501, 502, 503, 504,
    505, 506, 507, 508, 509, 590, 591, 592, 593, 594, 595, 596, 597, 598, 599, 670, 672, 673, 674,
    675, 676, 677, 678, 679, 680, 681, 682, 683, 685, 686, 687, 688, 689, 690, 691, 692, 800, 808,
    850, 852, 853, 855, 856, 870, 878, 880, 881, 882, 883, 886, 888, 960, 961, 962, 963, 964, 965,
    966, 967, 968, 970, 971, 972, 973, 974, 975, 976, 977, 979, 991, 992, 993, 994, 995, 996, 998,
];

/// Why a phone number was rejected. Never contains (part of) the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PhoneReason {
    /// The input is empty or consists only of whitespace.
    #[error("phone number is empty")]
    Empty,
    /// The number does not start with `+` or `00`.
    #[error("phone number has no international prefix such as a plus sign")]
    MissingCountryCode,
    /// The number contains a character other than digits and separators.
    #[error("phone number contains a character that is not allowed")]
    InvalidCharacter,
    /// The leading digits are not an assigned country calling code.
    #[error("phone number has an unknown country calling code")]
    UnknownCountryCode,
    /// Too few digits (national significant number shorter than 4 digits).
    #[error("phone number is too short")]
    TooShort,
    /// More than 15 digits, or an overly long input.
    #[error("phone number is too long")]
    TooLong,
}

fn is_separator(c: char) -> bool {
    matches!(c, ' ' | '-' | '.' | '(' | ')')
}

/// Returns (E.164 string `"+<digits>"`, country calling code).
///
/// See the [module documentation](self) for the exact rules.
pub(crate) fn normalize_phone(input: &str) -> Result<(String, u16), PhoneReason> {
    let trimmed = input.trim_matches(|c: char| c.is_ascii_whitespace());
    if trimmed.is_empty() {
        return Err(PhoneReason::Empty);
    }
    if trimmed.len() > MAX_INPUT_LEN {
        return Err(PhoneReason::TooLong);
    }
    let rest = if let Some(rest) = trimmed.strip_prefix('+') {
        rest
    } else if let Some(rest) = trimmed.strip_prefix("00") {
        rest
    } else if trimmed
        .chars()
        .all(|c| c.is_ascii_digit() || is_separator(c))
    {
        return Err(PhoneReason::MissingCountryCode);
    } else {
        return Err(PhoneReason::InvalidCharacter);
    };

    let mut digits = String::with_capacity(MAX_DIGITS + 1);
    digits.push('+');
    for c in rest.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else if !is_separator(c) {
            return Err(PhoneReason::InvalidCharacter);
        }
    }
    let number = digits.get(1..).unwrap_or_default();
    let (code, code_len) = match country_code(number) {
        Some(found) => found,
        None if number.len() < 3 && !number.starts_with('0') => return Err(PhoneReason::TooShort),
        None => return Err(PhoneReason::UnknownCountryCode),
    };
    if number.len() > MAX_DIGITS {
        return Err(PhoneReason::TooLong);
    }
    if number.len() < code_len + MIN_NSN_DIGITS {
        return Err(PhoneReason::TooShort);
    }
    Ok((digits, code))
}

/// Finds the assigned country code that prefixes `digits` (ASCII digits
/// only). Returns the code and its length in digits.
fn country_code(digits: &str) -> Option<(u16, usize)> {
    // No country code starts with 0; without this check "01…" would parse as 1.
    if digits.starts_with('0') {
        return None;
    }
    (1..=3).find_map(|len| {
        let prefix = digits.get(..len)?;
        let code: u16 = prefix.parse().ok()?;
        COUNTRY_CODES.binary_search(&code).ok().map(|_| (code, len))
    })
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
    ];

    #[test]
    fn table_is_sorted_unique_and_prefix_free() {
        assert!(COUNTRY_CODES.windows(2).all(|w| w[0] < w[1]));
        assert!(COUNTRY_CODES.iter().all(|&c| (1..=999).contains(&c)));
        for &a in COUNTRY_CODES {
            for &b in COUNTRY_CODES {
                let (sa, sb) = (a.to_string(), b.to_string());
                assert!(a == b || !sb.starts_with(&sa), "{a} is a prefix of {b}");
            }
        }
        for spare in [
            0, 28, 80, 83, 89, 210, 214, 215, 217, 219, 259, 280, 289, 292, 296, 384, 388, 422,
            424, 429, 671, 684, 693, 699, 801, 809, 830, 851, 871, 875, 879, 884, 890, 969, 978,
            990, 997, 999,
        ] {
            assert!(COUNTRY_CODES.binary_search(&spare).is_err(), "{spare}");
        }
        // Guards against accidental edits of the table.
        assert_eq!(COUNTRY_CODES.len(), 217);
    }

    #[test]
    fn valid_cases() {
        let cases: &[(&str, &str, u16)] = &[
            ("+1 (415) 555-0100", "+14155550100", 1),
            ("0044 20 7946 0958", "+442079460958", 44),
            ("+44 (0)20 7946 0958", "+4402079460958", 44),
            ("  +49.30.1234567\t", "+49301234567", 49),
            ("+7 495 123-45-67", "+74951234567", 7),
            ("+353 1 234 5678", "+35312345678", 353),
            ("+383 44 123 456", "+38344123456", 383),
            ("+800 1234 5678", "+80012345678", 800),
            ("+881 6 1234 5678", "+881612345678", 881),
            ("+1 2345", "+12345", 1),
            ("+123456789012345", "+123456789012345", 1),
            ("+14155550100", "+14155550100", 1),
        ];
        for (input, expected, code) in cases {
            assert_eq!(
                normalize_phone(input),
                Ok(((*expected).to_owned(), *code)),
                "input {input:?}"
            );
        }
    }

    #[test]
    fn invalid_cases() {
        use PhoneReason as R;
        let huge = "+1".to_owned() + &"-".repeat(MAX_INPUT_LEN);
        let cases: &[(&str, PhoneReason)] = &[
            ("", R::Empty),
            (" \t\n", R::Empty),
            ("415-555-0100", R::MissingCountryCode),
            ("(415) 555 0100", R::MissingCountryCode),
            ("0 44 20 7946 0958", R::MissingCountryCode),
            ("+1 415 CALL NOW", R::InvalidCharacter),
            ("call me", R::InvalidCharacter),
            ("+44 20 7946 0958 ext 12", R::InvalidCharacter),
            ("+1 415 555 0100#", R::InvalidCharacter),
            ("+1 ++415 555 0100", R::InvalidCharacter),
            ("+1 415/555/0100", R::InvalidCharacter),
            ("+1 ٤١٥ 555 0100", R::InvalidCharacter),
            ("+2812345678", R::UnknownCountryCode),
            ("+999 123 456 789", R::UnknownCountryCode),
            ("+80 1234 5678", R::UnknownCountryCode),
            ("+384 1234 5678", R::UnknownCountryCode),
            ("+0 1234 5678", R::UnknownCountryCode),
            ("+01 415 555 0100", R::UnknownCountryCode),
            ("+0", R::UnknownCountryCode),
            ("0000 1234 5678", R::UnknownCountryCode),
            ("+", R::TooShort),
            ("00", R::TooShort),
            ("+4", R::TooShort),
            ("+1 234", R::TooShort),
            ("+353 123", R::TooShort),
            ("+1234567890123456", R::TooLong),
            ("+44 1234 5678 9012 34", R::TooLong),
            (&huge, R::TooLong),
        ];
        for (input, expected) in cases {
            assert_eq!(normalize_phone(input), Err(*expected), "input {input:?}");
        }
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
        #[test]
        fn never_panics_and_errors_never_echo_input(input in any::<String>()) {
            if let Err(e) = normalize_phone(&input) {
                let msg = e.to_string();
                prop_assert!(ALL_REASONS.iter().any(|r| r.to_string() == msg));
                if input.chars().count() >= 3 {
                    prop_assert!(!msg.contains(&input));
                }
            }
        }

        #[test]
        fn errors_never_echo_phone_like_input(input in "[+0-9 ().a-z-]{3,40}") {
            if let Err(e) = normalize_phone(&input) {
                let msg = e.to_string();
                prop_assert!(ALL_REASONS.iter().any(|r| r.to_string() == msg));
                // Messages contain no digits, '+', '(' or ')'.
                if input.contains(|c: char| c.is_ascii_digit() || "+()".contains(c)) {
                    prop_assert!(!msg.contains(&input));
                }
            }
        }

        #[test]
        fn idempotent_on_arbitrary(input in any::<String>()) {
            if let Ok((out, code)) = normalize_phone(&input) {
                prop_assert_eq!(normalize_phone(&out), Ok((out.clone(), code)));
            }
        }

        #[test]
        fn idempotent_on_phone_like(
            prefix in "(\\+|00)",
            code in prop::sample::select(COUNTRY_CODES),
            rest in "[0-9 ().-]{0,20}",
        ) {
            let input = format!("{prefix}{code}{rest}");
            if let Ok((out, got)) = normalize_phone(&input) {
                prop_assert_eq!(got, code);
                prop_assert!(out.starts_with('+'));
                prop_assert!(out.len() <= 16);
                prop_assert_eq!(normalize_phone(&out), Ok((out.clone(), code)));
            }
        }
    }
}
