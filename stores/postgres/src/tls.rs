//! Why a TLS connection was refused, read from rustls's typed error (never from a message),
//! as a fixed phrase for [`StoreError::InsecureTransport`](crm_privacy::store::StoreError).

use rustls::{CertificateError, Error as TlsError};

/// The refusal a sqlx error stands for, if it is a TLS one. sqlx reports a failed handshake
/// as an I/O error wrapping the rustls error, and a refused upgrade (the server offers no
/// TLS, a certificate or key that does not load) as its TLS error.
pub(crate) fn refusal(e: &sqlx::Error) -> Option<&'static str> {
    match e {
        sqlx::Error::Io(io) => io
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<TlsError>())
            .map(phrase),
        sqlx::Error::Tls(inner) => Some(
            inner
                .downcast_ref::<TlsError>()
                .map_or("tls could not be established with the server", phrase),
        ),
        _ => None,
    }
}

fn phrase(e: &TlsError) -> &'static str {
    match e {
        TlsError::InvalidCertificate(c) => match c {
            CertificateError::UnknownIssuer => "server certificate is not from a trusted issuer",
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                "server certificate does not name the host"
            }
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                "server certificate expired"
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                "server certificate not valid yet"
            }
            CertificateError::Revoked => "server certificate revoked",
            _ => "server certificate refused",
        },
        TlsError::AlertReceived(_) => "server refused the tls handshake",
        TlsError::NoCertificatesPresented => "server presented no certificate",
        TlsError::InconsistentKeys(_) => "client certificate and key do not match",
        _ => "tls handshake failed",
    }
}
