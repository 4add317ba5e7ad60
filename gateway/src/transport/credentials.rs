//! Who is making an HTTP request: a bearer token from the `Authorization`
//! header or, for WebSockets and SSE (where browsers cannot set headers), the
//! `access_token` query parameter — a JWT, a virtual key or the master key —
//! and whether that kind of credential may use the hub at all.

use axum::{
    http::{header::AUTHORIZATION, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use pulse_auth::{bearer_from_header, bearer_from_query};

use crate::{
    hub::HubKind,
    principal::{AuthFailure, Authenticator, Principal},
};

/// A validated credential and the raw token (forwarded to domain services).
pub(crate) struct Credential {
    pub principal: Principal,
    pub token: String,
}

/// Why a request is refused before it reaches a connection.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// No valid credential: 401.
    Unauthorized,
    /// A valid credential of a kind this hub does not take (a virtual key on
    /// a user hub, a JWT on the admin hub): 403.
    Forbidden,
    /// The credential cannot be checked right now: 503.
    Unavailable,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                [("www-authenticate", "Bearer")],
                "Unauthorized",
            )
                .into_response(),
            Refusal::Forbidden => (StatusCode::FORBIDDEN, "Forbidden").into_response(),
            Refusal::Unavailable => {
                (StatusCode::SERVICE_UNAVAILABLE, "Service unavailable").into_response()
            }
        }
    }
}

pub(crate) async fn authenticate(
    authenticator: &Authenticator,
    hub: HubKind,
    headers: &HeaderMap,
    query: &str,
) -> Result<Credential, Refusal> {
    let token = headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(bearer_from_header)
        .map(str::to_owned)
        .or_else(|| bearer_from_query(query))
        .ok_or(Refusal::Unauthorized)?;
    let principal = authenticator
        .authenticate(&token)
        .await
        .map_err(|failure| match failure {
            AuthFailure::Refused => Refusal::Unauthorized,
            AuthFailure::Unavailable(error) => {
                tracing::warn!(%error, "credential could not be checked");
                Refusal::Unavailable
            }
        })?;
    if !hub.admits(principal.kind) {
        tracing::info!(hub = hub.name(), kind = ?principal.kind, "credential of the wrong kind for this hub");
        return Err(Refusal::Forbidden);
    }
    Ok(Credential { principal, token })
}
