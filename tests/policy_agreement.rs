#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]
//! The one policy table has three outputs: the `UsableFor` impls (compile time), the runtime
//! `policy::permits` table, and the register. This test proves they agree for every built-in
//! (kind, purpose) pair, both ways.

use std::collections::BTreeSet;
use std::marker::PhantomData;

use crm_privacy::policy::{permits, register};
use crm_privacy::*;

/// Detects `K: UsableFor<P>` for concrete types: the inherent method (which exists only when
/// the bound holds) wins over the trait method by method resolution order.
struct Probe<K, P>(PhantomData<(K, P)>);
trait NotUsable {
    fn usable(&self) -> bool {
        false
    }
}
impl<K, P> NotUsable for Probe<K, P> {}
impl<K: UsableFor<P>, P: Purpose> Probe<K, P> {
    fn usable(&self) -> bool {
        true
    }
}

macro_rules! row {
    ($out:ident, $k:ty, [$($p:ident),*]) => {{
        let kind = match <$k as DataKind>::KIND {
            KindRef::Builtin(c) => c,
            KindRef::Host(_) => unreachable!(),
        };
        $($out.push((kind, PurposeId::$p, Probe::<$k, $p>(PhantomData).usable()));)*
    }};
}

macro_rules! matrix {
    (kinds [$($k:ty),*] purposes $ps:tt) => {{
        let mut out = Vec::new();
        $(row!(out, $k, $ps);)*
        out
    }};
}

fn compile_time_matrix() -> Vec<(Category, PurposeId, bool)> {
    matrix!(
        kinds [PersonName, Email, Phone, ColleagueContact, CustomerRecord, IpAddress, DeviceInfo,
               ProviderAccountId<Google>, ProviderAccountId<Facebook>, ProviderAccountId<Zoom>,
               ZoomAccessToken, DeviceContact, CookiePreference]
        purposes [Notification, IdentityVerification, SupportContact, Authentication,
                  ConferenceCreation, Analytics, Troubleshooting, Preferences, OwnerAccess,
                  TeamCollaboration, AccountManagement, CustomerManagement, ChatSharing,
                  LegalCompliance]
    )
}

#[test]
fn impls_runtime_table_and_register_agree_both_ways() {
    let m = compile_time_matrix();
    // The matrix covers every category and every purpose exactly once.
    assert_eq!(m.len(), Category::ALL.len() * PurposeId::ALL.len());
    let cats: BTreeSet<_> = m.iter().map(|r| r.0).collect();
    assert_eq!(cats.len(), Category::ALL.len());

    let reg = register();
    for &(cat, p, compiles) in &m {
        assert_eq!(
            permits(cat, p),
            compiles,
            "permits vs impls for {cat:?}/{p:?}"
        );
        let entry = reg.entry(KindRef::Builtin(cat)).expect("register entry");
        let listed = entry.purposes.iter().any(|x| x.name == p.name());
        assert_eq!(listed, compiles, "register vs impls for {cat:?}/{p:?}");
    }
    // And the register lists nothing the matrix does not know.
    for e in &reg.entries {
        let cat = Category::from_name(e.kind).expect("built-in kind");
        for pi in &e.purposes {
            let p = PurposeId::from_name(pi.name).expect("built-in purpose");
            assert!(m.contains(&(cat, p, true)), "register lists {cat:?}/{p:?}");
            assert_eq!(pi.legal_basis, p.legal_basis());
        }
    }
}

#[test]
fn clause_pairs_hold() {
    // Spot checks straight from the policy text, independent of the table.
    assert!(permits(Category::Email, PurposeId::Notification)); // 3.1
    assert!(permits(Category::Phone, PurposeId::IdentityVerification)); // 3.2
    assert!(permits(Category::Phone, PurposeId::SupportContact)); // 3.2
    assert!(permits(
        Category::GoogleAccountId,
        PurposeId::Authentication
    )); // 3.3
    assert!(permits(
        Category::ZoomAccessToken,
        PurposeId::ConferenceCreation
    )); // 3.3, 3.7
    assert!(permits(Category::IpAddress, PurposeId::Analytics)); // 2, 3.4
    assert!(permits(Category::DeviceInfo, PurposeId::Troubleshooting)); // 2
    assert!(permits(Category::CookiePreference, PurposeId::Preferences)); // 3.6
    assert!(!permits(Category::Phone, PurposeId::Analytics));
    assert!(!permits(Category::Email, PurposeId::Authentication));
    assert!(!permits(Category::ZoomAccessToken, PurposeId::OwnerAccess));
    for &p in PurposeId::ALL {
        // 3.5: device contacts serve only their owner; 3.7: zoom data only conferences.
        assert_eq!(
            permits(Category::DeviceContact, p),
            p == PurposeId::OwnerAccess
        );
        assert_eq!(
            permits(Category::ZoomAccessToken, p),
            p == PurposeId::ConferenceCreation
        );
        // 2: device data exclusively for analytics and troubleshooting (and its owner).
        let device_ok = matches!(
            p,
            PurposeId::Analytics | PurposeId::Troubleshooting | PurposeId::OwnerAccess
        );
        assert_eq!(permits(Category::DeviceInfo, p), device_ok);
    }
}

#[test]
fn register_renders_json_and_markdown() {
    let reg = register();
    let json: serde_json::Value = serde_json::from_str(&reg.to_json().unwrap()).unwrap();
    assert_eq!(
        json["entries"].as_array().unwrap().len(),
        Category::ALL.len()
    );
    let md = reg.to_markdown();
    for &c in Category::ALL {
        assert!(
            md.contains(&format!("| {} |", c.name())),
            "{c:?} missing from markdown"
        );
    }
}
