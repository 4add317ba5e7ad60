//! Virtual keys: per-tenant API keys issued by admins. The secret is shown
//! once, at creation; the service keeps its SHA-256 hash to recognise it
//! and its first characters to tell keys apart in listings.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{text, ConfigurationChange, Money, Named};
use crate::TasksError;

/// What every secret starts with, so a leaked one is recognisable (secret
/// scanners) and a JWT or master key is never looked up as one.
const SECRET_PREFIX: &str = "pvk_";
/// Characters of the secret kept in clear for listings: the prefix and 8
/// characters (48 bits) of the random part, too few to help guess the rest.
const KEY_PREFIX_LEN: usize = 12;
/// Random bytes in a secret: 256 bits.
const SECRET_BYTES: usize = 32;
/// Who changes keys, as `ConfigurationChanged` names them.
const MASTER_KEY: &str = "master key";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyStatus {
    Active,
    Revoked,
}

impl Named for KeyStatus {
    const ALL: &'static [Self] = &[KeyStatus::Active, KeyStatus::Revoked];

    fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Active => "Active",
            KeyStatus::Revoked => "Revoked",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct VirtualKey {
    pub id: Uuid,
    pub name: String,
    pub key_prefix: String,
    pub status: KeyStatus,
    pub budget: Option<Money>,
    /// Spend aggregated so far: what the last `SpendUpdate` said.
    pub current_spend: Money,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl VirtualKey {
    /// A key may act only while active; a revoked key is refused for good.
    pub fn require_active(self) -> Result<Self, TasksError> {
        match self.status {
            KeyStatus::Active => Ok(self),
            KeyStatus::Revoked => Err(TasksError::Unauthenticated("virtual key revoked")),
        }
    }

    /// `ConfigurationChanged` for a key whose status was `old` before (no
    /// value: the key was just created).
    pub fn status_change(&self, old: Option<KeyStatus>) -> ConfigurationChange {
        ConfigurationChange {
            setting: format!("virtualKey:{}:status", self.id),
            old_value: old.map(|status| status.as_str().to_owned()),
            new_value: Some(self.status.as_str().to_owned()),
            changed_by: MASTER_KEY.to_owned(),
        }
    }

    /// `ConfigurationChanged` for a key whose budget was `old` before (no
    /// value: no budget).
    pub fn budget_change(&self, old: Option<Money>) -> ConfigurationChange {
        ConfigurationChange {
            setting: format!("virtualKey:{}:budget", self.id),
            old_value: old.map(|budget| budget.to_string()),
            new_value: self.budget.map(|budget| budget.to_string()),
            changed_by: MASTER_KEY.to_owned(),
        }
    }
}

/// A spend limit as a client sent it; absent means none.
pub fn budget(value: Option<f64>) -> Result<Option<Money>, TasksError> {
    value
        .map(|value| Money::positive("budget", value))
        .transpose()
}

/// A validated `CreateVirtualKey`.
#[derive(Debug, Clone, PartialEq)]
pub struct NewVirtualKey {
    pub name: String,
    pub budget: Option<Money>,
}

impl NewVirtualKey {
    pub fn new(name: &str, budget_value: Option<f64>) -> Result<Self, TasksError> {
        Ok(Self {
            name: text::required("name", name, text::NAME_MAX)?,
            budget: budget(budget_value)?,
        })
    }
}

/// A freshly issued secret: `pvk_` and 32 random bytes in base64url.
#[derive(Clone)]
pub struct Secret {
    value: String,
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl Secret {
    /// A new secret from the thread-local CSPRNG.
    pub fn generate() -> Self {
        let bytes: [u8; SECRET_BYTES] = rand::random();
        Self {
            value: format!("{SECRET_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)),
        }
    }

    /// The secret itself, for the one reply that shows it.
    pub fn expose(&self) -> &str {
        &self.value
    }

    /// What listings show of it.
    pub fn key_prefix(&self) -> String {
        self.value.chars().take(KEY_PREFIX_LEN).collect()
    }

    pub fn hash(&self) -> Vec<u8> {
        Self::hash_of(&self.value)
    }

    /// The stored form of a presented secret. A fast, unsalted hash is right
    /// here, unlike for passwords: the secret has 256 random bits, so even
    /// billions of guesses per second get nowhere, and a slow KDF would only
    /// add its cost to every authenticated call. Being deterministic, it is
    /// looked up through a unique index instead of compared row by row.
    pub fn hash_of(presented: &str) -> Vec<u8> {
        Sha256::digest(presented.as_bytes()).to_vec()
    }

    /// Whether a bearer could be a virtual key at all; anything else is
    /// refused without a database round trip.
    pub fn is_well_formed(presented: &str) -> bool {
        presented.starts_with(SECRET_PREFIX) && presented.len() > KEY_PREFIX_LEN
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(status: KeyStatus) -> VirtualKey {
        VirtualKey {
            id: Uuid::new_v4(),
            name: "Acme".into(),
            key_prefix: "pvk_abcdefgh".into(),
            status,
            budget: Some(Money::from_micros(10_500_000)),
            current_spend: Money::default(),
            created_at: Utc::now(),
            revoked_at: None,
        }
    }

    #[test]
    fn secrets_are_random_base64url_with_a_recognisable_prefix() {
        let secret = Secret::generate();
        let value = secret.expose();
        assert!(value.starts_with("pvk_"));
        assert_eq!(value.len(), 4 + 43, "32 bytes are 43 base64 characters");
        assert!(value[4..]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_eq!(secret.key_prefix(), value[..12]);
        assert_ne!(Secret::generate().expose(), value);
        assert!(Secret::is_well_formed(value));
        assert!(!Secret::is_well_formed("eyJhbGciOiJIUzI1NiJ9.e30.x"));
    }

    #[test]
    fn only_the_hash_identifies_a_secret_and_it_never_prints() {
        let secret = Secret::generate();
        assert_eq!(secret.hash(), Secret::hash_of(secret.expose()));
        assert_eq!(secret.hash().len(), 32);
        assert!(!format!("{secret:?}").contains(&secret.expose()[4..]));
    }

    #[test]
    fn revoked_keys_are_refused() {
        assert!(key(KeyStatus::Active).require_active().is_ok());
        assert!(matches!(
            key(KeyStatus::Revoked).require_active(),
            Err(TasksError::Unauthenticated("virtual key revoked"))
        ));
    }

    #[test]
    fn changes_name_the_setting_and_never_the_secret() {
        let revoked = key(KeyStatus::Revoked);
        let change = revoked.status_change(Some(KeyStatus::Active));
        assert_eq!(change.setting, format!("virtualKey:{}:status", revoked.id));
        assert_eq!(
            (change.old_value.as_deref(), change.new_value.as_deref()),
            (Some("Active"), Some("Revoked"))
        );
        assert_eq!(change.changed_by, "master key");
        let budget = revoked.budget_change(None);
        assert_eq!(
            (budget.old_value, budget.new_value.as_deref()),
            (None, Some("10.5"))
        );
    }

    #[test]
    fn a_key_needs_a_name_and_a_positive_budget_if_any() {
        assert!(NewVirtualKey::new("Acme", None).is_ok());
        assert!(matches!(
            NewVirtualKey::new(" ", None),
            Err(TasksError::Invalid(message)) if message == "name must not be empty"
        ));
        assert!(matches!(
            NewVirtualKey::new("Acme", Some(0.0)),
            Err(TasksError::Invalid(message)) if message == "budget must be a number greater than 0"
        ));
    }
}
