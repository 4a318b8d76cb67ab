#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs, rustdoc::broken_intra_doc_links)]
#![doc(test(attr(deny(warnings))))]
//!
//! # Feature flags
//! - `test-util`: the storage conformance suite, for host applications testing their own
//!   backends.
//! - `danger`: `Custodian::dangerous()`, escape hatches
//!   for migrations and tests.
//! - `tracing` (default): spans and events for every custodian operation and the gate's
//!   decisions, through the `tracing` crate. Fields are operation, purpose, outcome and
//!   pseudonymous ids only — never personal data, token strings or evidence text.
//!
//! # Re-exported crates
//! [`async_trait`], [`chrono`], [`secrecy`], [`uuid`] and [`zeroize`] appear in the
//! public API (store traits, [`HostKind`], [`Clock`]); use them through this crate so their
//! versions always match.
//!
//! # Where each clause lives
//! `docs/policy-map.md` maps every clause of the policy to the API item and the test that
//! proves it; `docs/threat-model.md` says who is trusted; `docs/architecture.md` shows the
//! layers.

// Layers, lowest first (checked by scripts/layers.sh): ids, chain, clock → purpose → data →
// policy → grant → crypto, store → consent, retention, sharing, disclosure, staff → ledger
// → custodian → danger.
pub mod chain;
mod clock;
pub mod consent;
pub mod crypto;
pub mod custodian;
#[cfg(feature = "danger")]
pub mod danger;
mod data;
pub mod disclosure;
pub mod dsr;
mod entropy;
pub mod gpc;
mod grant;
mod ids;
pub mod ledger;
pub mod policy;
mod purpose;
pub mod retention;
pub mod sharing;
pub mod staff;
pub mod store;

// Crates that appear in the public API, re-exported so a host implementing a store, a
// clock or a kind uses exactly the versions this crate was built with (no version-matching
// in the host's Cargo.toml): `#[crm_privacy::async_trait::async_trait]`,
// `crm_privacy::zeroize::Zeroizing`, `crm_privacy::chrono::DateTime`, ...
pub use async_trait;
pub use chrono;
pub use secrecy;
pub use uuid;
pub use zeroize;

// The public interface: every type below has exactly this one path (the public modules
// above hold the rest, each type once).

// Time, owned by the custodian.
pub use clock::{Clock, ManualClock, SystemClock};
// Typed personal data and its kinds.
pub use data::{
    Category, ColleagueContact, CookiePreference, CustomerRecord, DataError, DataKind, DataReason,
    DeviceContact, DeviceInfo, Email, EmailOptions, EmailReason, Facebook, Google, HostKind,
    IpAddress, KindRef, Masked, PersonName, Personal, Phone, PhoneOptions, PhonePolicy,
    PhoneReason, PhoneType, Provider, ProviderAccountId, Reader, Writer, Zoom, ZoomAccessToken,
};
// Grants and the proofs they are issued on (made only by the custodian).
pub use grant::{
    AccessError, Actor, Grant, GrantInfo, IssueError, KeyError, NdaAttestation, SessionClaims,
    TokenError, TokenKey, UserInitiated, UserSession,
};
// Identifiers.
pub use ids::{
    ConsentId, GrantId, IdParseError, RecordId, RequestId, SessionId, StaffId, SubjectId,
};
// The policy table's compile-time relations (full and masked reads).
pub use policy::{MaskedFor, UsableFor};
// Purposes.
pub use purpose::{
    AccountManagement, Analytics, Authentication, ChatSharing, ConferenceCreation,
    CustomerManagement, DPV_NAMESPACE, HostPurpose, IdentityVerification, LegalBasis,
    LegalCompliance, Notification, OwnerAccess, Preferences, Purpose, PurposeId, PurposeRef,
    ServicePurpose, SupportContact, TeamCollaboration, Troubleshooting,
};
