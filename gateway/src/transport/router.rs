//! The HTTP surface: per hub, `POST {hub}/negotiate`, `GET {hub}` (a WebSocket upgrade, an
//! event stream or a long poll), `POST {hub}` (sends over SSE and long polling) and
//! `DELETE {hub}` (ends a long-polling connection), with CORS for browser origins. Each refusal
//! uses the status code ASP.NET Core answers, because clients act on them (a 404 on reattach
//! makes the official client give up reattaching, a 204 on a poll ends the connection).
//! Beside the hubs: the demo web app (`/`, `/app/…`), its helpers (`/demo/…`, only with
//! `--demo`), `/health` and `/metrics`.

use std::{sync::Arc, time::Duration};

use axum::{
    extract::{Request, State},
    http::{header, HeaderMap, HeaderValue, Method, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Router,
};
use tokio_util::{sync::CancellationToken, task::TaskTracker};
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::{
    answer::Answer,
    credentials::{authenticate, Credential},
    demo::{self, Demo},
    forwarding::{Claim, Forwarding},
    long_polling, metrics,
    negotiate::negotiate,
    sends, sse, web_app, websocket,
};
use crate::{
    hub::{HubKind, Services},
    node::OpenCount,
    principal::Authenticator,
    protocol::{query_value, TransportType},
    session::{
        AttachError, Attachment, ClaimRefused, CloseSchedule, Connection, Link, Registry,
        SessionConfig, SessionMetrics, Starting,
    },
};

/// Shared by every request handler.
#[derive(Clone)]
pub struct AppState {
    pub registry: Arc<Registry>,
    /// Reaches the gateway holding a connection this one does not (no sticky sessions).
    pub forwarding: Arc<Forwarding>,
    /// Shared, not copied, by every connection: it is several hundred bytes.
    pub services: Arc<Services>,
    pub authenticator: Authenticator,
    pub session: SessionConfig,
    /// Cancelled at shutdown: `/health/ready` answers 503 and every connection closes with
    /// a Close message at its turn in `close_schedule`.
    pub shutdown: CancellationToken,
    pub close_schedule: Arc<CloseSchedule>,
    /// Tracks connection tasks so shutdown can wait for their Close to flush.
    pub connections: TaskTracker,
    /// Largest single WebSocket message or POST body accepted (several hub messages may share
    /// one).
    pub max_frame_bytes: usize,
    /// How long a long poll waits for data before it is answered empty.
    pub poll_timeout: Duration,
    /// A WebSocket client that takes nothing for this long is a slow consumer.
    pub write_stall_timeout: Duration,
    /// Whether stateful reconnect is offered to clients that ask for it.
    pub stateful_reconnect: bool,
    /// gRPC subscriptions open, shown by `/metrics`.
    pub grpc_streams: OpenCount,
    /// Long polls holding their connection's turn, waiting for something to send.
    pub waiting_polls: OpenCount,
    /// The developer demo's sign-in, when `--demo` asked for it; its routes exist only then.
    pub demo: Option<Demo>,
    /// Handshakes, invocations and reconnects counted, shown by `/metrics`.
    pub session_metrics: Arc<SessionMetrics>,
}

/// The gateway's routes. `cors_origins`: empty for same-origin only; `*` mirrors any origin
/// (credentials are allowed, so a literal `*` cannot be sent).
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
                    .post(move |state, request| sends::send(state, hub, request))
                    .delete(move |state, request| sends::delete(state, hub, request)),
            );
    }
    if let Some(demo) = state.demo.clone() {
        router = router.merge(demo::routes(demo));
    }
    let router = router
        .route("/", get(web_app::index))
        .route("/app/{*file}", get(web_app::file))
        .route("/health", get(|| async { "ok" }))
        .route("/health/ready", get(ready))
        // Counts only, no credential needed (like `/health`).
        .route("/metrics", get(metrics::metrics))
        .with_state(state);
    match cors(cors_origins) {
        Some(cors) => router.layer(cors),
        None => router,
    }
}

