//! Sign-in, the session cookie, CSRF tokens and the Global Privacy Control signal: what
//! every request goes through before a handler runs.
//!
//! - The cookie holds only an opaque random credential (`HttpOnly; SameSite=Strict;
//!   Path=/`); the subject behind it is the custodian's answer
//!   ([`Custodian::authenticate`] through the host's `Authenticator`), asked on every request.
//!   No `Secure` flag: the demo serves plain HTTP on loopback; a host behind TLS adds it and
//!   the `__Host-` prefix.
//! - Every POST form of a signed-in page carries a per-session token, the HMAC of the
//!   credential under a key made at start-up, checked in constant time; POSTs from another
//!   origin are refused before that (the `Origin` header), login included.
//! - A request with `Sec-GPC: 1` applies the opt-out ([`Custodian::apply_gpc`]) before the
//!   handler runs; the outcome is shown on the page.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use crm_privacy::custodian::Custodian;
use crm_privacy::gpc::{self, GpcOutcome};
use crm_privacy::store::InMemoryAuthenticator;
use crm_privacy::{SessionClaims, SessionId, UserSession};
use ring::hmac;
use tokio::sync::RwLock;

use crate::directory::{Account, Directory};
use crate::pages;

/// The session cookie's name.
pub(crate) const COOKIE: &str = "pc_session";
/// How long a sign-in lasts.
pub(crate) const SESSION_MINUTES: i64 = 60;

/// What the handlers share: the custodian (the only way to personal data), the host's
/// login (its authenticator and directory) and the CSRF key.
#[derive(Clone)]
pub(crate) struct App {
    /// The custodian, built once by the composition root.
    pub(crate) crm: Custodian,
    /// The host's session store, which the custodian's authenticator is.
    pub(crate) logins: Arc<InMemoryAuthenticator>,
    /// The host's accounts.
    pub(crate) directory: Arc<RwLock<Directory>>,
    /// Key of the per-session CSRF tokens (random at start-up).
    pub(crate) csrf: Arc<hmac::Key>,
    /// This server's origin (`http://127.0.0.1:PORT`), for the `Origin` check.
    pub(crate) origin: Arc<str>,
}

/// A signed-in request: the verified session, its credential's CSRF token and the account.
pub(crate) struct Signed {
    /// The subject's session, verified by the custodian.
    pub(crate) session: UserSession,
    /// The opaque credential (to sign out).
    pub(crate) credential: String,
    /// The CSRF token to embed in this session's forms.
    pub(crate) csrf: String,
    /// The host's account of the subject.
    pub(crate) account: Account,
    /// What a `Sec-GPC: 1` on this request did, if it carried one.
    pub(crate) gpc: Option<GpcOutcome>,
}

impl App {
    /// Checks a login and opens a session: returns the `Set-Cookie` value.
    pub(crate) async fn sign_in(&self, login: &str, password: &str) -> Option<String> {
        let account = {
            let dir = self.directory.read().await;
            dir.by_login(login).cloned()?
        };
        // Digests of equal length: comparing them leaks nothing useful about the password.
        if crate::directory::digest(password) != account.password_sha256 {
            return None;
        }
        let credential = crate::directory::random_credential().ok()?;
        let now = self.crm.now();
        self.logins.insert(
            &credential,
            SessionClaims {
                subject: account.subject,
                session: SessionId::new_random(),
                authenticated_at: now,
                expires_at: now + crm_privacy::chrono::TimeDelta::minutes(SESSION_MINUTES),
            },
        );
        Some(format!(
            "{COOKIE}={credential}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
            SESSION_MINUTES * 60
        ))
    }

    /// The CSRF token of a credential.
    pub(crate) fn csrf_token(&self, credential: &str) -> String {
        data_encoding::HEXLOWER.encode(hmac::sign(&self.csrf, credential.as_bytes()).as_ref())
    }

    /// Whether `token` is the CSRF token of `credential` (constant time).
    pub(crate) fn csrf_ok(&self, credential: &str, token: &str) -> bool {
        data_encoding::HEXLOWER
            .decode(token.as_bytes())
            .is_ok_and(|tag| hmac::verify(&self.csrf, credential.as_bytes(), &tag).is_ok())
    }

    /// Refuses a cross-origin POST (`Origin` present and not ours).
    pub(crate) fn same_origin(&self, headers: &HeaderMap) -> bool {
        headers
            .get(header::ORIGIN)
            .is_none_or(|o| o.as_bytes() == self.origin.as_bytes())
    }
}

/// The session credential of the request's cookie, if any.
pub(crate) fn credential(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_owned())
}

impl FromRequestParts<App> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let to_login = || Redirect::to("/login").into_response();
        let credential = credential(&parts.headers).ok_or_else(to_login)?;
        let session = app
            .crm
            .authenticate(&credential)
            .await
            .map_err(|_| to_login())?;
        let account = app
            .directory
            .read()
            .await
            .by_subject(session.subject())
            .cloned()
            .ok_or_else(to_login)?;
        // Global Privacy Control: the header of this very request, applied in the subject's
        // own session; the reference is a fresh request id, never an address or agent.
        let signal = gpc::from_headers(parts.headers.iter());
        let gpc = if signal.is_opt_out() {
            let reference = format!("req-{}", crm_privacy::uuid::Uuid::new_v4().simple());
            let outcome = app
                .crm
                .apply_gpc(&session, signal, Some(&reference))
                .await
                .map_err(|e| pages::error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()))?;
            Some(outcome)
        } else {
            None
        };
        Ok(Self {
            csrf: app.csrf_token(&credential),
            session,
            credential,
            account,
            gpc,
        })
    }
}
