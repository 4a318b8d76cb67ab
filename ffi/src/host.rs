//! What the composition root configures a custodian with: an authenticator (the only source
//! of sessions), a staff directory (the only source of NDAs) and, for tests, a manual clock.
//!
//! These handles belong to the trusted side of the host — the code that opens the
//! custodian. Whoever holds a `crm_authenticator` can log any subject in; whoever holds a
//! `crm_staff_directory` can file NDAs; whoever holds a `crm_clock` moves time. Hand the
//! rest of the program the `crm_custodian` handle only.

use std::ffi::c_void;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use crm_privacy::staff::{InMemoryStaffDirectory, StaffDirectory};
use crm_privacy::store::{AuthError, Authenticator, DynAuthenticator, InMemoryAuthenticator};
use crm_privacy::{
    Clock, ManualClock, NdaAttestation, SessionClaims, SessionId, StaffId, SubjectId,
};

use crate::buffer::{CRM_ID_LEN, id, input_str, write_out};
use crate::error::crm_result;
use crate::handle::{borrow, castable, free, into_handle};
use crate::panic::{boundary, boundary_void};

fn instant(unix: i64) -> Result<DateTime<Utc>, crm_result> {
    DateTime::from_timestamp(unix, 0).ok_or(crm_result::CRM_TIME_OUT_OF_RANGE)
}

// ---------------------------------------------------------------------------------------
// Authenticator

/// An in-memory authenticator (opaque): the host's login fills it with
/// `crm_authenticator_insert`; the custodian it is configured into turns a credential
/// into a session. For tests, examples and hosts whose login runs in the same process.
#[expect(non_camel_case_types, reason = "C naming")]
pub struct crm_authenticator {
    _private: [u8; 0],
}
castable!(crm_authenticator => Arc<InMemoryAuthenticator>);

/// Makes an empty in-memory authenticator.
///
/// # Safety
/// `out` must be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_authenticator_new(out: *mut *mut crm_authenticator) -> crm_result {
    boundary(|| {
        crate::buffer::out_ptr(out)?;
        write_out(out, into_handle::<crm_authenticator>(Arc::default()))
    })
}

/// Registers a session under `credential` (UTF-8, copied; only its digest is kept): the
/// subject `subject` (16 bytes) logged in as session `session` (16 bytes) at
/// `authenticated_at_unix` until `expires_at_unix` (seconds since the epoch). Call only
/// from the login side of the host.
///
/// # Safety
/// Buffers must be valid for their lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_authenticator_insert(
    auth: *const crm_authenticator,
    credential: *const u8,
    credential_len: usize,
    subject: *const u8,
    session: *const u8,
    authenticated_at_unix: i64,
    expires_at_unix: i64,
) -> crm_result {
    boundary(|| {
        let a = borrow(auth)?;
        let credential = input_str(credential, credential_len)?;
        let claims = SessionClaims {
            subject: SubjectId::from_bytes(id(subject)?),
            session: SessionId::from_bytes(id(session)?),
            authenticated_at: instant(authenticated_at_unix)?,
            expires_at: instant(expires_at_unix)?,
        };
        a.insert(credential, claims);
        Ok(())
    })
}

/// Logs the session of `credential` out (unknown credentials are ignored). Grants issued to
/// the session (owner access, conference creation, service grants for the session) fail
/// with `CRM_SESSION_ENDED` from their next use, in every custodian using this
/// authenticator; a session reached by several credentials ends with its last one, and an
/// ended session stays ended (a credential inserted later for its session id is refused).
///
/// # Safety
/// `credential` must be valid for `credential_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_authenticator_remove(
    auth: *const crm_authenticator,
    credential: *const u8,
    credential_len: usize,
) -> crm_result {
    boundary(|| {
        let a = borrow(auth)?;
        a.remove(input_str(credential, credential_len)?);
        Ok(())
    })
}

