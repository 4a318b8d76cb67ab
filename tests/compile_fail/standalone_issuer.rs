// One authority (issue 13): there is no standalone grant issuer and no consent registry
// that mints grants beside the custodian.
use crm_privacy::*;
fn main() {
    let issuer = GrantIssuer::builder().build().unwrap();
    let _ = crm_privacy::consent::ConsentRegistry::new();
    let _ = issuer;
}
