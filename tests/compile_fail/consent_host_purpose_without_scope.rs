// A host purpose with a consent legal basis must be gated by a host consent scope: declaring
// a host kind for it without `host_consent_scope!` does not compile.
use crm_privacy::*;
use zeroize::Zeroizing;
struct Note(String);
impl HostKind for Note {
    const NAME: &'static str = "note";
    fn encode(&self) -> Zeroizing<Vec<u8>> { Zeroizing::new(self.0.as_bytes().to_vec()) }
    fn decode(_: &[u8]) -> Result<Self, DataError> { Ok(Note(String::new())) }
    fn to_text(&self) -> Zeroizing<String> { Zeroizing::new(self.0.clone()) }
    fn from_text(t: &str) -> Result<Self, DataError> { Ok(Note(t.to_owned())) }
}
struct Newsletter;
impl HostPurpose for Newsletter {
    const NAME: &'static str = "newsletter";
    const LEGAL_BASIS: LegalBasis = LegalBasis::Consent;
    const DPV_IRI: Option<&'static str> = None;
}
host_policy!(Note => [Newsletter, OwnerAccess], retention months(12) after LastActivity, "a year");
fn main() {}
