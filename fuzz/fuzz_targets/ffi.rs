//! The C ABI with arbitrary bytes: values to store (every kind, text and JSON), tokens to
//! read with, revoke and export with, session credentials, purpose and category codes,
//! result codes, component names and buffer capacities. Never panics (a panic would surface
//! as `CRM_PANIC`, which this target treats as a crash), and nothing forged is ever
//! accepted: no forged token reads, exports or revokes, no made-up credential opens a
//! session.
#![no_main]

use std::sync::OnceLock;

use crm_privacy_ffi::{
    CRM_CATEGORY_EMAIL, CRM_PURPOSE_OWNER_ACCESS, crm_authenticator, crm_authenticator_insert,
    crm_authenticator_new, crm_consent_give, crm_custodian, crm_custodian_config,
    crm_custodian_config_free, crm_custodian_config_new, crm_custodian_config_set_authenticator,
    crm_custodian_grant, crm_custodian_open, crm_export_json, crm_field_read, crm_field_store,
    crm_grant_owner, crm_grant_revoke, crm_policy_permits, crm_result, crm_result_message,
    crm_subject_register,
};
use libfuzzer_sys::fuzz_target;

const OWNER_ACCESS: u8 = CRM_PURPOSE_OWNER_ACCESS;

struct Fixture {
    custodian: usize,
    authenticator: usize,
    subject: [u8; 16],
    record: [u8; 16],
    _dir: std::path::PathBuf,
}

/// What the host's login does: a session for `subject` under `credential` (the system
/// clock is the custodian's; the session outlasts any run).
fn login(auth: *const crm_authenticator, subject: &[u8; 16], credential: &[u8]) {
    let now = chrono::Utc::now().timestamp();
    let session = [7_u8; 16];
    // SAFETY: `auth` is live; every buffer is valid for its length.
    ok(unsafe {
        crm_authenticator_insert(
            auth,
            credential.as_ptr(),
            credential.len(),
            subject.as_ptr(),
            session.as_ptr(),
            now - 1,
            now + 10 * 365 * 86_400,
        )
    });
}

fn ok(r: crm_result) {
    assert_eq!(r, crm_result::CRM_OK, "fixture call failed");
}

fn not_panic(r: crm_result) -> crm_result {
    assert_ne!(
        r,
        crm_result::CRM_PANIC,
        "a call panicked behind the boundary"
    );
    r
}

