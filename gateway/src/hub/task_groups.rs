//! `/hubs/video-generation`, `/hubs/image-generation` and `/hubs/tasks`
//! (CONTRACT §3.4): a virtual key's connection follows one of its own
//! requests or tasks at a time or several, by subscribing to it. Ownership is
//! the task service's answer, checked on every subscribe exactly as a gRPC
//! stream's follow is.

use pulse_bus::Topic;
use serde_json::Value;
use uuid::Uuid;

use super::{
    access::{authorize, Requester},
    Arguments, Caller, HubError, Services,
};

/// The text for a missing id, the same on the three hubs.
const ID_REQUIRED: &str = "Request ID is required";

/// What a hub's connections subscribe to.
#[derive(Debug, Clone, Copy)]
pub(super) enum Followed {
    Video,
    Image,
    Task,
}

impl Followed {
    /// The hub's two methods, lower-cased (invocation targets match
    /// case-insensitively).
    fn methods(self) -> (&'static str, &'static str) {
        match self {
            Followed::Video => (
                "subscribetovideogeneration",
                "unsubscribefromvideogeneration",
            ),
            Followed::Image => (
                "subscribetoimagegeneration",
                "unsubscribefromimagegeneration",
            ),
            Followed::Task => ("subscribetotask", "unsubscribefromtask"),
        }
    }

    fn topic(self, id: Uuid) -> Topic {
        match self {
            Followed::Video => Topic::Video(id),
            Followed::Image => Topic::Image(id),
            Followed::Task => Topic::Task(id),
        }
    }

    fn id_name(self) -> &'static str {
        match self {
            Followed::Video | Followed::Image => "requestId",
            Followed::Task => "taskId",
        }
    }
}

pub(super) async fn invoke(
    followed: Followed,
    services: &Services,
    caller: &mut Caller,
    target: &str,
    args: Arguments,
) -> Result<Option<Value>, HubError> {
    let (subscribe, unsubscribe) = followed.methods();
    let target = target.to_ascii_lowercase();
    if target == subscribe {
        args.expect(1)?;
        let topic = target_topic(followed, &args)?;
        authorize(services, Requester::of(caller), &caller.on_behalf(), topic).await?;
        super::join_group(services, caller, topic).await?;
        caller.joined.insert(topic);
        tracing::info!(group = %topic, "subscribed");
        Ok(None)
    } else if target == unsubscribe {
        args.expect(1)?;
        let topic = target_topic(followed, &args)?;
        if caller.joined.remove(&topic) {
            services.node.leave(&topic, &caller.connection_id);
        }
        Ok(None)
    } else {
        Err(HubError::UnknownMethod)
    }
}

/// The group named by the first argument. An id that cannot be one of the
/// key's requests is refused like someone else's.
fn target_topic(followed: Followed, args: &Arguments) -> Result<Topic, HubError> {
    let id: Option<String> = args.object(0, followed.id_name())?;
    let id = id.unwrap_or_default();
    if id.trim().is_empty() {
        return Err(HubError::Refused(ID_REQUIRED.into()));
    }
    match Uuid::parse_str(id.trim()) {
        Ok(id) => Ok(followed.topic(id)),
        Err(_) => Err(HubError::Denied(
            super::access::denial(followed.topic(Uuid::nil())).into(),
        )),
    }
}
