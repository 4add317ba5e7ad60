//! Names: which group an event belongs to, and where that group lives on the
//! broker. Group names (`list_{id}`) are what the hubs use; subjects and
//! streams are derived from them here and nowhere else.
//!
//! Every group kind is one row of the [`group_kinds!`] table below: its
//! variant, the stream it lives in, its group prefix (or, for a group that is
//! one for everybody, its whole name) and its subject token. A new kind is a
//! new row; nothing else in this file changes.

use std::fmt;

use uuid::Uuid;

/// Builds [`Topic`], [`StreamKind`] and every mapping between a topic, its
/// group name, its stream and its subject token from one table, so no fact
/// about a kind is written twice.
macro_rules! group_kinds {
    (
        per_entity {
            $( $(#[$doc:meta])* $variant:ident in $stream:ident: $prefix:literal, $token:literal; )*
        }
        singletons {
            $( $(#[$sdoc:meta])* $single:ident in $sstream:ident: $group:literal, $stoken:literal; )*
        }
    ) => {
        /// A delivery group: everything that follows one entity.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Topic {
            $( $(#[$doc])* $variant(Uuid), )*
            $( $(#[$sdoc])* $single, )*
        }

        /// The broker stream that holds one kind of topic.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum StreamKind {
            $( $stream, )*
            $( $sstream, )*
        }

        impl StreamKind {
            /// Every stream, in the table's order.
            pub const ALL: &'static [StreamKind] = &[
                $( StreamKind::$stream, )*
                $( StreamKind::$sstream, )*
            ];

            /// The subject token and stream-name suffix.
            fn token(self) -> &'static str {
                match self {
                    $( StreamKind::$stream => $token, )*
                    $( StreamKind::$sstream => $stoken, )*
                }
            }
        }

        impl Topic {
            pub fn kind(&self) -> StreamKind {
                match self {
                    $( Topic::$variant(_) => StreamKind::$stream, )*
                    $( Topic::$single => StreamKind::$sstream, )*
                }
            }

            /// The entity the topic follows; `None` for the singletons.
            pub fn id(&self) -> Option<Uuid> {
                match self {
                    $( Topic::$variant(id) => Some(*id), )*
                    $( Topic::$single => None, )*
                }
            }

            /// Parses a group name back into a topic.
            pub fn parse_group(group: &str) -> Option<Topic> {
                match group {
                    $( $group => return Some(Topic::$single), )*
                    _ => {}
                }
                let (prefix, id) = group.split_once('_')?;
                let id = Uuid::parse_str(id).ok()?;
                match prefix {
                    $( $prefix => Some(Topic::$variant(id)), )*
                    _ => None,
                }
            }
        }

        impl fmt::Display for Topic {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    $( Topic::$variant(id) => write!(f, "{}_{id}", $prefix), )*
                    $( Topic::$single => f.write_str($group), )*
                }
            }
        }
    };
}

group_kinds! {
    per_entity {
        /// A shopping list: group `list_{id}`.
        List in Lists: "list", "lists";
        /// A Lean Coffee session: group `session_{id}`.
        Session in Sessions: "session", "sessions";
        /// One user's chat: group `chat_{userId}`, every `/hubs/chat`
        /// connection of that user on any gateway (SignalR's `Clients.User`).
        Chat in Chat: "chat", "chat";
        /// One user's goals: group `goals_{userId}` (`/hubs/goals`).
        Goals in Goals: "goals", "goals";
        /// One user's notifications: group `notifications_{userId}`
        /// (`/hubs/notifications`).
        Notifications in Notifications: "notifications", "notifications";
        /// A video generation request: group `video_{requestId}`.
        Video in Video: "video", "video";
        /// An image generation request: group `image_{requestId}`.
        Image in Image: "image", "image";
        /// A generic task: group `task_{taskId}`.
        Task in Task: "task", "task";
        /// A virtual key's spend: group `spend_{virtualKeyId}`.
        Spend in Spend: "spend", "spend";
        /// A virtual key's webhook deliveries: group `webhooks_{virtualKeyId}`.
        Webhooks in Webhooks: "webhooks", "webhooks";
        /// A virtual key's navigation state: group `navigation_{virtualKeyId}`.
        Navigation in Navigation: "navigation", "navigation";
    }
    singletons {
        /// Provider health and rate limits for everyone: group
        /// `system-notifications`.
        System in System: "system-notifications", "system";
        /// Master-key connections: group `admin`.
        Admin in Admin: "admin", "admin";
        /// Virtual keys revoked, for gateways to close what they authenticated:
        /// group `key-revocations`.
        KeyRevocations in KeyRevocations: "key-revocations", "revocations";
    }
}

/// The subject token of a topic that is one group for everybody.
const SINGLETON: &str = "all";

impl Topic {
    /// The group name clients' events carry (`list_{id}`).
    pub fn group(&self) -> String {
        self.to_string()
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
    fn every_stream_has_a_token_of_its_own() {
        let tokens: std::collections::HashSet<_> =
            StreamKind::ALL.iter().map(|kind| kind.token()).collect();
        assert_eq!(tokens.len(), StreamKind::ALL.len());
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
