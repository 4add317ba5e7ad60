//! `POST {hub}/negotiate`.

use axum::{
    extract::State,
    http::{HeaderMap, Uri},
    response::{IntoResponse, Response},
    Json,
};

use super::{credentials::authenticate, router::refusal, AppState};
use crate::{
    hub::HubKind,
    protocol::{
        query_value, wants_stateful_reconnect, AvailableTransport, NegotiateResponse,
        NegotiateVersion,
    },
    session::AttachError,
};

pub(super) async fn negotiate(
    State(state): State<AppState>,
    hub: HubKind,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let query = uri.query().unwrap_or("");
    let credential = match authenticate(&state.authenticator, hub, &headers, query).await {
        Ok(credential) => credential,
        Err(refusal) => return refusal.into_response(),
    };
    let requested = query_value(query, "negotiateVersion");
    let version = match NegotiateVersion::parse(requested) {
        Ok(version) => version,
        Err(error) => return Json(error.body()).into_response(),
    };
    // Echoed only when asked for: the JS client refuses to start when the server claims a
    // feature it did not request.
    let stateful = state.stateful_reconnect
        && wants_stateful_reconnect(query_value(query, "useStatefulReconnect"));
    if state.shutdown.is_cancelled() {
        return refusal(AttachError::Draining);
    }
    let ids = match state
        .registry
        .negotiate(hub, &credential.principal, version, stateful)
    {
        Ok(ids) => ids,
        Err(error) => return refusal(error),
    };
    tracing::debug!(hub = hub.name(), user_id = %credential.principal.id(), conn_id = %ids.id, stateful, "negotiated");
    Json(NegotiateResponse::new(
        version,
        &ids,
        AvailableTransport::ALL,
        stateful,
    ))
    .into_response()
}
