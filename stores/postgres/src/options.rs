//! [`PgOptions`]: how a [`PostgresStore`] reaches its server, and the transport security
//! (clause 8.1) that follows from it.
//!
//! The TLS mode in force is decided here, before any network traffic:
//!
//! | host | default mode | plaintext (`disable`, `prefer`) |
//! |---|---|---|
//! | not loopback | [`TlsMode::VerifyFull`] | refused ([`StoreError::InsecureTransport`]) unless [`PgOptions::allow_plaintext_to_remote_host_insecure`] |
//! | loopback (`localhost`, `127.0.0.0/8`, `::1`, a Unix socket) | [`TlsMode::Prefer`] | allowed |
//!
//! Loopback defaults to `prefer` because its traffic never leaves the machine (whoever can
//! read it can read the database files too) and a local server without TLS still works; the
//! register then says encryption in transit is not guaranteed. Ask for
//! [`TlsMode::VerifyFull`] on loopback too, and it is.

use std::net::IpAddr;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use crm_privacy::store::{GroupCommit, StoreError, Transport};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgSslMode};
use sqlx::{Executor, PgPool};

use crate::PostgresStore;

/// TLS mode, named as libpq's `sslmode` (without `allow`, which sqlx treats as `disable`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TlsMode {
    /// Plaintext only.
    Disable,
    /// TLS if the server offers it, not verified; plaintext otherwise.
    Prefer,
    /// TLS always; the server's certificate is not verified (encrypts, does not
    /// authenticate).
    Require,
    /// TLS always; the certificate chain is verified against the roots, the host name is not.
    VerifyCa,
    /// TLS always; chain and host name verified (the default for a remote host).
    VerifyFull,
}

impl TlsMode {
    /// The transport this mode guarantees (what the register states).
    #[must_use]
    pub const fn transport(self, loopback: bool) -> Transport {
        match self {
            Self::Disable | Self::Prefer => Transport::Plaintext { loopback },
            Self::Require => Transport::Tls {
                verified_chain: false,
                verified_host: false,
            },
            Self::VerifyCa => Transport::Tls {
                verified_chain: true,
                verified_host: false,
            },
            Self::VerifyFull => Transport::Tls {
                verified_chain: true,
                verified_host: true,
            },
        }
    }

    /// Whether the mode may send data in plaintext.
    #[must_use]
    pub const fn may_be_plaintext(self) -> bool {
        matches!(self, Self::Disable | Self::Prefer)
    }

    const fn to_sqlx(self) -> PgSslMode {
        match self {
            Self::Disable => PgSslMode::Disable,
            Self::Prefer => PgSslMode::Prefer,
            Self::Require => PgSslMode::Require,
            Self::VerifyCa => PgSslMode::VerifyCa,
            Self::VerifyFull => PgSslMode::VerifyFull,
        }
    }

    const fn from_sqlx(m: PgSslMode) -> Self {
        match m {
            PgSslMode::Disable | PgSslMode::Allow => Self::Disable,
            PgSslMode::Prefer => Self::Prefer,
            PgSslMode::Require => Self::Require,
            PgSslMode::VerifyCa => Self::VerifyCa,
            PgSslMode::VerifyFull => Self::VerifyFull,
        }
    }
}

/// Which certificate authorities the server's certificate is verified against (in
/// `verify-ca` and `verify-full`). The Mozilla roots of `webpki-roots` are always trusted
/// too: sqlx's rustls backend starts from them (see `docs/storage.md`, "Transport").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsRoots {
    /// The Mozilla roots only (a server with a publicly trusted certificate).
    WebPki,
    /// A CA certificate (PEM) read from a file, in addition.
    CaFile,
    /// A CA certificate (PEM) given as bytes, in addition.
    CaPem,
    /// Set by the URL's `sslrootcert` or the `PGSSLROOTCERT` variable.
    FromEnvironmentOrUrl,
}

/// How a [`PostgresStore`] connects: server, database, pool, timeouts and transport
/// security. `Debug` never shows the password or key material.
///
/// ```no_run
/// # async fn f() -> Result<(), crm_privacy::store::StoreError> {
/// use crm_privacy_postgres::{PgOptions, PostgresStore};
/// let opts = PgOptions::new("db.internal.example", 5432, "crm", "crm_app")
///     .password("from-your-secret-store")
///     .ca_file("/etc/crm/db-ca.pem")
///     .schema("tenant_a")
///     .max_connections(16);
/// let store = PostgresStore::connect_with(&opts).await?;
/// assert_eq!(store.tls_mode(), crm_privacy_postgres::TlsMode::VerifyFull);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct PgOptions {
    connect: PgConnectOptions,
    schema: Option<String>,
    max_connections: u32,
    connect_timeout: Duration,
    acquire_timeout: Duration,
    application_name: Option<String>,
    mode: Option<TlsMode>,
    roots: TlsRoots,
    client_certificate: bool,
    plaintext_to_remote: bool,
}

