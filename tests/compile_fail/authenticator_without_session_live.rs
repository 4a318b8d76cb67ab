//! An authenticator must say how its sessions end: `session_live` has no default, so a host
//! cannot forget it and leave grants issued to a session alive after a logout.
use chrono::{DateTime, Utc};
use crm_privacy::SessionClaims;
use crm_privacy::store::{AuthError, Authenticator};

#[derive(Debug)]
struct LoginOnly;

#[async_trait::async_trait]
impl Authenticator for LoginOnly {
    async fn authenticate(
        &self,
        _credential: &str,
        _now: DateTime<Utc>,
    ) -> Result<SessionClaims, AuthError> {
        Err(AuthError::Rejected)
    }
}

fn main() {}
