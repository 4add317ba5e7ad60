//! One call at a time per key, shared by everyone who asks while it waits
//! for its turn. When a crowd asks the same question at once (10,000 tabs of
//! one user joining one list: may they follow it, and enter them), the
//! first asker's call goes at once, everyone who asks while it runs shares
//! the next one, and so on: a few calls instead of one each. Sharing only a
//! call that has not started yet keeps each answer as fresh as the asker's
//! own call would be: it is made after the asker asked. A call runs in the
//! span of the asker who made it, so the service calls it makes continue
//! that asker's trace (the others share its outcome, as a batch's callers do).

use std::{
    collections::HashMap,
    hash::Hash,
    panic::AssertUnwindSafe,
    sync::{Arc, Mutex, MutexGuard},
};

use futures::{future::BoxFuture, FutureExt};
use tokio::sync::watch;
use tracing::Instrument;

/// A call waiting for its turn, and where its outcome will be published.
struct Waiting<T> {
    call: BoxFuture<'static, T>,
    outcome: watch::Sender<Option<T>>,
}

/// The keys with a call running, each with the call that goes next.
pub(super) struct Turns<K, T> {
    lines: Mutex<HashMap<K, Option<Waiting<T>>>>,
}

impl<K, T> Default for Turns<K, T> {
    fn default() -> Self {
        Self {
            lines: Mutex::default(),
        }
    }
}

impl<K, T> Turns<K, T>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    T: Clone + Send + Sync + 'static,
{
    /// The outcome of the next call for `key`: one that is waiting for its
    /// turn, or `call()` (run at once when none is running). Calls run on
    /// their own task, so an asker that goes away cancels nothing the
    /// others wait for. `None` when the call panicked.
    pub(super) async fn share(
        self: &Arc<Self>,
        key: K,
        call: impl FnOnce() -> BoxFuture<'static, T>,
    ) -> Option<T> {
        let mut outcome = {
            let mut lines = self.lines();
            let (sender, outcome) = watch::channel(None);
            match lines.get_mut(&key) {
                Some(Some(waiting)) => waiting.outcome.subscribe(),
                Some(next) => {
                    *next = Some(Waiting {
                        call: call().in_current_span().boxed(),
                        outcome: sender,
                    });
                    outcome
                }
                None => {
                    lines.insert(key.clone(), None);
                    let first = Waiting {
                        call: call().in_current_span().boxed(),
                        outcome: sender,
                    };
                    tokio::spawn(self.clone().run(key, first));
                    outcome
                }
            }
        };
        // An error: the call panicked, its sender is gone unpublished.
        let published = outcome.wait_for(Option::is_some).await.ok()?;
        published.clone()
    }

    /// Whether a call for `key` is running or waiting.
    pub(super) fn is_busy(&self, key: &K) -> bool {
        self.lines().contains_key(key)
    }

    /// Runs the key's calls one after the other until none waits.
    async fn run(self: Arc<Self>, key: K, mut waiting: Waiting<T>) {
        loop {
            // A panicking call publishes nothing; its askers get `None`
            // and the calls after it still run.
            if let Ok(value) = AssertUnwindSafe(waiting.call).catch_unwind().await {
                waiting.outcome.send_replace(Some(value));
            }
            let next = {
                let mut lines = self.lines();
                match lines.get_mut(&key).and_then(Option::take) {
                    Some(next) => next,
                    None => {
                        lines.remove(&key);
                        return;
                    }
                }
            };
            waiting = next;
        }
    }

    fn lines(&self) -> MutexGuard<'_, HashMap<K, Option<Waiting<T>>>> {
        self.lines.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::sync::Semaphore;

    use super::*;

    /// Calls numbered in the order they are made, each running until the
    /// gate lets it finish.
    struct Bench {
        turns: Arc<Turns<&'static str, usize>>,
        made: Arc<AtomicUsize>,
        asked: Arc<AtomicUsize>,
        gate: Arc<Semaphore>,
    }

    impl Bench {
        fn new() -> Self {
            Self {
                turns: Arc::default(),
                made: Arc::default(),
                asked: Arc::default(),
                gate: Arc::new(Semaphore::new(0)),
            }
        }

        fn ask(&self) -> tokio::task::JoinHandle<Option<usize>> {
            let (turns, made, asked, gate) = (
                self.turns.clone(),
                self.made.clone(),
                self.asked.clone(),
                self.gate.clone(),
            );
            tokio::spawn(async move {
                asked.fetch_add(1, Ordering::SeqCst);
                let call = move || {
                    let number = made.fetch_add(1, Ordering::SeqCst) + 1;
                    async move {
                        let _pass = gate.acquire().await.expect("gate open");
                        number
                    }
                    .boxed()
                };
                turns.share("key", call).await
            })
        }

        /// Until `n` askers have asked (each one is queued in the same poll).
        async fn asked(&self, n: usize) {
            while self.asked.load(Ordering::SeqCst) < n {
                tokio::task::yield_now().await;
            }
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn askers_while_a_call_runs_share_the_next_one() {
        let bench = Bench::new();
        let first = bench.ask();
        bench.asked(1).await;
        let crowd: Vec<_> = (0..5).map(|_| bench.ask()).collect();
        bench.asked(6).await;
        assert!(bench.turns.is_busy(&"key"));
        bench.gate.add_permits(10);
        assert_eq!(first.await.expect("first"), Some(1));
        for asker in crowd {
            assert_eq!(
                asker.await.expect("asker"),
                Some(2),
                "the shared second call"
            );
        }
        assert_eq!(bench.made.load(Ordering::SeqCst), 2);
        assert!(!bench.turns.is_busy(&"key"));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn an_asker_going_away_cancels_nothing_the_others_wait_for() {
        let bench = Bench::new();
        let first = bench.ask();
        bench.asked(1).await;
        let (gone, stays) = (bench.ask(), bench.ask());
        bench.asked(3).await;
        first.abort();
        gone.abort();
        bench.gate.add_permits(10);
        assert_eq!(stays.await.expect("asker"), Some(2));
        assert_eq!(bench.made.load(Ordering::SeqCst), 2);
    }
}
