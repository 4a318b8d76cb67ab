// Clause 3.7: the Zoom access token is a secret used only to create conferences — not even
// the owner's session reads it back. (ConferenceCreation is its only purpose.)
use crm_privacy::custodian::Custodian;
use crm_privacy::*;
async fn read(c: &Custodian, p: &Personal<ZoomAccessToken>, g: &Grant<OwnerAccess>) {
    let _ = c.expose(p, g).await;
}
fn main() {}
