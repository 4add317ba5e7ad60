//! Waiting on a condition a test can look at but is not told of (a metric, a
//! row count, another process's state): one loop that looks, paced, until the
//! condition holds or the patience runs out, so no test waits a fixed time.
//!
//! A look is an async closure, so it may borrow what the test holds mutably
//! (a client it calls through) from one look to the next.

use std::time::Duration;

use tokio::time::{Instant, MissedTickBehavior};

/// How often the condition is looked at.
const LOOK_EVERY: Duration = Duration::from_millis(5);

/// Looks at `look` until it returns `Some`, and returns what it found; fails
/// naming `what` once `patience` has passed.
pub async fn poll_until<T, F>(what: &str, patience: Duration, mut look: F) -> T
where
    F: AsyncFnMut() -> Option<T>,
{
    let deadline = Instant::now() + patience;
    let mut looks = tokio::time::interval(LOOK_EVERY);
    looks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        looks.tick().await;
        if let Some(found) = look().await {
            return found;
        }
        assert!(Instant::now() < deadline, "{what} within {patience:?}");
    }
}

/// [`poll_until`] for a condition that only holds or not.
pub async fn wait_until<F>(what: &str, patience: Duration, mut holds: F)
where
    F: AsyncFnMut() -> bool,
{
    poll_until(what, patience, async || holds().await.then_some(())).await;
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn returns_what_it_found_once_the_condition_holds() {
        let looked = AtomicU32::new(0);
        let found = poll_until("the third look", Duration::from_secs(1), || async {
            let n = looked.fetch_add(1, Ordering::Relaxed) + 1;
            (n == 3).then_some(n)
        })
        .await;
        assert_eq!(found, 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_look_may_change_what_the_test_holds() {
        let mut looks = 0;
        wait_until("the third look", Duration::from_secs(1), async || {
            looks += 1;
            looks == 3
        })
        .await;
        assert_eq!(looks, 3);
    }

    #[tokio::test(start_paused = true)]
    #[should_panic(expected = "never within")]
    async fn fails_once_the_patience_has_passed() {
        wait_until("never", Duration::from_millis(50), || async { false }).await;
    }
}
