//! The domain services the hubs call, each declared as an [`Upstream`] by a
//! hub module that calls it and named in the specs of the hubs that do:
//! the gateway's settings (`--lists-url`, …) and its channels come from
//! [`upstreams`], so a new service with a hub needs no edit here, in the
//! configuration or in start-up.

use tonic::transport::Channel;

use super::{HubError, HubKind};

/// A domain service the gateway calls, and the setting that says where it
/// is.
#[derive(Debug)]
pub struct Upstream {
    /// The service's name, as `pulse` names its subcommand (`lean-coffee`).
    pub name: &'static str,
    /// The flag of its URL (`lean-coffee-url`).
    pub flag: &'static str,
    /// The environment variable of its URL (`PULSE_LEAN_COFFEE_URL`).
    pub env: &'static str,
    /// Where it listens by default (`pulse suite` sets the real address).
    pub default_url: &'static str,
    /// The setting's help line.
    pub help: &'static str,
}

/// Every service some hub calls, once each, in the order of the hubs.
pub fn upstreams() -> Vec<&'static Upstream> {
    let mut all: Vec<&'static Upstream> = Vec::new();
    for upstream in HubKind::ALL.iter().filter_map(|hub| hub.upstream()) {
        if !all.iter().any(|known| known.name == upstream.name) {
            all.push(upstream);
        }
    }
    all
}

/// A hub module asked for a service no hub spec names: a mistake of the
/// module, which its tests show.
#[derive(Debug, thiserror::Error)]
#[error("the {0} service is not named in any hub's spec")]
pub struct Undeclared(&'static str);

impl From<Undeclared> for HubError {
    fn from(error: Undeclared) -> Self {
        HubError::Internal(error.to_string())
    }
}

impl From<Undeclared> for tonic::Status {
    fn from(error: Undeclared) -> Self {
        tonic::Status::internal(error.to_string())
    }
}

/// A lazily connected channel to each service of [`upstreams`].
#[derive(Debug, Clone)]
pub struct Channels(Vec<(&'static str, Channel)>);

impl Channels {
    pub fn new(channels: Vec<(&'static str, Channel)>) -> Self {
        Self(channels)
    }

    /// The channel to `upstream` (cheap to clone: one connection shared).
    pub fn get(&self, upstream: &Upstream) -> Result<Channel, Undeclared> {
        self.0
            .iter()
            .find(|(name, _)| *name == upstream.name)
            .map(|(_, channel)| channel.clone())
            .ok_or(Undeclared(upstream.name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_service_is_listed_once_with_a_setting_of_its_own() {
        let all = upstreams();
        let names: Vec<_> = all.iter().map(|upstream| upstream.name).collect();
        assert_eq!(names, ["lists", "lean-coffee", "coaching", "tasks"]);
        for upstream in all {
            assert_eq!(upstream.flag, format!("{}-url", upstream.name));
            let env = format!("PULSE_{}_URL", upstream.name.replace('-', "_"));
            assert_eq!(upstream.env, env.to_uppercase());
        }
    }
}
