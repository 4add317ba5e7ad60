//! Hub messages as the rest of the gateway sees them, whatever protocol carried them.
//!
//! Payloads are `serde_json::Value` so JSON and MessagePack decode into the same shapes and hub
//! code binds arguments once. Headers (message types 1–5) are accepted on input and dropped: the
//! JS client never sends them in JSON and the gateway has no use for them.

use serde_json::Value;

/// One SignalR hub message, types 1–9 of the catalogue.
#[derive(Debug, Clone, PartialEq)]
pub enum HubMessage {
    /// Type 1: call a method. Without an id the caller wants no reply at all, not even an error.
    Invocation {
        /// `None` for a non-blocking call (`send`); an empty id on the wire also means none.
        invocation_id: Option<String>,
        /// Method name; .NET and the JS client resolve it case-insensitively.
        target: String,
        /// Positional arguments.
        arguments: Vec<Value>,
        /// Ids of upload streams the caller will feed with StreamItems; empty when none.
        stream_ids: Vec<String>,
    },
    /// Type 2: one item of a stream (server→client results, or client→server uploads).
    StreamItem {
        /// The stream invocation's id, or the upload stream's id.
        invocation_id: String,
        /// The item; `null` is a valid item.
        item: Value,
    },
    /// Type 3: the end of an invocation or stream.
    Completion {
        /// The id being completed.
        invocation_id: String,
        /// Result, nothing, or an error.
        outcome: CompletionOutcome,
    },
    /// Type 4: call a streaming method; answered by StreamItems then a Completion.
    StreamInvocation {
        /// Always present: the replies need it.
        invocation_id: String,
        /// Method name.
        target: String,
        /// Positional arguments.
        arguments: Vec<Value>,
        /// Upload stream ids; empty when none.
        stream_ids: Vec<String>,
    },
    /// Type 5: the caller no longer wants the stream; the callee still owes a Completion.
    CancelInvocation {
        /// The stream invocation to stop.
        invocation_id: String,
    },
    /// Type 6: keep-alive, never answered.
    Ping,
    /// Type 7: the sender is closing the connection.
    Close {
        /// Reason shown by the client ("Server returned an error on close: ..."); an empty error is
        /// written as none, since the client treats it as none.
        error: Option<String>,
        /// Whether a client configured for automatic reconnect should come back.
        allow_reconnect: bool,
    },
    /// Type 8 (stateful reconnect): everything up to and including `sequence_id` was processed.
    Ack {
        /// Highest processed sequence id.
        sequence_id: u64,
    },
    /// Type 9 (stateful reconnect): the next tracked message the sender sends has this id.
    Sequence {
        /// Sequence id of the first (re)sent tracked message.
        sequence_id: u64,
    },
}

/// How an invocation ended.
#[derive(Debug, Clone, PartialEq)]
pub enum CompletionOutcome {
    /// No result: a void method, or the end of a stream.
    Void,
    /// A result, possibly `null`.
    Result(Value),
    /// The client rejects with exactly this text. An empty text is written as [`Self::Void`], as
    /// .NET does (the JS client would read `"error":""` as success anyway), so it must not be empty.
    Error(String),
}
