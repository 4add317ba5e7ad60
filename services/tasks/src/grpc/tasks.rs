//! `Tasks`: a client's own tasks and navigation state, as the virtual key it
//! presents.

use pulse_proto::tasks::v1::{self as proto, tasks_server::Tasks};
use tonic::{Request, Response};

use super::{parse, Reply, TasksService};
use crate::domain::{Named, Navigation, NewTask, TaskKind};
use crate::TasksError;

#[tonic::async_trait]
impl Tasks for TasksService {
    async fn create_task(&self, request: Request<proto::CreateTaskRequest>) -> Reply<proto::Task> {
        let key = self.virtual_key(&request).await?;
        let request = request.into_inner();
        let new = NewTask::new(&request.kind, &request.task_type)?;
        let task = self.store.create_task(key.id, new).await?;
        Ok(Response::new((&task).into()))
    }

    async fn get_task(&self, request: Request<proto::GetTaskRequest>) -> Reply<proto::Task> {
        let key = self.virtual_key(&request).await?;
        let task_id = parse::id("taskId", &request.get_ref().task_id)?;
        let task = self.store.get_task(key.id, task_id).await?;
        Ok(Response::new((&task).into()))
    }

    async fn list_tasks(
        &self,
        request: Request<proto::ListTasksRequest>,
    ) -> Reply<proto::ListTasksResponse> {
        let key = self.virtual_key(&request).await?;
        let kind = request
            .get_ref()
            .kind
            .as_deref()
            .filter(|kind| !kind.trim().is_empty())
            .map(|kind| TaskKind::parse("kind", kind))
            .transpose()?;
        let tasks = self.store.list_tasks(key.id, kind).await?;
        Ok(Response::new(proto::ListTasksResponse {
            tasks: tasks.iter().map(Into::into).collect(),
        }))
    }

    async fn update_navigation(
        &self,
        request: Request<proto::UpdateNavigationRequest>,
    ) -> Reply<proto::NavigationState> {
        let key = self.virtual_key(&request).await?;
        let state = request
            .into_inner()
            .state
            .ok_or_else(|| TasksError::Invalid("state is required".into()))?;
        let state = Navigation::new(
            &state.route,
            state.conversation_id.as_deref(),
            state.title.as_deref(),
        )?;
        let stored = self.store.update_navigation(key.id, state).await?;
        Ok(Response::new((&stored).into()))
    }
}
