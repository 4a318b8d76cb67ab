//! The custodian over the C ABI: a SQLite-backed [`Custodian`] with blocking calls.

use std::sync::Arc;

use chrono::{TimeDelta, Utc};
use crm_privacy::crypto::{Kek, Keyring};
use crm_privacy::custodian::{
    CollectionMethod, ConsentScope, Custodian, CustodianError, Permission,
};
use crm_privacy::store::StoreError;
use crm_privacy::{
    Category, ColleagueContact, CookiePreference, CustomerRecord, DataError, DataReason,
    DeviceContact, DeviceInfo, Email, Facebook, Google, IpAddress, PersonName, Phone,
    ProviderAccountId, RecordId, RequestId, SessionId, SubjectId, TokenKey, UserInitiated,
    UserSession, Zoom, ZoomAccessToken,
};
use crm_privacy_sqlite::SqliteStore;
use zeroize::Zeroizing;

use crate::error::crm_result;
use crate::ffi::{
    borrow_handle, boundary, free_handle, input, input_str, into_handle, output, purpose_in,
    subject_in, write_out,
};
use crate::{with_any_purpose, with_purpose};

pub(crate) struct Handle {
    rt: tokio::runtime::Runtime,
    custodian: Custodian,
}

/// A custodian on a SQLite file (opaque).
#[allow(non_camel_case_types, reason = "C naming")]
pub struct crm_custodian {
    _private: [u8; 0],
}

impl From<CustodianError> for crm_result {
    fn from(e: CustodianError) -> Self {
        use crm_privacy::crypto::CryptoError;
        match e {
            CustodianError::Access(a) => a.into(),
            CustodianError::Issue(i) => i.into(),
            CustodianError::Token(t) => t.into(),
            CustodianError::Data(d) => d.into(),
            CustodianError::Store(StoreError::NotFound { .. })
            | CustodianError::UnknownSubject(_) => Self::CRM_NOT_FOUND,
            CustodianError::Store(StoreError::Shredded(_))
            | CustodianError::Crypto(CryptoError::Shredded) => Self::CRM_SHREDDED,
            CustodianError::Store(StoreError::Corrupt { .. })
            | CustodianError::Crypto(_)
            | CustodianError::Chain(_)
            | CustodianError::Event(_) => Self::CRM_CORRUPT,
            CustodianError::PurposeNotPermitted { .. } => Self::CRM_PURPOSE_NOT_PERMITTED,
            CustodianError::Erased(_) => Self::CRM_ERASED,
            CustodianError::NoActiveConsent { .. } => Self::CRM_NO_CONSENT,
            CustodianError::NotOwnSession => Self::CRM_PURPOSE_NEEDS_SESSION,
            CustodianError::WrongKind { .. } | CustodianError::Immutable { .. } => {
                Self::CRM_INVALID_ARGUMENT
            }
            _ => Self::CRM_STORE_ERROR,
        }
    }
}

fn id_in(ptr: *const u8) -> Result<[u8; 16], crm_result> {
    input(ptr, 16, false)?
        .try_into()
        .map_err(|_| crm_result::CRM_INVALID_ARGUMENT)
}

fn key32(ptr: *const u8, len: usize) -> Result<Zeroizing<Vec<u8>>, crm_result> {
    let k = Zeroizing::new(input(ptr, len, false)?.to_vec());
    if k.len() < 32 {
        return Err(crm_result::CRM_KEY_TOO_SHORT);
    }
    Ok(k)
}

