//! Data-subject requests (clauses 6.1, 6.2, 9.1; GDPR Art. 12(3), 15–18, 20, 21): the value
//! types and the pure rules of the request desk. The custodian records each step in the
//! ledger and fulfils a request with the same operations a subject's own session uses
//! (`Custodian::dsr_*`); this module only says what a request is and when it is due.
//!
//! Deadlines (Art. 12(3)): a request is due one calendar month after receipt; it may be
//! extended once, by one or two further months, only with a recorded reason and only if the
//! subject is told within the first month. Months are calendar months clamped to the month's
//! end, as in [`retention`](crate::retention) (31 January + 1 month = 28 or 29 February).
//!
//! Everything here is ids, codes and instants: a request never carries personal data.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::SubjectId;
use crate::policy::Period;

/// The id of a data-subject request (issued by the custodian at intake).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DsrId(uuid::Uuid);

impl DsrId {
    /// A fresh random id.
    pub(crate) fn new_random() -> Self {
        Self(uuid::Uuid::new_v4())
    }

    /// Wraps a UUID read back from the host's own records (its ticket system).
    #[must_use]
    pub const fn from_uuid(uuid: uuid::Uuid) -> Self {
        Self(uuid)
    }

    /// The UUID inside.
    #[must_use]
    pub const fn as_uuid(&self) -> &uuid::Uuid {
        &self.0
    }
}

impl core::str::FromStr for DsrId {
    type Err = uuid::Error;

    /// Parses the `dsr:<uuid>` form [`Display`](core::fmt::Display) writes, or a bare UUID.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bare = s.strip_prefix("dsr:").unwrap_or(s);
        uuid::Uuid::parse_str(bare).map(Self)
    }
}

impl core::fmt::Debug for DsrId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "dsr:{}", self.0)
    }
}

impl core::fmt::Display for DsrId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(self, f)
    }
}

/// What the subject asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DsrKind {
    /// Access to the data held (Art. 15).
    Access,
    /// The data in a portable form (Art. 20).
    Export,
    /// Rectification of a field (clause 6.1, Art. 16).
    Rectify,
    /// Erasure (clause 6.2, Art. 17).
    Erase,
    /// Restriction of processing (clause 9.1, Art. 18).
    Restrict,
    /// Objection to processing (Art. 21): fulfilled by restricting processing.
    Object,
}

impl DsrKind {
    /// Stable name (ledger, audit references).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Access => "access",
            Self::Export => "export",
            Self::Rectify => "rectify",
            Self::Erase => "erase",
            Self::Restrict => "restrict",
            Self::Object => "object",
        }
    }
}

/// Why a request's deadline was extended (Art. 12(3): the complexity and number of the
/// requests).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExtensionReason {
    /// The request is complex.
    Complexity,
    /// The subject (or many subjects at once) filed many requests.
    NumberOfRequests,
}

/// Why a request was refused (Art. 12(5), 17(3)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalReason {
    /// The requester could not be identified as the subject (Art. 12(6)).
    IdentityNotVerified,
    /// Manifestly unfounded (Art. 12(5)).
    ManifestlyUnfounded,
    /// Excessive, in particular repetitive (Art. 12(5)).
    Excessive,
    /// A legal obligation requires keeping or processing the data (Art. 17(3)(b)).
    LegalObligation,
}

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DsrState {
    /// Received, identity not yet verified.
    Received,
    /// The requester was verified as the subject.
    Verified,
    /// Its fulfilment was claimed (recorded before the operation runs): it can no longer be
    /// refused; a fulfilment that died midway is run again.
    Fulfilling,
    /// Fulfilled (terminal).
    Fulfilled,
    /// Refused, with a reason (terminal).
    Refused(RefusalReason),
}

/// A recorded extension of a request's deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Extension {
    /// One or two further months.
    pub months: u32,
    /// Why.
    pub reason: ExtensionReason,
    /// When the subject was told of the extension and its reason (within the first month).
    pub subject_told_at: DateTime<Utc>,
}

