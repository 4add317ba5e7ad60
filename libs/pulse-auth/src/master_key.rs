//! The master key: the one administrative credential of a deployment (it
//! manages virtual keys and follows the admin hub). It comes from
//! configuration and is compared in constant time, so response timing does
//! not reveal how much of a guess was right.

use secrecy::{ExposeSecret, SecretString};

/// Shortest master key accepted: anything shorter is guessable.
pub const MIN_MASTER_KEY_LEN: usize = 16;

#[derive(Clone)]
pub struct MasterKey(SecretString);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey([redacted])")
    }
}

impl MasterKey {
    /// `None` when the key is too short to be a secret.
    pub fn new(key: &str) -> Option<Self> {
        (key.chars().count() >= MIN_MASTER_KEY_LEN).then(|| Self(SecretString::from(key)))
    }

    /// The key itself, for a process that calls the task service as its administrator (the
    /// gateway's developer demo creates virtual keys and plays a worker with it).
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// Whether `presented` is this key (constant time in the key's content).
    pub fn matches(&self, presented: &str) -> bool {
        let expected = self.0.expose_secret().as_bytes();
        let presented = presented.as_bytes();
        if expected.len() != presented.len() {
            return false;
        }
        expected
            .iter()
            .zip(presented)
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_key_matches() {
        let key = MasterKey::new("0123456789abcdef-master").expect("long enough");
        assert!(key.matches("0123456789abcdef-master"));
        assert!(!key.matches("0123456789abcdef-mastex"));
        assert!(!key.matches("0123456789abcdef-maste"));
        assert!(!key.matches(""));
    }

    #[test]
    fn short_keys_are_refused_and_never_printed() {
        assert!(MasterKey::new("short").is_none());
        let key = MasterKey::new("0123456789abcdef-master").expect("long enough");
        assert!(!format!("{key:?}").contains("0123"));
    }
}
