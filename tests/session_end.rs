#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]
//! A grant issued to a subject's session never outlives it: a logout ends owner access
//! (and every other grant of the session) at its next use, in this and every other process,
//! through the in-process grant and through its token alike.

mod common;

use std::sync::Arc;

use chrono::TimeDelta;
use common::{Fx, keyring, t0};
use crm_privacy::custodian::{Custodian, CustodianError};
use crm_privacy::store::{AuthError, Authenticator, InMemoryAuthenticator};
use crm_privacy::*;

fn token_key() -> TokenKey {
    TokenKey::from_secret(1, &crm_privacy::crypto::test_secret(41)).unwrap()
}

async fn fx() -> Fx {
    common::deployment(t0(), keyring(), |b| b.token_key(token_key())).await
}

/// Logs `subject` in under `credential` for an hour, on session `session`.
async fn login(f: &Fx, credential: &str, subject: SubjectId, session: SessionId) -> UserSession {
    f.auth
        .insert(credential, claims(f, subject, session, TimeDelta::hours(1)));
    f.c.authenticate(credential).await.unwrap()
}

/// `subject`'s claims on `session`, authenticated now by `f`'s clock, for `valid`.
fn claims(f: &Fx, subject: SubjectId, session: SessionId, valid: TimeDelta) -> SessionClaims {
    let now = f.c.now();
    SessionClaims {
        subject,
        session,
        authenticated_at: now,
        expires_at: now + valid,
    }
}

/// A registered subject with one stored email record.
async fn subject_with_email(f: &Fx) -> (SubjectId, RecordId) {
    let s = f.c.register_subject().await.unwrap();
    let rec =
        f.c.store(s, Email::parse("alice@example.com").unwrap())
            .await
            .unwrap();
    (s, rec)
}

fn ended(r: Result<usize, CustodianError>) -> bool {
    matches!(
        r,
        Err(CustodianError::Access(AccessError::SessionEnded { .. }))
    )
}

#[tokio::test]
async fn a_logout_ends_the_sessions_grants_everywhere_at_their_next_use() {
    let f = fx().await;
    let peer = f
        .peer_builder(keyring())
        .token_key(token_key())
        .build()
        .await
        .unwrap();
    let alice = f.c.register_subject().await.unwrap();
    let bob = f.c.register_subject().await.unwrap();
    let rec =
        f.c.store(alice, Email::parse("alice@example.com").unwrap())
            .await
            .unwrap();
    let bob_rec =
        f.c.store(bob, Email::parse("bob@example.com").unwrap())
            .await
            .unwrap();
    let session = login(&f, "alice-web", alice, SessionId::new_random()).await;
    let bob_session = login(&f, "bob-web", bob, SessionId::new_random()).await;
    let owner = f.c.grant_owner(&session).await.unwrap();
    let bob_owner = f.c.grant_owner(&bob_session).await.unwrap();
    let token = f.c.seal_grant(&owner).unwrap();
    let read = |c: &Custodian, g: &Grant<OwnerAccess>, r| {
        let (c, g) = (c.clone(), g.clone());
        async move { c.with::<Email, _, _>(&g, r, |e| e.as_str().len()).await }
    };
    assert!(read(&f.c, &owner, rec).await.is_ok());
    let opened = peer.open_grant::<OwnerAccess>(&token).await.unwrap();
    assert!(read(&peer, &opened, rec).await.is_ok());

    f.auth.remove("alice-web");

    assert!(ended(read(&f.c, &owner, rec).await), "this process");
    assert!(ended(read(&peer, &opened, rec).await), "another process");
    let e = peer.open_grant::<OwnerAccess>(&token).await.unwrap_err();
    assert!(
        matches!(
            e,
            CustodianError::Token(TokenError::Refused(AccessError::SessionEnded { .. }))
        ),
        "a token of the ended session: {e}"
    );
    assert!(
        f.c.export(&owner).await.is_err(),
        "export runs the same gate"
    );
    // Another subject's session is untouched.
    assert!(read(&f.c, &bob_owner, bob_rec).await.is_ok());
    // Logging in again on the ended session's id (or the same credential) does not bring
    // the session or its grants back.
    let sid = session.id();
    f.auth
        .insert("alice-web", claims(&f, alice, sid, TimeDelta::hours(1)));
    assert!(f.c.authenticate("alice-web").await.is_err());
    assert!(
        ended(read(&f.c, &owner, rec).await),
        "revived by a re-login"
    );
    assert!(peer.open_grant::<OwnerAccess>(&token).await.is_err());
    // Logging in again is a new session with new grants; the old ones stay ended.
    let again = login(&f, "alice-web2", alice, SessionId::new_random()).await;
    let fresh = f.c.grant_owner(&again).await.unwrap();
    assert!(read(&f.c, &fresh, rec).await.is_ok());
    assert!(ended(read(&f.c, &owner, rec).await));
}

