//! The access and portability export (GDPR Art. 15, 20).

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use super::{Custodian, CustodianError};
use crate::consent::ConsentScope;
use crate::data::Category;
use crate::grant::{Actor, Grant};
use crate::ids::{ConsentId, RecordId, SubjectId};
use crate::ledger::{AuditEvent, AuditKind};
use crate::purpose::OwnerAccess;

/// One record in an export.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExportedRecord {
    /// Record id.
    pub record: RecordId,
    /// Kind name.
    pub kind: String,
    /// Stored at.
    pub created_at: DateTime<Utc>,
    /// Updated at.
    pub updated_at: DateTime<Utc>,
    /// The value, structured (secrets such as the Zoom token are shown as present, not
    /// revealed); a host kind's value is its text form
    /// ([`HostKind::to_text`](crate::HostKind::to_text)); `null` when `rendering` says it
    /// could not be rendered.
    pub value: Value,
    /// Whether the value could be rendered.
    pub rendering: Rendering,
}

/// Whether a record of the export could be rendered. A record is never left out of the
/// export, and never decoded as another kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rendering {
    /// `value` holds the record's value.
    Rendered,
    /// The record is of a host kind this build does not register (no
    /// [`host_policy!`](crate::host_policy) for it is linked in): it is present, its kind
    /// is named, its value cannot be shown.
    UnknownKind,
}

/// A consent to a host scope in force, in an export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportedHostConsent {
    /// The host scope's name.
    pub scope: String,
    /// Record id.
    pub consent: ConsentId,
}

/// A consent in force, in an export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportedConsent {
    /// Scope.
    pub scope: ConsentScope,
    /// Record id.
    pub consent: ConsentId,
}

/// Everything held about a subject: the export handed to the subject's own session.
/// It contains the subject's personal data by design: it is `Serialize` so the host can
/// send it to the subject, and its `Debug` is redacted.
#[derive(Clone, PartialEq, Serialize)]
pub struct SubjectExport {
    /// The subject.
    pub subject: SubjectId,
    /// Generated at.
    pub generated_at: DateTime<Utc>,
    /// Whether processing is restricted.
    pub restricted: bool,
    /// Consents in force.
    pub consents: Vec<ExportedConsent>,
    /// Consents to host scopes in force.
    pub host_consents: Vec<ExportedHostConsent>,
    /// Every stored record.
    pub records: Vec<ExportedRecord>,
}

impl core::fmt::Debug for SubjectExport {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SubjectExport")
            .field("subject", &self.subject)
            .field("records", &self.records.len())
            .finish_non_exhaustive()
    }
}

impl SubjectExport {
    /// Pretty JSON for the subject.
    ///
    /// # Errors
    /// Only if serialization fails.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self)
    }
}

impl Custodian {
    /// Everything held about the subject of an [`OwnerAccess`] grant, as one JSON-ready
    /// document (GDPR Art. 15, 20). Only the subject's own session gets it.
    ///
    /// # Errors
    /// Access refusals, store and crypto failures.
    #[cfg_attr(feature = "tracing", tracing::instrument(skip_all, fields(grant = %grant.id(), subject = %grant.subject(), purpose = "owner_access"), err(level = "info", Display)))]
    pub async fn export(
        &self,
        grant: &Grant<OwnerAccess>,
    ) -> Result<SubjectExport, CustodianError> {
        let now = self.now();
        self.audited(grant, None, now, async {
            if !matches!(grant.info().actor, Actor::Subject { .. }) {
                return Err(CustodianError::NotOwnSession);
            }
            self.admit(grant, now).await?;
            let subject = grant.subject();
            let key = self.data_key(subject).await?;
            let mut records = Vec::new();
            for row in self.inner.records.list_subject_versioned(subject).await? {
                let plain = key.open_row(&row.header(), &row.sealed.ciphertext)?;
                let (value, rendering) = match Category::from_name(&row.sealed.kind) {
                    Some(c) => (
                        crate::data::text::render(c, &plain, false)?,
                        Rendering::Rendered,
                    ),
                    None => match crate::policy::host::render_host(&row.sealed.kind, &plain) {
                        Some(text) => (Value::String(text?.to_string()), Rendering::Rendered),
                        None => (Value::Null, Rendering::UnknownKind),
                    },
                };
                let row = row.sealed;
                records.push(ExportedRecord {
                    record: row.record,
                    kind: row.kind,
                    created_at: row.created_at,
                    updated_at: row.updated_at,
                    value,
                    rendering,
                });
            }
            records.sort_by(|a, b| {
                (a.kind.as_str(), a.created_at).cmp(&(b.kind.as_str(), b.created_at))
            });
            let mut ev = AuditEvent::new(now, AuditKind::Exported, subject);
            ev.grant = Some(grant.id());
            self.commit(None, &[ev]).await?;
            Ok(SubjectExport {
                subject,
                generated_at: now,
                restricted: self.inner.state.is_restricted(subject),
                consents: self
                    .inner
                    .state
                    .active_scopes(subject)
                    .into_iter()
                    .map(|(scope, consent)| ExportedConsent { scope, consent })
                    .collect(),
                host_consents: self
                    .inner
                    .state
                    .host_scopes(subject)
                    .into_iter()
                    .map(|(scope, consent)| ExportedHostConsent { scope, consent })
                    .collect(),
                records,
            })
        })
        .await
    }
}
