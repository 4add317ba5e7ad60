//! How domain values look on the wire: protobuf messages for gRPC replies
//! and event payloads (one conversion serves both, so the navigation state
//! in `NavigationUpdated` is what `UpdateNavigation` returned).

use pulse_proto::tasks::v1 as proto;
use pulse_service::timestamp;

use crate::domain::{Named, Navigation, Task, VirtualKey};

impl From<&VirtualKey> for proto::VirtualKey {
    fn from(key: &VirtualKey) -> Self {
        Self {
            id: key.id.to_string(),
            name: key.name.clone(),
            key_prefix: key.key_prefix.clone(),
            status: key.status.as_str().to_owned(),
            budget: key.budget.map(|budget| budget.to_f64()),
            current_spend: key.current_spend.to_f64(),
            created_at: timestamp(key.created_at),
            revoked_at: key.revoked_at.map(timestamp),
        }
    }
}

impl From<&Task> for proto::Task {
    fn from(task: &Task) -> Self {
        Self {
            id: task.id.to_string(),
            virtual_key_id: task.virtual_key_id.to_string(),
            kind: task.kind.as_str().to_owned(),
            task_type: task.task_type.clone(),
            status: task.status.as_str().to_owned(),
            percentage: task.percentage,
            message: task.message.clone(),
            result: task.result.clone(),
            error: task.error.clone(),
            created_at: timestamp(task.created_at),
            updated_at: timestamp(task.updated_at),
        }
    }
}

impl From<&Navigation> for proto::NavigationState {
    fn from(state: &Navigation) -> Self {
        Self {
            route: state.route.clone(),
            conversation_id: state.conversation_id.clone(),
            title: state.title.clone(),
        }
    }
}
