//! Issue 19, part 5 (clause 10): policy versions published in the ledger with the
//! confidentiality fingerprint of the compiled table, notices of significant versions
//! delivered through the host's `Notifier`, recorded, retried, acknowledged and reported —
//! tried from outside the crate.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::HashSet;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::TimeDelta;
use common::{deployment, keyring, t0};
use crm_privacy::custodian::{CustodianError, Notifier, NotifyError};
use crm_privacy::ledger::{LedgerChange, LedgerEvent};
use crm_privacy::policy::versions::{PolicyVersion, VersionError, confidentiality_fingerprint};
use crm_privacy::store::{ChainName, ChainStore};
use crm_privacy::{Email, SubjectId};

/// The host's mailer: records what it was asked to deliver; fails once for the subjects
/// in `flaky`.
#[derive(Default)]
struct Mailer {
    sent: Mutex<Vec<(SubjectId, u32)>>,
    flaky: Mutex<HashSet<SubjectId>>,
}

#[async_trait]
impl Notifier for Mailer {
    async fn notify(&self, subject: SubjectId, version: &PolicyVersion) -> Result<(), NotifyError> {
        if self.flaky.lock().unwrap().remove(&subject) {
            return Err(NotifyError);
        }
        self.sent.lock().unwrap().push((subject, version.number));
        Ok(())
    }
}

#[tokio::test]
async fn significant_versions_reach_every_subject_once_with_retries() {
    let f = deployment(t0(), keyring(), |b| b).await;
    let mut subjects = Vec::new();
    for i in 0..4 {
        let s = f.c.register_subject().await.unwrap();
        f.c.store(s, Email::parse(&format!("notice{i}@example.com")).unwrap())
            .await
            .unwrap();
        subjects.push(s);
    }
    let erased = subjects.pop().unwrap();
    f.c.erase(erased).await.unwrap();

    let v1 = f.c.publish_policy(1, t0(), true).await.unwrap();
    assert_eq!(
        v1.confidentiality_fingerprint,
        confidentiality_fingerprint()
    );
    // Refusals: not increasing, effective before the previous version.
    assert_eq!(
        f.c.publish_policy(1, t0(), true).await.unwrap_err(),
        CustodianError::Version(VersionError::NotIncreasing(1))
    );
    assert_eq!(
        f.c.publish_policy(2, t0() - TimeDelta::days(1), true)
            .await
            .unwrap_err(),
        CustodianError::Version(VersionError::EffectiveBeforePrevious(2))
    );
    // A significant version taking effect in a week: not due yet, and not to be
    // acknowledged yet either, by either path (outside review: acknowledged early, a
    // subject was never sent its notice).
    f.c.publish_policy(2, t0() + TimeDelta::days(7), true)
        .await
        .unwrap();
    let early = f.session(subjects[0]).await;
    assert_eq!(
        f.c.acknowledge_policy(&early, 2).await.unwrap_err(),
        CustodianError::Version(VersionError::NotInForce(2))
    );
    assert_eq!(
        f.c.give_consent(
            &early,
            crm_privacy::consent::ConsentScope::PolicyVersion(2),
            crm_privacy::consent::CollectionMethod::UiAction,
            None
        )
        .await
        .unwrap_err(),
        CustodianError::Version(VersionError::NotInForce(2))
    );
    // A minor one after it changes nothing for notices.
    f.c.publish_policy(3, t0() + TimeDelta::days(8), false)
        .await
        .unwrap();

    let mailer = Mailer::default();
    // Runs go in subject-id order: the first subject of that order fails once.
    subjects.sort();
    mailer.flaky.lock().unwrap().insert(subjects[0]);
    // Today version 1 is the latest significant one in force.
    let run = f.c.deliver_policy_notices(&mailer, 2).await.unwrap();
    assert_eq!((run.version, run.delivered, run.failed), (Some(1), 1, 1));
    assert_eq!(
        run.pending, 2,
        "bounded by max; the failed one stays pending"
    );
    let run = f.c.deliver_policy_notices(&mailer, 10).await.unwrap();
    assert_eq!((run.delivered, run.failed, run.pending), (2, 0, 0));
    let run = f.c.deliver_policy_notices(&mailer, 10).await.unwrap();
    assert_eq!(
        (run.delivered, run.failed, run.pending),
        (0, 0, 0),
        "once each"
    );
    let sent = mailer.sent.lock().unwrap().clone();
    assert_eq!(sent.len(), 3);
    assert!(sent.iter().all(|(s, v)| *v == 1 && *s != erased));

    // A week later version 2 is due: everyone again.
    f.clock.advance(TimeDelta::days(8));
    let run = f.c.deliver_policy_notices(&mailer, 10).await.unwrap();
    assert_eq!((run.version, run.delivered), (Some(2), 3));

    // Acknowledgment through the subject's own session; the report says who is where.
    let s0 = f.session(subjects[0]).await;
    f.c.acknowledge_policy(&s0, 2).await.unwrap();
    assert_eq!(
        f.c.acknowledge_policy(&s0, 9).await.unwrap_err(),
        CustodianError::Version(VersionError::Unpublished(9))
    );
    // Not around `acknowledge_policy` either: a consent of scope PolicyVersion(9).
    assert_eq!(
        f.c.give_consent(
            &s0,
            crm_privacy::consent::ConsentScope::PolicyVersion(9),
            crm_privacy::consent::CollectionMethod::UiAction,
            None
        )
        .await
        .unwrap_err(),
        CustodianError::Version(VersionError::Unpublished(9))
    );
    let report = f.c.policy_notice_report(2).await.unwrap();
    assert_eq!(report.acknowledged, [subjects[0]]);
    assert_eq!(report.told_not_acknowledged.len(), 2);
    assert!(report.not_told.is_empty());
    let report1 = f.c.policy_notice_report(1).await.unwrap();
    assert_eq!(report1.told_not_acknowledged.len(), 3);

    // Everything is in the ledger: another custodian of the deployment replays it.
    let peer = f.same_stores(keyring()).build().await.unwrap();
    let versions: Vec<u32> = peer
        .policy_versions()
        .await
        .unwrap()
        .iter()
        .map(|v| v.number)
        .collect();
    assert_eq!(versions, [1, 2, 3]);
    let report = peer.policy_notice_report(2).await.unwrap();
    assert_eq!(report.acknowledged, [subjects[0]]);
    let entries = f.chains.entries_from(ChainName::Ledger, 0).await.unwrap();
    let mut delivered = 0;
    let mut failed = 0;
    for e in &entries {
        assert!(
            !String::from_utf8_lossy(&e.body).contains("@example.com"),
            "no address in the ledger"
        );
        match crm_privacy::ledger::decode::<LedgerEvent>(e)
            .unwrap()
            .change
        {
            LedgerChange::PolicyNoticeDelivered { .. } => delivered += 1,
            LedgerChange::PolicyNoticeFailed { .. } => failed += 1,
            _ => {}
        }
    }
    assert_eq!((delivered, failed), (6, 1));
}

