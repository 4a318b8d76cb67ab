// A value is read only through the custodian (audited): `Personal` has no `expose`, and
// the `danger` escape hatch does not exist without its cargo feature.
use crm_privacy::*;
fn read(p: &Personal<Email>, g: &Grant<Notification>) {
    let _ = p.expose(g, chrono::Utc::now());
    let _ = crm_privacy::danger::expose_without_grant(p);
}
fn main() {}
