// Clause 3.3: sign-in uses the provider profile id, not the email address.
use crm_privacy::custodian::Custodian;
use crm_privacy::*;
async fn read(c: &Custodian, p: &Personal<Email>, g: &Grant<Authentication>) {
    let _ = c.expose(p, g).await;
}
fn main() {}
