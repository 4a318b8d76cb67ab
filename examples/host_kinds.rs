//! A host crate declares its own data kind and purpose (clause 1: the customer base holds
//! what the owner decides), uses them with grants, and sees them in the register.
//!
//! What it cannot do — widen the policy for a built-in kind — is shown by
//! `tests/compile_fail/widen_builtin_kind.rs`.
//!
//! Run: `cargo run --example host_kinds`
#![allow(clippy::print_stdout, reason = "examples print their walk-through")]

use std::sync::Arc;

use crm_privacy::crypto::Keyring;
use crm_privacy::custodian::Custodian;
use crm_privacy::store::{InMemoryChainStore, InMemoryKeyStore, InMemoryRecordStore};
use crm_privacy::{
    DataError, DataReason, HostKind, HostPurpose, LegalBasis, OwnerAccess, Personal, Reader,
    Writer, host_policy,
};
use zeroize::Zeroizing;

/// A billing address, kept by the host for invoicing.
struct BillingAddress {
    line: secrecy::SecretString,
}

impl HostKind for BillingAddress {
    const NAME: &'static str = "billing_address";
    fn encode(&self) -> Zeroizing<Vec<u8>> {
        use secrecy::ExposeSecret;
        let mut w = Writer::new();
        w.str(self.line.expose_secret());
        w.finish()
    }
    fn decode(bytes: &[u8]) -> Result<Self, DataError> {
        let mut r = Reader::new(Self::NAME, bytes);
        let line = r.str()?;
        r.finish()?;
        if line.is_empty() {
            return Err(DataError::new(Self::NAME, DataReason::Empty));
        }
        Ok(Self { line: line.into() })
    }
}

/// Sending invoices.
struct Invoicing;
impl HostPurpose for Invoicing {
    const NAME: &'static str = "invoicing";
    const LEGAL_BASIS: LegalBasis = LegalBasis::Contract;
    const DPV_IRI: Option<&'static str> = Some("https://w3id.org/dpv#ServiceProvision");
}

host_policy!(BillingAddress => [Invoicing, OwnerAccess], retention "ten years after the last invoice");

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Only the custodian issues grants; in-memory stores and a demo key for this example.
    let crm = Custodian::builder(Keyring::generate()?)
        .records(Arc::new(InMemoryRecordStore::new()))
        .chains(Arc::new(InMemoryChainStore::new()))
        .keys(Arc::new(InMemoryKeyStore::new()))
        .build()
        .await?;
    let subject = crm.register_subject().await?;
    let address = Personal::new(
        subject,
        BillingAddress {
            line: "Rue du Rhône 1, Genève".into(),
        },
    );
    let grant = crm.grant::<Invoicing>(subject, "billing").await?;
    let value = crm.expose(&address, &grant).await?;
    let _ = value; // hand the address to the invoice renderer here
    println!("read {address:?} for invoicing with {}", grant.id());
    let register = crm_privacy::policy::register().with_host_kind::<BillingAddress>();
    let entry = register.entries.last().ok_or("register is empty")?;
    println!(
        "register: {} -> {:?}",
        entry.kind,
        entry.purposes.iter().map(|p| p.name).collect::<Vec<_>>()
    );
    Ok(())
}
