//! Global Privacy Control (clauses 3.4, 3.6): the `Sec-GPC` request header read as a typed
//! signal, and the consent scopes a signal opts the subject out of.
//!
//! The header follows the GPC specification (W3C Privacy CG, "Global Privacy Control",
//! section "The Sec-GPC Header Field"): its grammar is `Sec-GPC = "1"`, the name is
//! case-insensitive (RFC 9110 §5.1) and optional whitespace around the value is not part of
//! it (§5.5). Anything else is no signal. Two `Sec-GPC` fields in one request are combined as
//! RFC 9110 §5.3 allows an intermediary to do (`1, 1`), which does not match the grammar: no
//! signal either way, so the answer never depends on whether a proxy joined them.
//!
//! Which scopes a signal covers is derived, never listed: a consent scope (built-in from the
//! one scope table, or declared by the host) is covered when a purpose it gates has a
//! consent basis and a DPV purpose in [`TRACKING_PURPOSES`]. `docs/gpc.md` says what a
//! signal does not cover.

use crate::consent::ConsentScope;
use crate::policy::{HostScope, PurposeInfo};
use crate::purpose::LegalBasis;

/// Whether a request carried a Global Privacy Control opt-out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GpcSignal {
    /// `Sec-GPC: 1` (or `navigator.globalPrivacyControl === true`): the subject opts out.
    OptOut,
    /// No valid signal. Not an opt-in: nothing changes.
    Absent,
}

impl GpcSignal {
    /// The signal of a browser's `navigator.globalPrivacyControl` value.
    #[must_use]
    pub const fn from_navigator(global_privacy_control: bool) -> Self {
        if global_privacy_control {
            Self::OptOut
        } else {
            Self::Absent
        }
    }

    /// Whether it is an opt-out.
    #[must_use]
    pub const fn is_opt_out(self) -> bool {
        matches!(self, Self::OptOut)
    }
}

/// The header's name, compared without regard to ASCII case.
pub const HEADER: &str = "Sec-GPC";

/// Reads the GPC signal from a request's header fields, given as `(name, value)` pairs in
/// any byte form (`&str`, `String`, `http::HeaderName`/`HeaderValue` all work).
///
/// Exactly one `Sec-GPC` field whose value is `1` once surrounding spaces and tabs are
/// removed is [`GpcSignal::OptOut`]; no field, another value (`0`, `true`, `1, 1`) or two
/// fields is [`GpcSignal::Absent`].
///
/// ```
/// use crm_privacy::gpc::{self, GpcSignal};
/// assert_eq!(gpc::from_headers([("sec-gpc", " 1 ")]), GpcSignal::OptOut);
/// assert_eq!(gpc::from_headers([("Sec-GPC", "0")]), GpcSignal::Absent);
/// assert_eq!(gpc::from_headers([("Sec-GPC", "1"), ("Sec-GPC", "1")]), GpcSignal::Absent);
/// ```
pub fn from_headers<I, N, V>(headers: I) -> GpcSignal
where
    I: IntoIterator<Item = (N, V)>,
    N: AsRef<[u8]>,
    V: AsRef<[u8]>,
{
    let mut fields = headers
        .into_iter()
        .filter(|(n, _)| n.as_ref().eq_ignore_ascii_case(HEADER.as_bytes()));
    let Some((_, value)) = fields.next() else {
        return GpcSignal::Absent;
    };
    if fields.next().is_some() {
        return GpcSignal::Absent;
    }
    if trim_ows(value.as_ref()) == b"1" {
        GpcSignal::OptOut
    } else {
        GpcSignal::Absent
    }
}

/// Strips optional whitespace (space and horizontal tab, RFC 9110 §5.6.3) from both ends.
fn trim_ows(v: &[u8]) -> &[u8] {
    let ows = |b: &u8| *b == b' ' || *b == b'\t';
    let start = v.iter().position(|b| !ows(b)).unwrap_or(v.len());
    let end = v.iter().rposition(|b| !ows(b)).map_or(start, |e| e + 1);
    v.get(start..end).unwrap_or_default()
}

