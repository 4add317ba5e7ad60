use pulse_auth::{bearer_from_header, Identity, JwtValidator};
use tonic::{Request, Status};

/// The caller of a request, from `authorization: Bearer <jwt>` metadata.
/// Any failure is `UNAUTHENTICATED`; the reason is logged, not returned.
pub fn authenticate<T>(validator: &JwtValidator, request: &Request<T>) -> Result<Identity, Status> {
    let token = request
        .metadata()
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .and_then(bearer_from_header)
        .ok_or_else(|| Status::unauthenticated("missing bearer token"))?;
    validator.validate(token).map_err(|error| {
        tracing::debug!(%error, "rejected bearer token");
        Status::unauthenticated("invalid bearer token")
    })
}
