//! The screen for host-supplied reference text that the custodian keeps **in clear**: a
//! consent's evidence, a service component's name, the fields of a lawful request. Such
//! text goes into the ledger and the audit log, which are hash-chained but not encrypted
//! under the subject's key, so personal data there would escape both encryption at rest
//! (clause 8.1) and erasure by key shredding (clause 6.2).
//!
//! The screen refuses the personal data that can be recognized from its form alone:
//!
//! - anything with an at sign (`@`, and its full-width and small forms): an email address,
//!   or a `user@host` handle — no reference or component name needs one;
//! - a telephone number in international form: a plus sign (or `tel:`) followed by seven
//!   or more digits, separators (space, `-`, `.`, `/`, parentheses) allowed between them;
//! - an IP address (v4 or v6, as the standard library parses them) anywhere in the text;
//! - control characters (which would also let a value forge lines of a log).
//!
//! A name, or a national number written without its country code, cannot be told from an
//! identifier by its form: hosts pass references (request ids, form versions), never the
//! person's data. Refusals never echo the text.

use std::net::IpAddr;

/// Digits after a `+` (or `tel:`) from which the text reads as an international number.
const PHONE_DIGITS: usize = 7;

/// Whether `text` carries personal data recognizable from its form (see the module
/// documentation). `false` does not prove the text is free of personal data.
pub(crate) fn looks_personal(text: &str) -> bool {
    text.chars()
        .any(|c| matches!(c, '@' | '\u{FF20}' | '\u{FE6B}') || c.is_control())
        || has_international_phone(text)
        || has_ip_address(text)
}

fn has_international_phone(text: &str) -> bool {
    let after_plus = text
        .char_indices()
        .filter(|(_, c)| matches!(c, '+' | '\u{FF0B}'))
        .map(|(i, c)| i + c.len_utf8());
    let after_tel = text
        .as_bytes()
        .windows(4)
        .enumerate()
        .filter(|(_, w)| w.eq_ignore_ascii_case(b"tel:"))
        .map(|(i, _)| i + 4);
    after_plus
        .chain(after_tel)
        .any(|from| digits_after(text.get(from..).unwrap_or_default()) >= PHONE_DIGITS)
}

/// Digits (any script) at the start of `rest`, separators between them allowed.
fn digits_after(rest: &str) -> usize {
    let mut digits = 0;
    for c in rest.chars() {
        if c.is_numeric() {
            digits += 1;
        } else if !matches!(c, ' ' | '-' | '.' | '/' | '(' | ')' | '\u{A0}') {
            break;
        }
    }
    digits
}

/// Whether a run of hex digits, dots and colons in `text` holds an IP address: the run (or
/// a part of it between colons, as in `host:port`) parses as one, or four dot-separated
/// decimal octets appear in a row (`10.0.0.1` inside `10.0.0.1.example`).
fn has_ip_address(text: &str) -> bool {
    text.split(|c: char| !(c.is_ascii_hexdigit() || c == '.' || c == ':'))
        .filter(|run| run.len() >= 2)
        .any(|run| {
            run.trim_matches('.').parse::<IpAddr>().is_ok() || run.split(':').any(has_dotted_quad)
        })
}

fn has_dotted_quad(part: &str) -> bool {
    let mut in_row = 0;
    for seg in part.split('.') {
        let octet = (1..=3).contains(&seg.len())
            && seg.bytes().all(|b| b.is_ascii_digit())
            && seg.parse::<u8>().is_ok();
        in_row = if octet { in_row + 1 } else { 0 };
        if in_row == 4 {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::looks_personal;

    #[test]
    fn refuses_what_its_form_gives_away() {
        for text in [
            "alice@example.com",
            "ui:alice@example.com",
            "mailto:bob@example.org",
            "alice\u{FF20}example.com",
            "user@host",
            "@handle",
            "+44 20 7946 0958",
            "call +1 (415) 555-2671",
            "tel:+14155552671",
            "TEL:4155552671",
            "ref\u{FF0B}4420794609",
            "from 192.168.1.20",
            "10.0.0.1:8080",
            "2001:db8::1",
            "ip=::ffff:10.1.2.3",
            "fe80::1%eth0",
            "host-10.0.0.1.example",
            "version 1.2.3.4",
            "line\nforged",
            "tab\there",
        ] {
            assert!(looks_personal(text), "{text:?} should be refused");
        }
    }

    #[test]
    fn lets_references_and_component_names_through() {
        for text in [
            "ui:evt-9",
            "ui-1",
            "mailer",
            "deal alerts",
            "signup-form v3",
            "form 2026-11-24",
            "order-1234567890",
            "case +3",
            "v1.2.3",
            "billing.worker",
            "a:b:c",
            "beef:cafe",
            "GDPR Art. 6(1)(c)",
            "Court order 2026/1234",
            "",
        ] {
            assert!(!looks_personal(text), "{text:?} should pass");
        }
    }
}
