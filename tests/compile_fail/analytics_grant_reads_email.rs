// A grant's purpose is part of its type: an analytics grant does not open an email.
use crm_privacy::*;
fn main() {
    let issuer = GrantIssuer::builder().build().unwrap();
    let s = SubjectId::new_random();
    let email = Personal::new(s, Email::parse("alice@example.com").unwrap());
    let g = issuer.issue::<Analytics>(s, "stats", chrono::Utc::now()).unwrap();
    let _ = email.expose(&g, chrono::Utc::now());
}
