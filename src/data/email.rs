//! Email address validation: a documented subset of RFC 5321/5322 with RFC 6531
//! internationalized local parts and UTS #46 (IDNA) internationalized domains.
//!
//! Accepted:
//! - surrounding ASCII whitespace is trimmed; the address splits at its **last** `@`;
//! - local part: RFC 5322 *dot-atom* — `atext` characters (letters, digits and
//!   ``!#$%&'*+-/=?^_`{|}~``) plus any non-ASCII character (RFC 6531), separated by single
//!   dots, no leading or trailing dot, at most 64 octets;
//! - domain: mapped to ASCII with IDNA (UTS #46, so `bücher.example` becomes
//!   `xn--bcher-kva.example`), lowercased; at least two labels, each 1–63 letters, digits or
//!   hyphens, not starting or ending with a hyphen; the top-level label not all digits;
//!   at most 253 octets;
//! - the whole normalized address at most 254 octets (RFC 5321 path limit minus brackets).
//!
//! Rejected on purpose (documented subset): quoted local parts (`"a b"@x`), comments,
//! domain literals (`user@[192.0.2.1]`), single-label domains (`user@localhost`).
//!
//! Normalization keeps the local part as given (it may be case-sensitive) and the domain
//! as lowercase ASCII.

/// Why an email address was rejected. Never contains (part of) the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EmailReason {
    /// Nothing but whitespace.
    #[error("address is empty")]
    Empty,
    /// Longer than 254 octets.
    #[error("address is longer than 254 octets")]
    TooLong,
    /// No `@`.
    #[error("address has no @")]
    MissingAt,
    /// Nothing before the `@`.
    #[error("local part is empty")]
    LocalPartEmpty,
    /// Local part longer than 64 octets.
    #[error("local part is longer than 64 octets")]
    LocalPartTooLong,
    /// A character outside the accepted set, or a misplaced dot, in the local part.
    #[error("local part contains a character or dot that is not allowed")]
    LocalPartInvalid,
    /// Nothing after the `@`.
    #[error("domain is empty")]
    DomainEmpty,
    /// A domain literal (`[...]`), not accepted.
    #[error("domain literals are not accepted")]
    DomainLiteral,
    /// The domain does not map to ASCII under IDNA, or a label is malformed.
    #[error("domain is not a valid host name")]
    DomainInvalid,
    /// A single-label domain, or an all-numeric top-level label.
    #[error("domain is not fully qualified")]
    DomainNotFullyQualified,
}

const MAX_ADDRESS: usize = 254;
const MAX_LOCAL: usize = 64;
const MAX_DOMAIN: usize = 253;

fn is_atext(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c) || !c.is_ascii()
}

fn check_local(local: &str) -> Result<(), EmailReason> {
    if local.is_empty() {
        return Err(EmailReason::LocalPartEmpty);
    }
    if local.len() > MAX_LOCAL {
        return Err(EmailReason::LocalPartTooLong);
    }
    for atom in local.split('.') {
        if atom.is_empty() || !atom.chars().all(is_atext) {
            return Err(EmailReason::LocalPartInvalid);
        }
        if atom.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(EmailReason::LocalPartInvalid);
        }
    }
    Ok(())
}

fn check_domain(domain: &str) -> Result<String, EmailReason> {
    if domain.is_empty() {
        return Err(EmailReason::DomainEmpty);
    }
    if domain.starts_with('[') {
        return Err(EmailReason::DomainLiteral);
    }
    let ascii = idna::domain_to_ascii(domain).map_err(|_| EmailReason::DomainInvalid)?;
    let ascii = ascii
        .strip_suffix('.')
        .unwrap_or(&ascii)
        .to_ascii_lowercase();
    if ascii.is_empty() || ascii.len() > MAX_DOMAIN {
        return Err(EmailReason::DomainInvalid);
    }
    let mut labels = 0_usize;
    let mut last = "";
    for label in ascii.split('.') {
        let ldh = label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if label.is_empty()
            || label.len() > 63
            || !ldh
            || label.starts_with('-')
            || label.ends_with('-')
        {
            return Err(EmailReason::DomainInvalid);
        }
        labels += 1;
        last = label;
    }
    if labels < 2 || last.bytes().all(|b| b.is_ascii_digit()) {
        return Err(EmailReason::DomainNotFullyQualified);
    }
    Ok(ascii)
}

