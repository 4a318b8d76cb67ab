#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]
//! Retention schedule and calculator (clause 9.1) and erasure plans (clause 6.2).

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, TimeZone, Utc};
use crm_privacy::retention::*;
use crm_privacy::*;
use proptest::prelude::*;

fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 9, 30, 0).unwrap()
}

fn meta(kind: Category, purpose: PurposeId, collected: DateTime<Utc>) -> RecordMeta {
    RecordMeta {
        record: RecordId::new_random(),
        subject: SubjectId::new_random(),
        kind,
        purpose,
        collected_at: collected,
        last_activity_at: None,
        account_closed_at: None,
        consent_withdrawn_at: None,
        purpose_fulfilled_at: None,
    }
}

/// Every built-in kind with one allowed purpose, each with a rule; `extra` overrides one.
fn schedule_with(
    kind: Category,
    purpose: PurposeId,
    period: Period,
    trigger: Trigger,
    min: Option<LegalMinimum>,
) -> Schedule {
    let mut b = ScheduleBuilder::default();
    for &c in Category::ALL {
        let p = if c == kind {
            purpose
        } else {
            *PurposeId::ALL
                .iter()
                .find(|&&p| policy::permits(c, p))
                .unwrap()
        };
        b = match (c == kind, &min) {
            (true, Some(m)) => b.rule_with_minimum(c, p, period, trigger, m.clone()),
            (true, None) => b.rule(c, p, period, trigger),
            (false, _) => b.rule(c, p, Period::months(1), Trigger::Collected),
        };
    }
    b.build().unwrap()
}

#[test]
fn every_trigger() {
    let t0 = at(2026, 3, 10);
    for (trigger, set) in [
        (Trigger::Collected, 0),
        (Trigger::LastActivity, 1),
        (Trigger::AccountClosed, 2),
        (Trigger::ConsentWithdrawn, 3),
        (Trigger::PurposeFulfilled, 4),
    ] {
        let s = schedule_with(
            Category::IpAddress,
            PurposeId::Analytics,
            Period::days(10),
            trigger,
            None,
        );
        let mut m = meta(Category::IpAddress, PurposeId::Analytics, t0);
        let event = t0 + TimeDelta::days(5);
        if set > 0 {
            // Before the trigger happens the record is kept, waiting for it (except last
            // activity, which falls back to collection).
            let d = s.evaluate(&m, &[], event + TimeDelta::days(400));
            if trigger == Trigger::LastActivity {
                assert!(
                    matches!(d, Decision::Delete { since, .. } if since == t0 + TimeDelta::days(10))
                );
            } else {
                assert!(
                    matches!(d, Decision::AwaitingTrigger { trigger: t, .. } if t == trigger),
                    "{trigger:?}: {d:?}"
                );
            }
        }
        match set {
            1 => m.last_activity_at = Some(event),
            2 => m.account_closed_at = Some(event),
            3 => m.consent_withdrawn_at = Some(event),
            4 => m.purpose_fulfilled_at = Some(event),
            _ => {}
        }
        let base = if set == 0 { t0 } else { event };
        let deadline = base + TimeDelta::days(10);
        assert!(
            matches!(s.evaluate(&m, &[], deadline - TimeDelta::seconds(1)), Decision::Keep { until, .. } if until == deadline),
            "{trigger:?}"
        );
        assert!(
            matches!(s.evaluate(&m, &[], deadline), Decision::Delete { since, .. } if since == deadline),
            "{trigger:?}"
        );
    }
}

#[test]
fn legal_minimum_overrides_only_when_later() {
    let min = LegalMinimum {
        period: Period::months(120),
        reference: "commercial code: 10 years".into(),
    };
    let s = schedule_with(
        Category::CustomerRecord,
        PurposeId::CustomerManagement,
        Period::days(30),
        Trigger::AccountClosed,
        Some(min),
    );
    let mut m = meta(
        Category::CustomerRecord,
        PurposeId::CustomerManagement,
        at(2020, 1, 15),
    );
    m.account_closed_at = Some(at(2021, 6, 1));
    match s.evaluate(&m, &[], at(2022, 1, 1)) {
        Decision::Keep { until, decided } => {
            assert_eq!(until, at(2030, 1, 15));
            assert!(decided.by_legal_minimum, "the legal minimum decided");
        }
        d => panic!("{d:?}"),
    }
    // Closed late: the rule's own deadline is later than the legal minimum and decides.
    m.account_closed_at = Some(at(2030, 6, 1));
    match s.evaluate(&m, &[], at(2030, 6, 2)) {
        Decision::Keep { until, decided } => {
            assert_eq!(until, at(2030, 7, 1));
            assert!(!decided.by_legal_minimum);
        }
        d => panic!("{d:?}"),
    }
}

