//! Group commit for chain appends: concurrent callers of
//! [`ChainStore::append_bodies`](super::ChainStore::append_bodies) share one transaction and
//! one durable commit (one fsync), without giving up "the call returns only once its entries
//! are durable".
//!
//! Leader/follower, runtime-agnostic (no task, no thread, no channel crate): the first
//! caller to find no commit in flight becomes the *leader*. It takes the whole queue (at
//! most [`GroupCommit::MAX_BATCH`] requests, its own first), runs the store's commit once
//! for all of them, and hands each caller its own entries — or, if the commit failed, the
//! same error. Callers that arrive while a commit is in flight queue up and wait (their
//! futures return `Pending`, so an async runtime keeps serving other tasks meanwhile). When
//! the leader's own request is done it passes leadership to the oldest queued caller, which
//! commits the next batch. So a batch forms exactly while the previous one is being made
//! durable: no timer, no added latency for a lone caller.
//!
//! Cancellation: a leader dropped mid-commit fails every request of its batch with
//! [`StoreError::OutcomeUnknown`] (the commit may or may not have happened) and passes
//! leadership on; a follower dropped while queued withdraws its request (one already in a
//! batch still commits: the log may over-report an access, never under-report one).

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use super::{ChainName, StoreError};
use crate::chain::ChainEntry;

/// One caller's appends: `(chain, body)` pairs committed all or none, in order.
pub type PendingBodies = Vec<(ChainName, Vec<u8>)>;

type Outcome = Result<Vec<ChainEntry>, StoreError>;

#[derive(Debug, Default)]
enum SlotState {
    #[default]
    Queued,
    Waiting(Waker),
    Lead,
    Done(Outcome),
    Taken,
}

#[derive(Debug, Default)]
struct Slot(Mutex<SlotState>);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Slot {
    fn set(&self, next: SlotState) {
        let prev = std::mem::replace(&mut *lock(&self.0), next);
        if let SlotState::Waiting(w) = prev {
            w.wake();
        }
    }
    fn take_done(&self) -> Option<Outcome> {
        let mut s = lock(&self.0);
        match std::mem::replace(&mut *s, SlotState::Taken) {
            SlotState::Done(r) => Some(r),
            other => {
                *s = other;
                None
            }
        }
    }
    fn is_lead(&self) -> bool {
        matches!(*lock(&self.0), SlotState::Lead)
    }
}

#[derive(Debug)]
struct Request {
    bodies: PendingBodies,
    slot: Arc<Slot>,
}

#[derive(Debug, Default)]
struct State {
    leading: bool,
    queue: Vec<Request>,
}

/// The batcher a store keeps (one per store value). See the module docs.
#[derive(Debug, Default)]
pub struct GroupCommit {
    state: Mutex<State>,
}

/// Resolves when the slot is done or asks its owner to lead.
struct Turn<'a>(&'a Slot);

impl Future for Turn<'_> {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut s = lock(&self.0.0);
        match &*s {
            SlotState::Done(_) | SlotState::Lead | SlotState::Taken => Poll::Ready(()),
            SlotState::Queued | SlotState::Waiting(_) => {
                *s = SlotState::Waiting(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// A caller's role; on drop (cancellation) it leaves the group consistent.
struct Role<'a> {
    group: &'a GroupCommit,
    slot: &'a Slot,
    leading: bool,
    inflight: Vec<Arc<Slot>>,
    finished: bool,
}

impl Role<'_> {
    /// Passes leadership to the oldest queued caller, or ends it.
    fn hand_over(&mut self) {
        let mut st = lock(&self.group.state);
        match st.queue.first() {
            Some(next) => next.slot.set(SlotState::Lead),
            None => st.leading = false,
        }
        self.leading = false;
    }
}

impl Drop for Role<'_> {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        for s in self.inflight.drain(..) {
            s.set(SlotState::Done(Err(StoreError::OutcomeUnknown {
                cause: "group commit was cancelled",
            })));
        }
        // Under the state lock: a caller cancelled while queued withdraws its request (one
        // already in a batch still commits), and leadership held or just handed to it goes
        // to the oldest live caller, so it is never handed to one that is gone.
        let mut st = lock(&self.group.state);
        st.queue
            .retain(|r| !std::ptr::eq(Arc::as_ptr(&r.slot), self.slot));
        if self.leading || self.slot.is_lead() {
            match st.queue.first() {
                Some(next) => next.slot.set(SlotState::Lead),
                None => st.leading = false,
            }
        }
    }
}

impl GroupCommit {
    /// Most requests committed in one transaction.
    pub const MAX_BATCH: usize = 512;

