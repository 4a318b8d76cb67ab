// Nor can a built-in purpose be added to a built-in kind (clause 3.2: no phone analytics).
use crm_privacy::*;
impl UsableFor<Analytics> for Phone {}
fn main() {}