#[test]
fn holds_suspend_deletion_while_in_force() {
    let s = schedule_with(
        Category::IpAddress,
        PurposeId::Troubleshooting,
        Period::days(1),
        Trigger::Collected,
        None,
    );
    let m = meta(
        Category::IpAddress,
        PurposeId::Troubleshooting,
        at(2026, 1, 1),
    );
    let holds = vec![
        Hold {
            id: "case-other-subject".into(),
            subject: Some(SubjectId::new_random()),
            kind: None,
            placed_at: at(2025, 1, 1),
            lifted_at: None,
        },
        Hold {
            id: "case-42".into(),
            subject: None,
            kind: Some(Category::IpAddress),
            placed_at: at(2026, 1, 5),
            lifted_at: Some(at(2026, 2, 1)),
        },
    ];
    assert!(
        matches!(
            s.evaluate(&m, &holds, at(2026, 1, 3)),
            Decision::Delete { .. }
        ),
        "hold not yet placed"
    );
    assert_eq!(
        s.evaluate(&m, &holds, at(2026, 1, 10)),
        Decision::Held { hold: 1 }
    );
    assert!(
        matches!(
            s.evaluate(&m, &holds, at(2026, 2, 1)),
            Decision::Delete { .. }
        ),
        "hold lifted"
    );
}

#[test]
fn month_end_and_leap_day() {
    assert_eq!(
        Period::months(1).after(at(2027, 1, 31)),
        Some(at(2027, 2, 28))
    );
    assert_eq!(
        Period::months(1).after(at(2028, 1, 31)),
        Some(at(2028, 2, 29))
    );
    assert_eq!(
        Period::months(12).after(at(2028, 2, 29)),
        Some(at(2029, 2, 28))
    );
    assert_eq!(
        Period::months(48).after(at(2028, 2, 29)),
        Some(at(2032, 2, 29))
    );
    assert_eq!(
        Period { months: 1, days: 1 }.after(at(2027, 1, 31)),
        Some(at(2027, 3, 1))
    );
    assert_eq!(
        Period::days(366).after(at(2028, 1, 1)),
        Some(at(2029, 1, 1))
    );
}

#[test]
fn invalid_schedules_are_refused() {
    let full = || {
        let mut b = ScheduleBuilder::default();
        for &c in Category::ALL {
            let p = *PurposeId::ALL
                .iter()
                .find(|&&p| policy::permits(c, p))
                .unwrap();
            b = b.rule(c, p, Period::months(1), Trigger::Collected);
        }
        b
    };
    assert!(full().build().is_ok());
    let e = full()
        .rule(
            Category::IpAddress,
            PurposeId::Analytics,
            Period::days(3),
            Trigger::Collected,
        )
        .build()
        .unwrap_err();
    assert_eq!(
        e,
        ScheduleError::Overlap {
            kind: "ip_address",
            purpose: "analytics"
        }
    );
    let e = full()
        .rule(
            Category::Phone,
            PurposeId::SupportContact,
            Period::days(0),
            Trigger::Collected,
        )
        .build()
        .unwrap_err();
    assert_eq!(
        e,
        ScheduleError::EmptyPeriod {
            kind: "phone",
            purpose: "support_contact"
        }
    );
    let e = full()
        .rule(
            Category::Phone,
            PurposeId::Analytics,
            Period::days(3),
            Trigger::Collected,
        )
        .build()
        .unwrap_err();
    assert_eq!(
        e,
        ScheduleError::NotPermitted {
            kind: "phone",
            purpose: "analytics"
        }
    );
    let e = ScheduleBuilder::default()
        .rule(
            Category::Email,
            PurposeId::Notification,
            Period::days(3),
            Trigger::Collected,
        )
        .build()
        .unwrap_err();
    assert!(matches!(e, ScheduleError::MissingKind(_)));
    assert!(!e.to_string().is_empty());
}

#[test]
fn default_schedule_covers_the_policy_table() {
    let s = Schedule::default_for_policy().unwrap();
    let m = meta(Category::IpAddress, PurposeId::Analytics, at(2027, 1, 31));
    // 13 months after Jan 31 2027 = Feb 29 2028.
    assert!(
        matches!(s.evaluate(&m, &[], at(2028, 2, 28)), Decision::Keep { until, .. } if until == at(2028, 2, 29))
    );
    let e = meta(Category::Email, PurposeId::Notification, at(2027, 1, 31));
    assert!(matches!(
        s.evaluate(&e, &[], at(2040, 1, 1)),
        Decision::AwaitingTrigger {
            trigger: Trigger::AccountClosed,
            ..
        }
    ));
}

