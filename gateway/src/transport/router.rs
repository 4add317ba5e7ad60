//! The HTTP surface: per hub, `POST {hub}/negotiate` and `GET {hub}` (the
//! WebSocket upgrade), with CORS for browser origins.

use std::sync::Arc;

use axum::{
    extract::{ws::WebSocketUpgrade, FromRequestParts, Request, State},
    http::{header, HeaderMap, HeaderValue, Method, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Router,
};
use pulse_auth::JwtValidator;
use tokio_util::{sync::CancellationToken, task::TaskTracker};
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::{
    credentials::authenticate,
    negotiate::{negotiate, query_value},
    websocket,
};
use crate::{
    hub::{HubKind, Services},
    session::{ActivateError, Connection, Registry, SessionConfig},
};

/// Shared by every request handler.
#[derive(Clone)]
pub struct AppState {
    pub registry: Arc<Registry>,
    pub services: Services,
    pub validator: JwtValidator,
    pub session: SessionConfig,
    /// Cancelled at shutdown: every connection closes with a Close message.
    pub shutdown: CancellationToken,
    /// Tracks connection tasks so shutdown can wait for their Close to flush.
    pub connections: TaskTracker,
    /// Largest single WebSocket message accepted (several hub messages may
    /// share one).
    pub max_frame_bytes: usize,
}

/// The gateway's routes. `cors_origins`: empty for same-origin only; `*`
/// mirrors any origin (credentials are allowed, so a literal `*` cannot be
/// sent).
pub fn router(state: AppState, cors_origins: &[String]) -> Router {
    let mut router = Router::new();
    for hub in HubKind::ALL {
        router = router
            .route(
                &format!("{}/negotiate", hub.path()),
                post(move |state, uri, headers| negotiate(state, hub, uri, headers)),
            )
            .route(
                hub.path(),
                get(move |state, request| connect(state, hub, request))
                    .post(not_websocket)
                    .delete(not_websocket),
            );
    }
    let router = router
        .route("/health", get(|| async { "ok" }))
        .with_state(state);
    match cors(cors_origins) {
        Some(cors) => router.layer(cors),
        None => router,
    }
}

fn cors(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let allow_origin = if origins.iter().any(|o| o == "*") {
        AllowOrigin::mirror_request()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow_origin)
            .allow_credentials(true)
            .allow_methods([Method::GET, Method::POST, Method::DELETE])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::HeaderName::from_static("x-requested-with"),
                header::HeaderName::from_static("x-signalr-user-agent"),
            ]),
    )
}

/// `GET {hub}?id=<token>`: attaches a transport to a negotiated connection
/// (or, without `id`, to a new one: `skipNegotiation`).
async fn connect(State(state): State<AppState>, hub: HubKind, request: Request) -> Response {
    let query = request.uri().query().unwrap_or("").to_owned();
    tracing::debug!(hub = hub.name(), query = %pulse_telemetry::redact_query(&query), "connect");
    let credential = match authenticate(&state.validator, request.headers(), &query) {
        Ok(credential) => credential,
        Err(unauthorized) => return unauthorized.into_response(),
    };
    if !is_websocket_upgrade(request.headers()) {
        return (
            StatusCode::NOT_FOUND,
            "This transport is not supported by this end point type",
        )
            .into_response();
    }
    let negotiated = match query_value(&query, "id") {
        Some(token) => match state.registry.activate(token, hub, &credential.identity) {
            Ok(negotiated) => negotiated,
            Err(error @ ActivateError::NotFound) => {
                return (StatusCode::NOT_FOUND, error.to_string()).into_response()
            }
            Err(error @ ActivateError::AlreadyActive) => {
                return (StatusCode::CONFLICT, error.to_string()).into_response()
            }
        },
        None => state.registry.create_active(hub, &credential.identity),
    };
    let (mut parts, _body) = request.into_parts();
    let upgrade = match WebSocketUpgrade::from_request_parts(&mut parts, &state).await {
        Ok(upgrade) => upgrade,
        Err(rejection) => {
            state.registry.remove(&negotiated.token);
            return rejection.into_response();
        }
    };
    let connection = Connection {
        hub,
        services: state.services.clone(),
        identity: credential.identity,
        token: credential.token,
        connection_id: negotiated.connection_id,
        config: state.session.clone(),
        shutdown: state.shutdown.clone(),
    };
    let tracker = state.connections.clone();
    upgrade
        .max_message_size(state.max_frame_bytes)
        .max_frame_size(state.max_frame_bytes)
        .on_upgrade(move |socket| {
            tracker.track_future(websocket::serve(
                socket,
                connection,
                state,
                negotiated.token,
            ))
        })
}

fn is_websocket_upgrade(headers: &HeaderMap) -> bool {
    headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// Sends (POST) and DELETE belong to SSE and long polling, which this gateway
/// does not offer; WebSocket connections take no POSTs (405, as ASP.NET Core).
async fn not_websocket() -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        "POST and DELETE are not supported for WebSocket connections",
    )
        .into_response()
}