/// Validates and normalizes an address. Returns the normalized address and the byte offset
/// of its `@`.
pub(crate) fn normalize_email(input: &str) -> Result<(String, usize), EmailReason> {
    let t = input.trim_matches(|c: char| c.is_ascii_whitespace());
    if t.is_empty() {
        return Err(EmailReason::Empty);
    }
    // Bound work before IDNA on hostile input (a domain cannot exceed 253 octets, but its
    // Unicode form may be longer than its ASCII form only by a bounded factor).
    if t.len() > MAX_ADDRESS * 4 {
        return Err(EmailReason::TooLong);
    }
    let at = t.rfind('@').ok_or(EmailReason::MissingAt)?;
    let (local, domain) = (
        t.get(..at).unwrap_or_default(),
        t.get(at + 1..).unwrap_or_default(),
    );
    check_local(local)?;
    let domain = check_domain(domain)?;
    let mut out = String::with_capacity(local.len() + 1 + domain.len());
    out.push_str(local);
    out.push('@');
    out.push_str(&domain);
    if out.len() > MAX_ADDRESS {
        return Err(EmailReason::TooLong);
    }
    Ok((out, local.len()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn valid_addresses_normalize() {
        for (input, want) in [
            ("alice@example.com", "alice@example.com"),
            ("  Alice.Smith@Example.COM ", "Alice.Smith@example.com"),
            ("user+tag@sub.example.co.uk", "user+tag@sub.example.co.uk"),
            ("user@bücher.example", "user@xn--bcher-kva.example"),
            ("用户@例子.广告", "用户@xn--fsqu00a.xn--4rr70v"),
            ("o'brien@example.ie", "o'brien@example.ie"),
            ("x@example.com.", "x@example.com"),
        ] {
            let (got, at) = normalize_email(input).unwrap();
            assert_eq!(got, want, "{input}");
            assert_eq!(got.get(at..at + 1), Some("@"));
        }
    }

    #[test]
    fn invalid_addresses_are_refused_with_a_reason() {
        let long_local = "a".repeat(65);
        let long_label = format!("a@{}.com", "b".repeat(64));
        let long_addr = format!("{}@{}com", "a".repeat(64), "b.".repeat(95));
        for (input, want) in [
            ("", EmailReason::Empty),
            ("   ", EmailReason::Empty),
            ("alice.example.com", EmailReason::MissingAt),
            ("@example.com", EmailReason::LocalPartEmpty),
            ("alice@", EmailReason::DomainEmpty),
            ("a..b@example.com", EmailReason::LocalPartInvalid),
            (".a@example.com", EmailReason::LocalPartInvalid),
            ("a.@example.com", EmailReason::LocalPartInvalid),
            ("a b@example.com", EmailReason::LocalPartInvalid),
            ("\"a b\"@example.com", EmailReason::LocalPartInvalid),
            ("a(comment)@example.com", EmailReason::LocalPartInvalid),
            ("a@b", EmailReason::DomainNotFullyQualified),
            ("a@localhost", EmailReason::DomainNotFullyQualified),
            ("a@example.123", EmailReason::DomainNotFullyQualified),
            ("a@[192.0.2.1]", EmailReason::DomainLiteral),
            ("a@-example.com", EmailReason::DomainInvalid),
            ("a@exa_mple.com", EmailReason::DomainInvalid),
            ("a@example..com", EmailReason::DomainInvalid),
            (long_label.as_str(), EmailReason::DomainInvalid),
            (
                format!("{long_local}@example.com").as_str(),
                EmailReason::LocalPartTooLong,
            ),
            (long_addr.as_str(), EmailReason::TooLong),
        ] {
            assert_eq!(normalize_email(input), Err(want), "{input:?}");
        }
    }

    proptest! {
        #[test]
        fn never_panics_and_never_echoes(s in "\\PC{0,80}") {
            if let Err(e) = normalize_email(&s) {
                let msg = format!("{e} {e:?}");
                if s.trim().len() >= 3 {
                    prop_assert!(!msg.contains(s.trim()));
                }
            }
        }

        #[test]
        fn normalization_is_idempotent(local in "[a-zA-Z0-9._%+-]{1,20}", domain in "[a-zA-Z0-9-]{1,12}\\.[a-zA-Z]{2,6}") {
            let input = format!("{local}@{domain}");
            if let Ok((once, _)) = normalize_email(&input) {
                let (twice, _) = normalize_email(&once).unwrap();
                prop_assert_eq!(once, twice);
            }
        }
    }
}
