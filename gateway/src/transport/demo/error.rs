//! What a demo endpoint answers when it cannot do what it was asked, in one exhaustive match:
//! the caller's mistakes and the service's refusals with their reason, internal failures
//! logged and answered without detail.

use axum::{
    extract::rejection::JsonRejection,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use tonic::Code;

use crate::hub::Undeclared;

#[derive(Debug, thiserror::Error)]
pub(super) enum DemoError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Body(#[from] JsonRejection),
    #[error("sign in first: this needs the demo token (or the virtual key) as a bearer token")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(&'static str),
    #[error(
        "the demo needs the master key (PULSE_MASTER_KEY) to create virtual keys and play a worker"
    )]
    NoMasterKey,
    #[error(transparent)]
    Service(#[from] tonic::Status),
    #[error(transparent)]
    Undeclared(#[from] Undeclared),
    #[error("demo token not signed: {0}")]
    Mint(#[from] pulse_auth::AuthError),
}

impl IntoResponse for DemoError {
    fn into_response(self) -> Response {
        let status = match &self {
            DemoError::Invalid(_) => StatusCode::BAD_REQUEST,
            DemoError::Body(rejection) => rejection.status(),
            DemoError::Unauthenticated => StatusCode::UNAUTHORIZED,
            DemoError::Forbidden(_) => StatusCode::FORBIDDEN,
            DemoError::NoMasterKey => StatusCode::SERVICE_UNAVAILABLE,
            DemoError::Service(status) => service_status(status.code()),
            DemoError::Undeclared(_) | DemoError::Mint(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status.is_server_error() && !matches!(self, DemoError::NoMasterKey) {
            tracing::error!(error = %self, "demo request failed");
            return (status, "The demo could not do that; see the gateway's log.").into_response();
        }
        let message = match &self {
            DemoError::Service(status) => status.message().to_owned(),
            other => other.to_string(),
        };
        (status, message).into_response()
    }
}

/// The HTTP status of a service's answer.
fn service_status(code: Code) -> StatusCode {
    match code {
        Code::InvalidArgument | Code::OutOfRange => StatusCode::BAD_REQUEST,
        Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        Code::PermissionDenied => StatusCode::FORBIDDEN,
        Code::NotFound => StatusCode::NOT_FOUND,
        Code::AlreadyExists | Code::FailedPrecondition | Code::Aborted => StatusCode::CONFLICT,
        Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
        Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        Code::Ok | Code::Unknown | Code::Unimplemented | Code::Internal | Code::DataLoss => {
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}
