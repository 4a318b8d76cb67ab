#![allow(clippy::expect_used, clippy::unwrap_used, reason = "test driver")]
//! The committed header equals what cbindgen generates from the sources.
//! Set `CRM_BLESS=1` to rewrite it.

#[test]
fn header_is_up_to_date() {
    let dir = env!("CARGO_MANIFEST_DIR");
    let config = cbindgen::Config::from_file(format!("{dir}/cbindgen.toml")).expect("config");
    let mut out = Vec::new();
    cbindgen::Builder::new()
        .with_crate(dir)
        .with_config(config)
        .generate()
        .expect("cbindgen")
        .write(&mut out);
    let generated = String::from_utf8(out).expect("utf-8");
    let path = format!("{dir}/include/crm_privacy.h");
    if std::env::var_os("CRM_BLESS").is_some() {
        std::fs::write(&path, &generated).expect("write header");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "ffi/include/crm_privacy.h is stale: run `CRM_BLESS=1 cargo test -p crm-privacy-ffi --test header`"
    );
}
