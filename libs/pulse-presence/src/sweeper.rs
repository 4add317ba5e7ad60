//! The sweeper every presence store runs beside its service: connections
//! whose gateway stopped keeping them alive never call exit, so presence
//! ends for them here, within `timeout` plus one `interval`.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::Presence;

/// Sweeps every `interval` until `shutdown`. A failed sweep is logged and
/// retried at the next tick; the rows are still there.
pub async fn sweep_every<P: Presence>(
    store: P,
    timeout: Duration,
    interval: Duration,
    shutdown: CancellationToken,
) {
    pulse_service::every(interval, shutdown, || async {
        match store.sweep(timeout).await {
            Ok(0) => {}
            Ok(removed) => tracing::debug!(removed, "silent connections removed"),
            Err(error) => tracing::warn!(%error, "presence sweep failed; retrying next tick"),
        }
    })
    .await;
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use tokio::time::{advance, Instant};

    use super::*;
    use crate::queue::tests::Doubling;

    /// Moves paused time on a second at a time until `swept` sweeps were
    /// made (at most `limit`); the time that took.
    async fn until_swept(store: &Doubling, swept: u64, limit: Duration) -> Duration {
        let started = Instant::now();
        while store.sweeps.load(Ordering::Relaxed) < swept && started.elapsed() < limit {
            advance(Duration::from_secs(1)).await;
        }
        started.elapsed()
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn sweeps_once_per_interval_until_shut_down() {
        let store = Doubling::default();
        let shutdown = CancellationToken::new();
        let sweeper = tokio::spawn(sweep_every(
            store.clone(),
            Duration::from_secs(30),
            Duration::from_secs(10),
            shutdown.clone(),
        ));
        // The cadence itself is `pulse_service::every`'s (tested there);
        // here: the store is swept, tick after tick.
        let took = until_swept(&store, 4, Duration::from_secs(120)).await;
        assert!(
            (Duration::from_secs(30)..Duration::from_secs(45)).contains(&took),
            "four sweeps a 10 s apart took {took:?}"
        );
        shutdown.cancel();
        sweeper.await.expect("the sweeper ends when shut down");
        let after = store.sweeps.load(Ordering::Relaxed);
        until_swept(&store, after + 1, Duration::from_secs(60)).await;
        assert_eq!(
            store.sweeps.load(Ordering::Relaxed),
            after,
            "no sweep after shutdown"
        );
    }
}