#[tokio::test]
async fn a_session_lives_while_any_of_its_credentials_does() {
    let f = fx().await;
    let (alice, rec) = subject_with_email(&f).await;
    let sid = SessionId::new_random();
    let session = login(&f, "alice-web", alice, sid).await;
    login(&f, "alice-refresh", alice, sid).await;
    let owner = f.c.grant_owner(&session).await.unwrap();
    f.auth.remove("alice-web");
    assert!(
        f.c.with::<Email, _, _>(&owner, rec, |e| e.as_str().len())
            .await
            .is_ok()
    );
    f.auth.remove("alice-refresh");
    assert!(ended(
        f.c.with::<Email, _, _>(&owner, rec, |e| e.as_str().len())
            .await
    ));
}

#[tokio::test]
async fn a_custodian_without_an_authenticator_refuses_session_tokens() {
    let f = fx().await;
    let alice = f.c.register_subject().await.unwrap();
    let session = login(&f, "alice-web", alice, SessionId::new_random()).await;
    let token =
        f.c.seal_grant(&f.c.grant_owner(&session).await.unwrap())
            .unwrap();
    // Same stores and token key, but no authenticator: it cannot tell whether the session
    // is live, so it fails closed.
    let blind = f
        .same_stores(keyring())
        .clock(f.clock.clone())
        .token_key(token_key())
        .build()
        .await
        .unwrap();
    let e = blind.open_grant::<OwnerAccess>(&token).await.unwrap_err();
    assert!(matches!(
        e,
        CustodianError::Token(TokenError::Refused(AccessError::SessionEnded { .. }))
    ));
}

/// A host authenticator without logouts: `session_live` answers "live" (grants of its
/// sessions end at the session's expiry only).
#[derive(Debug)]
struct ExpiryOnly(Arc<InMemoryAuthenticator>);

