// A value is read only through the custodian (audited): `Personal` has no `expose`.
use crm_privacy::*;
fn read(p: &Personal<Email>, g: &Grant<Notification>) {
    let _ = p.expose(g, chrono::Utc::now());
}
fn main() {}
