//! `POST {hub}/negotiate`.

use axum::{
    extract::State,
    http::{HeaderMap, Uri},
    response::{IntoResponse, Response},
    Json,
};

use super::{credentials::authenticate, AppState};
use crate::{
    hub::HubKind,
    protocol::{AvailableTransport, NegotiateResponse, NegotiateVersion},
};

/// What this gateway implements, in the order clients should try it.
const TRANSPORTS: &[AvailableTransport] = &[AvailableTransport::WEB_SOCKETS];

pub(super) async fn negotiate(
    State(state): State<AppState>,
    hub: HubKind,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let query = uri.query().unwrap_or("");
    let credential = match authenticate(&state.validator, &headers, query) {
        Ok(credential) => credential,
        Err(unauthorized) => return unauthorized.into_response(),
    };
    let requested = query_value(query, "negotiateVersion");
    let version = match NegotiateVersion::parse(requested) {
        Ok(version) => version,
        Err(error) => return Json(error.body()).into_response(),
    };
    let ids = state.registry.negotiate(hub, &credential.identity, version);
    tracing::debug!(hub = hub.name(), user_id = %credential.identity.user_id, conn_id = %ids.id, "negotiated");
    // Stateful reconnect is not offered, so clients run without it.
    Json(NegotiateResponse::new(version, &ids, TRANSPORTS, false)).into_response()
}

/// The raw value of a query parameter (the keys we read are plain ASCII and
/// their values URL-safe, so no decoding is needed).
pub(super) fn query_value<'q>(query: &'q str, key: &str) -> Option<&'q str> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, value)| value)
}