/// Opens a custodian on the SQLite file `path` (keys in `<path>.keys`). `kek` must be exactly
/// 32 bytes; `index_key` and `token_key` at least 32. All are copied.
///
/// # Safety
/// Every pointer must be valid for its length; `out` must be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_custodian_open(
    path: *const u8,
    path_len: usize,
    kek: *const u8,
    kek_len: usize,
    index_key: *const u8,
    index_key_len: usize,
    token_key: *const u8,
    token_key_len: usize,
    out: *mut *mut crm_custodian,
) -> crm_result {
    boundary(|| {
        if out.is_null() {
            return Err(crm_result::CRM_NULL_PARAMETER);
        }
        let path = input_str(path, path_len)?;
        let kek = key32(kek, kek_len)?;
        let index = key32(index_key, index_key_len)?;
        let token = key32(token_key, token_key_len)?;
        let kek = Kek::from_bytes(1, &kek).map_err(|_| crm_result::CRM_INVALID_ARGUMENT)?;
        let keyring = Keyring::new(kek, &index).map_err(|_| crm_result::CRM_KEY_TOO_SHORT)?;
        let token = TokenKey::from_secret(1, &token).map_err(|_| crm_result::CRM_KEY_TOO_SHORT)?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .map_err(|_| crm_result::CRM_STORE_ERROR)?;
        let store = Arc::new(SqliteStore::open(path).map_err(|_| crm_result::CRM_STORE_ERROR)?);
        let custodian = rt
            .block_on(
                Custodian::builder(keyring)
                    .store(store)
                    .token_key(token)
                    .build(),
            )
            .map_err(crm_result::from)?;
        write_out(
            out,
            into_handle::<Handle, crm_custodian>(Handle { rt, custodian }),
        )
    })
}

/// Frees a custodian (closing its files). NULL or an already freed handle is a no-op. Must
/// not race with calls using the same handle.
#[unsafe(no_mangle)]
pub extern "C" fn crm_custodian_free(c: *mut crm_custodian) {
    let _ = std::panic::catch_unwind(|| free_handle::<Handle, crm_custodian>(c));
}

/// Registers a new subject; writes its 16-byte id into `out_subject`.
///
/// # Safety
/// `out_subject` must be valid for `cap` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_subject_register(
    c: *const crm_custodian,
    out_subject: *mut u8,
    cap: usize,
) -> crm_result {
    boundary(|| {
        let h = borrow_handle::<Handle, _>(c)?;
        let s = h.rt.block_on(h.custodian.register_subject(Utc::now()))?;
        let mut n = 0;
        output(&s.to_bytes(), out_subject, cap, &raw mut n)
    })
}

fn json_obj(text: &str) -> Result<serde_json::Map<String, serde_json::Value>, crm_result> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(m)) => Ok(m),
        _ => Err(crm_result::CRM_INVALID_DATA),
    }
}

fn field<'a>(
    m: &'a serde_json::Map<String, serde_json::Value>,
    k: &'static str,
    kind: &'static str,
) -> Result<&'a str, DataError> {
    m.get(k)
        .and_then(serde_json::Value::as_str)
        .ok_or(DataError::new(kind, DataReason::Field(k)))
}

