//! Which gateway issued a connection's ids. Its tag starts the ids, so any gateway handed a
//! request for a connection it does not hold knows whom to ask about it (see
//! `transport::forwarding`).

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};

/// Characters of a tag: 8 random bytes as unpadded base64url.
const TAG_LEN: usize = 11;
/// Characters of a whole id: the tag, then 16 random bytes as unpadded base64url.
pub(super) const ID_LEN: usize = TAG_LEN + 22;

/// One gateway process's tag, new at every start (a restarted gateway holds none of the
/// connections its predecessor issued).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuer(String);

impl Default for Issuer {
    fn default() -> Self {
        Self(URL_SAFE_NO_PAD.encode(rand::random::<[u8; 8]>()))
    }
}

impl Issuer {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A fresh unguessable id carrying this tag.
    pub(super) fn new_id(&self) -> String {
        let mut id = self.0.clone();
        URL_SAFE_NO_PAD.encode_string(rand::random::<[u8; 16]>(), &mut id);
        id
    }

    /// The tag of the gateway that issued `token`; `None` for anything not shaped like an id
    /// a gateway issues (a client's invention is never sent on).
    pub fn of(token: &str) -> Option<&str> {
        let shaped = token.len() == ID_LEN
            && token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        shaped.then(|| &token[..TAG_LEN])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_names_its_issuer_and_nothing_else_does() {
        let issuer = Issuer::default();
        let id = issuer.new_id();
        assert_eq!(id.len(), ID_LEN);
        assert_eq!(Issuer::of(&id), Some(issuer.as_str()));
        assert_ne!(id, issuer.new_id());
        assert_ne!(issuer, Issuer::default());
        for invented in ["", "short", &format!("{}.", &id[1..]), &format!("{id}x")] {
            assert_eq!(Issuer::of(invented), None, "{invented:?}");
        }
    }
}
