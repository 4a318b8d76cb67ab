//! Validation and normalization of email addresses.
//!
//! # Documented subset
//!
//! `normalize_email` accepts a deliberately *documented subset* of the
//! addresses allowed by RFC 5321 (SMTP), RFC 5322 (message format) and
//! RFC 6531 (SMTPUTF8, internationalized local parts). The rules are:
//!
//! 1. Surrounding ASCII white space is trimmed (the one trimming rule of every
//!    parser in this module). Inputs longer than [`MAX_INPUT_LEN`] bytes after
//!    trimming are rejected before any further processing (bounds the work done
//!    on hostile input).
//! 2. The address is split at the **last** `@`. Exactly one `@` is allowed,
//!    because quoted local parts (the only place another `@` could appear) are
//!    not supported.
//! 3. The **local part** must be a *dot-atom* (RFC 5322 §3.2.3): one or more
//!    atoms separated by single dots, with no leading, trailing or consecutive
//!    dots. Atom characters are the RFC 5322 `atext` set (ASCII letters,
//!    digits and `` !#$%&'*+-/=?^_`{|}~ ``) plus non-ASCII characters
//!    (RFC 6531 `UTF8-non-ascii`) of the Unicode letter, mark, number,
//!    punctuation and symbol categories. Refused: control, format (zero-width
//!    characters, soft hyphen, joiners, bidirectional controls, tag characters,
//!    byte order mark), surrogate, private-use and unassigned code points
//!    (`Cc Cf Cs Co Cn`, noncharacters such as U+FFFE included), every
//!    separator (`Zs Zl Zp`), and a combining mark in first position (it would
//!    combine with whatever precedes the address). Such characters are invisible
//!    or render alike, so two addresses that look identical would be stored as
//!    different strings.
//! 4. The local part is then put in Unicode **NFC** (RFC 6532 §3.1) and must be
//!    at most 64 octets (RFC 5321 §4.5.3.1.1). Letter case is kept: RFC 5321
//!    §2.4 leaves it to the receiving host, and the address must be delivered as
//!    given. Lookups use [`lookup_key`], which folds it.
//! 5. The **domain** must pass the same character screen (so an invisible
//!    character is refused on both sides of the `@` instead of being deleted on
//!    one), then is converted to ASCII with UTS #46 processing, non-transitional,
//!    with the STD3 ASCII rules, *CheckHyphens*, *CheckBidi* and *CheckJoiners*
//!    (the `idna` crate's strict configuration; RFC 5891 §4.2.3.1 and §4.2.3.4,
//!    RFC 5893). The result is lowercase ASCII, internationalized labels as
//!    Punycode (`xn--…`). It must be a fully qualified host name: at least two
//!    labels, each 1–63 letters, digits and hyphens with no leading or trailing
//!    hyphen, a top-level label ending in a letter, at most 253 characters. A
//!    trailing root dot (`example.com.`) is rejected.
//! 6. **Special-use names** are refused unless the host allows them
//!    ([`EmailOptions::allow_special_use`]): `arpa`, `invalid`, `local`,
//!    `localhost`, `onion` and `test` and every name under them (RFC 6761 §6.2–6.4,
//!    RFC 6762, RFC 7686 §2; `arpa` per RFC 3172 holds no mailboxes). The
//!    `example` names stay accepted: RFC 6761 §6.5 says applications should not
//!    treat them as special, and documentation and tests use them.
//! 7. Address literals such as `[192.0.2.1]` or `[IPv6:2001:db8::1]`
//!    (RFC 5321 §4.1.3) are **rejected**.
//! 8. The whole normalized address is at most 254 octets (RFC 5321 path
//!    limit of 256 minus the angle brackets).
//!
//! The normalized form is `local-part "@" ascii-domain`: the local part in NFC
//! with its case kept, and the domain as lowercase ASCII (Punycode).

use idna::uts46::{AsciiDenyList, ErrorPolicy, Hyphens, ProcessingSuccess, Uts46};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::{IsNormalized, is_nfc_quick};
use unicode_properties::{GeneralCategory, GeneralCategoryGroup, UnicodeGeneralCategory};
use zeroize::Zeroizing;

