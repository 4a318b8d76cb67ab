// Only the custodian makes grants: the fields are private, so a grant cannot be built by
// hand or re-purposed by copying another grant's parts.
use crm_privacy::*;
fn repurpose(g: Grant<Analytics>) -> Grant<Notification> {
    Grant { info: g.info, authority: g.authority, instance: g.instance, epoch: g.epoch, purpose: std::marker::PhantomData }
}
fn main() {}
