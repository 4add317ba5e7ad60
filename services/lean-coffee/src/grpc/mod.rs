//! The `LeanCoffee` gRPC service: authenticate, turn the request into
//! validated domain values, call the store, turn the result into the
//! response. Every call acts as the bearer token's user; no request names
//! the caller.

mod parse;

use pulse_auth::JwtValidator;
use pulse_presence::PresenceQueue;
use pulse_proto::leancoffee::v1::{self as proto, lean_coffee_server::LeanCoffee};
use tonic::{Request, Response, Status};

use crate::domain::{Actor, ConnectionId, NewSession, SessionStatus, TopicStatus};
use crate::store::{Participation, Store, Touching};

/// The tonic service. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct LeanCoffeeService {
    store: Store,
    /// Enters, exits and keep-alives, coalesced into batches (`pulse_presence`).
    presence: PresenceQueue<Store>,
    validator: JwtValidator,
}

type Reply<T> = Result<Response<T>, Status>;

impl LeanCoffeeService {
    /// Starts the presence queues' workers, which end with the service.
    pub(crate) fn new(store: Store, validator: JwtValidator) -> Self {
        Self {
            presence: PresenceQueue::start(store.clone()),
            store,
            validator,
        }
    }

    fn actor<T>(&self, request: &Request<T>) -> Result<Actor, Status> {
        let identity = pulse_grpc::authenticate(&self.validator, request)?;
        Ok(parse::actor(&identity)?)
    }
}

#[tonic::async_trait]
impl LeanCoffee for LeanCoffeeService {
    async fn create_session(
        &self,
        request: Request<proto::CreateSessionRequest>,
    ) -> Reply<proto::Session> {
        let actor = self.actor(&request)?;
        let request = request.into_inner();
        let new = NewSession::new(
            &request.title,
            request.description,
            request.scheduled_start_time.as_deref(),
        )?;
        let session = self.store.create_session(&actor, new).await?;
        Ok(Response::new((&session).into()))
    }

    async fn get_session(
        &self,
        request: Request<proto::GetSessionRequest>,
    ) -> Reply<proto::SessionSnapshot> {
        let actor = self.actor(&request)?;
        let session_id = parse::id("sessionId", &request.get_ref().session_id)?;
        let snapshot = self.store.get_session(&actor, session_id).await?;
        Ok(Response::new((&snapshot).into()))
    }

    async fn list_sessions(
        &self,
        request: Request<proto::ListSessionsRequest>,
    ) -> Reply<proto::ListSessionsResponse> {
        let actor = self.actor(&request)?;
        let sessions = self.store.list_sessions(&actor).await?;
        Ok(Response::new(proto::ListSessionsResponse {
            sessions: sessions.iter().map(Into::into).collect(),
        }))
    }

    async fn change_session_status(
        &self,
        request: Request<proto::ChangeSessionStatusRequest>,
    ) -> Reply<proto::Session> {
        let actor = self.actor(&request)?;
        let session_id = parse::id("sessionId", &request.get_ref().session_id)?;
        let status = SessionStatus::parse(&request.get_ref().status)?;
        let session = self
            .store
            .change_session_status(&actor, session_id, status)
            .await?;
        Ok(Response::new((&session).into()))
    }

    async fn add_topic(&self, request: Request<proto::AddTopicRequest>) -> Reply<proto::Topic> {
        let actor = self.actor(&request)?;
        let request = request.into_inner();
        let session_id = parse::id("sessionId", &request.session_id)?;
        let new = parse::new_topic(request.topic)?;
        let topic = self.store.add_topic(&actor, session_id, new).await?;
        Ok(Response::new((&topic).into()))
    }

    async fn edit_topic(&self, request: Request<proto::EditTopicRequest>) -> Reply<proto::Topic> {
        let actor = self.actor(&request)?;
        let request = request.into_inner();
        let session_id = parse::id("sessionId", &request.session_id)?;
        let topic_id = parse::id("topicId", &request.topic_id)?;
        let patch = parse::patch(request.patch)?;
        let topic = self
            .store
            .edit_topic(&actor, session_id, topic_id, patch)
            .await?;
        Ok(Response::new((&topic).into()))
    }

