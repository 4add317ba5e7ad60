//! `/hubs/navigation-state` (CONTRACT §3.4): every connection of a virtual
//! key is in the key's navigation group; `UpdateNavigation(state)` stores the
//! state with the task service, whose `NavigationUpdated` reaches them all,
//! the caller included.

use pulse_proto::tasks::v1::{tasks_client::TasksClient, NavigationState, UpdateNavigationRequest};
use pulse_proto::tasks::NAVIGATION;
use serde_json::Value;

use super::{
    access::{Access, Follow},
    forward,
    task_groups::TASKS,
    Arguments, Caller, HubError, HubKind, HubSpec, Services,
};
use crate::principal::PrincipalKind;

pub(crate) const HUB: HubKind = HubKind(&HubSpec {
    path: "/hubs/navigation-state",
    dotnet_name: "NavigationStateHub",
    admits: &[PrincipalKind::VirtualKey],
    automatic_groups: |_, key| vec![NAVIGATION.topic(key)],
    invoke: Some(|services, caller, target, args| Box::pin(invoke(services, caller, target, args))),
    write_commands: &["UpdateNavigation"],
    disconnected: None,
    follows: &[Follow::new(
        NAVIGATION.kind(),
        Access::Own(PrincipalKind::VirtualKey),
    )],
    upstream: Some(&TASKS),
});

pub(super) async fn invoke(
    services: &Services,
    caller: &mut Caller,
    target: &str,
    args: Arguments,
) -> Result<Option<Value>, HubError> {
    match target.to_ascii_lowercase().as_str() {
        "updatenavigation" => {
            args.expect(1)?;
            let state: NavigationState = args.object(0, "state")?;
            let request = UpdateNavigationRequest { state: Some(state) };
            let mut tasks = TasksClient::new(services.channels.get(&TASKS)?);
            forward(tasks.update_navigation(caller.request(request))).await
        }
        _ => Err(HubError::UnknownMethod),
    }
}