/// Maximum number of bytes (after trimming) that is inspected at all.
pub(crate) const MAX_INPUT_LEN: usize = 1024;

const MAX_ADDRESS_LEN: usize = 254;
const MAX_LOCAL_LEN: usize = 64;
const MAX_DOMAIN_LEN: usize = 253;
const MAX_LABEL_LEN: usize = 63;

/// Special-use top-level names refused by default (see rule 6).
const SPECIAL_USE: &[&str] = &["arpa", "invalid", "local", "localhost", "onion", "test"];

/// Why an email address was rejected. Never contains (part of) the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EmailReason {
    /// The input is empty or consists only of white space.
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
    /// The local part contains an invisible, control, separator, private-use or unassigned
    /// character.
    #[error("local part contains an invisible, control, private-use or unassigned character")]
    LocalPartUnsafeCharacter,
    /// The local part starts with a combining mark.
    #[error("local part starts with a combining mark")]
    LocalPartLeadingMark,
    /// Nothing follows the `@`.
    #[error("domain is empty")]
    DomainEmpty,
    /// The domain is an address literal such as an IP address in brackets.
    #[error("domain literals such as ip addresses are not supported")]
    DomainLiteral,
    /// The domain could not be converted to ASCII (IDNA failure: disallowed character,
    /// hyphen placement, bidi or joiner rule, bad Punycode).
    #[error("domain is not a valid internationalized domain name")]
    DomainInvalid,
    /// A domain label is empty, too long, or contains a disallowed character
    /// or hyphen placement.
    #[error("domain contains an invalid label")]
    DomainLabelInvalid,
    /// The domain has fewer than two labels.
    #[error("domain is not fully qualified")]
    DomainNotFullyQualified,
    /// The top-level domain label does not end with a letter (for example, it is numeric).
    #[error("top-level domain does not end with a letter")]
    DomainNumericTld,
    /// The ASCII form of the domain is longer than 253 characters.
    #[error("domain is longer than 253 characters")]
    DomainTooLong,
    /// The domain contains an invisible, control, separator, private-use or unassigned
    /// character, or starts with a combining mark.
    #[error("domain contains an invisible, control, private-use or unassigned character")]
    DomainUnsafeCharacter,
    /// The domain is a special-use name (such as `.local` or `.onion`) and the host did not
    /// allow those.
    #[error("domain is a special-use name")]
    DomainSpecialUse,
}

/// How [`Email::parse_with`](crate::Email::parse_with) reads an address.
///
/// Start from [`Email::options`](crate::Email::options) or [`EmailOptions::new`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EmailOptions {
    allow_special_use: bool,
}

impl EmailOptions {
    /// The defaults: special-use names refused.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            allow_special_use: false,
        }
    }

    /// Whether addresses under the special-use names `arpa`, `invalid`, `local`,
    /// `localhost`, `onion` and `test` are accepted (default: no). For hosts on a private
    /// network (`.local`), Tor services (`.onion`) or test set-ups.
    #[must_use]
    pub const fn allow_special_use(mut self, allow: bool) -> Self {
        self.allow_special_use = allow;
        self
    }
}

/// Validates and normalizes an address. Returns (normalized address, byte
/// offset of the '@' in it).
///
/// See the [module documentation](self) for the exact rules. Plain ASCII addresses whose
/// domain is already a lowercase-or-uppercase host name of letters, digits and hyphens take
/// [`ascii_fast_path`]; everything else (and every address the fast path does not accept)
/// takes [`normalize_general`]. The two agree on every ASCII input (a proptest checks it).
pub(crate) fn normalize_email(
    input: &str,
    opts: &EmailOptions,
) -> Result<(String, usize), EmailReason> {
    let trimmed = super::trim_input(input);
    if let Some(done) = ascii_fast_path(trimmed, opts) {
        return Ok(done);
    }
    normalize_general(trimmed, opts)
}

/// Bit `b` is set for the ASCII bytes allowed in a dot-atom local part: RFC 5322 `atext`
/// plus the dot (whose placement is checked separately).
const LOCAL_ASCII: u128 = {
    let allowed = b"!#$%&'*+-/=?^_`{|}~.";
    let mut mask = 0_u128;
    let mut b = 0_u8;
    while b < 128 {
        if b.is_ascii_alphanumeric() {
            mask |= 1 << b;
        }
        b += 1;
    }
    let mut rest: &[u8] = allowed;
    while let [first, tail @ ..] = rest {
        mask |= 1 << *first;
        rest = tail;
    }
    mask
};

