//! Policy versions (clause 10).
//!
//! Clause 10.1 lets the policy change but guarantees that the basic confidentiality
//! provisions stay unchanged; clause 10.2 promises notification of significant changes.
//! A [`PolicyHistory`] records versions with their effective date, a "significant" flag and
//! a SHA-256 fingerprint of the confidentiality provisions (clauses 7 and 8, supplied by the
//! host as text). Publishing a version whose fingerprint differs is refused. Which subjects
//! still need notifying comes from acknowledgments recorded as consent of scope
//! `ConsentScope::PolicyVersion(n)` (`Custodian::subjects_to_notify`).

use chrono::{DateTime, Utc};
use ring::digest;
use serde::Serialize;

/// One published version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyVersion {
    /// Version number (strictly increasing).
    pub number: u32,
    /// When it takes effect.
    pub effective: DateTime<Utc>,
    /// Whether subjects must be notified (clause 10.2).
    pub significant: bool,
    /// SHA-256 of the normalized confidentiality provisions (clauses 7, 8), hex.
    pub confidentiality_fingerprint: String,
}

/// Why a version was not published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VersionError {
    /// The number does not increase.
    #[error("version {0} does not follow the current version")]
    NotIncreasing(u32),
    /// It takes effect before the previous version.
    #[error("version {0} takes effect before its predecessor")]
    EffectiveBeforePrevious(u32),
    /// The confidentiality provisions changed (clause 10.1 forbids it).
    #[error("version {0} changes the basic confidentiality provisions (clause 10.1)")]
    ConfidentialityChanged(u32),
}

/// Fingerprint of provisions text: whitespace-normalized, then SHA-256, hex.
#[must_use]
pub fn fingerprint(provisions: &str) -> String {
    let normalized: Vec<&str> = provisions.split_whitespace().collect();
    let d = digest::digest(&digest::SHA256, normalized.join(" ").as_bytes());
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// The published versions, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyHistory {
    versions: Vec<PolicyVersion>,
}

impl PolicyHistory {
    /// Starts the history with its first version.
    #[must_use]
    pub fn new(number: u32, effective: DateTime<Utc>, confidentiality_provisions: &str) -> Self {
        Self {
            versions: vec![PolicyVersion {
                number,
                effective,
                significant: true,
                confidentiality_fingerprint: fingerprint(confidentiality_provisions),
            }],
        }
    }

    /// Publishes a new version.
    ///
    /// # Errors
    /// [`VersionError`] when the number or date does not follow, or the confidentiality
    /// provisions changed.
    pub fn publish(
        &mut self,
        number: u32,
        effective: DateTime<Utc>,
        significant: bool,
        confidentiality_provisions: &str,
    ) -> Result<&PolicyVersion, VersionError> {
        let last = self
            .versions
            .last()
            .ok_or(VersionError::NotIncreasing(number))?;
        if number <= last.number {
            return Err(VersionError::NotIncreasing(number));
        }
        if effective < last.effective {
            return Err(VersionError::EffectiveBeforePrevious(number));
        }
        let fp = fingerprint(confidentiality_provisions);
        if fp != last.confidentiality_fingerprint {
            return Err(VersionError::ConfidentialityChanged(number));
        }
        self.versions.push(PolicyVersion {
            number,
            effective,
            significant,
            confidentiality_fingerprint: fp,
        });
        self.versions
            .last()
            .ok_or(VersionError::NotIncreasing(number))
    }

    /// The version in force at `now`.
    #[must_use]
    pub fn current(&self, now: DateTime<Utc>) -> Option<&PolicyVersion> {
        self.versions.iter().rev().find(|v| v.effective <= now)
    }

    /// The latest significant version in force at `now` (what subjects must acknowledge).
    #[must_use]
    pub fn last_significant(&self, now: DateTime<Utc>) -> Option<&PolicyVersion> {
        self.versions
            .iter()
            .rev()
            .find(|v| v.effective <= now && v.significant)
    }

    /// All versions.
    #[must_use]
    pub fn versions(&self) -> &[PolicyVersion] {
        &self.versions
    }
}
