//! The custodian's clock. Time is an authority decision (expiry, freshness, retention, the
//! instants in the audit log), so it comes from the clock the custodian was built with,
//! never from a caller.

use std::fmt::Debug;
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, TimeDelta, Utc};

/// A source of the current instant.
pub trait Clock: Debug + Send + Sync + 'static {
    /// Now.
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock (the default).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that moves only when told to: for tests and simulations, configured by the
/// composition root like any other clock.
#[derive(Debug)]
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    /// A clock reading `start`.
    #[must_use]
    pub const fn new(start: DateTime<Utc>) -> Self {
        Self(Mutex::new(start))
    }
    /// Sets the instant.
    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = at;
    }
    /// Moves the clock by `by`. A move past the representable range leaves the clock
    /// where it is; [`try_advance`](Self::try_advance) reports it.
    pub fn advance(&self, by: TimeDelta) {
        let _ = self.try_advance(by);
    }

    /// Moves the clock by `by` and returns the new instant, or `None` (the clock left where
    /// it is) for a move past the representable range. Check and move are one step, so
    /// concurrent moves never lose one silently.
    pub fn try_advance(&self, by: TimeDelta) -> Option<DateTime<Utc>> {
        let mut t = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let moved = t.checked_add_signed(by)?;
        *t = moved;
        Some(moved)
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use chrono::{TimeDelta, TimeZone, Utc};

    use super::{Clock, ManualClock};

    #[test]
    fn a_move_out_of_range_is_reported_and_leaves_the_clock_alone() {
        let start = Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).unwrap();
        let clock = ManualClock::new(start);
        assert_eq!(
            clock.try_advance(TimeDelta::seconds(60)),
            Some(start + TimeDelta::seconds(60))
        );
        assert_eq!(clock.try_advance(TimeDelta::MAX), None);
        assert_eq!(clock.try_advance(TimeDelta::MIN), None);
        assert_eq!(clock.now(), start + TimeDelta::seconds(60));
        clock.advance(TimeDelta::MAX);
        assert_eq!(clock.now(), start + TimeDelta::seconds(60));
    }
}
