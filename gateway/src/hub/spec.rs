//! What a hub is, as data. Each hub module declares its own [`HubSpec`]:
//! its path, the credentials it admits, the groups its connections join by
//! themselves, its methods, the groups its clients may follow with the
//! rule that decides who may, and the domain service it calls. [`super::HubKind::ALL`] lists them; nothing
//! else in the gateway names a hub.

use futures::future::BoxFuture;
use pulse_bus::Topic;
use serde_json::Value;
use uuid::Uuid;

use super::{access::Follow, Arguments, Caller, HubError, Services, Upstream};
use crate::principal::PrincipalKind;

/// A hub's methods: runs one invocation; `Ok(None)` is a void result. The
/// target is as the client sent it (matched case-insensitively by the hub).
pub type Invoke = for<'a> fn(
    &'a Services,
    &'a mut Caller,
    &'a str,
    Arguments,
) -> BoxFuture<'a, Result<Option<Value>, HubError>>;

/// Clean-up a hub needs when a connection ends, before its groups are left.
pub type Disconnected = fn(&Services, &mut Caller);

/// The groups a connection is in for its whole life, by credential kind and
/// id.
pub type AutomaticGroups = fn(PrincipalKind, Uuid) -> Vec<Topic>;

/// One hub, declared by its module.
#[derive(Debug)]
pub struct HubSpec {
    /// Where clients connect: `/hubs/{name}`.
    pub path: &'static str,
    /// The hub's class name in the seeds (`VideoGenerationHub`).
    pub dotnet_name: &'static str,
    /// Which credentials the hub takes (CONTRACT §2, §3.4): a valid
    /// credential of another kind is refused with 403.
    pub admits: &'static [PrincipalKind],
    /// The groups every connection is in for its whole life: its user's or
    /// key's own group (SignalR's `Clients.User(id)`) and the hub-wide ones.
    pub automatic_groups: AutomaticGroups,
    /// The hub's methods; `None` for a hub that only delivers.
    pub invoke: Option<Invoke>,
    /// The methods that write, by canonical name: only these get a rate
    /// bucket per user or key (see [`super::rate_limit`]).
    pub write_commands: &'static [&'static str],
    /// Clean-up beyond leaving groups (ending presence), if any.
    pub disconnected: Option<Disconnected>,
    /// The group kinds this hub's clients follow, each with who may follow
    /// it. A kind is followed through one hub only.
    pub follows: &'static [Follow],
    /// The domain service the hub calls, if any: the gateway has a setting
    /// for its URL and a channel to it because a hub names it here.
    pub upstream: Option<&'static Upstream>,
}

/// For hubs whose connections join nothing by themselves.
pub fn no_groups(_: PrincipalKind, _: Uuid) -> Vec<Topic> {
    Vec::new()
}
