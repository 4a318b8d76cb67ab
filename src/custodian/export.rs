//! The access and portability export (GDPR Art. 15, 20).

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};

use super::events::ConsentScope;
use crate::data::{
    Category, ColleagueContact, CookiePreference, CustomerRecord, DataError, DataKind,
    DeviceContact, DeviceInfo, Email, Facebook, Google, IpAddress, PersonName, Phone,
    ProviderAccountId, Zoom, ZoomAccessToken,
};
use crate::ids::{ConsentId, RecordId, SubjectId};

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
    /// revealed).
    pub value: Value,
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

pub(crate) fn render(c: Category, plain: &[u8]) -> Result<Value, DataError> {
    Ok(match c {
        Category::PersonName => json!(PersonName::decode(plain)?.as_str()),
        Category::Email => json!(Email::decode(plain)?.as_str()),
        Category::Phone => json!(Phone::decode(plain)?.as_e164()),
        Category::ColleagueContact => {
            let v = ColleagueContact::decode(plain)?;
            json!({"name": v.name().as_str(), "email": v.email().as_str()})
        }
        Category::CustomerRecord => {
            let v = CustomerRecord::decode(plain)?;
            Value::Object(
                v.field_names()
                    .map(|k| (k.to_owned(), json!(v.get(k))))
                    .collect(),
            )
        }
        Category::IpAddress => json!(IpAddress::decode(plain)?.ip().to_string()),
        Category::DeviceInfo => {
            let v = DeviceInfo::decode(plain)?;
            let (w, h) = v.screen_resolution();
            json!({"model": v.model(), "os_version": v.os_version(), "app_version": v.app_version(), "screen": [w, h]})
        }
        Category::GoogleAccountId => json!(ProviderAccountId::<Google>::decode(plain)?.as_str()),
        Category::FacebookAccountId => {
            json!(ProviderAccountId::<Facebook>::decode(plain)?.as_str())
        }
        Category::ZoomAccountId => json!(ProviderAccountId::<Zoom>::decode(plain)?.as_str()),
        Category::ZoomAccessToken => {
            ZoomAccessToken::decode(plain)?;
            json!("<stored secret: used only to create conferences>")
        }
        Category::DeviceContact => {
            let v = DeviceContact::decode(plain)?;
            json!({"name": v.name().as_str(), "phone": v.phone().map(Phone::as_e164), "email": v.email().map(Email::as_str)})
        }
        Category::CookiePreference => {
            let v = CookiePreference::decode(plain)?;
            json!({"language": v.language()})
        }
    })
}
