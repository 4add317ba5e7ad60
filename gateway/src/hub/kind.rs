//! The hubs this gateway serves, as handles on the specs their modules
//! declare, and what a connection's life asks of its hub: admission, the
//! groups it joins by itself (`OnConnectedAsync`), dispatch to the hub's
//! methods, clean-up.

use std::hash::{Hash, Hasher};

use pulse_bus::Topic;
use serde_json::Value;

use super::{
    access::Follow, catch_up, Arguments, Caller, HubError, HubSpec, Services, Upstream, HUBS,
};
use crate::principal::PrincipalKind;

/// One hub: a handle on the [`HubSpec`] its module declares. Hubs are equal
/// when their paths are.
#[derive(Clone, Copy)]
pub struct HubKind(pub(super) &'static HubSpec);

impl HubKind {
    /// Every hub, in the order the router and the metrics list them (the
    /// list is [`super::HUBS`], beside the hub modules).
    pub const ALL: [HubKind; HUBS.len()] = HUBS;

    pub fn path(self) -> &'static str {
        self.0.path
    }

    pub fn name(self) -> &'static str {
        &self.path()["/hubs/".len()..]
    }

    /// The hub's class name in the seeds (`VideoGenerationHub`).
    pub fn dotnet_name(self) -> &'static str {
        self.0.dotnet_name
    }

    /// Whether the hub takes this kind of credential (CONTRACT §2, §3.4).
    pub fn admits(self, kind: PrincipalKind) -> bool {
        self.0.admits.contains(&kind)
    }

    /// The methods that write, by canonical name.
    pub(super) fn write_commands(self) -> &'static [&'static str] {
        self.0.write_commands
    }

    /// The group kinds this hub's clients follow, with their rules.
    pub(super) fn follows(self) -> &'static [Follow] {
        self.0.follows
    }

    /// The domain service the hub calls.
    pub(super) fn upstream(self) -> Option<&'static Upstream> {
        self.0.upstream
    }

    /// Set-up when a connection starts (`OnConnectedAsync`): it joins its
    /// automatic groups, live before the first invocation is read, so nothing
    /// committed afterwards is missed.
    pub async fn connected(self, services: &Services, caller: &mut Caller) -> Result<(), HubError> {
        for topic in (self.0.automatic_groups)(caller.kind, caller.identity.user_id) {
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
            let own: Vec<Topic> = (self.0.automatic_groups)(caller.kind, caller.identity.user_id);
            if let [own] = own[..] {
                return catch_up::get_missed_own_events(services, caller, &args, own).await;
            }
        }
        match self.0.invoke {
            Some(invoke) => invoke(services, caller, target, args).await,
            None => Err(HubError::UnknownMethod),
        }
    }

    /// Clean-up when a connection ends: end its presence, leave its groups.
    pub async fn disconnected(self, services: &Services, caller: &mut Caller) {
        if let Some(disconnected) = self.0.disconnected {
            disconnected(services, caller);
        }
        for topic in caller.joined.drain() {
            services.node.leave(&topic, &caller.connection_id);
        }
    }
}

impl PartialEq for HubKind {
    fn eq(&self, other: &Self) -> bool {
        self.0.path == other.0.path
    }
}

impl Eq for HubKind {}

impl Hash for HubKind {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.path.hash(state);
    }
}

impl std::fmt::Debug for HubKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.dotnet_name)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::super::{chat, deliveries, notifications, shopping_list, task_groups};
    use super::*;

    #[test]
    fn names_are_the_paths_without_the_prefix() {
        assert_eq!(shopping_list::HUB.name(), "shopping-list");
        assert_eq!(deliveries::ADMIN_HUB.name(), "admin-notifications");
    }

    #[test]
    fn each_hub_takes_only_its_kind_of_credential() {
        use PrincipalKind::{Master, User, VirtualKey};
        let notifications = notifications::HUB;
        assert!(notifications.admits(User) && notifications.admits(VirtualKey));
        assert!(!notifications.admits(Master));
        assert!(deliveries::ADMIN_HUB.admits(Master));
        assert!(!deliveries::ADMIN_HUB.admits(VirtualKey));
        assert!(!task_groups::VIDEO_HUB.admits(User));
        assert!(!chat::HUB.admits(VirtualKey));
    }

    #[test]
    fn every_hub_has_a_path_of_its_own_under_hubs() {
        let paths: HashSet<_> = HubKind::ALL.iter().map(|hub| hub.path()).collect();
        assert_eq!(paths.len(), HubKind::ALL.len());
        assert!(HubKind::ALL
            .iter()
            .all(|hub| hub.path().starts_with("/hubs/")));
    }
}