impl std::fmt::Debug for PgOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgOptions")
            .field("host", &self.connect.get_host())
            .field("port", &self.connect.get_port())
            .field("database", &self.connect.get_database())
            .field("schema", &self.schema)
            .field("max_connections", &self.max_connections)
            .field("connect_timeout", &self.connect_timeout)
            .field("acquire_timeout", &self.acquire_timeout)
            .field("tls_mode", &self.tls_mode_in_force())
            .field("roots", &self.roots)
            .field("client_certificate", &self.client_certificate)
            .field("plaintext_to_remote_host", &self.plaintext_to_remote)
            .finish_non_exhaustive()
    }
}

impl PgOptions {
    /// Options for `user` on `database` at `host:port` (a host starting with `/` is a Unix
    /// socket directory). Defaults: 10 connections, 10 s to connect, 10 s to acquire a
    /// pooled connection, TLS mode by host (see the module docs).
    #[must_use]
    pub fn new(host: &str, port: u16, database: &str, user: &str) -> Self {
        Self::with(
            PgConnectOptions::new_without_pgpass()
                .host(host)
                .port(port)
                .database(database)
                .username(user),
            None,
        )
    }

    /// Options from a libpq-style URL (`postgres://user:password@host:port/db?sslmode=…`).
    /// An `sslmode` in the URL is taken as the host's explicit choice of mode (`allow` is
    /// `disable`, as sqlx implements it); plaintext to a remote host is still refused unless
    /// [`allow_plaintext_to_remote_host_insecure`](Self::allow_plaintext_to_remote_host_insecure).
    ///
    /// # Errors
    /// [`StoreError::Misuse`] if the URL does not parse (the message never repeats it).
    pub fn from_url(url: &str) -> Result<Self, StoreError> {
        let connect = PgConnectOptions::from_str(url).map_err(|_| StoreError::Misuse {
            what: "database url does not parse",
        })?;
        let explicit = url
            .split_once('?')
            .map(|(_, q)| q)
            .into_iter()
            .flat_map(|q| q.split('&'))
            .any(|kv| {
                let k = kv.split('=').next().unwrap_or_default();
                k == "sslmode" || k == "ssl-mode"
            });
        let mode = explicit.then(|| TlsMode::from_sqlx(connect.get_ssl_mode()));
        let from_url = url.contains("sslrootcert=")
            || url.contains("ssl-root-cert=")
            || url.contains("ssl-ca=")
            || std::env::var_os("PGSSLROOTCERT").is_some();
        let mut o = Self::with(connect, mode);
        if from_url {
            o.roots = TlsRoots::FromEnvironmentOrUrl;
        }
        Ok(o)
    }

    fn with(connect: PgConnectOptions, mode: Option<TlsMode>) -> Self {
        Self {
            connect,
            schema: None,
            max_connections: 10,
            connect_timeout: Duration::from_secs(10),
            acquire_timeout: Duration::from_secs(10),
            application_name: None,
            mode,
            roots: TlsRoots::WebPki,
            client_certificate: false,
            plaintext_to_remote: false,
        }
    }

    /// The password (kept out of `Debug` and every error).
    #[must_use]
    pub fn password(mut self, password: &str) -> Self {
        self.connect = self.connect.password(password);
        self
    }

    /// Creates `schema` (`[a-z0-9_]`) if needed and uses it as the search path (one schema
    /// per tenant or test run).
    #[must_use]
    pub fn schema(mut self, schema: &str) -> Self {
        self.schema = Some(schema.to_owned());
        self
    }

    /// Up to `n` pooled connections.
    #[must_use]
    pub const fn max_connections(mut self, n: u32) -> Self {
        self.max_connections = n;
        self
    }