    async fn delete_topic(
        &self,
        request: Request<proto::DeleteTopicRequest>,
    ) -> Reply<proto::DeleteTopicResponse> {
        let actor = self.actor(&request)?;
        let session_id = parse::id("sessionId", &request.get_ref().session_id)?;
        let topic_id = parse::id("topicId", &request.get_ref().topic_id)?;
        self.store
            .delete_topic(&actor, session_id, topic_id)
            .await?;
        Ok(Response::new(proto::DeleteTopicResponse {
            topic_id: topic_id.to_string(),
        }))
    }

    async fn set_topic_status(
        &self,
        request: Request<proto::SetTopicStatusRequest>,
    ) -> Reply<proto::Topic> {
        let actor = self.actor(&request)?;
        let session_id = parse::id("sessionId", &request.get_ref().session_id)?;
        let topic_id = parse::id("topicId", &request.get_ref().topic_id)?;
        let status = TopicStatus::parse(&request.get_ref().status)?;
        let topic = self
            .store
            .set_topic_status(&actor, session_id, topic_id, status)
            .await?;
        Ok(Response::new((&topic).into()))
    }

    async fn vote_for_topic(&self, request: Request<proto::VoteRequest>) -> Reply<proto::Topic> {
        let actor = self.actor(&request)?;
        let session_id = parse::id("sessionId", &request.get_ref().session_id)?;
        let topic_id = parse::id("topicId", &request.get_ref().topic_id)?;
        let topic = self
            .store
            .vote_for_topic(&actor, session_id, topic_id)
            .await?;
        Ok(Response::new((&topic).into()))
    }

    async fn remove_vote(&self, request: Request<proto::VoteRequest>) -> Reply<proto::Topic> {
        let actor = self.actor(&request)?;
        let session_id = parse::id("sessionId", &request.get_ref().session_id)?;
        let topic_id = parse::id("topicId", &request.get_ref().topic_id)?;
        let topic = self.store.remove_vote(&actor, session_id, topic_id).await?;
        Ok(Response::new((&topic).into()))
    }

    async fn list_active_participants(
        &self,
        request: Request<proto::ListActiveParticipantsRequest>,
    ) -> Reply<proto::ListActiveParticipantsResponse> {
        self.actor(&request)?;
        let session_id = parse::id("sessionId", &request.get_ref().session_id)?;
        let participants = self.store.active_participants(session_id).await?;
        Ok(Response::new(proto::ListActiveParticipantsResponse {
            participants: participants.iter().map(Into::into).collect(),
        }))
    }

    async fn enter_session(
        &self,
        request: Request<proto::ParticipationRequest>,
    ) -> Reply<proto::Participant> {
        let actor = self.actor(&request)?;
        let session_id = parse::id("sessionId", &request.get_ref().session_id)?;
        let connection = ConnectionId::new(&request.get_ref().connection_id)?;
        let participant = self
            .presence
            .enter(Participation {
                actor,
                session_id,
                connection,
            })
            .await?;
        Ok(Response::new((&participant).into()))
    }

    async fn touch_session(
        &self,
        request: Request<proto::ParticipationRequest>,
    ) -> Reply<proto::TouchSessionResponse> {
        let actor = self.actor(&request)?;
        let session_id = parse::id("sessionId", &request.get_ref().session_id)?;
        let connection = ConnectionId::new(&request.get_ref().connection_id)?;
        self.presence
            .touch(Touching {
                user_id: actor.id,
                session_id,
                connection,
            })
            .await?;
        Ok(Response::new(proto::TouchSessionResponse {}))
    }

    async fn exit_session(
        &self,
        request: Request<proto::ParticipationRequest>,
    ) -> Reply<proto::ExitSessionResponse> {
        let actor = self.actor(&request)?;
        let session_id = parse::id("sessionId", &request.get_ref().session_id)?;
        let connection = ConnectionId::new(&request.get_ref().connection_id)?;
        self.presence
            .exit(Participation {
                actor,
                session_id,
                connection,
            })
            .await?;
        Ok(Response::new(proto::ExitSessionResponse {}))
    }
}
