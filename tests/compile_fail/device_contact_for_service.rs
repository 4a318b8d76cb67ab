// Clause 3.5: imported device contacts are not used for the functioning of the service.
// (OwnerAccess is their only purpose, so rustc reports the mismatch against it.)
use crm_privacy::*;
fn read(p: &Personal<DeviceContact>, g: &Grant<TeamCollaboration>, n: &Grant<Notification>) {
    let _ = p.expose(g, chrono::Utc::now());
    let _ = p.expose(n, chrono::Utc::now());
}
fn main() {}