async fn store_text(
    c: &Custodian,
    s: SubjectId,
    category: Category,
    text: &str,
) -> Result<RecordId, crm_result> {
    let now = Utc::now();
    let r = match category {
        Category::PersonName => c.store(s, PersonName::parse(text)?, now).await,
        Category::Email => c.store(s, Email::parse(text)?, now).await,
        Category::Phone => c.store(s, Phone::parse(text)?, now).await,
        Category::IpAddress => c.store(s, IpAddress::parse(text)?, now).await,
        Category::GoogleAccountId => {
            c.store(s, ProviderAccountId::<Google>::parse(text)?, now)
                .await
        }
        Category::FacebookAccountId => {
            c.store(s, ProviderAccountId::<Facebook>::parse(text)?, now)
                .await
        }
        Category::ZoomAccountId => {
            c.store(s, ProviderAccountId::<Zoom>::parse(text)?, now)
                .await
        }
        Category::ZoomAccessToken => c.store(s, ZoomAccessToken::parse(text)?, now).await,
        Category::CookiePreference => {
            let m = json_obj(text)?;
            let mut p = CookiePreference::new();
            if let Some(l) = m.get("language").and_then(serde_json::Value::as_str) {
                p.set_language(l)?;
            }
            c.store(s, p, now).await
        }
        Category::ColleagueContact => {
            let m = json_obj(text)?;
            let k = category.name();
            c.store(
                s,
                ColleagueContact::new(
                    PersonName::parse(field(&m, "name", k)?)?,
                    Email::parse(field(&m, "email", k)?)?,
                ),
                now,
            )
            .await
        }
        Category::DeviceContact => {
            let m = json_obj(text)?;
            let name = PersonName::parse(field(&m, "name", category.name())?)?;
            let phone = m
                .get("phone")
                .and_then(serde_json::Value::as_str)
                .map(Phone::parse)
                .transpose()?;
            let email = m
                .get("email")
                .and_then(serde_json::Value::as_str)
                .map(Email::parse)
                .transpose()?;
            c.store(s, DeviceContact::new(name, phone, email), now)
                .await
        }
        Category::DeviceInfo => {
            let m = json_obj(text)?;
            let k = category.name();
            let screen = m
                .get("screen")
                .and_then(serde_json::Value::as_array)
                .ok_or(DataError::new(k, DataReason::Field("screen")))?;
            let dim = |i: usize| {
                screen
                    .get(i)
                    .and_then(serde_json::Value::as_u64)
                    .and_then(|v| u32::try_from(v).ok())
                    .ok_or(DataError::new(k, DataReason::Field("screen")))
            };
            let d = DeviceInfo::new(
                field(&m, "model", k)?,
                field(&m, "os_version", k)?,
                field(&m, "app_version", k)?,
                dim(0)?,
                dim(1)?,
            )?;
            c.store(s, d, now).await
        }
        Category::CustomerRecord => {
            let m = json_obj(text)?;
            let mut r = CustomerRecord::new();
            for (k, v) in &m {
                r.set(
                    k,
                    v.as_str()
                        .ok_or(DataError::new(category.name(), DataReason::Field("value")))?,
                )?;
            }
            c.store(s, r, now).await
        }
    };
    r.map_err(crm_result::from)
}

/// Stores a value of `category` (codes of `crm_privacy::Category`) for `subject`. Simple
/// kinds take their text (an address, an E.164 number…); compound kinds take a JSON object
/// (`{"model","os_version","app_version","screen":[w,h]}` for device info, `{"name","email"}`
/// for colleagues, `{"name","phone"?,"email"?}` for device contacts, `{"language"}` for cookie
/// preferences, `{field: value}` for customer records). Writes the 16-byte record id.
///
/// # Safety
/// Buffers must be valid for their lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_field_store(
    c: *const crm_custodian,
    subject: *const u8,
    category: u8,
    value: *const u8,
    value_len: usize,
    out_record: *mut u8,
    cap: usize,
) -> crm_result {
    boundary(|| {
        let h = borrow_handle::<Handle, _>(c)?;
        let s = subject_in(subject)?;
        let category = Category::from_code(category).ok_or(crm_result::CRM_INVALID_ARGUMENT)?;
        let text = Zeroizing::new(input_str(value, value_len)?.to_owned());
        let r =
            h.rt.block_on(store_text(&h.custodian, s, category, &text))?;
        let mut n = 0;
        output(&r.to_bytes(), out_record, cap, &raw mut n)
    })
}

fn scope_in(code: u8) -> Result<ConsentScope, crm_result> {
    Ok(match code {
        1 => ConsentScope::GoogleLink,
        2 => ConsentScope::FacebookLink,
        3 => ConsentScope::ZoomLink,
        4 => ConsentScope::ContactsImport,
        5 => ConsentScope::Cookies,
        11 => ConsentScope::Device(Permission::GoogleAccount),
        12 => ConsentScope::Device(Permission::Calls),
        13 => ConsentScope::Device(Permission::FileStorage),
        14 => ConsentScope::Device(Permission::Camera),
        15 => ConsentScope::Device(Permission::Network),
        _ => return Err(crm_result::CRM_INVALID_ARGUMENT),
    })
}

