//! The developer demo (`--demo`, `PULSE_DEMO`): what the web app needs that a browser cannot
//! do through the hubs, because in production an identity provider, an administrator or a
//! worker does it. `POST /demo/token` signs anyone in by name ([`token`]); `POST /demo/coach`
//! makes the caller (a trainer) coach a client ([`coaching`]); `/demo/keys`, `/demo/tasks`,
//! `/demo/work` and `/demo/spend` create virtual keys, start and read tasks with them and play
//! the worker and billing that report on them ([`tasks`]). Each goes through the same gRPC APIs a
//! real caller uses, so the events the screens show are the real ones.
//!
//! Anyone who can reach the gateway can then be anyone, and the administrator of the task
//! service besides, which is why it is off unless asked for, and refused outright when JWTs are RS256: a key the gateway cannot sign with is a
//! production key.

mod coaching;
mod error;
mod tasks;
mod token;

use std::time::Duration;

use axum::{
    routing::{get, post},
    Router,
};
use pulse_auth::{AuthError, JwtValidator, MasterKey, TokenRequest};
use uuid::Uuid;

use crate::hub::{Channels, OnBehalf};
use error::DemoError;

/// `--demo` was asked for where it cannot work.
#[derive(Debug, thiserror::Error)]
#[error("--demo needs an HS256 secret (PULSE_JWT_SECRET) to sign demo tokens with; it is refused with an RS256 public key, which is a production setting")]
pub struct DemoRefused;

/// What the demo endpoints share; cheap to clone.
#[derive(Clone)]
pub struct Demo {
    validator: JwtValidator,
    /// The domain services, through the channels the hubs use.
    channels: Channels,
    /// The task service's administrator credential; without it the task screen's helpers
    /// answer 503 and say why.
    master_key: Option<MasterKey>,
}

impl Demo {
    /// A demo signing with `validator`'s secret; refused unless it can sign (HS256).
    pub fn new(
        validator: JwtValidator,
        channels: Channels,
        master_key: Option<MasterKey>,
    ) -> Result<Self, DemoRefused> {
        let demo = Self {
            validator,
            channels,
            master_key,
        };
        demo.mint(Uuid::new_v4(), "probe", Vec::new(), Duration::from_secs(1))
            .map_err(|_| DemoRefused)?;
        Ok(demo)
    }

    fn mint(
        &self,
        user_id: Uuid,
        name: &str,
        roles: Vec<String>,
        lifetime: Duration,
    ) -> Result<String, AuthError> {
        let lifetime = i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX);
        self.validator.mint(&TokenRequest {
            sub: user_id,
            name: name.to_owned(),
            roles,
            exp: chrono::Utc::now().timestamp().saturating_add(lifetime),
        })
    }

    /// Requests made as the task service's administrator.
    fn as_admin(&self) -> Result<OnBehalf, DemoError> {
        let key = self.master_key.as_ref().ok_or(DemoError::NoMasterKey)?;
        OnBehalf::new(key.expose()).ok_or(DemoError::NoMasterKey)
    }
}

/// The demo's routes, added to the gateway's only when `--demo` asked for them (else 404).
pub fn routes<S: Clone + Send + Sync + 'static>(demo: Demo) -> Router<S> {
    Router::new()
        .route("/demo/token", post(token::sign_in))
        .route("/demo/coach", post(coaching::coach))
        .route("/demo/keys", post(tasks::create_key))
        .route("/demo/tasks", post(tasks::create_task))
        .route("/demo/tasks/{id}", get(tasks::get_task))
        .route("/demo/work", post(tasks::work))
        .route("/demo/spend", post(tasks::spend))
        .with_state(demo)
}
