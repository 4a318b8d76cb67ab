// Clause 3.7: conference grants need a user-initiated request; OwnerAccess needs the
// subject's own session. Neither is a service purpose, so `grant` refuses both.
use crm_privacy::custodian::Custodian;
use crm_privacy::*;
async fn f(c: &Custodian, s: SubjectId) {
    let _ = c.grant::<ConferenceCreation>(s, "scheduler").await;
    let _ = c.grant::<OwnerAccess>(s, "support").await;
}
fn main() {}
