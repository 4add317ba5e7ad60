//! `pulse.gateway.v1.Subscriptions/Subscribe`.

use std::{
    collections::{HashMap, HashSet},
    pin::Pin,
    sync::{Arc, OnceLock},
    time::Duration,
};

use chrono::Utc;
use futures::Stream;
use prost::Message;
use pulse_bus::{Bus, Topic};
use pulse_proto::{
    coaching::{CHAT, GOALS, NOTIFICATIONS},
    leancoffee::SESSION,
    lists::LIST,
    tasks::{ADMIN, IMAGE, NAVIGATION, SPEND, SYSTEM, TASK, VIDEO, WEBHOOKS},
};
use pulse_proto::{
    events::v1::EventEnvelope,
    gateway::v1::{
        follow::Target, subscription_message::Kind, subscriptions_server::Subscriptions,
        EventDelivery, Heartbeat, KeyChannel, SubscribeRequest, SubscriptionMessage, UserChannel,
    },
    revoked_member, EventName,
};
use tokio::{sync::mpsc, time::Instant};
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};
use tracing::Instrument;
use uuid::Uuid;

use super::{
    encoder::EnvelopeEncoder,
    replay::{replay, ReplayError},
};
use crate::{
    hub::{authorize, until_revoked, HubError, OnBehalf, Requester, Services, ACCESS_DENIED},
    node::{outbound, Member, OpenCount, Opened, Outbound, OutboundReceiver},
    principal::{AuthFailure, Authenticator},
    session::CloseSchedule,
    task_boundary::{catch_panic, Panicked},
};

/// Limits of one subscription.
#[derive(Debug, Clone)]
pub struct StreamConfig {
    /// A Heartbeat is sent when nothing else was sent for this long.
    pub heartbeat_interval: Duration,
    /// Bytes of live events that may wait behind a slow reader (or a replay)
    /// before the stream is ended with RESOURCE_EXHAUSTED.
    pub queue_bytes: usize,
    /// Follows one request may name: each is a group membership and a replay the gateway holds
    /// for the client.
    pub max_follows: usize,
}

/// Why a stream ends when its credential's lifetime is over: the hubs' words; the client
/// subscribes again with a fresh credential, from the last sequence received.
const CREDENTIAL_EXPIRED: &str = "Authentication expired.";

/// Messages handed to tonic; small, because the node queue is the buffer.
const CHANNEL_CAPACITY: usize = 16;

#[derive(Clone)]
pub struct SubscriptionService {
    services: Services,
    bus: Bus,
    authenticator: Authenticator,
    config: StreamConfig,
    /// Cancelled when the gateway stops: streams end (resumably) instead of
    /// holding the shutdown open, each at its turn in `close_schedule`.
    shutdown: CancellationToken,
    close_schedule: Arc<CloseSchedule>,
    /// Subscriptions running now, for the metrics endpoint.
    open: OpenCount,
}

impl SubscriptionService {
    pub fn new(
        services: Services,
        bus: Bus,
        authenticator: Authenticator,
        config: StreamConfig,
        shutdown: CancellationToken,
        close_schedule: Arc<CloseSchedule>,
    ) -> Self {
        Self {
            services,
            bus,
            authenticator,
            config,
            shutdown,
            close_schedule,
            open: OpenCount::default(),
        }
    }

    /// Counts the subscriptions running now (each until its task ends, however it ends).
    pub(crate) fn open_streams(&self) -> OpenCount {
        self.open.clone()
    }
}

type MessageStream = Pin<Box<dyn Stream<Item = Result<SubscriptionMessage, Status>> + Send>>;

#[tonic::async_trait]
impl Subscriptions for SubscriptionService {
    type SubscribeStream = MessageStream;

