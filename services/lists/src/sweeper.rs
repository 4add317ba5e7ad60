//! Ends presence that stopped sending heartbeats (a closed laptop, a crashed
//! gateway): those connections never call `ExitList`.

use std::time::Duration;

use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use crate::store::Store;

/// Sweeps every `interval` until `shutdown`. A failed sweep is logged and
/// retried at the next tick; the rows are still there.
pub(crate) async fn run(
    store: Store,
    timeout: Duration,
    interval: Duration,
    shutdown: CancellationToken,
) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = ticker.tick() => {}
        }
        match store.sweep_presence(timeout).await {
            Ok(0) => {}
            Ok(removed) => tracing::debug!(removed, "silent list connections removed"),
            Err(error) => tracing::warn!(%error, "presence sweep failed; retrying next tick"),
        }
    }
}
