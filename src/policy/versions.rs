//! Policy versions (clause 10).
//!
//! Clause 10.1 lets the policy change but guarantees that the basic confidentiality
//! provisions stay unchanged; clause 10.2 promises notification of significant changes.
//! A [`PolicyHistory`] records versions with their effective date, a "significant" flag and
//! a SHA-256 fingerprint of the confidentiality provisions (clauses 7 and 8) **computed from
//! the compiled policy table** ([`confidentiality_provisions`]): which processors receive
//! which kind for which purpose (7.1), the disclosure to authorities (7.2), the transport
//! and the technical and organisational measures (8.1). A release whose table changes any
//! of them cannot publish a new version on a ledger whose first version was published by
//! the old table. `Custodian::publish_policy` records versions in the ledger and delivers
//! notices of significant ones (10.2) through the host's `Notifier`.

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
    /// No such version was published.
    #[error("policy version {0} was not published")]
    Unpublished(u32),
    /// The version is published but not in force yet (its effective date is to come): it
    /// cannot be acknowledged before its notice is due.
    #[error("policy version {0} is not in force yet")]
    NotInForce(u32),
}

/// The basic confidentiality provisions (clauses 7 and 8) as the compiled policy table
/// states them: what [`confidentiality_fingerprint`] hashes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfidentialityProvisions {
    /// Every transfer to a processor (7.1): kind, what the processor does, purpose — sorted.
    pub transfers: Vec<(&'static str, &'static str, &'static str)>,
    /// Disclosure to public authorities (7.2).
    pub authority_disclosure: &'static str,
    /// Encryption in transit as the stores default to it (8.1).
    pub transport: &'static str,
    /// Technical and organisational measures (8.1), in the register's order.
    pub security_measures: Vec<&'static str>,
}

/// The confidentiality provisions of the built-in policy table (see
/// [`ConfidentialityProvisions`]). Host kinds and purposes declared with `host_policy!` do
/// not enter it: they add processing, they cannot change clauses 7 and 8 of the table.
#[must_use]
pub fn confidentiality_provisions() -> ConfidentialityProvisions {
    let register = super::register();
    let mut transfers: Vec<(&'static str, &'static str, &'static str)> = register
        .entries
        .iter()
        .flat_map(|e| {
            e.recipients
                .iter()
                .map(move |r| (e.kind, r.description, r.purpose))
        })
        .collect();
    transfers.sort_unstable();
    ConfidentialityProvisions {
        transfers,
        authority_disclosure: register.authority_disclosure,
        transport: super::register::TRANSPORT_WITHOUT_STORE,
        security_measures: register.security_measures.to_vec(),
    }
}

/// SHA-256 (hex) of the canonical JSON of [`confidentiality_provisions`]: the clause-10.1
/// fingerprint of the compiled table.
#[must_use]
pub fn confidentiality_fingerprint() -> String {
    let json = serde_json::to_vec(&confidentiality_provisions()).unwrap_or_default();
    let d = digest::digest(&digest::SHA256, &json);
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// The published versions, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyHistory {
    versions: Vec<PolicyVersion>,
}

impl PolicyHistory {
    /// Starts the history with its first version, fingerprinted from the compiled table.
    #[must_use]
    pub fn new(number: u32, effective: DateTime<Utc>) -> Self {
        Self::starting_with(number, effective, confidentiality_fingerprint())
    }

    /// Starts the history with a first version of the given fingerprint (replaying a
    /// ledger, or comparing two releases' tables).
    #[must_use]
    pub fn starting_with(number: u32, effective: DateTime<Utc>, fingerprint: String) -> Self {
        Self {
            versions: vec![PolicyVersion {
                number,
                effective,
                significant: true,
                confidentiality_fingerprint: fingerprint,
            }],
        }
    }

    /// Publishes a new version of the compiled table.
    ///
    /// # Errors
    /// [`VersionError`] when the number or date does not follow, or the compiled table's
    /// confidentiality provisions differ from the history's (clause 10.1).
    pub fn publish(
        &mut self,
        number: u32,
        effective: DateTime<Utc>,
        significant: bool,
    ) -> Result<&PolicyVersion, VersionError> {
        self.publish_fingerprinted(
            number,
            effective,
            significant,
            confidentiality_fingerprint(),
        )
    }

    /// Publishes a new version whose table has the given confidentiality fingerprint.
    ///
    /// # Errors
    /// As [`publish`](Self::publish).
    pub fn publish_fingerprinted(
        &mut self,
        number: u32,
        effective: DateTime<Utc>,
        significant: bool,
        fp: String,
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
