//! The C ABI with arbitrary bytes: values to store (every kind, text and JSON), tokens to
//! check, read with and export with, purpose and category codes, result codes, component
//! names and buffer capacities. Never panics (a panic would surface as `CRM_PANIC`, which
//! this target treats as a crash), and nothing forged is ever accepted.
#![no_main]

use std::sync::OnceLock;

use crm_privacy_ffi::{
    crm_custodian, crm_custodian_grant, crm_custodian_open, crm_export_json, crm_field_read,
    crm_field_store, crm_grant_check, crm_grant_issue_owner, crm_issuer, crm_issuer_new,
    crm_policy_permits, crm_result, crm_result_message, crm_subject_register,
};
use libfuzzer_sys::fuzz_target;

const OWNER_ACCESS: u8 = 9;

struct Fixture {
    custodian: usize,
    issuer: usize,
    subject: [u8; 16],
    record: [u8; 16],
    _dir: std::path::PathBuf,
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

/// A fresh owner-access grant token for `subject` (a long run outlives any one grant).
fn owner_token(c: *const crm_custodian, subject: &[u8; 16], session: [u8; 16]) -> Vec<u8> {
    let mut token = vec![0_u8; 1024];
    let mut n = 0_usize;
    // SAFETY: `c` is live; every buffer is valid for its length; `n` is writable.
    ok(unsafe {
        crm_grant_issue_owner(
            c,
            subject.as_ptr(),
            session.as_ptr(),
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
        let (kek, index, token) = ([1_u8; 32], [2_u8; 32], [3_u8; 32]);
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
                &raw mut c,
            )
        });
        let mut subject = [0_u8; 16];
        // SAFETY: `c` is live; the buffer holds 16 bytes.
        ok(unsafe { crm_subject_register(c, subject.as_mut_ptr(), 16) });
        let email = b"canary.fuzz@example.com";
        let mut record = [0_u8; 16];
        // SAFETY: as above.
        ok(unsafe {
            crm_field_store(
                c,
                subject.as_ptr(),
                2,
                email.as_ptr(),
                email.len(),
                record.as_mut_ptr(),
                16,
            )
        });
        let mut issuer: *mut crm_issuer = std::ptr::null_mut();
        // SAFETY: as above.
        ok(unsafe { crm_issuer_new(token.as_ptr(), 32, 1, 3600, &raw mut issuer) });
        Fixture {
            custodian: c as usize,
            issuer: issuer as usize,
            subject,
            record,
            _dir: dir,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let c = f.custodian as *const crm_custodian;
    let issuer = f.issuer as *const crm_issuer;
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
                let token = owner_token(c, &subject, [8; 16]);
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
            // SAFETY: as above.
            let r = not_panic(unsafe {
                crm_grant_check(
                    issuer,
                    rest.as_ptr(),
                    rest.len(),
                    *a,
                    *b,
                    f.subject.as_ptr(),
                )
            });
            assert_ne!(r, crm_result::CRM_OK, "a forged token passed the check");
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
            let token = owner_token(c, &f.subject, [9; 16]);
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
