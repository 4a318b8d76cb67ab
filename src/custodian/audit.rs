//! Reviewing the chains: verification and the audit log.

use super::{ChainReport, Custodian, CustodianError};
use crate::chain::{self, ChainEntry};
use crate::ids::GrantId;
use crate::ledger::{self, AuditEvent, AuditKind, LedgerEvent};
use crate::store::ChainName;

impl Custodian {
    /// Verifies both hash chains end to end and that every entry decodes.
    ///
    /// # Errors
    /// The first broken link or undecodable entry.
    #[cfg_attr(
        feature = "tracing",
        tracing::instrument(skip_all, err(level = "info", Display))
    )]
    pub async fn verify_chains(&self) -> Result<ChainReport, CustodianError> {
        let mut report = ChainReport {
            ledger_entries: 0,
            audit_entries: 0,
        };
        for name in [ChainName::Ledger, ChainName::Audit] {
            let anchor = self.inner.chains.anchor(name).await?;
            let entries: Vec<ChainEntry> = self.inner.chains.entries(name).await?;
            chain::verify_reaches(&entries, &anchor)?;
            for e in &entries {
                match name {
                    ChainName::Ledger => drop(ledger::decode::<LedgerEvent>(e)?),
                    ChainName::Audit => drop(ledger::decode::<AuditEvent>(e)?),
                }
            }
            let n = entries.len() as u64;
            match name {
                ChainName::Ledger => report.ledger_entries = n,
                ChainName::Audit => report.audit_entries = n,
            }
        }
        Ok(report)
    }

    /// The audit events (decoded), for review.
    ///
    /// # Errors
    /// Store failures or an undecodable entry.
    #[cfg_attr(
        feature = "tracing",
        tracing::instrument(skip_all, err(level = "info", Display))
    )]
    pub async fn audit_events(&self) -> Result<Vec<AuditEvent>, CustodianError> {
        let entries = self.inner.chains.entries(ChainName::Audit).await?;
        entries
            .iter()
            .map(|e| Ok(ledger::decode::<AuditEvent>(e)?))
            .collect()
    }

    /// The purpose of a grant id, if it appears in the audit log (for investigations).
    ///
    /// # Errors
    /// As [`audit_events`](Self::audit_events).
    #[cfg_attr(feature = "tracing", tracing::instrument(skip_all, fields(grant = %grant), err(level = "info", Display)))]
    pub async fn grant_purpose(&self, grant: GrantId) -> Result<Option<String>, CustodianError> {
        Ok(self
            .audit_events()
            .await?
            .into_iter()
            .find(|e| e.grant == Some(grant) && e.kind == AuditKind::GrantIssued)
            .and_then(|e| e.purpose))
    }
}
