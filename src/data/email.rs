//! Validation and normalization of email addresses.
//!
//! # Documented subset
//!
//! `normalize_email` accepts a deliberately *documented subset* of the
//! addresses allowed by RFC 5321 (SMTP), RFC 5322 (message format) and
//! RFC 6531 (SMTPUTF8, internationalized local parts). The rules are:
//!
//! 1. Surrounding ASCII whitespace is trimmed. Inputs longer than
//!    [`MAX_INPUT_LEN`] bytes after trimming are rejected before any further
//!    processing (bounds the work done on hostile input).
//! 2. The address is split at the **last** `@`. Exactly one `@` is allowed,
//!    because quoted local parts (the only place another `@` could appear) are
//!    not supported.
//! 3. The **local part** must be a *dot-atom* (RFC 5322 §3.2.3): one or more
//!    atoms separated by single dots, with no leading, trailing or consecutive
//!    dots. Atom characters are the RFC 5322 `atext` set (ASCII letters,
//!    digits and `` !#$%&'*+-/=?^_`{|}~ ``) plus non-ASCII UTF-8 characters
//!    (RFC 6531 `UTF8-non-ascii`). As a stricter-than-RFC rule, non-ASCII
//!    control characters, Unicode white space and bidirectional formatting
//!    controls are rejected. Quoted strings (`"a b"@x.com`), comments
//!    (`a(c)@x.com`) and obsolete syntax are **not** supported. The local part
//!    is at most 64 octets (RFC 5321 §4.5.3.1.1). It is kept exactly as given:
//!    no case folding and no Unicode normalization, since RFC 5321 leaves the
//!    interpretation of the local part to the receiving host.
//! 4. The **domain** is converted to ASCII with IDNA processing per UTS #46
//!    (via [`idna::domain_to_ascii`]), which lowercases it and encodes
//!    internationalized labels as Punycode (`xn--…`). The result must then be
//!    a fully qualified host name: at least two labels, each 1–63 characters
//!    of letters, digits and hyphens (LDH) with no leading or trailing hyphen,
//!    a top-level label that is not all-numeric, and at most 253 characters
//!    in total. A trailing root dot (`example.com.`) is rejected.
//! 5. Address literals such as `[192.0.2.1]` or `[IPv6:2001:db8::1]`
//!    (RFC 5321 §4.1.3) are **rejected**.
//! 6. The whole normalized address is at most 254 octets (RFC 5321 path
//!    limit of 256 minus the angle brackets).
//!
//! The normalized form is `local-part "@" ascii-domain`: the local part as
//! given and the domain as lowercase ASCII (Punycode).

/// Maximum number of bytes (after trimming) that is inspected at all.
///
/// UTS #46 mapping may delete characters (e.g. soft hyphens), so the limit is
/// generous compared with the 254-octet limit on the normalized address.
pub(crate) const MAX_INPUT_LEN: usize = 1024;

const MAX_ADDRESS_LEN: usize = 254;
const MAX_LOCAL_LEN: usize = 64;
const MAX_DOMAIN_LEN: usize = 253;
const MAX_LABEL_LEN: usize = 63;

