// A session cannot be assembled from claims by hand: its fields are private.
use crm_privacy::*;
fn forge(claims: SessionClaims) -> UserSession {
    UserSession { claims, authority: todo!() }
}
fn main() {}