/// Frees an authenticator handle (a custodian configured with it keeps its own reference).
/// NULL or a freed handle is a no-op. Must not race with calls using the same handle.
#[unsafe(no_mangle)]
pub extern "C" fn crm_authenticator_free(auth: *mut crm_authenticator) {
    boundary_void(|| free(auth));
}

/// What a host authenticate callback reports about a verified credential.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct crm_session_claims {
    /// The authenticated subject's id.
    pub subject: [u8; CRM_ID_LEN],
    /// The host's session id.
    pub session: [u8; CRM_ID_LEN],
    /// When the subject authenticated (seconds since the epoch).
    pub authenticated_at_unix: i64,
    /// When the session ends (seconds since the epoch).
    pub expires_at_unix: i64,
}

/// Authenticate callback verdict: the credential is valid; `out` is filled.
pub const CRM_AUTH_ACCEPTED: u32 = 0;
/// Authenticate callback verdict: unknown, forged or logged-out credential.
pub const CRM_AUTH_REJECTED: u32 = 1;
/// Authenticate callback verdict: the session has expired.
pub const CRM_AUTH_EXPIRED: u32 = 2;

/// The host's authenticate callback: verifies `credential` (`credential_len` bytes, valid
/// only during the call) and, when it returns `CRM_AUTH_ACCEPTED`, fills `*out`. Any other
/// value refuses. Called from the thread making a custodian call; it must be thread-safe
/// if the custodian is used from several threads.
#[expect(non_camel_case_types, reason = "C naming")]
pub type crm_authenticate_callback = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        credential: *const u8,
        credential_len: usize,
        out: *mut crm_session_claims,
    ) -> u32,
>;

/// Session-live callback verdict: the session is live (not logged out, not expired).
pub const CRM_SESSION_IS_LIVE: u32 = 0;
/// Session-live callback verdict: the session has ended (logout or expiry). Any value
/// other than `CRM_SESSION_IS_LIVE` counts as ended.
pub const CRM_SESSION_HAS_ENDED: u32 = 1;

/// The host's session-live callback: whether session `session` (16 bytes) of subject
/// `subject` (16 bytes), both valid only during the call, is still live at `now_unix`
/// (seconds since the epoch, by the custodian's clock). Return `CRM_SESSION_IS_LIVE` only
/// for a live session; anything else ends every grant issued to the session at its next
/// use, in every process. A session that ended must stay ended (a later login gets a new
/// session id). Same threading rules as the authenticate callback.
#[expect(non_camel_case_types, reason = "C naming")]
pub type crm_session_live_callback = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        subject: *const u8,
        session: *const u8,
        now_unix: i64,
    ) -> u32,
>;

/// An [`Authenticator`] calling back into the host.
#[derive(Debug)]
struct CallbackAuthenticator {
    callback: unsafe extern "C" fn(*mut c_void, *const u8, usize, *mut crm_session_claims) -> u32,
    session_live: unsafe extern "C" fn(*mut c_void, *const u8, *const u8, i64) -> u32,
    /// The host's context pointer, kept as an address so the type is `Send + Sync`; the host
    /// promises it stays valid and thread-safe for the custodian's life.
    userdata: usize,
}

#[async_trait]
impl Authenticator for CallbackAuthenticator {
    async fn authenticate(
        &self,
        credential: &str,
        _now: DateTime<Utc>,
    ) -> Result<SessionClaims, AuthError> {
        let mut out = crm_session_claims::default();
        // SAFETY: the callback and `userdata` were given by the composition root with the
        // promise (documented on `crm_custodian_config_set_authenticate_callback`) that they
        // stay valid for the custodian's life; the credential pointer and length describe a
        // live `&str`, and `out` is a valid, initialized `crm_session_claims`.
        let verdict = unsafe {
            (self.callback)(
                self.userdata as *mut c_void,
                credential.as_ptr(),
                credential.len(),
                &raw mut out,
            )
        };
        match verdict {
            CRM_AUTH_ACCEPTED => {}
            CRM_AUTH_EXPIRED => return Err(AuthError::Expired),
            _ => return Err(AuthError::Rejected),
        }
        let (Some(authenticated_at), Some(expires_at)) = (
            DateTime::from_timestamp(out.authenticated_at_unix, 0),
            DateTime::from_timestamp(out.expires_at_unix, 0),
        ) else {
            return Err(AuthError::Rejected);
        };
        Ok(SessionClaims {
            subject: SubjectId::from_bytes(out.subject),
            session: SessionId::from_bytes(out.session),
            authenticated_at,
            expires_at,
        })
    }

