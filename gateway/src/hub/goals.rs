//! `/hubs/goals` (CONTRACT §3.3): every connection is in its user's goals
//! group (joined on connect), where the coaching service delivers
//! `GoalAssigned` to clients and `ClientProgressUpdate` to trainers.
//! `GoalAssignmentSuccess` confirms an assignment to the calling connection
//! only. Who may assign and record is the service's rule; its refusals
//! carry the contract's texts.

use pulse_proto::coaching::v1::{
    coaching_client::CoachingClient, AssignGoalRequest, GoalInput, ListGoalProgressRequest,
    ListGoalsRequest, UpdateGoalProgressRequest,
};
use pulse_proto::coaching::GOALS;
use serde_json::Value;

use super::{
    access::{Access, Follow},
    chat::COACHING,
    forward_worded, result, worded_refusal, Arguments, Caller, HubError, HubKind, HubSpec,
    Services,
};
use crate::principal::PrincipalKind;

pub(crate) const HUB: HubKind = HubKind(&HubSpec {
    path: "/hubs/goals",
    dotnet_name: "GoalHub",
    admits: &[PrincipalKind::User],
    automatic_groups: |_, user| vec![GOALS.topic(user)],
    invoke: Some(|services, caller, target, args| Box::pin(invoke(services, caller, target, args))),
    write_commands: &["AssignGoal", "UpdateGoalProgress"],
    disconnected: None,
    follows: &[Follow::new(GOALS.kind(), Access::Own(PrincipalKind::User))],
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
        "assigngoal" => {
            args.expect(2)?;
            let request = AssignGoalRequest {
                client_id: args.id(0, "clientId")?.to_string(),
                goal: Some(args.object::<GoalInput>(1, "goal")?),
            };
            let goal = coaching
                .assign_goal(caller.request(request))
                .await
                .map_err(worded_refusal)?
                .into_inner();
            caller.send("GoalAssignmentSuccess", &goal.id);
            result(&goal)
        }
        "updategoalprogress" => {
            args.expect(3)?;
            let request = UpdateGoalProgressRequest {
                goal_id: args.id(0, "goalId")?.to_string(),
                value: args.object(1, "value")?,
                notes: args.object(2, "notes")?,
            };
            forward_worded(coaching.update_goal_progress(caller.request(request))).await
        }
        "getgoals" => {
            args.expect(1)?;
            let user_id: Option<String> = args.object(0, "userId")?;
            let request = ListGoalsRequest { user_id };
            forward_worded(coaching.list_goals(caller.request(request))).await
        }
        "getgoalprogress" => {
            args.expect(1)?;
            let request = ListGoalProgressRequest {
                goal_id: args.id(0, "goalId")?.to_string(),
            };
            forward_worded(coaching.list_goal_progress(caller.request(request))).await
        }
        _ => Err(HubError::UnknownMethod),
    }
}
