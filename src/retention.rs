//! Retention (clause 9.1) and erasure plans (clause 6.2).
//!
//! A [`Schedule`] holds one [`Rule`] per (data kind, purpose): a calendar [`Period`] counted
//! from a [`Trigger`] (collected, last activity, account closed, consent withdrawn, purpose
//! fulfilled), and an optional [`LegalMinimum`] that overrides it when a law requires a
//! longer period ("unless a longer retention period is required by law": the later deadline
//! wins and the decision names the rule that decided). [`Hold`]s suspend deletion.
//!
//! Arithmetic is on UTC instants; months are calendar months clamped to the month's end
//! (31 January + 1 month = 28 or 29 February), then days are added.
//!
//! Invalid schedules are refused when built: two rules for one (kind, purpose), an empty
//! period, a rule for a pair the policy table does not allow, or a built-in kind with no
//! rule. `docs/retention.md` explains the default schedule.

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

// The vocabulary of retention rules lives with the policy tables that declare them (the
// built-in table and `host_policy!`); re-exported here, where schedules use it.
pub use crate::policy::{HostRetention, Period, Trigger};

use crate::data::{Category, KindRef};
use crate::ids::{RecordId, SubjectId};
use crate::purpose::{PurposeId, PurposeRef};

/// One retention rule for a host kind (and one of its declared purposes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostRule {
    /// The host kind's name.
    pub kind: &'static str,
    /// The purpose's name.
    pub purpose: &'static str,
    /// How long after the trigger.
    pub period: Period,
    /// Counted from.
    pub trigger: Trigger,
    /// A longer legal minimum, if any.
    pub legal_minimum: Option<LegalMinimum>,
}

/// A longer period required by law, counted from collection; overrides the rule when later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LegalMinimum {
    /// The period.
    pub period: Period,
    /// The law that requires it (a reference, e.g. "commercial code, 10 years").
    pub reference: String,
}

/// One retention rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rule {
    /// The kind.
    pub kind: Category,
    /// The purpose.
    pub purpose: PurposeId,
    /// How long after the trigger.
    pub period: Period,
    /// Counted from.
    pub trigger: Trigger,
    /// A longer legal minimum, if any.
    pub legal_minimum: Option<LegalMinimum>,
}

/// Why a schedule was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScheduleError {
    /// Two rules for the same kind and purpose.
    #[error("two rules for {kind} / {purpose}")]
    Overlap {
        /// Kind.
        kind: &'static str,
        /// Purpose.
        purpose: &'static str,
    },
    /// A period of zero length.
    #[error("the rule for {kind} / {purpose} has an empty period")]
    EmptyPeriod {
        /// Kind.
        kind: &'static str,
        /// Purpose.
        purpose: &'static str,
    },
    /// The policy table does not allow this kind for this purpose.
    #[error("the policy does not allow {kind} for {purpose}")]
    NotPermitted {
        /// Kind.
        kind: &'static str,
        /// Purpose.
        purpose: &'static str,
    },
    /// A built-in kind has no rule at all.
    #[error("no retention rule for {0}")]
    MissingKind(&'static str),
}

/// Builds a validated [`Schedule`].
#[derive(Debug, Default)]
#[must_use]
pub struct ScheduleBuilder {
    rules: Vec<Rule>,
    host_rules: Vec<HostRule>,
}

impl ScheduleBuilder {
    /// Adds a rule for a built-in kind and purpose or, with a [`KindRef::Host`] kind, for a
    /// host kind and one of the purposes its [`host_policy!`](crate::host_policy) declares
    /// (a host kind without a rule for a declared purpose gets its declared rule).
    pub fn rule(
        self,
        kind: impl Into<KindRef>,
        purpose: impl Into<PurposeRef>,
        period: Period,
        trigger: Trigger,
    ) -> Self {
        self.push(kind.into(), purpose.into(), period, trigger, None)
    }

    /// Adds a rule with a legal minimum.
    pub fn rule_with_minimum(
        self,
        kind: impl Into<KindRef>,
        purpose: impl Into<PurposeRef>,
        period: Period,
        trigger: Trigger,
        minimum: LegalMinimum,
    ) -> Self {
        self.push(kind.into(), purpose.into(), period, trigger, Some(minimum))
    }

