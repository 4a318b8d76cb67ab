// Every pair the policy allows compiles (and reads through the custodian's gate).
use std::sync::Arc;

use crm_privacy::consent::{CollectionMethod, ConsentScope};
use crm_privacy::crypto::Keyring;
use crm_privacy::custodian::Custodian;
use crm_privacy::store::{
    InMemoryAuthenticator, InMemoryChainStore, InMemoryKeyStore, InMemoryRecordStore,
};
use crm_privacy::*;

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let logins = Arc::new(InMemoryAuthenticator::new());
        let crm = Custodian::builder(Keyring::generate().unwrap())
            .records(Arc::new(InMemoryRecordStore::new()))
            .chains(Arc::new(InMemoryChainStore::new()))
            .keys(Arc::new(InMemoryKeyStore::new()))
            .authenticator(logins.clone())
            .build()
            .await
            .unwrap();
        let s = crm.register_subject().await.unwrap();
        let now = crm.now();
        logins.insert(
            "login",
            SessionClaims {
                subject: s,
                session: SessionId::new_random(),
                authenticated_at: now,
                expires_at: now + chrono::TimeDelta::hours(1),
            },
        );
        let session = crm.authenticate("login").await.unwrap();
        // Contacts and the Zoom token are read only while their consent is in force.
        for scope in [ConsentScope::ContactsImport, ConsentScope::ZoomLink] {
            crm.give_consent(&session, scope, CollectionMethod::UiAction, None)
                .await
                .unwrap();
        }

        let email = Personal::new(s, Email::parse("alice@example.com").unwrap());
        let phone = Personal::new(s, Phone::parse("+14155550100").unwrap());
        let ip = Personal::new(s, IpAddress::parse("192.0.2.1").unwrap());
        let contact = Personal::new(
            s,
            DeviceContact::new(PersonName::parse("Bob").unwrap(), None, None),
        );
        let token = Personal::new(s, ZoomAccessToken::parse("tok").unwrap());

        let n = crm.grant::<Notification>(s, "mailer").await.unwrap();
        let v = crm.grant::<IdentityVerification>(s, "sms").await.unwrap();
        let a = crm.grant::<Analytics>(s, "stats").await.unwrap();
        let o = crm.grant_owner(&session).await.unwrap();
        let proof = crm.user_request(&session).unwrap();
        let c = crm.grant_conference(&proof).await.unwrap();

        assert!(crm.expose(&email, &n).await.is_ok());
        assert!(crm.expose(&phone, &v).await.is_ok());
        assert!(crm.expose(&ip, &a).await.is_ok());
        assert!(crm.expose(&contact, &o).await.is_ok());
        assert!(crm.expose(&token, &c).await.is_ok());
    });
}
