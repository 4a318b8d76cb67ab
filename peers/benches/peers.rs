//! The same purpose rule decided by `cedar-policy` and by crm-privacy, in one criterion run.
//!
//! Rule: *an email address may be read for notification, for its own subject, while consent
//! (and the grant) is in force.*
//!
//! - Cedar: one `permit` policy over a `Component` principal, a `notify` action and an `Email`
//!   resource whose `owner` attribute must equal the subject in the request context, with the
//!   consent flag and the grant's expiry in the context. The request, the entities and the
//!   policy set are built once ("prebuilt request"); only `Authorizer::is_authorized` is timed.
//! - Ours, runtime: `policy::permits(Email, Notification)` (the table the tokens and the C ABI
//!   use) and `Grant::check` (subject, expiry, revocation, and the consent/restriction/erasure
//!   epoch of a grant issued through a `ConsentRegistry`).
//! - Ours, typed: `Personal<Email>::expose(&Grant<Notification>, now)` (the pair is checked by
//!   the compiler; the run time checks the rest).
//! - Ours, consent-gated for real: `Grant<Authentication>::check` where the registry gates the
//!   grant on an active Google link consent (clause 3.3).
//!
//! `cargo bench --manifest-path peers/Cargo.toml -- --warm-up-time 1 --measurement-time 3`
#![allow(missing_docs, clippy::unwrap_used, reason = "benchmark")]

use std::hint::black_box;
use std::str::FromStr;

use cedar_policy::{
    Authorizer, Context, Decision, Entities, EntityUid, PolicySet, Request, RestrictedExpression,
};
use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};
use crm_privacy::consent::ConsentRegistry;
use crm_privacy::custodian::{CollectionMethod, ConsentScope};
use crm_privacy::{
    Authentication, Category, Email, Notification, Personal, PurposeId, SubjectId, policy,
};

const POLICY: &str = r#"
permit(
    principal is Component,
    action == Action::"notify",
    resource is Email
) when {
    resource.owner == context.subject &&
    context.consent &&
    context.now < context.expires
};
"#;

const ENTITIES: &str = r#"[
  { "uid": { "type": "Email", "id": "record-1" },
    "attrs": { "owner": { "__entity": { "type": "Subject", "id": "alice" } } },
    "parents": [] },
  { "uid": { "type": "Subject", "id": "alice" }, "attrs": {}, "parents": [] },
  { "uid": { "type": "Component", "id": "mailer" }, "attrs": {}, "parents": [] }
]"#;

fn cedar_request() -> (Authorizer, PolicySet, Entities, Request) {
    let policies = PolicySet::from_str(POLICY).unwrap();
    let entities = Entities::from_json_str(ENTITIES, None).unwrap();
    let now = 1_000_i64;
    let context = Context::from_pairs([
        (
            "subject".to_owned(),
            RestrictedExpression::new_entity_uid(
                EntityUid::from_str(r#"Subject::"alice""#).unwrap(),
            ),
        ),
        ("consent".to_owned(), RestrictedExpression::new_bool(true)),
        ("now".to_owned(), RestrictedExpression::new_long(now)),
        (
            "expires".to_owned(),
            RestrictedExpression::new_long(now + 300),
        ),
    ])
    .unwrap();
    let request = Request::new(
        EntityUid::from_str(r#"Component::"mailer""#).unwrap(),
        EntityUid::from_str(r#"Action::"notify""#).unwrap(),
        EntityUid::from_str(r#"Email::"record-1""#).unwrap(),
        context,
        None,
    )
    .unwrap();
    (Authorizer::new(), policies, entities, request)
}

fn purpose_rule(c: &mut Criterion) {
    let (authorizer, policies, entities, request) = cedar_request();
    assert_eq!(
        authorizer
            .is_authorized(&request, &policies, &entities)
            .decision(),
        Decision::Allow
    );

    let registry = ConsentRegistry::new();
    let issuer = registry.issuer_builder().build().unwrap();
    let alice = SubjectId::new_random();
    let now = Utc::now();
    registry.give(
        alice,
        ConsentScope::GoogleLink,
        CollectionMethod::Api,
        1,
        now,
    );
    let grant = issuer.issue::<Notification>(alice, "mailer", now).unwrap();
    let auth = issuer.issue::<Authentication>(alice, "login", now).unwrap();
    let email = Personal::new(alice, Email::parse("alice@example.com").unwrap());
    let notification = PurposeId::Notification;
    assert!(policy::permits(Category::Email, notification));

    let mut g = c.benchmark_group("purpose_rule");
    g.bench_function("cedar_is_authorized_prebuilt_request", |b| {
        b.iter(|| {
            black_box(
                authorizer
                    .is_authorized(black_box(&request), &policies, &entities)
                    .decision(),
            )
        });
    });
    g.bench_function("ours_runtime_table_and_grant_check", |b| {
        b.iter(|| {
            assert!(policy::permits(
                black_box(Category::Email),
                black_box(notification)
            ));
            black_box(&grant).check(black_box(alice), now).unwrap();
        });
    });
    g.bench_function("ours_typed_expose", |b| {
        b.iter(|| {
            black_box(black_box(&email).expose(black_box(&grant), now).unwrap());
        });
    });
    g.bench_function("ours_consent_gated_check", |b| {
        b.iter(|| black_box(&auth).check(black_box(alice), now).unwrap());
    });
    g.finish();
}

criterion_group!(benches, purpose_rule);
criterion_main!(benches);