    fn push(
        mut self,
        kind: KindRef,
        purpose: PurposeRef,
        period: Period,
        trigger: Trigger,
        legal_minimum: Option<LegalMinimum>,
    ) -> Self {
        match (kind, purpose) {
            (KindRef::Builtin(kind), PurposeRef::Builtin(purpose)) => self.rules.push(Rule {
                kind,
                purpose,
                period,
                trigger,
                legal_minimum,
            }),
            (kind, purpose) => self.host_rules.push(HostRule {
                kind: kind.name(),
                purpose: purpose_name(purpose),
                period,
                trigger,
                legal_minimum,
            }),
        }
        self
    }

    /// Checks the host rules and adds each registered host kind's declared rule for the
    /// declared purposes no rule covers.
    fn host_rules(&mut self) -> Result<(), ScheduleError> {
        for (i, r) in self.host_rules.iter().enumerate() {
            let (k, p) = (r.kind, r.purpose);
            let declared = crate::policy::host::kind(k)
                .is_some_and(|row| row.purposes().iter().any(|d| d.name == p));
            if !declared {
                return Err(ScheduleError::NotPermitted {
                    kind: k,
                    purpose: p,
                });
            }
            if r.period.is_empty()
                || r.legal_minimum
                    .as_ref()
                    .is_some_and(|m| m.period.is_empty())
            {
                return Err(ScheduleError::EmptyPeriod {
                    kind: k,
                    purpose: p,
                });
            }
            if self
                .host_rules
                .iter()
                .skip(i + 1)
                .any(|o| o.kind == k && o.purpose == p)
            {
                return Err(ScheduleError::Overlap {
                    kind: k,
                    purpose: p,
                });
            }
        }
        for row in crate::policy::host::kinds() {
            for p in row.purposes() {
                if !self
                    .host_rules
                    .iter()
                    .any(|r| r.kind == row.name() && r.purpose == p.name)
                {
                    let rule = row.retention();
                    if rule.period().is_empty() {
                        return Err(ScheduleError::EmptyPeriod {
                            kind: row.name(),
                            purpose: p.name,
                        });
                    }
                    self.host_rules.push(HostRule {
                        kind: row.name(),
                        purpose: p.name,
                        period: rule.period(),
                        trigger: rule.trigger(),
                        legal_minimum: None,
                    });
                }
            }
        }
        Ok(())
    }

    /// Validates and builds.
    ///
    /// # Errors
    /// [`ScheduleError`] for overlapping rules, empty periods, pairs the policy does not
    /// allow (for host kinds: a purpose their `host_policy!` does not declare), and
    /// built-in kinds with no rule.
    pub fn build(mut self) -> Result<Schedule, ScheduleError> {
        self.host_rules()?;
        let mut index = [[u16::MAX; 16]; 16];
        for (i, r) in self.rules.iter().enumerate() {
            let (k, p) = (r.kind.name(), r.purpose.name());
            if !crate::policy::permits(r.kind, r.purpose) {
                return Err(ScheduleError::NotPermitted {
                    kind: k,
                    purpose: p,
                });
            }
            if r.period.is_empty() {
                return Err(ScheduleError::EmptyPeriod {
                    kind: k,
                    purpose: p,
                });
            }
            if let Some(m) = &r.legal_minimum {
                if m.period.is_empty() {
                    return Err(ScheduleError::EmptyPeriod {
                        kind: k,
                        purpose: p,
                    });
                }
            }
            let slot = index
                .get_mut(usize::from(r.kind.code()))
                .and_then(|row| row.get_mut(usize::from(r.purpose.code())))
                .ok_or(ScheduleError::NotPermitted {
                    kind: k,
                    purpose: p,
                })?;
            if *slot != u16::MAX {
                return Err(ScheduleError::Overlap {
                    kind: k,
                    purpose: p,
                });
            }
            *slot = u16::try_from(i).unwrap_or(u16::MAX - 1);
        }
        for &c in Category::ALL {
            if !self.rules.iter().any(|r| r.kind == c) {
                return Err(ScheduleError::MissingKind(c.name()));
            }
        }
        Ok(Schedule {
            rules: self.rules,
            host_rules: self.host_rules,
            index,
        })
    }
}

