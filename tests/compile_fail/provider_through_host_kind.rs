// `Provider` is sealed for real: a host kind cannot become a provider (and so cannot mint
// `ProviderAccountId<Fake>` with a built-in category).
use crm_privacy::*;
struct Fake;
impl HostKind for Fake {
    const NAME: &'static str = "fake";
    fn encode(&self) -> zeroize::Zeroizing<Vec<u8>> { zeroize::Zeroizing::new(Vec::new()) }
    fn decode(_: &[u8]) -> Result<Self, DataError> { Ok(Fake) } fn to_text(&self) -> zeroize::Zeroizing<String> { zeroize::Zeroizing::new(String::new()) } fn from_text(_: &str) -> Result<Self, DataError> { Ok(Fake) }
}
impl Provider for Fake {
    const NAME: &'static str = "fake";
    const CATEGORY: Category = Category::Email;
}
fn main() {}