/// DPV purpose terms (in the `dpv` namespace) a GPC signal opts out of: usage analytics,
/// personalisation (what cookies remember, clause 3.6), marketing or advertising, and the
/// sale of data (the "sale or sharing" the GPC specification names). Sources: DPV 2.x
/// purpose taxonomy (`https://w3id.org/dpv#`), `docs/gpc.md`.
pub const TRACKING_PURPOSES: &[&str] = &[
    "SellDataToThirdParties",
    "SellInsightsFromData",
    "ServiceUsageAnalytics",
    "Personalisation",
    "ServicePersonalisation",
    "UserInterfacePersonalisation",
    "Marketing",
    "DirectMarketing",
    "Advertising",
    "PersonalisedAdvertising",
    "TargetedAdvertising",
];

/// Whether a purpose is one a GPC signal opts out of: consent basis and a DPV purpose in
/// [`TRACKING_PURPOSES`], however the IRI is written (the `https` or `http` namespace IRI,
/// or the `dpv:` CURIE).
#[must_use]
pub fn is_tracking(purpose: &PurposeInfo) -> bool {
    matches!(purpose.legal_basis, LegalBasis::Consent)
        && purpose
            .dpv_iri
            .and_then(crate::purpose::dpv_term)
            .is_some_and(|term| TRACKING_PURPOSES.contains(&term))
}

/// A consent scope a GPC signal covers: built-in or declared by the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GpcScope {
    /// A scope of the built-in table.
    Builtin(ConsentScope),
    /// A host scope.
    Host(HostScope),
}

impl GpcScope {
    /// Its name (as the ledger records it).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Builtin(s) => s.name(),
            Self::Host(s) => s.name(),
        }
    }
}

/// Every scope a GPC signal covers, built-in scopes first in table order, then host scopes
/// by name: a scope is covered when one of the purposes it gates [`is_tracking`]. A host
/// purpose is known by the [`PurposeInfo`] a `host_policy!` row declares for it.
#[must_use]
pub fn covered_scopes() -> Vec<GpcScope> {
    let mut out: Vec<GpcScope> = ConsentScope::all()
        .filter(|s| {
            s.purposes()
                .iter()
                .any(|&p| is_tracking(&PurposeInfo::builtin(p)))
        })
        .map(GpcScope::Builtin)
        .collect();
    let mut host: Vec<HostScope> = HostScope::all()
        .filter(|s| {
            s.purposes().iter().any(|name| {
                crate::policy::host_purpose(name).is_some_and(|info| is_tracking(&info))
            })
        })
        .collect();
    host.sort_by_key(|s| s.name());
    host.dedup();
    out.extend(host.into_iter().map(GpcScope::Host));
    out
}

/// What applying a signal did, scope by scope (names as the ledger records them).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct GpcOutcome {
    /// Scopes whose consent in force the signal withdrew.
    pub withdrawn: Vec<&'static str>,
    /// Scopes with no consent in force, now recorded as refused.
    pub refused: Vec<&'static str>,
    /// Scopes a signal had opted out of before: left as they are (a consent the subject
    /// gave explicitly since then stands).
    pub unchanged: Vec<&'static str>,
}

impl GpcOutcome {
    /// Whether the call recorded anything.
    #[must_use]
    pub fn changed(&self) -> bool {
        !self.withdrawn.is_empty() || !self.refused.is_empty()
    }
}

/// Longest host reference an opt-out's evidence carries.
pub const MAX_REFERENCE: usize = 64;

/// Whether `r` may be a host reference in the evidence: 1 to [`MAX_REFERENCE`] characters of
/// `A-Z a-z 0-9 _ -` (a request or event id). Without `.`, `:`, `@`, `/` or spaces there is
/// no room for an IP address (v4 or v6), a host name, an email address or a user agent; a
/// host must still not put a name there (an alphabet cannot tell `johnsmith` from an id).
#[must_use]
pub fn valid_reference(r: &str) -> bool {
    !r.is_empty()
        && r.len() <= MAX_REFERENCE
        && r.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'))
}
