//! The `Coaching` gRPC service: authenticate, turn the request into
//! validated domain values, call the store, turn the result into the
//! response. Every call acts as the bearer token's user; no request names
//! the caller.

mod parse;

use pulse_auth::JwtValidator;
use pulse_proto::coaching::v1::{self as proto, coaching_server::Coaching};
use tonic::{Request, Response, Status};

use crate::domain::{Caller, Invitation, NewMessage, NewNotification, NewProgress, PageLimit};
use crate::store::Store;

/// The tonic service. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct CoachingService {
    store: Store,
    validator: JwtValidator,
}

type Reply<T> = Result<Response<T>, Status>;

impl CoachingService {
    pub(crate) fn new(store: Store, validator: JwtValidator) -> Self {
        Self { store, validator }
    }

    fn caller<T>(&self, request: &Request<T>) -> Result<Caller, Status> {
        let identity = pulse_grpc::authenticate(&self.validator, request)?;
        Ok(parse::caller(&identity)?)
    }
}

#[tonic::async_trait]
impl Coaching for CoachingService {
    async fn send_message(
        &self,
        request: Request<proto::SendMessageRequest>,
    ) -> Reply<proto::ChatMessage> {
        let caller = self.caller(&request)?;
        let request = request.into_inner();
        let recipient_id = parse::id("recipientId", &request.recipient_id)?;
        let new = NewMessage::new(caller.id, recipient_id, request.message)?;
        let message = self.store.send_message(new).await?;
        Ok(Response::new((&message).into()))
    }

    async fn mark_as_read(
        &self,
        request: Request<proto::MarkAsReadRequest>,
    ) -> Reply<proto::ChatMessage> {
        let caller = self.caller(&request)?;
        let message_id = parse::id("messageId", &request.get_ref().message_id)?;
        let message = self.store.mark_as_read(caller.id, message_id).await?;
        Ok(Response::new((&message).into()))
    }

    async fn delete_message(
        &self,
        request: Request<proto::DeleteMessageRequest>,
    ) -> Reply<proto::DeleteMessageResponse> {
        let caller = self.caller(&request)?;
        let message_id = parse::id("messageId", &request.get_ref().message_id)?;
        self.store.delete_message(caller.id, message_id).await?;
        Ok(Response::new(proto::DeleteMessageResponse {
            message_id: message_id.to_string(),
        }))
    }

    async fn get_conversation(
        &self,
        request: Request<proto::GetConversationRequest>,
    ) -> Reply<proto::ConversationPage> {
        let caller = self.caller(&request)?;
        let request = request.into_inner();
        let other_id = parse::id("userId", &request.user_id)?;
        let before = request
            .before
            .as_deref()
            .map(|before| parse::id("before", before))
            .transpose()?;
        let limit = PageLimit::new(request.limit)?;
        let page = self
            .store
            .conversation_page(caller.id, other_id, before, limit)
            .await?;
        Ok(Response::new((&page).into()))
    }

    async fn list_conversations(
        &self,
        request: Request<proto::ListConversationsRequest>,
    ) -> Reply<proto::ListConversationsResponse> {
        let caller = self.caller(&request)?;
        let conversations = self.store.conversations(caller.id).await?;
        Ok(Response::new(proto::ListConversationsResponse {
            conversations: conversations.iter().map(Into::into).collect(),
        }))
    }

    async fn invite_client(
        &self,
        request: Request<proto::InviteClientRequest>,
    ) -> Reply<proto::Relationship> {
        let caller = self.caller(&request)?;
        let client_id = parse::id("clientId", &request.get_ref().client_id)?;
        let invitation = Invitation::new(&caller, client_id, request.get_ref().can_edit_goals)?;
        let relationship = self.store.invite_client(&caller, invitation).await?;
        Ok(Response::new((&relationship).into()))
    }

    async fn accept_invitation(
        &self,
        request: Request<proto::RelationshipRequest>,
    ) -> Reply<proto::Relationship> {
        let caller = self.caller(&request)?;
        let id = parse::id("relationshipId", &request.get_ref().relationship_id)?;
        let relationship = self
            .store
            .change_relationship(id, |current, now| {
                current.accepted_by(caller.id, now).map(Some)
            })
            .await?;
        Ok(Response::new((&relationship).into()))
    }

