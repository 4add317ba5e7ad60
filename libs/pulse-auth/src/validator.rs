//! Token validation and minting.

use jsonwebtoken::{
    decode, encode, errors::ErrorKind, Algorithm, DecodingKey, EncodingKey, Header, Validation,
};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use crate::{claims::Claims, AuthError, Identity, TokenRequest};

/// Key material from configuration.
#[derive(Clone)]
pub enum JwtKeys {
    /// Shared secret (HS256).
    Hs256(SecretString),
    /// PEM-encoded RSA public key (RS256); such a validator cannot mint.
    Rs256PublicPem(String),
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JwtKeys::Hs256(_) => f.write_str("JwtKeys::Hs256(<redacted>)"),
            JwtKeys::Rs256PublicPem(_) => f.write_str("JwtKeys::Rs256PublicPem"),
        }
    }
}

/// Validates bearer tokens: signature, algorithm, `exp` (required), `nbf`
/// (when present), and a UUID `sub`. Cheap to clone.
#[derive(Clone)]
pub struct JwtValidator {
    decoding: DecodingKey,
    encoding: Option<EncodingKey>,
    validation: Validation,
    algorithm: Algorithm,
}

impl std::fmt::Debug for JwtValidator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtValidator")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl JwtValidator {
    pub fn new(keys: &JwtKeys) -> Result<Self, AuthError> {
        let (algorithm, decoding, encoding) = match keys {
            JwtKeys::Hs256(secret) => {
                let bytes = secret.expose_secret().as_bytes();
                if bytes.is_empty() {
                    return Err(AuthError::Key("empty HS256 secret".into()));
                }
                (
                    Algorithm::HS256,
                    DecodingKey::from_secret(bytes),
                    Some(EncodingKey::from_secret(bytes)),
                )
            }
            JwtKeys::Rs256PublicPem(pem) => (
                Algorithm::RS256,
                DecodingKey::from_rsa_pem(pem.as_bytes())
                    .map_err(|e| AuthError::Key(e.to_string()))?,
                None,
            ),
        };
        let mut validation = Validation::new(algorithm);
        validation.set_required_spec_claims(&["exp", "sub"]);
        // A token is valid from `nbf` to `exp`, each with the same leeway for
        // clock skew; without `validate_nbf` a token minted for later would be
        // accepted at once.
        validation.validate_nbf = true;
        validation.leeway = 5;
        Ok(Self {
            decoding,
            encoding,
            validation,
            algorithm,
        })
    }

    pub fn validate(&self, token: &str) -> Result<Identity, AuthError> {
        let data =
            decode::<Claims>(token, &self.decoding, &self.validation).map_err(|e| {
                match e.kind() {
                    ErrorKind::ExpiredSignature => AuthError::Expired,
                    ErrorKind::ImmatureSignature => AuthError::NotYetValid,
                    _ => AuthError::Invalid(e.to_string()),
                }
            })?;
        data.claims.into_identity()
    }

    /// Signs a token with the configured secret (HS256 only).
    pub fn mint(&self, request: &TokenRequest) -> Result<String, AuthError> {
        self.sign(request)
    }

    /// Signs a token that is valid only from `not_before` (seconds since the
    /// Unix epoch, the `nbf` claim): for a credential issued ahead of its use.
    pub fn mint_not_before(
        &self,
        request: &TokenRequest,
        not_before: i64,
    ) -> Result<String, AuthError> {
        self.sign(&NotBefore {
            request,
            nbf: not_before,
        })
    }

    fn sign(&self, claims: &impl Serialize) -> Result<String, AuthError> {
        let key = self
            .encoding
            .as_ref()
            .ok_or_else(|| AuthError::Key("minting needs an HS256 secret".into()))?;
        encode(&Header::new(self.algorithm), claims, key)
            .map_err(|e| AuthError::Invalid(e.to_string()))
    }
}

/// A [`TokenRequest`] with an `nbf` claim.
#[derive(Serialize)]
struct NotBefore<'a> {
    #[serde(flatten)]
    request: &'a TokenRequest,
    nbf: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn validator(secret: &str) -> JwtValidator {
        JwtValidator::new(&JwtKeys::Hs256(SecretString::from(secret.to_owned())))
            .expect("valid key")
    }

    fn request(exp_offset: i64) -> TokenRequest {
        TokenRequest {
            sub: Uuid::new_v4(),
            name: "Ann".into(),
            roles: vec!["trainer".into()],
            exp: chrono::Utc::now().timestamp() + exp_offset,
        }
    }

    #[test]
    fn minted_token_validates_to_its_identity() {
        let v = validator("s3cret");
        let req = request(60);
        let identity = v.validate(&v.mint(&req).expect("mint")).expect("valid");
        assert_eq!(identity.user_id, req.sub);
        assert_eq!(identity.name, "Ann");
        assert!(identity.has_role("Trainer"));
    }

    #[test]
    fn token_signed_with_another_secret_is_refused() {
        let token = validator("other").mint(&request(60)).expect("mint");
        assert!(matches!(
            validator("s3cret").validate(&token),
            Err(AuthError::Invalid(_))
        ));
    }

    #[test]
    fn expired_token_is_refused() {
        let v = validator("s3cret");
        let token = v.mint(&request(-600)).expect("mint");
        assert!(matches!(v.validate(&token), Err(AuthError::Expired)));
    }

    #[test]
    fn token_not_yet_valid_is_refused() {
        let v = validator("s3cret");
        let now = chrono::Utc::now().timestamp();
        let token = v.mint_not_before(&request(600), now + 60).expect("mint");
        assert!(matches!(v.validate(&token), Err(AuthError::NotYetValid)));
    }

    #[test]
    fn token_valid_from_now_or_within_the_leeway_is_accepted() {
        let v = validator("s3cret");
        let now = chrono::Utc::now().timestamp();
        for nbf in [now - 60, now, now + 2] {
            let token = v.mint_not_before(&request(600), nbf).expect("mint");
            assert!(v.validate(&token).is_ok(), "nbf {nbf} (now {now})");
        }
    }

    #[test]
    fn garbage_is_refused() {
        assert!(validator("s").validate("not.a.jwt").is_err());
    }

    #[test]
    fn role_claim_may_be_a_string_or_a_list() {
        let claims: Claims = serde_json::from_str(
            r#"{"sub":"6f1c0d3e-8a53-4c5e-9d8e-0e6d7e0f4a11","exp":1,"role":"admin","roles":["trainer"]}"#,
        )
        .expect("claims");
        assert_eq!(
            claims.into_identity().expect("identity").roles,
            ["admin", "trainer"]
        );
    }
}