    async fn session_live(
        &self,
        subject: SubjectId,
        session: SessionId,
        now: DateTime<Utc>,
    ) -> Result<bool, AuthError> {
        let (subject, session) = (subject.to_bytes(), session.to_bytes());
        // SAFETY: the callback and `userdata` were given by the composition root with the
        // promise (documented on `crm_custodian_config_set_authenticate_callback`) that they
        // stay valid for the custodian's life; both pointers are to live 16-byte arrays on
        // this stack frame, valid for the call.
        let verdict = unsafe {
            (self.session_live)(
                self.userdata as *mut c_void,
                subject.as_ptr(),
                session.as_ptr(),
                now.timestamp(),
            )
        };
        Ok(verdict == CRM_SESSION_IS_LIVE)
    }
}

// ---------------------------------------------------------------------------------------
// Staff directory

/// An in-memory staff directory (opaque): NDAs on file (clause 8.1). Staff grants are
/// issued and used only while it holds an NDA in force for the member.
#[expect(non_camel_case_types, reason = "C naming")]
pub struct crm_staff_directory {
    _private: [u8; 0],
}
castable!(crm_staff_directory => Arc<InMemoryStaffDirectory>);

/// Makes an empty staff directory.
///
/// # Safety
/// `out` must be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_staff_directory_new(out: *mut *mut crm_staff_directory) -> crm_result {
    boundary(|| {
        crate::buffer::out_ptr(out)?;
        write_out(out, into_handle::<crm_staff_directory>(Arc::default()))
    })
}

/// Files the NDA of staff member `staff` (16 bytes) under `document_ref` (UTF-8, a reference
/// to the signed document, never its content), signed at `signed_at_unix`, in force until
/// `expires_at_unix` (0: no end).
///
/// # Safety
/// Buffers must be valid for their lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_staff_directory_file(
    dir: *const crm_staff_directory,
    staff: *const u8,
    document_ref: *const u8,
    document_ref_len: usize,
    signed_at_unix: i64,
    expires_at_unix: i64,
) -> crm_result {
    boundary(|| {
        let d = borrow(dir)?;
        let staff = StaffId::from_bytes(id(staff)?);
        let doc = input_str(document_ref, document_ref_len)?;
        let expires = match expires_at_unix {
            0 => None,
            t => Some(instant(t)?),
        };
        d.file(NdaAttestation::new(
            staff,
            doc,
            instant(signed_at_unix)?,
            expires,
        ));
        Ok(())
    })
}

/// Removes the NDA of `staff` (16 bytes): that member's grants stop at once.
///
/// # Safety
/// `staff` must be valid for 16 bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_staff_directory_remove(
    dir: *const crm_staff_directory,
    staff: *const u8,
) -> crm_result {
    boundary(|| {
        let d = borrow(dir)?;
        d.remove(StaffId::from_bytes(id(staff)?));
        Ok(())
    })
}

/// Frees a staff directory handle (a custodian configured with it keeps its own reference).
/// NULL or a freed handle is a no-op.
#[unsafe(no_mangle)]
pub extern "C" fn crm_staff_directory_free(dir: *mut crm_staff_directory) {
    boundary_void(|| free(dir));
}

