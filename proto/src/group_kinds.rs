//! The registry of every domain's group kinds: names that clients and the
//! broker already know, pinned, so moving a kind between files changes none.

use uuid::Uuid;

use crate::{coaching, leancoffee, lists, tasks, GROUP_KINDS};

#[test]
fn every_kind_has_a_token_and_a_name_of_its_own() {
    assert_eq!(GROUP_KINDS.repeated_name(), None);
}

#[test]
fn group_names_and_tokens_are_unchanged_and_round_trip() {
    let id = Uuid::new_v4();
    let expected = [
        (lists::LIST.topic(id), format!("list_{id}"), "lists"),
        (
            leancoffee::SESSION.topic(id),
            format!("session_{id}"),
            "sessions",
        ),
        (coaching::CHAT.topic(id), format!("chat_{id}"), "chat"),
        (coaching::GOALS.topic(id), format!("goals_{id}"), "goals"),
        (
            coaching::NOTIFICATIONS.topic(id),
            format!("notifications_{id}"),
            "notifications",
        ),
        (tasks::VIDEO.topic(id), format!("video_{id}"), "video"),
        (tasks::IMAGE.topic(id), format!("image_{id}"), "image"),
        (tasks::TASK.topic(id), format!("task_{id}"), "task"),
        (tasks::SPEND.topic(id), format!("spend_{id}"), "spend"),
        (
            tasks::WEBHOOKS.topic(id),
            format!("webhooks_{id}"),
            "webhooks",
        ),
        (
            tasks::NAVIGATION.topic(id),
            format!("navigation_{id}"),
            "navigation",
        ),
        (
            tasks::SYSTEM.topic(),
            "system-notifications".to_owned(),
            "system",
        ),
        (tasks::ADMIN.topic(), "admin".to_owned(), "admin"),
        (
            tasks::KEY_REVOCATIONS.topic(),
            "key-revocations".to_owned(),
            "revocations",
        ),
    ];
    assert_eq!(
        GROUP_KINDS.iter().count(),
        expected.len(),
        "every kind is pinned"
    );
    for (topic, group, token) in expected {
        assert_eq!(topic.group(), group);
        assert_eq!(topic.kind().token(), token);
        assert_eq!(GROUP_KINDS.parse(&group), Some(topic));
    }
    assert_eq!(GROUP_KINDS.parse("list_nope"), None);
    assert_eq!(GROUP_KINDS.parse("nope"), None);
}
