// Clause 3.7: conference grants need a user-initiated request; OwnerAccess needs the
// subject's own session. Neither is a service purpose.
use crm_privacy::*;
fn main() {
    let issuer = GrantIssuer::builder().build().unwrap();
    let s = SubjectId::new_random();
    let _ = issuer.issue::<ConferenceCreation>(s, "scheduler", chrono::Utc::now());
    let _ = issuer.issue::<OwnerAccess>(s, "support", chrono::Utc::now());
}
