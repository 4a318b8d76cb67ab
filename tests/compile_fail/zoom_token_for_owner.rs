// Clause 3.7: the Zoom access token is a secret used only to create conferences — not even
// the owner's session reads it back. (ConferenceCreation is its only purpose.)
use crm_privacy::*;
fn read(p: &Personal<ZoomAccessToken>, g: &Grant<OwnerAccess>) {
    let _ = p.expose(g, chrono::Utc::now());
}
fn main() {}
