#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs, rustdoc::broken_intra_doc_links)]
#![doc(test(attr(deny(warnings))))]
//!
//! # Feature flags
//! - `test-util`: the storage conformance suite, for host applications testing their own
//!   backends.
//!
//! # Where each clause lives
//! `docs/policy-map.md` maps every clause of the policy to the API item and the test that
//! proves it.

pub mod chain;
pub mod consent;
pub mod crypto;
pub mod custodian;
pub mod danger;
mod data;
pub mod disclosure;
mod grant;
mod ids;
pub mod policy;
mod purpose;
pub mod retention;
pub mod sharing;
pub mod staff;
pub mod store;

pub use data::{
    Category, ColleagueContact, CookiePreference, CustomerRecord, DataError, DataKind, DataReason,
    DeviceContact, DeviceInfo, Email, EmailReason, Facebook, Google, HostKind, IpAddress, KindRef,
    PersonName, Phone, PhoneReason, Provider, ProviderAccountId, Reader, Writer, Zoom,
    ZoomAccessToken,
};
pub use grant::{
    AccessError, Actor, Grant, GrantInfo, GrantIssuer, GrantIssuerBuilder, InMemoryRevocations,
    IssueError, KeyError, NdaAttestation, Personal, RevocationList, TokenError, TokenKey,
    UserInitiated, UserSession,
};
pub use ids::{ConsentId, GrantId, RecordId, RequestId, SessionId, StaffId, SubjectId};
pub use policy::UsableFor;
pub use purpose::{
    AccountManagement, Analytics, Authentication, ChatSharing, ConferenceCreation,
    CustomerManagement, DPV_NAMESPACE, HostPurpose, IdentityVerification, LegalBasis,
    LegalCompliance, Notification, OwnerAccess, Preferences, Purpose, PurposeId, PurposeRef,
    ServicePurpose, SupportContact, TeamCollaboration, Troubleshooting,
};
