// The masked relation is sealed like the full one: a host crate cannot add a masked view of
// a built-in kind for a purpose of its own, nor give its own kind a masked form.
use crm_privacy::*;
use zeroize::Zeroizing;

struct Marketing;
impl HostPurpose for Marketing {
    const NAME: &'static str = "marketing";
    const LEGAL_BASIS: LegalBasis = LegalBasis::Consent;
    const DPV_IRI: Option<&'static str> = None;
}
impl MaskedFor<Marketing> for Email {}

struct Nickname;
impl HostKind for Nickname {
    const NAME: &'static str = "nickname";
    fn encode(&self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(Vec::new())
    }
    fn decode(_: &[u8]) -> Result<Self, DataError> {
        Ok(Self)
    }
    fn to_text(&self) -> Zeroizing<String> {
        Zeroizing::new(String::new())
    }
    fn from_text(_: &str) -> Result<Self, DataError> {
        Ok(Self)
    }
}
impl UsableFor<Marketing> for Nickname {}
impl MaskedFor<Marketing> for Nickname {}
fn main() {}
