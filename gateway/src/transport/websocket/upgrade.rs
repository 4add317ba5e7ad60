//! The HTTP/1.1 upgrade to a WebSocket (RFC 6455 §4.2): the request is checked, answered with
//! `101 Switching Protocols`, and once hyper hands the connection over, its TCP stream is
//! taken back, so the reader and the writer each own a half of it without a lock between them.

use axum::{
    body::Body,
    http::{
        header, request::Parts, HeaderMap, HeaderName, HeaderValue, Method, Response, StatusCode,
    },
    response::IntoResponse,
};
use base64::Engine;
use bytes::Bytes;
use hyper::upgrade::OnUpgrade;
use hyper_util::{rt::TokioIo, server::conn::auto};
use sha1::{Digest, Sha1};
use tokio::net::TcpStream;

/// Why a request cannot be upgraded; each answers with the status ASP.NET Core and axum use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(super) enum Refused {
    #[error("WebSocket request must be a GET")]
    NotGet,
    #[error("Connection header did not include 'upgrade'")]
    Connection,
    #[error("`Upgrade` header did not include 'websocket'")]
    Upgrade,
    #[error("`Sec-WebSocket-Key` header missing")]
    Key,
    #[error("`Sec-WebSocket-Version` header did not include '13'")]
    Version,
    #[error("WebSocket request couldn't be upgraded since no upgrade state was present")]
    NotUpgradable,
}

impl IntoResponse for Refused {
    fn into_response(self) -> axum::response::Response {
        let status = match self {
            Self::NotGet => StatusCode::METHOD_NOT_ALLOWED,
            Self::Connection | Self::Upgrade | Self::Key | Self::Version => StatusCode::BAD_REQUEST,
            Self::NotUpgradable => StatusCode::UPGRADE_REQUIRED,
        };
        (status, self.to_string()).into_response()
    }
}

/// An accepted upgrade: the response to send, and the connection it hands over.
pub(super) struct Accepted {
    pub(super) response: Response<Body>,
    pub(super) connection: OnUpgrade,
}

/// Checks an upgrade request and prepares its `101` answer.
pub(super) fn accept(parts: &mut Parts) -> Result<Accepted, Refused> {
    if parts.method != Method::GET {
        return Err(Refused::NotGet);
    }
    if !has_token(&parts.headers, header::CONNECTION, "upgrade") {
        return Err(Refused::Connection);
    }
    if !has_token(&parts.headers, header::UPGRADE, "websocket") {
        return Err(Refused::Upgrade);
    }
    let key = parts
        .headers
        .get(header::SEC_WEBSOCKET_KEY)
        .ok_or(Refused::Key)?;
    if !has_token(&parts.headers, header::SEC_WEBSOCKET_VERSION, "13") {
        return Err(Refused::Version);
    }
    let accept = accept_key(key.as_bytes());
    let connection = parts
        .extensions
        .remove::<OnUpgrade>()
        .ok_or(Refused::NotUpgradable)?;
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = response.headers_mut();
    headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    Ok(Accepted {
        response,
        connection,
    })
}

/// The TCP stream hyper hands over after the `101`, and the bytes it read past the request.
/// The listener serves with hyper-util's protocol-detecting builder (`listen.rs`), which wraps
/// the stream; its own `downcast` unwraps it.
pub(super) async fn take_stream(connection: OnUpgrade) -> std::io::Result<(TcpStream, Bytes)> {
    let upgraded = connection.await.map_err(std::io::Error::other)?;
    let parts = auto::upgrade::downcast::<TokioIo<TcpStream>>(upgraded)
        .map_err(|_| std::io::Error::other("upgraded connection is not a TCP stream"))?;
    Ok((parts.io.into_inner(), parts.read_buf))
}

/// Whether a header's comma-separated values include `token` (case-insensitively).
fn has_token(headers: &HeaderMap, name: HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .flat_map(|value| value.as_bytes().split(|&byte| byte == b','))
        .any(|value| value.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
}

/// `Sec-WebSocket-Accept`: SHA-1 of the client's key and the protocol's GUID, in base64.
fn accept_key(key: &[u8]) -> HeaderValue {
    const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    let digest = Sha1::new().chain_update(key).chain_update(GUID).finalize();
    let encoded = base64::engine::general_purpose::STANDARD.encode(digest);
    HeaderValue::try_from(encoded).expect("base64 is a valid header value")
}

#[cfg(test)]
mod tests {
    use axum::http::Request;

    use super::*;

    fn parts(request: axum::http::request::Builder) -> Parts {
        request.body(()).expect("request").into_parts().0
    }

    fn upgrade_request() -> axum::http::request::Builder {
        Request::get("/hub")
            .header("connection", "keep-alive, Upgrade")
            .header("upgrade", "WebSocket")
            .header("sec-websocket-version", "13")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
    }

    #[test]
    fn the_accept_key_is_the_one_rfc_6455_gives() {
        assert_eq!(
            accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn a_request_without_hypers_upgrade_state_is_not_upgradable() {
        assert_eq!(
            accept(&mut parts(upgrade_request())).err(),
            Some(Refused::NotUpgradable),
            "every header is right: only the connection is missing"
        );
    }

    #[test]
    fn requests_that_are_not_upgrades_are_refused_with_their_reason() {
        let cases = [
            (Request::post("/hub"), Refused::NotGet),
            (Request::get("/hub"), Refused::Connection),
            (
                Request::get("/hub").header("connection", "upgrade"),
                Refused::Upgrade,
            ),
            (
                Request::get("/hub")
                    .header("connection", "upgrade")
                    .header("upgrade", "websocket"),
                Refused::Key,
            ),
            (
                Request::get("/hub")
                    .header("connection", "upgrade")
                    .header("upgrade", "websocket")
                    .header("sec-websocket-key", "x")
                    .header("sec-websocket-version", "8"),
                Refused::Version,
            ),
        ];
        for (request, refused) in cases {
            assert_eq!(accept(&mut parts(request)).err(), Some(refused));
        }
        assert_eq!(
            Refused::NotGet.into_response().status(),
            StatusCode::METHOD_NOT_ALLOWED
        );
        assert_eq!(
            Refused::NotUpgradable.into_response().status(),
            StatusCode::UPGRADE_REQUIRED
        );
    }
}
