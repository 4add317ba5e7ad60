//! What every part of one process shares: one bus connection, how long its
//! streams keep events, and the credential checks its parts need.

use std::time::Duration;

use anyhow::Context;
use pulse_auth::{JwtValidator, MasterKey};
use pulse_bus::Bus;

use crate::{cli::CommonArgs, domain::Credential};

pub struct Shared {
    pub bus: Bus,
    /// How long the bus keeps events (`--event-retention`).
    pub event_retention: Duration,
    /// Read only when a part of the process checks JWTs.
    validator: Option<JwtValidator>,
    /// `None` when unset, and in a process where nothing checks it.
    pub master_key: Option<MasterKey>,
}

impl Shared {
    /// Reads the credential settings that `needs` names (so a bad setting
    /// nothing here uses stops nothing), then connects to NATS. Called
    /// after every listener of the process is bound.
    pub async fn connect(common: &CommonArgs, needs: &[Credential]) -> anyhow::Result<Self> {
        let validator = if needs.contains(&Credential::Jwt) {
            Some(common.auth.validator()?)
        } else {
            None
        };
        let master_key = if needs.contains(&Credential::MasterKey) {
            common.master_key.master_key().context("master key")?
        } else {
            None
        };
        let bus = common.bus.connect().await.context("connecting to NATS")?;
        Ok(Self {
            bus,
            event_retention: common.bus.event_retention,
            validator,
            master_key,
        })
    }

    /// Creates every event stream, for a gateway before it takes its first client: a client may
    /// join a group (its own notification channel, at connect) before the relay of the service
    /// that owns it has led once and created its stream (a gateway started before the services,
    /// or in the same process), and a gateway cannot subscribe to a stream that does not exist
    /// yet. A stream NATS cannot create now is left to that relay, which retries.
    pub async fn create_streams(&self) {
        for kind in pulse_proto::GROUP_KINDS.iter() {
            if let Err(error) = self.bus.ensure_stream(kind, self.event_retention).await {
                tracing::warn!(%error, ?kind, "stream not created yet; its service's relay will");
            }
        }
    }

    /// The credential check a service's `build_on` takes, by its type.
    pub fn credential<C: FromShared>(&self) -> anyhow::Result<C> {
        C::from_shared(self)
    }
}

/// A credential check a service takes from what the process shares.
pub trait FromShared: Sized {
    fn from_shared(shared: &Shared) -> anyhow::Result<Self>;
}

impl FromShared for JwtValidator {
    /// Read by a process with a service whose [`Credential`] is `Jwt`.
    fn from_shared(shared: &Shared) -> anyhow::Result<Self> {
        shared
            .validator
            .clone()
            .context("this process read no JWT settings")
    }
}

impl FromShared for Option<MasterKey> {
    fn from_shared(shared: &Shared) -> anyhow::Result<Self> {
        Ok(shared.master_key.clone())
    }
}
