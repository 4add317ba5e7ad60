//! The three gRPC services — `VirtualKeys`, `Tasks`, `Producers` — on one
//! tonic type: authenticate, turn the request into validated domain values,
//! call the store, turn the result into the reply. Each service has its own
//! file; the credentials they share are checked here.
//!
//! `Tasks` (and `AuthenticateKey`) act as the virtual key presented as the
//! bearer: no request names the key it acts for. Everything else needs the
//! master key.

mod keys;
mod parse;
mod producers;
mod tasks;

use pulse_auth::{bearer_from_header, MasterKey};
use tonic::{Request, Response, Status};

use crate::domain::VirtualKey;
use crate::store::Store;
use crate::TasksError;

/// The tonic service behind all three APIs. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct TasksService {
    store: Store,
    /// `None`: no master key is configured, and master-key calls are all
    /// refused.
    master_key: Option<MasterKey>,
}

type Reply<T> = Result<Response<T>, Status>;

impl TasksService {
    pub(crate) fn new(store: Store, master_key: Option<MasterKey>) -> Self {
        Self { store, master_key }
    }

    /// Passes only requests bearing the configured master key.
    fn require_master_key<T>(&self, request: &Request<T>) -> Result<(), TasksError> {
        let presented = bearer(request)?;
        match &self.master_key {
            Some(key) if key.matches(&presented) => Ok(()),
            Some(_) => Err(TasksError::Unauthenticated("invalid master key")),
            None => Err(TasksError::Unauthenticated(
                "master key authentication is not configured",
            )),
        }
    }

    /// The active virtual key the request bears.
    async fn virtual_key<T>(&self, request: &Request<T>) -> Result<VirtualKey, TasksError> {
        let presented = bearer(request)?;
        self.store.authenticate(&presented).await
    }
}

/// The `authorization: Bearer ...` credential.
fn bearer<T>(request: &Request<T>) -> Result<String, TasksError> {
    request
        .metadata()
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .and_then(bearer_from_header)
        .map(str::to_owned)
        .ok_or(TasksError::Unauthenticated("missing bearer token"))
}