    /// An idle batcher.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Commits `bodies` together with whatever other callers submit meanwhile, through
    /// `commit`: given the batch (one [`PendingBodies`] per caller, in queue order), it must
    /// write all of it in one transaction and return, once durable, the entries of each
    /// caller in the same order — or fail as a whole. Returns this caller's entries.
    ///
    /// # Errors
    /// The error of the batch's commit (every caller of the batch gets it, and none of the
    /// batch was written); [`StoreError::Backend`] if `commit` returned a wrong number of
    /// results; [`StoreError::OutcomeUnknown`] if the leader of the batch was cancelled
    /// mid-commit.
    pub async fn run<F, Fut>(&self, bodies: PendingBodies, mut commit: F) -> Outcome
    where
        F: FnMut(Vec<PendingBodies>) -> Fut,
        Fut: Future<Output = Result<Vec<Vec<ChainEntry>>, StoreError>>,
    {
        let slot = Arc::new(Slot::default());
        let lead = {
            let mut st = lock(&self.state);
            st.queue.push(Request {
                bodies,
                slot: Arc::clone(&slot),
            });
            !std::mem::replace(&mut st.leading, true)
        };
        let mut role = Role {
            group: self,
            slot: &slot,
            leading: lead,
            inflight: Vec::new(),
            finished: false,
        };
        if !lead {
            Turn(&slot).await;
            if let Some(r) = slot.take_done() {
                role.finished = true;
                return r;
            }
            role.leading = true;
        }
        loop {
            let batch: Vec<Request> = {
                let mut st = lock(&self.state);
                let n = st.queue.len().min(Self::MAX_BATCH);
                st.queue.drain(..n).collect()
            };
            if batch.is_empty() {
                // Unreachable by construction (the leader's own request is queued until
                // served); fail rather than spin.
                role.hand_over();
                role.finished = true;
                return Err(StoreError::Backend(
                    "group commit lost a request".to_owned(),
                ));
            }
            {
                let (bodies, slots): (Vec<_>, Vec<_>) =
                    batch.into_iter().map(|r| (r.bodies, r.slot)).unzip();
                role.inflight.clone_from(&slots);
                let result = commit(bodies).await;
                role.inflight.clear();
                match result {
                    Ok(per) if per.len() == slots.len() => {
                        for (s, entries) in slots.iter().zip(per) {
                            s.set(SlotState::Done(Ok(entries)));
                        }
                    }
                    Ok(_) => {
                        for s in &slots {
                            s.set(SlotState::Done(Err(StoreError::Backend(
                                "group commit returned a wrong number of results".to_owned(),
                            ))));
                        }
                    }
                    Err(e) => {
                        for s in &slots {
                            s.set(SlotState::Done(Err(e.clone())));
                        }
                    }
                }
            }
            if let Some(r) = slot.take_done() {
                role.hand_over();
                role.finished = true;
                return r;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Barrier};
    use std::task::Wake;

    use super::*;

    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }

    fn block_on<F: Future>(f: F) -> F::Output {
        let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
        let mut cx = Context::from_waker(&waker);
        let mut f = std::pin::pin!(f);
        loop {
            if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
            std::thread::park();
        }
    }

    /// 16 callers at once, each commit slow (like an fsync): they share far fewer commits
    /// than 16, each gets exactly its own entries back, in its own order.
    #[test]
    fn concurrent_callers_share_commits() {
        let group = Arc::new(GroupCommit::new());
        let commits = Arc::new(AtomicUsize::new(0));
        let start = Arc::new(Barrier::new(16));
        let threads: Vec<_> = (0..16_u8)
            .map(|i| {
                let (group, commits, start) = (group.clone(), commits.clone(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    let bodies = vec![
                        (ChainName::Audit, vec![i, 0]),
                        (ChainName::Audit, vec![i, 1]),
                    ];
                    block_on(group.run(bodies, |batch| {
                        commits.fetch_add(1, Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(30));
                        let mut anchor = crate::chain::Anchor::default();
                        let out = batch
                            .into_iter()
                            .map(|b| {
                                b.into_iter()
                                    .map(|(_, body)| crate::chain::append(&mut anchor, body))
                                    .collect()
                            })
                            .collect();
                        std::future::ready(Ok(out))
                    }))
                    .map(|entries| (i, entries))
                })
            })
            .collect();
        for t in threads {
            let (i, entries) = t.join().unwrap().unwrap();
            let bodies: Vec<_> = entries.into_iter().map(|e| e.body).collect();
            assert_eq!(bodies, vec![vec![i, 0], vec![i, 1]]);
        }
        let n = commits.load(Ordering::SeqCst);
        assert!(n < 16, "{n} commits for 16 concurrent callers: no grouping");
    }

    /// A failing commit fails every caller of its batch with the same typed error.
    #[test]
    fn a_failed_commit_fails_every_caller() {
        let group = Arc::new(GroupCommit::new());
        let start = Arc::new(Barrier::new(8));
        let threads: Vec<_> = (0..8_u8)
            .map(|i| {
                let (group, start) = (group.clone(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    block_on(group.run(vec![(ChainName::Audit, vec![i])], |_| {
                        std::thread::sleep(std::time::Duration::from_millis(10));
                        std::future::ready(Err(StoreError::DiskFull))
                    }))
                })
            })
            .collect();
        for t in threads {
            assert_eq!(t.join().unwrap(), Err(StoreError::DiskFull));
        }
    }

    /// A commit that returns the wrong number of results fails the batch, typed.
    #[test]
    fn a_short_result_is_an_error() {
        let group = GroupCommit::new();
        let r = block_on(group.run(vec![(ChainName::Audit, vec![1])], |_| {
            std::future::ready(Ok(Vec::new()))
        }));
        assert!(matches!(r, Err(StoreError::Backend(_))));
    }

    /// A leader cancelled mid-commit fails its batch as outcome-unknown and hands over:
    /// the next caller still commits.
    #[test]
    fn a_cancelled_leader_hands_over() {
        let group = GroupCommit::new();
        let waker = Waker::noop();
        let mut cx = Context::from_waker(waker);
        let mut stuck = Box::pin(group.run(vec![(ChainName::Audit, vec![1])], |_| {
            std::future::pending::<Result<Vec<Vec<ChainEntry>>, StoreError>>()
        }));
        assert!(stuck.as_mut().poll(&mut cx).is_pending());
        drop(stuck);
        let r = block_on(group.run(vec![(ChainName::Audit, vec![2])], |b| {
            let mut a = crate::chain::Anchor::default();
            std::future::ready(Ok(b
                .into_iter()
                .map(|v| {
                    v.into_iter()
                        .map(|(_, x)| crate::chain::append(&mut a, x))
                        .collect()
                })
                .collect()))
        }));
        assert_eq!(r.map(|e| e.len()), Ok(1));
    }
}
