//! The sweeper every presence store runs beside its service: connections
//! whose gateway stopped keeping them alive never call exit, so presence
//! ends for them here, within `timeout` plus one `interval`.

use std::time::Duration;

use pulse_service::StartupError;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::Presence;

/// A service's sweeper settings, checked when the service is built (before
/// anything is opened), then spawned beside its gRPC API.
#[derive(Debug, Clone, Copy)]
pub struct Sweeper {
    /// How long a connection may stay silent before its presence ends.
    timeout: Duration,
    /// How often silent connections are looked for.
    interval: Duration,
}

impl Sweeper {
    /// Refuses a zero `interval`, which would spin; `what` names the setting
    /// in the refusal as the service calls it ("presence", "participant").
    pub fn new(timeout: Duration, interval: Duration, what: &str) -> Result<Self, StartupError> {
        if interval.is_zero() {
            return Err(StartupError::Config(format!(
                "{what} sweep interval must be greater than zero"
            )));
        }
        Ok(Self { timeout, interval })
    }

    /// Sweeps `store` every interval (`sweep_every`) until `stop` is cancelled.
    pub fn spawn<P: Presence>(self, store: P, stop: &CancellationToken) -> JoinHandle<()> {
        tokio::spawn(sweep_every(
            store,
            self.timeout,
            self.interval,
            stop.clone(),
        ))
    }
}

/// Sweeps every `interval` until `shutdown`. A failed sweep is logged and
/// retried at the next tick; the rows are still there.
async fn sweep_every<P: Presence>(
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

    #[test]
    fn a_zero_interval_is_refused_naming_the_setting() {
        let refused = Sweeper::new(Duration::from_secs(45), Duration::ZERO, "participant")
            .expect_err("a zero interval would spin");
        assert_eq!(
            refused.to_string(),
            "invalid configuration: participant sweep interval must be greater than zero"
        );
        Sweeper::new(Duration::from_secs(45), Duration::from_secs(5), "presence")
            .expect("a positive interval");
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