/// The name of a purpose, built-in or host.
const fn purpose_name(p: PurposeRef) -> &'static str {
    match p {
        PurposeRef::Builtin(p) => p.name(),
        PurposeRef::Host(n) => n,
    }
}

/// A validated retention schedule with O(1) rule lookup.
#[derive(Debug, Clone)]
pub struct Schedule {
    rules: Vec<Rule>,
    host_rules: Vec<HostRule>,
    index: [[u16; 16]; 16],
}

/// What a record's retention depends on: instants only, no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordMeta {
    /// Record id.
    pub record: RecordId,
    /// Owner.
    pub subject: SubjectId,
    /// Kind.
    pub kind: Category,
    /// The purpose it is kept for.
    pub purpose: PurposeId,
    /// Collected at.
    pub collected_at: DateTime<Utc>,
    /// The subject's last activity.
    pub last_activity_at: Option<DateTime<Utc>>,
    /// Account closed at.
    pub account_closed_at: Option<DateTime<Utc>>,
    /// Consent withdrawn at.
    pub consent_withdrawn_at: Option<DateTime<Utc>>,
    /// Purpose fulfilled at.
    pub purpose_fulfilled_at: Option<DateTime<Utc>>,
}

impl RecordMeta {
    #[inline]
    const fn trigger_time(&self, t: Trigger) -> Option<DateTime<Utc>> {
        match t {
            Trigger::Collected => Some(self.collected_at),
            Trigger::LastActivity => match self.last_activity_at {
                Some(a) => Some(a),
                None => Some(self.collected_at),
            },
            Trigger::AccountClosed => self.account_closed_at,
            Trigger::ConsentWithdrawn => self.consent_withdrawn_at,
            Trigger::PurposeFulfilled => self.purpose_fulfilled_at,
        }
    }
}

/// A legal hold: suspends deletion for a subject and/or a kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hold {
    /// Hold id (a case reference).
    pub id: String,
    /// Only this subject, if set.
    pub subject: Option<SubjectId>,
    /// Only this kind, if set.
    pub kind: Option<Category>,
    /// Placed at.
    pub placed_at: DateTime<Utc>,
    /// Lifted at.
    pub lifted_at: Option<DateTime<Utc>>,
}

impl Hold {
    #[inline]
    fn applies(&self, m: &RecordMeta, now: DateTime<Utc>) -> bool {
        self.placed_at <= now
            && self.lifted_at.is_none_or(|l| now < l)
            && self.subject.is_none_or(|s| s == m.subject)
            && self.kind.is_none_or(|k| k == m.kind)
    }
}

/// Which rule decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Decided {
    /// Index of the rule in the schedule.
    pub rule: usize,
    /// Whether the rule's legal minimum (not its own period) decided.
    pub by_legal_minimum: bool,
}

/// The retention decision for a record at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// Keep until this instant.
    Keep {
        /// The deadline.
        until: DateTime<Utc>,
        /// The rule.
        decided: Decided,
    },
    /// Keep: the trigger has not happened yet.
    AwaitingTrigger {
        /// The trigger.
        trigger: Trigger,
        /// The rule.
        decided: Decided,
    },
    /// Delete: due since this instant.
    Delete {
        /// Due since.
        since: DateTime<Utc>,
        /// The rule.
        decided: Decided,
    },
    /// Deletion suspended by a legal hold (index into the holds given).
    Held {
        /// The hold.
        hold: usize,
    },
    /// No rule covers this (kind, purpose): keep, and fix the schedule.
    NoRule,
}

impl Schedule {
    /// The rules.
    #[must_use]
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The default schedule of the policy table: for every allowed (kind, purpose), the
    /// table's period after the last update (statistics data, cookies) or 30 days after the
    /// account closes (everything kept while the account exists).
    ///
    /// # Errors
    /// Only if the policy table itself is inconsistent (a test guards it).
    pub fn default_for_policy() -> Result<Self, ScheduleError> {
        default_schedule(crate::policy::retention_months)
    }

