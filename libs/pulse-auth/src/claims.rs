//! The identity a token proves, and what a minted token says.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The authenticated caller. `user_id` always comes from the token's `sub`,
/// never from anything else the client sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub user_id: Uuid,
    pub name: String,
    pub roles: Vec<String>,
    /// When the credential stops being valid (seconds since the Unix epoch);
    /// long-lived connections are closed then, as ASP.NET Core does with
    /// `CloseOnAuthenticationExpiration`.
    pub expires_at: i64,
}

impl Identity {
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r.eq_ignore_ascii_case(role))
    }
}

/// `role` may be one string or a list, as ASP.NET Core issuers write it.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// Claims read from a token; `exp` is checked by the validator.
#[derive(Debug, Deserialize)]
pub(crate) struct Claims {
    pub sub: String,
    pub exp: i64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub role: Option<OneOrMany>,
    #[serde(default)]
    pub roles: Option<OneOrMany>,
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(role) => vec![role],
            OneOrMany::Many(roles) => roles,
        }
    }
}

impl Claims {
    pub(crate) fn into_identity(self) -> Result<Identity, crate::AuthError> {
        let user_id = Uuid::parse_str(&self.sub)
            .map_err(|_| crate::AuthError::Invalid("sub is not a UUID".into()))?;
        let mut roles: Vec<String> = self.role.map(OneOrMany::into_vec).unwrap_or_default();
        roles.extend(self.roles.map(OneOrMany::into_vec).unwrap_or_default());
        Ok(Identity {
            user_id,
            name: self.name.unwrap_or_default(),
            roles,
            expires_at: self.exp,
        })
    }
}

/// What to put in a minted token.
#[derive(Debug, Clone, Serialize)]
pub struct TokenRequest {
    pub sub: Uuid,
    pub name: String,
    pub roles: Vec<String>,
    /// Seconds since the Unix epoch.
    pub exp: i64,
}
