// A host consent scope cannot take a built-in scope's name (it would shadow it in the
// ledger, receipts and the export).
use crm_privacy::*;
struct Tracking;
impl HostPurpose for Tracking {
    const NAME: &'static str = "tracking";
    const LEGAL_BASIS: LegalBasis = LegalBasis::Consent;
    const DPV_IRI: Option<&'static str> = None;
}
host_consent_scope!(MyCookies, "cookies", purposes [Tracking]);
fn main() {}
