// Clause 3.3: sign-in uses the provider profile id, not the email address.
use crm_privacy::*;
fn read(p: &Personal<Email>, g: &Grant<Authentication>) {
    let _ = p.expose(g, chrono::Utc::now());
}
fn main() {}