// ---------------------------------------------------------------------------------------
// Clock

/// A manual clock (opaque) for tests and simulations: a custodian configured with it
/// reads time only from it. Production custodians use the system clock (the default).
#[expect(non_camel_case_types, reason = "C naming")]
pub struct crm_clock {
    _private: [u8; 0],
}
castable!(crm_clock => Arc<ManualClock>);

/// Makes a manual clock reading `start_unix` (seconds since the epoch).
///
/// # Safety
/// `out` must be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_clock_new_manual(
    start_unix: i64,
    out: *mut *mut crm_clock,
) -> crm_result {
    boundary(|| {
        crate::buffer::out_ptr(out)?;
        let start = instant(start_unix)?;
        write_out(
            out,
            into_handle::<crm_clock>(Arc::new(ManualClock::new(start))),
        )
    })
}

/// Sets a manual clock to `at_unix` (seconds since the epoch).
#[unsafe(no_mangle)]
pub extern "C" fn crm_clock_set(clock: *const crm_clock, at_unix: i64) -> crm_result {
    boundary(|| {
        let c = borrow(clock)?;
        c.set(instant(at_unix)?);
        Ok(())
    })
}

/// Moves a manual clock by `seconds` (may be negative). A move that would leave the
/// representable range (years -262143 to 262142) is refused with `CRM_TIME_OUT_OF_RANGE` and
/// leaves the clock as it was.
#[unsafe(no_mangle)]
pub extern "C" fn crm_clock_advance(clock: *const crm_clock, seconds: i64) -> crm_result {
    boundary(|| {
        let c = borrow(clock)?;
        let by = TimeDelta::try_seconds(seconds).ok_or(crm_result::CRM_TIME_OUT_OF_RANGE)?;
        c.try_advance(by)
            .map(|_| ())
            .ok_or(crm_result::CRM_TIME_OUT_OF_RANGE)
    })
}

/// Frees a clock handle (a custodian configured with it keeps its own reference).
#[unsafe(no_mangle)]
pub extern "C" fn crm_clock_free(clock: *mut crm_clock) {
    boundary_void(|| free(clock));
}

// ---------------------------------------------------------------------------------------
// Custodian configuration

/// What `crm_custodian_open` builds the custodian with besides its store and keys.
#[derive(Debug, Default)]
pub(crate) struct Config {
    pub(crate) authenticator: Option<DynAuthenticator>,
    pub(crate) staff: Option<Arc<dyn StaffDirectory>>,
    pub(crate) clock: Option<Arc<dyn Clock>>,
    pub(crate) grant_ttl: Option<TimeDelta>,
}

/// Optional parts of a custodian (opaque): authenticator, staff directory, clock, grant
/// lifetime. Read once by `crm_custodian_open`; free it afterwards.
#[expect(non_camel_case_types, reason = "C naming")]
pub struct crm_custodian_config {
    _private: [u8; 0],
}
castable!(crm_custodian_config => Mutex<Config>);

fn with_config(
    cfg: *const crm_custodian_config,
    f: impl FnOnce(&mut Config) -> Result<(), crm_result>,
) -> Result<(), crm_result> {
    let c = borrow(cfg)?;
    f(&mut c.lock().unwrap_or_else(PoisonError::into_inner))
}

pub(crate) fn config_of(cfg: *const crm_custodian_config) -> Result<Config, crm_result> {
    if cfg.is_null() {
        return Ok(Config::default());
    }
    let c = borrow(cfg)?.lock().unwrap_or_else(PoisonError::into_inner);
    Ok(Config {
        authenticator: c.authenticator.clone(),
        staff: c.staff.clone(),
        clock: c.clock.clone(),
        grant_ttl: c.grant_ttl,
    })
}

