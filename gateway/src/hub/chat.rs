//! `/hubs/chat` (CONTRACT §3.3): every connection is in its user's chat
//! group (joined on connect), where the coaching service delivers
//! `ReceiveMessage`, `MessageRead` and `MessageDeleted`. Commands are
//! forwarded to the service; `MessageSent` confirms a send to the calling
//! connection only.

use pulse_proto::coaching::v1::{
    coaching_client::CoachingClient, DeleteMessageRequest, GetConversationRequest,
    ListConversationsRequest, MarkAsReadRequest, SendMessageRequest,
};
use pulse_proto::coaching::CHAT;
use serde_json::Value;

use super::{
    access::{Access, Follow},
    forward_worded, result, worded_refusal, Arguments, Caller, HubError, HubKind, HubSpec,
    Services, Upstream,
};
use crate::principal::PrincipalKind;

/// The coaching service, which the chat, goals and notifications hubs call.
pub(crate) const COACHING: Upstream = Upstream {
    name: "coaching",
    default_url: "http://127.0.0.1:50053",
    help: "gRPC URL of the coaching service (chat, goals, notifications)",
};

pub(crate) const HUB: HubKind = HubKind(&HubSpec {
    path: "/hubs/chat",
    dotnet_name: "ChatHub",
    admits: &[PrincipalKind::User],
    automatic_groups: |_, user| vec![CHAT.topic(user)],
    invoke: Some(|services, caller, target, args| Box::pin(invoke(services, caller, target, args))),
    write_commands: &["SendMessage", "MarkAsRead", "DeleteMessage"],
    disconnected: None,
    follows: &[Follow::new(CHAT.kind(), Access::Own(PrincipalKind::User))],
    upstream: Some(&COACHING),
});

pub(super) async fn invoke(
    services: &Services,
    caller: &mut Caller,
    target: &str,
    args: Arguments,
) -> Result<Option<Value>, HubError> {
    let mut coaching = CoachingClient::new(services.channels.get(&COACHING)?);
    match target.to_ascii_lowercase().as_str() {
        "sendmessage" => {
            args.expect(2)?;
            let request = SendMessageRequest {
                recipient_id: args.id(0, "recipientId")?.to_string(),
                message: args.object(1, "message")?,
            };
            let message = coaching
                .send_message(caller.request(request))
                .await
                .map_err(worded_refusal)?
                .into_inner();
            caller.send("MessageSent", &message.id);
            result(&message)
        }
        "markasread" => {
            args.expect(1)?;
            let request = MarkAsReadRequest {
                message_id: args.id(0, "messageId")?.to_string(),
            };
            forward_worded(coaching.mark_as_read(caller.request(request))).await
        }
        "deletemessage" => {
            args.expect(1)?;
            let request = DeleteMessageRequest {
                message_id: args.id(0, "messageId")?.to_string(),
            };
            forward_worded(coaching.delete_message(caller.request(request))).await
        }
        "getconversation" => {
            args.expect(3)?;
            let request = GetConversationRequest {
                user_id: args.id(0, "userId")?.to_string(),
                before: args.object(1, "before")?,
                limit: args.object(2, "limit")?,
            };
            forward_worded(coaching.get_conversation(caller.request(request))).await
        }
        "getconversations" => {
            args.expect(0)?;
            forward_worded(coaching.list_conversations(caller.request(ListConversationsRequest {})))
                .await
        }
        _ => Err(HubError::UnknownMethod),
    }
}