/// Records consent of `subject` for `scope` (1 google link, 2 facebook link, 3 zoom link,
/// 4 contacts import, 5 cookies, 11–15 device permissions of clause 4).
///
/// # Safety
/// `subject` must be valid for 16 bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_consent_give(
    c: *const crm_custodian,
    subject: *const u8,
    scope: u8,
) -> crm_result {
    boundary(|| {
        let h = borrow_handle::<Handle, _>(c)?;
        let s = subject_in(subject)?;
        let scope = scope_in(scope)?;
        h.rt.block_on(
            h.custodian
                .give_consent(s, scope, CollectionMethod::Api, None, Utc::now()),
        )?;
        Ok(())
    })
}

/// Withdraws consent (one call); grants issued under it fail from now on.
///
/// # Safety
/// `subject` must be valid for 16 bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_consent_withdraw(
    c: *const crm_custodian,
    subject: *const u8,
    scope: u8,
) -> crm_result {
    boundary(|| {
        let h = borrow_handle::<Handle, _>(c)?;
        let s = subject_in(subject)?;
        let scope = scope_in(scope)?;
        h.rt.block_on(h.custodian.withdraw_consent(s, scope, Utc::now()))?;
        Ok(())
    })
}

/// Issues a grant for service purpose `purpose` to `component` and writes its signed token.
/// Owner access and conference creation need [`crm_grant_issue_owner`] /
/// [`crm_grant_issue_conference`] (`CRM_PURPOSE_NEEDS_SESSION`).
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
        let h = borrow_handle::<Handle, _>(c)?;
        let s = subject_in(subject)?;
        let component = input_str(component, component_len)?;
        let p = purpose_in(purpose)?;
        let now = Utc::now();
        let token = with_purpose!(p, |P| {
            let g = h.rt.block_on(h.custodian.grant::<P>(s, component, now))?;
            h.custodian.seal_grant(&g)
        }, otherwise return Err(crm_result::CRM_PURPOSE_NEEDS_SESSION));
        output(token.as_bytes(), buf, cap, out_len)
    })
}

fn session(subject: SubjectId, session_id: [u8; 16]) -> UserSession {
    let now = Utc::now();
    UserSession::new(
        subject,
        SessionId::from_bytes(session_id),
        now,
        now + TimeDelta::hours(1),
    )
}

/// Issues an owner-access grant to the subject's own session `session_id` (16 bytes). The
/// caller asserts it has authenticated that session (the trust boundary of `UserSession`).
///
/// # Safety
/// Buffers must be valid for their lengths; `out_len` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_grant_issue_owner(
    c: *const crm_custodian,
    subject: *const u8,
    session_id: *const u8,
    buf: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> crm_result {
    boundary(|| {
        let h = borrow_handle::<Handle, _>(c)?;
        let s = session(subject_in(subject)?, id_in(session_id)?);
        let g = h.rt.block_on(h.custodian.grant_owner(&s, Utc::now()))?;
        output(h.custodian.seal_grant(&g).as_bytes(), buf, cap, out_len)
    })
}

/// Issues a conference-creation grant for request `request_id` (16 bytes) the subject just
/// made in session `session_id` (clause 3.7); needs the Zoom link consent.
///
/// # Safety
/// Buffers must be valid for their lengths; `out_len` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_grant_issue_conference(
    c: *const crm_custodian,
    subject: *const u8,
    session_id: *const u8,
    request_id: *const u8,
    buf: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> crm_result {
    boundary(|| {
        let h = borrow_handle::<Handle, _>(c)?;
        let s = session(subject_in(subject)?, id_in(session_id)?);
        let now = Utc::now();
        let proof = UserInitiated::new(&s, RequestId::from_bytes(id_in(request_id)?), now);
        let g = h.rt.block_on(h.custodian.grant_conference(&proof, now))?;
        output(h.custodian.seal_grant(&g).as_bytes(), buf, cap, out_len)
    })
}