    async fn subscribe(
        &self,
        request: Request<SubscribeRequest>,
    ) -> Result<Response<Self::SubscribeStream>, Status> {
        if self.shutdown.is_cancelled() {
            return Err(Status::unavailable(
                "gateway is shutting down; subscribe through another gateway",
            ));
        }
        let token = bearer(&request)
            .ok_or_else(|| Status::unauthenticated("missing bearer token"))?
            .to_owned();
        let principal = self
            .authenticator
            .authenticate(&token)
            .await
            .map_err(|failure| match failure {
                AuthFailure::Refused => Status::unauthenticated("invalid credential"),
                AuthFailure::Unavailable(error) => Status::unavailable(error),
            })?;
        let identity = principal.identity.clone();
        let on_behalf =
            OnBehalf::new(&token).ok_or_else(|| Status::unauthenticated("invalid credential"))?;
        let follows = parse_follows(
            request.into_inner(),
            identity.user_id,
            self.config.max_follows,
        )?;
        let requester = Requester {
            id: identity.user_id,
            kind: principal.kind,
        };
        for (topic, _) in &follows {
            authorize(&self.services, requester, &on_behalf, *topic)
                .await
                .map_err(status)?;
        }
        let (frames_tx, frames) = outbound(self.config.queue_bytes);
        let member = Member::new(
            Arc::from(format!("grpc-{}", Uuid::new_v4())),
            identity.user_id,
            Arc::new(EnvelopeEncoder),
            frames_tx.clone(),
        );
        for (topic, _) in &follows {
            if let Err(error) = self.services.node.join(*topic, member.clone()).await {
                leave_all(&self.services, &follows, &member);
                return Err(Status::unavailable(error.to_string()));
            }
        }
        let (tx, rx) = mpsc::channel(CHANNEL_CAPACITY);
        // One slot is kept for the final status, so a stream ended for being
        // slow can still say why, however full the channel is.
        let last_word = tx
            .clone()
            .reserve_owned()
            .await
            .map_err(|_| Status::internal("stream closed"))?;
        let span = tracing::info_span!("subscription", user_id = %identity.user_id, conn_id = %member.connection_id);
        let stream = Subscription {
            services: self.services.clone(),
            bus: self.bus.clone(),
            config: self.config.clone(),
            shutdown: self.shutdown.clone(),
            close_schedule: self.close_schedule.clone(),
            closing_at: OnceLock::new(),
            revoked: self.services.revoked(&principal),
            expiry: principal.expiry(),
            user_id: identity.user_id,
            follows,
            member,
            overflow: frames_tx,
            sink: Sink(tx),
            last_word,
            _open: self.open.open(),
        };
        tokio::spawn(stream.run(frames).instrument(span));
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }
}

/// The sending side of one stream.
pub(super) struct Sink(mpsc::Sender<Result<SubscriptionMessage, Status>>);

impl Sink {
    pub(super) async fn send(&self, kind: Kind) -> Result<(), ReplayError> {
        self.0
            .send(Ok(SubscriptionMessage { kind: Some(kind) }))
            .await
            .map_err(|_| ReplayError::ClientGone)
    }

    pub(super) async fn send_event(&self, envelope: EventEnvelope) -> Result<(), ReplayError> {
        let event_name = envelope
            .event
            .as_ref()
            .and_then(EventName::name)
            .unwrap_or_default()
            .to_owned();
        self.send(Kind::Event(Box::new(EventDelivery {
            group: envelope.group,
            sequence: envelope.sequence,
            event_name,
            event: envelope.event,
            occurred_at: envelope.occurred_at,
            server_time: now(),
        })))
        .await
    }
}

struct Subscription {
    services: Services,
    bus: Bus,
    config: StreamConfig,
    shutdown: CancellationToken,
    close_schedule: Arc<CloseSchedule>,
    /// This stream's turn to end once the gateway drains, taken when the drain starts.
    closing_at: OnceLock<Instant>,
    /// Cancelled when the credential is revoked (virtual keys).
    revoked: Option<CancellationToken>,
    /// The credential's lifetime ends: the stream ends, as a hub connection closes.
    expiry: tokio::time::Instant,
    user_id: Uuid,
    follows: Vec<(Topic, Option<u64>)>,
    member: Member,
    overflow: Outbound,
    sink: Sink,
    last_word: mpsc::OwnedPermit<Result<SubscriptionMessage, Status>>,
    /// Counts this subscription as open until it is dropped.
    _open: Opened,
}

impl Subscription {
    /// Replays what each follow asked for, then forwards live events until the
    /// client goes away, loses access, or stops reading.
    async fn run(self, mut frames: OutboundReceiver) {
        // Shutdown wins over anything the stream is waiting for, including a
        // send to a client that does not read.
        let forward = catch_panic(&self.member.connection_id, self.forward(&mut frames));
        let ending = tokio::select! {
            // Forwarding sees the shutdown first once it is live, and ends naming the positions
            // it delivered; this branch ends a stream still replaying.
            biased;
            // A panic is a defect of ours: the stream still leaves its groups and ends with a
            // status, as for any other end.
            ending = forward => ending.unwrap_or_else(|Panicked| Err(Status::internal("internal error"))),
            () = self.turn_to_close() => Err(Status::unavailable(
                "gateway is shutting down; resume from the last sequence received",
            )),
            () = until_revoked(self.revoked.as_ref()) => Err(Status::permission_denied("credential revoked")),
            () = tokio::time::sleep_until(self.expiry) => Err(Status::unauthenticated(CREDENTIAL_EXPIRED)),
        };
        leave_all(&self.services, &self.follows, &self.member);
        match ending {
            Ok(()) => tracing::info!("subscription ended by the client"),
            Err(status) => {
                tracing::info!(code = ?status.code(), message = status.message(), "subscription ended");
                self.last_word.send(Err(status));
            }
        }
    }

