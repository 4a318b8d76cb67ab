//! Writes the register (record of processing activities and consent scopes) as the
//! Markdown notice `docs/notice.md`. `tests/notice.rs` fails when the committed file is stale.
//!
//! Run: `cargo run --example notice`

fn main() -> std::io::Result<()> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/notice.md");
    std::fs::write(path, crm_privacy::policy::register().to_markdown())
}