    /// Decides for one record at `now`.
    #[must_use]
    #[inline]
    pub fn evaluate(&self, m: &RecordMeta, holds: &[Hold], now: DateTime<Utc>) -> Decision {
        let Some(rule_ix) = self
            .index
            .get(usize::from(m.kind.code()))
            .and_then(|row| row.get(usize::from(m.purpose.code())))
            .copied()
            .filter(|&i| i != u16::MAX)
        else {
            return Decision::NoRule;
        };
        let rule_ix = usize::from(rule_ix);
        let Some(rule) = self.rules.get(rule_ix) else {
            return Decision::NoRule;
        };
        decide(
            rule_ix,
            rule.period,
            rule.trigger,
            rule.legal_minimum.as_ref(),
            m.trigger_time(rule.trigger),
            m.collected_at,
            || holds.iter().position(|h| h.applies(m, now)),
            now,
        )
    }

    /// The rules for host kinds (declared or given to the builder).
    #[must_use]
    pub fn host_rules(&self) -> &[HostRule] {
        &self.host_rules
    }

    /// Decides for one record of a host kind, kept for host-declared or built-in purpose
    /// `purpose`, at `now`: as [`evaluate`](Self::evaluate) (a hold applies when it names
    /// the subject and no built-in kind). `Decided::rule` indexes
    /// [`host_rules`](Self::host_rules).
    #[must_use]
    #[expect(
        clippy::too_many_arguments,
        reason = "a host record's metadata has no typed kind to carry it in RecordMeta"
    )]
    pub fn evaluate_host(
        &self,
        kind: &str,
        purpose: &str,
        subject: SubjectId,
        collected_at: DateTime<Utc>,
        last_activity_at: Option<DateTime<Utc>>,
        holds: &[Hold],
        now: DateTime<Utc>,
    ) -> Decision {
        let Some((rule_ix, rule)) = self
            .host_rules
            .iter()
            .enumerate()
            .find(|(_, r)| r.kind == kind && r.purpose == purpose)
        else {
            return Decision::NoRule;
        };
        let at = match rule.trigger {
            Trigger::Collected => Some(collected_at),
            Trigger::LastActivity => Some(last_activity_at.unwrap_or(collected_at)),
            Trigger::AccountClosed | Trigger::ConsentWithdrawn | Trigger::PurposeFulfilled => None,
        };
        decide(
            rule_ix,
            rule.period,
            rule.trigger,
            rule.legal_minimum.as_ref(),
            at,
            collected_at,
            || {
                holds.iter().position(|h| {
                    h.placed_at <= now
                        && h.lifted_at.is_none_or(|l| now < l)
                        && h.subject.is_none_or(|s| s == subject)
                        && h.kind.is_none()
                })
            },
            now,
        )
    }
}

/// The decision of one rule: its own deadline, or a later legal minimum, then holds.
#[expect(
    clippy::too_many_arguments,
    reason = "the rule's parts and the record's instants, shared by built-in and host rules"
)]
#[inline]
fn decide(
    rule_ix: usize,
    period: Period,
    trigger: Trigger,
    legal_minimum: Option<&LegalMinimum>,
    trigger_time: Option<DateTime<Utc>>,
    collected_at: DateTime<Utc>,
    held: impl FnOnce() -> Option<usize>,
    now: DateTime<Utc>,
) -> Decision {
    {
        let own = match trigger_time {
            Some(t) => period.after(t),
            None => {
                return Decision::AwaitingTrigger {
                    trigger,
                    decided: Decided {
                        rule: rule_ix,
                        by_legal_minimum: false,
                    },
                };
            }
        };
        // A legal minimum past the representable range keeps the record for good: it is
        // never dropped (which would delete early).
        let legal = legal_minimum.map(|l| {
            l.period
                .after(collected_at)
                .unwrap_or(DateTime::<Utc>::MAX_UTC)
        });
        let (deadline, by_legal_minimum) = match (own, legal) {
            (Some(o), Some(l)) if l > o => (l, true),
            (Some(o), _) => (o, false),
            (None, _) => {
                return Decision::Keep {
                    until: DateTime::<Utc>::MAX_UTC,
                    decided: Decided {
                        rule: rule_ix,
                        by_legal_minimum: false,
                    },
                };
            }
        };
        let decided = Decided {
            rule: rule_ix,
            by_legal_minimum,
        };
        if now < deadline {
            return Decision::Keep {
                until: deadline,
                decided,
            };
        }
        if let Some(h) = held() {
            return Decision::Held { hold: h };
        }
        Decision::Delete {
            since: deadline,
            decided,
        }
    }
}

