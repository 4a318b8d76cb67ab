// Only typed, validated kinds are stored: raw text must be parsed first (or go through
// `store_text`, which parses it by category).
use crm_privacy::custodian::Custodian;
use crm_privacy::*;
async fn f(c: &Custodian, s: SubjectId) {
    let _ = c.store(s, "alice@example.com").await;
}
fn main() {}
