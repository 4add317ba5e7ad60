//! The benchmark's peer: the smallest socketioxide server that does what the
//! Pulse gateway does in the race — clients connect over Engine.IO v4 /
//! Socket.IO v5 WebSockets, join a room (`join`, acknowledged once joined),
//! and a producer's `broadcast` event `{room, payload}` is emitted as
//! `message` to every socket in the room, the way a Pulse event reaches a
//! list's members.
//!
//! `peer-socketioxide [--addr 127.0.0.1:0] [--max-buffer-size 4096]` prints
//! one JSON line, `{"ready":true,"addr":"…"}`, once it listens, and runs
//! until killed.

use std::{net::SocketAddr, process::ExitCode};

use serde::Deserialize;
use socketioxide::{
    extract::{AckSender, Data, SocketRef},
    SocketIo,
};

/// What a producer asks to have sent to a room.
#[derive(Deserialize)]
struct Broadcast {
    room: String,
    payload: String,
}

struct Args {
    addr: SocketAddr,
    /// Packets queued per socket before an emit to it fails. socketioxide's
    /// default (128) drops messages of a burst to a busy socket; the race
    /// counts losses, so the peer gets the buffer it needs.
    max_buffer_size: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        max_buffer_size: 4096,
    };
    let mut argv = std::env::args().skip(1);
    while let Some(flag) = argv.next() {
        let value = argv.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--addr" => args.addr = value.parse().map_err(|e| format!("--addr: {e}"))?,
            "--max-buffer-size" => {
                args.max_buffer_size = value
                    .parse()
                    .map_err(|e| format!("--max-buffer-size: {e}"))?;
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(args)
}

async fn on_connect(socket: SocketRef) {
    socket.on(
        "join",
        async |socket: SocketRef, Data::<String>(room), ack: AckSender| {
            socket.join(room);
            ack.send(&true).ok();
        },
    );
    socket.on(
        "broadcast",
        async |io: SocketIo, Data::<Broadcast>(broadcast)| {
            io.to(broadcast.room)
                .emit("message", &broadcast.payload)
                .await
                .ok();
        },
    );
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(error) => {
            eprintln!("peer-socketioxide: {error}");
            return ExitCode::FAILURE;
        }
    };
    let (layer, io) = SocketIo::builder()
        .max_buffer_size(args.max_buffer_size)
        .build_layer();
    io.ns("/", on_connect);
    let app = axum::Router::new().layer(layer);
    let listener = match tokio::net::TcpListener::bind(args.addr).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("peer-socketioxide: bind {}: {error}", args.addr);
            return ExitCode::FAILURE;
        }
    };
    let addr = listener
        .local_addr()
        .map_or_else(|_| args.addr.to_string(), |a| a.to_string());
    println!("{{\"ready\":true,\"addr\":\"{addr}\"}}");
    match axum::serve(listener, app).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("peer-socketioxide: {error}");
            ExitCode::FAILURE
        }
    }
}
