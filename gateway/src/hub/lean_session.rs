//! `/hubs/lean-session` (CONTRACT §3.2): membership of session groups and
//! participation (through the mechanism shared with list presence,
//! [`presence`]); every command forwarded to the Lean Coffee service,
//! whose events reach the group through the bus.

use pulse_proto::leancoffee::v1::{
    lean_coffee_client::LeanCoffeeClient, AddTopicRequest, ChangeSessionStatusRequest,
    CreateSessionRequest, DeleteTopicRequest, EditTopicRequest, GetSessionRequest,
    ListActiveParticipantsRequest, ListSessionsRequest, NewTopic, SetTopicStatusRequest,
    TopicPatch, VoteRequest,
};
use pulse_proto::leancoffee::SESSION;
use serde_json::Value;
use uuid::Uuid;

use super::{
    access::{Access, Follow},
    forward,
    presence::{self, Scope},
    spec::no_groups,
    Arguments, Caller, HubError, HubKind, HubSpec, OnBehalf, Services, Upstream,
};
use crate::principal::PrincipalKind;

/// The Lean Coffee service, which this hub and session participation call.
pub(crate) const LEAN_COFFEE: Upstream = Upstream {
    name: "lean-coffee",
    default_url: "http://127.0.0.1:50052",
    help: "gRPC URL of the Lean Coffee service",
};

pub(crate) const HUB: HubKind = HubKind(&HubSpec {
    path: "/hubs/lean-session",
    dotnet_name: "LeanSessionHub",
    admits: &[PrincipalKind::User],
    automatic_groups: no_groups,
    invoke: Some(|services, caller, target, args| Box::pin(invoke(services, caller, target, args))),
    write_commands: &[
        "CreateSession",
        "ChangeSessionStatus",
        "AddTopic",
        "EditTopic",
        "DeleteTopic",
        "SetTopicStatus",
        "VoteForTopic",
        "RemoveVote",
    ],
    disconnected: Some(presence::disconnected),
    follows: &[Follow::new(
        SESSION.kind(),
        Access::Ask(PrincipalKind::User, |services, on_behalf, session_id| {
            Box::pin(may_follow(services, on_behalf, session_id))
        }),
    )],
    upstream: Some(&LEAN_COFFEE),
});

/// A session's events are for any signed-in user who knows its id (the id
/// is the invitation): the Lean Coffee service answers for sessions that
/// exist.
async fn may_follow(
    services: &Services,
    on_behalf: &OnBehalf,
    session_id: Uuid,
) -> Result<bool, tonic::Status> {
    let request = on_behalf.request(GetSessionRequest {
        session_id: session_id.to_string(),
    });
    let mut lean = LeanCoffeeClient::new(services.channels.get(&LEAN_COFFEE)?);
    lean.get_session(request).await?;
    Ok(true)
}

pub(super) async fn invoke(
    services: &Services,
    caller: &mut Caller,
    target: &str,
    args: Arguments,
) -> Result<Option<Value>, HubError> {
    let mut lean = LeanCoffeeClient::new(services.channels.get(&LEAN_COFFEE)?);
    match target.to_ascii_lowercase().as_str() {
        "joinsession" => {
            args.expect(1)?;
            join(services, caller, args.id(0, "sessionId")?).await
        }
        "leavesession" => {
            args.expect(1)?;
            presence::leave(services, caller, Scope::Session(args.id(0, "sessionId")?));
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
            super::catch_up::get_missed_events(services, caller, &args, SESSION, "sessionId").await
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

/// Joins the session's group and makes the caller a participant (see
/// [`presence`]).
async fn join(
    services: &Services,
    caller: &mut Caller,
    session_id: Uuid,
) -> Result<Option<Value>, HubError> {
    presence::join(services, caller, Scope::Session(session_id)).await?;
    tracing::info!(session_id = %session_id, "joined session");
    Ok(None)
}