#[tokio::test]
async fn no_significant_version_in_force_sends_nothing() {
    let f = deployment(t0(), keyring(), |b| b).await;
    f.c.register_subject().await.unwrap();
    let mailer = Mailer::default();
    let run = f.c.deliver_policy_notices(&mailer, 10).await.unwrap();
    assert_eq!(run.version, None);
    f.c.publish_policy(1, t0() + TimeDelta::days(1), true)
        .await
        .unwrap();
    let run = f.c.deliver_policy_notices(&mailer, 10).await.unwrap();
    assert_eq!(run.version, None, "not in force yet");
    assert!(mailer.sent.lock().unwrap().is_empty());
}

/// Outside review: two delivery runs at once tell each subject once, and a subject erased
/// while a run is under way is not notified.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_runs_tell_each_subject_once_and_skip_the_erased() {
    let f = deployment(t0(), keyring(), |b| b).await;
    let mut subjects = Vec::new();
    for _ in 0..20 {
        subjects.push(f.c.register_subject().await.unwrap());
    }
    f.c.publish_policy(1, t0(), true).await.unwrap();
    let mailer = std::sync::Arc::new(Mailer::default());
    let (c1, c2) = (f.c.clone(), f.c.clone());
    let (m1, m2) = (mailer.clone(), mailer.clone());
    let a = tokio::spawn(async move { c1.deliver_policy_notices(m1.as_ref(), 100).await });
    let b = tokio::spawn(async move { c2.deliver_policy_notices(m2.as_ref(), 100).await });
    let (a, b) = (a.await.unwrap().unwrap(), b.await.unwrap().unwrap());
    assert_eq!(a.delivered + b.delivered, 20);
    let sent = mailer.sent.lock().unwrap().clone();
    let unique: HashSet<SubjectId> = sent.iter().map(|(s, _)| *s).collect();
    assert_eq!((sent.len(), unique.len()), (20, 20), "each subject once");

    // A subject erased after the list is made, before its turn, is skipped.
    struct Eraser {
        c: crm_privacy::custodian::Custodian,
        victim: SubjectId,
        sent: Mutex<Vec<SubjectId>>,
    }
    #[async_trait]
    impl Notifier for Eraser {
        async fn notify(&self, subject: SubjectId, _: &PolicyVersion) -> Result<(), NotifyError> {
            if self.sent.lock().unwrap().is_empty() {
                self.c.erase(self.victim).await.map_err(|_| NotifyError)?;
            }
            self.sent.lock().unwrap().push(subject);
            Ok(())
        }
    }
    f.c.publish_policy(2, t0(), true).await.unwrap();
    let victim = *subjects.iter().max().unwrap();
    let eraser = Eraser {
        c: f.c.clone(),
        victim,
        sent: Mutex::new(Vec::new()),
    };
    f.c.deliver_policy_notices(&eraser, 100).await.unwrap();
    let told = eraser.sent.lock().unwrap().clone();
    assert_eq!(told.len(), 19);
    assert!(!told.contains(&victim), "the erased subject is not told");
}
