//! The register as a standard data map (issue 19, part 3): fideslang YAML and W3C DPV
//! JSON-LD, both generated from the one policy table (and the host rows registered in this
//! build). `docs/data-map.md` says where every key comes from; `tests/data_map.rs` checks
//! every emitted fideslang key against the pinned taxonomy list there and that the committed
//! `docs/fides.yml` and `docs/dpv.jsonld` are what this generates.

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::register::{PurposeInfo, Register, RegisterEntry};
use crate::data::Category;
use crate::purpose::{LegalBasis, PurposeId};

/// fideslang version the keys below were checked against (`docs/data-map.md`).
pub const FIDESLANG_VERSION: &str = "3.2.0";

/// The fideslang data category of a built-in kind. Exhaustive: a new kind does not compile
/// until it is mapped here.
const fn fides_category(c: Category) -> &'static str {
    match c {
        Category::PersonName => "user.name",
        Category::Email => "user.contact.email",
        Category::Phone => "user.contact.phone_number",
        Category::ColleagueContact | Category::CustomerRecord | Category::DeviceContact => {
            "user.contact"
        }
        Category::IpAddress => "user.device.ip_address",
        Category::DeviceInfo => "user.device",
        Category::GoogleAccountId | Category::FacebookAccountId | Category::ZoomAccountId => {
            "user.unique_id"
        }
        Category::ZoomAccessToken => "user.authorization.credentials",
        Category::CookiePreference => "user.device.cookie",
    }
}

/// The DPV personal-data category (`pd:` term) of a built-in kind.
const fn dpv_category(c: Category) -> &'static str {
    match c {
        Category::PersonName => "pd:Name",
        Category::Email => "pd:EmailAddress",
        Category::Phone => "pd:TelephoneNumber",
        Category::ColleagueContact | Category::CustomerRecord | Category::DeviceContact => {
            "pd:Contact"
        }
        Category::IpAddress => "pd:IPAddress",
        Category::DeviceInfo => "pd:DeviceSoftware",
        Category::GoogleAccountId | Category::FacebookAccountId | Category::ZoomAccountId => {
            "pd:Identifier"
        }
        Category::ZoomAccessToken => "pd:Authenticating",
        Category::CookiePreference => "pd:Preference",
    }
}

/// The fideslang data subject of a built-in kind.
const fn fides_subject(c: Category) -> &'static str {
    match c {
        // An invited colleague is not a user of the service yet.
        Category::ColleagueContact => "prospect",
        _ => "customer",
    }
}

/// The fideslang data use of a built-in purpose. Exhaustive, as above.
const fn fides_use(p: PurposeId) -> &'static str {
    match p {
        PurposeId::Notification => "essential.service.notifications.email",
        PurposeId::IdentityVerification => "essential.service.notifications.sms",
        PurposeId::SupportContact => "essential.service.operations.support",
        PurposeId::Authentication => "essential.service.authentication",
        PurposeId::ConferenceCreation | PurposeId::ChatSharing => "functional.service",
        PurposeId::Analytics => "analytics.reporting.system",
        PurposeId::Troubleshooting => "essential.service.operations",
        PurposeId::Preferences => "functional.storage",
        PurposeId::OwnerAccess
        | PurposeId::TeamCollaboration
        | PurposeId::AccountManagement
        | PurposeId::CustomerManagement => "essential.service",
        PurposeId::LegalCompliance => "third_party_sharing.legal_obligation",
    }
}

/// The fideslang data use of a host purpose, from its DPV purpose where one fits, else from
/// its legal basis.
fn host_fides_use(p: &PurposeInfo) -> &'static str {
    let term = p.dpv_iri.and_then(crate::purpose::dpv_term);
    match term {
        Some("ServiceUsageAnalytics") => "analytics.reporting",
        Some("Marketing" | "DirectMarketing") => "marketing",
        Some("SellDataToThirdParties" | "SellInsightsFromData") => "third_party_sharing",
        Some("Advertising" | "PersonalisedAdvertising" | "TargetedAdvertising") => {
            "marketing.advertising"
        }
        Some("Personalisation" | "ServicePersonalisation" | "UserInterfacePersonalisation") => {
            "personalize"
        }
        _ => match p.legal_basis {
            LegalBasis::LegalObligation => "essential.legal_obligation",
            LegalBasis::Contract => "essential.service",
            _ => "functional.service",
        },
    }
}

fn category_of(e: &RegisterEntry) -> Option<Category> {
    if e.host_declared {
        return None;
    }
    Category::ALL.iter().copied().find(|c| c.name() == e.kind)
}

fn use_of(p: &PurposeInfo) -> &'static str {
    match PurposeId::from_name(p.name) {
        Some(id) if !p.host_declared => fides_use(id),
        _ => host_fides_use(p),
    }
}

/// One fideslang privacy declaration: a purpose and what it processes.
struct Declaration {
    name: &'static str,
    data_use: &'static str,
    legal_basis: LegalBasis,
    categories: Vec<&'static str>,
    subjects: Vec<&'static str>,
}

