//! Retention evaluation of 1 K to 10 M in-memory record metadata, against a loop doing only
//! a timestamp comparison per record (target ≥ 10 M records/s per core, linear in size).
//!
//! `cargo bench --bench retention`
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "benchmark"
)]

use std::hint::black_box;
use std::time::Duration;

use chrono::{TimeDelta, TimeZone, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use crm_privacy::retention::{Decision, RecordMeta, Schedule};
use crm_privacy::{Category, PurposeId, RecordId, SubjectId, policy};

fn records(n: usize) -> Vec<RecordMeta> {
    let pairs: Vec<(Category, PurposeId)> = Category::ALL
        .iter()
        .flat_map(|&c| {
            PurposeId::ALL
                .iter()
                .filter(move |&&p| policy::permits(c, p))
                .map(move |&p| (c, p))
        })
        .collect();
    let base = Utc.with_ymd_and_hms(2024, 1, 31, 8, 0, 0).unwrap();
    let subject = SubjectId::new_random();
    (0..n)
        .map(|i| {
            let (kind, purpose) = pairs[i % pairs.len()];
            let t = base + TimeDelta::minutes(i as i64 % 1_000_000);
            RecordMeta {
                record: RecordId::from_bytes((i as u128).to_be_bytes()),
                subject,
                kind,
                purpose,
                collected_at: t,
                last_activity_at: Some(t + TimeDelta::days(3)),
                account_closed_at: (i % 3 == 0).then(|| t + TimeDelta::days(200)),
                consent_withdrawn_at: None,
                purpose_fulfilled_at: None,
            }
        })
        .collect()
}

fn retention(c: &mut Criterion) {
    let schedule = Schedule::default_for_policy().unwrap();
    let now = Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap();
    for n in [1_000_usize, 10_000, 100_000, 1_000_000, 10_000_000] {
        let recs = records(n);
        let mut g = c.benchmark_group(format!("retention_{n}"));
        g.sample_size(10)
            .measurement_time(Duration::from_secs(if n > 1_000_000 { 20 } else { 3 }))
            .throughput(Throughput::Elements(n as u64));
        g.bench_function("baseline_timestamp_compare", |b| {
            b.iter(|| black_box(recs.iter().filter(|m| m.collected_at < now).count()));
        });
        g.bench_function("schedule_evaluate", |b| {
            b.iter(|| {
                black_box(
                    recs.iter()
                        .filter(|m| {
                            matches!(schedule.evaluate(m, &[], now), Decision::Delete { .. })
                        })
                        .count(),
                )
            });
        });
        g.finish();
    }
}

criterion_group!(benches, retention);
criterion_main!(benches);
