//! Who a test acts as. Every service under test validates HS256 tokens with
//! [`jwt_validator`]'s secret, so a test user's token is minted here, fresh
//! for each client, and no test or harness keeps keys of its own.

use pulse_auth::{JwtKeys, JwtValidator, TokenRequest};
use secrecy::SecretString;
use uuid::Uuid;

use crate::Bearer;

/// The secret of the services under test. Not a real secret: it only has to
/// match between the service and the tokens the test mints for it.
const SECRET: &str = "pulse-test-secret";

/// How long a minted token is valid: longer than any test runs.
const TOKEN_LIFETIME_SECS: i64 = 3600;

/// The validator to configure a service under test with: it accepts the
/// tokens of [`TestUser::token`].
pub fn jwt_validator() -> JwtValidator {
    hs256(SECRET)
}

fn hs256(secret: &str) -> JwtValidator {
    JwtValidator::new(&JwtKeys::Hs256(SecretString::from(secret.to_owned())))
        .expect("HS256 validator")
}

/// A user with a display name and roles (what a token says about them);
/// each test makes its own, so ids never collide between tests.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: Uuid,
    pub name: String,
    /// Roles the service authorizes by (a trainer, a service account...).
    pub roles: Vec<String>,
}

impl TestUser {
    pub fn new(name: &str) -> Self {
        Self {
            id: Uuid::new_v4(),
            name: name.to_owned(),
            roles: Vec::new(),
        }
    }

    pub fn with_role(name: &str, role: &str) -> Self {
        Self {
            roles: vec![role.to_owned()],
            ..Self::new(name)
        }
    }

    /// A token for this user that services under test accept.
    pub fn token(&self) -> String {
        self.signed_by(&jwt_validator())
    }

    /// A token for this user that becomes valid only at `not_before`
    /// (seconds since the Unix epoch, the `nbf` claim).
    pub fn token_not_before(&self, not_before: i64) -> String {
        jwt_validator()
            .mint_not_before(&self.request(), not_before)
            .expect("mint")
    }

    /// An interceptor sending [`TestUser::token`].
    pub fn bearer(&self) -> Bearer {
        Bearer::new(Some(&self.token()))
    }

    fn signed_by(&self, validator: &JwtValidator) -> String {
        validator.mint(&self.request()).expect("mint")
    }

    fn request(&self) -> TokenRequest {
        TokenRequest {
            sub: self.id,
            name: self.name.clone(),
            roles: self.roles.clone(),
            exp: chrono::Utc::now().timestamp() + TOKEN_LIFETIME_SECS,
        }
    }
}

impl Bearer {
    /// A well-formed, unexpired token signed with another secret: what a
    /// service must refuse as firmly as no token at all.
    pub fn forged() -> Self {
        let token = TestUser::new("Mallory").signed_by(&hs256("another-secret"));
        Bearer::new(Some(&token))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_tokens_carry_the_user_and_their_roles() {
        let user = TestUser::with_role("Tess", "trainer");

        let identity = jwt_validator().validate(&user.token()).unwrap();

        assert_eq!(identity.user_id, user.id);
        assert_eq!(identity.name, "Tess");
        assert!(identity.has_role("trainer"));
    }

    #[test]
    fn a_forged_token_does_not_validate() {
        let other = TestUser::new("Mallory").signed_by(&hs256("another-secret"));

        assert!(jwt_validator().validate(&other).is_err());
    }
}