/// One data-subject request as the ledger holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DsrRequest {
    /// The request.
    pub id: DsrId,
    /// Whose data.
    pub subject: SubjectId,
    /// What is asked.
    pub kind: DsrKind,
    /// When it was received (the deadline counts from here).
    pub received_at: DateTime<Utc>,
    /// Where it stands.
    pub state: DsrState,
    /// When the requester was verified as the subject.
    pub verified_at: Option<DateTime<Utc>>,
    /// The extension, if one was recorded.
    pub extension: Option<Extension>,
    /// When it was fulfilled or refused.
    pub closed_at: Option<DateTime<Utc>>,
}

impl DsrRequest {
    /// The deadline now in force: one month after receipt, or the extended one.
    #[must_use]
    pub fn due(&self) -> Option<DateTime<Utc>> {
        let months = 1 + self.extension.map_or(0, |e| e.months);
        Period::months(months).after(self.received_at)
    }

    /// True once fulfilled or refused.
    #[must_use]
    pub const fn is_closed(&self) -> bool {
        matches!(self.state, DsrState::Fulfilled | DsrState::Refused(_))
    }

    /// True if still open past its deadline at `now`.
    #[must_use]
    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        !self.is_closed() && self.due().is_some_and(|due| due < now)
    }
}

/// The first deadline of a request received at `received_at`: one calendar month later
/// (clamped to the month's end). `None` past the representable range.
#[must_use]
pub fn first_due(received_at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    Period::months(1).after(received_at)
}

/// Why a step of the request desk was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DsrError {
    /// No request with that id.
    #[error("no data-subject request {0}")]
    Unknown(DsrId),
    /// The request is already fulfilled or refused.
    #[error("data-subject request {0} is closed")]
    Closed(DsrId),
    /// Its fulfilment is claimed and running (or was cut short by a crash: fulfil it again).
    /// A fulfilment whose operation fails releases the claim, so it can then be refused.
    #[error("data-subject request {0} is being fulfilled")]
    InProgress(DsrId),
    /// Fulfilment needs the requester verified as the subject first.
    #[error("data-subject request {0} is not verified")]
    NotVerified(DsrId),
    /// The credential or grant belongs to another subject than the request's.
    #[error("data-subject request {0} belongs to another subject")]
    WrongSubject(DsrId),
    /// The operation does not fulfil this kind of request.
    #[error("data-subject request {request} is a {kind} request")]
    WrongKind {
        /// The request.
        request: DsrId,
        /// Its kind.
        kind: &'static str,
    },
    /// A second extension, or one of other than one or two months.
    #[error("data-subject request {0}: one extension of one or two months only")]
    ExtensionNotAllowed(DsrId),
    /// The extension (or telling the subject of it) comes after the first month.
    #[error(
        "data-subject request {0}: an extension must be decided and told within the first month"
    )]
    ExtensionTooLate(DsrId),
}

