//! Virtual keys revoked while connections they authenticated are open. The
//! task service publishes `VirtualKeyRevoked` to the `key-revocations` topic;
//! every gateway follows it for its whole life and cancels the key's token,
//! which ends each SignalR connection and gRPC stream authenticated by the key
//! (new ones are refused by the task service itself, and the gateway's cache
//! of accepted keys no longer answers for it).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use pulse_bus::{Bus, StartAt};
use pulse_proto::tasks::KEY_REVOCATIONS;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::feed;

#[derive(Debug, Default)]
pub struct Revocations {
    /// One token per key seen on this gateway; connections hold child tokens.
    /// Entries stay for the gateway's life: there is one per tenant key, not
    /// per connection.
    keys: Mutex<HashMap<Uuid, CancellationToken>>,
}

impl Revocations {
    fn keys(&self) -> MutexGuard<'_, HashMap<Uuid, CancellationToken>> {
        self.keys.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Cancelled when `key_id` is revoked (at once if it already was).
    pub fn watch(&self, key_id: Uuid) -> CancellationToken {
        self.keys().entry(key_id).or_default().child_token()
    }

    /// Whether `key_id` was revoked while this gateway ran (the virtual-key cache asks, so a
    /// revoked key is refused at once rather than when its cache entry expires).
    pub fn is_revoked(&self, key_id: Uuid) -> bool {
        self.keys()
            .get(&key_id)
            .is_some_and(CancellationToken::is_cancelled)
    }

    /// Ends everything `key_id` authenticated on this gateway.
    pub fn revoke(&self, key_id: Uuid) {
        let token = self.keys().entry(key_id).or_default().clone();
        if !token.is_cancelled() {
            tracing::info!(virtual_key_id = %key_id, "virtual key revoked; closing its connections");
            token.cancel();
        }
    }

    /// Follows the revocation topic until `shutdown`, in the background, from the
    /// oldest revocation the stream retains. The topic's stream may not exist
    /// yet (the task service creates it), so subscribing is retried every
    /// `retry_delay` until it succeeds; following only what comes after the
    /// subscription would miss a revocation published between the stream's
    /// creation and that retry, and leave the key's connections open. Replaying
    /// older ones costs a cancelled token per key revoked, as every revocation
    /// is for good.
    pub fn follow(self: &Arc<Self>, bus: Bus, retry_delay: Duration, shutdown: CancellationToken) {
        let revocations = self.clone();
        tokio::spawn(async move {
            let topic = KEY_REVOCATIONS.topic();
            let deliveries = loop {
                match bus.subscribe(&topic, StartAt::StreamSequence(1)).await {
                    Ok(deliveries) => break deliveries,
                    Err(error) => {
                        tracing::debug!(%error, "key revocations not followed yet; retrying");
                        tokio::select! {
                            () = shutdown.cancelled() => return,
                            () = tokio::time::sleep(retry_delay) => {}
                        }
                    }
                }
            };
            feed::follow(bus, topic, deliveries, retry_delay, shutdown, move |_, event, _| {
                if let Some(key) = pulse_proto::revoked_key(event) {
                    match Uuid::parse_str(key) {
                        Ok(key_id) => revocations.revoke(key_id),
                        Err(_) => tracing::error!(id = %key, "revocation of a malformed key id ignored"),
                    }
                }
            })
            .await;
        });
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use prost::Message;
    use pulse_bus::Namespace;
    use pulse_proto::{
        events::v1::{Event, EventEnvelope},
        tasks::v1::{event::Kind, VirtualKeyRevoked},
    };

    use super::*;

    #[tokio::test]
    async fn a_revocation_published_before_the_gateway_follows_still_closes_the_key() {
        let bus = Bus::memory(Namespace::new("revocations").expect("namespace"));
        let key = Uuid::new_v4();
        let envelope = EventEnvelope {
            group: KEY_REVOCATIONS.topic().group(),
            sequence: 1,
            event: Some(Event::from(Kind::VirtualKeyRevoked(VirtualKeyRevoked {
                virtual_key_id: key.to_string(),
                ..VirtualKeyRevoked::default()
            }))),
            ..EventEnvelope::default()
        };
        bus.publish(
            &KEY_REVOCATIONS.topic(),
            "revoked",
            Bytes::from(envelope.encode_to_vec()),
        )
        .await
        .expect("publish");
        let revocations = Arc::new(Revocations::default());
        let watching = revocations.watch(key);
        let shutdown = CancellationToken::new();
        revocations.follow(bus, Duration::from_millis(10), shutdown.clone());
        tokio::time::timeout(Duration::from_secs(10), watching.cancelled())
            .await
            .expect("the key's connections are told within 10 s");
        shutdown.cancel();
    }

    #[test]
    fn revoking_a_key_cancels_its_watchers_and_later_ones_only() {
        let revocations = Revocations::default();
        let (revoked, other) = (Uuid::new_v4(), Uuid::new_v4());
        let before = revocations.watch(revoked);
        let unrelated = revocations.watch(other);
        revocations.revoke(revoked);
        assert!(before.is_cancelled());
        assert!(revocations.watch(revoked).is_cancelled());
        assert!(!unrelated.is_cancelled());
    }
}
