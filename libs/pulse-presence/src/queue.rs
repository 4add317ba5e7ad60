//! The three presence queues a service keeps (enter, exit, keep alive), built
//! once here over a [`Presence`] store, so every service that tracks who is
//! present batches the same way: the shopping-list service for lists, the
//! Lean Coffee service for sessions.

use std::{fmt::Display, future::Future, slice, sync::Arc, time::Duration};

use pulse_batch::{only, Batch, BoxFuture, Calls, Coalescer, Outcomes};

/// A store that enters, exits and keeps alive presence for many calls in
/// one transaction (`*_all`), giving each call the outcome it would have had
/// alone. A refused batch is retried one call at a time through `*_one`,
/// which is a batch of one unless the store has a path of its own for a
/// single call. What a call carries and returns is the service's.
pub trait Presence: Clone + Send + Sync + 'static {
    type Enter: Send + Sync + 'static;
    /// What an entering caller is told (the others present, or their entry).
    type Entered: Send + 'static;
    type Exit: Send + Sync + 'static;
    type Touch: Send + Sync + 'static;
    type Error: Display + Send + 'static;

    fn enter_all(
        &self,
        calls: &[Self::Enter],
    ) -> impl Future<Output = Batch<Self::Entered, Self::Error>> + Send;
    fn exit_all(&self, calls: &[Self::Exit])
        -> impl Future<Output = Batch<(), Self::Error>> + Send;
    fn touch_all(
        &self,
        calls: &[Self::Touch],
    ) -> impl Future<Output = Batch<(), Self::Error>> + Send;

    /// What a caller is told when a queue's worker is gone (the service is
    /// stopping).
    fn stopped(&self) -> Self::Error;

    /// Ends the presence of every connection not kept alive for `timeout`
    /// (a crashed gateway, a lost network: those never exit), with the
    /// events a call to exit would have emitted; how many ended.
    fn sweep(&self, timeout: Duration) -> impl Future<Output = Result<u64, Self::Error>> + Send;

    fn enter_one(
        &self,
        call: &Self::Enter,
    ) -> impl Future<Output = Result<Self::Entered, Self::Error>> + Send {
        async move {
            only(self.enter_all(slice::from_ref(call)).await, || {
                self.stopped()
            })
        }
    }
    fn exit_one(&self, call: &Self::Exit) -> impl Future<Output = Result<(), Self::Error>> + Send {
        async move {
            only(self.exit_all(slice::from_ref(call)).await, || {
                self.stopped()
            })
        }
    }
    fn touch_one(
        &self,
        call: &Self::Touch,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send {
        async move {
            only(self.touch_all(slice::from_ref(call)).await, || {
                self.stopped()
            })
        }
    }
}

/// The three queues; cheap to clone. Their workers end with the last clone.
pub struct PresenceQueue<P: Presence> {
    enters: Coalescer<Enters<P>>,
    exits: Coalescer<Exits<P>>,
    touches: Coalescer<Touches<P>>,
}

impl<P: Presence> Clone for PresenceQueue<P> {
    fn clone(&self) -> Self {
        Self {
            enters: self.enters.clone(),
            exits: self.exits.clone(),
            touches: self.touches.clone(),
        }
    }
}

impl<P: Presence> std::fmt::Debug for PresenceQueue<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PresenceQueue")
            .field("enters", &self.enters)
            .field("exits", &self.exits)
            .field("touches", &self.touches)
            .finish()
    }
}

impl<P: Presence> PresenceQueue<P> {
    /// Starts the three workers.
    pub fn start(store: P) -> Self {
        Self {
            enters: Coalescer::start(Enters(store.clone())),
            exits: Coalescer::start(Exits(store.clone())),
            touches: Coalescer::start(Touches(store)),
        }
    }

    pub async fn enter(&self, call: P::Enter) -> Result<P::Entered, P::Error> {
        self.enters.call(call).await
    }

    pub async fn exit(&self, call: P::Exit) -> Result<(), P::Error> {
        self.exits.call(call).await
    }

    pub async fn touch(&self, call: P::Touch) -> Result<(), P::Error> {
        self.touches.call(call).await
    }
}

/// The [`Calls`] of one kind, served by the store's `$all` and `$one`.
macro_rules! kind {
    ($name:ident, $call:ident, $output:ty, $all:ident, $one:ident) => {
        struct $name<P>(P);

        impl<P: Presence> Calls for $name<P> {
            type Call = P::$call;
            type Output = $output;
            type Error = P::Error;

            fn together(&self, calls: Arc<Vec<P::$call>>) -> BoxFuture<Outcomes<Self>> {
                let store = self.0.clone();
                Box::pin(async move { store.$all(&calls).await })
            }

            fn alone(
                &self,
                calls: Arc<Vec<P::$call>>,
                index: usize,
            ) -> BoxFuture<Result<$output, P::Error>> {
                let store = self.0.clone();
                Box::pin(async move { store.$one(&calls[index]).await })
            }

            fn stopped(&self) -> P::Error {
                self.0.stopped()
            }
        }
    };
}

kind!(Enters, Enter, P::Entered, enter_all, enter_one);
kind!(Exits, Exit, (), exit_all, exit_one);
kind!(Touches, Touch, (), touch_all, touch_one);

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Enters double numbers; a batch holding 0 is refused as a whole, and 0
    /// alone fails. Exits and keep-alives always succeed; sweeps are counted.
    #[derive(Clone, Default)]
    pub(crate) struct Doubling {
        pub sweeps: Arc<std::sync::atomic::AtomicU64>,
    }

    impl Presence for Doubling {
        type Enter = u32;
        type Entered = u32;
        type Exit = ();
        type Touch = ();
        type Error = String;

        async fn enter_all(&self, calls: &[u32]) -> Batch<u32, String> {
            match calls {
                [0] => Ok(vec![Err("zero".to_owned())]),
                _ if calls.contains(&0) => Err("refused".to_owned()),
                _ => Ok(calls.iter().map(|n| Ok(n * 2)).collect()),
            }
        }

        async fn exit_all(&self, calls: &[()]) -> Batch<(), String> {
            Ok(calls.iter().map(|_| Ok(())).collect())
        }

        async fn touch_all(&self, calls: &[()]) -> Batch<(), String> {
            self.exit_all(calls).await
        }

        fn stopped(&self) -> String {
            "stopped".to_owned()
        }

        async fn sweep(&self, _timeout: Duration) -> Result<u64, String> {
            let sweeps = self
                .sweeps
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Ok(sweeps)
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_refused_batch_is_retried_as_batches_of_one() {
        let queue = PresenceQueue::start(Doubling::default());
        // Queued together before the worker runs (one thread).
        let outcomes = tokio::join!(queue.enter(5), queue.enter(0), queue.enter(7));
        assert_eq!(outcomes, (Ok(10), Err("zero".to_owned()), Ok(14)));
        assert_eq!(queue.exit(()).await, Ok(()));
        assert_eq!(queue.touch(()).await, Ok(()));
    }
}