/// Checks an extension against Art. 12(3) for a request received at `received_at`, decided
/// at `now`, told to the subject at `told_at`.
///
/// # Errors
/// [`DsrError::ExtensionNotAllowed`] for a second extension or a length other than one or
/// two months; [`DsrError::ExtensionTooLate`] when `now` or `told_at` is past the first
/// deadline, or `told_at` lies in the future or before receipt.
pub fn check_extension(
    request: &DsrRequest,
    months: u32,
    now: DateTime<Utc>,
    told_at: DateTime<Utc>,
) -> Result<(), DsrError> {
    if request.extension.is_some() || !(1..=2).contains(&months) {
        return Err(DsrError::ExtensionNotAllowed(request.id));
    }
    let first = first_due(request.received_at).ok_or(DsrError::ExtensionTooLate(request.id))?;
    if now > first || told_at > first || told_at > now || told_at < request.received_at {
        return Err(DsrError::ExtensionTooLate(request.id));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, NaiveDate, TimeZone};
    use proptest::prelude::*;

    /// A naive model of "one calendar month later, clamped to the month's end", written
    /// from the calendar rules (leap years included) rather than with chrono's month math.
    fn naive_add_months(at: DateTime<Utc>, months: u32) -> DateTime<Utc> {
        let leap = |y: i32| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        let days_in = |y: i32, m: u32| match m {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            _ if leap(y) => 29,
            _ => 28,
        };
        let total = at.month0() + months;
        let year = at.year() + i32::try_from(total / 12).unwrap();
        let month = total % 12 + 1;
        let day = at.day().min(days_in(year, month));
        let date = NaiveDate::from_ymd_opt(year, month, day).unwrap();
        Utc.from_utc_datetime(&date.and_time(at.time()))
    }

    fn request(received_at: DateTime<Utc>) -> DsrRequest {
        DsrRequest {
            id: DsrId::new_random(),
            subject: SubjectId::new_random(),
            kind: DsrKind::Erase,
            received_at,
            state: DsrState::Received,
            verified_at: None,
            extension: None,
            closed_at: None,
        }
    }

    #[test]
    fn month_ends_and_leap_days() {
        let at = |y, m, d| Utc.with_ymd_and_hms(y, m, d, 9, 30, 0).unwrap();
        assert_eq!(first_due(at(2027, 1, 31)), Some(at(2027, 2, 28)));
        assert_eq!(first_due(at(2028, 1, 31)), Some(at(2028, 2, 29)));
        assert_eq!(first_due(at(2028, 2, 29)), Some(at(2028, 3, 29)));
        assert_eq!(first_due(at(2027, 12, 15)), Some(at(2028, 1, 15)));
        let mut r = request(at(2027, 11, 30));
        r.extension = Some(Extension {
            months: 2,
            reason: ExtensionReason::Complexity,
            subject_told_at: at(2027, 12, 1),
        });
        // Counted from receipt (three months), not chained month by month.
        assert_eq!(r.due(), Some(at(2028, 2, 29)));
    }

    proptest! {
        #[test]
        fn due_dates_agree_with_a_naive_calendar(
            secs in 946_684_800_i64..4_102_444_800, // 2000-01-01 .. 2100-01-01
            extension in 0_u32..=2,
        ) {
            let received = DateTime::from_timestamp(secs, 0).unwrap();
            let mut r = request(received);
            if extension > 0 {
                r.extension = Some(Extension {
                    months: extension,
                    reason: ExtensionReason::NumberOfRequests,
                    subject_told_at: received,
                });
            }
            prop_assert_eq!(first_due(received), Some(naive_add_months(received, 1)));
            prop_assert_eq!(r.due(), Some(naive_add_months(received, 1 + extension)));
            let due = r.due().unwrap();
            prop_assert!(!r.is_overdue(due));
            prop_assert!(r.is_overdue(due + chrono::TimeDelta::seconds(1)));
        }

        #[test]
        fn extensions_follow_article_12_3(
            secs in 946_684_800_i64..4_102_444_800,
            months in 0_u32..=4,
            decided_after in 0_i64..(40 * 86_400),
            told_before in 0_i64..(5 * 86_400),
        ) {
            let received = DateTime::from_timestamp(secs, 0).unwrap();
            let r = request(received);
            let now = received + chrono::TimeDelta::seconds(decided_after);
            let told = now - chrono::TimeDelta::seconds(told_before);
            let first = naive_add_months(received, 1);
            let allowed = (1..=2).contains(&months) && now <= first && told >= received;
            prop_assert_eq!(check_extension(&r, months, now, told).is_ok(), allowed);
        }
    }

    #[test]
    fn only_one_extension() {
        let t = Utc.with_ymd_and_hms(2027, 3, 1, 0, 0, 0).unwrap();
        let mut r = request(t);
        r.extension = Some(Extension {
            months: 1,
            reason: ExtensionReason::Complexity,
            subject_told_at: t,
        });
        assert_eq!(
            check_extension(&r, 1, t, t),
            Err(DsrError::ExtensionNotAllowed(r.id))
        );
    }
}