/// The DPV JSON-LD `@context`.
const DPV_CONTEXT: &[(&str, &str)] = &[
    ("dpv", "https://w3id.org/dpv#"),
    ("pd", "https://w3id.org/dpv/pd#"),
    ("eu-gdpr", "https://w3id.org/dpv/legal/eu/gdpr#"),
    ("dct", "http://purl.org/dc/terms/"),
];

/// The GDPR Art. 6(1) term in the `eu-gdpr` extension.
const fn gdpr_basis(b: LegalBasis) -> &'static str {
    match b {
        LegalBasis::Consent => "eu-gdpr:A6-1-a",
        LegalBasis::Contract => "eu-gdpr:A6-1-b",
        LegalBasis::LegalObligation => "eu-gdpr:A6-1-c",
        LegalBasis::VitalInterest => "eu-gdpr:A6-1-d",
        LegalBasis::PublicInterest => "eu-gdpr:A6-1-e",
        LegalBasis::LegitimateInterest => "eu-gdpr:A6-1-f",
    }
}

/// YAML double-quoted scalar (the only escapes our text can need).
fn q(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

fn slug(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

impl Register {
    /// Adds every host kind registered in this build (by `host_policy!`) that is not listed
    /// yet, so the data map covers the built-in table and the host rows.
    #[must_use]
    pub fn with_registered_host_kinds(mut self) -> Self {
        for row in super::host::kinds() {
            if self.entries.iter().any(|e| e.kind == row.name()) {
                continue;
            }
            self.entries.push(RegisterEntry {
                kind: row.name(),
                clause: "",
                purposes: row.purposes().to_vec(),
                recipients: Vec::new(),
                retention: row.retention().description(),
                retention_rule: Some(*row.retention()),
                masked_view: None,
                masked_only_purposes: Vec::new(),
                host_declared: true,
            });
        }
        self
    }

    /// One declaration per purpose, in the order purposes first appear in the register. A
    /// purpose that reads only the masked view of a kind declares that kind too (fideslang
    /// has no masked qualifier; `docs/data-map.md`).
    fn declarations(&self) -> Vec<Declaration> {
        let mut out: Vec<Declaration> = Vec::new();
        for e in &self.entries {
            let cat = category_of(e);
            let category = cat.map_or("user", fides_category);
            let subject = cat.map_or("customer", fides_subject);
            for p in e.purposes.iter().chain(&e.masked_only_purposes) {
                let idx = match out.iter().position(|d| d.name == p.name) {
                    Some(i) => i,
                    None => {
                        out.push(Declaration {
                            name: p.name,
                            data_use: use_of(p),
                            legal_basis: p.legal_basis,
                            categories: Vec::new(),
                            subjects: Vec::new(),
                        });
                        out.len().saturating_sub(1)
                    }
                };
                if let Some(d) = out.get_mut(idx) {
                    if !d.categories.contains(&category) {
                        d.categories.push(category);
                    }
                    if !d.subjects.contains(&subject) {
                        d.subjects.push(subject);
                    }
                }
            }
        }
        out
    }

    /// Every fideslang taxonomy key (data category, data use, data subject) the fideslang
    /// export uses, sorted and deduplicated.
    #[must_use]
    pub fn fides_keys(&self) -> Vec<&'static str> {
        let mut keys: Vec<&'static str> = Vec::new();
        for d in self.declarations() {
            keys.push(d.data_use);
            keys.extend(d.categories);
            keys.extend(d.subjects);
        }
        keys.sort_unstable();
        keys.dedup();
        keys
    }

    /// The register as a fideslang `system` manifest (YAML): one privacy declaration per
    /// purpose with its data use, the data categories read for it and their data subjects.
    /// Deterministic: the same table gives the same bytes.
    #[must_use]
    pub fn to_fides_yaml(&self) -> String {
        let mut y = String::new();
        let _ = writeln!(
            y,
            "# Generated from the policy table of crm-privacy (fideslang {FIDESLANG_VERSION} keys; see docs/data-map.md).\n# Do not edit by hand: run `cargo run --example data_map`."
        );
        y.push_str("system:\n");
        let _ = writeln!(y, "  - fides_key: {}", q(&slug(self.controller)));
        let _ = writeln!(y, "    name: {}", q(self.controller));
        let _ = writeln!(
            y,
            "    description: {}",
            q("CRM service; personal data reached only through the crm-privacy custodian")
        );
        y.push_str("    system_type: \"Service\"\n    privacy_declarations:\n");
        for d in self.declarations() {
            let _ = writeln!(y, "      - name: {}", q(d.name));
            let _ = writeln!(y, "        data_use: {}", q(d.data_use));
            let _ = writeln!(
                y,
                "        legal_basis_for_processing: {}",
                q(fides_basis(d.legal_basis))
            );
            y.push_str("        data_categories:\n");
            for c in &d.categories {
                let _ = writeln!(y, "          - {}", q(c));
            }
            y.push_str("        data_subjects:\n");
            for s in &d.subjects {
                let _ = writeln!(y, "          - {}", q(s));
            }
        }
        y
    }

    /// The register as W3C DPV JSON-LD: one `dpv:Process` per data kind with its purposes
    /// (their `DPV_IRI`s), personal-data category (`pd:`), legal bases (`dpv:` and
    /// `eu-gdpr:`), processors and retention, plus the controller.
    ///
    /// # Errors
    /// Only if serialization fails, which it cannot for this value; kept typed for callers.
    pub fn to_dpv_jsonld(&self) -> Result<String, serde_json::Error> {
        let context: serde_json::Map<String, Value> = DPV_CONTEXT
            .iter()
            .map(|(k, v)| ((*k).to_owned(), json!(v)))
            .collect();
        let controller_id = format!("urn:crm-privacy:controller:{}", slug(self.controller));
        let mut graph = vec![json!({
            "@id": controller_id,
            "@type": "dpv:DataController",
            "dct:title": self.controller,
        })];
        for e in &self.entries {
            let cat = category_of(e);
            let purposes: Vec<Value> = e
                .purposes
                .iter()
                .map(|p| {
                    json!({
                        "@type": p.dpv_iri.unwrap_or("https://w3id.org/dpv#Purpose"),
                        "dct:identifier": p.name,
                    })
                })
                .chain(e.masked_only_purposes.iter().map(|p| {
                    json!({
                        "@type": p.dpv_iri.unwrap_or("https://w3id.org/dpv#Purpose"),
                        "dct:identifier": p.name,
                        "dct:description": "masked view only (docs/masked-views.md)",
                    })
                }))
                .collect();
            let mut bases: Vec<&str> = Vec::new();
            for p in e.purposes.iter().chain(&e.masked_only_purposes) {
                for b in [p.legal_basis.dpv_iri(), gdpr_basis(p.legal_basis)] {
                    if !bases.contains(&b) {
                        bases.push(b);
                    }
                }
            }
            let processors: Vec<Value> = e
                .recipients
                .iter()
                .map(|r| {
                    json!({
                        "@type": "dpv:DataProcessor",
                        "dct:identifier": processor_name(r.processor),
                        "dct:description": r.description,
                        "dpv:hasPurpose": r.purpose,
                    })
                })
                .collect();
            graph.push(json!({
                "@id": format!("urn:crm-privacy:process:{}", e.kind),
                "@type": "dpv:Process",
                "dct:identifier": e.kind,
                "dct:source": if e.host_declared { "host".to_owned() } else { format!("clause {}", e.clause) },
                "dpv:hasPersonalData": { "@id": cat.map_or("dpv:PersonalData", dpv_category) },
                "dpv:hasPurpose": purposes,
                "dpv:hasLegalBasis": bases.iter().map(|b| json!({ "@id": b })).collect::<Vec<_>>(),
                "dpv:hasDataController": { "@id": controller_id },
                "dpv:hasDataProcessor": processors,
                "dpv:hasStorageCondition": {
                    "@type": "dpv:StorageDuration",
                    "dct:description": e.retention,
                },
            }));
        }
        graph.push(json!({
            "@id": "urn:crm-privacy:recipient:public-authorities",
            "@type": "dpv:Recipient",
            "dct:description": self.authority_disclosure,
            "dpv:hasLegalBasis": [{ "@id": "https://w3id.org/dpv#LegalObligation" }, { "@id": "eu-gdpr:A6-1-c" }],
        }));
        let doc = json!({ "@context": context, "@graph": graph });
        serde_json::to_string_pretty(&doc).map(|mut s| {
            s.push('\n');
            s
        })
    }
}

/// The `legal_basis_for_processing` values fideslang accepts (its `LegalBasisForProcessingEnum`).
const fn fides_basis(b: LegalBasis) -> &'static str {
    match b {
        LegalBasis::Consent => "Consent",
        LegalBasis::Contract => "Contract",
        LegalBasis::LegalObligation => "Legal obligations",
        LegalBasis::VitalInterest => "Vital interests",
        LegalBasis::PublicInterest => "Public interest",
        LegalBasis::LegitimateInterest => "Legitimate interests",
    }
}

fn processor_name(p: super::Processor) -> &'static str {
    match p {
        super::Processor::CloudHosting => "cloud_hosting",
        super::Processor::EmailDelivery => "email_delivery",
        super::Processor::SmsGateway => "sms_gateway",
        super::Processor::Zoom => "zoom",
    }
}

/// The register line of the host purpose named `name`, from the first `host_policy!` row
/// that declares it.
pub(crate) fn host_purpose(name: &str) -> Option<PurposeInfo> {
    super::host::kinds()
        .flat_map(|k| k.purposes().iter())
        .find(|p| p.host_declared && p.name == name)
        .copied()
}
