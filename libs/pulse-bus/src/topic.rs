//! Names: which group an event belongs to, and where that group lives on the
//! broker. Group names (`list_{id}`) are what the hubs use; subjects and
//! streams are derived from them here and nowhere else.

use std::fmt;

use uuid::Uuid;

/// A delivery group: everything that follows one entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Topic {
    /// A shopping list: group `list_{id}`.
    List(Uuid),
    /// A Lean Coffee session: group `session_{id}`.
    Session(Uuid),
}

/// The broker stream that holds one kind of topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StreamKind {
    Lists,
    Sessions,
}

impl StreamKind {
    fn token(self) -> &'static str {
        match self {
            StreamKind::Lists => "lists",
            StreamKind::Sessions => "sessions",
        }
    }
}

impl Topic {
    pub fn kind(&self) -> StreamKind {
        match self {
            Topic::List(_) => StreamKind::Lists,
            Topic::Session(_) => StreamKind::Sessions,
        }
    }

    fn id(&self) -> Uuid {
        match self {
            Topic::List(id) | Topic::Session(id) => *id,
        }
    }

    /// The group name clients' events carry (`list_{id}`).
    pub fn group(&self) -> String {
        self.to_string()
    }

    /// Parses a group name back into a topic.
    pub fn parse_group(group: &str) -> Option<Topic> {
        let (prefix, id) = group.split_once('_')?;
        let id = Uuid::parse_str(id).ok()?;
        match prefix {
            "list" => Some(Topic::List(id)),
            "session" => Some(Topic::Session(id)),
            _ => None,
        }
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Topic::List(id) => write!(f, "list_{id}"),
            Topic::Session(id) => write!(f, "session_{id}"),
        }
    }
}

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
            Err(crate::BusError::Config(format!(
                "invalid bus namespace {name:?}: use letters, digits, '-' and '_'"
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn subject(&self, topic: &Topic) -> String {
        format!("{}.{}.{}", self.0, topic.kind().token(), topic.id())
    }

    pub(crate) fn stream_subjects(&self, kind: StreamKind) -> String {
        format!("{}.{}.*", self.0, kind.token())
    }

    pub(crate) fn stream_name(&self, kind: StreamKind) -> String {
        format!("{}_{}", self.0, kind.token()).to_ascii_uppercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_name_round_trips() {
        for topic in [Topic::List(Uuid::new_v4()), Topic::Session(Uuid::new_v4())] {
            assert_eq!(Topic::parse_group(&topic.group()), Some(topic));
        }
        assert_eq!(Topic::parse_group("list_nope"), None);
        assert_eq!(Topic::parse_group("nope"), None);
    }

    #[test]
    fn subjects_and_streams_are_namespaced() {
        let ns = Namespace::new("t1").expect("valid");
        let id = Uuid::nil();
        assert_eq!(ns.subject(&Topic::List(id)), format!("t1.lists.{id}"));
        assert_eq!(ns.stream_subjects(StreamKind::Lists), "t1.lists.*");
        assert_eq!(ns.stream_name(StreamKind::Lists), "T1_LISTS");
        assert!(Namespace::new("a.b").is_err());
        assert!(Namespace::new("").is_err());
    }
}
