//! TEMPORARY minimal email check; replaced by the full validator.
#![allow(missing_docs)]
/// Why an email address was rejected. Never contains (part of) the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EmailReason {
    /// no @
    #[error("missing @")]
    MissingAt,
}
pub(crate) fn normalize_email(input: &str) -> Result<(String, usize), EmailReason> {
    let input = input.trim();
    let at = input.rfind('@').ok_or(EmailReason::MissingAt)?;
    if at == 0 || at + 1 == input.len() || !input[at + 1..].contains('.') {
        return Err(EmailReason::MissingAt);
    }
    Ok((
        format!("{}@{}", &input[..at], input[at + 1..].to_ascii_lowercase()),
        at,
    ))
}
