// The built-in table is sealed: a host purpose cannot be added to a built-in kind.
use crm_privacy::*;
struct Marketing;
impl HostPurpose for Marketing {
    const NAME: &'static str = "marketing";
    const LEGAL_BASIS: LegalBasis = LegalBasis::Consent;
    const DPV_IRI: Option<&'static str> = None;
}
impl UsableFor<Marketing> for Email {}
fn main() {}
