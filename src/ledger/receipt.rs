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
        .or_else(|| {
            events.iter().position(|e| {
                matches!(&e.change, LedgerChange::HostConsentGiven { consent: c, .. } if *c == consent)
            })
        })
        .ok_or(UnknownConsent(consent))?;
    let event = events.get(idx).ok_or(UnknownConsent(consent))?;
    if let LedgerChange::HostConsentGiven { .. } = &event.change {
        return host_receipt(events, idx, consent, controller, policy_url, jurisdiction);
    }
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

/// The receipt of a consent to a host scope (see `host_consent_scope!`): the scope by name,
/// its host purposes and the host kinds collected under it, from the registered host table.
fn host_receipt(
    events: &[LedgerEvent],
    idx: usize,
    consent: ConsentId,
    controller: &Controller,
    policy_url: &str,
    jurisdiction: &str,
) -> Result<ConsentReceipt, UnknownConsent> {
    let event = events.get(idx).ok_or(UnknownConsent(consent))?;
    let LedgerChange::HostConsentGiven {
        scope,
        method,
        policy_version,
        evidence,
        ..
    } = &event.change
    else {
        return Err(UnknownConsent(consent));
    };
    // A scope this build does not register keeps its receipt, without purposes.
    let registered = crate::policy::HostScope::registered(scope).ok();
    let earlier_withdrawn = events.get(..idx).unwrap_or_default().iter().any(|e| {
        e.subject == event.subject
            && matches!(&e.change, LedgerChange::HostConsentWithdrawn { scope: s, .. } if s == scope)
    });
    let withdrawn_at = events
        .iter()
        .find(|e| matches!(&e.change, LedgerChange::HostConsentWithdrawn { consent: c, .. } if *c == consent))
        .map(|e| e.at);
    let dpv = |name: &str| -> Option<&'static str> {
        crate::policy::host::kinds()
            .flat_map(|k| k.purposes().iter())
            .find(|p| p.name == name)
            .and_then(|p| p.dpv_iri)
    };
    let purposes = registered
        .map(|sc| {
            sc.purposes()
                .iter()
                .enumerate()
                .map(|(i, &p)| ReceiptPurpose {
                    purpose: p,
                    purpose_category: dpv(p).into_iter().collect(),
                    consent_type: "EXPLICIT",
                    pii_category: sc.dependent_kinds().to_vec(),
                    primary_purpose: i == 0,
                    termination: "withdrawal by the data subject at any time, in one step",
                    third_party_disclosure: false,
                    third_party_name: None,
                })
                .collect()
        })
        .unwrap_or_default();
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
            scope: registered.map_or("unregistered_host_scope", |sc| sc.name()),
            clause: "host",
            state,
            withdrawn_at,
            policy_version: *policy_version,
            legal_basis: crate::LegalBasis::Consent.dpv_iri(),
            evidence: evidence.clone(),
        },
    })
}
