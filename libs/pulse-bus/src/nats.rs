//! NATS JetStream implementation.

use std::time::Duration;

use async_nats::ServerAddr;
use async_nats::{
    header::{HeaderMap, NATS_EXPECTED_LAST_MESSAGE_ID, NATS_MESSAGE_ID},
    jetstream::{
        self,
        consumer::{push::OrderedConfig, DeliverPolicy},
        context::{PublishError, PublishErrorKind},
        stream::{Config as StreamConfig, LastRawMessageErrorKind, RetentionPolicy, StorageType},
    },
};
use bytes::Bytes;
use futures::StreamExt;

use crate::{
    BusError, BusErrorKind, Deliveries, Delivery, GroupKind, Namespace, Outgoing, StartAt,
    StreamReplicas, Topic,
};

/// The servers of a comma-separated list of URLs, each checked here so a typo
/// is named at start-up instead of retried forever.
fn server_addrs(urls: &str) -> Result<Vec<ServerAddr>, BusError> {
    let servers = urls
        .split(',')
        .map(str::trim)
        .filter(|url| !url.is_empty())
        .map(|url| {
            url.parse::<ServerAddr>().map_err(|error| {
                BusError::new(BusErrorKind::Connect, format!("NATS URL {url:?}: {error}"))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if servers.is_empty() {
        return Err(BusError::new(BusErrorKind::Connect, "no NATS URL given"));
    }
    Ok(servers)
}

/// The W3C trace-context header (`pulse_telemetry::TRACEPARENT`).
const TRACEPARENT: &str = "traceparent";

/// How long JetStream remembers message ids to drop re-published duplicates.
/// Longer than any relay retry burst; consumers also de-duplicate by the
/// group sequence, which covers anything older.
const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);

#[derive(Clone, Debug)]
pub struct NatsBus {
    client: async_nats::Client,
    jetstream: jetstream::Context,
    namespace: Namespace,
    /// Copies of each stream the cluster keeps (1 on a single server).
    replicas: StreamReplicas,
}

impl NatsBus {
    /// `urls`: one server, or several separated by commas (the seeds of a
    /// cluster; the client learns the rest from the servers and fails over).
    pub(crate) async fn connect(urls: &str, namespace: Namespace) -> Result<Self, BusError> {
        let servers = server_addrs(urls)?;
        let client = async_nats::ConnectOptions::new()
            .name("pulse")
            .retry_on_initial_connect()
            .connect(servers.as_slice())
            .await
            .map_err(|e| BusError::new(BusErrorKind::Connect, e))?;
        let jetstream = jetstream::new(client.clone());
        Ok(Self {
            client,
            jetstream,
            namespace,
            replicas: StreamReplicas::ONE,
        })
    }

    pub(crate) fn set_stream_replicas(&mut self, replicas: StreamReplicas) {
        self.replicas = replicas;
    }

    pub(crate) fn namespace(&self) -> &Namespace {
        &self.namespace
    }

    pub(crate) fn client(&self) -> &async_nats::Client {
        &self.client
    }

    pub(crate) async fn ensure_stream(
        &self,
        kind: GroupKind,
        retention: Duration,
    ) -> Result<(), BusError> {
        let config = StreamConfig {
            name: self.namespace.stream_name(kind),
            subjects: vec![self.namespace.stream_subjects(kind)],
            retention: RetentionPolicy::Limits,
            storage: StorageType::File,
            max_age: retention,
            duplicate_window: DUPLICATE_WINDOW,
            num_replicas: self.replicas.get(),
            ..Default::default()
        };
        let name = config.name.clone();
        match self.jetstream.get_or_create_stream(config).await {
            Ok(_) => Ok(()),
            // Another process (or a concurrent caller) created it between our
            // lookup and our create, possibly with other limits: it exists,
            // which is all this asks.
            Err(error) => match self.jetstream.get_stream(&name).await {
                Ok(_) => Ok(()),
                Err(_) => Err(BusError::new(BusErrorKind::Stream, error)),
            },
        }
    }

    pub(crate) async fn publish(
        &self,
        topic: &Topic,
        msg_id: &str,
        payload: Bytes,
    ) -> Result<(), BusError> {
        let message = Outgoing {
            topic: *topic,
            msg_id: msg_id.to_owned(),
            payload,
            after: None,
            traceparent: None,
        };
        let mut results = self.publish_all(vec![message]).await;
        results.pop().unwrap_or_else(|| {
            Err(BusError::new(
                BusErrorKind::Publish,
                "no acknowledgement for the message",
            ))
        })
    }

    /// Sends every message, then collects the acknowledgements in order. A message larger
    /// than the server takes is refused here, unsent: the server would close the connection
    /// over it, failing every other publish and subscription on it.
    pub(crate) async fn publish_all(&self, messages: Vec<Outgoing>) -> Vec<Result<(), BusError>> {
        let largest = self
            .client
            .server_info()
            .max_payload
            .saturating_sub(crate::HEADER_ROOM);
        let mut pending = Vec::with_capacity(messages.len());
        for message in messages {
            if message.payload.len() > largest {
                pending.push(Err(crate::too_large(message.payload.len(), largest)));
                continue;
            }
            let mut headers = HeaderMap::new();
            headers.insert(NATS_MESSAGE_ID, message.msg_id.as_str());
            if let Some(after) = &message.after {
                headers.insert(NATS_EXPECTED_LAST_MESSAGE_ID, after.as_str());
            }
            if let Some(traceparent) = &message.traceparent {
                headers.insert(TRACEPARENT, traceparent.as_str());
            }
            let sent = self
                .jetstream
                .publish_with_headers(
                    self.namespace.subject(&message.topic),
                    headers,
                    message.payload,
                )
                .await
                .map_err(publish_error);
            pending.push(sent);
        }
        let mut results = Vec::with_capacity(pending.len());
        for sent in pending {
            results.push(match sent {
                Ok(ack) => ack.await.map(|_| ()).map_err(publish_error),
                Err(error) => Err(error),
            });
        }
        results
    }

    pub(crate) async fn last_stream_sequence(
        &self,
        topic: &Topic,
    ) -> Result<Option<u64>, BusError> {
        let stream = self
            .jetstream
            .get_stream(self.namespace.stream_name(topic.kind()))
            .await
            .map_err(|e| BusError::new(BusErrorKind::Subscribe, e))?;
        match stream
            .get_last_raw_message_by_subject(&self.namespace.subject(topic))
            .await
        {
            Ok(message) => Ok(Some(message.sequence)),
            Err(error) if error.kind() == LastRawMessageErrorKind::NoMessageFound => Ok(None),
            Err(error) => Err(BusError::new(BusErrorKind::Subscribe, error)),
        }
    }

    /// An ordered push consumer filtered to the topic's subject: JetStream
    /// resends from the last delivered position after a reconnect or a
    /// detected gap, so the stream has neither holes nor reorders.
    pub(crate) async fn subscribe(
        &self,
        topic: &Topic,
        start: StartAt,
    ) -> Result<Deliveries, BusError> {
        let stream = self
            .jetstream
            .get_stream(self.namespace.stream_name(topic.kind()))
            .await
            .map_err(|e| BusError::new(BusErrorKind::Subscribe, e))?;
        let deliver_policy = match start {
            StartAt::New => DeliverPolicy::New,
            StartAt::StreamSequence(start_sequence) => {
                DeliverPolicy::ByStartSequence { start_sequence }
            }
        };
        let consumer = stream
            .create_consumer(OrderedConfig {
                deliver_subject: self.client.new_inbox(),
                filter_subject: self.namespace.subject(topic),
                deliver_policy,
                ..Default::default()
            })
            .await
            .map_err(|e| BusError::new(BusErrorKind::Subscribe, e))?;
        let messages = consumer
            .messages()
            .await
            .map_err(|e| BusError::new(BusErrorKind::Subscribe, e))?;
        Ok(messages
            .map(|message| {
                let message = message.map_err(|e| BusError::new(BusErrorKind::Subscribe, e))?;
                let info = message
                    .info()
                    .map_err(|e| BusError::new(BusErrorKind::Subscribe, e))?;
                // Present only on messages published with tracing on.
                let traceparent = message
                    .headers
                    .as_ref()
                    .and_then(|headers| headers.get(TRACEPARENT))
                    .map(|value| value.as_str().to_owned());
                Ok(Delivery {
                    stream_sequence: info.stream_sequence,
                    payload: message.payload.clone(),
                    traceparent,
                })
            })
            .boxed())
    }
}

/// A refused publish's kind: out of turn when its `Nats-Expected-Last-Msg-Id` did not hold.
fn publish_error(error: PublishError) -> BusError {
    let kind = match error.kind() {
        PublishErrorKind::WrongLastMessageId => BusErrorKind::OutOfTurn,
        _ => BusErrorKind::Publish,
    };
    BusError::new(kind, error)
}
