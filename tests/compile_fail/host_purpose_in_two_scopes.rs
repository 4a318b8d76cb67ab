// One host purpose, one scope: a purpose listed in two host scopes does not compile.
use crm_privacy::*;
struct Alerts;
impl HostPurpose for Alerts {
    const NAME: &'static str = "alerts";
    const LEGAL_BASIS: LegalBasis = LegalBasis::Consent;
    const DPV_IRI: Option<&'static str> = None;
}
host_consent_scope!(Push, "push", purposes [Alerts]);
host_consent_scope!(Sms, "sms", purposes [Alerts]);
fn main() {}
