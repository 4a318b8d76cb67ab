//! Grants over the C ABI: every grant is issued by the custodian and travels as a signed
//! token of its authority. Sessions come only from the custodian's authenticator (the C
//! caller passes the host's session credential); staff NDAs only from its staff directory.

use std::future::Future;

use crm_privacy::custodian::{Custodian, CustodianError, LookupGrant};
use crm_privacy::disclosure::LawfulRequest;
use crm_privacy::{
    AccountManagement, ChatSharing, Email, Grant, IdentityVerification, LegalCompliance,
    Notification, Phone, Purpose, RequestId, StaffId, SubjectId, SupportContact, TeamCollaboration,
    UserSession,
};

use crate::buffer::{CRM_ID_LEN, id, input_str, out_ptr, output, output_id, write_out};
use crate::custodian::{Handle, crm_custodian, subject_in};
use crate::error::crm_result;
use crate::handle::{borrow, castable, free, into_handle};
use crate::panic::{boundary, boundary_void};
use crate::purpose::{purpose_in, with_any_purpose, with_service_purpose};

/// The session of the host credential `(ptr, len)`, verified by the custodian's
/// authenticator.
pub(crate) fn session_in(
    h: &Handle,
    ptr: *const u8,
    len: usize,
) -> Result<UserSession, crm_result> {
    let credential = input_str(ptr, len)?;
    Ok(h.rt.block_on(h.custodian.authenticate(credential))?)
}

/// Waits for the grant `issue` makes, seals it and writes its signed token to `buf`.
fn issue_out<P: Purpose>(
    h: &Handle,
    issue: impl Future<Output = Result<Grant<P>, CustodianError>>,
    buf: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> Result<(), crm_result> {
    let g = h.rt.block_on(issue)?;
    output(h.custodian.seal_grant(&g)?.as_bytes(), buf, cap, out_len)
}

/// Issues a grant for service purpose `purpose` on `subject` (16 bytes) to `component`
/// (UTF-8, a name for the audit log, kept in clear: a component name that reads as personal
/// data — an email address, an international phone number, an IP address, a control
/// character — is `CRM_INVALID_DATA`) and writes its signed token. Owner access and
/// conference creation: `CRM_PURPOSE_NEEDS_SESSION` (see `crm_grant_owner`,
/// `crm_grant_conference`); legal compliance: `CRM_PROOF_REQUIRED` (see `crm_grant_lawful`).
///
/// # Safety
/// Buffers must be valid for their lengths; `out_len` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_custodian_grant(
    c: *const crm_custodian,
    subject: *const u8,
    purpose: u8,
    component: *const u8,
    component_len: usize,
    buf: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> crm_result {
    boundary(|| {
        let h = borrow(c)?;
        let s = subject_in(subject)?;
        let component = input_str(component, component_len)?;
        let p = purpose_in(purpose)?;
        with_service_purpose!(p, |P| {
            issue_out(h, h.custodian.grant::<P>(s, component), buf, cap, out_len)
        }, otherwise Err(crm_result::CRM_PURPOSE_NEEDS_SESSION))
    })
}

/// Issues a grant for service purpose `purpose` to the session of `credential` (the host's
/// session credential, UTF-8); it ends with the session.
///
/// # Safety
/// Buffers must be valid for their lengths; `out_len` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_grant_for_session(
    c: *const crm_custodian,
    credential: *const u8,
    credential_len: usize,
    purpose: u8,
    buf: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> crm_result {
    boundary(|| {
        let h = borrow(c)?;
        let p = purpose_in(purpose)?;
        let session = session_in(h, credential, credential_len)?;
        with_service_purpose!(p, |P| {
            issue_out(h, h.custodian.grant_for_session::<P>(&session), buf, cap, out_len)
        }, otherwise Err(crm_result::CRM_PURPOSE_NEEDS_SESSION))
    })
}

/// Issues an owner-access grant to the session of `credential`; it ends with the session.
///
/// # Safety
/// Buffers must be valid for their lengths; `out_len` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_grant_owner(
    c: *const crm_custodian,
    credential: *const u8,
    credential_len: usize,
    buf: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> crm_result {
    boundary(|| {
        let h = borrow(c)?;
        let session = session_in(h, credential, credential_len)?;
        issue_out(h, h.custodian.grant_owner(&session), buf, cap, out_len)
    })
}

/// Issues a conference-creation grant for a request the subject of `credential` makes now
/// (clause 3.7: stamped by the custodian's clock); needs the Zoom link consent in force.
///
/// # Safety
/// Buffers must be valid for their lengths; `out_len` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_grant_conference(
    c: *const crm_custodian,
    credential: *const u8,
    credential_len: usize,
    buf: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> crm_result {
    boundary(|| {
        let h = borrow(c)?;
        let session = session_in(h, credential, credential_len)?;
        let proof = h.custodian.user_request(&session)?;
        issue_out(h, h.custodian.grant_conference(&proof), buf, cap, out_len)
    })
}

/// Issues a grant for service purpose `purpose` on `subject` to staff member `staff`
/// (16 bytes), whose NDA the custodian reads from its own staff directory (clause 8.1);
/// `CRM_NDA_MISSING` without one (or without a directory).
///
/// # Safety
/// Buffers must be valid for their lengths; `out_len` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_grant_staff(
    c: *const crm_custodian,
    subject: *const u8,
    purpose: u8,
    staff: *const u8,
    buf: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> crm_result {
    boundary(|| {
        let h = borrow(c)?;
        let s = subject_in(subject)?;
        let staff = StaffId::from_bytes(id(staff)?);
        let p = purpose_in(purpose)?;
        with_service_purpose!(p, |P| {
            issue_out(h, h.custodian.grant_staff::<P>(s, staff), buf, cap, out_len)
        }, otherwise Err(crm_result::CRM_PURPOSE_NEEDS_SESSION))
    })
}

/// Records a lawful request of a public authority about `subject` (clause 7.2):
/// `authority`, `legal_basis` (the statute or order) and `reference` (UTF-8, no personal
/// data); received now by the custodian's clock. Writes the 16-byte request id.
///
/// # Safety
/// Buffers must be valid for their lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_lawful_request_record(
    c: *const crm_custodian,
    subject: *const u8,
    authority: *const u8,
    authority_len: usize,
    legal_basis: *const u8,
    legal_basis_len: usize,
    reference: *const u8,
    reference_len: usize,
    out_request: *mut u8,
    cap: usize,
) -> crm_result {
    boundary(|| {
        let h = borrow(c)?;
        let s = subject_in(subject)?;
        let request = LawfulRequest::new(
            input_str(authority, authority_len)?,
            input_str(legal_basis, legal_basis_len)?,
            input_str(reference, reference_len)?,
            h.custodian.now(),
        )?;
        // Checked before recording, so a bad out-param never leaves an unseen request.
        out_ptr(out_request)?;
        if cap < CRM_ID_LEN {
            return Err(crm_result::CRM_BUFFER_TOO_SMALL);
        }
        let id =
            h.rt.block_on(h.custodian.record_lawful_request(s, &request))?;
        output_id(id.to_bytes(), out_request, cap)
    })
}

