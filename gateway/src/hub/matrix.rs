//! The event verification matrix of the task-notification hubs (CONTRACT
//! §3.4, the seed's "Event Verification Matrix"): which hub delivers which
//! event from which group. The README's table is rendered from this and a
//! test keeps the two equal; the conformance suite runs a live check for
//! every README row, so neither the table nor the tests can go stale.

use super::{deliveries, navigation, notifications, task_groups, HubKind};

/// One row: a hub, an event it delivers, and the group it comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MatrixRow {
    pub hub: HubKind,
    pub event: &'static str,
    pub group: &'static str,
}

const fn row(hub: HubKind, event: &'static str, group: &'static str) -> MatrixRow {
    MatrixRow { hub, event, group }
}

/// Every event the §3.4 hubs deliver, hub by hub.
pub const EVENT_MATRIX: &[MatrixRow] = &[
    row(task_groups::VIDEO_HUB, "VideoProgress", "video_{requestId}"),
    row(
        task_groups::VIDEO_HUB,
        "VideoCompleted",
        "video_{requestId}",
    ),
    row(task_groups::VIDEO_HUB, "VideoFailed", "video_{requestId}"),
    row(task_groups::IMAGE_HUB, "ImageProgress", "image_{requestId}"),
    row(
        task_groups::IMAGE_HUB,
        "ImageCompleted",
        "image_{requestId}",
    ),
    row(task_groups::IMAGE_HUB, "ImageFailed", "image_{requestId}"),
    row(task_groups::TASK_HUB, "TaskStarted", "task_{taskId}"),
    row(task_groups::TASK_HUB, "TaskProgress", "task_{taskId}"),
    row(task_groups::TASK_HUB, "TaskCompleted", "task_{taskId}"),
    row(task_groups::TASK_HUB, "TaskFailed", "task_{taskId}"),
    row(
        notifications::HUB,
        "ProviderHealthChanged",
        "system-notifications",
    ),
    row(
        notifications::HUB,
        "RateLimitWarning",
        "system-notifications",
    ),
    row(deliveries::SPEND_HUB, "SpendUpdate", "spend_{virtualKeyId}"),
    row(deliveries::SPEND_HUB, "BudgetAlert", "spend_{virtualKeyId}"),
    row(
        deliveries::SPEND_HUB,
        "UnusualSpending",
        "spend_{virtualKeyId}",
    ),
    row(
        deliveries::WEBHOOKS_HUB,
        "WebhookDelivered",
        "webhooks_{virtualKeyId}",
    ),
    row(
        deliveries::WEBHOOKS_HUB,
        "WebhookFailed",
        "webhooks_{virtualKeyId}",
    ),
    row(deliveries::ADMIN_HUB, "SystemAlert", "admin"),
    row(deliveries::ADMIN_HUB, "ConfigurationChanged", "admin"),
    row(
        navigation::HUB,
        "NavigationUpdated",
        "navigation_{virtualKeyId}",
    ),
];

/// The matrix as the README shows it (`pulse event-matrix` prints it).
pub fn render_markdown() -> String {
    let mut table = String::from("| hub | path | event | group |\n|---|---|---|---|\n");
    for row in EVENT_MATRIX {
        table.push_str(&format!(
            "| {} | `{}` | `{}` | `{}` |\n",
            row.hub.dotnet_name(),
            row.hub.path(),
            row.event,
            row.group
        ));
    }
    table
}

#[cfg(test)]
mod tests {
    use pulse_proto::tasks::{ADMIN, IMAGE, NAVIGATION, SPEND, SYSTEM, TASK, VIDEO, WEBHOOKS};
    use std::collections::HashSet;

    use pulse_proto::tasks::v1::event::Kind;
    use uuid::Uuid;

    use super::*;

    const START: &str = "<!-- event-matrix:start -->\n";
    const END: &str = "<!-- event-matrix:end -->";

    #[test]
    fn the_readme_shows_the_matrix_of_the_code() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md");
        let readme = std::fs::read_to_string(path).expect("README.md");
        let start = readme.find(START).expect("matrix start marker") + START.len();
        let end = readme.find(END).expect("matrix end marker");
        assert_eq!(
            &readme[start..end],
            render_markdown(),
            "README event matrix is stale; paste render_markdown()'s output"
        );
    }

    #[test]
    fn every_event_is_a_real_event_on_a_real_group() {
        let id = Uuid::nil();
        let groups: HashSet<String> = [
            VIDEO.topic(id),
            IMAGE.topic(id),
            TASK.topic(id),
            SPEND.topic(id),
            WEBHOOKS.topic(id),
            NAVIGATION.topic(id),
            SYSTEM.topic(),
            ADMIN.topic(),
        ]
        .iter()
        .map(|topic| topic.group().replace(&id.to_string(), "{id}"))
        .collect();
        for row in EVENT_MATRIX {
            let pattern = row
                .group
                .replace("{requestId}", "{id}")
                .replace("{taskId}", "{id}")
                .replace("{virtualKeyId}", "{id}");
            assert!(groups.contains(&pattern), "{row:?}");
            assert!(
                event_names().contains(row.event),
                "{} is not a task-notification event",
                row.event
            );
        }
    }

    fn event_names() -> HashSet<&'static str> {
        use pulse_proto::tasks::v1 as t;
        [
            Kind::VideoProgress(t::MediaProgress::default()),
            Kind::VideoCompleted(t::MediaCompleted::default()),
            Kind::VideoFailed(t::MediaFailed::default()),
            Kind::ImageProgress(t::MediaProgress::default()),
            Kind::ImageCompleted(t::MediaCompleted::default()),
            Kind::ImageFailed(t::MediaFailed::default()),
            Kind::TaskStarted(t::TaskStarted::default()),
            Kind::TaskProgress(t::TaskProgress::default()),
            Kind::TaskCompleted(t::TaskCompleted::default()),
            Kind::TaskFailed(t::TaskFailed::default()),
            Kind::ProviderHealthChanged(t::ProviderHealthChanged::default()),
            Kind::RateLimitWarning(t::RateLimitWarning::default()),
            Kind::SpendUpdate(t::SpendUpdate::default()),
            Kind::BudgetAlert(t::BudgetAlert::default()),
            Kind::UnusualSpending(t::UnusualSpending::default()),
            Kind::WebhookDelivered(t::WebhookDelivered::default()),
            Kind::WebhookFailed(t::WebhookFailed::default()),
            Kind::SystemAlert(t::SystemAlert::default()),
            Kind::ConfigurationChanged(t::ConfigurationChanged::default()),
            Kind::NavigationUpdated(t::NavigationUpdated::default()),
        ]
        .iter()
        .map(<&'static str>::from)
        .collect()
    }
}
