// Clause 7: a disclosure cannot be assembled by hand around the constructors' checks.
use crm_privacy::disclosure::{Disclosure, Recipient};
use crm_privacy::policy::Processor;
use crm_privacy::{Category, PurposeId};
fn main() {
    let _ = Disclosure {
        recipient: Recipient::Processor { processor: Processor::Zoom },
        kind: Category::Email,
        purpose: PurposeId::Notification,
    };
}
