//! Why a hub method failed, and the one place that turns it into the text
//! the client sees (the .NET error-string format the official client shows).

use tonic::Code;

/// A failed hub invocation. The connection stays open; only the invocation
/// completes with an error.
#[derive(Debug, Clone, thiserror::Error)]
pub enum HubError {
    /// No method of that name on this hub.
    #[error("unknown hub method")]
    UnknownMethod,
    /// The arguments do not fit the method.
    #[error("bad arguments: {0}")]
    BadArguments(String),
    /// Refused for a reason the caller may see (`HubException` in .NET):
    /// validation, not found, a state that does not allow it.
    #[error("refused: {0}")]
    Refused(String),
    /// The caller may not do this or see that (`HubException` with the
    /// contract's text, e.g. "Access denied"); gRPC streams answer it with
    /// PERMISSION_DENIED.
    #[error("denied: {0}")]
    Denied(String),
    /// The domain service refused the caller's credential itself (revoked, or its user deleted),
    /// though the gateway accepted it: the session closes the connection for good.
    #[error("credential refused by the service: {0}")]
    CredentialRevoked(String),
    /// A service the hub depends on is unreachable; retrying may succeed.
    #[error("dependency unavailable: {0}")]
    Unavailable(String),
    /// A bug or an unexpected dependency failure; details are logged only.
    #[error("internal error: {0}")]
    Internal(String),
}

/// The text for a call that failed because a service or its database was
/// out of reach: the call changed nothing and may be retried.
pub const UNAVAILABLE: &str = "Service temporarily unavailable; try again.";

/// The text for access refusals, identical for unknown and forbidden lists so
/// that outsiders learn nothing about what exists.
pub const ACCESS_DENIED: &str = "Access denied";

impl HubError {
    /// `Completion.error` for an invocation of `target`, as ASP.NET Core
    /// SignalR writes it.
    pub fn completion_text(&self, target: &str) -> String {
        match self {
            HubError::UnknownMethod => format!("Unknown hub method '{target}'"),
            HubError::BadArguments(detail) => format!(
                "Failed to invoke '{target}' due to an error on the server. InvalidDataException: {detail}"
            ),
            HubError::Refused(text) | HubError::Denied(text) => format!(
                "An unexpected error occurred invoking '{target}' on the server. HubException: {text}"
            ),
            HubError::CredentialRevoked(_) => format!(
                "An unexpected error occurred invoking '{target}' on the server. HubException: {ACCESS_DENIED}"
            ),
            HubError::Unavailable(_) => format!(
                "An unexpected error occurred invoking '{target}' on the server. HubException: {UNAVAILABLE}"
            ),
            HubError::Internal(_) => {
                format!("An unexpected error occurred invoking '{target}' on the server.")
            }
        }
    }
}

impl From<tonic::Status> for HubError {
    fn from(status: tonic::Status) -> Self {
        let message = status.message().to_owned();
        match status.code() {
            Code::PermissionDenied => HubError::Denied(ACCESS_DENIED.into()),
            Code::Unauthenticated => HubError::CredentialRevoked(message),
            Code::NotFound
            | Code::InvalidArgument
            | Code::AlreadyExists
            | Code::FailedPrecondition
            | Code::OutOfRange => HubError::Refused(message),
            Code::Unavailable
            | Code::DeadlineExceeded
            | Code::ResourceExhausted
            | Code::Aborted
            // tonic reports its own deadline (the gateway's service timeout)
            // as `Cancelled` "Timeout expired": the call was not refused.
            | Code::Cancelled => HubError::Unavailable(message),
            Code::Unknown if lost_in_transport(&status) => HubError::Unavailable(message),
            Code::Ok
            | Code::Unknown
            | Code::Unimplemented
            | Code::Internal
            | Code::DataLoss => HubError::Internal(format!("{:?}: {message}", status.code())),
        }
    }
}

/// A call whose connection to the service failed under it (reset, GOAWAY,
/// broken pipe) comes back from tonic as `Unknown` with the transport error
/// as its source: the service was out of reach, not wrong, so the caller is
/// told to try again rather than shown an internal error.
fn lost_in_transport(status: &tonic::Status) -> bool {
    std::error::Error::source(status).is_some_and(|source| source.is::<tonic::transport::Error>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_use_the_hub_exception_format() {
        assert_eq!(
            HubError::Denied(ACCESS_DENIED.into()).completion_text("JoinList"),
            "An unexpected error occurred invoking 'JoinList' on the server. HubException: Access denied"
        );
    }

    #[test]
    fn an_unavailable_service_or_database_reads_try_again() {
        for status in [
            tonic::Status::unavailable("service temporarily unavailable, please retry"),
            tonic::Status::deadline_exceeded("timeout"),
            tonic::Status::aborted("concurrent update, please retry"),
            tonic::Status::cancelled("Timeout expired"),
        ] {
            let error = HubError::from(status);
            assert!(matches!(error, HubError::Unavailable(_)), "{error:?}");
            assert_eq!(
                error.completion_text("AddItem"),
                "An unexpected error occurred invoking 'AddItem' on the server. HubException: Service temporarily unavailable; try again."
            );
        }
    }

    /// A service that answers the HTTP/2 handshake, reads the call and drops
    /// the connection: the call is lost in transport.
    #[tokio::test]
    async fn a_call_lost_with_its_connection_reads_try_again() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        tokio::spawn(async move {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            // An empty SETTINGS frame: the server's side of the handshake.
            let _ = socket.write_all(&[0, 0, 0, 4, 0, 0, 0, 0, 0]).await;
            let mut request = [0; 256];
            let _ = socket.read(&mut request).await;
        });
        let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
            .expect("endpoint")
            .connect_lazy();
        let status =
            pulse_proto::lists::v1::shopping_lists_client::ShoppingListsClient::new(channel)
                .get_list(pulse_proto::lists::v1::GetListRequest::default())
                .await
                .expect_err("the connection is dropped");
        let error = HubError::from(status);
        assert!(matches!(error, HubError::Unavailable(_)), "{error:?}");
        assert_eq!(
            error.completion_text("JoinList"),
            "An unexpected error occurred invoking 'JoinList' on the server. HubException: Service temporarily unavailable; try again."
        );
    }

    #[test]
    fn internal_details_never_reach_the_client() {
        let text = HubError::Internal("db password wrong".into()).completion_text("AddItem");
        assert!(!text.contains("password"));
    }

    #[test]
    fn forbidden_and_unauthenticated_statuses_read_access_denied() {
        let forbidden = HubError::from(tonic::Status::permission_denied("not a collaborator"));
        assert!(matches!(&forbidden, HubError::Denied(t) if t == ACCESS_DENIED));
        let revoked = HubError::from(tonic::Status::unauthenticated("key deleted"));
        assert!(matches!(revoked, HubError::CredentialRevoked(_)));
        assert_eq!(
            revoked.completion_text("AddItem"),
            forbidden.completion_text("AddItem")
        );
    }
}
