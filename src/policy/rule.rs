//! The vocabulary of retention rules (clause 9.1): a calendar [`Period`] counted from a
//! [`Trigger`], and the rule a host kind declares in [`host_policy!`](crate::host_policy).
//! The schedule that applies them is the `retention` module.

use chrono::{DateTime, Months, TimeDelta, Utc};
use serde::Serialize;

/// A calendar period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    /// Calendar months.
    pub months: u32,
    /// Days after the months.
    pub days: u32,
}

impl Period {
    /// `n` months.
    #[must_use]
    pub const fn months(n: u32) -> Self {
        Self { months: n, days: 0 }
    }
    /// `n` days.
    #[must_use]
    pub const fn days(n: u32) -> Self {
        Self { months: 0, days: n }
    }
    /// `n` years (12·n calendar months, saturating).
    #[must_use]
    pub const fn years(n: u32) -> Self {
        Self {
            months: n.saturating_mul(12),
            days: 0,
        }
    }
    /// `from` plus this period, or `None` past the representable range.
    #[must_use]
    #[inline]
    pub fn after(self, from: DateTime<Utc>) -> Option<DateTime<Utc>> {
        from.checked_add_months(Months::new(self.months))?
            .checked_add_signed(TimeDelta::days(i64::from(self.days)))
    }
    pub(crate) const fn is_empty(self) -> bool {
        self.months == 0 && self.days == 0
    }
}

/// The event a retention period is counted from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// When the record was collected.
    Collected,
    /// The subject's last activity.
    LastActivity,
    /// When the account was closed.
    AccountClosed,
    /// When the consent behind the record was withdrawn.
    ConsentWithdrawn,
    /// When the purpose was fulfilled.
    PurposeFulfilled,
}

impl Trigger {
    /// Lowercase words, for the register.
    #[must_use]
    pub const fn describe(self) -> &'static str {
        match self {
            Self::Collected => "collection",
            Self::LastActivity => "last activity",
            Self::AccountClosed => "account closure",
            Self::ConsentWithdrawn => "consent withdrawal",
            Self::PurposeFulfilled => "purpose fulfilment",
        }
    }
}

/// The retention rule a host kind declares in [`host_policy!`](crate::host_policy): a
/// period after a trigger, with the words the register shows. The same vocabulary as the
/// built-in schedule; the schedule builder's `rule` can override it per purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct HostRetention {
    period: Period,
    trigger: Trigger,
    description: &'static str,
}

impl HostRetention {
    /// `period` after `trigger`, described as `description` in the register.
    #[must_use]
    pub const fn new(period: Period, trigger: Trigger, description: &'static str) -> Self {
        Self {
            period,
            trigger,
            description,
        }
    }
    /// The period.
    #[must_use]
    pub const fn period(&self) -> Period {
        self.period
    }
    /// The trigger.
    #[must_use]
    pub const fn trigger(&self) -> Trigger {
        self.trigger
    }
    /// The host's description.
    #[must_use]
    pub const fn description(&self) -> &'static str {
        self.description
    }
    /// The rule in words, e.g. `120 months after last activity`.
    #[must_use]
    pub fn summary(&self) -> String {
        let p = self.period;
        let amount = match (p.months, p.days) {
            (0, d) => format!("{d} days"),
            (m, 0) => format!("{m} months"),
            (m, d) => format!("{m} months and {d} days"),
        };
        format!("{amount} after {}", self.trigger.describe())
    }
}
