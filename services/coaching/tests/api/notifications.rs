//! Notifications: sent by internal services only, stored, and delivered to
//! the user's notification group.

use pulse_proto::coaching::v1::{
    event::Kind, ListNotificationsRequest, Notification, NotifyRequest,
};
use pulse_proto::coaching::NOTIFICATIONS;
use pulse_testkit::{assert_refused, expect_kind, TestUser};
use tonic::Code;

use crate::helpers::{spawn_app, trainer, Client};

fn notice(to: &TestUser, title: &str, body: Option<&str>) -> NotifyRequest {
    NotifyRequest {
        user_id: to.id.to_string(),
        kind: "Announcement".into(),
        title: title.into(),
        body: body.map(Into::into),
    }
}

async fn inbox(client: &mut Client, limit: Option<u32>) -> Vec<Notification> {
    client
        .list_notifications(ListNotificationsRequest { limit })
        .await
        .expect("listed")
        .into_inner()
        .notifications
}

#[tokio::test]
async fn a_service_notifies_a_user_who_gets_it_live_and_in_their_list() {
    let app = spawn_app().await;
    let ann = TestUser::new("Ann");
    let mut service = app.client(&TestUser::with_role("billing", "service")).await;
    let mut admin = app.client(&TestUser::with_role("ops", "admin")).await;
    let mut live = app.subscribe(NOTIFICATIONS.topic(ann.id)).await;

    let first = service
        .notify(notice(&ann, " Welcome ", Some("Glad you're here")))
        .await
        .expect("notified")
        .into_inner();
    let second = admin
        .notify(notice(&ann, "Maintenance", Some("  ")))
        .await
        .expect("notified")
        .into_inner();

    assert_eq!(first.user_id, ann.id.to_string());
    assert_eq!(
        (
            first.kind.as_str(),
            first.title.as_str(),
            first.body.as_deref()
        ),
        ("Announcement", "Welcome", Some("Glad you're here"))
    );
    assert_eq!(second.body, None, "a blank body is none");
    assert_eq!(
        expect_kind!(live.expect_to_everyone(1).await, ReceiveNotification),
        first
    );
    assert_eq!(
        expect_kind!(live.expect_to_everyone(2).await, ReceiveNotification),
        second
    );
    assert_eq!(app.sequence(NOTIFICATIONS.topic(ann.id)).await, 2);
    let mut reader = app.client(&ann).await;
    assert_eq!(inbox(&mut reader, None).await, [second.clone(), first]);
    assert_eq!(inbox(&mut reader, Some(1)).await, [second]);
}

#[tokio::test]
async fn users_cannot_send_notifications_and_bad_ones_are_refused() {
    let app = spawn_app().await;
    let ann = TestUser::new("Ann");
    let mut user = app.client(&TestUser::new("Mallory")).await;
    let mut trainer = app.client(&trainer("Tess")).await;
    let mut service = app.client(&TestUser::with_role("billing", "service")).await;

    let by_user = user
        .notify(notice(&ann, "Hi", None))
        .await
        .expect_err("user");
    let by_trainer = trainer
        .notify(notice(&ann, "Hi", None))
        .await
        .expect_err("trainer");
    let untitled = service
        .notify(notice(&ann, "  ", None))
        .await
        .expect_err("no title");
    let kindless = service
        .notify(NotifyRequest {
            kind: " ".into(),
            ..notice(&ann, "Hi", None)
        })
        .await
        .expect_err("no kind");
    let nobody = service
        .notify(NotifyRequest {
            user_id: "ann".into(),
            ..notice(&ann, "Hi", None)
        })
        .await
        .expect_err("not an id");

    assert_refused(&by_user, Code::PermissionDenied, "Not authorized");
    assert_refused(&by_trainer, Code::PermissionDenied, "Not authorized");
    assert_refused(&untitled, Code::InvalidArgument, "Title cannot be empty");
    assert_refused(&kindless, Code::InvalidArgument, "Kind cannot be empty");
    assert_refused(&nobody, Code::InvalidArgument, "Invalid userId");
    assert!(inbox(&mut app.client(&ann).await, None).await.is_empty());
    assert_eq!(app.sequence(NOTIFICATIONS.topic(ann.id)).await, 0);
    for limit in [0, 201] {
        let refused = app
            .client(&ann)
            .await
            .list_notifications(ListNotificationsRequest { limit: Some(limit) })
            .await
            .expect_err("limit out of range");
        assert_refused(
            &refused,
            Code::InvalidArgument,
            "limit must be between 1 and 200",
        );
    }
}
