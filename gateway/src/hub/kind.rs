//! The hubs this gateway serves: their paths, who may connect to each, the
//! groups a connection joins by itself (`OnConnectedAsync`), and dispatch to
//! each hub's methods.

use pulse_bus::Topic;
use serde_json::Value;
use uuid::Uuid;

use super::{
    catch_up, chat, goals, lean_session, navigation, notifications, presence, shopping_list,
    task_groups, task_groups::Followed, Arguments, Caller, HubError, Services,
};
use crate::principal::PrincipalKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HubKind {
    ShoppingList,
    LeanSession,
    Chat,
    Goals,
    /// Per-user notifications for users, system notifications for users and
    /// virtual keys: Mizan's and Conduit's hubs share this path.
    Notifications,
    VideoGeneration,
    ImageGeneration,
    Tasks,
    SpendNotifications,
    Webhooks,
    AdminNotifications,
    NavigationState,
}

impl HubKind {
    pub const ALL: [HubKind; 12] = [
        HubKind::ShoppingList,
        HubKind::LeanSession,
        HubKind::Chat,
        HubKind::Goals,
        HubKind::Notifications,
        HubKind::VideoGeneration,
        HubKind::ImageGeneration,
        HubKind::Tasks,
        HubKind::SpendNotifications,
        HubKind::Webhooks,
        HubKind::AdminNotifications,
        HubKind::NavigationState,
    ];

