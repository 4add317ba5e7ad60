//! Why the server ends a connection, and the one place that decides whether the client may come
//! back.
//!
//! The Close message's `allowReconnect` is what makes the official client with
//! `withAutomaticReconnect()` try again or give up for good, so it is chosen deliberately per
//! cause: anything a fresh connection would not run into again (a bad message, a slow client, a
//! restart, an expired token the client's factory can renew) allows it; a credential the domain
//! services refuse would be refused again, so that one does not.

use crate::protocol::{HubMessage, ProtocolError};

/// Every reason the server closes a connection with a Close message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseReason {
    /// Malformed or oversized input. A new connection starts with a clean parser.
    Protocol(ProtocolError),
    /// On a reattach, the client claims to resend from a message the server never received:
    /// the two sides lost track, so this connection cannot go on, but a new one can.
    SequenceAhead,
    /// Nothing arrived from the client within the client timeout.
    ClientTimeout,
    /// The client does not keep up: its outgoing queue is over budget (for a stateful connection,
    /// because it stopped acknowledging). It resumes from a snapshot on a new connection.
    Overloaded,
    /// Setting the connection up failed (its user's group could not be followed): a later
    /// attempt may succeed.
    SetupFailed,
    /// The gateway is shutting down; the client comes back to another instance or this one
    /// restarted.
    ShuttingDown,
    /// The credential's lifetime ended; the client's token factory can supply a fresh one.
    CredentialExpired,
    /// Handling the connection failed on a defect of the server (a panic, logged): a new
    /// connection starts from a clean state.
    ServerFault,
    /// A domain service refused the credential outright (revoked, or its user or key deleted).
    /// Reconnecting with it would be refused again, so the client must not retry on its own.
    CredentialRevoked,
}

impl CloseReason {
    /// Whether a client configured for automatic reconnect should come back.
    pub fn allow_reconnect(&self) -> bool {
        match self {
            Self::Protocol(_)
            | Self::SequenceAhead
            | Self::ClientTimeout
            | Self::Overloaded
            | Self::SetupFailed
            | Self::ShuttingDown
            | Self::CredentialExpired
            | Self::ServerFault => true,
            Self::CredentialRevoked => false,
        }
    }

    /// The `error` the client shows ("Server returned an error on close: …"). Errors caused by
    /// the connection itself use .NET's generic text followed by the reason, which is never an
    /// internal detail.
    pub fn error_text(&self) -> String {
        let generic = |reason: &str| format!("Connection closed with an error. {reason}");
        match self {
            Self::Protocol(error) => generic(&error.to_string()),
            Self::SequenceAhead => {
                generic("Sequence ID greater than amount of messages we've received.")
            }
            Self::ClientTimeout => generic(
                "Client hasn't sent a message/ping within the configured ClientTimeoutInterval.",
            ),
            Self::Overloaded => generic("The client did not keep up with its messages."),
            Self::SetupFailed => generic("The server could not set up the connection."),
            Self::ServerFault => generic("The server failed handling the connection."),
            Self::ShuttingDown => "Server is shutting down.".to_owned(),
            Self::CredentialExpired => "Authentication expired.".to_owned(),
            Self::CredentialRevoked => "The credential is no longer accepted.".to_owned(),
        }
    }

    /// The Close message that tells the client.
    pub fn message(&self) -> HubMessage {
        HubMessage::Close {
            error: Some(self.error_text()),
            allow_reconnect: self.allow_reconnect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_refused_credential_forbids_reconnecting() {
        let reasons = [
            CloseReason::Protocol(ProtocolError::MissingProperty("type")),
            CloseReason::SequenceAhead,
            CloseReason::ClientTimeout,
            CloseReason::Overloaded,
            CloseReason::SetupFailed,
            CloseReason::ShuttingDown,
            CloseReason::CredentialExpired,
            CloseReason::ServerFault,
            CloseReason::CredentialRevoked,
        ];
        for reason in reasons {
            let HubMessage::Close {
                error,
                allow_reconnect,
            } = reason.message()
            else {
                panic!("a Close message");
            };
            assert!(error.is_some_and(|text| !text.is_empty()));
            assert_eq!(
                allow_reconnect,
                reason != CloseReason::CredentialRevoked,
                "{reason:?}"
            );
        }
    }

    #[test]
    fn protocol_errors_say_why_after_the_dotnet_text() {
        let reason = CloseReason::Protocol(ProtocolError::MessageTooLarge { limit: 1024 });
        assert_eq!(
            reason.error_text(),
            "Connection closed with an error. The maximum message size of 1024B was exceeded."
        );
    }
}