#[async_trait::async_trait]
impl Authenticator for ExpiryOnly {
    async fn authenticate(
        &self,
        credential: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<SessionClaims, AuthError> {
        self.0.authenticate(credential, now).await
    }

    async fn session_live(
        &self,
        _subject: SubjectId,
        _session: SessionId,
        _now: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool, AuthError> {
        Ok(true)
    }
}

#[tokio::test]
async fn an_authenticator_without_logout_keeps_grants_until_expiry() {
    let f = fx().await;
    let host = f
        .peer_builder(keyring())
        .authenticator(Arc::new(ExpiryOnly(f.auth.clone())))
        .token_key(token_key())
        .build()
        .await
        .unwrap();
    let alice = host.register_subject().await.unwrap();
    let rec = host
        .store(alice, Email::parse("alice@example.com").unwrap())
        .await
        .unwrap();
    f.auth.insert(
        "alice-web",
        SessionClaims {
            subject: alice,
            session: SessionId::new_random(),
            authenticated_at: host.now(),
            expires_at: host.now() + TimeDelta::minutes(30),
        },
    );
    let session = host.authenticate("alice-web").await.unwrap();
    let owner = host.grant_owner(&session).await.unwrap();
    f.auth.remove("alice-web");
    assert!(
        host.with::<Email, _, _>(&owner, rec, |e| e.as_str().len())
            .await
            .is_ok()
    );
    f.clock.advance(TimeDelta::minutes(31));
    assert!(
        host.with::<Email, _, _>(&owner, rec, |e| e.as_str().len())
            .await
            .is_err()
    );
}

#[tokio::test]
async fn a_stale_session_cannot_act_for_the_subject_after_a_logout() {
    let f = fx().await;
    let alice = f.c.register_subject().await.unwrap();
    let session = login(&f, "alice-web", alice, SessionId::new_random()).await;
    f.c.give_consent(
        &session,
        crm_privacy::consent::ConsentScope::ZoomLink,
        crm_privacy::consent::CollectionMethod::UiAction,
        None,
    )
    .await
    .unwrap();
    let request = f.c.user_request(&session).unwrap();
    f.auth.remove("alice-web");
    let is_ended = |e: CustodianError| matches!(e, CustodianError::Issue(IssueError::SessionEnded));
    assert!(is_ended(
        f.c.give_consent(
            &session,
            crm_privacy::consent::ConsentScope::Cookies,
            crm_privacy::consent::CollectionMethod::UiAction,
            Some("ui-9"),
        )
        .await
        .unwrap_err()
    ));
    assert!(is_ended(f.c.grant_owner(&session).await.unwrap_err()));
    assert!(is_ended(
        f.c.grant_for_session::<Notification>(&session)
            .await
            .unwrap_err()
    ));
    assert!(is_ended(f.c.grant_conference(&request).await.unwrap_err()));
    assert!(is_ended(
        f.c.apply_gpc(&session, crm_privacy::gpc::GpcSignal::OptOut, None)
            .await
            .unwrap_err()
    ));
    assert_eq!(
        f.c.consents(alice).await.unwrap().len(),
        1,
        "nothing recorded for the stale session"
    );
}

#[tokio::test]
async fn re_inserting_a_live_credential_keeps_its_session_live() {
    let f = fx().await;
    let (alice, rec) = subject_with_email(&f).await;
    let sid = SessionId::new_random();
    let session = login(&f, "alice-web", alice, sid).await;
    let owner = f.c.grant_owner(&session).await.unwrap();
    // A sliding expiry: the host re-registers the same credential with a later end.
    f.auth
        .insert("alice-web", claims(&f, alice, sid, TimeDelta::hours(2)));
    assert!(f.c.authenticate("alice-web").await.is_ok());
    assert!(
        f.c.with::<Email, _, _>(&owner, rec, |e| e.as_str().len())
            .await
            .is_ok()
    );
    assert!(f.c.grant_owner(&session).await.is_ok());
}

#[tokio::test]
async fn an_ended_session_stays_ended_until_its_latest_expiry() {
    let f = fx().await;
    let alice = f.c.register_subject().await.unwrap();
    let sid = SessionId::new_random();
    let now = f.c.now();
    let on_sid = |hours| SessionClaims {
        subject: alice,
        session: sid,
        authenticated_at: now,
        expires_at: now + TimeDelta::hours(hours),
    };
    f.auth.insert("short", on_sid(1));
    f.auth.insert("long", on_sid(10));
    let session = f.c.authenticate("long").await.unwrap();
    f.auth.remove("long");
    f.auth.remove("short");
    // Two hours on, past the short credential's expiry, with enough other logouts to prune
    // the ended sessions: the session must still count as ended.
    f.clock.advance(TimeDelta::hours(2));
    for i in 0..200 {
        let cred = format!("other-{i}");
        f.auth.insert(
            &cred,
            claims(&f, alice, SessionId::new_random(), TimeDelta::hours(1)),
        );
        f.auth.remove(&cred);
        let _ = f.c.authenticate("nobody").await;
    }
    f.auth.insert("again", on_sid(10));
    assert!(f.c.authenticate("again").await.is_err());
    assert!(matches!(
        f.c.grant_owner(&session).await.unwrap_err(),
        CustodianError::Issue(IssueError::SessionEnded)
    ));
}

/// An authenticator whose `session_live`, once armed, waits for the test to release it: a
/// host whose session service is slow.
#[derive(Debug)]
struct Slow {
    inner: Arc<InMemoryAuthenticator>,
    armed: std::sync::atomic::AtomicBool,
    entered: tokio::sync::Semaphore,
    release: tokio::sync::Semaphore,
}

#[async_trait::async_trait]
impl Authenticator for Slow {
    async fn authenticate(
        &self,
        credential: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<SessionClaims, AuthError> {
        self.inner.authenticate(credential, now).await
    }

    async fn session_live(
        &self,
        subject: SubjectId,
        session: SessionId,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool, AuthError> {
        if self.armed.swap(false, std::sync::atomic::Ordering::SeqCst) {
            self.entered.add_permits(1);
            self.release.acquire().await.unwrap().forget();
        }
        self.inner.session_live(subject, session, now).await
    }
}

#[tokio::test]
async fn what_lands_while_the_session_check_runs_is_seen_by_the_waiting_read() {
    let f = fx().await;
    let slow = Arc::new(Slow {
        inner: f.auth.clone(),
        armed: false.into(),
        entered: tokio::sync::Semaphore::new(0),
        release: tokio::sync::Semaphore::new(0),
    });
    let host = f
        .peer_builder(keyring())
        .authenticator(slow.clone())
        .token_key(token_key())
        .build()
        .await
        .unwrap();
    let peer = f
        .peer_builder(keyring())
        .token_key(token_key())
        .build()
        .await
        .unwrap();
    // Each case: a read through an owner grant waits in `session_live`; meanwhile `land`
    // changes the state (here or in the other process); then the read goes on.
    type Land = fn(Custodian, Custodian, SubjectId, String) -> futures_like::BoxFut;
    let cases: [(&str, Land); 3] = [
        ("revoked here", |h, _, _, t| {
            Box::pin(async move { h.revoke_token::<OwnerAccess>(&t).await.unwrap() })
        }),
        ("revoked in another process", |_, p, _, t| {
            Box::pin(async move { p.revoke_token::<OwnerAccess>(&t).await.unwrap() })
        }),
        ("erased in another process", |_, p, s, _| {
            Box::pin(async move { p.erase(s).await.map(drop).unwrap() })
        }),
    ];
    for (what, land) in cases {
        for through_token in [false, true] {
            let alice = host.register_subject().await.unwrap();
            let rec = host
                .store(alice, Email::parse("alice@example.com").unwrap())
                .await
                .unwrap();
            let cred = format!("alice-{what}-{through_token}");
            f.auth.insert(
                &cred,
                claims(&f, alice, SessionId::new_random(), TimeDelta::hours(1)),
            );
            let session = host.authenticate(&cred).await.unwrap();
            let owner = host.grant_owner(&session).await.unwrap();
            let token = host.seal_grant(&owner).unwrap();
            assert!(
                host.with::<Email, _, _>(&owner, rec, |e| e.as_str().len())
                    .await
                    .is_ok()
            );
            slow.armed.store(true, std::sync::atomic::Ordering::SeqCst);
            let reading = tokio::spawn({
                let (h, g, t) = (host.clone(), owner.clone(), token.clone());
                async move {
                    if through_token {
                        h.open_grant::<OwnerAccess>(&t).await.map(drop)
                    } else {
                        h.with::<Email, _, _>(&g, rec, |e| e.as_str().len())
                            .await
                            .map(drop)
                    }
                }
            });
            slow.entered.acquire().await.unwrap().forget();
            land(host.clone(), peer.clone(), alice, token.clone()).await;
            slow.release.add_permits(1);
            let r = reading.await.unwrap();
            assert!(
                r.is_err(),
                "{what}, through the {}: the read waiting on the session check went on",
                if through_token { "token" } else { "grant" }
            );
        }
    }
}

mod futures_like {
    /// A boxed future of a state change made while a read waits.
    pub(super) type BoxFut = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;
}