/// Makes an empty configuration: no authenticator (every credential is refused), no staff
/// directory (staff grants refused), the system clock, a 5-minute grant lifetime.
///
/// # Safety
/// `out` must be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_custodian_config_new(
    out: *mut *mut crm_custodian_config,
) -> crm_result {
    boundary(|| {
        crate::buffer::out_ptr(out)?;
        write_out(out, into_handle::<crm_custodian_config>(Mutex::default()))
    })
}

/// Uses the in-memory authenticator `auth` (replacing any earlier choice).
#[unsafe(no_mangle)]
pub extern "C" fn crm_custodian_config_set_authenticator(
    cfg: *const crm_custodian_config,
    auth: *const crm_authenticator,
) -> crm_result {
    boundary(|| {
        let a: DynAuthenticator = borrow(auth)?.clone();
        with_config(cfg, |c| {
            c.authenticator = Some(a);
            Ok(())
        })
    })
}

/// Uses the host's callbacks (each called with `userdata`) as the authenticator (replacing
/// any earlier choice): `authenticate` verifies a credential, `session_live` says whether a
/// session is still live and is asked at every use of a grant issued to a session (owner
/// access and the other session grants), so a logout ends them at their next call.
/// Both are required: a host whose sessions cannot end before their expiry returns
/// `CRM_SESSION_IS_LIVE` until then, as a choice it makes, not a default.
///
/// # Safety
/// `authenticate`, `session_live` and `userdata` must stay valid, and be safe to call from
/// any thread that uses the custodian, until every custodian opened with this
/// configuration is freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_custodian_config_set_authenticate_callback(
    cfg: *const crm_custodian_config,
    authenticate: crm_authenticate_callback,
    session_live: crm_session_live_callback,
    userdata: *mut c_void,
) -> crm_result {
    boundary(|| {
        let callback = authenticate.ok_or(crm_result::CRM_NULL_PARAMETER)?;
        let session_live = session_live.ok_or(crm_result::CRM_NULL_PARAMETER)?;
        let a: DynAuthenticator = Arc::new(CallbackAuthenticator {
            callback,
            session_live,
            userdata: userdata as usize,
        });
        with_config(cfg, |c| {
            c.authenticator = Some(a);
            Ok(())
        })
    })
}

/// Uses the staff directory `dir`.
#[unsafe(no_mangle)]
pub extern "C" fn crm_custodian_config_set_staff_directory(
    cfg: *const crm_custodian_config,
    dir: *const crm_staff_directory,
) -> crm_result {
    boundary(|| {
        let d: Arc<dyn StaffDirectory> = borrow(dir)?.clone();
        with_config(cfg, |c| {
            c.staff = Some(d);
            Ok(())
        })
    })
}

/// Uses the manual clock `clock` instead of the system clock.
#[unsafe(no_mangle)]
pub extern "C" fn crm_custodian_config_set_clock(
    cfg: *const crm_custodian_config,
    clock: *const crm_clock,
) -> crm_result {
    boundary(|| {
        let k: Arc<dyn Clock> = borrow(clock)?.clone();
        with_config(cfg, |c| {
            c.clock = Some(k);
            Ok(())
        })
    })
}

/// Sets the grant lifetime to `seconds` (1..=86400; checked again at open).
#[unsafe(no_mangle)]
pub extern "C" fn crm_custodian_config_set_grant_ttl(
    cfg: *const crm_custodian_config,
    seconds: u32,
) -> crm_result {
    boundary(|| {
        if !(1..=86_400).contains(&seconds) {
            return Err(crm_result::CRM_INVALID_ARGUMENT);
        }
        with_config(cfg, |c| {
            c.grant_ttl = Some(TimeDelta::seconds(i64::from(seconds)));
            Ok(())
        })
    })
}

/// Frees a configuration. NULL or a freed handle is a no-op.
#[unsafe(no_mangle)]
pub extern "C" fn crm_custodian_config_free(cfg: *mut crm_custodian_config) {
    boundary_void(|| free(cfg));
}
