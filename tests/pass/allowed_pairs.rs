// Every pair the policy allows compiles, and host kinds/purposes can be declared.
use crm_privacy::*;
fn main() {
    let issuer = GrantIssuer::builder().build().unwrap();
    let now = chrono::Utc::now();
    let s = SubjectId::new_random();
    let session = UserSession::new(s, SessionId::new_random(), now, now + chrono::TimeDelta::hours(1));

    let email = Personal::new(s, Email::parse("alice@example.com").unwrap());
    let phone = Personal::new(s, Phone::parse("+14155550100").unwrap());
    let ip = Personal::new(s, IpAddress::parse("192.0.2.1").unwrap());
    let contact = Personal::new(s, DeviceContact::new(PersonName::parse("Bob").unwrap(), None, None));
    let token = Personal::new(s, ZoomAccessToken::parse("tok").unwrap());

    let n = issuer.issue::<Notification>(s, "mailer", now).unwrap();
    let v = issuer.issue::<IdentityVerification>(s, "sms", now).unwrap();
    let a = issuer.issue::<Analytics>(s, "stats", now).unwrap();
    let o = issuer.issue_owner(&session, now).unwrap();
    let proof = UserInitiated::new(&session, RequestId::new_random(), now);
    let c = issuer.issue_conference(&proof, now).unwrap();

    assert!(email.expose(&n, now).is_ok());
    assert!(phone.expose(&v, now).is_ok());
    assert!(ip.expose(&a, now).is_ok());
    assert!(contact.expose(&o, now).is_ok());
    assert!(token.expose(&c, now).is_ok());
}
