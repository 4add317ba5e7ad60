//! One SignalR member as a browser would be: negotiate, WebSocket, JSON
//! handshake, `JoinList`, then reading its list's events and checking their
//! order.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::{net::TcpStream, time::Instant as Deadline};
use tokio_tungstenite::{tungstenite::Message, MaybeTlsStream, WebSocketStream};

use crate::harness::{check_exactly_once, command_index, Arrivals, Clock};

const HUB: &str = "/hubs/shopping-list";
const HANDSHAKE: &str = "{\"protocol\":\"json\",\"version\":1}\u{1e}";
const PING: &str = "{\"type\":6}\u{1e}";
/// What the JavaScript client sends by default, well inside the gateway's 30 s client timeout.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// The item each list gets after every measured command was acknowledged. The
/// relay publishes in commit order, so a member that has it has had the chance
/// to see every event before it, duplicates included.
pub(crate) const SENTINEL: &str = "sentinel";

pub(crate) type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

fn records(text: &str) -> impl Iterator<Item = &str> {
    text.split('\u{1e}').filter(|r| !r.is_empty())
}

async fn next_text(socket: &mut Socket) -> Result<String, String> {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(30), socket.next())
            .await
            .map_err(|_| "no message within 30 s".to_owned())?
            .ok_or("socket ended")?
            .map_err(|e| format!("socket: {e}"))?;
        match message {
            Message::Text(text) => return Ok(text.to_string()),
            Message::Close(frame) => return Err(format!("closed: {frame:?}")),
            _ => {}
        }
    }
}

/// Negotiates, connects, handshakes and joins the list, as a browser would.
pub(crate) async fn join(
    http: reqwest::Client,
    gateway: SocketAddr,
    token: String,
    list_id: String,
) -> Result<Socket, String> {
    let negotiated: Value = http
        .post(format!(
            "http://{gateway}{HUB}/negotiate?negotiateVersion=1"
        ))
        .bearer_auth(&token)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| format!("negotiate: {e}"))?
        .json()
        .await
        .map_err(|e| format!("negotiate: {e}"))?;
    let id = negotiated["connectionToken"]
        .as_str()
        .ok_or("negotiate: no connectionToken")?;
    let url = format!("ws://{gateway}{HUB}?id={id}&access_token={token}");
    let (mut socket, _) = tokio_tungstenite::connect_async(url)
        .await
        .map_err(|e| format!("websocket: {e}"))?;
    socket
        .send(Message::text(HANDSHAKE))
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    let reply = next_text(&mut socket).await?;
    if !reply.starts_with("{}\u{1e}") {
        return Err(format!("handshake refused: {reply}"));
    }
    let invocation =
        json!({"type": 1, "invocationId": "join", "target": "JoinList", "arguments": [list_id]});
    socket
        .send(Message::text(format!("{invocation}\u{1e}")))
        .await
        .map_err(|e| format!("JoinList: {e}"))?;
    loop {
        let text = next_text(&mut socket).await?;
        for record in records(&text) {
            let message: Value =
                serde_json::from_str(record).map_err(|e| format!("not JSON: {e}: {record}"))?;
            if message["type"] == 3 && message["invocationId"] == "join" {
                return match message.get("error") {
                    Some(error) => Err(format!("JoinList refused: {error}")),
                    None => Ok(socket),
                };
            }
        }
    }
}

/// One member after joining: reads until its list's sentinel, failing on any
/// event out of sequence, any other event, or a close. Keeps the socket open
/// (returned) until every member is done.
pub(crate) async fn member(
    mut socket: Socket,
    who: String,
    after: u64,
    expected: Arc<Vec<usize>>,
    clock: Clock,
    give_up: Deadline,
) -> Result<(Arrivals, Socket), String> {
    let (mut received, mut latencies) = (Vec::with_capacity(expected.len()), Vec::new());
    let (mut next, mut last_arrival) = (after + 1, 0);
    let mut keep_alive = tokio::time::interval_at(Deadline::now() + KEEP_ALIVE, KEEP_ALIVE);
    let give_up = tokio::time::sleep_until(give_up);
    tokio::pin!(give_up);
    loop {
        let message = tokio::select! {
            () = &mut give_up => {
                return Err(format!("{who}: gave up waiting for sequence {next} ({}/{} events)", received.len(), expected.len()));
            }
            _ = keep_alive.tick() => {
                socket.send(Message::text(PING)).await.map_err(|e| format!("{who}: ping: {e}"))?;
                continue;
            }
            message = socket.next() => message,
        };
        let arrived = clock.now();
        let text = match message {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Close(frame))) => return Err(format!("{who}: closed: {frame:?}")),
            Some(Ok(_)) => continue,
            Some(Err(error)) => return Err(format!("{who}: socket: {error}")),
            None => return Err(format!("{who}: socket ended")),
        };
        for record in records(&text) {
            let message: Value =
                serde_json::from_str(record).map_err(|e| format!("{who}: not JSON: {e}"))?;
            match message["type"].as_u64() {
                Some(1) => {}
                Some(7) => return Err(format!("{who}: closed by the gateway: {message}")),
                _ => continue,
            }
            let event = &message["arguments"][0];
            // Not a group event (PresenceUpdate goes to the joining connection only).
            let Some(sequence) = event["sequence"].as_u64() else {
                continue;
            };
            if sequence <= after {
                continue;
            }
            if sequence != next {
                return Err(format!(
                    "{who}: expected sequence {next}, got {sequence}: {message}"
                ));
            }
            next += 1;
            let name = match (&message["target"], event["item"]["name"].as_str()) {
                (target, Some(name)) if target == "ItemAdded" => name,
                _ => return Err(format!("{who}: unexpected event {message}")),
            };
            if name == SENTINEL {
                check_exactly_once(&who, received, &expected)?;
                let arrivals = Arrivals {
                    latencies,
                    last_arrival,
                };
                return Ok((arrivals, socket));
            }
            let index = command_index(name).ok_or_else(|| format!("{who}: item {name}"))?;
            let sent: u64 = event["item"]["notes"]
                .as_str()
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| format!("{who}: item {name} has no send time"))?;
            received.push(index);
            latencies.push(arrived.saturating_sub(sent));
            last_arrival = arrived;
        }
    }
}
