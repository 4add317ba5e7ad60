//! Who may follow a group. Hub joins and gRPC subscriptions ask the same
//! question the same way, so a client cannot see through one door what the
//! other refuses. Each hub module declares the rule for the group kinds its
//! clients follow ([`Follow`] in its [`super::HubSpec`]); this module only
//! applies it.

use futures::future::BoxFuture;
use pulse_bus::{GroupKind, Topic};
use tonic::Code;
use uuid::Uuid;

use super::{Caller, HubError, HubKind, OnBehalf, Services, ACCESS_DENIED};
use crate::principal::PrincipalKind;

/// Who asks to follow a group: the credential's id and kind.
#[derive(Debug, Clone, Copy)]
pub struct Requester {
    pub id: Uuid,
    pub kind: PrincipalKind,
}

impl Requester {
    pub fn of(caller: &Caller) -> Self {
        Self {
            id: caller.identity.user_id,
            kind: caller.kind,
        }
    }
}

/// Asks the owning service, on the requester's behalf, whether they may see
/// the entity with this id: `Ok(false)` or a `NOT_FOUND`/`PERMISSION_DENIED`
/// status refuses.
pub type Check =
    for<'a> fn(&'a Services, &'a OnBehalf, Uuid) -> BoxFuture<'a, Result<bool, tonic::Status>>;

/// Who may follow the groups of one kind.
#[derive(Debug, Clone, Copy)]
pub enum Access {
    /// A credential of this kind, its own group only (the group's id is the
    /// credential's).
    Own(PrincipalKind),
    /// Any credential of these kinds.
    Anyone(&'static [PrincipalKind]),
    /// A credential of this kind that the owning service lets see the
    /// entity.
    Ask(PrincipalKind, Check),
}

/// A group kind a hub's clients follow, the rule for it, and what a refusal
/// says.
#[derive(Debug, Clone, Copy)]
pub struct Follow {
    pub stream: GroupKind,
    pub access: Access,
    /// The refusal text (CONTRACT §3.4 words it per task group).
    pub denial: &'static str,
}

impl Follow {
    /// A kind whose refusal reads as the generic `Access denied`.
    pub const fn new(stream: GroupKind, access: Access) -> Self {
        Self {
            stream,
            access,
            denial: ACCESS_DENIED,
        }
    }

    /// The rule of the hub whose clients follow this kind; `None` for kinds
    /// no client follows (key revocations).
    fn of(stream: GroupKind) -> Option<&'static Follow> {
        HubKind::ALL
            .iter()
            .flat_map(|hub| hub.follows())
            .find(|follow| follow.stream == stream)
    }
}

/// Succeeds when the requester (on whose behalf `on_behalf` asks the owning
/// service) may receive the group's events, by the rule of the hub that
/// follows the group's kind.
pub async fn authorize(
    services: &Services,
    requester: Requester,
    on_behalf: &OnBehalf,
    topic: Topic,
) -> Result<(), HubError> {
    let Some(follow) = Follow::of(topic.kind()) else {
        return Err(HubError::Denied(ACCESS_DENIED.into()));
    };
    let allowed = match (follow.access, topic.id()) {
        (Access::Own(kind), id) => requester.kind == kind && id == Some(requester.id),
        (Access::Anyone(kinds), _) => kinds.contains(&requester.kind),
        (Access::Ask(kind, check), Some(id)) if requester.kind == kind => {
            check(services, on_behalf, id)
                .await
                .map_err(|status| refusal(status, follow.denial))?
        }
        (Access::Ask(..), _) => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(HubError::Denied(follow.denial.into()))
    }
}

/// A refusal of the owning service while checking access, worded `denial`.
fn refusal(status: tonic::Status, denial: &str) -> HubError {
    match status.code() {
        Code::NotFound | Code::PermissionDenied => HubError::Denied(denial.into()),
        _ => HubError::from(status),
    }
}

/// Unknown and forbidden groups read the same: outsiders learn nothing about
/// what exists.
pub fn access_error(status: tonic::Status) -> HubError {
    refusal(status, ACCESS_DENIED)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn every_followed_kind_has_one_rule() {
        let mut seen = HashSet::new();
        for follow in HubKind::ALL.iter().flat_map(|hub| hub.follows()) {
            assert!(seen.insert(follow.stream), "{:?} twice", follow.stream);
        }
    }
}
