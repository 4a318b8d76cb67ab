//! The committed notice is what the policy table generates today.

#[test]
fn committed_notice_is_up_to_date() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/notice.md");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    let generated = crm_privacy::policy::register().to_markdown();
    assert!(
        committed == generated,
        "docs/notice.md is stale: run `cargo run --example notice`"
    );
}
