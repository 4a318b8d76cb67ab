// A host consent scope gates host purposes only: a built-in purpose is gated by the built-in
// scope table and cannot be listed in a host scope.
use crm_privacy::*;
host_consent_scope!(Marketing, "marketing", purposes [OwnerAccess]);
fn main() {}
