//! Phone number validation into E.164 form (clause 3.2).
//!
//! Accepted: a leading `+` or `00` international prefix, then digits, with spaces, `.`, `-`
//! and parentheses as separators. The country calling code must be one ITU-T has assigned
//! (see [`COUNTRY_CODES`]); the whole number at most 15 digits (E.164 §6.2.1), the national
//! significant number at least 4 digits. National formats without a country code are
//! refused: the SDK cannot guess the country.

/// Why a phone number was rejected. Never contains (part of) the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PhoneReason {
    /// Nothing but whitespace.
    #[error("number is empty")]
    Empty,
    /// No `+` or `00` international prefix.
    #[error("number has no international prefix (+ or 00)")]
    MissingCountryCode,
    /// A character other than digits and separators.
    #[error("number contains a character that is not a digit or separator")]
    InvalidCharacter,
    /// The country calling code is not assigned by ITU-T.
    #[error("country calling code is not assigned")]
    UnknownCountryCode,
    /// Fewer than 4 digits after the country code.
    #[error("number is too short")]
    TooShort,
    /// More than 15 digits.
    #[error("number is longer than 15 digits")]
    TooLong,
}

/// Country calling codes assigned by ITU-T (E.164 assignments as listed in the ITU-T
/// "List of ITU-T Recommendation E.164 assigned country codes" and mirrored by Wikipedia's
/// "List of telephone country codes", checked 2026-11). Includes the non-geographic codes
/// for global services (800, 808, 870, 878, 881–883, 888, 979, 991). Spare and withdrawn
/// codes (for example 28x, 210, 259, 292–296, 384, 388, 422, 671, 684, 80, 83x, 89x) are
/// absent. E.164 codes are prefix-free, so the first length that matches is the code.
pub(crate) const COUNTRY_CODES: &[u16] = &[
    1, 7, 20, 27, 30, 31, 32, 33, 34, 36, 39, 40, 41, 43, 44, 45, 46, 47, 48, 49, 51, 52, 53, 54,
    55, 56, 57, 58, 60, 61, 62, 63, 64, 65, 66, 81, 82, 84, 86, 90, 91, 92, 93, 94, 95, 98, 211,
    212, 213, 216, 218, 220, 221, 222, 223, 224, 225, 226, 227, 228, 229, 230, 231, 232, 233, 234,
    235, 236, 237, 238, 239, 240, 241, 242, 243, 244, 245, 246, 247, 248, 249, 250, 251, 252, 253,
    254, 255, 256, 257, 258, 260, 261, 262, 263, 264, 265, 266, 267, 268, 269, 290, 291, 297, 298,
    299, 350, 351, 352, 353, 354, 355, 356, 357, 358, 359, 370, 371, 372, 373, 374, 375, 376, 377,
    378, 380, 381, 382, 383, 385, 386, 387, 389, 420, 421, 423, 500, 501, 502, 503, 504, 505, 506,
    507, 508, 509, 590, 591, 592, 593, 594, 595, 596, 597, 598, 599, 670, 672, 673, 674, 675, 676,
    677, 678, 679, 680, 681, 682, 683, 685, 686, 687, 688, 689, 690, 691, 692, 800, 808, 850, 852,
    853, 855, 856, 870, 878, 880, 881, 882, 883, 886, 888, 960, 961, 962, 963, 964, 965, 966, 967,
    968, 970, 971, 972, 973, 974, 975, 976, 977, 979, 991, 992, 993, 994, 995, 996, 998,
];

const MAX_DIGITS: usize = 15;
const MIN_NATIONAL: usize = 4;

