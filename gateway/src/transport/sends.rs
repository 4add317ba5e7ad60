//! Client→server over HTTP for Server-Sent Events and long polling: `POST {hub}?id=` carries one
//! or more records (the JS client batches), `DELETE {hub}?id=` ends a long-polling connection.

use axum::{
    extract::{Request, State},
    http::{header, HeaderMap, StatusCode, Uri},
    response::{IntoResponse, Response},
};

use super::{
    body,
    credentials::{authenticate, Credential, Refusal},
    router::refusal,
    AppState,
};
use crate::{
    hub::HubKind,
    protocol::{query_value, TransportType},
    session::{AttachError, Found, Link},
};

/// `POST {hub}?id=`: feeds the body to the connection, answering once it is taken. A body for a
/// connection no transport request has started yet is held for it.
pub(super) async fn send(
    State(state): State<AppState>,
    hub: HubKind,
    request: Request,
) -> Response {
    let (credential, token) = match identify(&state, hub, request.headers(), request.uri()).await {
        Ok(found) => found,
        Err(refused) => return refused.into_response(),
    };
    let found = match state
        .registry
        .find(&token, hub, &credential.principal.identity)
    {
        Ok(found) => found,
        Err(error) => return refusal(error),
    };
    let link = match found {
        Found::Running(TransportType::WebSockets, _) => {
            return (
                StatusCode::METHOD_NOT_ALLOWED,
                "POST requests are not allowed for WebSocket connections.",
            )
                .into_response()
        }
        Found::Running(_, link) => Some(link),
        Found::NotStarted => None,
    };
    // The JS client never overlaps sends; two at once would interleave records.
    let _posting = match link.as_ref().map(Link::try_post) {
        Some(None) => return (StatusCode::CONFLICT, "Another send is in progress").into_response(),
        Some(Some(guard)) => Some(guard),
        None => None,
    };
    let (parts, body) = request.into_parts();
    let body = match body::read(&parts.headers, body, state.max_frame_bytes).await {
        Ok(body) => body,
        Err(error) => return error.into_response(),
    };
    let link = match link {
        Some(link) => link,
        None => match state.registry.hold(
            &token,
            hub,
            &credential.principal.identity,
            &body,
            state.max_frame_bytes,
        ) {
            Ok(None) => return sent(),
            Ok(Some(started)) => started,
            Err(error) => return refusal(error),
        },
    };
    if !link.push(body).await {
        return refusal(AttachError::NotFound);
    }
    sent()
}

fn sent() -> Response {
    (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain")]).into_response()
}

/// `DELETE {hub}?id=`: the long-polling client stops (202); a pending poll gets 204.
pub(super) async fn delete(
    State(state): State<AppState>,
    hub: HubKind,
    request: Request,
) -> Response {
    let (credential, token) = match identify(&state, hub, request.headers(), request.uri()).await {
        Ok(found) => found,
        Err(refused) => return refused.into_response(),
    };
    let link = match state
        .registry
        .find(&token, hub, &credential.principal.identity)
    {
        Ok(Found::Running(TransportType::LongPolling, link)) => link,
        Ok(Found::Running(..) | Found::NotStarted) => {
            return (
                StatusCode::BAD_REQUEST,
                "Cannot terminate this connection using the DELETE endpoint.",
            )
                .into_response()
        }
        Err(error) => return refusal(error),
    };
    link.terminate();
    state.registry.remove(&token);
    StatusCode::ACCEPTED.into_response()
}

/// Why a POST or DELETE cannot be served before its connection is even looked up.
enum Refused {
    Credential(Refusal),
    NoId,
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Refused::Credential(refusal) => refusal.into_response(),
            Refused::NoId => (StatusCode::BAD_REQUEST, "Connection ID required").into_response(),
        }
    }
}

/// Who sends, and to which connection token.
async fn identify(
    state: &AppState,
    hub: HubKind,
    headers: &HeaderMap,
    uri: &Uri,
) -> Result<(Credential, String), Refused> {
    let query = uri.query().unwrap_or("");
    let token = query_value(query, "id").ok_or(Refused::NoId)?;
    let credential = authenticate(&state.authenticator, hub, headers, query)
        .await
        .map_err(Refused::Credential)?;
    Ok((credential, token.to_owned()))
}
