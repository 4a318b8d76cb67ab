// Clause 7.1: no API exists for a recipient the register does not list.
use crm_privacy::disclosure::Disclosure;
use crm_privacy::{Category, PurposeId};
fn main() {
    let _ = Disclosure::to_third_party("ad network", Category::Email, PurposeId::Notification);
}
