#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]
//! GPC coverage of host purposes however their DPV IRI is written (outside review of
//! issue 19: a `dpv:` CURIE or an `http` IRI was accepted by `host_policy!` and silently
//! left out of what a GPC signal covers, and the sale of data was not covered at all).

mod common;

use crm_privacy::gpc::{self, GpcScope};
use crm_privacy::{HostPurpose, LegalBasis, OwnerAccess, host_consent_scope, host_policy};

crate::text_kind!(Trail, "trail");

/// The sale of data, written as the DPV CURIE.
struct DataSale;
impl HostPurpose for DataSale {
    const NAME: &'static str = "data_sale";
    const LEGAL_BASIS: LegalBasis = LegalBasis::Consent;
    const DPV_IRI: Option<&'static str> = Some("dpv:SellDataToThirdParties");
}

/// Usage analytics, written with the `http` scheme.
struct HttpAnalytics;
impl HostPurpose for HttpAnalytics {
    const NAME: &'static str = "http_analytics";
    const LEGAL_BASIS: LegalBasis = LegalBasis::Consent;
    const DPV_IRI: Option<&'static str> = Some("http://w3id.org/dpv#ServiceUsageAnalytics");
}

/// A purpose of another vocabulary that only looks like DPV: not covered.
struct Lookalike;
impl HostPurpose for Lookalike {
    const NAME: &'static str = "lookalike";
    const LEGAL_BASIS: LegalBasis = LegalBasis::Consent;
    const DPV_IRI: Option<&'static str> = Some("https://example.com/dpv#ServiceUsageAnalytics");
}

host_policy!(Trail => [DataSale, HttpAnalytics, Lookalike, OwnerAccess],
    retention months(13) after Collected, "13 months after collection");
host_consent_scope!(SaleScope, "data_sale", purposes[DataSale], deletes[]);
host_consent_scope!(HttpScope, "http_analytics", purposes[HttpAnalytics], deletes[]);
host_consent_scope!(LookalikeScope, "lookalike", purposes[Lookalike], deletes[]);

#[test]
fn every_dpv_spelling_of_a_tracking_purpose_is_covered() {
    let names: Vec<&str> = gpc::covered_scopes()
        .into_iter()
        .filter(|s| matches!(s, GpcScope::Host(_)))
        .map(GpcScope::name)
        .collect();
    assert_eq!(names, ["data_sale", "http_analytics"]);
}
