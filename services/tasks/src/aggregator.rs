//! The spend aggregator: turns recorded spend into `SpendUpdate` events, at
//! most one per key per window. It keeps no state of its own — the waiting
//! records and each key's last update time are in the database — so a
//! restart loses nothing and several instances can run it side by side
//! (each key is aggregated under its row lock, skipped by the others).

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::store::Store;

/// How spend is aggregated; see [`crate::TasksConfig`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct SpendSettings {
    pub(crate) window: Duration,
    pub(crate) interval: Duration,
    pub(crate) unusual_factor: f64,
}

/// Aggregates every `interval` until `shutdown`. A key that fails is logged
/// and retried at the next tick, its records still waiting; the other keys
/// go on.
pub(crate) async fn run(store: Store, settings: SpendSettings, shutdown: CancellationToken) {
    pulse_service::every(settings.interval, shutdown, || async {
        let keys = match store.keys_due(settings.window).await {
            Ok(keys) => keys,
            Err(error) => {
                tracing::warn!(%error, "spend aggregation failed; retrying next tick");
                return;
            }
        };
        for virtual_key_id in keys {
            match store
                .aggregate_key(virtual_key_id, settings.window, settings.unusual_factor)
                .await
            {
                Ok(true) => tracing::debug!(%virtual_key_id, "spend update enqueued"),
                Ok(false) => {}
                Err(error) => tracing::warn!(
                    %error, %virtual_key_id, "spend aggregation of a key failed; retrying next tick"
                ),
            }
        }
    })
    .await;
}
