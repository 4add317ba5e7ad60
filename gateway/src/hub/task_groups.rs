//! `/hubs/video-generation`, `/hubs/image-generation` and `/hubs/tasks`
//! (CONTRACT §3.4): a virtual key's connection follows one of its own
//! requests or tasks at a time or several, by subscribing to it. Ownership is
//! the task service's answer, checked on every subscribe exactly as a gRPC
//! stream's follow is.

use pulse_bus::{PerEntityKind, Topic};
use pulse_proto::tasks::{
    self,
    v1::{tasks_client::TasksClient, GetTaskRequest},
};
use serde_json::Value;
use uuid::Uuid;

use super::{
    access::{authorize, Access, Follow, Requester},
    spec::no_groups,
    Arguments, Caller, HubError, HubKind, HubSpec, OnBehalf, Services, Upstream,
};
use crate::principal::PrincipalKind;

/// The text for a missing id, the same on the three hubs.
const ID_REQUIRED: &str = "Request ID is required";

/// What a hub's connections subscribe to.
#[derive(Debug)]
struct Followed {
    /// The hub's two methods, lower-cased (invocation targets match
    /// case-insensitively).
    subscribe: &'static str,
    unsubscribe: &'static str,
    /// The kind of group each id is followed in.
    kind: PerEntityKind,
    /// The field that names the id when it comes as an object.
    id_name: &'static str,
    /// The task kind the task service records for these.
    task_kind: &'static str,
    /// The refusal text, per CONTRACT §3.4.
    denial: &'static str,
}

const VIDEO: Followed = Followed {
    subscribe: "subscribetovideogeneration",
    unsubscribe: "unsubscribefromvideogeneration",
    kind: tasks::VIDEO,
    id_name: "requestId",
    task_kind: "Video",
    denial: "Access denied to video generation request",
};

const IMAGE: Followed = Followed {
    subscribe: "subscribetoimagegeneration",
    unsubscribe: "unsubscribefromimagegeneration",
    kind: tasks::IMAGE,
    id_name: "requestId",
    task_kind: "Image",
    denial: "Access denied to image generation request",
};

const TASK: Followed = Followed {
    subscribe: "subscribetotask",
    unsubscribe: "unsubscribefromtask",
    kind: tasks::TASK,
    id_name: "taskId",
    task_kind: "Task",
    denial: "Access denied to task",
};

/// The task-notification service, which the task hubs and the navigation
/// hub call, and which checks virtual keys.
pub const TASKS: Upstream = Upstream {
    name: "tasks",
    default_url: "http://127.0.0.1:50054",
    help: "gRPC URL of the task-notification service (virtual keys, tasks, spend)",
};

pub(crate) const VIDEO_HUB: HubKind = HubKind(&HubSpec {
    path: "/hubs/video-generation",
    dotnet_name: "VideoGenerationHub",
    admits: &[PrincipalKind::VirtualKey],
    automatic_groups: no_groups,
    invoke: Some(|services, caller, target, args| {
        Box::pin(invoke(&VIDEO, services, caller, target, args))
    }),
    write_commands: &[],
    disconnected: None,
    follows: &[Follow {
        stream: tasks::VIDEO.kind(),
        access: Access::Ask(PrincipalKind::VirtualKey, |services, on_behalf, id| {
            Box::pin(owns(&VIDEO, services, on_behalf, id))
        }),
        denial: VIDEO.denial,
    }],
    upstream: Some(&TASKS),
});

pub(crate) const IMAGE_HUB: HubKind = HubKind(&HubSpec {
    path: "/hubs/image-generation",
    dotnet_name: "ImageGenerationHub",
    admits: &[PrincipalKind::VirtualKey],
    automatic_groups: no_groups,
    invoke: Some(|services, caller, target, args| {
        Box::pin(invoke(&IMAGE, services, caller, target, args))
    }),
    write_commands: &[],
    disconnected: None,
    follows: &[Follow {
        stream: tasks::IMAGE.kind(),
        access: Access::Ask(PrincipalKind::VirtualKey, |services, on_behalf, id| {
            Box::pin(owns(&IMAGE, services, on_behalf, id))
        }),
        denial: IMAGE.denial,
    }],
    upstream: Some(&TASKS),
});

pub(crate) const TASK_HUB: HubKind = HubKind(&HubSpec {
    path: "/hubs/tasks",
    dotnet_name: "TaskHub",
    admits: &[PrincipalKind::VirtualKey],
    automatic_groups: no_groups,
    invoke: Some(|services, caller, target, args| {
        Box::pin(invoke(&TASK, services, caller, target, args))
    }),
    write_commands: &[],
    disconnected: None,
    follows: &[Follow {
        stream: tasks::TASK.kind(),
        access: Access::Ask(PrincipalKind::VirtualKey, |services, on_behalf, id| {
            Box::pin(owns(&TASK, services, on_behalf, id))
        }),
        denial: TASK.denial,
    }],
    upstream: Some(&TASKS),
});

/// Whether the key may follow the request or task: the task service finds
/// it among the key's own, and it is of the hub's kind.
async fn owns(
    followed: &Followed,
    services: &Services,
    on_behalf: &OnBehalf,
    id: Uuid,
) -> Result<bool, tonic::Status> {
    let request = on_behalf.request(GetTaskRequest {
        task_id: id.to_string(),
    });
    let mut tasks = TasksClient::new(services.channels.get(&TASKS)?);
    let task = tasks.get_task(request).await?.into_inner();
    Ok(task.kind == followed.task_kind)
}

async fn invoke(
    followed: &Followed,
    services: &Services,
    caller: &mut Caller,
    target: &str,
    args: Arguments,
) -> Result<Option<Value>, HubError> {
    let target = target.to_ascii_lowercase();
    if target == followed.subscribe {
        args.expect(1)?;
        let topic = target_topic(followed, &args)?;
        authorize(services, Requester::of(caller), &caller.on_behalf(), topic).await?;
        super::join_group(services, caller, topic).await?;
        caller.joined.insert(topic);
        tracing::info!(group = %topic, "subscribed");
        Ok(None)
    } else if target == followed.unsubscribe {
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
fn target_topic(followed: &Followed, args: &Arguments) -> Result<Topic, HubError> {
    let id: Option<String> = args.object(0, followed.id_name)?;
    let id = id.unwrap_or_default();
    if id.trim().is_empty() {
        return Err(HubError::Refused(ID_REQUIRED.into()));
    }
    match Uuid::parse_str(id.trim()) {
        Ok(id) => Ok(followed.kind.topic(id)),
        Err(_) => Err(HubError::Denied(followed.denial.into())),
    }
}