/// The default schedule with `months_of(kind)` as each kind's period after the last
/// update (`None`: kept while the account exists, deleted 30 days after it closes), and
/// each registered host kind's declared rule.
///
/// # Errors
/// Only if the policy table itself is inconsistent (a test guards it).
pub fn default_schedule(
    months_of: impl Fn(Category) -> Option<u32>,
) -> Result<Schedule, ScheduleError> {
    default_schedule_with(months_of, |_| None)
}

/// [`default_schedule`], with `host_months_of(host kind name)` overriding a host kind's
/// declared rule by a period of that many months after the last update.
///
/// # Errors
/// As [`default_schedule`]; an override of zero months is [`ScheduleError::EmptyPeriod`].
pub fn default_schedule_with(
    months_of: impl Fn(Category) -> Option<u32>,
    host_months_of: impl Fn(&str) -> Option<u32>,
) -> Result<Schedule, ScheduleError> {
    let mut b = ScheduleBuilder::default();
    for row in crate::policy::host::kinds() {
        if let Some(m) = host_months_of(row.name()) {
            for p in row.purposes() {
                b.host_rules.push(HostRule {
                    kind: row.name(),
                    purpose: p.name,
                    period: Period::months(m),
                    trigger: Trigger::LastActivity,
                    legal_minimum: None,
                });
            }
        }
    }
    for &c in Category::ALL {
        let months = months_of(c);
        for &p in PurposeId::ALL {
            if crate::policy::permits(c, p) {
                b = match months {
                    Some(m) => b.rule(c, p, Period::months(m), Trigger::LastActivity),
                    None => b.rule(c, p, Period::days(30), Trigger::AccountClosed),
                };
            }
        }
    }
    b.build()
}

/// What the decisions of every allowed purpose of one record add up to.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Verdict {
    /// Every rule released the record (and at least one rule applied): delete it.
    pub delete: bool,
    /// The latest deadline among the rules (`None` while a trigger is awaited).
    pub deadline: Option<DateTime<Utc>>,
    /// The hold that suspended deletion, if any (its index in the holds given).
    pub held_by: Option<usize>,
}

/// Folds the decisions for one record's allowed purposes: a record is deleted only when
/// every rule that applies releases it.
#[must_use]
pub fn fold(decisions: impl IntoIterator<Item = Decision>) -> Verdict {
    let (mut deadline, mut all_release, mut awaiting, mut any_rule, mut held_by) =
        (None, true, false, false, None);
    for d in decisions {
        match d {
            Decision::Delete { since, .. } => {
                any_rule = true;
                deadline = deadline.max(Some(since));
            }
            Decision::Keep { until, .. } => {
                any_rule = true;
                all_release = false;
                deadline = deadline.max(Some(until));
            }
            Decision::AwaitingTrigger { .. } => {
                any_rule = true;
                all_release = false;
                awaiting = true;
            }
            Decision::Held { hold } => {
                any_rule = true;
                all_release = false;
                held_by = Some(hold);
            }
            Decision::NoRule => {}
        }
    }
    Verdict {
        delete: any_rule && all_release,
        deadline: if awaiting { None } else { deadline },
        held_by,
    }
}

/// What happens to one record under an erasure request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum PlanLine {
    /// Deleted from primary storage by this instant.
    Delete {
        /// Record.
        record: RecordId,
        /// Kind.
        kind: &'static str,
        /// Deadline (without undue delay; at most one month, GDPR Art. 12(3)).
        by: DateTime<Utc>,
    },
    /// Kept, and why.
    Keep {
        /// Record.
        record: RecordId,
        /// Kind.
        kind: &'static str,
        /// Why.
        reason: KeepReason,
    },
}

