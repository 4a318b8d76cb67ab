// A grant's purpose is part of its type: an analytics grant does not open an email.
use crm_privacy::custodian::Custodian;
use crm_privacy::*;
async fn read(c: &Custodian, s: SubjectId, r: RecordId) {
    let g = c.grant::<Analytics>(s, "stats").await.unwrap();
    let _ = c.with::<Email, _, _>(&g, r, |e| e.domain().len()).await;
}
fn main() {}