    /// How long connecting (TCP, TLS handshake, authentication, migrations' first
    /// connection) may take.
    #[must_use]
    pub const fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }

    /// How long an operation waits for a pooled connection (including opening one).
    #[must_use]
    pub const fn acquire_timeout(mut self, d: Duration) -> Self {
        self.acquire_timeout = d;
        self
    }

    /// The application name operators see in `pg_stat_activity` (default `crm-privacy`,
    /// or `crm-privacy:<schema>` with a schema); cut to 63 bytes.
    #[must_use]
    pub fn application_name(mut self, name: &str) -> Self {
        self.application_name = Some(name.to_owned());
        self
    }

    /// Asks for a TLS mode instead of the default by host.
    #[must_use]
    pub const fn tls_mode(mut self, mode: TlsMode) -> Self {
        self.mode = Some(mode);
        self
    }

    /// Trusts the CA certificate(s) in this PEM file as well (a managed PostgreSQL's CA
    /// bundle, a private CA).
    #[must_use]
    pub fn ca_file(mut self, path: impl AsRef<Path>) -> Self {
        self.connect = self.connect.ssl_root_cert(path);
        self.roots = TlsRoots::CaFile;
        self
    }

    /// Trusts the CA certificate(s) in these PEM bytes as well.
    #[must_use]
    pub fn ca_pem(mut self, pem: &[u8]) -> Self {
        self.connect = self.connect.ssl_root_cert_from_pem(pem.to_vec());
        self.roots = TlsRoots::CaPem;
        self
    }

    /// Presents a client certificate (PEM chain) with its private key (PEM) from files, for
    /// servers that authenticate clients by certificate.
    #[must_use]
    pub fn client_certificate_files(
        mut self,
        certificate: impl AsRef<Path>,
        key: impl AsRef<Path>,
    ) -> Self {
        self.connect = self
            .connect
            .ssl_client_cert(certificate)
            .ssl_client_key(key);
        self.client_certificate = true;
        self
    }

    /// Presents a client certificate (PEM chain) with its private key (PEM) given as bytes.
    #[must_use]
    pub fn client_certificate_pem(mut self, certificate: &[u8], key: &[u8]) -> Self {
        self.connect = self
            .connect
            .ssl_client_cert_from_pem(certificate)
            .ssl_client_key_from_pem(key);
        self.client_certificate = true;
        self
    }

    /// Allows a plaintext mode (`disable`, `prefer`) to a host that is not loopback. Data
    /// subjects' ids, blind indexes, consent evidence and sealed records then cross the
    /// network readable and alterable by anyone on the path, and the register says so. For a
    /// network the host secures otherwise (an IPsec or WireGuard tunnel, a sidecar proxy).
    #[must_use]
    pub const fn allow_plaintext_to_remote_host_insecure(mut self) -> Self {
        self.plaintext_to_remote = true;
        self
    }

    /// Whether the server is on this machine: `localhost`, a loopback address or a Unix
    /// socket.
    #[must_use]
    pub fn is_loopback(&self) -> bool {
        if self.connect.get_socket().is_some() {
            return true;
        }
        let host = self.connect.get_host();
        let host = host.strip_suffix('.').unwrap_or(host);
        if host.starts_with('/') || host.eq_ignore_ascii_case("localhost") {
            return true;
        }
        let bare = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
    }

    /// The TLS mode these options put in force: the one asked for, else `verify-full`, or
    /// `prefer` on loopback.
    #[must_use]
    pub fn tls_mode_in_force(&self) -> TlsMode {
        self.mode.unwrap_or(if self.is_loopback() {
            TlsMode::Prefer
        } else {
            TlsMode::VerifyFull
        })
    }

    /// The transport these options guarantee (what the store reports to the register).
    #[must_use]
    pub fn transport(&self) -> Transport {
        self.tls_mode_in_force().transport(self.is_loopback())
    }

    /// Checks the options before any network traffic and returns the mode in force.
    ///
    /// # Errors
    /// [`StoreError::InsecureTransport`] for a plaintext mode to a remote host without the
    /// opt-in; [`StoreError::Misuse`] for a schema name outside `[a-z0-9_]`, a pool of no
    /// connections or a zero timeout.
    pub fn check(&self) -> Result<TlsMode, StoreError> {
        let mode = self.tls_mode_in_force();
        if mode.may_be_plaintext() && !self.is_loopback() && !self.plaintext_to_remote {
            return Err(StoreError::InsecureTransport {
                cause: "plaintext to a host that is not loopback",
            });
        }
        if let Some(s) = &self.schema {
            if s.is_empty()
                || !s
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            {
                return Err(StoreError::Misuse {
                    what: "schema names are [a-z0-9_]",
                });
            }
        }
        if self.max_connections == 0 {
            return Err(StoreError::Misuse {
                what: "a pool needs at least one connection",
            });
        }
        if self.connect_timeout.is_zero() || self.acquire_timeout.is_zero() {
            return Err(StoreError::Misuse {
                what: "timeouts must be positive",
            });
        }
        Ok(mode)
    }

    fn sqlx_options(&self, mode: TlsMode) -> PgConnectOptions {
        let name = match (&self.application_name, &self.schema) {
            (Some(n), _) => n.clone(),
            // The schema in the application name lets operators (and the fault test) tell
            // tenants' connections apart in pg_stat_activity.
            (None, Some(s)) => format!("crm-privacy:{s}"),
            (None, None) => "crm-privacy".to_owned(),
        };
        let name: String = name.chars().take(63).collect();
        self.connect
            .clone()
            .ssl_mode(mode.to_sqlx())
            .application_name(&name)
    }

    async fn within<T>(
        &self,
        f: impl std::future::Future<Output = Result<T, sqlx::Error>>,
    ) -> Result<T, StoreError> {
        match tokio::time::timeout(self.connect_timeout, f).await {
            Ok(r) => r.map_err(crate::backend),
            Err(_) => Err(StoreError::Unavailable {
                cause: "connecting timed out",
            }),
        }
    }
}

