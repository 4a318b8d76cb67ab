// A host purpose cannot pose as a built-in one: `Purpose` itself is sealed.
use crm_privacy::*;
struct FakeNotification;
impl Purpose for FakeNotification {
    const ID: PurposeRef = PurposeRef::Builtin(PurposeId::Notification);
    const NAME: &'static str = "notification";
    const LEGAL_BASIS: LegalBasis = LegalBasis::Contract;
    const DPV_IRI: Option<&'static str> = None;
}
fn main() {}
