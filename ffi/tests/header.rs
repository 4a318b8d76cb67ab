#![allow(clippy::expect_used, clippy::unwrap_used, reason = "test driver")]
//! The committed header equals what cbindgen generates from the sources plus the constant
//! blocks generated from the root crate's tables; and every named constant of the committed
//! header equals its Rust value. Set `CRM_BLESS=1` to rewrite the header.

use std::collections::BTreeMap;

use crm_privacy::consent::{CollectionMethod, ConsentScope};
use crm_privacy::{Category, PurposeId};
use crm_privacy_ffi::{CRM_COLLECTION_API, CRM_COLLECTION_IMPORT, CRM_COLLECTION_UI_ACTION};

/// The consent-scope `#define`s, generated from the one scope table
/// (`src/policy/scopes.rs`): name, clause and code of every row, then the
/// policy-acknowledgment code. Nothing here is a copy that could drift.
fn scope_defines() -> String {
    let mut out = String::from(
        "// Consent scope codes (`CRM_SCOPE_*`), generated from the root crate's scope table\n\
         // (src/policy/scopes.rs) by ffi/tests/header.rs.\n",
    );
    for s in ConsentScope::all() {
        out.push_str(&format!(
            "// Consent scope code: `{}` (clause {}).\n#define CRM_SCOPE_{} {}\n",
            s.name(),
            s.clause(),
            s.name().to_uppercase(),
            s.code()
        ));
    }
    let pv = ConsentScope::PolicyVersion(0);
    out.push_str(&format!(
        "// Consent scope code of policy-version acknowledgments (clause {}); given only\n\
         // through `crm_policy_acknowledge`, which carries the version.\n\
         #define CRM_SCOPE_POLICY_VERSION {}\n",
        pv.clause(),
        pv.code()
    ));
    out
}

fn generate() -> String {
    let dir = env!("CARGO_MANIFEST_DIR");
    let config = cbindgen::Config::from_file(format!("{dir}/cbindgen.toml")).expect("config");
    let mut out = Vec::new();
    cbindgen::Builder::new()
        .with_crate(dir)
        .with_config(config)
        .with_after_include(format!("\n{}", scope_defines()))
        .generate()
        .expect("cbindgen")
        .write(&mut out);
    String::from_utf8(out).expect("utf-8")
}

fn committed() -> String {
    let path = format!("{}/include/crm_privacy.h", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path).unwrap_or_default()
}

#[test]
fn header_is_up_to_date() {
    let generated = generate();
    if std::env::var_os("CRM_BLESS").is_some() {
        let path = format!("{}/include/crm_privacy.h", env!("CARGO_MANIFEST_DIR"));
        std::fs::write(&path, &generated).expect("write header");
    }
    assert!(
        committed() == generated,
        "ffi/include/crm_privacy.h is stale: run `CRM_BLESS=1 cargo test -p crm-privacy-ffi --test header`"
    );
}

/// `#define NAME VALUE` lines of the committed header with a numeric value.
fn defines(header: &str) -> BTreeMap<String, u64> {
    header
        .lines()
        .filter_map(|l| {
            let mut w = l.strip_prefix("#define ")?.split_whitespace();
            let name = w.next()?;
            let value = w.next()?.parse().ok()?;
            Some((name.to_owned(), value))
        })
        .collect()
}

/// Independently of how the header was generated: every Rust code has its named constant
/// in the committed header with the same value, and the header names no code Rust lacks.
#[test]
fn header_constants_equal_the_rust_tables() {
    let header = defines(&committed());
    let mut expected = BTreeMap::new();
    for &c in Category::ALL {
        expected.insert(
            format!("CRM_CATEGORY_{}", c.name().to_uppercase()),
            u64::from(c.code()),
        );
    }
    for &p in PurposeId::ALL {
        expected.insert(
            format!("CRM_PURPOSE_{}", p.name().to_uppercase()),
            u64::from(p.code()),
        );
    }
    for s in ConsentScope::all() {
        expected.insert(
            format!("CRM_SCOPE_{}", s.name().to_uppercase()),
            u64::from(s.code()),
        );
    }
    expected.insert(
        "CRM_SCOPE_POLICY_VERSION".to_owned(),
        u64::from(ConsentScope::PolicyVersion(0).code()),
    );
    for (name, m) in [
        ("CRM_COLLECTION_UI_ACTION", CollectionMethod::UiAction),
        ("CRM_COLLECTION_API", CollectionMethod::Api),
        ("CRM_COLLECTION_IMPORT", CollectionMethod::Import),
    ] {
        let code = match m {
            CollectionMethod::UiAction => CRM_COLLECTION_UI_ACTION,
            CollectionMethod::Api => CRM_COLLECTION_API,
            CollectionMethod::Import => CRM_COLLECTION_IMPORT,
        };
        expected.insert(name.to_owned(), u64::from(code));
    }
    for (name, value) in &expected {
        assert_eq!(
            header.get(name),
            Some(value),
            "{name} in ffi/include/crm_privacy.h differs from the Rust table"
        );
    }
    for (name, value) in &header {
        let coded = [
            "CRM_CATEGORY_",
            "CRM_PURPOSE_",
            "CRM_SCOPE_",
            "CRM_COLLECTION_",
        ];
        if coded.iter().any(|p| name.starts_with(p)) {
            assert_eq!(
                expected.get(name),
                Some(value),
                "the header names {name}, which no Rust table has"
            );
        }
    }
}
