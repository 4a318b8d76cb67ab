//! Ledger and audit events as JSON (the bodies of chain entries), and the consent receipts
//! built from them: never panics; decoded events re-encode to equal events; every receipt
//! serializes to valid JSON.
#![no_main]

use crm_privacy::consent::Controller;
use crm_privacy::ledger::receipt;
use crm_privacy::ledger::{AuditEvent, LedgerChange, LedgerEvent};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(event) = serde_json::from_slice::<AuditEvent>(data) {
        let json = serde_json::to_vec(&event).expect("encodes");
        let again: AuditEvent = serde_json::from_slice(&json).expect("re-decodes");
        assert_eq!(again, event);
    }
    let events: Vec<LedgerEvent> = match serde_json::from_slice::<Vec<LedgerEvent>>(data) {
        Ok(v) => v,
        Err(_) => match serde_json::from_slice::<LedgerEvent>(data) {
            Ok(e) => vec![e],
            Err(_) => return,
        },
    };
    let json = serde_json::to_vec(&events).expect("encodes");
    let again: Vec<LedgerEvent> = serde_json::from_slice(&json).expect("re-decodes");
    assert_eq!(again, events);
    let controller = Controller {
        pii_controller: "Smarty CRM".into(),
        contact: "dpo".into(),
        address: "street 1".into(),
        email: "dpo@smarty.example".into(),
        phone: "+41 00 000 00 00".into(),
    };
    for e in &events {
        if let LedgerChange::ConsentGiven { consent, .. } = &e.change {
            if let Ok(r) = receipt(
                &events,
                *consent,
                &controller,
                "https://smarty.example/p",
                "CH",
            ) {
                let text = serde_json::to_string(&r).expect("receipt encodes");
                let _: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
            }
        }
    }
});
