// Personal data has no Display: it cannot be formatted into a log line by accident.
use crm_privacy::*;
fn main() {
    let email = Email::parse("alice@example.com").unwrap();
    let _ = format!("{}", email);
    let p = Personal::new(SubjectId::new_random(), email);
    let _ = format!("{}", p);
}
