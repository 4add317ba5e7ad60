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
    /// One user's chat: group `chat_{userId}`, every `/hubs/chat`
    /// connection of that user on any gateway (SignalR's `Clients.User`).
    Chat(Uuid),
    /// One user's goals: group `goals_{userId}` (`/hubs/goals`).
    Goals(Uuid),
    /// One user's notifications: group `notifications_{userId}`
    /// (`/hubs/notifications`).
    Notifications(Uuid),
    /// A video generation request: group `video_{requestId}`.
    Video(Uuid),
    /// An image generation request: group `image_{requestId}`.
    Image(Uuid),
    /// A generic task: group `task_{taskId}`.
    Task(Uuid),
    /// A virtual key's spend: group `spend_{virtualKeyId}`.
    Spend(Uuid),
    /// A virtual key's webhook deliveries: group `webhooks_{virtualKeyId}`.
    Webhooks(Uuid),
    /// A virtual key's navigation state: group `navigation_{virtualKeyId}`.
    Navigation(Uuid),
    /// Provider health and rate limits for everyone: group
    /// `system-notifications`.
    System,
    /// Master-key connections: group `admin`.
    Admin,
    /// Virtual keys revoked, for gateways to close what they authenticated:
    /// group `key-revocations`.
    KeyRevocations,
}

/// The broker stream that holds one kind of topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StreamKind {
    Lists,
    Sessions,
    Chat,
    Goals,
    Notifications,
    Video,
    Image,
    Task,
    Spend,
    Webhooks,
    Navigation,
    System,
    Admin,
    KeyRevocations,
}

impl StreamKind {
    /// The subject token and stream-name suffix.
    fn token(self) -> &'static str {
        match self {
            StreamKind::Lists => "lists",
            StreamKind::Sessions => "sessions",
            StreamKind::Chat => "chat",
            StreamKind::Goals => "goals",
            StreamKind::Notifications => "notifications",
            StreamKind::Video => "video",
            StreamKind::Image => "image",
            StreamKind::Task => "task",
            StreamKind::Spend => "spend",
            StreamKind::Webhooks => "webhooks",
            StreamKind::Navigation => "navigation",
            StreamKind::System => "system",
            StreamKind::Admin => "admin",
            StreamKind::KeyRevocations => "revocations",
        }
    }
}

/// The subject token of a topic that is one group for everybody.
const SINGLETON: &str = "all";

impl Topic {
    pub fn kind(&self) -> StreamKind {
        match self {
            Topic::List(_) => StreamKind::Lists,
            Topic::Session(_) => StreamKind::Sessions,
            Topic::Chat(_) => StreamKind::Chat,
            Topic::Goals(_) => StreamKind::Goals,
            Topic::Notifications(_) => StreamKind::Notifications,
            Topic::Video(_) => StreamKind::Video,
            Topic::Image(_) => StreamKind::Image,
            Topic::Task(_) => StreamKind::Task,
            Topic::Spend(_) => StreamKind::Spend,
            Topic::Webhooks(_) => StreamKind::Webhooks,
            Topic::Navigation(_) => StreamKind::Navigation,
            Topic::System => StreamKind::System,
            Topic::Admin => StreamKind::Admin,
            Topic::KeyRevocations => StreamKind::KeyRevocations,
        }
    }

    /// The entity the topic follows; `None` for the singletons.
    pub fn id(&self) -> Option<Uuid> {
        match self {
            Topic::List(id)
            | Topic::Session(id)
            | Topic::Chat(id)
            | Topic::Goals(id)
            | Topic::Notifications(id)
            | Topic::Video(id)
            | Topic::Image(id)
            | Topic::Task(id)
            | Topic::Spend(id)
            | Topic::Webhooks(id)
            | Topic::Navigation(id) => Some(*id),
            Topic::System | Topic::Admin | Topic::KeyRevocations => None,
        }
    }

    /// The group name clients' events carry (`list_{id}`).
    pub fn group(&self) -> String {
        self.to_string()
    }

    /// Parses a group name back into a topic.
    pub fn parse_group(group: &str) -> Option<Topic> {
        match group {
            "system-notifications" => return Some(Topic::System),
            "admin" => return Some(Topic::Admin),
            "key-revocations" => return Some(Topic::KeyRevocations),
            _ => {}
        }
        let (prefix, id) = group.split_once('_')?;
        let id = Uuid::parse_str(id).ok()?;
        let topic = match prefix {
            "list" => Topic::List(id),
            "session" => Topic::Session(id),
            "chat" => Topic::Chat(id),
            "goals" => Topic::Goals(id),
            "notifications" => Topic::Notifications(id),
            "video" => Topic::Video(id),
            "image" => Topic::Image(id),
            "task" => Topic::Task(id),
            "spend" => Topic::Spend(id),
            "webhooks" => Topic::Webhooks(id),
            "navigation" => Topic::Navigation(id),
            _ => return None,
        };
        Some(topic)
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = match self {
            Topic::List(_) => "list",
            Topic::Session(_) => "session",
            Topic::Chat(_) => "chat",
            Topic::Goals(_) => "goals",
            Topic::Notifications(_) => "notifications",
            Topic::Video(_) => "video",
            Topic::Image(_) => "image",
            Topic::Task(_) => "task",
            Topic::Spend(_) => "spend",
            Topic::Webhooks(_) => "webhooks",
            Topic::Navigation(_) => "navigation",
            Topic::System => return f.write_str("system-notifications"),
            Topic::Admin => return f.write_str("admin"),
            Topic::KeyRevocations => return f.write_str("key-revocations"),
        };
        match self.id() {
            Some(id) => write!(f, "{prefix}_{id}"),
            None => f.write_str(prefix),
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
        let id = Uuid::new_v4();
        for topic in [
            Topic::List(id),
            Topic::Session(id),
            Topic::Chat(id),
            Topic::Goals(id),
            Topic::Notifications(id),
            Topic::Video(id),
            Topic::Image(id),
            Topic::Task(id),
            Topic::Spend(id),
            Topic::Webhooks(id),
            Topic::Navigation(id),
            Topic::System,
            Topic::Admin,
            Topic::KeyRevocations,
        ] {
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
        assert_eq!(ns.subject(&Topic::System), "t1.system.all");
        assert_eq!(Topic::System.group(), "system-notifications");
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
