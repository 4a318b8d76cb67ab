//! TEMPORARY minimal phone check; replaced by the full validator.
#![allow(missing_docs)]
/// Why a phone number was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PhoneReason {
    /// bad
    #[error("missing country code")]
    MissingCountryCode,
}
pub(crate) fn normalize_phone(input: &str) -> Result<(String, u16), PhoneReason> {
    let d: String = input.chars().filter(|c| c.is_ascii_digit()).collect();
    if !input.trim_start().starts_with('+') || d.len() < 6 {
        return Err(PhoneReason::MissingCountryCode);
    }
    let cc = if d.starts_with('1') || d.starts_with('7') {
        &d[..1]
    } else {
        &d[..2]
    };
    Ok((format!("+{d}"), cc.parse().unwrap_or(0)))
}
