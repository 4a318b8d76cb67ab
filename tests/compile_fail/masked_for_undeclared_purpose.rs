// A masked view is a read like any other: only for purposes the policy table declares one
// for. No masked phone for statistics (clause 3.2), no masked email for sign-in (3.3), and
// no masked view of a kind without a masked form (a name has none).
use crm_privacy::custodian::Custodian;
use crm_privacy::*;
async fn read(
    c: &Custodian,
    stats: &Grant<Analytics>,
    login: &Grant<Authentication>,
    team: &Grant<TeamCollaboration>,
    r: RecordId,
) {
    let _ = c.with_masked::<Phone, _, _>(stats, r, |m| m.to_string()).await;
    let _ = c.with_masked::<Email, _, _>(login, r, |m| m.to_string()).await;
    let _ = c.with_masked::<PersonName, _, _>(team, r, |m| m.to_string()).await;
}
fn main() {}
