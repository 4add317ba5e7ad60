//! Client→server over HTTP for Server-Sent Events and long polling: `POST {hub}?id=` carries one
//! or more records (the JS client batches), `DELETE {hub}?id=` ends a long-polling connection.

use axum::{
    extract::{Request, State},
    http::{HeaderMap, StatusCode, Uri},
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use uuid::Uuid;

use super::{
    answer::Answer,
    body,
    credentials::{authenticate, Credential, Refusal},
    forwarding::Ask,
    AppState,
};
use crate::{
    hub::HubKind,
    protocol::{query_value, TransportType},
    session::{AttachError, Found, Link},
};

/// `POST {hub}?id=`: feeds the body to the connection, answering once it is taken; a
/// connection another gateway holds gets it from that gateway.
pub(super) async fn send(
    State(state): State<AppState>,
    hub: HubKind,
    request: Request,
) -> Response {
    let (credential, token) = match identify(&state, hub, request.headers(), request.uri()).await {
        Ok(found) => found,
        Err(refused) => return refused.into_response(),
    };
    let user = credential.principal.id();
    let (parts, body) = request.into_parts();
    let body = match body::read(&parts.headers, body, state.max_frame_bytes).await {
        Ok(body) => body,
        Err(error) => return error.into_response(),
    };
    match state.registry.find(&token, hub, user) {
        Err(AttachError::NotFound) => {
            state
                .forwarding
                .ask(&token, hub, user, Ask::Send(body))
                .await
        }
        _ => send_here(&state, &token, hub, user, body).await,
    }
    .into_response()
}

/// A send for a connection of this gateway, asked by a client here or by another gateway.
/// A body for a connection no transport request has started yet is held for it.
pub(super) async fn send_here(
    state: &AppState,
    token: &str,
    hub: HubKind,
    user: Uuid,
    body: Bytes,
) -> Answer {
    let link = match state.registry.find(token, hub, user) {
        Ok(Found::Running(TransportType::WebSockets, _)) => return Answer::WebSocketSend,
        Ok(Found::Running(_, link)) => Some(link),
        Ok(Found::NotStarted) => None,
        Err(error) => return Answer::Refused(error),
    };
    // The JS client never overlaps sends; two at once would interleave records.
    let _posting = match link.as_ref().map(Link::try_post) {
        Some(None) => return Answer::SendInProgress,
        Some(Some(guard)) => Some(guard),
        None => None,
    };
    let link = match link {
        Some(link) => link,
        None => match state
            .registry
            .hold(token, hub, user, &body, state.max_frame_bytes)
        {
            Ok(None) => return Answer::Sent,
            Ok(Some(started)) => started,
            Err(error) => return Answer::Refused(error),
        },
    };
    if !link.push(body).await {
        return Answer::Refused(AttachError::NotFound);
    }
    Answer::Sent
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
    let user = credential.principal.id();
    match delete_here(&state, &token, hub, user) {
        Answer::Refused(AttachError::NotFound) => {
            state.forwarding.ask(&token, hub, user, Ask::Delete).await
        }
        answer => answer,
    }
    .into_response()
}

/// A DELETE for a connection of this gateway. A long-polling connection that already ended
/// (its last poll took the Close) goes too: its client is done with it.
pub(super) fn delete_here(state: &AppState, token: &str, hub: HubKind, user: Uuid) -> Answer {
    match state.registry.long_poll(token, hub, user) {
        Ok(link) => {
            link.terminate();
            state.registry.remove(token);
            Answer::Deleted
        }
        Err(AttachError::OtherTransport) => Answer::NotDeletable,
        Err(error) => match state.registry.find(token, hub, user) {
            Ok(Found::NotStarted) => Answer::NotDeletable,
            _ => Answer::Refused(error),
        },
    }
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
