//! The same purpose rule decided by `cedar-policy` and by crm-privacy, in one criterion run.
//!
//! Rule: *an email address may be read for notification, for its own subject, while consent
//! (and the grant) is in force.*
//!
//! - Cedar: one `permit` policy over a `Component` principal, a `notify` action and an `Email`
//!   resource whose `owner` attribute must equal the subject in the request context, with the
//!   consent flag and the grant's expiry in the context. The request, the entities and the
//!   policy set are built once ("prebuilt request"); only `Authorizer::is_authorized` is timed.
//! - Ours, the complete gate: `policy::permits(Email, Notification)` (the table tokens and
//!   the C ABI use) and `Custodian::decide` — the decision every data path runs: authority,
//!   expiry by the custodian's clock, revocation, erasure, restriction, consent in force, the
//!   kind's collection consent and the sharing choice — on a grant the custodian issued.
//! - Ours, consent-gated for real: the same gate on a `Grant<Authentication>` issued while a
//!   Google link consent (given in the subject's session) is in force (clause 3.3).
//! - Ours, audited: `Custodian::expose`, the same gate plus the audit entry every exposure
//!   appends (which Cedar does not write).
//!
//! The custodian runs on its in-memory stores, whose futures never wait; they are driven by a
//! minimal poll loop (this workspace has no async runtime).
//!
//! `cargo bench --manifest-path peers/Cargo.toml -- --warm-up-time 1 --measurement-time 3`
#![allow(missing_docs, clippy::unwrap_used, reason = "benchmark")]

use std::hint::black_box;
use std::pin::pin;
use std::str::FromStr;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll, Waker};

use cedar_policy::{
    Authorizer, Context, Decision, Entities, EntityUid, PolicySet, Request, RestrictedExpression,
};
use chrono::{TimeDelta, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use crm_privacy::consent::{CollectionMethod, ConsentScope};
use crm_privacy::crypto::Keyring;
use crm_privacy::custodian::Custodian;
use crm_privacy::store::{
    InMemoryAuthenticator, InMemoryChainStore, InMemoryKeyStore, InMemoryRecordStore,
};
use crm_privacy::{
    Authentication, Category, Email, Google, Notification, Personal, ProviderAccountId, PurposeId,
    SessionClaims, SessionId, policy,
};

/// Drives a future to completion by polling (the in-memory stores never wait).
fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    let mut cx = TaskContext::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::yield_now();
    }
}

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

    let logins = Arc::new(InMemoryAuthenticator::new());
    let crm = block_on(
        Custodian::builder(Keyring::generate().unwrap())
            .records(Arc::new(InMemoryRecordStore::new()))
            .chains(Arc::new(InMemoryChainStore::new()))
            .keys(Arc::new(InMemoryKeyStore::new()))
            .authenticator(logins.clone())
            .grant_ttl(TimeDelta::days(1))
            .build(),
    )
    .unwrap();
    let alice = block_on(crm.register_subject()).unwrap();
    let now = Utc::now();
    logins.insert(
        "alice",
        SessionClaims {
            subject: alice,
            session: SessionId::new_random(),
            authenticated_at: now,
            expires_at: now + TimeDelta::days(1),
        },
    );
    let session = block_on(crm.authenticate("alice")).unwrap();
    block_on(crm.give_consent(
        &session,
        ConsentScope::GoogleLink,
        CollectionMethod::Api,
        None,
    ))
    .unwrap();
    let grant = block_on(crm.grant::<Notification>(alice, "mailer")).unwrap();
    let auth = block_on(crm.grant::<Authentication>(alice, "login")).unwrap();
    let email = Personal::new(alice, Email::parse("alice@example.com").unwrap());
    let linked = Personal::new(alice, ProviderAccountId::<Google>::parse("g-1").unwrap());
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
    g.bench_function("ours_runtime_table_and_complete_gate", |b| {
        b.iter(|| {
            assert!(policy::permits(
                black_box(Category::Email),
                black_box(notification)
            ));
            crm.decide(black_box(&grant), black_box(Category::Email))
                .unwrap();
        });
    });
    g.bench_function("ours_complete_gate_consent_gated", |b| {
        b.iter(|| {
            crm.decide(black_box(&auth), black_box(Category::GoogleAccountId))
                .unwrap();
        });
    });
    // The same gate on a data path, with its audit entry appended (in memory).
    g.bench_function("ours_audited_expose", |b| {
        b.iter(|| {
            black_box(block_on(crm.expose(black_box(&email), black_box(&grant))).unwrap());
        });
    });
    g.bench_function("ours_consent_gated_audited_expose", |b| {
        b.iter(|| black_box(block_on(crm.expose(black_box(&linked), black_box(&auth))).unwrap()));
    });
    g.finish();
}

criterion_group!(benches, purpose_rule);
criterion_main!(benches);
