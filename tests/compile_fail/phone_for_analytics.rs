// Clause 3.2: phone numbers are for identity codes and support calls, never statistics.
use crm_privacy::custodian::Custodian;
use crm_privacy::*;
async fn read(c: &Custodian, p: &Personal<Phone>, g: &Grant<Analytics>, r: RecordId) {
    let _ = c.expose(p, g).await;
    let _ = c.with::<Phone, _, _>(g, r, |_| ()).await;
}
fn main() {}
