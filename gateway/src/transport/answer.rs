//! What a long poll, a send or a DELETE comes to, wherever the connection is held: the
//! gateway the client asked renders it as the HTTP response, whether it served the request
//! itself or had the connection's gateway serve it (see `forwarding`).

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use bytes::Bytes;

use super::router::refusal;
use crate::session::AttachError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Answer {
    /// A poll's frames (empty when it timed out or was the first poll): 200.
    Polled(Bytes),
    /// The poll found the connection over, or a newer poll replaced it: 204.
    PollOver,
    /// A POST's body was taken: 200.
    Sent,
    /// A DELETE stopped a long-polling connection: 202.
    Deleted,
    Refused(AttachError),
    /// A POST for a WebSocket connection: 405.
    WebSocketSend,
    /// A POST while another is being taken: 409.
    SendInProgress,
    /// A DELETE for a connection that is not long polling: 400.
    NotDeletable,
    /// The connection runs on another gateway, which serves it directly (only ever an answer
    /// between gateways; rendered, it is a 404).
    Elsewhere,
    /// The body is larger than gateways hand to one another: 413.
    TooLargeToForward,
    /// The gateway holding the connection did not answer in time: 503.
    Unanswered,
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        match self {
            Answer::Polled(body) => poll_response(StatusCode::OK, body),
            Answer::PollOver => poll_response(StatusCode::NO_CONTENT, Bytes::new()),
            Answer::Sent => {
                (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain")]).into_response()
            }
            Answer::Deleted => StatusCode::ACCEPTED.into_response(),
            Answer::Refused(error) => refusal(error),
            Answer::Elsewhere => refusal(AttachError::NotFound),
            Answer::WebSocketSend => (
                StatusCode::METHOD_NOT_ALLOWED,
                "POST requests are not allowed for WebSocket connections.",
            )
                .into_response(),
            Answer::SendInProgress => {
                (StatusCode::CONFLICT, "Another send is in progress").into_response()
            }
            Answer::NotDeletable => (
                StatusCode::BAD_REQUEST,
                "Cannot terminate this connection using the DELETE endpoint.",
            )
                .into_response(),
            Answer::TooLargeToForward => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "Too large to hand to the gateway holding this connection",
            )
                .into_response(),
            Answer::Unanswered => (
                StatusCode::SERVICE_UNAVAILABLE,
                "The gateway holding this connection did not answer; try again",
            )
                .into_response(),
        }
    }
}

/// A poll response with the headers .NET sends (no caching anywhere on the way).
fn poll_response(status: StatusCode, body: Bytes) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-store"),
    );
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::EXPIRES,
        HeaderValue::from_static("Thu, 01 Jan 1970 00:00:00 GMT"),
    );
    response
}