    pub fn path(self) -> &'static str {
        match self {
            HubKind::ShoppingList => "/hubs/shopping-list",
            HubKind::LeanSession => "/hubs/lean-session",
            HubKind::Chat => "/hubs/chat",
            HubKind::Goals => "/hubs/goals",
            HubKind::Notifications => "/hubs/notifications",
            HubKind::VideoGeneration => "/hubs/video-generation",
            HubKind::ImageGeneration => "/hubs/image-generation",
            HubKind::Tasks => "/hubs/tasks",
            HubKind::SpendNotifications => "/hubs/spend-notifications",
            HubKind::Webhooks => "/hubs/webhooks",
            HubKind::AdminNotifications => "/hubs/admin-notifications",
            HubKind::NavigationState => "/hubs/navigation-state",
        }
    }

    pub fn name(self) -> &'static str {
        &self.path()["/hubs/".len()..]
    }

    /// The hub's class name in the seeds (`VideoGenerationHub`).
    pub fn dotnet_name(self) -> &'static str {
        match self {
            HubKind::ShoppingList => "ShoppingListHub",
            HubKind::LeanSession => "LeanSessionHub",
            HubKind::Chat => "ChatHub",
            HubKind::Goals => "GoalHub",
            HubKind::Notifications => "SystemNotificationHub",
            HubKind::VideoGeneration => "VideoGenerationHub",
            HubKind::ImageGeneration => "ImageGenerationHub",
            HubKind::Tasks => "TaskHub",
            HubKind::SpendNotifications => "SpendNotificationHub",
            HubKind::Webhooks => "WebhookDeliveryHub",
            HubKind::AdminNotifications => "AdminNotificationHub",
            HubKind::NavigationState => "NavigationStateHub",
        }
    }

    /// Which credentials a hub takes (CONTRACT §2, §3.4): a valid credential
    /// of another kind is refused with 403.
    pub fn admits(self, kind: PrincipalKind) -> bool {
        match self {
            HubKind::ShoppingList | HubKind::LeanSession | HubKind::Chat | HubKind::Goals => {
                kind == PrincipalKind::User
            }
            HubKind::Notifications => {
                matches!(kind, PrincipalKind::User | PrincipalKind::VirtualKey)
            }
            HubKind::VideoGeneration
            | HubKind::ImageGeneration
            | HubKind::Tasks
            | HubKind::SpendNotifications
            | HubKind::Webhooks
            | HubKind::NavigationState => kind == PrincipalKind::VirtualKey,
            HubKind::AdminNotifications => kind == PrincipalKind::Master,
        }
    }

    /// The groups every connection of this hub is in for its whole life:
    /// its user's or key's own group (SignalR's `Clients.User(id)`: every
    /// connection of theirs, on any gateway, and nobody else's) and the
    /// hub-wide ones.
    fn automatic_groups(self, kind: PrincipalKind, id: Uuid) -> Vec<Topic> {
        match self {
            HubKind::ShoppingList
            | HubKind::LeanSession
            | HubKind::VideoGeneration
            | HubKind::ImageGeneration
            | HubKind::Tasks => vec![],
            HubKind::Chat => vec![Topic::Chat(id)],
            HubKind::Goals => vec![Topic::Goals(id)],
            HubKind::Notifications if kind == PrincipalKind::User => {
                vec![Topic::Notifications(id), Topic::System]
            }
            HubKind::Notifications => vec![Topic::System],
            HubKind::SpendNotifications => vec![Topic::Spend(id)],
            HubKind::Webhooks => vec![Topic::Webhooks(id)],
            HubKind::NavigationState => vec![Topic::Navigation(id)],
            HubKind::AdminNotifications => vec![Topic::Admin],
        }
    }

    /// Set-up when a connection starts (`OnConnectedAsync`): it joins its
    /// automatic groups, live before the first invocation is read, so nothing
    /// committed afterwards is missed.
    pub async fn connected(self, services: &Services, caller: &mut Caller) -> Result<(), HubError> {
        for topic in self.automatic_groups(caller.kind, caller.identity.user_id) {
            services
                .node
                .join(topic, caller.member())
                .await
                .map_err(|e| HubError::Unavailable(e.to_string()))?;
            caller.joined.insert(topic);
        }
        Ok(())
    }

    /// Runs a method; `Ok(None)` is a void result. Method names are matched
    /// case-insensitively, as ASP.NET Core does. Every invocation first passes
    /// the rate limits (see [`super::rate_limit`]). A hub whose connections are
    /// in one group of their own also offers `GetMissedEvents(afterSequence)`
    /// on that group.
    pub async fn invoke(
        self,
        services: &Services,
        caller: &mut Caller,
        target: &str,
        args: Arguments,
    ) -> Result<Option<Value>, HubError> {
        let budget = caller
            .invocation_budget
            .get_or_insert_with(|| services.rate_limits.connection_budget());
        services
            .rate_limits
            .admit(budget, self, caller.identity.user_id, target)?;
        if target.eq_ignore_ascii_case("GetMissedEvents") {
            if let [own] = self.automatic_groups(caller.kind, caller.identity.user_id)[..] {
                return catch_up::get_missed_own_events(services, caller, &args, own).await;
            }
        }
        match self {
            HubKind::ShoppingList => shopping_list::invoke(services, caller, target, args).await,
            HubKind::LeanSession => lean_session::invoke(services, caller, target, args).await,
            HubKind::Chat => chat::invoke(services, caller, target, args).await,
            HubKind::Goals => goals::invoke(services, caller, target, args).await,
            HubKind::Notifications => notifications::invoke(services, caller, target, args).await,
            HubKind::VideoGeneration => {
                task_groups::invoke(Followed::Video, services, caller, target, args).await
            }
            HubKind::ImageGeneration => {
                task_groups::invoke(Followed::Image, services, caller, target, args).await
            }
            HubKind::Tasks => {
                task_groups::invoke(Followed::Task, services, caller, target, args).await
            }
            HubKind::NavigationState => navigation::invoke(services, caller, target, args).await,
            HubKind::SpendNotifications | HubKind::Webhooks | HubKind::AdminNotifications => {
                Err(HubError::UnknownMethod)
            }
        }
    }

    /// Clean-up when a connection ends: leave its groups, end its presence.
    pub async fn disconnected(self, services: &Services, caller: &mut Caller) {
        match self {
            HubKind::ShoppingList | HubKind::LeanSession => {
                presence::disconnected(services, caller)
            }
            HubKind::Chat
            | HubKind::Goals
            | HubKind::Notifications
            | HubKind::VideoGeneration
            | HubKind::ImageGeneration
            | HubKind::Tasks
            | HubKind::SpendNotifications
            | HubKind::Webhooks
            | HubKind::AdminNotifications
            | HubKind::NavigationState => {}
        }
        for topic in caller.joined.drain() {
            services.node.leave(&topic, &caller.connection_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_paths_without_the_prefix() {
        assert_eq!(HubKind::ShoppingList.name(), "shopping-list");
        assert_eq!(HubKind::AdminNotifications.name(), "admin-notifications");
    }

    #[test]
    fn each_hub_takes_only_its_kind_of_credential() {
        use PrincipalKind::{Master, User, VirtualKey};
        assert!(HubKind::Notifications.admits(User) && HubKind::Notifications.admits(VirtualKey));
        assert!(!HubKind::Notifications.admits(Master));
        assert!(HubKind::AdminNotifications.admits(Master));
        assert!(!HubKind::AdminNotifications.admits(VirtualKey));
        assert!(!HubKind::VideoGeneration.admits(User));
        assert!(!HubKind::Chat.admits(VirtualKey));
    }
}
