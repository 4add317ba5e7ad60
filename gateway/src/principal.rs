//! Who a request acts as. Browsers and native clients present one bearer
//! string, whatever they are (CONTRACT §2): a user's JWT, a tenant's virtual
//! key, or the deployment's master key. The gateway tells them apart here,
//! once, and every layer above works with the resulting [`Principal`].

mod key_cache;

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};

use pulse_auth::{Identity, JwtValidator, MasterKey};
use pulse_proto::tasks::v1::{virtual_keys_client::VirtualKeysClient, AuthenticateKeyRequest};
use tonic::{metadata::MetadataValue, transport::Channel, Code};
use uuid::Uuid;

use crate::node::Revocations;
use key_cache::KeyCache;

/// What kind of credential authenticated a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrincipalKind {
    /// A user's JWT: `sub` is the user id.
    User,
    /// A virtual key issued by the task service: its id stands in for a user id.
    VirtualKey,
    /// The master key from configuration: administration.
    Master,
}

/// An authenticated caller: an identity (for virtual keys and the master key,
/// one made from the key) and the kind of credential behind it.
#[derive(Debug, Clone)]
pub struct Principal {
    pub identity: Identity,
    pub kind: PrincipalKind,
}

impl Principal {
    /// The user id, virtual key id, or nil for the master key.
    pub fn id(&self) -> Uuid {
        self.identity.user_id
    }

    /// When the credential's lifetime ends, as a tokio instant: hub connections close and gRPC
    /// streams end then, one definition for both.
    pub fn expiry(&self) -> tokio::time::Instant {
        let now = chrono::Utc::now().timestamp();
        let remaining = u64::try_from(self.identity.expires_at.saturating_sub(now)).unwrap_or(0);
        // Far-future expiries are capped (at the keys' lifetime) so the instant cannot overflow.
        tokio::time::Instant::now()
            + Duration::from_secs(remaining.min(KEY_SESSION_LIFETIME.as_secs()))
    }
}

/// Why a credential was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum AuthFailure {
    /// Missing, malformed, expired, unknown or revoked: 401.
    #[error("credential refused")]
    Refused,
    /// A virtual key could not be checked because the task service is
    /// unreachable: 503, the client retries.
    #[error("cannot verify the credential now: {0}")]
    Unavailable(String),
}

/// Keys do not expire on their own; connections authenticated by one end when
/// it is revoked. The identity still needs an expiry: this far ahead.
const KEY_SESSION_LIFETIME: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// Checks bearer strings: JWTs locally, the master key against configuration,
/// anything else as a virtual key with the task service that issued it (or, for a
/// key it accepted a moment ago and that was not revoked since, from a cache).
#[derive(Clone)]
pub struct Authenticator {
    jwt: JwtValidator,
    master_key: Option<MasterKey>,
    keys: VirtualKeysClient<Channel>,
    cache: Arc<KeyCache>,
    /// Calls made to the task service to check a key.
    key_checks: Arc<AtomicU64>,
}

/// How long an accepted virtual key is trusted without asking the task service
/// again, and how many are remembered.
#[derive(Debug, Clone, Copy)]
pub struct KeyCacheConfig {
    pub ttl: Duration,
    pub capacity: usize,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("master_key", &self.master_key.is_some())
            .finish_non_exhaustive()
    }
}

impl Authenticator {
    pub fn new(
        jwt: JwtValidator,
        master_key: Option<MasterKey>,
        keys: VirtualKeysClient<Channel>,
        cache: KeyCacheConfig,
        revocations: Arc<Revocations>,
    ) -> Self {
        Self {
            jwt,
            master_key,
            keys,
            cache: Arc::new(KeyCache::new(cache.ttl, cache.capacity, revocations)),
            key_checks: Arc::default(),
        }
    }

    /// Calls made to the task service to check a virtual key so far.
    pub fn key_checks(&self) -> u64 {
        self.key_checks.load(Ordering::Relaxed)
    }

    pub async fn authenticate(&self, token: &str) -> Result<Principal, AuthFailure> {
        if self
            .master_key
            .as_ref()
            .is_some_and(|key| key.matches(token))
        {
            return Ok(Principal {
                identity: key_identity(Uuid::nil(), "master key".into(), "admin"),
                kind: PrincipalKind::Master,
            });
        }
        if looks_like_jwt(token) {
            return match self.jwt.validate(token) {
                Ok(identity) => Ok(Principal {
                    identity,
                    kind: PrincipalKind::User,
                }),
                Err(error) => {
                    tracing::info!(%error, "token refused");
                    Err(AuthFailure::Refused)
                }
            };
        }
        let hash = key_cache::hash(token);
        if let Some(principal) = self.cache.get(&hash) {
            return Ok(principal);
        }
        let principal = self.virtual_key(token).await?;
        self.cache.put(hash, principal.clone());
        Ok(principal)
    }

    /// The task service knows the key (by its hash) and whether it is active.
    async fn virtual_key(&self, token: &str) -> Result<Principal, AuthFailure> {
        let bearer =
            MetadataValue::try_from(format!("Bearer {token}")).map_err(|_| AuthFailure::Refused)?;
        let mut request = tonic::Request::new(AuthenticateKeyRequest {});
        request.metadata_mut().insert("authorization", bearer);
        self.key_checks.fetch_add(1, Ordering::Relaxed);
        match self.keys.clone().authenticate_key(request).await {
            Ok(key) => {
                let key = key.into_inner();
                let id = Uuid::parse_str(&key.id).map_err(|_| {
                    AuthFailure::Unavailable("task service sent a bad key id".into())
                })?;
                Ok(Principal {
                    identity: key_identity(id, key.name, "virtual-key"),
                    kind: PrincipalKind::VirtualKey,
                })
            }
            Err(status) => match status.code() {
                Code::Unauthenticated
                | Code::PermissionDenied
                | Code::NotFound
                | Code::InvalidArgument => {
                    tracing::info!(message = status.message(), "virtual key refused");
                    Err(AuthFailure::Refused)
                }
                _ => Err(AuthFailure::Unavailable(status.to_string())),
            },
        }
    }
}

/// Three base64url segments: a JWT's shape. Keys never contain dots.
fn looks_like_jwt(token: &str) -> bool {
    token.split('.').count() == 3
}

fn key_identity(id: Uuid, name: String, role: &str) -> Identity {
    let lifetime = i64::try_from(KEY_SESSION_LIFETIME.as_secs()).unwrap_or(i64::MAX);
    Identity {
        user_id: id,
        name,
        roles: vec![role.to_owned()],
        expires_at: chrono::Utc::now().timestamp().saturating_add(lifetime),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jwts_are_told_from_keys_by_shape() {
        assert!(looks_like_jwt("aGVhZA.Ym9keQ.c2ln"));
        assert!(!looks_like_jwt(
            "pvk_N2Rk-3kd_39dkKd93kdKd93kdKd93kdKd93kdKd9"
        ));
        assert!(!looks_like_jwt("a.b"));
    }
}
