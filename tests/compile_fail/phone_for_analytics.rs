// Clause 3.2: phone numbers are for identity codes and support calls, never statistics.
use crm_privacy::*;
fn read(p: &Personal<Phone>, g: &Grant<Analytics>) {
    let _ = p.expose(g, chrono::Utc::now());
}
fn main() {}
