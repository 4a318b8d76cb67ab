//! The host's own account directory: login name, password check and which records of the
//! custodian hold the subject's profile. It is host state, not the SDK's: a real host keeps
//! it in its user database. Here it is a JSON file beside the store that holds ids and
//! password digests only (the profile itself is sealed in the custodian's store).

use std::path::Path;

use crm_privacy::chrono::TimeDelta;
use crm_privacy::consent::{CollectionMethod, ConsentScope};
use crm_privacy::custodian::Custodian;
use crm_privacy::store::InMemoryAuthenticator;
use crm_privacy::{
    CookiePreference, Email, Google, PersonName, Phone, ProviderAccountId, RecordId, SessionClaims,
    SessionId, SubjectId,
};
use serde::{Deserialize, Serialize};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// The directory file's name inside the data directory.
pub(crate) const DIRECTORY_FILE: &str = "directory.json";

/// The demo logins shown on the sign-in page (demo only: a host has its own login).
pub(crate) const DEMO_LOGINS: &[(&str, &str)] = &[("alice", "alice-demo"), ("bob", "bob-demo")];

/// One account of the host.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Account {
    /// Login name.
    pub(crate) login: String,
    /// SHA-256 of the password (hex). A real host uses a password hash (Argon2id).
    pub password_sha256: String,
    /// The data subject.
    pub(crate) subject: SubjectId,
    /// Profile records in the custodian's store.
    pub(crate) name: RecordId,
    /// Email record.
    pub(crate) email: RecordId,
    /// Phone record, if one was given.
    pub(crate) phone: Option<RecordId>,
    /// The linked Google account (3.3), if linked.
    pub(crate) google: Option<RecordId>,
    /// Cookie preferences (3.6), if stored.
    pub(crate) prefs: Option<RecordId>,
}

/// Every account.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Directory {
    /// Accounts, by login.
    pub(crate) accounts: Vec<Account>,
}

impl Directory {
    /// Reads the directory file in `dir`.
    pub(crate) fn load(dir: &Path) -> Result<Self, Error> {
        Ok(serde_json::from_slice(&std::fs::read(
            dir.join(DIRECTORY_FILE),
        )?)?)
    }

    /// The account of a login name.
    pub(crate) fn by_login(&self, login: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| a.login == login)
    }

    /// The account of a subject.
    pub(crate) fn by_subject(&self, subject: SubjectId) -> Option<&Account> {
        self.accounts.iter().find(|a| a.subject == subject)
    }
}

/// SHA-256 hex of a password.
pub(crate) fn digest(password: &str) -> String {
    data_encoding::HEXLOWER
        .encode(ring::digest::digest(&ring::digest::SHA256, password.as_bytes()).as_ref())
}

/// The directory of `dir`, seeding the demo subjects into the custodian at first start.
pub(crate) async fn load_or_seed(
    dir: &Path,
    crm: &Custodian,
    logins: &InMemoryAuthenticator,
) -> Result<Directory, Error> {
    if dir.join(DIRECTORY_FILE).exists() {
        return Directory::load(dir);
    }
    let mut directory = Directory::default();
    for &(login, password) in DEMO_LOGINS {
        let subject = crm.register_subject().await?;
        let (name, email, phone) = match login {
            "alice" => (
                "Alice Example",
                "alice@example.com",
                Some("+41 44 668 18 00"),
            ),
            _ => ("Bob Example", "bob@example.com", None),
        };
        let name = crm.store(subject, PersonName::parse(name)?).await?;
        let email = crm.store(subject, Email::parse(email)?).await?;
        let phone = match phone {
            Some(p) => Some(crm.store(subject, Phone::parse(p)?).await?),
            None => None,
        };
        let mut account = Account {
            login: login.to_owned(),
            password_sha256: digest(password),
            subject,
            name,
            email,
            phone,
            google: None,
            prefs: None,
        };
        if login == "alice" {
            // At sign-up Alice linked her Google account and accepted cookies: consents are
            // only ever given in the subject's own verified session, so the seed signs in.
            let credential = random_credential()?;
            let now = crm.now();
            logins.insert(
                &credential,
                SessionClaims {
                    subject,
                    session: SessionId::new_random(),
                    authenticated_at: now,
                    expires_at: now + TimeDelta::minutes(5),
                },
            );
            let session = crm.authenticate(&credential).await?;
            for scope in [ConsentScope::GoogleLink, ConsentScope::Cookies] {
                crm.give_consent(
                    &session,
                    scope,
                    CollectionMethod::UiAction,
                    Some("ui:sign-up"),
                )
                .await?;
            }
            logins.remove(&credential);
            account.google = Some(
                crm.store(
                    subject,
                    ProviderAccountId::<Google>::parse("google-204518")?,
                )
                .await?,
            );
            let mut prefs = CookiePreference::new();
            prefs.set_language("de-CH")?;
            account.prefs = Some(crm.store(subject, prefs).await?);
        }
        directory.accounts.push(account);
    }
    std::fs::write(
        dir.join(DIRECTORY_FILE),
        serde_json::to_vec_pretty(&directory)?,
    )?;
    Ok(directory)
}

/// A fresh opaque session credential: 32 random bytes, URL-safe base64.
pub(crate) fn random_credential() -> Result<String, Error> {
    let mut bytes = [0_u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .map_err(|_| "random source failed")?;
    Ok(data_encoding::BASE64URL_NOPAD.encode(&bytes))
}
