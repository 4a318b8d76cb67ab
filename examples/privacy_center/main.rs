//! A privacy center the way a host would ship one (issue 19, part 6): an axum web app on
//! the embedded SQLite store where a signed-in data subject sees their data masked, turns
//! consents on and off (and sees the next read refused at once), downloads their export,
//! files an erasure or restriction request and sees its due date, and has a Global Privacy
//! Control signal (`Sec-GPC: 1`) honoured and shown.
//!
//! Run: `cargo run --example privacy_center` and open the printed URL (bound to
//! 127.0.0.1 only). Options: `--port N` (or `PRIVACY_CENTER_PORT`; default 8088, `0` picks
//! a free one) and `--data-dir DIR` (or `PRIVACY_CENTER_DATA`; default a temporary
//! directory removed on exit) to keep the store, its key file (0600) and the host's
//! directory across restarts. Ctrl-C stops it cleanly.
//!
//! Layout: `main.rs` is the composition root (keys, store, authenticator, custodian);
//! `session.rs` the sign-in, cookie, CSRF and GPC plumbing; `routes.rs` thin handlers;
//! `pages.rs` the escaped HTML (names as initials); `directory.rs` the host's accounts and the
//! demo seed; `keys.rs` the key file. Logs name no person: the URL and the shutdown only.
//! Its browser test: `scripts/privacy-center-test.sh` (tests/privacy_center.rs).
#![allow(clippy::print_stdout, reason = "the example prints its URL")]

mod directory;
mod keys;
mod pages;
mod routes;
mod session;

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::http::{HeaderValue, header};
use axum::response::Response;
use crm_privacy::TokenKey;
use crm_privacy::custodian::Custodian;
use crm_privacy::store::InMemoryAuthenticator;
use crm_privacy_sqlite::SqliteStore;
use tokio::sync::RwLock;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// The default port (a fixed one, so the README's URL is stable).
const DEFAULT_PORT: u16 = 8088;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let mut port = std::env::var("PRIVACY_CENTER_PORT").ok();
    let mut data = std::env::var("PRIVACY_CENTER_DATA").ok().map(PathBuf::from);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--port" => port = args.next(),
            "--data-dir" => data = args.next().map(PathBuf::from),
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let port: u16 = port.map_or(Ok(DEFAULT_PORT), |p| p.parse())?;
    let tmp = tempfile::tempdir()?;
    let dir = data.unwrap_or_else(|| tmp.path().to_owned());
    std::fs::create_dir_all(&dir)?;

    // The composition root: keys from the key file (random at first start), the SQLite
    // default store, the host's login as the custodian's authenticator.
    let keyring = keys::load_or_create(&dir)?;
    let store = Arc::new(SqliteStore::open(dir.join("crm.db"))?);
    let logins = Arc::new(InMemoryAuthenticator::new());
    let crm = Custodian::builder(keyring)
        .store(store.clone())
        .token_key(TokenKey::generate(1)?)
        .authenticator(logins.clone())
        .build()
        .await?;
    let directory = directory::load_or_seed(&dir, &crm, &logins).await?;
    let csrf = ring::hmac::Key::generate(ring::hmac::HMAC_SHA256, &ring::rand::SystemRandom::new())
        .map_err(|_| "random source failed")?;

    // Loopback only: the privacy center is a demo, never exposed beyond this machine.
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await?;
    let origin = format!("http://{}", listener.local_addr()?);
    let app = session::App {
        crm: crm.clone(),
        logins,
        directory: Arc::new(RwLock::new(directory)),
        csrf: Arc::new(csrf),
        origin: Arc::from(origin.as_str()),
    };
    let router = routes::router(app).layer(axum::middleware::map_response(security_headers));
    println!("privacy center: {origin}/");
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown())
        .await?;
    println!("privacy center stopped");
    drop(crm);
    drop(store);
    Ok(())
}

/// Headers on every response: no script, no framing, no referrer to other sites, no
/// caching of pages that show (masked) personal data. (`no-referrer` would make the browser
/// send `Origin: null` on the page's own forms, which the origin check refuses.)
async fn security_headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// Ctrl-C or SIGTERM.
async fn shutdown() {
    #[cfg(unix)]
    {
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            () = term => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
