// Personal data is not Clone: copies of a secret are not multiplied silently.
use crm_privacy::*;
fn main() {
    let email = Email::parse("alice@example.com").unwrap();
    let _copy = email.clone();
}