/// Issues a legal-compliance grant on the recorded lawful request `request` (16 bytes) for
/// `subject`, to `component` (screened as in `crm_custodian_grant`); every use checks the
/// request is still on record.
///
/// # Safety
/// Buffers must be valid for their lengths; `out_len` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_grant_lawful(
    c: *const crm_custodian,
    subject: *const u8,
    request: *const u8,
    component: *const u8,
    component_len: usize,
    buf: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> crm_result {
    boundary(|| {
        let h = borrow(c)?;
        let s = subject_in(subject)?;
        let r = RequestId::from_bytes(id(request)?);
        let component = input_str(component, component_len)?;
        issue_out(
            h,
            h.custodian.grant_lawful(s, r, component),
            buf,
            cap,
            out_len,
        )
    })
}

/// Revokes, in the custodian's ledger, the grant inside `token` (for `purpose`): from the
/// moment this returns the token reads nothing, in every process of the deployment. The
/// token must carry this authority's valid signature; its grant need not still be valid.
///
/// # Safety
/// `token` must be valid for `token_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_grant_revoke(
    c: *const crm_custodian,
    token: *const u8,
    token_len: usize,
    purpose: u8,
) -> crm_result {
    boundary(|| {
        let h = borrow(c)?;
        let token = input_str(token, token_len)?;
        let p = purpose_in(purpose)?;
        with_any_purpose!(p, |P| h
            .rt
            .block_on(h.custodian.revoke_token::<P>(token))?);
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------
// Lookups

/// A lookup grant of one of the purposes email or phone serve.
pub(crate) enum AnyLookup {
    Notification(LookupGrant<Notification>),
    IdentityVerification(LookupGrant<IdentityVerification>),
    SupportContact(LookupGrant<SupportContact>),
    AccountManagement(LookupGrant<AccountManagement>),
    TeamCollaboration(LookupGrant<TeamCollaboration>),
    ChatSharing(LookupGrant<ChatSharing>),
    LegalCompliance(LookupGrant<LegalCompliance>),
}

/// A subject-less lookup grant (opaque): finds subjects by email or phone for one
/// purpose; issued, checked and audited by the custodian.
#[expect(non_camel_case_types, reason = "C naming")]
pub struct crm_lookup_grant {
    _private: [u8; 0],
}
castable!(crm_lookup_grant => AnyLookup);

/// Issues a lookup grant for `purpose` to `component` (screened as in
/// `crm_custodian_grant`; a purpose that email or phone
/// serves: notification, identity verification, support contact, account management, team
/// collaboration, chat sharing, legal compliance; otherwise `CRM_PURPOSE_NOT_PERMITTED`).
/// Free it with `crm_lookup_grant_free`.
///
/// # Safety
/// Buffers must be valid for their lengths; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_grant_lookup(
    c: *const crm_custodian,
    purpose: u8,
    component: *const u8,
    component_len: usize,
    out: *mut *mut crm_lookup_grant,
) -> crm_result {
    boundary(|| {
        let h = borrow(c)?;
        out_ptr(out)?;
        let component = input_str(component, component_len)?;
        let k = &h.custodian;
        use crm_privacy::PurposeId as Id;
        let g = match purpose_in(purpose)? {
            Id::Notification => AnyLookup::Notification(h.rt.block_on(k.grant_lookup(component))?),
            Id::IdentityVerification => {
                AnyLookup::IdentityVerification(h.rt.block_on(k.grant_lookup(component))?)
            }
            Id::SupportContact => {
                AnyLookup::SupportContact(h.rt.block_on(k.grant_lookup(component))?)
            }
            Id::AccountManagement => {
                AnyLookup::AccountManagement(h.rt.block_on(k.grant_lookup(component))?)
            }
            Id::TeamCollaboration => {
                AnyLookup::TeamCollaboration(h.rt.block_on(k.grant_lookup(component))?)
            }
            Id::ChatSharing => AnyLookup::ChatSharing(h.rt.block_on(k.grant_lookup(component))?),
            Id::LegalCompliance => {
                AnyLookup::LegalCompliance(h.rt.block_on(k.grant_lookup(component))?)
            }
            Id::Authentication
            | Id::ConferenceCreation
            | Id::Analytics
            | Id::Troubleshooting
            | Id::Preferences
            | Id::OwnerAccess
            | Id::CustomerManagement => return Err(crm_result::CRM_PURPOSE_NOT_PERMITTED),
        };
        write_out(out, into_handle::<crm_lookup_grant>(g))
    })
}

/// Frees a lookup grant. NULL or a freed handle is a no-op.
#[unsafe(no_mangle)]
pub extern "C" fn crm_lookup_grant_free(g: *mut crm_lookup_grant) {
    boundary_void(|| free(g));
}

/// Waits for the subjects `find` finds and writes their 16-byte ids back to back to `buf`.
fn found_out(
    h: &Handle,
    find: impl Future<Output = Result<Vec<SubjectId>, crm_result>>,
    buf: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> Result<(), crm_result> {
    let found = h.rt.block_on(find)?;
    let bytes: Vec<u8> = found.iter().flat_map(|s| s.to_bytes()).collect();
    output(&bytes, buf, cap, out_len)
}

async fn by_email(k: &Custodian, g: &AnyLookup, e: &Email) -> Result<Vec<SubjectId>, crm_result> {
    Ok(match g {
        AnyLookup::Notification(g) => k.find_by_email(g, e).await?,
        AnyLookup::AccountManagement(g) => k.find_by_email(g, e).await?,
        AnyLookup::TeamCollaboration(g) => k.find_by_email(g, e).await?,
        AnyLookup::ChatSharing(g) => k.find_by_email(g, e).await?,
        AnyLookup::LegalCompliance(g) => k.find_by_email(g, e).await?,
        AnyLookup::IdentityVerification(_) | AnyLookup::SupportContact(_) => {
            return Err(crm_result::CRM_PURPOSE_NOT_PERMITTED);
        }
    })
}

async fn by_phone(k: &Custodian, g: &AnyLookup, p: &Phone) -> Result<Vec<SubjectId>, crm_result> {
    Ok(match g {
        AnyLookup::IdentityVerification(g) => k.find_by_phone(g, p).await?,
        AnyLookup::SupportContact(g) => k.find_by_phone(g, p).await?,
        AnyLookup::AccountManagement(g) => k.find_by_phone(g, p).await?,
        AnyLookup::TeamCollaboration(g) => k.find_by_phone(g, p).await?,
        AnyLookup::ChatSharing(g) => k.find_by_phone(g, p).await?,
        AnyLookup::LegalCompliance(g) => k.find_by_phone(g, p).await?,
        AnyLookup::Notification(_) => return Err(crm_result::CRM_PURPOSE_NOT_PERMITTED),
    })
}

/// Finds the subjects whose stored email equals `email` (UTF-8) with lookup grant `g`
/// (audited: purpose, count, never the address). Writes their 16-byte ids back to back
/// into `buf`; `out_len` gets the byte count (16 × subjects).
///
/// # Safety
/// Buffers must be valid for their lengths; `out_len` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_find_by_email(
    c: *const crm_custodian,
    g: *const crm_lookup_grant,
    email: *const u8,
    email_len: usize,
    buf: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> crm_result {
    boundary(|| {
        let h = borrow(c)?;
        let g = borrow(g)?;
        let e = Email::parse(input_str(email, email_len)?)?;
        found_out(h, by_email(&h.custodian, g, &e), buf, cap, out_len)
    })
}

/// Finds the subjects whose stored phone equals `phone` (UTF-8, E.164); as
/// `crm_find_by_email`.
///
/// # Safety
/// Buffers must be valid for their lengths; `out_len` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_find_by_phone(
    c: *const crm_custodian,
    g: *const crm_lookup_grant,
    phone: *const u8,
    phone_len: usize,
    buf: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> crm_result {
    boundary(|| {
        let h = borrow(c)?;
        let g = borrow(g)?;
        let p = Phone::parse(input_str(phone, phone_len)?)?;
        found_out(h, by_phone(&h.custodian, g, &p), buf, cap, out_len)
    })
}
