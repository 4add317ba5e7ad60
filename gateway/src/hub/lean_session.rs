//! `/hubs/lean-session` (CONTRACT §3.2): membership of session groups and
//! participation here; every command forwarded to the Lean Coffee service,
//! whose events reach the group through the bus.

use pulse_bus::Topic;
use pulse_proto::leancoffee::v1::lean_coffee_client::LeanCoffeeClient;
use pulse_proto::leancoffee::v1::{
    AddTopicRequest, ChangeSessionStatusRequest, CreateSessionRequest, DeleteTopicRequest,
    EditTopicRequest, GetSessionRequest, ListActiveParticipantsRequest, ListSessionsRequest,
    NewTopic, ParticipationRequest, SetTopicStatusRequest, TopicPatch, VoteRequest,
};
use serde_json::Value;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::{CancellationToken, DropGuard};
use tonic::{transport::Channel, Code, Status};
use uuid::Uuid;

use super::{access::access_error, forward, Arguments, Caller, HubError, OnBehalf, Services};

pub(super) async fn invoke(
    services: &Services,
    caller: &mut Caller,
    target: &str,
    args: Arguments,
) -> Result<Option<Value>, HubError> {
    let mut lean = services.lean_coffee.clone();
    match target.to_ascii_lowercase().as_str() {
        "joinsession" => {
            args.expect(1)?;
            join(services, caller, args.id(0, "sessionId")?).await
        }
        "leavesession" => {
            args.expect(1)?;
            leave(services, caller, args.id(0, "sessionId")?).await;
            Ok(None)
        }
        "createsession" => {
            args.expect(1)?;
            let session: CreateSessionRequest = args.object(0, "session")?;
            forward(lean.create_session(caller.request(session))).await
        }
        "getsession" => {
            args.expect(1)?;
            let request = GetSessionRequest {
                session_id: args.id(0, "sessionId")?.to_string(),
            };
            forward(lean.get_session(caller.request(request))).await
        }
        "listsessions" => {
            args.expect(0)?;
            let request = caller.request(ListSessionsRequest {});
            forward(lean.list_sessions(request)).await
        }
        "changesessionstatus" => {
            args.expect(2)?;
            let request = ChangeSessionStatusRequest {
                session_id: args.id(0, "sessionId")?.to_string(),
                status: args.field(1, "status")?,
            };
            let request = caller.request(request);
            forward(lean.change_session_status(request)).await
        }
        "addtopic" => {
            args.expect(2)?;
            let request = AddTopicRequest {
                session_id: args.id(0, "sessionId")?.to_string(),
                topic: Some(args.object::<NewTopic>(1, "topic")?),
            };
            forward(lean.add_topic(caller.request(request))).await
        }
        "edittopic" => {
            args.expect(3)?;
            let request = EditTopicRequest {
                session_id: args.id(0, "sessionId")?.to_string(),
                topic_id: args.id(1, "topicId")?.to_string(),
                patch: Some(args.object::<TopicPatch>(2, "changes")?),
            };
            forward(lean.edit_topic(caller.request(request))).await
        }
        "deletetopic" => {
            args.expect(2)?;
            let request = DeleteTopicRequest {
                session_id: args.id(0, "sessionId")?.to_string(),
                topic_id: args.id(1, "topicId")?.to_string(),
            };
            forward(lean.delete_topic(caller.request(request))).await
        }
        "settopicstatus" => {
            args.expect(3)?;
            let request = SetTopicStatusRequest {
                session_id: args.id(0, "sessionId")?.to_string(),
                topic_id: args.id(1, "topicId")?.to_string(),
                status: args.field(2, "status")?,
            };
            forward(lean.set_topic_status(caller.request(request))).await
        }
        "votefortopic" => {
            args.expect(2)?;
            let request = caller.request(vote(&args)?);
            forward(lean.vote_for_topic(request)).await
        }
        "removevote" => {
            args.expect(2)?;
            let request = caller.request(vote(&args)?);
            forward(lean.remove_vote(request)).await
        }
        "getactiveparticipants" => {
            args.expect(1)?;
            let request = ListActiveParticipantsRequest {
                session_id: args.id(0, "sessionId")?.to_string(),
            };
            let request = caller.request(request);
            forward(lean.list_active_participants(request)).await
        }
        "getmissedevents" => {
            super::catch_up::get_missed_events(services, caller, &args, Topic::Session, "sessionId")
                .await
        }
        _ => Err(HubError::UnknownMethod),
    }
}

