//! Ends presence that stopped sending heartbeats (a closed laptop, a crashed
//! gateway): those connections never call `ExitList`.

use std::time::Duration;

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
    pulse_service::every(interval, shutdown, || async {
        match store.sweep_presence(timeout).await {
            Ok(0) => {}
            Ok(removed) => tracing::debug!(removed, "silent list connections removed"),
            Err(error) => tracing::warn!(%error, "presence sweep failed; retrying next tick"),
        }
    })
    .await;
}