/// Validates an international number. Returns its E.164 form (`+` and digits) and the
/// country calling code.
pub(crate) fn normalize_phone(input: &str) -> Result<(String, u16), PhoneReason> {
    let t = input.trim();
    if t.is_empty() {
        return Err(PhoneReason::Empty);
    }
    let rest = if let Some(r) = t.strip_prefix('+') {
        r
    } else if let Some(r) = t.strip_prefix("00") {
        r
    } else if t.chars().all(|c| c.is_ascii_digit() || " .-()".contains(c)) {
        return Err(PhoneReason::MissingCountryCode);
    } else {
        return Err(PhoneReason::InvalidCharacter);
    };
    let mut digits = String::with_capacity(MAX_DIGITS + 1);
    digits.push('+');
    for c in rest.chars() {
        match c {
            '0'..='9' => {
                if digits.len() > MAX_DIGITS {
                    return Err(PhoneReason::TooLong);
                }
                digits.push(c);
            }
            ' ' | '.' | '-' | '(' | ')' => {}
            _ => return Err(PhoneReason::InvalidCharacter),
        }
    }
    let body = digits.get(1..).unwrap_or_default();
    let code = (1..=3)
        .filter_map(|n| body.get(..n))
        .filter_map(|p| p.parse::<u16>().ok())
        .find(|c| COUNTRY_CODES.binary_search(c).is_ok())
        .ok_or(if body.is_empty() {
            PhoneReason::TooShort
        } else {
            PhoneReason::UnknownCountryCode
        })?;
    let code_len = if code >= 100 {
        3
    } else if code >= 10 {
        2
    } else {
        1
    };
    if body.len() < code_len + MIN_NATIONAL {
        return Err(PhoneReason::TooShort);
    }
    Ok((digits, code))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn table_is_sorted_and_prefix_free() {
        assert!(COUNTRY_CODES.windows(2).all(|w| w[0] < w[1]));
        for &a in COUNTRY_CODES {
            for &b in COUNTRY_CODES {
                if a != b {
                    let (a, b) = (a.to_string(), b.to_string());
                    assert!(!b.starts_with(&a), "{a} is a prefix of {b}");
                }
            }
        }
    }

    #[test]
    fn valid_numbers() {
        for (input, want, code) in [
            ("+1 (415) 555-0100", "+14155550100", 1),
            ("0044 20 7946 0958", "+442079460958", 44),
            ("+41 44 668 18 00", "+41446681800", 41),
            ("+7 495 123-45-67", "+74951234567", 7),
            ("+852 2123 4567", "+85221234567", 852),
            ("+380.44.123.4567", "+380441234567", 380),
            ("+800 1234 5678", "+80012345678", 800),
        ] {
            assert_eq!(
                normalize_phone(input),
                Ok((want.to_owned(), code)),
                "{input}"
            );
        }
    }

    #[test]
    fn invalid_numbers() {
        for (input, want) in [
            ("", PhoneReason::Empty),
            ("415-555-0100", PhoneReason::MissingCountryCode),
            ("+1 415 CALL NOW", PhoneReason::InvalidCharacter),
            ("tel:+14155550100", PhoneReason::InvalidCharacter),
            ("+2812345678", PhoneReason::UnknownCountryCode),
            ("+80 1234 5678", PhoneReason::UnknownCountryCode),
            ("+999 123 4567", PhoneReason::UnknownCountryCode),
            ("+671 123 4567", PhoneReason::UnknownCountryCode),
            ("+1234567890123456", PhoneReason::TooLong),
            ("+44 123", PhoneReason::TooShort),
            ("+", PhoneReason::TooShort),
        ] {
            assert_eq!(normalize_phone(input), Err(want), "{input:?}");
        }
    }

    proptest! {
        #[test]
        fn never_panics_and_never_echoes(s in "\\PC{0,40}") {
            if let Err(e) = normalize_phone(&s) {
                let msg = format!("{e} {e:?}");
                if s.trim().len() >= 3 {
                    prop_assert!(!msg.contains(s.trim()));
                }
            }
        }

        #[test]
        fn normalization_is_idempotent(s in "\\+[1-9][0-9 ]{4,16}") {
            if let Ok((once, code)) = normalize_phone(&s) {
                prop_assert_eq!(normalize_phone(&once), Ok((once.clone(), code)));
            }
        }
    }
}
