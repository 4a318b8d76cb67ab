//! Writes the register as a standard data map: fideslang YAML (`docs/fides.yml`) and W3C
//! DPV JSON-LD (`docs/dpv.jsonld`). `tests/data_map.rs` fails when either committed file is
//! stale.
//!
//! Run: `cargo run --example data_map`

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let reg = crm_privacy::policy::register().with_registered_host_kinds();
    let docs = concat!(env!("CARGO_MANIFEST_DIR"), "/docs");
    std::fs::write(format!("{docs}/fides.yml"), reg.to_fides_yaml())?;
    std::fs::write(format!("{docs}/dpv.jsonld"), reg.to_dpv_jsonld()?)?;
    Ok(())
}
