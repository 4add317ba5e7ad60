//! Where a group lives on the broker. Group names (`list_{id}`) are what the
//! hubs use, and each domain declares its kinds (see `pulse-groups`);
//! subjects and streams are derived from them here and nowhere else.

use pulse_groups::{GroupKind, Topic};

/// The subject token of a topic that is one group for everybody.
const SINGLETON: &str = "all";

/// Isolates one deployment (or one test run) from others on the same broker:
/// subjects are `{namespace}.{kind}.{id}`, streams `{NAMESPACE}_{KIND}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Namespace(String);

impl Namespace {
    /// Letters, digits, `-` and `_` only, so the name is a valid subject token
    /// and stream name.
    pub fn new(name: &str) -> Result<Self, crate::BusError> {
        let valid = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if valid {
            Ok(Self(name.to_owned()))
        } else {
            Err(crate::BusError::new(
                crate::BusErrorKind::InvalidNamespace,
                format!("{name:?}: use letters, digits, '-' and '_'"),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn subject(&self, topic: &Topic) -> String {
        let id = topic
            .id()
            .map_or_else(|| SINGLETON.to_owned(), |id| id.to_string());
        format!("{}.{}.{id}", self.0, topic.kind().token())
    }

    pub(crate) fn stream_subjects(&self, kind: GroupKind) -> String {
        format!("{}.{}.*", self.0, kind.token())
    }

    pub(crate) fn stream_name(&self, kind: GroupKind) -> String {
        format!("{}_{}", self.0, kind.token()).to_ascii_uppercase()
    }
}

#[cfg(test)]
mod tests {
    use pulse_groups::{PerEntityKind, SingletonKind};
    use uuid::Uuid;

    use super::*;

    const LIST: PerEntityKind = PerEntityKind::new("list", "lists");
    const SYSTEM: SingletonKind = SingletonKind::new("system-notifications", "system");

    #[test]
    fn subjects_and_streams_are_namespaced() {
        let ns = Namespace::new("t1").expect("valid");
        let id = Uuid::nil();
        assert_eq!(ns.subject(&LIST.topic(id)), format!("t1.lists.{id}"));
        assert_eq!(ns.stream_subjects(LIST.kind()), "t1.lists.*");
        assert_eq!(ns.stream_name(LIST.kind()), "T1_LISTS");
        assert_eq!(ns.subject(&SYSTEM.topic()), "t1.system.all");
        assert_eq!(SYSTEM.topic().group(), "system-notifications");
        assert!(Namespace::new("a.b").is_err());
        assert!(Namespace::new("").is_err());
    }

    #[test]
    fn a_namespace_that_is_no_subject_token_is_refused_as_such() {
        for name in ["a.b", "", "a b", "a*"] {
            let error = Namespace::new(name).expect_err(name);
            assert_eq!(error.kind(), crate::BusErrorKind::InvalidNamespace);
        }
    }
}