    async fn end_relationship(
        &self,
        request: Request<proto::RelationshipRequest>,
    ) -> Reply<proto::Relationship> {
        let caller = self.caller(&request)?;
        let id = parse::id("relationshipId", &request.get_ref().relationship_id)?;
        let relationship = self
            .store
            .change_relationship(id, |current, now| {
                current.ended_by(caller.id, now).map(Some)
            })
            .await?;
        Ok(Response::new((&relationship).into()))
    }

    async fn set_goal_edit_permission(
        &self,
        request: Request<proto::SetGoalEditPermissionRequest>,
    ) -> Reply<proto::Relationship> {
        let caller = self.caller(&request)?;
        let id = parse::id("relationshipId", &request.get_ref().relationship_id)?;
        let can_edit_goals = request.get_ref().can_edit_goals;
        let relationship = self
            .store
            .change_relationship(id, |current, now| {
                current.with_goal_edit(caller.id, can_edit_goals, now)
            })
            .await?;
        Ok(Response::new((&relationship).into()))
    }

    async fn list_relationships(
        &self,
        request: Request<proto::ListRelationshipsRequest>,
    ) -> Reply<proto::ListRelationshipsResponse> {
        let caller = self.caller(&request)?;
        let relationships = self.store.relationships(caller.id).await?;
        Ok(Response::new(proto::ListRelationshipsResponse {
            relationships: relationships.iter().map(Into::into).collect(),
        }))
    }

    async fn assign_goal(&self, request: Request<proto::AssignGoalRequest>) -> Reply<proto::Goal> {
        let caller = self.caller(&request)?;
        let request = request.into_inner();
        let client_id = parse::id("clientId", &request.client_id)?;
        let new = parse::new_goal(request.goal)?;
        let goal = self.store.assign_goal(&caller, client_id, new).await?;
        Ok(Response::new((&goal).into()))
    }

    async fn update_goal_progress(
        &self,
        request: Request<proto::UpdateGoalProgressRequest>,
    ) -> Reply<proto::GoalProgress> {
        let caller = self.caller(&request)?;
        let request = request.into_inner();
        let goal_id = parse::id("goalId", &request.goal_id)?;
        let new = NewProgress::new(request.value, request.notes)?;
        let progress = self.store.record_progress(caller.id, goal_id, new).await?;
        Ok(Response::new((&progress).into()))
    }

    async fn list_goals(
        &self,
        request: Request<proto::ListGoalsRequest>,
    ) -> Reply<proto::ListGoalsResponse> {
        let caller = self.caller(&request)?;
        let owner_id = match request.get_ref().user_id.as_deref() {
            Some(user_id) => parse::id("userId", user_id)?,
            None => caller.id,
        };
        let goals = self.store.goals(caller.id, owner_id).await?;
        Ok(Response::new(proto::ListGoalsResponse {
            goals: goals.iter().map(Into::into).collect(),
        }))
    }

    async fn list_goal_progress(
        &self,
        request: Request<proto::ListGoalProgressRequest>,
    ) -> Reply<proto::ListGoalProgressResponse> {
        let caller = self.caller(&request)?;
        let goal_id = parse::id("goalId", &request.get_ref().goal_id)?;
        let progress = self.store.progress(caller.id, goal_id).await?;
        Ok(Response::new(proto::ListGoalProgressResponse {
            progress: progress.iter().map(Into::into).collect(),
        }))
    }

    async fn notify(&self, request: Request<proto::NotifyRequest>) -> Reply<proto::Notification> {
        let caller = self.caller(&request)?;
        caller.require_internal()?;
        let request = request.into_inner();
        let user_id = parse::id("userId", &request.user_id)?;
        let new = NewNotification::new(user_id, &request.kind, &request.title, request.body)?;
        let notification = self.store.notify(new).await?;
        Ok(Response::new((&notification).into()))
    }

    async fn list_notifications(
        &self,
        request: Request<proto::ListNotificationsRequest>,
    ) -> Reply<proto::ListNotificationsResponse> {
        let caller = self.caller(&request)?;
        let limit = PageLimit::new(request.get_ref().limit)?;
        let notifications = self.store.notifications(caller.id, limit).await?;
        Ok(Response::new(proto::ListNotificationsResponse {
            notifications: notifications.iter().map(Into::into).collect(),
        }))
    }
}
