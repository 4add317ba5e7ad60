//! Who is making an HTTP request: a bearer token from the `Authorization`
//! header or, for WebSockets and SSE (where browsers cannot set headers), the
//! `access_token` query parameter.

use axum::{
    http::{header::AUTHORIZATION, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use pulse_auth::{bearer_from_header, bearer_from_query, Identity, JwtValidator};

/// A validated credential and the raw token (forwarded to domain services).
pub(crate) struct Credential {
    pub identity: Identity,
    pub token: String,
}

/// No valid credential: answered with 401.
#[derive(Debug)]
pub(crate) struct Unauthorized;

impl IntoResponse for Unauthorized {
    fn into_response(self) -> Response {
        (
            StatusCode::UNAUTHORIZED,
            [("www-authenticate", "Bearer")],
            "Unauthorized",
        )
            .into_response()
    }
}

pub(crate) fn authenticate(
    validator: &JwtValidator,
    headers: &HeaderMap,
    query: &str,
) -> Result<Credential, Unauthorized> {
    let token = headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(bearer_from_header)
        .map(str::to_owned)
        .or_else(|| bearer_from_query(query))
        .ok_or(Unauthorized)?;
    match validator.validate(&token) {
        Ok(identity) => Ok(Credential { identity, token }),
        Err(error) => {
            tracing::info!(%error, "credential refused");
            Err(Unauthorized)
        }
    }
}
