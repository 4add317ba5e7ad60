use thiserror::Error;

/// Why a credential was refused. Every variant means "401"; the distinction is
/// for logs, never for the client.
#[derive(Debug, Error)]
pub enum AuthError {
    #[error("no credential presented")]
    Missing,
    #[error("token expired")]
    Expired,
    #[error("token not yet valid")]
    NotYetValid,
    #[error("invalid token: {0}")]
    Invalid(String),
    #[error("invalid key configuration: {0}")]
    Key(String),
}
