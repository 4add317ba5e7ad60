//! Periodic background jobs (sweepers of silent connections and the like).

use std::{future::Future, time::Duration};

use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

/// Runs `job` now and then every `interval` until `shutdown`. A job that
/// overruns delays the next tick instead of causing a burst; a job is never
/// interrupted half-way, shutdown is noticed between runs. The job logs its
/// own failures: the next tick is its retry.
pub async fn every<F, Fut>(interval: Duration, shutdown: CancellationToken, mut job: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = ticker.tick() => {}
        }
        job().await;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{
        atomic::{AtomicU32, Ordering},
        Arc,
    };

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn runs_at_once_then_every_interval_until_cancelled() {
        let runs = Arc::new(AtomicU32::new(0));
        let shutdown = CancellationToken::new();
        let counter = runs.clone();
        let task = tokio::spawn(every(Duration::from_secs(5), shutdown.clone(), move || {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
            }
        }));
        tokio::time::sleep(Duration::from_millis(10_001)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 3, "at 0 s, 5 s and 10 s");
        shutdown.cancel();
        task.await.expect("ends when cancelled");
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 3, "nothing after shutdown");
    }
}