#[test]
fn erasure_plan_keeps_what_law_or_holds_require() {
    let subject = SubjectId::new_random();
    let min = LegalMinimum {
        period: Period::months(120),
        reference: "commercial code: 10 years".into(),
    };
    let s = schedule_with(
        Category::CustomerRecord,
        PurposeId::CustomerManagement,
        Period::days(30),
        Trigger::AccountClosed,
        Some(min),
    );
    let mut recs = vec![
        meta(Category::Email, PurposeId::Notification, at(2025, 1, 1)),
        meta(
            Category::CustomerRecord,
            PurposeId::CustomerManagement,
            at(2025, 1, 1),
        ),
        meta(Category::IpAddress, PurposeId::Analytics, at(2025, 1, 1)),
        meta(
            Category::PersonName,
            PurposeId::AccountManagement,
            at(2025, 1, 1),
        ),
    ];
    for r in &mut recs {
        r.subject = subject;
    }
    let holds = vec![Hold {
        id: "case-7".into(),
        subject: Some(subject),
        kind: Some(Category::IpAddress),
        placed_at: at(2025, 6, 1),
        lifted_at: None,
    }];
    let plan = ErasurePlan::build(
        subject,
        &recs,
        &s,
        &holds,
        &[(Category::PersonName, "legal")],
        at(2026, 11, 24),
        TimeDelta::days(60),
        TimeDelta::days(35),
    );
    let by = at(2026, 11, 24) + TimeDelta::days(30);
    assert!(
        matches!(&plan.lines[0], PlanLine::Delete { by: b, .. } if *b == by),
        "at most one month"
    );
    assert!(
        matches!(&plan.lines[1], PlanLine::Keep { reason: KeepReason::LegalMinimum { until, .. }, .. } if *until == at(2035, 1, 1))
    );
    assert!(
        matches!(&plan.lines[2], PlanLine::Keep { reason: KeepReason::Hold { id }, .. } if id == "case-7")
    );
    assert!(matches!(
        &plan.lines[3],
        PlanLine::Keep {
            reason: KeepReason::Immutable { basis: "legal" },
            ..
        }
    ));
    assert!(!plan.keys_shredded, "kept records need the key");
    assert_eq!(
        plan.backups_age_out_by,
        at(2026, 11, 24) + TimeDelta::days(35)
    );
    let table = plan.to_table();
    assert!(table.contains("delete") && table.contains("keep"));
    assert!(
        serde_json::to_string(&plan)
            .unwrap()
            .contains("legal_minimum")
    );
}

/// A deliberately naive model: add months by stepping the calendar one month at a time
/// with explicit clamping, then days one at a time.
fn naive_after(from: DateTime<Utc>, p: Period) -> DateTime<Utc> {
    let d = from.date_naive();
    let (mut y, mut m) = (d.year(), d.month());
    for _ in 0..p.months {
        m += 1;
        if m == 13 {
            m = 1;
            y += 1;
        }
    }
    let mut day = d.day();
    while NaiveDate::from_ymd_opt(y, m, day).is_none() {
        day -= 1;
    }
    let mut out = NaiveDate::from_ymd_opt(y, m, day)
        .unwrap()
        .and_time(from.time())
        .and_utc();
    for _ in 0..p.days {
        out += TimeDelta::days(1);
    }
    out
}

proptest! {
    #[test]
    fn calculator_agrees_with_naive_model(
        months in 0_u32..60, days in 0_u32..400, trig in 0_usize..5,
        collected_days in 0_i64..3000, event_offset in proptest::option::of(0_i64..900),
        now_days in 0_i64..6000, min_months in proptest::option::of(1_u32..150),
    ) {
        prop_assume!(months + days > 0);
        let trigger = [Trigger::Collected, Trigger::LastActivity, Trigger::AccountClosed, Trigger::ConsentWithdrawn, Trigger::PurposeFulfilled][trig];
        let period = Period { months, days };
        let min = min_months.map(|m| LegalMinimum { period: Period::months(m), reference: "law".into() });
        let s = schedule_with(Category::DeviceInfo, PurposeId::Troubleshooting, period, trigger, min.clone());
        let base = at(2020, 1, 31);
        let mut m = meta(Category::DeviceInfo, PurposeId::Troubleshooting, base + TimeDelta::days(collected_days));
        let event = event_offset.map(|o| m.collected_at + TimeDelta::days(o));
        match trigger {
            Trigger::Collected => {}
            Trigger::LastActivity => m.last_activity_at = event,
            Trigger::AccountClosed => m.account_closed_at = event,
            Trigger::ConsentWithdrawn => m.consent_withdrawn_at = event,
            Trigger::PurposeFulfilled => m.purpose_fulfilled_at = event,
        }
        let now = base + TimeDelta::days(now_days);
        let start = match trigger {
            Trigger::Collected => Some(m.collected_at),
            Trigger::LastActivity => Some(event.unwrap_or(m.collected_at)),
            _ => event,
        };
        let got = s.evaluate(&m, &[], now);
        match start {
            None => prop_assert!(matches!(got, Decision::AwaitingTrigger { .. }), "expected to await the trigger, got {:?}", got),
            Some(st) => {
                let own = naive_after(st, period);
                let legal = min.as_ref().map(|l| naive_after(m.collected_at, l.period));
                let deadline = legal.filter(|l| *l > own).unwrap_or(own);
                if now < deadline {
                    prop_assert!(matches!(got, Decision::Keep { until, .. } if until == deadline), "{:?} vs {}", got, deadline);
                } else {
                    prop_assert!(matches!(got, Decision::Delete { since, .. } if since == deadline), "{:?} vs {}", got, deadline);
                }
            }
        }
    }
}