/// Why an email address was rejected. Never contains (part of) the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EmailReason {
    /// The input is empty or consists only of whitespace.
    #[error("email address is empty")]
    Empty,
    /// The input or the normalized address exceeds the length limit.
    #[error("email address is too long")]
    TooLong,
    /// The input contains no `@`.
    #[error("email address has no at sign")]
    MissingAt,
    /// The input contains more than one `@`.
    #[error("email address has more than one at sign")]
    MultipleAt,
    /// Nothing precedes the `@`.
    #[error("local part is empty")]
    LocalPartEmpty,
    /// The local part is longer than 64 octets.
    #[error("local part is longer than 64 octets")]
    LocalPartTooLong,
    /// The local part contains a character outside the allowed set.
    #[error("local part contains a character that is not allowed")]
    LocalPartInvalid,
    /// The local part has a leading, trailing or repeated dot.
    #[error("local part has a leading, trailing or repeated dot")]
    LocalPartDot,
    /// Nothing follows the `@`.
    #[error("domain is empty")]
    DomainEmpty,
    /// The domain is an address literal such as an IP address in brackets.
    #[error("domain literals such as ip addresses are not supported")]
    DomainLiteral,
    /// The domain could not be converted to ASCII (IDNA / UTS #46 failure).
    #[error("domain is not a valid internationalized domain name")]
    DomainInvalid,
    /// A domain label is empty, too long, or contains a disallowed character
    /// or hyphen placement.
    #[error("domain contains an invalid label")]
    DomainLabelInvalid,
    /// The domain has fewer than two labels.
    #[error("domain is not fully qualified")]
    DomainNotFullyQualified,
    /// The top-level domain label consists only of digits.
    #[error("top-level domain is all numeric")]
    DomainNumericTld,
    /// The ASCII form of the domain is longer than 253 characters.
    #[error("domain is longer than 253 characters")]
    DomainTooLong,
}

/// Validates and normalizes an address. Returns (normalized address, byte
/// offset of the '@' in it).
///
/// See the [module documentation](self) for the exact rules.
pub(crate) fn normalize_email(input: &str) -> Result<(String, usize), EmailReason> {
    let trimmed = input.trim_matches(|c: char| c.is_ascii_whitespace());
    if trimmed.is_empty() {
        return Err(EmailReason::Empty);
    }
    if trimmed.len() > MAX_INPUT_LEN {
        return Err(EmailReason::TooLong);
    }
    let (local, domain) = trimmed.rsplit_once('@').ok_or(EmailReason::MissingAt)?;
    if local.contains('@') {
        return Err(EmailReason::MultipleAt);
    }
    validate_local(local)?;
    let ascii_domain = normalize_domain(domain)?;

    let at = local.len();
    let total = at + 1 + ascii_domain.len();
    if total > MAX_ADDRESS_LEN {
        return Err(EmailReason::TooLong);
    }
    let mut out = String::with_capacity(total);
    out.push_str(local);
    out.push('@');
    out.push_str(&ascii_domain);
    Ok((out, at))
}

/// RFC 5322 `atext`, ASCII part.
fn is_ascii_atext(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            '!' | '#'
                | '$'
                | '%'
                | '&'
                | '\''
                | '*'
                | '+'
                | '-'
                | '/'
                | '='
                | '?'
                | '^'
                | '_'
                | '`'
                | '{'
                | '|'
                | '}'
                | '~'
        )
}

/// Bidirectional formatting controls (Trojan-source style spoofing).
fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

fn is_local_char(c: char) -> bool {
    if c.is_ascii() {
        is_ascii_atext(c)
    } else {
        !c.is_control() && !c.is_whitespace() && !is_bidi_control(c)
    }
}

fn validate_local(local: &str) -> Result<(), EmailReason> {
    if local.is_empty() {
        return Err(EmailReason::LocalPartEmpty);
    }
    if local.len() > MAX_LOCAL_LEN {
        return Err(EmailReason::LocalPartTooLong);
    }
    if !local.chars().all(|c| c == '.' || is_local_char(c)) {
        return Err(EmailReason::LocalPartInvalid);
    }
    if local.split('.').any(str::is_empty) {
        return Err(EmailReason::LocalPartDot);
    }
    Ok(())
}

fn normalize_domain(domain: &str) -> Result<String, EmailReason> {
    if domain.is_empty() {
        return Err(EmailReason::DomainEmpty);
    }
    if domain.starts_with('[') {
        return Err(EmailReason::DomainLiteral);
    }
    let ascii = idna::domain_to_ascii(domain).map_err(|_| EmailReason::DomainInvalid)?;
    // UTS #46 lowercases ASCII already; lowercase again defensively so the
    // LDH check below and the output never depend on that detail.
    let ascii = ascii.to_ascii_lowercase();
    if ascii.is_empty() {
        return Err(EmailReason::DomainEmpty);
    }
    if ascii.len() > MAX_DOMAIN_LEN {
        return Err(EmailReason::DomainTooLong);
    }
    let mut labels = 0usize;
    let mut last = "";
    for label in ascii.split('.') {
        validate_label(label)?;
        labels += 1;
        last = label;
    }
    if labels < 2 {
        return Err(EmailReason::DomainNotFullyQualified);
    }
    if last.bytes().all(|b| b.is_ascii_digit()) {
        return Err(EmailReason::DomainNumericTld);
    }
    Ok(ascii)
}

