//! Masked forms of the kinds that have one (email, phone): what a reader for a weaker
//! purpose sees instead of the value (`docs/masked-views.md`).
//!
//! | kind | masked form | reveals at most |
//! |---|---|---|
//! | email | `a•••@example.com` | the first character of the local part (none for a one-character local part), the domain in its ASCII form |
//! | phone | `+44 •••• 0958` | the country calling code and the last four digits, and always keeps at least four digits of the national number hidden |
//!
//! The mask is fixed (`•••` for an email, `••••` for a phone) whatever the length of what it
//! hides, so the masked form does not tell the length either. The masked text is computed
//! inside the custodian from the decrypted value, into a buffer allocated once at its final
//! size (no reallocation leaves a copy behind) that zeroizes itself on drop.

use core::fmt;
use core::marker::PhantomData;

use zeroize::Zeroizing;

use super::{DataKind, Email, Phone};
use crate::purpose::sealed::Masks;

/// The mask written in place of the hidden part of an email's local part (three U+2022).
pub(crate) const EMAIL_MASK: &str = "\u{2022}\u{2022}\u{2022}";
/// The mask written in place of the hidden digits of a phone number (four U+2022).
pub(crate) const PHONE_MASK: &str = "\u{2022}\u{2022}\u{2022}\u{2022}";
/// Digits of a phone number's national significant number that are never shown.
const PHONE_MIN_HIDDEN: usize = 4;
/// Digits shown at most (the last ones).
const PHONE_MAX_SHOWN: usize = 4;

/// The masked view of a value of kind `K`, as
/// [`Custodian::with_masked`](crate::custodian::Custodian::with_masked) hands it out.
///
/// It holds only the masked text, never the value it was computed from: `Debug` and
/// `Display` print the masked form, and the buffer is zeroized when dropped. Neither
/// `Clone` nor `Serialize`: copy the text out with [`as_str`](Self::as_str) where the host
/// shows it.
///
/// ```
/// # use crm_privacy::{Email, Masked};
/// // Only the custodian makes one; its text is the masked form, e.g. `a•••@example.com`.
/// fn show(m: &Masked<Email>) -> String {
///     format!("reply to {m}")
/// }
/// # let _ = show;
/// ```
pub struct Masked<K: DataKind> {
    text: Zeroizing<String>,
    kind: PhantomData<fn() -> K>,
}

impl<K: DataKind + Masks> Masked<K> {
    /// Masks `value` (crate only: the custodian calls it on the value it decrypted).
    pub(crate) fn of(value: &K) -> Self {
        Self {
            text: value.masked_text(),
            kind: PhantomData,
        }
    }
}

impl<K: DataKind> Masked<K> {
    /// The masked text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl<K: DataKind> fmt::Display for Masked<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl<K: DataKind> fmt::Debug for Masked<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Masked")
            .field(&K::KIND.name())
            .field(&self.text.as_str())
            .finish()
    }
}

// `Zeroizing` wipes the text when it drops.
impl<K: DataKind> zeroize::ZeroizeOnDrop for Masked<K> {}

impl Masks for Email {
    const MASK_FORMAT: &'static str = "first character (grapheme cluster) of the local part, \u{2022}\u{2022}\u{2022}, the domain in ascii (a one-character local part is masked whole)";

    fn masked_text(&self) -> Zeroizing<String> {
        use unicode_segmentation::UnicodeSegmentation as _;
        let domain = self.domain();
        // Characters as a reader sees them (UAX #29 extended grapheme clusters): a base with
        // its combining marks, an emoji with its modifier, a flag's two regional
        // indicators. The first is shown only when at least one more is hidden — a
        // one-character local part shown would be the whole address — and whole, never a
        // part of it (outside review: `👍🏽@…` showed the thumb without its skin tone).
        let mut graphemes = self.local_part().graphemes(true);
        let first = match (graphemes.next(), graphemes.next()) {
            (Some(g), Some(_)) => Some(g),
            _ => None,
        };
        let len = first.map_or(0, str::len) + EMAIL_MASK.len() + 1 + domain.len();
        let mut out = Zeroizing::new(String::with_capacity(len));
        if let Some(g) = first {
            out.push_str(g);
        }
        out.push_str(EMAIL_MASK);
        out.push('@');
        out.push_str(domain);
        out
    }
}

impl Masks for Phone {
    const MASK_FORMAT: &'static str = "+country code, \u{2022}\u{2022}\u{2022}\u{2022}, at most the last four digits (at least four digits of the national number always hidden)";

    fn masked_text(&self) -> Zeroizing<String> {
        let e164 = self.as_e164();
        let cc_digits = self
            .country_code()
            .checked_ilog10()
            .map_or(1, |d| d as usize + 1);
        // E.164: `+`, the country code, the national significant number.
        let cc = e164.get(1..=cc_digits).unwrap_or_default();
        let nsn = e164.get(1 + cc_digits..).unwrap_or_default();
        let shown = nsn
            .len()
            .saturating_sub(PHONE_MIN_HIDDEN)
            .min(PHONE_MAX_SHOWN);
        let tail = nsn.get(nsn.len() - shown..).unwrap_or_default();
        let len = 1 + cc.len() + 1 + PHONE_MASK.len() + usize::from(shown > 0) + tail.len();
        let mut out = Zeroizing::new(String::with_capacity(len));
        out.push('+');
        out.push_str(cc);
        out.push(' ');
        out.push_str(PHONE_MASK);
        if shown > 0 {
            out.push(' ');
            out.push_str(tail);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(s: &str) -> String {
        Masked::of(&Email::parse(s).unwrap()).as_str().to_owned()
    }

    fn phone(s: &str) -> String {
        Masked::of(&Phone::parse(s).unwrap()).as_str().to_owned()
    }

    #[test]
    fn email_forms() {
        assert_eq!(email("alice@example.com"), "a•••@example.com");
        assert_eq!(email("a@example.com"), "•••@example.com");
        assert_eq!(email("ab@example.com"), "a•••@example.com");
        assert_eq!(email("José@Bücher.example"), "J•••@xn--bcher-kva.example");
        // One user-perceived character is masked whole; the first of several is shown whole.
        for one in ["👍🏽", "🇫🇷", "g\u{308}"] {
            assert_eq!(
                email(&format!("{one}@example.com")),
                "•••@example.com",
                "{one}"
            );
            assert_eq!(
                email(&format!("{one}x@example.com")),
                format!("{one}•••@example.com"),
                "{one}"
            );
        }
    }

    #[test]
    fn phone_forms() {
        assert_eq!(phone("+442079460958"), "+44 •••• 0958");
        assert_eq!(phone("+14155550100"), "+1 •••• 0100");
    }

    #[test]
    fn buffers_are_allocated_at_their_final_size() {
        for e in ["alice@example.com", "a@example.com", "José@Bücher.example"] {
            let m = Email::parse(e).unwrap().masked_text();
            assert_eq!(m.len(), m.capacity(), "{e}");
        }
        for p in ["+442079460958", "+14155550100", "+35312345678"] {
            let m = Phone::parse(p).unwrap().masked_text();
            assert_eq!(m.len(), m.capacity(), "{p}");
        }
    }
}