/// Why a record survives an erasure request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "why", rename_all = "snake_case")]
pub enum KeepReason {
    /// A law requires keeping it until then.
    LegalMinimum {
        /// Until.
        until: DateTime<Utc>,
        /// The law.
        reference: String,
    },
    /// Immutable for commercial or legal purposes (clause 6.1).
    Immutable {
        /// `commercial` or `legal`.
        basis: &'static str,
    },
    /// Under a legal hold.
    Hold {
        /// Hold id.
        id: String,
    },
}

/// An erasure plan the host can show the subject (clause 6.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErasurePlan {
    /// The subject.
    pub subject: SubjectId,
    /// When the request was received.
    pub requested_at: DateTime<Utc>,
    /// One line per record.
    pub lines: Vec<PlanLine>,
    /// Whether the subject's data key is destroyed (backups unreadable at once).
    pub keys_shredded: bool,
    /// When the last backup copy ages out (request + backup window).
    pub backups_age_out_by: DateTime<Utc>,
}

impl ErasurePlan {
    /// Plans erasure of `records` (all of one subject) requested at `requested_at`.
    /// `immutable` lists kinds kept for commercial or legal reasons; `deadline` is how soon
    /// primary copies go (at most one month, GDPR Art. 12(3)).
    #[must_use]
    #[expect(
        clippy::too_many_arguments,
        reason = "each input is a distinct fact of the plan"
    )]
    pub fn build(
        subject: SubjectId,
        records: &[RecordMeta],
        schedule: &Schedule,
        holds: &[Hold],
        immutable: &[(Category, &'static str)],
        requested_at: DateTime<Utc>,
        deadline: TimeDelta,
        backup_window: TimeDelta,
    ) -> Self {
        let by = requested_at
            .checked_add_signed(deadline.clamp(TimeDelta::zero(), TimeDelta::days(30)))
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        let mut lines = Vec::with_capacity(records.len());
        let mut shreddable = true;
        for m in records.iter().filter(|m| m.subject == subject) {
            let kind = m.kind.name();
            let keep = if let Some(h) = holds.iter().find(|h| h.applies(m, requested_at)) {
                Some(KeepReason::Hold { id: h.id.clone() })
            } else if let Some((_, basis)) = immutable.iter().find(|(c, _)| *c == m.kind) {
                Some(KeepReason::Immutable { basis })
            } else {
                schedule
                    .rules
                    .iter()
                    .find(|r| r.kind == m.kind && r.purpose == m.purpose)
                    .and_then(|r| {
                        let l = r.legal_minimum.as_ref()?;
                        // Past the representable range: kept for good, never dropped.
                        let until = l
                            .period
                            .after(m.collected_at)
                            .unwrap_or(DateTime::<Utc>::MAX_UTC);
                        (until > requested_at).then(|| KeepReason::LegalMinimum {
                            until,
                            reference: l.reference.clone(),
                        })
                    })
            };
            match keep {
                Some(reason) => {
                    shreddable = false;
                    lines.push(PlanLine::Keep {
                        record: m.record,
                        kind,
                        reason,
                    });
                }
                None => lines.push(PlanLine::Delete {
                    record: m.record,
                    kind,
                    by,
                }),
            }
        }
        Self {
            subject,
            requested_at,
            lines,
            keys_shredded: shreddable,
            backups_age_out_by: requested_at
                .checked_add_signed(backup_window)
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
        }
    }

    /// A plain-text table (no personal data).
    #[must_use]
    pub fn to_table(&self) -> String {
        use std::fmt::Write as _;
        let mut s = format!(
            "erasure plan for {} (requested {})\n",
            self.subject,
            self.requested_at.format("%Y-%m-%d")
        );
        for l in &self.lines {
            let _ = match l {
                PlanLine::Delete { record, kind, by } => writeln!(
                    s,
                    "  delete {record} {kind:<18} by {}",
                    by.format("%Y-%m-%d")
                ),
                PlanLine::Keep {
                    record,
                    kind,
                    reason,
                } => writeln!(s, "  keep   {record} {kind:<18} {reason:?}"),
            };
        }
        let _ = writeln!(
            s,
            "  keys shredded: {}; backups age out by {}",
            self.keys_shredded,
            self.backups_age_out_by.format("%Y-%m-%d")
        );
        s
    }
}