fn validate_label(label: &str) -> Result<(), EmailReason> {
    let ok = !label.is_empty()
        && label.len() <= MAX_LABEL_LEN
        && label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !label.starts_with('-')
        && !label.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(EmailReason::DomainLabelInvalid)
    }
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

    const ALL_REASONS: &[EmailReason] = &[
        EmailReason::Empty,
        EmailReason::TooLong,
        EmailReason::MissingAt,
        EmailReason::MultipleAt,
        EmailReason::LocalPartEmpty,
        EmailReason::LocalPartTooLong,
        EmailReason::LocalPartInvalid,
        EmailReason::LocalPartDot,
        EmailReason::DomainEmpty,
        EmailReason::DomainLiteral,
        EmailReason::DomainInvalid,
        EmailReason::DomainLabelInvalid,
        EmailReason::DomainNotFullyQualified,
        EmailReason::DomainNumericTld,
        EmailReason::DomainTooLong,
    ];

    #[test]
    fn valid_cases() {
        let long_local = "a".repeat(64);
        let long_local_addr = format!("{long_local}@example.com");
        let cases: &[(&str, &str)] = &[
            ("user@example.com", "user@example.com"),
            ("  User.Name@Example.COM \t\n", "User.Name@example.com"),
            ("user@bücher.example", "user@xn--bcher-kva.example"),
            ("user@BÜCHER.example", "user@xn--bcher-kva.example"),
            ("用户@例子.广告", "用户@xn--fsqu00a.xn--4rr70v"),
            ("用户@例子。广告", "用户@xn--fsqu00a.xn--4rr70v"),
            ("user@xn--bcher-kva.example", "user@xn--bcher-kva.example"),
            (
                "!#$%&'*+-/=?^_`{|}~@example.com",
                "!#$%&'*+-/=?^_`{|}~@example.com",
            ),
            (
                "first.last+tag@sub.example.co.uk",
                "first.last+tag@sub.example.co.uk",
            ),
            ("a@b.co", "a@b.co"),
            ("a@1.example", "a@1.example"),
            ("a@a-b.c0m", "a@a-b.c0m"),
            ("josé@example.com", "josé@example.com"),
            (&long_local_addr, &long_local_addr),
        ];
        for (input, expected) in cases {
            let (out, at) =
                normalize_email(input).unwrap_or_else(|e| panic!("{input:?} rejected: {e}"));
            assert_eq!(&out, expected, "input {input:?}");
            assert_eq!(out.get(at..=at), Some("@"), "input {input:?}");
            assert_eq!(out.rfind('@'), Some(at));
        }
    }

    #[test]
    fn invalid_cases() {
        use EmailReason as R;
        let local65 = format!("{}@example.com", "a".repeat(65));
        let label64 = format!("a@{}.com", "a".repeat(64));
        // 4 labels of 63 + "com" = 4*64 + 3 = 259 > 253
        let long_domain = format!("a@{}com", format!("{}.", "a".repeat(63)).repeat(4));
        // domain of 249 chars + local 10 -> 260 > 254 but domain ok
        let long_addr = format!(
            "{}@{}{}.com",
            "a".repeat(10),
            format!("{}.", "b".repeat(60)).repeat(3),
            "c".repeat(60)
        );
        let huge = "a".repeat(MAX_INPUT_LEN + 1);
        let cases: &[(&str, EmailReason)] = &[
            ("", R::Empty),
            ("   \t ", R::Empty),
            ("userexample.com", R::MissingAt),
            ("a@b@example.com", R::MultipleAt),
            ("\"a@b\"@example.com", R::MultipleAt),
            ("@example.com", R::LocalPartEmpty),
            (&local65, R::LocalPartTooLong),
            ("a..b@x.com", R::LocalPartDot),
            (".ab@x.com", R::LocalPartDot),
            ("ab.@x.com", R::LocalPartDot),
            ("a b@x.com", R::LocalPartInvalid),
            ("\"ab\"@x.com", R::LocalPartInvalid),
            ("a(comment)@x.com", R::LocalPartInvalid),
            ("a,b@x.com", R::LocalPartInvalid),
            ("a\u{202E}b@x.com", R::LocalPartInvalid),
            ("a\u{00A0}b@x.com", R::LocalPartInvalid),
            ("a\u{0085}b@x.com", R::LocalPartInvalid),
            ("a@", R::DomainEmpty),
            ("a@[192.0.2.1]", R::DomainLiteral),
            ("a@[IPv6:2001:db8::1]", R::DomainLiteral),
            ("a@b", R::DomainNotFullyQualified),
            ("a@localhost", R::DomainNotFullyQualified),
            ("a@x..com", R::DomainLabelInvalid),
            ("a@.x.com", R::DomainLabelInvalid),
            ("a@x.com.", R::DomainLabelInvalid),
            ("a@-x.com", R::DomainLabelInvalid),
            ("a@x-.com", R::DomainLabelInvalid),
            ("a@x_y.com", R::DomainLabelInvalid),
            ("a@x y.com", R::DomainLabelInvalid),
            (&label64, R::DomainLabelInvalid),
            ("a@1.2.3.4", R::DomainNumericTld),
            ("a@example.123", R::DomainNumericTld),
            ("a@xn--zz.com", R::DomainInvalid),
            (&long_domain, R::DomainTooLong),
            (&long_addr, R::TooLong),
            (&huge, R::TooLong),
        ];
        for (input, expected) in cases {
            assert_eq!(
                normalize_email(input),
                Err(*expected),
                "input {input:?} (len {})",
                input.len()
            );
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
            assert!(!msg.contains("Email"), "{msg}");
        }
    }

    proptest! {
        #[test]
        fn never_panics_and_errors_never_echo_input(input in any::<String>()) {
            if let Err(e) = normalize_email(&input) {
                let msg = e.to_string();
                prop_assert!(ALL_REASONS.iter().any(|r| r.to_string() == msg));
                if input.chars().count() >= 3 {
                    prop_assert!(!msg.contains(&input));
                }
            }
        }

        #[test]
        fn errors_never_echo_email_like_input(
            input in "[a-zA-Z0-9._%+@\\[\\]ü-]{3,80}"
        ) {
            if let Err(e) = normalize_email(&input) {
                let msg = e.to_string();
                prop_assert!(ALL_REASONS.iter().any(|r| r.to_string() == msg));
                // Messages contain no '@' or '.', so an input containing either
                // can never be a substring of one: a real canary check.
                if input.contains(['@', '.']) {
                    prop_assert!(!msg.contains(&input));
                }
            }
        }

        #[test]
        fn idempotent_on_arbitrary(input in any::<String>()) {
            if let Ok((out, at)) = normalize_email(&input) {
                prop_assert_eq!(normalize_email(&out), Ok((out.clone(), at)));
            }
        }

        #[test]
        fn idempotent_on_address_like(
            local in "[a-zA-Z0-9!#$%&'*+/=?^_`{|}~ü用-]{1,20}(\\.[a-zA-Z0-9ü-]{1,10}){0,3}",
            labels in prop::collection::vec("[a-zA-Z0-9üß例Ä-]{1,20}", 1..4),
            tld in "[a-zA-Z广告]{2,6}",
        ) {
            let input = format!("{local}@{}.{tld}", labels.join("."));
            if let Ok((out, at)) = normalize_email(&input) {
                prop_assert_eq!(out.get(..at), Some(local.as_str()));
                prop_assert!(out.is_ascii() || !local.is_ascii());
                prop_assert_eq!(normalize_email(&out), Ok((out.clone(), at)));
            }
        }
    }
}