    /// Ready at this stream's turn once the gateway drains: streams end spread over the drain
    /// period, as SignalR connections close, so their clients do not all resubscribe to the
    /// other gateways at once. Every caller waits for the same instant.
    async fn turn_to_close(&self) {
        self.shutdown.cancelled().await;
        let at = *self.closing_at.get_or_init(|| self.close_schedule.turn());
        tokio::time::sleep_until(at).await;
    }

    async fn forward(&self, frames: &mut OutboundReceiver) -> Result<(), Status> {
        let mut sent: HashMap<String, u64> = HashMap::new();
        for (topic, after) in &self.follows {
            if let Some(after) = after {
                match replay(&self.bus, topic, *after, &self.sink).await {
                    Ok(last) => {
                        sent.insert(topic.group(), last);
                    }
                    Err(ReplayError::ClientGone) => return Ok(()),
                    Err(ReplayError::History(error)) => {
                        return Err(Status::unavailable(error.to_string()))
                    }
                }
            }
        }
        let mut heartbeat = tokio::time::interval(self.config.heartbeat_interval);
        heartbeat.reset();
        loop {
            let frame = tokio::select! {
                frame = frames.recv() => frame,
                _ = heartbeat.tick() => {
                    let beat = Kind::Heartbeat(Heartbeat { server_time: now() });
                    if self.sink.send(beat).await.is_err() {
                        return Ok(());
                    }
                    continue;
                }
                () = self.overflow.overflowed() => return Err(slow_consumer(&sent)),
                () = self.turn_to_close() => return Err(shutting_down(&sent)),
                () = self.sink.0.closed() => return Ok(()),
            };
            let Some(frame) = frame else {
                return Ok(());
            };
            let Ok(envelope) = EventEnvelope::decode(frame.bytes()) else {
                continue;
            };
            // Presence notices (sequence 0) are outside the numbered stream.
            let numbered = envelope.sequence != 0;
            if numbered
                && sent
                    .get(&envelope.group)
                    .is_some_and(|last| envelope.sequence <= *last)
            {
                continue;
            }
            let (group, sequence) = (envelope.group.clone(), envelope.sequence);
            let revoked = envelope
                .event
                .as_ref()
                .and_then(revoked_member)
                .is_some_and(|user| user == self.user_id.to_string());
            tokio::select! {
                sent = self.sink.send_event(envelope) => if sent.is_err() { return Ok(()) },
                // The event was not handed over: the status names the one before it.
                () = self.overflow.overflowed() => return Err(slow_consumer(&sent)),
                () = self.turn_to_close() => return Err(shutting_down(&sent)),
            }
            // Only once handed over: what the slow-consumer status names must have reached the
            // client, or resuming from it would skip this event.
            if numbered {
                sent.insert(group, sequence);
            }
            heartbeat.reset();
            if revoked {
                return Err(Status::permission_denied(ACCESS_DENIED));
            }
        }
    }
}

fn leave_all(services: &Services, follows: &[(Topic, Option<u64>)], member: &Member) {
    for (topic, _) in follows {
        services.node.leave(topic, &member.connection_id);
    }
}

/// The documented slow-consumer policy: the stream ends, naming the positions
/// delivered, and the client resumes from them.
fn slow_consumer(sent: &HashMap<String, u64>) -> Status {
    Status::resource_exhausted(format!(
        "client too slow; resume from the last sequence received ({})",
        positions(sent)
    ))
}

/// The gateway drains: the stream ends naming the positions delivered, for
/// the client to resume from on another gateway.
fn shutting_down(sent: &HashMap<String, u64>) -> Status {
    Status::unavailable(format!(
        "gateway is shutting down; resume from the last sequence received ({})",
        positions(sent)
    ))
}

/// `group=sequence` for every group with an event delivered, in group order.
fn positions(sent: &HashMap<String, u64>) -> String {
    let mut positions: Vec<String> = sent
        .iter()
        .map(|(group, seq)| format!("{group}={seq}"))
        .collect();
    positions.sort();
    positions.join(", ")
}

