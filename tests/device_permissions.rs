//! Issue 19, part 3 (clause 4): device permissions gate what is collected through them —
//! the contacts import reads a contacts file through the file-storage permission (4.3), and
//! a host kind captured with the camera (4.4) needs the camera permission — on the typed
//! and the text paths, checked when a value is first collected.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{deployment, keyring, t0};
use crm_privacy::consent::{CollectionMethod, ConsentScope, Permission};
use crm_privacy::custodian::CustodianError;
use crm_privacy::{
    Category, DataError, DeviceContact, HostKind, KindRef, PersonName, host_device_permission,
    policy,
};
use zeroize::Zeroizing;

/// A photo taken with the device camera at a meeting (a host kind).
struct MeetingPhoto(Vec<u8>);

impl HostKind for MeetingPhoto {
    const NAME: &'static str = "meeting_photo";
    fn encode(&self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(self.0.clone())
    }
    fn decode(bytes: &[u8]) -> Result<Self, DataError> {
        Ok(Self(bytes.to_vec()))
    }
    fn to_text(&self) -> Zeroizing<String> {
        Zeroizing::new(self.0.iter().map(|b| format!("{b:02x}")).collect())
    }
    fn from_text(text: &str) -> Result<Self, DataError> {
        Ok(Self(text.as_bytes().to_vec()))
    }
}

host_device_permission!(MeetingPhoto, Camera);

fn contact() -> DeviceContact {
    DeviceContact::new(PersonName::parse("Bob Contact").unwrap(), None, None)
}

fn other_contact() -> DeviceContact {
    DeviceContact::new(
        PersonName::parse("Entirely Different Person").unwrap(),
        None,
        None,
    )
}

#[tokio::test]
async fn contacts_import_needs_the_file_storage_permission() {
    let f = deployment(t0(), keyring(), |b| b).await;
    let alice = f.c.register_subject().await.unwrap();
    f.consent(alice, ConsentScope::ContactsImport).await;
    let refused = f.c.store(alice, contact()).await.unwrap_err();
    assert_eq!(
        refused,
        CustodianError::CollectionWithoutConsent {
            kind: "device_contact",
            scope: "device_file_storage"
        }
    );
    assert!(
        !refused.to_string().contains("Bob"),
        "no value in the error"
    );
    // Another permission does not stand in for it.
    f.consent(alice, ConsentScope::Device(Permission::Camera))
        .await;
    assert!(f.c.store(alice, contact()).await.is_err());
    // The text path (C ABI, Python) is gated the same way.
    assert!(matches!(
        f.c.store_text(alice, Category::DeviceContact, r#"{"name":"Bob Contact"}"#)
            .await
            .unwrap_err(),
        CustodianError::CollectionWithoutConsent { .. } | CustodianError::Data(_)
    ));
    f.consent(alice, ConsentScope::Device(Permission::FileStorage))
        .await;
    let rec = f.c.store(alice, contact()).await.unwrap();
    // Withdrawing the permission stops further imports and keeps what was imported.
    let s = f.session(alice).await;
    f.c.withdraw_consent(alice, ConsentScope::Device(Permission::FileStorage))
        .await
        .unwrap();
    assert!(f.c.store(alice, contact()).await.is_err());
    let own = f.c.grant_owner(&s).await.unwrap();
    assert!(
        f.c.with::<DeviceContact, _, _>(&own, rec, |_| ())
            .await
            .is_ok()
    );
    // ... and it stops rectifications too: a rectified contact can be another person
    // entirely, imported without the permission (outside review). The value is unchanged.
    for refused in [
        f.c.rectify(&own, rec, other_contact()).await.unwrap_err(),
        f.c.rectify_text(
            &own,
            rec,
            Category::DeviceContact,
            r#"{"name":"Another New Person"}"#,
        )
        .await
        .unwrap_err(),
    ] {
        assert!(
            matches!(
                refused,
                CustodianError::CollectionWithoutConsent {
                    scope: "device_file_storage",
                    ..
                }
            ),
            "{refused:?}"
        );
    }
    let kept =
        f.c.with::<DeviceContact, _, _>(&own, rec, |c| c.name().as_str().to_owned())
            .await
            .unwrap();
    assert_eq!(
        kept, "Bob Contact",
        "the refused rectification changed nothing"
    );
    f.consent(alice, ConsentScope::Device(Permission::FileStorage))
        .await;
    f.c.rectify(&own, rec, other_contact()).await.unwrap();
    // Without the import consent itself (3.5) the permission alone does not suffice.
    let bob = f.c.register_subject().await.unwrap();
    f.consent(bob, ConsentScope::Device(Permission::FileStorage))
        .await;
    assert!(matches!(
        f.c.store(bob, contact()).await.unwrap_err(),
        CustodianError::CollectionWithoutConsent {
            scope: "contacts_import",
            ..
        }
    ));
}

#[tokio::test]
async fn a_host_kind_captured_with_the_camera_needs_the_camera_permission() {
    let f = deployment(t0(), keyring(), |b| b).await;
    let alice = f.c.register_subject().await.unwrap();
    assert_eq!(
        f.c.store(alice, MeetingPhoto(vec![1, 2, 3]))
            .await
            .unwrap_err(),
        CustodianError::CollectionWithoutConsent {
            kind: "meeting_photo",
            scope: "device_camera"
        }
    );
    assert!(
        f.c.store_text(alice, KindRef::Host("meeting_photo"), "abc")
            .await
            .is_err()
    );
    let s = f.session(alice).await;
    f.c.give_consent(
        &s,
        ConsentScope::Device(Permission::Camera),
        CollectionMethod::UiAction,
        Some("os:camera-permission-granted"),
    )
    .await
    .unwrap();
    f.c.store(alice, MeetingPhoto(vec![1, 2, 3])).await.unwrap();
}

#[test]
fn the_register_lists_what_each_permission_gates() {
    let register = policy::register();
    let storage = register
        .consent_scopes
        .iter()
        .find(|s| s.scope == "device_file_storage")
        .unwrap();
    assert_eq!(storage.gates_collection_of, ["device_contact"]);
    assert_eq!(
        Permission::FileStorage.gated_kinds(),
        [Category::DeviceContact]
    );
    assert_eq!(
        policy::device_permission_for(Category::DeviceContact),
        Some(Permission::FileStorage)
    );
    for p in [
        Permission::GoogleAccount,
        Permission::Calls,
        Permission::Camera,
        Permission::Network,
    ] {
        assert!(p.gated_kinds().is_empty(), "{p:?} gates no built-in kind");
    }
}