/// A fresh owner-access grant token for the session of `credential` (a long run outlives
/// any one grant).
fn owner_token(c: *const crm_custodian, credential: &[u8]) -> Vec<u8> {
    let mut token = vec![0_u8; 1024];
    let mut n = 0_usize;
    // SAFETY: `c` is live; every buffer is valid for its length; `n` is writable.
    ok(unsafe {
        crm_grant_owner(
            c,
            credential.as_ptr(),
            credential.len(),
            token.as_mut_ptr(),
            token.len(),
            &raw mut n,
        )
    });
    token.truncate(n);
    token
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        // A RAM-backed directory where there is one: every store is a durable transaction.
        let base = std::path::Path::new("/dev/shm");
        let base = if base.is_dir() {
            base.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        let dir = base.join(format!("crm-fuzz-ffi-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("fuzz.db");
        let path = path.to_str().expect("utf-8 path").as_bytes().to_vec();
        let (kek, index, token) = (
            crm_privacy::crypto::test_secret(1),
            crm_privacy::crypto::test_secret(2),
            crm_privacy::crypto::test_secret(3),
        );
        let mut auth: *mut crm_authenticator = std::ptr::null_mut();
        let mut cfg: *mut crm_custodian_config = std::ptr::null_mut();
        // SAFETY: the out-params are writable.
        ok(unsafe { crm_authenticator_new(&raw mut auth) });
        // SAFETY: as above.
        ok(unsafe { crm_custodian_config_new(&raw mut cfg) });
        ok(crm_custodian_config_set_authenticator(cfg, auth));
        let mut c: *mut crm_custodian = std::ptr::null_mut();
        // SAFETY: every pointer is valid for its length; `c` is writable.
        ok(unsafe {
            crm_custodian_open(
                path.as_ptr(),
                path.len(),
                kek.as_ptr(),
                32,
                index.as_ptr(),
                32,
                token.as_ptr(),
                32,
                cfg,
                &raw mut c,
            )
        });
        crm_custodian_config_free(cfg);
        let mut subject = [0_u8; 16];
        // SAFETY: `c` is live; the buffer holds 16 bytes.
        ok(unsafe { crm_subject_register(c, subject.as_mut_ptr(), 16) });
        login(auth, &subject, b"fixture-session");
        let email = b"canary.fuzz@example.com";
        let mut record = [0_u8; 16];
        // SAFETY: as above.
        ok(unsafe {
            crm_field_store(
                c,
                subject.as_ptr(),
                CRM_CATEGORY_EMAIL,
                email.as_ptr(),
                email.len(),
                record.as_mut_ptr(),
                16,
            )
        });
        Fixture {
            custodian: c as usize,
            authenticator: auth as usize,
            subject,
            record,
            _dir: dir,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let c = f.custodian as *const crm_custodian;
    let auth = f.authenticator as *const crm_authenticator;
    let [mode, a, b, rest @ ..] = data else {
        return;
    };
    let cap = usize::from(*b) * 8;
    let mut buf = vec![0_u8; cap];
    let mut n = 0_usize;
    match mode % 6 {
        0 => {
            // Store an arbitrary value of an arbitrary category; what is stored reads back
            // with the owner's grant. Values go to a fresh subject so the fixture subject's
            // export (mode 3) stays the same size however long the run.
            let mut record = [0_u8; 16];
            let mut subject = [0_u8; 16];
            let store = |subject: &[u8; 16], record: &mut [u8; 16]| {
                // SAFETY: pointers valid for their lengths.
                not_panic(unsafe {
                    crm_field_store(
                        c,
                        subject.as_ptr(),
                        *a,
                        rest.as_ptr(),
                        rest.len(),
                        record.as_mut_ptr(),
                        16,
                    )
                })
            };
            let r = store(&subject, &mut record);
            assert_ne!(r, crm_result::CRM_OK, "stored for an unregistered subject");
            // SAFETY: `c` is live; the buffer holds 16 bytes.
            ok(unsafe { crm_subject_register(c, subject.as_mut_ptr(), 16) });
            let r = store(&subject, &mut record);
            if r == crm_result::CRM_OK {
                let mut out = vec![0_u8; 64 * 1024];
                login(auth, &subject, b"fresh-session");
                let token = owner_token(c, b"fresh-session");
                // SAFETY: `c` is live; every buffer is valid for its length.
                let r = not_panic(unsafe {
                    crm_field_read(
                        c,
                        token.as_ptr(),
                        token.len(),
                        OWNER_ACCESS,
                        record.as_ptr(),
                        out.as_mut_ptr(),
                        out.len(),
                        &raw mut n,
                    )
                });
                if crm_policy_permits(*a, OWNER_ACCESS) {
                    assert_eq!(r, crm_result::CRM_OK, "a stored value did not read back");
                } else {
                    assert_eq!(r, crm_result::CRM_PURPOSE_NOT_PERMITTED);
                }
            }
        }
        1 => {
            // A forged token never reads the fixture record.
            // SAFETY: as above.
            let r = not_panic(unsafe {
                crm_field_read(
                    c,
                    rest.as_ptr(),
                    rest.len(),
                    *a,
                    f.record.as_ptr(),
                    buf.as_mut_ptr(),
                    cap,
                    &raw mut n,
                )
            });
            assert_ne!(r, crm_result::CRM_OK, "a forged token read a record");
        }
        2 => {
            // A forged token revokes nothing; a made-up credential opens no session.
            // SAFETY: as above.
            let r = not_panic(unsafe { crm_grant_revoke(c, rest.as_ptr(), rest.len(), *a) });
            assert_ne!(r, crm_result::CRM_OK, "a forged token revoked a grant");
            // SAFETY: as above.
            let r = not_panic(unsafe {
                crm_consent_give(c, rest.as_ptr(), rest.len(), u32::from(*b))
            });
            let known = rest == b"fixture-session" || rest == b"fresh-session";
            assert!(known || r != crm_result::CRM_OK, "a made-up credential gave consent");
        }
        3 => {
            // SAFETY: as above.
            let r = not_panic(unsafe {
                crm_export_json(
                    c,
                    rest.as_ptr(),
                    rest.len(),
                    buf.as_mut_ptr(),
                    cap,
                    &raw mut n,
                )
            });
            assert_ne!(r, crm_result::CRM_OK, "a forged token exported");
            // The owner's export fits or reports the size it needs. A fresh owner grant each
            // time: a long run outlives any grant's lifetime.
            let token = owner_token(c, b"fixture-session");
            // SAFETY: as above.
            let r = not_panic(unsafe {
                crm_export_json(
                    c,
                    token.as_ptr(),
                    token.len(),
                    buf.as_mut_ptr(),
                    cap,
                    &raw mut n,
                )
            });
            if r == crm_result::CRM_OK {
                let _: serde_json::Value =
                    serde_json::from_slice(&buf[..n]).expect("export is valid JSON");
            } else {
                assert_eq!(r, crm_result::CRM_BUFFER_TOO_SMALL);
                assert!(n > cap, "needed size reported");
            }
        }
        4 => {
            let code = u32::from_le_bytes([*a, *b, rest.first().copied().unwrap_or(0), 0]);
            // SAFETY: as above.
            let _ = unsafe { crm_result_message(code, buf.as_mut_ptr(), cap, &raw mut n) };
            let _ = crm_policy_permits(*a, *b);
        }
        _ => {
            // SAFETY: as above.
            let _ = not_panic(unsafe {
                crm_custodian_grant(
                    c,
                    f.subject.as_ptr(),
                    *a,
                    rest.as_ptr(),
                    rest.len(),
                    buf.as_mut_ptr(),
                    cap,
                    &raw mut n,
                )
            });
        }
    }
});
