//! Reading a POST body under the size limit, and answering one over it with 413 instead of a
//! dropped connection.
//!
//! A server that answers before the client finished sending and then closes the socket makes
//! the kernel reset the connection, and the client never sees the answer. So an oversized body
//! is read to its end (discarded) before the 413 goes out, up to a bound on how much and how
//! long: past that the client is not sending a body but a flood, and is cut off.

use std::time::Duration;

use axum::{
    body::Body,
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use bytes::{Bytes, BytesMut};
use futures::StreamExt;

/// Most bytes of an oversized body read (and discarded) so that its 413 is seen.
const DRAIN_BYTES: usize = 16 * 1024 * 1024;
/// Longest an oversized body is read before its 413 is sent regardless.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a body was not taken.
#[derive(Debug, thiserror::Error)]
pub(super) enum BodyError {
    #[error("the body is larger than the limit of {limit} bytes")]
    TooLarge { limit: usize },
    #[error("the body could not be read")]
    Unreadable,
}

impl IntoResponse for BodyError {
    fn into_response(self) -> Response {
        let status = match self {
            BodyError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            BodyError::Unreadable => StatusCode::BAD_REQUEST,
        };
        (
            status,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!("{}.", capitalized(&self.to_string())),
        )
            .into_response()
    }
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The whole body, at most `limit` bytes.
pub(super) async fn read(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<Bytes, BodyError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    let mut stream = body.into_data_stream();
    if declared.is_some_and(|length| length > limit as u64) {
        drain(stream).await;
        return Err(BodyError::TooLarge { limit });
    }
    let mut taken = BytesMut::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| BodyError::Unreadable)?;
        if taken.len().saturating_add(chunk.len()) > limit {
            drain(stream).await;
            return Err(BodyError::TooLarge { limit });
        }
        taken.extend_from_slice(&chunk);
    }
    Ok(taken.freeze())
}

/// Reads what the client still sends and discards it, within the drain bounds.
async fn drain(mut stream: axum::body::BodyDataStream) {
    let drained = async {
        let mut total = 0usize;
        while let Some(Ok(chunk)) = stream.next().await {
            total = total.saturating_add(chunk.len());
            if total > DRAIN_BYTES {
                return;
            }
        }
    };
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, drained).await;
}
