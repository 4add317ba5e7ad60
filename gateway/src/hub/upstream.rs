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
    /// The service's name, as `pulse` names its subcommand (`lean-coffee`):
    /// its URL's flag is `--lean-coffee-url`, its variable
    /// `PULSE_LEAN_COFFEE_URL`.
    pub name: &'static str,
    /// Where it listens by default (`pulse suite` sets the real address).
    pub default_url: &'static str,
    /// The setting's help line.
    pub help: &'static str,
}

impl Upstream {
    /// The flag of its URL, without the dashes (`lean-coffee-url`).
    pub fn flag(&self) -> String {
        format!("{}-url", self.name)
    }

    /// The environment variable of its URL (`PULSE_LEAN_COFFEE_URL`).
    pub fn env(&self) -> String {
        format!("PULSE_{}", self.value_name())
    }

    /// What `--help` calls the value (`LEAN_COFFEE_URL`).
    pub fn value_name(&self) -> String {
        format!("{}_URL", self.name.to_uppercase().replace('-', "_"))
    }
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
    fn each_service_is_listed_once() {
        let names: Vec<_> = upstreams().iter().map(|upstream| upstream.name).collect();
        assert_eq!(names, ["lists", "lean-coffee", "coaching", "tasks"]);
    }

    #[test]
    fn a_service_name_gives_its_flag_and_variable() {
        let upstream = Upstream {
            name: "lean-coffee",
            default_url: "http://127.0.0.1:50052",
            help: "",
        };
        assert_eq!(upstream.flag(), "lean-coffee-url");
        assert_eq!(upstream.env(), "PULSE_LEAN_COFFEE_URL");
    }
}
