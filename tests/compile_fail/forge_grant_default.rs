// Only the issuer makes grants: no Default, no public constructor.
use crm_privacy::*;
fn main() {
    let _d: Grant<Notification> = Default::default();
}
