//! Extracts libphonenumber's metadata from the `phonenumber` crate into `OUT_DIR` at build time,
//! so the library builds its phone database from these bytes instead of the crate's static
//! (`phonenumber::metadata::DATABASE`).
//!
//! Why: a static database can never be dropped, and its hash tables are held through interior
//! pointers, which valgrind reports as "possibly lost" at exit (issue 17, docs/ffi.md
//! "valgrind"). A database built from these bytes lives in an `Arc` that the library can
//! release (`Phone::unload_metadata`, called by the C ABI when its last handle closes).
//!
//! The bytes are the crate's own loader format (`phonenumber::metadata::loader::Metadata`,
//! postcard-encoded, the same encoding the crate uses for its bundled database), rebuilt from
//! the crate's parsed database, code by code, in the crate's own order (main region first).
//! The round trip is checked here: the bytes must load and hold every entry of the source.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "a build script reports failure by panicking, which fails the build"
)]

use std::collections::BTreeSet;
use std::path::PathBuf;

use phonenumber::metadata::loader;
use phonenumber::metadata::{DATABASE, Descriptor, Format, Metadata};

fn descriptor(d: &Descriptor) -> loader::Descriptor {
    loader::Descriptor {
        national_number: Some(d.national_number().as_str().to_owned()),
        possible_length: d.possible_length().to_vec(),
        possible_local_length: d.possible_local_length().to_vec(),
        example: d.example().map(str::to_owned),
    }
}

fn format(f: &Format) -> loader::Format {
    loader::Format {
        pattern: Some(f.pattern().as_str().to_owned()),
        format: Some(f.format().to_owned()),
        leading_digits: f
            .leading_digits()
            .iter()
            .map(|r| r.as_str().to_owned())
            .collect(),
        national_prefix_formatting_rule: f.national_prefix().map(str::to_owned),
        national_prefix_optional_when_formatting: f.is_national_prefix_optional(),
        domestic_carrier: f.domestic_carrier().map(str::to_owned),
    }
}

fn metadata(m: &Metadata) -> loader::Metadata {
    let d = m.descriptors();
    let opt = |x: Option<&Descriptor>| x.map(descriptor);
    loader::Metadata {
        general: Some(descriptor(d.general())),
        fixed_line: opt(d.fixed_line()),
        mobile: opt(d.mobile()),
        toll_free: opt(d.toll_free()),
        premium_rate: opt(d.premium_rate()),
        shared_cost: opt(d.shared_cost()),
        personal_number: opt(d.personal_number()),
        voip: opt(d.voip()),
        pager: opt(d.pager()),
        uan: opt(d.uan()),
        emergency: opt(d.emergency()),
        voicemail: opt(d.voicemail()),
        short_code: opt(d.short_code()),
        standard_rate: opt(d.standard_rate()),
        carrier: opt(d.carrier()),
        no_international: opt(d.no_international()),
        id: Some(m.id().to_owned()),
        country_code: Some(m.country_code()),
        international_prefix: m.international_prefix().map(|r| r.as_str().to_owned()),
        preferred_international_prefix: m.preferred_international_prefix().map(str::to_owned),
        national_prefix: m.national_prefix().map(str::to_owned),
        preferred_extension_prefix: m.preferred_extension_prefix().map(str::to_owned),
        national_prefix_for_parsing: m
            .national_prefix_for_parsing()
            .map(|r| r.as_str().to_owned()),
        national_prefix_transform_rule: m.national_prefix_transform_rule().map(str::to_owned),
        formats: m.formats().iter().map(format).collect(),
        international_formats: m.international_formats().iter().map(format).collect(),
        main_country_for_code: m.is_main_country_for_code(),
        leading_digits: m.leading_digits().map(|r| r.as_str().to_owned()),
        mobile_number_portable: m.is_mobile_number_portable(),
        defaults: loader::Defaults::default(),
    }
}

/// Every entry of a database, code by code, each code's entries in the database's own order
/// (main region first): the order the extraction writes and the library reads.
fn in_code_order(db: &phonenumber::metadata::Database) -> impl Iterator<Item = &Metadata> + '_ {
    (1..=999_u16).filter_map(|code| db.by_code(&code)).flatten()
}

/// Every entry of a database in code order, as (code, region, pattern of the general
/// description) — enough to tell that nothing was lost or reordered.
fn entries(db: &phonenumber::metadata::Database) -> Vec<(u16, String, String)> {
    in_code_order(db)
        .map(|m| {
            (
                m.country_code(),
                m.id().to_owned(),
                m.descriptors()
                    .general()
                    .national_number()
                    .as_str()
                    .to_owned(),
            )
        })
        .collect()
}

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    let all: Vec<loader::Metadata> = in_code_order(&DATABASE).map(metadata).collect();
    let bytes = postcard::to_allocvec(&all).expect("encode the phone metadata");

    // The round trip: the bytes load, and hold every entry of the source in the same order.
    let decoded: Vec<loader::Metadata> =
        postcard::from_bytes(&bytes).expect("decode the phone metadata");
    let again = phonenumber::metadata::Database::from(decoded).expect("load the phone metadata");
    assert_eq!(
        entries(&DATABASE),
        entries(&again),
        "phone metadata round trip"
    );
    // Walking codes 1..=999 must reach every region the source holds (none is left out).
    let ids = |db: &phonenumber::metadata::Database| -> BTreeSet<String> {
        db.iter().map(|m| m.id().to_owned()).collect()
    };
    assert_eq!(ids(&DATABASE), ids(&again), "phone metadata regions");
    assert!(all.len() > 200, "phone metadata has {} entries", all.len());

    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    std::fs::write(out.join("phone-metadata.postcard"), bytes).expect("write the phone metadata");
}
