// Clauses 3.5, 6.1: an owner-access grant is issued only to the subject's own session
// (`grant_owner(&session)`), never to a service component through `grant`.
use crm_privacy::custodian::Custodian;
use crm_privacy::*;
async fn f(c: &Custodian, s: SubjectId) {
    let _ = c.grant::<OwnerAccess>(s, "support").await;
}
fn main() {}
