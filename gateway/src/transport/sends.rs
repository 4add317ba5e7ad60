//! Client→server over HTTP for Server-Sent Events and long polling: `POST {hub}?id=` carries one
//! or more records (the JS client batches), `DELETE {hub}?id=` ends a long-polling connection.

use axum::{
    body::to_bytes,
    extract::{Request, State},
    http::{header, StatusCode},
    response::{IntoResponse, Response},
};

use super::{
    credentials::{authenticate, Credential, Unauthorized},
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
    let (credential, token) = match identify(&state, &request) {
        Ok(found) => found,
        Err(refused) => return refused.into_response(),
    };
    let found = match state.registry.find(&token, hub, &credential.identity) {
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
    let body = match to_bytes(request.into_body(), state.max_frame_bytes).await {
        Ok(body) => body,
        Err(_) => return (StatusCode::BAD_REQUEST, "Cannot read the body").into_response(),
    };
    let link = match link {
        Some(link) => link,
        None => match state.registry.hold(
            &token,
            hub,
            &credential.identity,
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
    let (credential, token) = match identify(&state, &request) {
        Ok(found) => found,
        Err(refused) => return refused.into_response(),
    };
    let link = match state.registry.find(&token, hub, &credential.identity) {
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
    Unauthorized(Unauthorized),
    NoId,
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Refused::Unauthorized(unauthorized) => unauthorized.into_response(),
            Refused::NoId => (StatusCode::BAD_REQUEST, "Connection ID required").into_response(),
        }
    }
}

/// Who sends, and to which connection token.
fn identify(state: &AppState, request: &Request) -> Result<(Credential, String), Refused> {
    let query = request.uri().query().unwrap_or("");
    let credential =
        authenticate(&state.validator, request.headers(), query).map_err(Refused::Unauthorized)?;
    let token = query_value(query, "id").ok_or(Refused::NoId)?;
    Ok((credential, token.to_owned()))
}