/// Reads record `record` (16 bytes) with the grant in `token` for `purpose` into `buf` (UTF-8
/// text; JSON for compound kinds). Refused unless the policy allows the record's kind for the
/// purpose and the grant is valid for its subject now. Our copies are zeroized.
///
/// # Safety
/// Buffers must be valid for their lengths; `out_len` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_field_read(
    c: *const crm_custodian,
    token: *const u8,
    token_len: usize,
    purpose: u8,
    record: *const u8,
    buf: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> crm_result {
    boundary(|| {
        let h = borrow_handle::<Handle, _>(c)?;
        let token = input_str(token, token_len)?;
        let p = purpose_in(purpose)?;
        let record = RecordId::from_bytes(id_in(record)?);
        let now = Utc::now();
        let text = with_any_purpose!(p, |P| {
            h.rt.block_on(async {
                let g = h.custodian.open_grant::<P>(token, now).await?;
                h.custodian.read_as_text(&g, record, now).await
            })?
        });
        output(text.as_bytes(), buf, cap, out_len)
    })
}

/// Erases a subject (clause 6.2): key destroyed, records deleted. Writes how many records
/// were deleted to `out_deleted` (may be NULL).
///
/// # Safety
/// `subject` valid for 16 bytes; `out_deleted` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_erase(
    c: *const crm_custodian,
    subject: *const u8,
    out_deleted: *mut u64,
) -> crm_result {
    boundary(|| {
        let h = borrow_handle::<Handle, _>(c)?;
        let s = subject_in(subject)?;
        let report = h.rt.block_on(h.custodian.erase(s, Utc::now()))?;
        if !out_deleted.is_null() {
            write_out(out_deleted, report.records_deleted)?;
        }
        Ok(())
    })
}

/// Runs the retention sweep (clause 9.1); writes records checked and deleted.
///
/// # Safety
/// Out-params must be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_retention_sweep(
    c: *const crm_custodian,
    out_checked: *mut u64,
    out_deleted: *mut u64,
) -> crm_result {
    boundary(|| {
        let h = borrow_handle::<Handle, _>(c)?;
        if out_checked.is_null() || out_deleted.is_null() {
            return Err(crm_result::CRM_NULL_PARAMETER);
        }
        let lines = h.rt.block_on(h.custodian.sweep(Utc::now()))?;
        write_out(out_checked, lines.len() as u64)?;
        write_out(
            out_deleted,
            lines.iter().filter(|l| l.deleted).count() as u64,
        )
    })
}

/// Exports everything held about the subject of an owner-access `token` as JSON into `buf`.
///
/// # Safety
/// Buffers must be valid for their lengths; `out_len` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_export_json(
    c: *const crm_custodian,
    token: *const u8,
    token_len: usize,
    buf: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> crm_result {
    boundary(|| {
        let h = borrow_handle::<Handle, _>(c)?;
        let token = input_str(token, token_len)?;
        let now = Utc::now();
        let json = h.rt.block_on(async {
            let g = h
                .custodian
                .open_grant::<crm_privacy::OwnerAccess>(token, now)
                .await?;
            h.custodian.export(&g, now).await
        })?;
        let text = Zeroizing::new(json.to_json().map_err(|_| crm_result::CRM_STORE_ERROR)?);
        output(text.as_bytes(), buf, cap, out_len)
    })
}

/// Verifies the ledger and the audit chain; writes their lengths.
///
/// # Safety
/// Out-params must be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn crm_audit_verify(
    c: *const crm_custodian,
    out_ledger: *mut u64,
    out_audit: *mut u64,
) -> crm_result {
    boundary(|| {
        let h = borrow_handle::<Handle, _>(c)?;
        if out_ledger.is_null() || out_audit.is_null() {
            return Err(crm_result::CRM_NULL_PARAMETER);
        }
        let r = h.rt.block_on(h.custodian.verify_chains())?;
        write_out(out_ledger, r.ledger_entries)?;
        write_out(out_audit, r.audit_entries)
    })
}
