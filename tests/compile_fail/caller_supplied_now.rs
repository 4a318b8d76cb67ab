// The custodian owns time: no read, grant or token open takes a caller's `now`.
use crm_privacy::custodian::Custodian;
use crm_privacy::*;
async fn f(c: &Custodian, s: SubjectId, r: RecordId) {
    let g = c.grant::<Notification>(s, "mailer", chrono::Utc::now()).await.unwrap();
    let _ = c.with::<Email, _, _>(&g, r, chrono::Utc::now(), |_| ()).await;
}
fn main() {}
