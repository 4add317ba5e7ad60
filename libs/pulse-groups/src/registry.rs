//! Every kind there is, to read group names back and to create one stream
//! per kind.

use std::collections::HashSet;

use uuid::Uuid;

use crate::{kind::Shape, GroupKind, Topic};

/// The kinds of several domains, each domain's as its own slice, so the
/// registry is a `const` built from the domains' lists without copying them.
#[derive(Debug, Clone, Copy)]
pub struct GroupKinds(&'static [&'static [GroupKind]]);

impl GroupKinds {
    pub const fn new(domains: &'static [&'static [GroupKind]]) -> Self {
        Self(domains)
    }

    /// Every kind, domain by domain.
    pub fn iter(&self) -> impl Iterator<Item = GroupKind> {
        self.0.iter().flat_map(|kinds| kinds.iter().copied())
    }

    /// Reads a group name (`list_{id}`, `system-notifications`) back into
    /// its topic; `None` for a name no kind has.
    pub fn parse(&self, group: &str) -> Option<Topic> {
        if let Some(kind) = self.find(Shape::Singleton, group) {
            return Some(Topic::new(kind, None));
        }
        let (prefix, id) = group.split_once('_')?;
        let id = Uuid::parse_str(id).ok()?;
        let kind = self.find(Shape::PerEntity, prefix)?;
        Some(Topic::new(kind, Some(id)))
    }

    /// A token or group name that two kinds share, if any: each must be one
    /// kind's, or subjects and group names would mix two kinds.
    pub fn repeated_name(&self) -> Option<&'static str> {
        let (mut tokens, mut names) = (HashSet::new(), HashSet::new());
        self.iter().find_map(|kind| {
            if !tokens.insert(kind.token()) {
                Some(kind.token())
            } else if !names.insert(kind.name()) {
                Some(kind.name())
            } else {
                None
            }
        })
    }

    fn find(&self, shape: Shape, name: &str) -> Option<GroupKind> {
        self.iter()
            .find(|kind| kind.shape() == shape && kind.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{PerEntityKind, SingletonKind};

    const LIST: PerEntityKind = PerEntityKind::new("list", "lists");
    const CHAT: PerEntityKind = PerEntityKind::new("chat", "chat");
    const SYSTEM: SingletonKind = SingletonKind::new("system-notifications", "system");
    const KINDS: GroupKinds = GroupKinds::new(&[&[LIST.kind(), CHAT.kind()], &[SYSTEM.kind()]]);

    #[test]
    fn group_names_are_as_clients_know_them_and_round_trip() {
        let id = Uuid::new_v4();
        assert_eq!(LIST.topic(id).group(), format!("list_{id}"));
        assert_eq!(SYSTEM.topic().group(), "system-notifications");
        for topic in [LIST.topic(id), CHAT.topic(id), SYSTEM.topic()] {
            assert_eq!(KINDS.parse(&topic.group()), Some(topic));
        }
        assert_eq!(KINDS.parse("list_nope"), None);
        assert_eq!(KINDS.parse("nope"), None);
        assert_eq!(KINDS.parse(&format!("system-notifications_{id}")), None);
        assert_eq!(KINDS.parse(&format!("nope_{id}")), None);
    }

    #[test]
    fn kinds_are_equal_by_token_and_topics_by_kind_and_id() {
        let id = Uuid::new_v4();
        let same = PerEntityKind::new("list", "lists");
        assert_eq!(same.kind(), LIST.kind());
        assert_eq!(same.topic(id), LIST.topic(id));
        assert_ne!(LIST.topic(id), CHAT.topic(id));
        assert_ne!(LIST.topic(id), LIST.topic(Uuid::new_v4()));
    }

    #[test]
    fn iterates_every_domains_kinds() {
        let tokens: Vec<_> = KINDS.iter().map(|kind| kind.token()).collect();
        assert_eq!(tokens, ["lists", "chat", "system"]);
    }

    #[test]
    fn a_token_or_name_two_kinds_share_is_found() {
        const SHOPPING: PerEntityKind = PerEntityKind::new("shopping", "lists");
        const ALL_CHAT: SingletonKind = SingletonKind::new("chat", "all-chat");
        const SHARED_TOKEN: GroupKinds = GroupKinds::new(&[&[LIST.kind()], &[SHOPPING.kind()]]);
        const SHARED_NAME: GroupKinds = GroupKinds::new(&[&[CHAT.kind(), ALL_CHAT.kind()]]);
        assert_eq!(KINDS.repeated_name(), None);
        assert_eq!(SHARED_TOKEN.repeated_name(), Some("lists"));
        assert_eq!(SHARED_NAME.repeated_name(), Some("chat"));
    }
}