/// Readiness, for load balancers: 503 from the moment the gateway starts draining, so no new
/// client is sent here (`/health` stays the liveness check).
async fn ready(State(state): State<AppState>) -> (StatusCode, &'static str) {
    if state.shutdown.is_cancelled() {
        (StatusCode::SERVICE_UNAVAILABLE, "draining")
    } else {
        (StatusCode::OK, "ready")
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

/// `GET {hub}?id=<token>`: the transport is told by the request, as .NET does: an upgrade is a
/// WebSocket, `Accept: text/event-stream` an event stream, anything else a long poll.
async fn connect(State(state): State<AppState>, hub: HubKind, request: Request) -> Response {
    let query = request.uri().query().unwrap_or("").to_owned();
    tracing::debug!(hub = hub.name(), query = %pulse_telemetry::redact_query(&query), "connect");
    let credential = match authenticate(&state.authenticator, hub, request.headers(), &query).await
    {
        Ok(credential) => credential,
        Err(refusal) => return refusal.into_response(),
    };
    let transport = transport_of(request.headers());
    let Some(token) = query_value(&query, "id") else {
        // Only a WebSocket may skip negotiation.
        if transport == TransportType::WebSockets {
            if state.shutdown.is_cancelled() {
                return refusal(AttachError::Draining);
            }
            let started = state
                .registry
                .start_unnegotiated(hub, &credential.principal, |s| {
                    start(&state, hub, &credential, transport, s)
                });
            return match started {
                Ok(link) => websocket::upgrade(state, request, link, false).await,
                Err(error) => refusal(error),
            };
        }
        return (StatusCode::BAD_REQUEST, "Connection ID required").into_response();
    };
    let attachment = state
        .registry
        .attach(token, hub, credential.principal.id(), transport, |s| {
            start(&state, hub, &credential, transport, s)
        });
    let attachment = match attachment {
        Ok(attachment) => attachment,
        Err(AttachError::NotFound) => {
            match connect_elsewhere(&state, hub, &credential, transport, token).await {
                Ok(attachment) => attachment,
                Err(answer) => return answer.into_response(),
            }
        }
        Err(error) => return refusal(error),
    };
    if matches!(attachment, Attachment::Started(_)) && transport != TransportType::WebSockets {
        state.forwarding.serve_connection(&state, token).await;
    }
    match transport {
        TransportType::WebSockets => websocket::attach(state, request, attachment).await,
        TransportType::ServerSentEvents => sse::attach(attachment).await,
        TransportType::LongPolling => long_polling::attach(&state, attachment, token)
            .await
            .into_response(),
    }
}

/// A transport request for a connection this gateway does not hold: a poll of a long-polling
/// connection another gateway runs is answered by it; the first request of a connection another
/// gateway negotiated claims it from there and starts it here.
async fn connect_elsewhere(
    state: &AppState,
    hub: HubKind,
    credential: &Credential,
    transport: TransportType,
    token: &str,
) -> Result<Attachment, Answer> {
    let user = credential.principal.id();
    let poll_elsewhere = || {
        state
            .forwarding
            .ask(token, hub, user, state.forwarding.poll())
    };
    if transport == TransportType::LongPolling {
        match poll_elsewhere().await {
            Answer::Refused(AttachError::NotFound) => {}
            answer => return Err(answer),
        }
    }
    if state.shutdown.is_cancelled() {
        return Err(Answer::Refused(AttachError::Draining));
    }
    match state.forwarding.claim(token, hub, user, transport).await {
        Claim::Claimed(claimed) => state
            .registry
            .adopt(token, hub, &credential.principal, claimed, transport, |s| {
                start(state, hub, credential, transport, s)
            })
            .map(Attachment::Started)
            .map_err(Answer::Refused),
        Claim::Refused(ClaimRefused::Started) => Err(match transport {
            // Started elsewhere a moment ago; its gateway answers the poll.
            TransportType::LongPolling => poll_elsewhere().await,
            TransportType::ServerSentEvents => Answer::Refused(AttachError::AlreadyActive),
            // A stateful WebSocket coming back to another gateway: refused at once, so the
            // client starts afresh (see `forwarding`).
            TransportType::WebSockets => Answer::Refused(AttachError::NotFound),
        }),
        Claim::Refused(ClaimRefused::NotFound) => Err(Answer::Refused(AttachError::NotFound)),
        Claim::Unanswered => Err(Answer::Unanswered),
    }
}

/// Starts a connection for its first transport request.
fn start(
    state: &AppState,
    hub: HubKind,
    credential: &Credential,
    transport: TransportType,
    starting: Starting,
) -> Link {
    let connection = Connection {
        hub,
        services: state.services.clone(),
        principal: credential.principal.clone(),
        token: credential.token.clone(),
        connection_id: starting.connection_id,
        config: state.session.clone(),
        transport,
        shutdown: state.shutdown.clone(),
        close_schedule: state.close_schedule.clone(),
        revoked: state.services.revoked(&credential.principal),
        metrics: state.session_metrics.clone(),
    };
    let registry = state.registry.clone();
    let token = starting.token;
    Link::start(
        connection,
        starting.stateful,
        starting.early,
        &state.connections,
        move || {
            // A long-polling connection stays findable so the next poll can take its last frames
            // and learn it ended (204); the poll or the reaper removes it.
            if transport != TransportType::LongPolling {
                registry.remove(&token);
            }
        },
    )
}

fn transport_of(headers: &HeaderMap) -> TransportType {
    let header_has = |name, wanted: &str| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.to_ascii_lowercase().contains(wanted))
    };
    if header_has(header::UPGRADE, "websocket") {
        TransportType::WebSockets
    } else if header_has(header::ACCEPT, "text/event-stream") {
        TransportType::ServerSentEvents
    } else {
        TransportType::LongPolling
    }
}

/// The status .NET answers for each reason a request cannot use a connection (and, for the
/// gateway's own limits, the standard status for each).
pub(super) fn refusal(error: AttachError) -> Response {
    let status = match error {
        AttachError::NotFound => StatusCode::NOT_FOUND,
        AttachError::OtherTransport => StatusCode::BAD_REQUEST,
        AttachError::AlreadyActive => StatusCode::CONFLICT,
        AttachError::TooEarly => StatusCode::PAYLOAD_TOO_LARGE,
        AttachError::TooManyConnections => StatusCode::TOO_MANY_REQUESTS,
        AttachError::Busy | AttachError::Draining => StatusCode::SERVICE_UNAVAILABLE,
    };
    let mut response = (status, error.to_string()).into_response();
    if error == AttachError::Busy {
        // Negotiations are reaped after the disconnect timeout; trying again soon is enough.
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}
