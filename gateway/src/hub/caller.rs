//! The connection a hub method runs for.

use std::{collections::HashSet, sync::Arc};

use pulse_auth::Identity;
use pulse_bus::Topic;
use serde::Serialize;
use tonic::metadata::{Ascii, MetadataValue};

use super::rate_limit::ConnectionBudget;
use crate::{
    node::{EventEncoder, Frame, Member, Outbound},
    principal::{Principal, PrincipalKind},
    protocol::Protocol,
};

/// Everything a hub method knows about its caller. The identity comes from
/// the validated credential only.
pub struct Caller {
    pub connection_id: Arc<str>,
    pub identity: Identity,
    /// What kind of credential the identity comes from.
    pub kind: PrincipalKind,
    /// The caller's bearer token, forwarded to the domain services so they
    /// authorize the same user; never logged.
    credentials: OnBehalf,
    pub protocol: Protocol,
    pub outbound: Outbound,
    pub encoder: Arc<dyn EventEncoder>,
    /// Groups joined through this connection, left when it closes.
    pub joined: HashSet<Topic>,
    /// The connection's invocation bucket, made at its first invocation.
    pub invocation_budget: Option<ConnectionBudget>,
}

impl std::fmt::Debug for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caller")
            .field("connection_id", &self.connection_id)
            .field("user_id", &self.identity.user_id)
            .finish_non_exhaustive()
    }
}

impl Caller {
    /// `None` if the token cannot be a header value (it was validated, so
    /// this does not happen with real credentials).
    pub fn new(
        connection_id: Arc<str>,
        principal: Principal,
        token: &str,
        protocol: Protocol,
        outbound: Outbound,
        encoder: Arc<dyn EventEncoder>,
    ) -> Option<Self> {
        Some(Self {
            connection_id,
            identity: principal.identity,
            kind: principal.kind,
            credentials: OnBehalf::new(token)?,
            protocol,
            outbound,
            encoder,
            joined: HashSet::new(),
            invocation_budget: None,
        })
    }

    /// A gRPC request to a domain service on behalf of the caller.
    pub fn request<T>(&self, message: T) -> tonic::Request<T> {
        self.credentials.request(message)
    }

    /// The caller's credentials for requests made after the hub method
    /// returned (presence keep-alive and exit).
    pub fn on_behalf(&self) -> OnBehalf {
        self.credentials.clone()
    }

    /// This connection as a group member.
    pub fn member(&self) -> Member {
        Member::new(
            self.connection_id.clone(),
            self.identity.user_id,
            self.encoder.clone(),
            self.outbound.clone(),
        )
    }

    /// Sends a server→client invocation to this connection only.
    pub fn send<T: Serialize>(&self, target: &str, payload: &T) {
        match self.protocol.encode_invocation(target, payload) {
            Ok(bytes) => {
                let frame = Frame::new(self.protocol.transfer_format(), bytes);
                // An overflowing connection is being closed anyway.
                let _ = self.outbound.send(frame);
            }
            Err(error) => tracing::error!(%error, target, "cannot encode invocation"),
        }
    }
}

/// Makes gRPC requests as the caller. Cloned into background work; the
/// token inside is never logged (no `Debug`). Equal for equal tokens, so
/// joiners with one token can share an access check.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct OnBehalf {
    bearer: MetadataValue<Ascii>,
}

impl OnBehalf {
    /// `None` if the token cannot be a header value (a validated JWT always can).
    pub fn new(token: &str) -> Option<Self> {
        let bearer = MetadataValue::try_from(format!("Bearer {token}")).ok()?;
        Some(Self { bearer })
    }

    /// The request carries the current span's trace context (W3C
    /// `traceparent`), so the service's spans continue the invocation's trace.
    pub fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        let metadata = request.metadata_mut();
        metadata.insert("authorization", self.bearer.clone());
        if let Some(traceparent) = pulse_telemetry::current_traceparent()
            .and_then(|traceparent| MetadataValue::try_from(traceparent).ok())
        {
            metadata.insert(pulse_telemetry::TRACEPARENT, traceparent);
        }
        request
    }
}