/// `user_id` is the caller's (a user or a virtual key): `own` and `key`
/// follows name one of its own groups. At most `max_follows`, each group once: a
/// group named twice would be replayed and delivered twice, so it is refused
/// rather than guessed at.
fn parse_follows(
    request: SubscribeRequest,
    user_id: Uuid,
    max_follows: usize,
) -> Result<Vec<(Topic, Option<u64>)>, Status> {
    if request.follows.is_empty() {
        return Err(Status::invalid_argument("follow at least one group"));
    }
    if request.follows.len() > max_follows {
        return Err(Status::invalid_argument(format!(
            "at most {max_follows} follows per subscription"
        )));
    }
    let mut groups = HashSet::with_capacity(request.follows.len());
    request
        .follows
        .into_iter()
        .map(|follow| {
            let topic = match follow.target {
                Some(Target::ListId(id)) => LIST.topic(parse_id(&id, "listId")?),
                Some(Target::SessionId(id)) => SESSION.topic(parse_id(&id, "sessionId")?),
                Some(Target::VideoRequestId(id)) => VIDEO.topic(parse_id(&id, "videoRequestId")?),
                Some(Target::ImageRequestId(id)) => IMAGE.topic(parse_id(&id, "imageRequestId")?),
                Some(Target::TaskId(id)) => TASK.topic(parse_id(&id, "taskId")?),
                Some(Target::Key(channel)) => match KeyChannel::try_from(channel) {
                    Ok(KeyChannel::Spend) => SPEND.topic(user_id),
                    Ok(KeyChannel::Webhooks) => WEBHOOKS.topic(user_id),
                    Ok(KeyChannel::Navigation) => NAVIGATION.topic(user_id),
                    Ok(KeyChannel::Unspecified) | Err(_) => {
                        return Err(Status::invalid_argument(
                            "key must be KEY_CHANNEL_SPEND, KEY_CHANNEL_WEBHOOKS or KEY_CHANNEL_NAVIGATION",
                        ))
                    }
                },
                Some(Target::System(true)) => SYSTEM.topic(),
                Some(Target::Admin(true)) => ADMIN.topic(),
                Some(Target::System(false) | Target::Admin(false)) => {
                    return Err(Status::invalid_argument("system and admin must be true"))
                }
                Some(Target::Own(channel)) => match UserChannel::try_from(channel) {
                    Ok(UserChannel::Chat) => CHAT.topic(user_id),
                    Ok(UserChannel::Goals) => GOALS.topic(user_id),
                    Ok(UserChannel::Notifications) => NOTIFICATIONS.topic(user_id),
                    Ok(UserChannel::Unspecified) | Err(_) => {
                        return Err(Status::invalid_argument(
                            "own must be USER_CHANNEL_CHAT, USER_CHANNEL_GOALS or USER_CHANNEL_NOTIFICATIONS",
                        ))
                    }
                },
                Some(Target::Group(name)) => pulse_proto::GROUP_KINDS.parse(&name)
                    .ok_or_else(|| Status::invalid_argument("group must name a group"))?,
                None => return Err(Status::invalid_argument("a follow needs a target")),
            };
            if !groups.insert(topic) {
                return Err(Status::invalid_argument(format!(
                    "{} is followed more than once",
                    topic.group()
                )));
            }
            Ok((topic, follow.after_sequence))
        })
        .collect()
}

fn parse_id(id: &str, name: &str) -> Result<Uuid, Status> {
    Uuid::parse_str(id)
        .map_err(|_| Status::invalid_argument(format!("{name} must be a UUID string")))
}

fn bearer<T>(request: &Request<T>) -> Option<&str> {
    request
        .metadata()
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .and_then(pulse_auth::bearer_from_header)
}

/// The hubs' refusals as gRPC statuses: the same texts, typed codes.
fn status(error: HubError) -> Status {
    match error {
        HubError::Denied(text) => Status::permission_denied(text),
        HubError::Refused(text) | HubError::BadArguments(text) => Status::invalid_argument(text),
        HubError::UnknownMethod => Status::unimplemented("unknown method"),
        HubError::CredentialRevoked(_) => Status::unauthenticated("credential refused"),
        HubError::Unavailable(_) => Status::unavailable("service unavailable, please retry"),
        HubError::Internal(detail) => {
            tracing::error!(%detail, "authorization failed");
            Status::internal("internal error")
        }
    }
}

fn now() -> String {
    pulse_proto::timestamp(Utc::now())
}