const fn local_ascii_byte(b: u8) -> bool {
    b < 128 && (LOCAL_ASCII >> b) & 1 == 1
}

/// The ASCII fast path: accepts (returns `Some`) only an address that the general path
/// accepts with the same result, and leaves everything else to it (`None`), errors
/// included, so the reasons come from one place.
///
/// Taken when the input is ASCII, the local part a dot-atom of at most 64 octets, and every
/// domain label 1–63 letters, digits and hyphens with no hyphen first, last or in both the
/// third and fourth positions (that excludes `xn--` labels). For such a domain UTS #46
/// processing only lowercases (STD3 rules, CheckHyphens; CheckBidi and CheckJoiners never
/// apply to ASCII), so no mapping, normalization or category lookup is needed. The
/// remaining rules (two labels, a letter at the end of the top-level label, lengths,
/// special-use names) are checked here as in the general path.
fn ascii_fast_path(trimmed: &str, opts: &EmailOptions) -> Option<(String, usize)> {
    let bytes = trimmed.as_bytes();
    if bytes.len() > MAX_ADDRESS_LEN {
        return None;
    }
    let at = bytes.iter().rposition(|&b| b == b'@')?;
    let (local, domain) = (bytes.get(..at)?, bytes.get(at + 1..)?);
    if local.is_empty() || local.len() > MAX_LOCAL_LEN {
        return None;
    }
    let mut prev_dot = true;
    for &b in local {
        if !local_ascii_byte(b) || (b == b'.' && prev_dot) {
            return None;
        }
        prev_dot = b == b'.';
    }
    if prev_dot || domain.len() > MAX_DOMAIN_LEN {
        return None;
    }
    let mut labels = 0_usize;
    let mut last: &[u8] = &[];
    for label in domain.split(|&b| b == b'.') {
        let ok = !label.is_empty()
            && label.len() <= MAX_LABEL_LEN
            && label
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || b == b'-')
            && label.first() != Some(&b'-')
            && label.last() != Some(&b'-')
            && label.get(2..4) != Some(&b"--"[..]);
        if !ok {
            return None;
        }
        labels += 1;
        last = label;
    }
    if labels < 2 || !last.last().is_some_and(u8::is_ascii_alphabetic) {
        return None;
    }
    if !opts.allow_special_use
        && (4..=9).contains(&last.len())
        && SPECIAL_USE
            .iter()
            .any(|s| s.as_bytes().eq_ignore_ascii_case(last))
    {
        return None;
    }
    let mut out = String::with_capacity(trimmed.len());
    out.push_str(trimmed);
    out.get_mut(at + 1..)?.make_ascii_lowercase();
    Some((out, at))
}

/// The general path: every rule of the module documentation, for any input.
fn normalize_general(trimmed: &str, opts: &EmailOptions) -> Result<(String, usize), EmailReason> {
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
    screen_domain(domain)?;

    // One allocation: the local part (in NFC) and the domain's ASCII form are written into
    // the result directly. Punycode can be longer than the UTF-8 it encodes; the string
    // grows if needed.
    let mut out = String::with_capacity(local.len() + 1 + domain.len() * 2);
    // Text of ASCII and common letters only is in NFC (each is NFC quick check Yes with
    // combining class 0), without a table lookup.
    let composed = !(local.chars().all(|c| c.is_ascii() || common_letter(c))
        || is_nfc_quick(local.chars()) == IsNormalized::Yes);
    if composed {
        out.extend(local.nfc());
    } else {
        out.push_str(local);
    }
    let at = out.len();
    out.push('@');
    let idna2008 = domain_to_ascii(domain, &mut out)?;
    check_ascii_domain(out.get(at + 1..).unwrap_or_default(), idna2008, opts)?;
    if composed {
        // Composition can change characters; the composed form must pass the same rules.
        validate_local(out.get(..at).unwrap_or_default())?;
    }
    if at > MAX_LOCAL_LEN {
        return Err(EmailReason::LocalPartTooLong);
    }
    if out.len() > MAX_ADDRESS_LEN {
        return Err(EmailReason::TooLong);
    }
    Ok((out, at))
}

