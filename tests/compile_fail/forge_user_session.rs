// Proofs come only from the host's trusted traits through the custodian: no public
// constructor of a session, a user-initiated request or a grant's check.
use crm_privacy::*;
fn main() {
    let now = chrono::Utc::now();
    let s = UserSession::new(SubjectId::new_random(), SessionId::new_random(), now, now);
    let _ = UserInitiated::new(&s, RequestId::new_random(), now);
}
