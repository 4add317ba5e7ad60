//! The developer demo's sign-in (`--demo`, `PULSE_DEMO`): `POST /demo/token {name, role}`
//! answers `{token, userId, name, roles}`, a short-lived HS256 token for a new user of that
//! name, signed with the gateway's own secret, so the web app can be tried with no identity
//! provider. Anyone who can reach the gateway can then be anyone, which is why it is off unless
//! asked for, and refused outright when JWTs are RS256: a key the gateway cannot sign with is a
//! production key.

use std::time::Duration;

use axum::{
    extract::rejection::JsonRejection,
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use pulse_auth::{JwtValidator, TokenRequest};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// How long a demo token is valid: long enough for a session of trying the app, short enough
/// that a token copied out of a browser is soon worthless.
const TOKEN_LIFETIME: Duration = Duration::from_secs(2 * 60 * 60);

/// Longest display name taken, in characters.
const MAX_NAME_CHARS: usize = 64;

/// Roles a demo user may take: the coaching screen's trainer. Any other role (`admin`) is
/// refused, so the demo never hands out more than the screens need.
const ROLES: &[&str] = &["trainer"];

/// `--demo` was asked for where it cannot work.
#[derive(Debug, thiserror::Error)]
#[error("--demo needs an HS256 secret (PULSE_JWT_SECRET) to sign demo tokens with; it is refused with an RS256 public key, which is a production setting")]
pub struct DemoRefused;

/// Signs demo tokens.
#[derive(Clone)]
pub struct Demo {
    validator: JwtValidator,
}

impl Demo {
    /// A demo signing with `validator`'s secret; refused unless it can sign (HS256).
    pub fn new(validator: JwtValidator) -> Result<Self, DemoRefused> {
        let demo = Self { validator };
        demo.mint("probe", Vec::new()).map_err(|_| DemoRefused)?;
        Ok(demo)
    }

    fn mint(&self, name: &str, roles: Vec<String>) -> Result<SignedIn, pulse_auth::AuthError> {
        let user_id = Uuid::new_v4();
        let lifetime = i64::try_from(TOKEN_LIFETIME.as_secs()).unwrap_or(i64::MAX);
        let token = self.validator.mint(&TokenRequest {
            sub: user_id,
            name: name.to_owned(),
            roles: roles.clone(),
            exp: chrono::Utc::now().timestamp().saturating_add(lifetime),
        })?;
        Ok(SignedIn {
            token,
            user_id,
            name: name.to_owned(),
            roles,
        })
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct SignIn {
    name: String,
    #[serde(default)]
    role: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SignedIn {
    token: String,
    user_id: Uuid,
    name: String,
    roles: Vec<String>,
}

/// `POST /demo/token`.
pub(super) async fn token(demo: Demo, body: Result<Json<SignIn>, JsonRejection>) -> Response {
    let Json(sign_in) = match body {
        Ok(body) => body,
        Err(rejection) => return (rejection.status(), rejection.body_text()).into_response(),
    };
    let name = sign_in.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        let reason = format!("name must be 1 to {MAX_NAME_CHARS} characters");
        return (StatusCode::BAD_REQUEST, reason).into_response();
    }
    let roles = match sign_in.role.as_deref().map(str::trim) {
        None | Some("") => Vec::new(),
        Some(role) if ROLES.contains(&role) => vec![role.to_owned()],
        Some(_) => {
            let reason = format!("role must be one of: {}", ROLES.join(", "));
            return (StatusCode::BAD_REQUEST, reason).into_response();
        }
    };
    match demo.mint(name, roles) {
        Ok(signed_in) => Json(signed_in).into_response(),
        Err(error) => {
            tracing::error!(%error, "demo token not signed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