/// The key for equality lookups (the blind index): the normalized address with the local part
/// lowercased (Unicode `to_lowercase`, then NFC again). The domain is already lowercase ASCII.
///
/// `normalized` is an address produced by [`normalize_email`], `at` the offset it returned.
pub(crate) fn lookup_key(normalized: &str, at: usize) -> Zeroizing<String> {
    let (local, domain) = normalized.split_at(at.min(normalized.len()));
    let mut key = Zeroizing::new(String::with_capacity(normalized.len()));
    if local.is_ascii() {
        key.extend(local.chars().map(|c| c.to_ascii_lowercase()));
    } else {
        let lower = Zeroizing::new(local.to_lowercase());
        key.extend(lower.nfc());
    }
    key.push_str(domain);
    key
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

/// Whether a non-ASCII character is refused anywhere in an address (rules 3 and 5): control,
/// format, surrogate, private-use, unassigned, separators.
fn is_unsafe(c: char) -> bool {
    !common_letter(c)
        && matches!(
            c.general_category_group(),
            GeneralCategoryGroup::Other | GeneralCategoryGroup::Separator
        )
}

/// Whether `c` lies in a block range whose every code point is an assigned letter (`Lu`,
/// `Ll` or `Lo`) with canonical combining class 0 and NFC quick check *Yes*, and valid in
/// an IDNA2008 label: the Latin-1 and Latin Extended-A letters, basic Greek and Cyrillic,
/// Hiragana, Katakana, the CJK unified ideographs of Unicode 11 and Hangul syllables. Such
/// characters (most non-ASCII text in real addresses) need no table lookup for any rule of
/// this module; a unit test checks every one of them against the tables.
const fn common_letter(c: char) -> bool {
    matches!(c,
        '\u{C0}'..='\u{D6}'
        | '\u{D8}'..='\u{F6}'
        | '\u{F8}'..='\u{17F}'
        | '\u{391}'..='\u{3A1}'
        | '\u{3A3}'..='\u{3A9}'
        | '\u{3B1}'..='\u{3C9}'
        | '\u{410}'..='\u{44F}'
        | '\u{3041}'..='\u{3096}'
        | '\u{30A1}'..='\u{30FA}'
        | '\u{4E00}'..='\u{9FEF}'
        | '\u{AC00}'..='\u{D7A3}'
    )
}

fn is_mark(c: char) -> bool {
    // ASCII has no marks: skip the table lookup (the domain's first character is most
    // often ASCII).
    !c.is_ascii()
        && !common_letter(c)
        && matches!(
            c.general_category(),
            GeneralCategory::NonspacingMark
                | GeneralCategory::SpacingMark
                | GeneralCategory::EnclosingMark
        )
}

fn validate_local(local: &str) -> Result<(), EmailReason> {
    if local.is_empty() {
        return Err(EmailReason::LocalPartEmpty);
    }
    // Bounds the work below; the real limit is checked on the NFC form.
    if local.len() > MAX_LOCAL_LEN * 4 {
        return Err(EmailReason::LocalPartTooLong);
    }
    for c in local.chars() {
        if c.is_ascii() {
            if c != '.' && !is_ascii_atext(c) {
                return Err(EmailReason::LocalPartInvalid);
            }
        } else if is_unsafe(c) {
            return Err(EmailReason::LocalPartUnsafeCharacter);
        }
    }
    if local
        .chars()
        .next()
        .is_some_and(|c| !c.is_ascii() && is_mark(c))
    {
        return Err(EmailReason::LocalPartLeadingMark);
    }
    if local.split('.').any(str::is_empty) {
        return Err(EmailReason::LocalPartDot);
    }
    Ok(())
}

/// The checks on the domain as given, before IDNA: present, not a literal, and (rule 5) no
/// unsafe character or leading combining mark.
fn screen_domain(domain: &str) -> Result<(), EmailReason> {
    if domain.is_empty() {
        return Err(EmailReason::DomainEmpty);
    }
    if domain.starts_with('[') {
        return Err(EmailReason::DomainLiteral);
    }
    if !domain.is_ascii()
        && (domain.chars().any(|c| !c.is_ascii() && is_unsafe(c))
            || domain.chars().next().is_some_and(is_mark))
    {
        return Err(EmailReason::DomainUnsafeCharacter);
    }
    Ok(())
}

/// Runs UTS #46 ToASCII (the `idna` crate's strict configuration, the same as
/// `Uts46::to_ascii` with STD3 rules, CheckHyphens and no DNS length check) and appends the
/// result to `out`. While the crate has each mapped Unicode label in hand it is given to
/// [`idna2008_label_chars`], so the RFC 5892 check needs no Punycode decode afterwards.
///
/// Returns the RFC 5892 outcome when the crate showed every A-label of the result
/// (`Some(valid)`), or `None` when some A-label was given as Punycode (or produced by a
/// mapping) and must be decoded to be checked.
fn domain_to_ascii(domain: &str, out: &mut String) -> Result<Option<bool>, EmailReason> {
    let start = out.len();
    let mut unicode_labels = 0_usize;
    let mut idna2008_ok = true;
    let result = Uts46::new().process(
        domain.as_bytes(),
        AsciiDenyList::STD3,
        Hyphens::Check,
        ErrorPolicy::FailFast,
        |label, _tld, _bidi| {
            unicode_labels += 1;
            idna2008_ok &= idna2008_label_chars(label);
            false
        },
        out,
        None,
    );
    match result {
        Ok(ProcessingSuccess::Passthrough) => {
            // The input is the output (and ASCII); nothing was written.
            out.truncate(start);
            out.push_str(domain);
        }
        Ok(ProcessingSuccess::WroteToSink) => {}
        Err(_) => return Err(EmailReason::DomainInvalid),
    }
    let ascii = out.get(start..).unwrap_or_default();
    let xn_labels = ascii.split('.').filter(|l| l.starts_with("xn--")).count();
    Ok((xn_labels == unicode_labels).then_some(idna2008_ok))
}

/// The rules on the ASCII form of the domain (rules 5 and 6). `idna2008` is what
/// [`domain_to_ascii`] returned.
fn check_ascii_domain(
    ascii: &str,
    idna2008: Option<bool>,
    opts: &EmailOptions,
) -> Result<(), EmailReason> {
    // UTS #46 output is lowercase ASCII; the label check below refuses anything else.
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
    if ascii.contains("xn--") {
        // A-labels the domain did not spell in Unicode (given as Punycode, or produced by a
        // mapping) were not shown to the check inside `domain_to_ascii`: decode them.
        let valid = idna2008.unwrap_or_else(|| ascii.split('.').all(idna2008_label));
        if !valid {
            return Err(EmailReason::DomainInvalid);
        }
    }
    if !last.ends_with(|c: char| c.is_ascii_lowercase()) {
        return Err(EmailReason::DomainNumericTld);
    }
    if !opts.allow_special_use && SPECIAL_USE.contains(&last) {
        return Err(EmailReason::DomainSpecialUse);
    }
    Ok(())
}

/// RFC 5892 code point validity of an A-label's U-label, after UTS #46 mapping.
///
/// UTS #46 is more permissive than IDNA2008: it lets symbols and punctuation (`∫`, `⫇`),
/// Hangul conjoining jamo and a few other code points through. IDNA2008 (RFC 5892 §2) allows
/// only letters, digits and combining marks (`LetterDigits`: Ll Lu Lo Lm Nd Mn Mc) plus the
/// listed exceptions, and refuses the Hangul jamo blocks (§2.9). The contextual rules for
/// U+00B7 (between two `l`, RFC 5892 Appendix A.3) are applied; the other CONTEXTO code
/// points are allowed.
fn idna2008_label(label: &str) -> bool {
    let Some(encoded) = label.strip_prefix("xn--") else {
        return true;
    };
    idna::punycode::decode(encoded).is_some_and(|chars| idna2008_label_chars(&chars))
}

/// [`idna2008_label`] on the code points of a U-label.
fn idna2008_label_chars(chars: &[char]) -> bool {
    chars.iter().enumerate().all(|(i, &c)| {
        if common_letter(c) {
            return true;
        }
        if c.is_ascii() {
            return c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
        }
        match c {
            // RFC 5892 §2.6 exceptions: PVALID.
            '\u{DF}' | '\u{3C2}' | '\u{6FD}' | '\u{6FE}' | '\u{F0B}' | '\u{3007}' => true,
            // §2.6 exceptions: DISALLOWED.
            '\u{640}'
            | '\u{7FA}'
            | '\u{302E}'
            | '\u{302F}'
            | '\u{3031}'..='\u{3035}'
            | '\u{303B}' => false,
            // CONTEXTO: MIDDLE DOT between two 'l'.
            '\u{B7}' => i > 0 && chars.get(i - 1) == Some(&'l') && chars.get(i + 1) == Some(&'l'),
            '\u{375}' | '\u{5F3}' | '\u{5F4}' | '\u{30FB}' => true,
            // §2.9 HangulJamo: DISALLOWED.
            '\u{1100}'..='\u{11FF}' | '\u{A960}'..='\u{A97F}' | '\u{D7B0}'..='\u{D7FF}' => false,
            // ZWJ / ZWNJ: CONTEXTJ, already checked by UTS #46 CheckJoiners.
            '\u{200C}' | '\u{200D}' => true,
            _ => matches!(
                c.general_category(),
                GeneralCategory::LowercaseLetter
                    | GeneralCategory::UppercaseLetter
                    | GeneralCategory::OtherLetter
                    | GeneralCategory::ModifierLetter
                    | GeneralCategory::DecimalNumber
                    | GeneralCategory::NonspacingMark
                    | GeneralCategory::SpacingMark
            ),
        }
    })
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

    fn norm(input: &str) -> Result<(String, usize), EmailReason> {
        normalize_email(input, &EmailOptions::new())
    }

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
        EmailReason::LocalPartUnsafeCharacter,
        EmailReason::LocalPartLeadingMark,
        EmailReason::DomainUnsafeCharacter,
        EmailReason::DomainSpecialUse,
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
            let (out, at) = norm(input).unwrap_or_else(|e| panic!("{input:?} rejected: {e}"));
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
            ("a\u{202E}b@x.com", R::LocalPartUnsafeCharacter),
            ("a\u{00A0}b@x.com", R::LocalPartUnsafeCharacter),
            ("a\u{0085}b@x.com", R::LocalPartUnsafeCharacter),
            ("a@", R::DomainEmpty),
            ("a@[192.0.2.1]", R::DomainLiteral),
            ("a@[IPv6:2001:db8::1]", R::DomainLiteral),
            ("a@b", R::DomainNotFullyQualified),
            ("a@localhost", R::DomainNotFullyQualified),
            ("a@x..com", R::DomainLabelInvalid),
            ("a@.x.com", R::DomainLabelInvalid),
            ("a@x.com.", R::DomainLabelInvalid),
            ("a@-x.com", R::DomainInvalid),
            ("a@x-.com", R::DomainInvalid),
            ("a@x_y.com", R::DomainInvalid),
            ("a@x y.com", R::DomainInvalid),
            (&label64, R::DomainLabelInvalid),
            ("a@1.2.3.4", R::DomainNumericTld),
            ("a@example.123", R::DomainNumericTld),
            ("a@example.co1", R::DomainNumericTld),
            ("a@xn--zz.com", R::DomainInvalid),
            (&long_domain, R::DomainTooLong),
            (&long_addr, R::TooLong),
            (&huge, R::TooLong),
        ];
        for (input, expected) in cases {
            assert_eq!(
                norm(input),
                Err(*expected),
                "input {input:?} (len {})",
                input.len()
            );
        }
    }

    /// The cases of issue 15: invisible characters, hyphens in IDN labels, special-use names,
    /// NFC, and the lookup key.
    #[test]
    fn invisible_characters_hyphens_special_use_nfc() {
        use EmailReason as R;
        for bad in [
            "\u{200B}john@example.com",
            "jo\u{00AD}hn@example.com",
            "jo\u{200D}hn@example.com",
            "jo\u{200C}hn@example.com",
            "jo\u{2060}hn@example.com",
            "\u{FEFF}john@example.com",
            "jo\u{E000}hn@example.com",
            "jo\u{0378}hn@example.com",
            "jo\u{E0041}hn@example.com",
            "jo\u{FFFE}hn@example.com",
            "jo\u{2028}hn@example.com",
            "jo\u{3000}hn@example.com",
        ] {
            assert_eq!(norm(bad), Err(R::LocalPartUnsafeCharacter), "{bad:?}");
        }
        assert_eq!(
            norm("\u{0301}john@example.com"),
            Err(R::LocalPartLeadingMark)
        );
        // A mark after the first character is part of a letter.
        assert!(norm("jose\u{0301}@example.com").is_ok());
        for bad in [
            "john@exa\u{200B}mple.com",
            "john@exa\u{00AD}mple.com",
            "john@\u{0301}example.com",
        ] {
            assert_eq!(norm(bad), Err(R::DomainUnsafeCharacter), "{bad:?}");
        }
        for bad in [
            "john@-exa\u{e4}mple.com",
            "john@exa\u{e4}mple-.com",
            "john@ab--c\u{e4}.com",
        ] {
            assert_eq!(norm(bad), Err(R::DomainInvalid), "{bad:?}");
        }
        // RFC 5892: symbols UTS #46 lets through are refused, whether the domain spells
        // them in Unicode (checked on idna's mapped label) or as Punycode (decoded).
        for bad in ["a@\u{222B}x.com", "a@x\u{2AC7}.example", "a@xn--x-sco.com"] {
            assert_eq!(norm(bad), Err(R::DomainInvalid), "{bad:?}");
        }
        // RFC 5893: a right-to-left label next to a label starting with a digit.
        assert_eq!(norm("a@1.\u{05D0}\u{05D1}.com"), Err(R::DomainInvalid));
        for tld in ["local", "onion", "invalid", "test", "arpa", "localhost"] {
            let addr = format!("a@host.{tld}");
            assert_eq!(norm(&addr), Err(R::DomainSpecialUse), "{addr}");
            let upper = format!("a@HOST.{}", tld.to_uppercase());
            let allowed = normalize_email(&upper, &EmailOptions::new().allow_special_use(true));
            assert_eq!(allowed.map(|(a, _)| a), Ok(addr));
        }
        assert!(norm("a@example.com").is_ok() && norm("a@mail.example").is_ok());
        // NFC: decomposed and precomposed forms are stored alike.
        let (nfd, _) = norm("jose\u{0301}@example.com").unwrap();
        let (nfc, _) = norm("jos\u{e9}@example.com").unwrap();
        assert_eq!(nfd, nfc);
        assert_eq!(nfc, "jos\u{e9}@example.com");
    }

    #[test]
    fn lookup_key_folds_local_case_only() {
        let key = |s: &str| {
            let (n, at) = norm(s).unwrap();
            lookup_key(&n, at).to_string()
        };
        assert_eq!(key("Dora@Example.ORG"), "dora@example.org");
        assert_eq!(key("dora@example.org"), key("DORA@example.org"));
        assert_eq!(key("\u{c9}mile@example.com"), "\u{e9}mile@example.com");
        assert_eq!(key("E\u{0301}MILE@example.com"), "\u{e9}mile@example.com");
        // The stored form keeps the case as given.
        assert_eq!(norm("Dora@Example.ORG").unwrap().0, "Dora@example.org");
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

    /// The fast path accepts only what the general path accepts, with the same result, and
    /// it accepts every such address whose labels have no `--` in third and fourth position
    /// (otherwise it would never be taken).
    fn fast_and_general_agree(input: &str) -> Result<(), TestCaseError> {
        for opts in [
            EmailOptions::new(),
            EmailOptions::new().allow_special_use(true),
        ] {
            let trimmed = crate::data::trim_input(input);
            let fast = ascii_fast_path(trimmed, &opts);
            let general = normalize_general(trimmed, &opts);
            prop_assert_eq!(normalize_email(input, &opts), general.clone());
            match (fast, general) {
                (Some(f), g) => prop_assert_eq!(Ok(f), g, "{:?}", input),
                (None, Ok(_)) => {
                    let domain = trimmed.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
                    prop_assert!(
                        domain.split('.').any(|l| l.get(2..4) == Some("--")),
                        "fast path missed {:?}",
                        input
                    );
                }
                (None, Err(_)) => {}
            }
        }
        Ok(())
    }

    /// Every code point `common_letter` lets skip the tables answers the tables the same way.
    #[test]
    fn common_letters_are_what_the_tables_say() {
        use unicode_normalization::char::canonical_combining_class;
        let mut n = 0;
        for c in (0x80..=0x10FFFF_u32)
            .filter_map(char::from_u32)
            .filter(|&c| common_letter(c))
        {
            assert!(
                matches!(
                    c.general_category(),
                    GeneralCategory::UppercaseLetter
                        | GeneralCategory::LowercaseLetter
                        | GeneralCategory::OtherLetter
                ),
                "{c:?} {:?}",
                c.general_category()
            );
            assert_eq!(canonical_combining_class(c), 0, "{c:?}");
            assert_eq!(is_nfc_quick(std::iter::once(c)), IsNormalized::Yes, "{c:?}");
            // The tables' answers, without the shortcut.
            assert!(!matches!(
                c.general_category_group(),
                GeneralCategoryGroup::Other | GeneralCategoryGroup::Separator
            ));
            // Not one of the RFC 5892 exceptions or ranges `idna2008_label_chars` refuses.
            assert!(
                !matches!(c, '\u{B7}' | '\u{640}' | '\u{7FA}' | '\u{302E}' | '\u{302F}'
                    | '\u{3031}'..='\u{3035}' | '\u{303B}' | '\u{1100}'..='\u{11FF}'
                    | '\u{A960}'..='\u{A97F}' | '\u{D7B0}'..='\u{D7FF}'),
                "{c:?}"
            );
            n += 1;
        }
        assert!(n > 20_000, "{n}");
    }

    #[test]
    fn fast_path_agrees_on_the_unit_cases() {
        for input in [
            "user@example.com",
            "  User.Name@Example.COM \t\n",
            "a@host.LOCAL",
            "a@ab--c.com",
            "a@xn--bcher-kva.example",
            "a@XN--BCHER-KVA.example",
            "a@x-.com",
            "a@1.2.3.4",
            "a@example.co1",
            ".a@example.com",
        ] {
            fast_and_general_agree(input).unwrap();
        }
        assert!(ascii_fast_path("Bob@Example.ORG", &EmailOptions::new()).is_some());
        assert!(ascii_fast_path("a@host.local", &EmailOptions::new()).is_none());
    }

    proptest! {
        #[test]
        fn fast_path_agrees_on_random_ascii(input in "[ -~]{0,80}") {
            fast_and_general_agree(&input)?;
        }

        #[test]
        fn fast_path_agrees_on_address_like_ascii(
            local in "[a-zA-Z0-9.!#_+@ -]{0,12}",
            labels in prop::collection::vec("[a-zA-Z0-9_-]{0,8}", 0..4),
            tld in "([a-zA-Z0-9-]{0,6}|local|onion|TEST|xn--[a-z0-9-]{1,8})",
        ) {
            let mut input = format!("{local}@");
            for l in &labels {
                input.push_str(l);
                input.push('.');
            }
            input.push_str(&tld);
            fast_and_general_agree(&input)?;
        }

        #[test]
        fn never_panics_and_errors_never_echo_input(input in any::<String>()) {
            if let Err(e) = norm(&input) {
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
            if let Err(e) = norm(&input) {
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
            if let Ok((out, at)) = norm(&input) {
                prop_assert_eq!(norm(&out), Ok((out.clone(), at)));
            }
        }

        #[test]
        fn idempotent_on_address_like(
            local in "[a-zA-Z0-9!#$%&'*+/=?^_`{|}~ü用-]{1,20}(\\.[a-zA-Z0-9ü-]{1,10}){0,3}",
            labels in prop::collection::vec("[a-zA-Z0-9üß例Ä-]{1,20}", 1..4),
            tld in "[a-zA-Z广告]{2,6}",
        ) {
            let input = format!("{local}@{}.{tld}", labels.join("."));
            if let Ok((out, at)) = norm(&input) {
                prop_assert_eq!(out.get(..at), Some(local.as_str()));
                prop_assert!(out.is_ascii() || !local.is_ascii());
                prop_assert_eq!(norm(&out), Ok((out.clone(), at)));
            }
        }
    }
}
