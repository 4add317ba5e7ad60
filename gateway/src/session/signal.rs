//! A flag raised once, that tasks wait for: a connection's end, a transport's turn taken over.
//!
//! A socket's writer waits for these beside its frames, so the wait is polled once per frame
//! written. `CancellationToken` locks a mutex on every such poll (for its flag, then for its
//! `Notified`), which the fan-out profile showed at 3.5 % of the gateway's CPU. Here the flag
//! is an atomic, and a wait already registered with the polling task's waker is not polled
//! again: once `Notified` holds a waker, the raise wakes it, and the next poll sees the flag.

use std::{
    future::Future,
    pin::Pin,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    task::{Context, Poll, Waker},
};

use tokio::sync::{futures::Notified, Notify};

/// Cheap to clone: clones share the flag.
#[derive(Debug, Clone, Default)]
pub struct Signal {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    raised: AtomicBool,
    notify: Notify,
}

impl Signal {
    pub fn new() -> Self {
        Self::default()
    }

    /// Raises the flag and wakes every wait; later raises do nothing.
    pub fn raise(&self) {
        if !self.inner.raised.swap(true, Ordering::AcqRel) {
            self.inner.notify.notify_waiters();
        }
    }

    pub fn is_raised(&self) -> bool {
        self.inner.raised.load(Ordering::Acquire)
    }

    /// Completes once the flag is raised (at once if it is).
    pub fn raised(&self) -> Raised<'_> {
        Raised {
            // Made before the flag is first read: a raise after this point completes it
            // (`notify_waiters` reaches every `Notified` created before the call).
            notified: self.inner.notify.notified(),
            raised: &self.inner.raised,
            registered: None,
        }
    }
}

pin_project_lite::pin_project! {
    /// The future of [`Signal::raised`]; `registered` is the waker `notified` holds, once it
    /// holds one.
    #[derive(Debug)]
    pub struct Raised<'a> {
        #[pin]
        notified: Notified<'a>,
        raised: &'a AtomicBool,
        registered: Option<Waker>,
    }
}

impl Future for Raised<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        if this.raised.load(Ordering::Acquire) {
            return Poll::Ready(());
        }
        if this
            .registered
            .as_ref()
            .is_some_and(|waker| waker.will_wake(cx.waker()))
        {
            return Poll::Pending;
        }
        match this.notified.poll(cx) {
            Poll::Ready(()) => Poll::Ready(()),
            Poll::Pending => {
                *this.registered = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::{
        sync::atomic::AtomicUsize,
        task::{Context, Wake},
    };

    use super::*;

    /// Counts its wakes.
    #[derive(Default)]
    struct Wakes(AtomicUsize);

    impl Wake for Wakes {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn poll(raised: Pin<&mut Raised<'_>>, waker: &Waker) -> Poll<()> {
        raised.poll(&mut Context::from_waker(waker))
    }

    #[test]
    fn a_wait_on_a_raised_signal_completes_at_once() {
        let signal = Signal::new();
        signal.raise();
        let wait = std::pin::pin!(signal.raised());
        assert!(poll(wait, Waker::noop()).is_ready());
        assert!(signal.is_raised());
    }

    #[test]
    fn a_wait_polled_many_times_is_woken_once_by_the_raise_and_then_completes() {
        let signal = Signal::new();
        let wakes = Arc::new(Wakes::default());
        let waker = Waker::from(wakes.clone());
        let mut wait = std::pin::pin!(signal.raised());
        for _ in 0..3 {
            assert!(poll(wait.as_mut(), &waker).is_pending());
        }
        signal.raise();
        assert_eq!(wakes.0.load(Ordering::SeqCst), 1);
        assert!(poll(wait, &waker).is_ready());
    }

    #[test]
    fn a_wait_polled_by_another_task_wakes_that_task() {
        let signal = Signal::new();
        let (first, second) = (Arc::new(Wakes::default()), Arc::new(Wakes::default()));
        let mut wait = std::pin::pin!(signal.raised());
        assert!(poll(wait.as_mut(), &Waker::from(first.clone())).is_pending());
        assert!(poll(wait.as_mut(), &Waker::from(second.clone())).is_pending());
        signal.raise();
        assert_eq!(first.0.load(Ordering::SeqCst), 0, "the replaced waker");
        assert_eq!(second.0.load(Ordering::SeqCst), 1);
        assert!(poll(wait, &Waker::noop().clone()).is_ready());
    }

    #[test]
    fn a_wait_made_before_the_raise_but_never_polled_completes() {
        let signal = Signal::new();
        let wait = signal.raised();
        signal.raise();
        assert!(poll(std::pin::pin!(wait), Waker::noop()).is_ready());
    }

    #[tokio::test]
    async fn every_waiting_task_completes_when_raised_elsewhere() {
        let signal = Signal::new();
        let waiters: Vec<_> = (0..4)
            .map(|_| {
                let signal = signal.clone();
                tokio::spawn(async move { signal.raised().await })
            })
            .collect();
        tokio::spawn({
            let signal = signal.clone();
            async move { signal.raise() }
        });
        for waiter in waiters {
            tokio::time::timeout(std::time::Duration::from_secs(5), waiter)
                .await
                .expect("woken")
                .expect("waiter");
        }
    }
}
