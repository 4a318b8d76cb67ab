//! Consent receipts built from the ledger (Kantara CR v1.1 with ISO/IEC TS 27560 data).

use super::{LedgerChange, LedgerEvent};
use crate::consent::{ConsentReceipt, Controller, ReceiptPurpose, ReceiptRecord, ReceiptService};
use crate::ids::ConsentId;
use crate::purpose::PurposeId;

/// The ledger holds no consent with this id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0} is not in the ledger")]
pub struct UnknownConsent(pub ConsentId);

/// Builds the receipt of consent `consent` from ledger events (in chain order).
///
/// # Errors
/// [`UnknownConsent`] if the ledger has no such consent.
pub fn receipt(
    events: &[LedgerEvent],
    consent: ConsentId,
    controller: &Controller,
    policy_url: &str,
    jurisdiction: &str,
) -> Result<ConsentReceipt, UnknownConsent> {
    let idx = events
        .iter()
        .position(
            |e| matches!(&e.change, LedgerChange::ConsentGiven { consent: c, .. } if *c == consent),
        )
        .ok_or(UnknownConsent(consent))?;
    let event = events.get(idx).ok_or(UnknownConsent(consent))?;
    let LedgerChange::ConsentGiven {
        scope,
        method,
        policy_version,
        evidence,
        ..
    } = &event.change
    else {
        return Err(UnknownConsent(consent));
    };
    let (scope, method, policy_version, evidence) =
        (*scope, *method, *policy_version, evidence.clone());
    // Re-given (DPV RenewedConsentGiven): an earlier consent of this subject and scope was withdrawn.
    let earlier_withdrawn = events.get(..idx).unwrap_or_default().iter().any(|e| {
        e.subject == event.subject
            && matches!(&e.change, LedgerChange::ConsentWithdrawn { scope: s, .. } if *s == scope)
    });
    let withdrawn_at = events
        .iter()
        .find(|e| matches!(&e.change, LedgerChange::ConsentWithdrawn { consent: c, .. } if *c == consent))
        .map(|e| e.at);
    let row_recipients = |p: PurposeId| -> Option<&'static str> {
        crate::policy::TABLE
            .iter()
            .flat_map(|r| r.recipients.iter())
            .find(|(proc, pp)| *pp == p && *proc != crate::policy::Processor::CloudHosting)
            .map(|(proc, _)| proc.description())
    };
    let purposes = scope
        .purposes()
        .iter()
        .enumerate()
        .map(|(i, &p)| ReceiptPurpose {
            purpose: p.name(),
            purpose_category: p.dpv_iri().into_iter().collect(),
            consent_type: "EXPLICIT",
            pii_category: scope.dependent_kinds().iter().map(|c| c.name()).collect(),
            primary_purpose: i == 0,
            termination: "withdrawal by the data subject at any time, in one step",
            third_party_disclosure: row_recipients(p).is_some(),
            third_party_name: row_recipients(p),
        })
        .collect();
    let state = match (withdrawn_at, earlier_withdrawn) {
        (Some(_), _) => "ConsentWithdrawn",
        (None, true) => "RenewedConsentGiven",
        (None, false) => "ConsentGiven",
    };
    Ok(ConsentReceipt {
        version: "KI-CR-v1.1.0",
        jurisdiction: jurisdiction.to_owned(),
        consent_timestamp: event.at.timestamp(),
        collection_method: method.receipt_text(),
        consent_receipt_id: consent,
        language: "en",
        pii_principal_id: event.subject,
        pii_controllers: vec![controller.clone()],
        policy_url: policy_url.to_owned(),
        services: vec![ReceiptService {
            service: crate::policy::SERVICE.to_owned(),
            purposes,
        }],
        sensitive: false,
        spi_cat: Vec::new(),
        record: ReceiptRecord {
            scope: scope.name(),
            clause: scope.clause(),
            state,
            withdrawn_at,
            policy_version,
            legal_basis: crate::LegalBasis::Consent.dpv_iri(),
            evidence,
        },
    })
}
