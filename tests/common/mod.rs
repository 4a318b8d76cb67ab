//! The in-memory deployment the integration tests share: a custodian on fresh in-memory
//! stores with a manual clock, the host's login stand-in (an `InMemoryAuthenticator`) and
//! staff directory, and logging a subject in through the custodian's authenticator.
//! Each test binary uses a part of it, hence the `dead_code` allowances.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use crm_privacy::consent::{CollectionMethod, ConsentScope};
use crm_privacy::crypto::{Kek, Keyring};
use crm_privacy::custodian::{Custodian, CustodianBuilder};
use crm_privacy::staff::InMemoryStaffDirectory;
use crm_privacy::store::{
    InMemoryAuthenticator, InMemoryChainStore, InMemoryKeyStore, InMemoryRecordStore,
};
use crm_privacy::{ConsentId, ManualClock, SessionClaims, SessionId, SubjectId, UserSession};

/// A host kind of one non-empty line of text (`text_kind!(Trail, "trail")`), for the tests
/// of host kinds, host purposes and GPC. Invoke it as `crate::text_kind!`.
#[macro_export]
macro_rules! text_kind {
    ($t:ident, $name:literal) => {
        struct $t(String);
        impl ::crm_privacy::HostKind for $t {
            const NAME: &'static str = $name;
            fn encode(&self) -> ::zeroize::Zeroizing<Vec<u8>> {
                ::zeroize::Zeroizing::new(self.0.as_bytes().to_vec())
            }
            fn decode(b: &[u8]) -> Result<Self, ::crm_privacy::DataError> {
                let s = core::str::from_utf8(b).map_err(|_| {
                    ::crm_privacy::DataError::new(Self::NAME, ::crm_privacy::DataReason::Corrupt)
                })?;
                <Self as ::crm_privacy::HostKind>::from_text(s)
            }
            fn to_text(&self) -> ::zeroize::Zeroizing<String> {
                ::zeroize::Zeroizing::new(self.0.clone())
            }
            fn from_text(t: &str) -> Result<Self, ::crm_privacy::DataError> {
                if t.is_empty() {
                    return Err(::crm_privacy::DataError::new(
                        Self::NAME,
                        ::crm_privacy::DataReason::Empty,
                    ));
                }
                Ok(Self(t.to_owned()))
            }
        }
    };
}

/// When the deployments' clocks start, unless a test picks its own start.
#[allow(dead_code, reason = "authority.rs starts its clock on another day")]
pub(crate) fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap()
}

/// The keyring of the deployments that do not pick their own.
#[allow(
    dead_code,
    reason = "custodian.rs and rights.rs use their own keyrings"
)]
pub(crate) fn keyring() -> Keyring {
    Keyring::new(
        Kek::from_bytes(1, &crm_privacy::crypto::test_secret(3)).unwrap(),
        &crm_privacy::crypto::test_secret(9),
    )
    .unwrap()
}

/// A builder on fresh in-memory stores and nothing else: no clock, authenticator or staff
/// directory of the test's choosing.
#[allow(dead_code, reason = "not every test binary builds a bare custodian")]
pub(crate) fn bare(keyring: Keyring) -> CustodianBuilder {
    Custodian::builder(keyring)
        .records(Arc::new(InMemoryRecordStore::new()))
        .chains(Arc::new(InMemoryChainStore::new()))
        .keys(Arc::new(InMemoryKeyStore::new()))
}

/// A deployment: its own in-memory stores, authenticator, staff directory and manual clock.
#[allow(dead_code, reason = "each test binary reads only some of the handles")]
pub(crate) struct Fx {
    pub(crate) c: Custodian,
    pub(crate) clock: Arc<ManualClock>,
    pub(crate) auth: Arc<InMemoryAuthenticator>,
    pub(crate) staff: Arc<InMemoryStaffDirectory>,
    pub(crate) records: Arc<InMemoryRecordStore>,
    pub(crate) chains: Arc<InMemoryChainStore>,
    pub(crate) keys: Arc<InMemoryKeyStore>,
}

/// A deployment whose clock starts at `start` and whose custodian's builder (already given
/// the stores, clock, authenticator and staff directory) is adjusted by `configure`.
#[allow(dead_code, reason = "gpc_iri.rs uses only the host-kind macro")]
pub(crate) async fn deployment(
    start: DateTime<Utc>,
    keyring: Keyring,
    configure: impl FnOnce(CustodianBuilder) -> CustodianBuilder,
) -> Fx {
    let clock = Arc::new(ManualClock::new(start));
    let auth = Arc::new(InMemoryAuthenticator::new());
    let staff = Arc::new(InMemoryStaffDirectory::new());
    let records = Arc::new(InMemoryRecordStore::new());
    let chains = Arc::new(InMemoryChainStore::new());
    let keys = Arc::new(InMemoryKeyStore::new());
    let b = Custodian::builder(keyring)
        .records(records.clone())
        .chains(chains.clone())
        .keys(keys.clone())
        .clock(clock.clone())
        .authenticator(auth.clone())
        .staff_directory(staff.clone());
    let c = configure(b).build().await.unwrap();
    Fx {
        c,
        clock,
        auth,
        staff,
        records,
        chains,
        keys,
    }
}

/// Logs `subject` in through `c`'s authenticator `logins`, for `valid` from `c`'s now.
pub(crate) async fn login(
    c: &Custodian,
    logins: &InMemoryAuthenticator,
    subject: SubjectId,
    valid: TimeDelta,
) -> UserSession {
    let credential = format!("cred-{subject}-{}", SessionId::new_random());
    let now = c.now();
    logins.insert(
        &credential,
        SessionClaims {
            subject,
            session: SessionId::new_random(),
            authenticated_at: now,
            expires_at: now + valid,
        },
    );
    c.authenticate(&credential).await.unwrap()
}

impl Fx {
    /// A builder on this deployment's stores only (no clock, authenticator or staff
    /// directory): another custodian over the very same data.
    #[allow(dead_code, reason = "not every test binary builds a second custodian")]
    pub(crate) fn same_stores(&self, keyring: Keyring) -> CustodianBuilder {
        Custodian::builder(keyring)
            .records(self.records.clone())
            .chains(self.chains.clone())
            .keys(self.keys.clone())
    }

    /// A builder for another custodian (another process) of this deployment: the same
    /// stores, clock, authenticator and staff directory; token keys and the rest to add.
    #[allow(dead_code, reason = "not every test binary builds a peer")]
    pub(crate) fn peer_builder(&self, keyring: Keyring) -> CustodianBuilder {
        self.same_stores(keyring)
            .clock(self.clock.clone())
            .authenticator(self.auth.clone())
            .staff_directory(self.staff.clone())
    }

    /// A session of `subject` valid for an hour from now, through the authenticator.
    pub(crate) async fn session(&self, subject: SubjectId) -> UserSession {
        self.session_for(subject, TimeDelta::hours(1)).await
    }

    /// A session of `subject` valid for `valid` from now, through the authenticator.
    pub(crate) async fn session_for(&self, subject: SubjectId, valid: TimeDelta) -> UserSession {
        login(&self.c, &self.auth, subject, valid).await
    }

    /// Consent of `subject` for `scope`, given in the subject's own session.
    #[allow(
        dead_code,
        reason = "custodian.rs and rights.rs give no consent this way"
    )]
    pub(crate) async fn consent(&self, subject: SubjectId, scope: ConsentScope) -> ConsentId {
        let s = self.session(subject).await;
        self.c
            .give_consent(&s, scope, CollectionMethod::UiAction, Some("ui-1"))
            .await
            .unwrap()
    }
}