impl PostgresStore {
    /// Connects as `options` say, after checking them ([`PgOptions::check`]) before any
    /// network traffic, and runs pending migrations.
    ///
    /// # Errors
    /// [`StoreError::InsecureTransport`] when the options would send plaintext to a remote
    /// host, or the server's certificate does not verify (unknown issuer, wrong host name,
    /// expired) or the server offers no TLS where it is required; [`StoreError::Misuse`] for
    /// bad options; [`StoreError::Unavailable`] if the server is unreachable or connecting
    /// times out; [`StoreError::Backend`] if a migration fails. No message carries the URL,
    /// user or password.
    pub async fn connect_with(options: &PgOptions) -> Result<Self, StoreError> {
        // sqlx panics outside a tokio runtime; refuse with a typed error instead.
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(StoreError::Backend(
                "PostgresStore needs a tokio runtime: connect and use it inside one".into(),
            ));
        }
        let mode = options.check()?;
        let mut opts = options.sqlx_options(mode);
        if let Some(s) = &options.schema {
            let admin = options
                .within(
                    PgPoolOptions::new()
                        .max_connections(1)
                        .acquire_timeout(options.connect_timeout)
                        .connect_with(opts.clone()),
                )
                .await?;
            create_schema_on(&admin, s).await?;
            admin.close().await;
            opts = opts.options([("search_path", s)]);
        }
        let pool: PgPool = options
            .within(
                PgPoolOptions::new()
                    .max_connections(options.max_connections)
                    .acquire_timeout(options.acquire_timeout)
                    .connect_with(opts),
            )
            .await?;
        let store = Self {
            pool,
            transport: options.transport(),
            mode,
            group: std::sync::Arc::new(GroupCommit::new()),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// The TLS mode in force for this store's connections.
    #[must_use]
    pub const fn tls_mode(&self) -> TlsMode {
        self.mode
    }

    /// The transport this store's configuration guarantees (what the custodian's register
    /// states).
    #[must_use]
    pub const fn transport(&self) -> Transport {
        self.transport
    }

    /// Whether the connection serving this call negotiated TLS, as the server sees it
    /// (`pg_stat_ssl`): what `prefer` actually got. [`transport`](Self::transport) is what
    /// the configuration guarantees for every connection.
    ///
    /// # Errors
    /// Backend failures.
    pub async fn connection_uses_tls(&self) -> Result<bool, StoreError> {
        let row: Option<bool> =
            sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
                .fetch_optional(&self.pool)
                .await
                .map_err(crate::backend)?;
        Ok(row.unwrap_or(false))
    }
}

/// Creates `schema` under the migration lock: two processes creating one schema at once
/// would race on `pg_namespace` (23505); the advisory lock queues them, and the second finds
/// the schema there.
pub(crate) async fn create_schema_on(pool: &PgPool, schema: &str) -> Result<(), StoreError> {
    let mut tx = pool.begin().await.map_err(crate::backend)?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(crate::MIGRATION_LOCK)
        .execute(&mut *tx)
        .await
        .map_err(crate::backend)?;
    tx.execute(format!("CREATE SCHEMA IF NOT EXISTS {schema}").as_str())
        .await
        .map_err(crate::backend)?;
    tx.commit().await.map_err(crate::commit_error)
}
