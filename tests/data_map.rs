#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]
//! The committed data map (`docs/fides.yml`, `docs/dpv.jsonld`) is what the policy table
//! generates today, every fideslang key it emits is one pinned (with its version and source)
//! in `docs/data-map.md`, and the DPV export names every kind with a purpose, legal basis and
//! retention.

use std::collections::BTreeSet;

const REGENERATE: &str = "run `cargo run --example data_map`";

fn doc(name: &str) -> String {
    std::fs::read_to_string(format!("{}/docs/{name}", env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_default()
}

fn register() -> crm_privacy::policy::Register {
    crm_privacy::policy::register().with_registered_host_kinds()
}

#[test]
fn committed_fides_yaml_is_up_to_date() {
    assert!(
        doc("fides.yml") == register().to_fides_yaml(),
        "docs/fides.yml is stale: {REGENERATE}"
    );
}

#[test]
fn committed_dpv_jsonld_is_up_to_date() {
    assert!(
        doc("dpv.jsonld") == register().to_dpv_jsonld().unwrap(),
        "docs/dpv.jsonld is stale: {REGENERATE}"
    );
}

/// The keys of the ```fideslang-keys block of docs/data-map.md.
fn pinned() -> BTreeSet<String> {
    let md = doc("data-map.md");
    let block = md
        .split("```fideslang-keys\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("docs/data-map.md has a ```fideslang-keys block");
    block
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_emitted_fideslang_key_is_pinned() {
    let pinned = pinned();
    assert!(!pinned.is_empty());
    let reg = register();
    for key in reg.fides_keys() {
        assert!(
            pinned.contains(key),
            "fideslang key {key} is not in docs/data-map.md"
        );
    }
    // The YAML emits exactly those keys in the taxonomy positions.
    let yaml = reg.to_fides_yaml();
    let mut in_yaml = BTreeSet::new();
    let mut list = false;
    for line in yaml.lines() {
        let t = line.trim();
        if let Some(v) = t.strip_prefix("data_use: ") {
            in_yaml.insert(v.trim_matches('"').to_owned());
            list = false;
        } else if t == "data_categories:" || t == "data_subjects:" {
            list = true;
        } else if list && t.starts_with("- \"") {
            in_yaml.insert(t.trim_start_matches("- ").trim_matches('"').to_owned());
        } else {
            list = false;
        }
    }
    assert!(!in_yaml.is_empty());
    for key in &in_yaml {
        assert!(
            pinned.contains(key),
            "docs/fides.yml uses {key}, not pinned in docs/data-map.md"
        );
    }
    assert!(yaml.contains("fideslang 3.2.0"));
    assert_eq!(crm_privacy::policy::FIDESLANG_VERSION, "3.2.0");
}

#[test]
fn fides_declares_every_purpose_of_the_table() {
    let yaml = register().to_fides_yaml();
    for &p in crm_privacy::PurposeId::ALL {
        assert!(
            yaml.contains(&format!("- name: \"{}\"", p.name())),
            "{}",
            p.name()
        );
    }
    // Consent purposes keep their basis.
    assert!(yaml.contains("name: \"preferences\"\n        data_use: \"functional.storage\"\n        legal_basis_for_processing: \"Consent\""));
}

#[test]
fn dpv_names_every_kind_with_purpose_basis_and_retention() {
    let reg = register();
    let v: serde_json::Value = serde_json::from_str(&reg.to_dpv_jsonld().unwrap()).unwrap();
    let ctx = &v["@context"];
    assert_eq!(ctx["dpv"], "https://w3id.org/dpv#");
    assert_eq!(ctx["pd"], "https://w3id.org/dpv/pd#");
    let graph = v["@graph"].as_array().unwrap();
    for e in &reg.entries {
        let node = graph
            .iter()
            .find(|n| n["dct:identifier"] == e.kind && n["@type"] == "dpv:Process")
            .unwrap_or_else(|| panic!("{} missing", e.kind));
        let pd = node["dpv:hasPersonalData"]["@id"].as_str().unwrap();
        assert!(pd.starts_with("pd:") || pd == "dpv:PersonalData", "{pd}");
        let purposes = node["dpv:hasPurpose"].as_array().unwrap();
        // Full purposes first, then those that read only the masked view (marked so).
        let n_full = e.purposes.len();
        assert_eq!(
            purposes.len(),
            n_full + e.masked_only_purposes.len(),
            "{}",
            e.kind
        );
        for (i, (p, info)) in purposes
            .iter()
            .zip(e.purposes.iter().chain(&e.masked_only_purposes))
            .enumerate()
        {
            assert_eq!(p["dct:identifier"], info.name);
            if let Some(iri) = info.dpv_iri {
                assert_eq!(p["@type"], iri);
            }
            assert_eq!(
                p.get("dct:description").is_some(),
                i >= n_full,
                "{}",
                e.kind
            );
        }
        for info in e.purposes.iter().chain(&e.masked_only_purposes) {
            let basis = info.legal_basis.dpv_iri();
            assert!(
                node["dpv:hasLegalBasis"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|b| b["@id"] == basis),
                "{} {basis}",
                e.kind
            );
        }
        assert_eq!(
            node["dpv:hasStorageCondition"]["dct:description"],
            e.retention
        );
        assert_eq!(
            node["dpv:hasDataProcessor"].as_array().unwrap().len(),
            e.recipients.len()
        );
    }
}
