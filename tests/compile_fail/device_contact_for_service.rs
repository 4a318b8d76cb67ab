// Clause 3.5: imported device contacts are not used for the functioning of the service.
// (OwnerAccess is their only purpose, so rustc reports the mismatch against it.)
use crm_privacy::custodian::Custodian;
use crm_privacy::*;
async fn read(c: &Custodian, p: &Personal<DeviceContact>, g: &Grant<TeamCollaboration>, n: &Grant<Notification>) {
    let _ = c.expose(p, g).await;
    let _ = c.expose(p, n).await;
}
fn main() {}
