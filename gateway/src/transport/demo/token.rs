//! `POST /demo/token {name, role}` → `{token, userId, name, roles}`: a short-lived token for
//! a new user of that name, signed with the gateway's own secret, so the web app can be tried
//! with no identity provider.

use std::time::Duration;

use axum::{
    extract::{rejection::JsonRejection, State},
    Json,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Demo, DemoError};

/// How long a demo token is valid: long enough for a session of trying the app, short enough
/// that a token copied out of a browser is soon worthless.
const TOKEN_LIFETIME: Duration = Duration::from_secs(2 * 60 * 60);

/// Longest display name taken, in characters.
const MAX_NAME_CHARS: usize = 64;

/// Roles a demo user may take: the coaching screen's trainer. Any other role (`admin`) is
/// refused, so the demo never hands out more than the screens need.
const ROLES: &[&str] = &["trainer"];

#[derive(Debug, Deserialize)]
pub(super) struct SignIn {
    name: String,
    #[serde(default)]
    role: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct SignedIn {
    token: String,
    user_id: Uuid,
    name: String,
    roles: Vec<String>,
}

pub(super) async fn sign_in(
    State(demo): State<Demo>,
    body: Result<Json<SignIn>, JsonRejection>,
) -> Result<Json<SignedIn>, DemoError> {
    let Json(sign_in) = body?;
    let name = sign_in.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(DemoError::Invalid(format!(
            "name must be 1 to {MAX_NAME_CHARS} characters"
        )));
    }
    let roles = match sign_in.role.as_deref().map(str::trim) {
        None | Some("") => Vec::new(),
        Some(role) if ROLES.contains(&role) => vec![role.to_owned()],
        Some(_) => {
            return Err(DemoError::Invalid(format!(
                "role must be one of: {}",
                ROLES.join(", ")
            )))
        }
    };
    let user_id = Uuid::new_v4();
    let token = demo.mint(user_id, name, roles.clone(), TOKEN_LIFETIME)?;
    Ok(Json(SignedIn {
        token,
        user_id,
        name: name.to_owned(),
        roles,
    }))
}