/// `VoteForTopic(sessionId, topicId)` and `RemoveVote(sessionId, topicId)`.
fn vote(args: &Arguments) -> Result<VoteRequest, HubError> {
    Ok(VoteRequest {
        session_id: args.id(0, "sessionId")?.to_string(),
        topic_id: args.id(1, "topicId")?.to_string(),
    })
}

/// The group's subscription is live before the caller becomes a participant
/// (so nothing after that is missed), and a refusal at any step leaves the
/// caller outside the group. While joined, a heartbeat keeps the service
/// from sweeping the connection.
async fn join(
    services: &Services,
    caller: &mut Caller,
    session_id: Uuid,
) -> Result<Option<Value>, HubError> {
    let topic = Topic::Session(session_id);
    super::join_group(services, caller, topic).await?;
    let mut lean = services.lean_coffee.clone();
    let entered = lean
        .enter_session(caller.request(participation(caller, session_id)))
        .await;
    if let Err(status) = entered {
        if !caller.joined.contains(&topic) {
            services.node.leave(&topic, &caller.connection_id);
        }
        // Joining reveals nothing: unknown sessions read `Access denied`.
        return Err(access_error(status));
    }
    caller.joined.insert(topic);
    let heartbeat = spawn_heartbeat(services, caller, session_id);
    caller.heartbeats.insert(topic, heartbeat);
    tracing::info!(session_id = %session_id, "joined session");
    Ok(None)
}

/// Leaving stops the heartbeat first, so it cannot enter again behind the
/// exit.
async fn leave(services: &Services, caller: &mut Caller, session_id: Uuid) {
    let topic = Topic::Session(session_id);
    services.node.leave(&topic, &caller.connection_id);
    caller.heartbeats.remove(&topic);
    if caller.joined.remove(&topic) {
        let mut lean = services.lean_coffee.clone();
        if let Err(status) = lean
            .exit_session(caller.request(participation(caller, session_id)))
            .await
        {
            tracing::warn!(session_id = %session_id, %status, "session exit failed; the sweeper will end it");
        }
    }
}

pub(super) async fn disconnected(services: &Services, caller: &mut Caller) {
    let sessions: Vec<Uuid> = caller
        .joined
        .iter()
        .filter_map(|topic| match topic {
            Topic::Session(session_id) => Some(*session_id),
            _ => None,
        })
        .collect();
    for session_id in sessions {
        leave(services, caller, session_id).await;
    }
}

/// Tells the service every heartbeat interval that this connection is still
/// in the session, so only connections of a gateway that died are swept. A
/// connection the service swept anyway (it was unreachable for a while)
/// enters again. Runs until the returned guard is dropped.
fn spawn_heartbeat(services: &Services, caller: &Caller, session_id: Uuid) -> DropGuard {
    let stop = CancellationToken::new();
    let guard = stop.clone().drop_guard();
    let mut lean = services.lean_coffee.clone();
    let credentials = caller.on_behalf();
    let request = participation(caller, session_id);
    let period = services.participant_heartbeat;
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval_at(Instant::now() + period, period);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = ticker.tick() => {}
            }
            tokio::select! {
                () = stop.cancelled() => return,
                beaten = beat(&mut lean, &credentials, &request) => {
                    if let Err(status) = beaten {
                        tracing::warn!(
                            session_id = %request.session_id,
                            conn_id = %request.connection_id,
                            %status,
                            "session heartbeat failed; retrying at the next one"
                        );
                    }
                }
            }
        }
    });
    guard
}

async fn beat(
    lean: &mut LeanCoffeeClient<Channel>,
    credentials: &OnBehalf,
    request: &ParticipationRequest,
) -> Result<(), Status> {
    match lean
        .touch_session(credentials.request(request.clone()))
        .await
    {
        Err(status) if status.code() == Code::NotFound => lean
            .enter_session(credentials.request(request.clone()))
            .await
            .map(|_| ()),
        touched => touched.map(|_| ()),
    }
}

fn participation(caller: &Caller, session_id: Uuid) -> ParticipationRequest {
    ParticipationRequest {
        session_id: session_id.to_string(),
        connection_id: caller.connection_id.to_string(),
    }
}
